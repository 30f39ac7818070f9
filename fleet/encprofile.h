/* fleet/encprofile: encrypted profiles for units that cannot authenticate
 * with a client certificate (DOMAIN.md s.2 and s.4).
 *
 * The profile is gzipped, then encrypted AES-256-CBC in the format of
 * `openssl enc -k KEY -md md5`: "Salted__", an 8-byte salt, then the
 * ciphertext with PKCS#7 padding.  Key and IV come from EVP_BytesToKey
 * with MD5 and one iteration: D1 = MD5(KEY || salt), Di = MD5(Di-1 ||
 * KEY || salt); the key is D1 || D2, the IV D3.  So
 *   openssl enc -d -aes-256-cbc -md md5 -k KEY -in f | gunzip
 * gives the profile back, and so does the firmware's `--key KEY`. */
#ifndef SPAPROV_FLEET_ENCPROFILE_H
#define SPAPROV_FLEET_ENCPROFILE_H

#include <stddef.h>

#define FLEET_ENC_SALT_LEN 8
#define FLEET_ENC_MAGIC "Salted__"
#define FLEET_ENC_MAGIC_LEN 8
#define FLEET_ENC_MAX_INPUT (8u << 20)   /* bytes of a profile to seal */

/* gzip (RFC 1952) of len bytes.  0 with *out malloc'd, or -1 with *err. */
int fleet_enc_gzip(const void *in, size_t len, unsigned char **out,
		   size_t *outlen, char **err);

/* Encrypt len bytes with `password` in the openssl enc format above.
 * salt: FLEET_ENC_SALT_LEN bytes, or NULL for a random one.
 * 0 with *out malloc'd, or -1 with *err. */
int fleet_enc_encrypt(const char *password, const unsigned char *salt,
		      const void *in, size_t len, unsigned char **out,
		      size_t *outlen, char **err);

/* gzip, then encrypt with a random salt: what a device gets. */
int fleet_enc_seal(const char *password, const void *profile, size_t len,
		   unsigned char **out, size_t *outlen, char **err);

#endif
