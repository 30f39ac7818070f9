#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <zlib.h>

#include "util/str.h"
#include "fleet/encprofile.h"

#define MD5_LEN 16
#define AES_KEY_LEN 32
#define AES_BLOCK 16

int fleet_enc_gzip(const void *in, size_t len, unsigned char **out,
		   size_t *outlen, char **err)
{
	z_stream zs;
	unsigned char *buf = NULL;
	uLong bound;
	int rc, ret = -1;

	memset(&zs, 0, sizeof(zs));
	if (len > FLEET_ENC_MAX_INPUT) {
		*err = str_printf("profile of %zu bytes, more than %u", len,
			   FLEET_ENC_MAX_INPUT);
		return -1;
	}
	/* windowBits 15 + 16: a gzip header and trailer, as gunzip wants */
	if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		*err = str_printf("zlib: cannot start compression");
		return -1;
	}
	bound = deflateBound(&zs, (uLong)len);
	buf = malloc(bound);
	if (buf == NULL) {
		*err = str_printf("out of memory");
		goto out;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = buf;
	zs.avail_out = (uInt)bound;
	rc = deflate(&zs, Z_FINISH);
	if (rc != Z_STREAM_END) {
		*err = str_printf("zlib: compression failed (%d)", rc);
		goto out;
	}
	*outlen = (size_t)zs.total_out;
	*out = buf;
	buf = NULL;
	ret = 0;
out:
	deflateEnd(&zs);
	free(buf);
	return ret;
}

/* EVP_BytesToKey(MD5, one iteration): key = D1 || D2, iv = D3. */
static int derive(const char *password, const unsigned char *salt,
		  unsigned char key[AES_KEY_LEN], unsigned char iv[AES_BLOCK])
{
	size_t pwlen = strlen(password);
	size_t n = MD5_LEN + pwlen + FLEET_ENC_SALT_LEN;
	unsigned char *buf = malloc(n), d[3][MD5_LEN];
	int ret = -1;

	if (buf == NULL)
		return -1;
	for (int i = 0; i < 3; i++) {
		size_t off = 0;

		if (i > 0) {
			memcpy(buf, d[i - 1], MD5_LEN);
			off = MD5_LEN;
		}
		memcpy(buf + off, password, pwlen);
		memcpy(buf + off + pwlen, salt, FLEET_ENC_SALT_LEN);
		if (gnutls_hash_fast(GNUTLS_DIG_MD5, buf,
				     off + pwlen + FLEET_ENC_SALT_LEN,
				     d[i]) < 0)
			goto out;
	}
	memcpy(key, d[0], MD5_LEN);
	memcpy(key + MD5_LEN, d[1], MD5_LEN);
	memcpy(iv, d[2], AES_BLOCK);
	ret = 0;
out:
	gnutls_memset(buf, 0, n);
	gnutls_memset(d, 0, sizeof(d));
	free(buf);
	return ret;
}

int fleet_enc_encrypt(const char *password, const unsigned char *salt,
		      const void *in, size_t len, unsigned char **out,
		      size_t *outlen, char **err)
{
	unsigned char key[AES_KEY_LEN], iv[AES_BLOCK], *buf = NULL, *body;
	gnutls_datum_t kd = { key, sizeof(key) }, ivd = { iv, sizeof(iv) };
	gnutls_cipher_hd_t h = NULL;
	size_t pad = AES_BLOCK - len % AES_BLOCK, total;
	int rc, ret = -1;

	if (len > FLEET_ENC_MAX_INPUT) {
		*err = str_printf("input of %zu bytes, more than %u", len,
			   FLEET_ENC_MAX_INPUT);
		return -1;
	}
	total = FLEET_ENC_MAGIC_LEN + FLEET_ENC_SALT_LEN + len + pad;
	buf = malloc(total);
	if (buf == NULL) {
		*err = str_printf("out of memory");
		return -1;
	}
	memcpy(buf, FLEET_ENC_MAGIC, FLEET_ENC_MAGIC_LEN);
	if (salt != NULL)
		memcpy(buf + FLEET_ENC_MAGIC_LEN, salt, FLEET_ENC_SALT_LEN);
	else if (gnutls_rnd(GNUTLS_RND_NONCE, buf + FLEET_ENC_MAGIC_LEN,
			    FLEET_ENC_SALT_LEN) < 0) {
		*err = str_printf("no random salt");
		goto out;
	}
	if (derive(password, buf + FLEET_ENC_MAGIC_LEN, key, iv) < 0) {
		*err = str_printf("MD5 key derivation failed");
		goto out;
	}
	body = buf + FLEET_ENC_MAGIC_LEN + FLEET_ENC_SALT_LEN;
	memcpy(body, in, len);
	memset(body + len, (int)pad, pad); /* PKCS#7: 1 to 16 bytes */
	rc = gnutls_cipher_init(&h, GNUTLS_CIPHER_AES_256_CBC, &kd, &ivd);
	if (rc < 0 || (rc = gnutls_cipher_encrypt(h, body, len + pad)) < 0) {
		*err = str_printf("AES-256-CBC: %s", gnutls_strerror(rc));
		goto out;
	}
	*out = buf;
	*outlen = total;
	buf = NULL;
	ret = 0;
out:
	if (h != NULL)
		gnutls_cipher_deinit(h);
	gnutls_memset(key, 0, sizeof(key));
	gnutls_memset(iv, 0, sizeof(iv));
	free(buf);
	return ret;
}

int fleet_enc_seal(const char *password, const void *profile, size_t len,
		   unsigned char **out, size_t *outlen, char **err)
{
	unsigned char *gz = NULL;
	size_t gzlen = 0;
	int ret;

	if (fleet_enc_gzip(profile, len, &gz, &gzlen, err) < 0)
		return -1;
	ret = fleet_enc_encrypt(password, NULL, gz, gzlen, out, outlen, err);
	free(gz);
	return ret;
}
