#include "config.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "web-admin/secret.h"

/* What an unknown account's login is checked against, so that it costs
 * as much as a known one's: a yescrypt hash of nothing anyone knows. */
#define DUMMY_SETTING "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$"

int admin_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= ADMIN_NAME_MAX &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789._@-") == n;
}

const char *admin_password_problem(const char *password)
{
	size_t n = strlen(password);

	if (n < ADMIN_PASSWORD_MIN)
		return "password shorter than 10 characters";
	if (n > ADMIN_PASSWORD_MAX)
		return "password longer than 1024 characters";
	for (const char *p = password; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "password contains control characters";
	return NULL;
}

int admin_password_hash(const char *password, char **hash, char **err)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = NULL;
	int ret = -1;

	if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)) ==
	    NULL) {
		*err = strdup("cannot make a yescrypt salt (libxcrypt)");
		goto out;
	}
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL) {
		*err = strdup("out of memory");
		goto out;
	}
	if (crypt_rn(password, setting, cd, (int)sizeof(*cd)) == NULL ||
	    cd->output[0] == '*') {
		*err = strdup("cannot hash the password (libxcrypt)");
		goto out;
	}
	*hash = strdup(cd->output);
	if (*hash == NULL) {
		*err = strdup("out of memory");
		goto out;
	}
	ret = 0;
out:
	if (cd != NULL) {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
	return ret;
}

int admin_password_verify(const char *password, const char *hash)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *setting = hash != NULL ? hash : DUMMY_SETTING;
	int ok = 0;

	if (cd == NULL)
		return 0;
	if (crypt_rn(password, setting, cd, (int)sizeof(*cd)) != NULL &&
	    cd->output[0] != '*' && hash != NULL)
		ok = admin_equal(cd->output, hash);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int admin_random_hex(char out[ADMIN_HEX_LEN + 1])
{
	unsigned char b[ADMIN_SECRET_BYTES];

	if (gnutls_rnd(GNUTLS_RND_KEY, b, sizeof(b)) < 0)
		return -1;
	to_hex(b, sizeof(b), out);
	explicit_bzero(b, sizeof(b));
	return 0;
}

int admin_sha256_hex(const void *data, size_t len,
		     char out[ADMIN_HEX_LEN + 1])
{
	unsigned char d[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, d) < 0)
		return -1;
	to_hex(d, sizeof(d), out);
	return 0;
}

int admin_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	/* compare over the longer length, reading within each string */
	for (size_t i = 0, n = la > lb ? la : lb; i < n; i++) {
		unsigned char x = i < la ? (unsigned char)a[i] : 0;
		unsigned char y = i < lb ? (unsigned char)b[i] : 0;

		diff |= x ^ y;
	}
	return diff == 0;
}
