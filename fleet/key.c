#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "fleet/key.h"

#define KEY_GEN_BYTES 24       /* 24 bytes = 32 base64url characters */

int fleet_key_valid(const char *key)
{
	size_t n = key != NULL ? strlen(key) : 0;

	if (n < FLEET_KEY_MIN || n > FLEET_KEY_MAX)
		return 0;
	return strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "abcdefghijklmnopqrstuvwxyz0123456789._~+=/-") == n;
}

int fleet_key_generate(char out[FLEET_KEY_GEN_LEN + 1], char **err)
{
	static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[KEY_GEN_BYTES];
	size_t o = 0;

	if (gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw)) < 0) {
		*err = strdup("no random bytes for a key");
		return -1;
	}
	for (size_t i = 0; i < sizeof(raw); i += 3) {
		unsigned v = (unsigned)raw[i] << 16 |
			     (unsigned)raw[i + 1] << 8 | raw[i + 2];

		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	gnutls_memset(raw, 0, sizeof(raw));
	return 0;
}
