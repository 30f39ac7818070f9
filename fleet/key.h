/* fleet/key: the per-device keys of encrypted profiles (the password of
 * `openssl enc -k`, the firmware's Profile_Rule option --key). */
#ifndef SPAPROV_FLEET_KEY_H
#define SPAPROV_FLEET_KEY_H

#define FLEET_KEY_MIN 8                  /* characters of a device key */
#define FLEET_KEY_MAX 64
#define FLEET_KEY_GEN_LEN 32             /* characters of a generated key */

/* A device key: FLEET_KEY_MIN to FLEET_KEY_MAX of [A-Za-z0-9._~+=/-]
 * (no blanks, quotes or '$': it goes into Profile_Rule's --key option). */
int fleet_key_valid(const char *key);

/* A random key of FLEET_KEY_GEN_LEN base64url characters (from 24 bytes
 * of gnutls_rnd).  0, or -1 with *err. */
int fleet_key_generate(char out[FLEET_KEY_GEN_LEN + 1], char **err);

#endif
