/* web-admin/secret: passwords, tokens and ids for the web admin, shared
 * by spaprovd and `spaprovctl admin`.
 *
 * Passwords are hashed with libxcrypt's yescrypt ("$y$", default cost).
 * Tokens and session ids are random (GnuTLS's random generator, key
 * level) and stored only as their SHA-256.  Secrets are compared with
 * admin_equal(), which takes the same time wherever they differ. */
#ifndef SPAPROV_WEB_ADMIN_SECRET_H
#define SPAPROV_WEB_ADMIN_SECRET_H

#include <stddef.h>

#define ADMIN_PASSWORD_MIN 10      /* characters (bytes) */
#define ADMIN_PASSWORD_MAX 1024
#define ADMIN_NAME_MAX 64          /* = DB_ADMIN_MAX_NAME */
#define ADMIN_SECRET_BYTES 32      /* random bytes in a token or id */
#define ADMIN_HEX_LEN 64           /* 32 bytes in hex, SHA-256 in hex */
#define ADMIN_TOKEN_PREFIX "spa_"  /* API tokens: "spa_" + 64 hex */
#define ADMIN_TOKEN_LEN (4 + ADMIN_HEX_LEN)

/* 1 if name is 1 to ADMIN_NAME_MAX of [A-Za-z0-9._@-], else 0. */
int admin_name_valid(const char *name);

/* NULL if the password is acceptable, else why not (a static string). */
const char *admin_password_problem(const char *password);

/* *hash = malloc'd crypt string.  0, or -1 with *err. */
int admin_password_hash(const char *password, char **hash, char **err);

/* 1 if password matches hash.  With hash NULL (no such account) it does
 * the same work against a dummy hash and returns 0. */
int admin_password_verify(const char *password, const char *hash);

/* ADMIN_SECRET_BYTES random bytes as ADMIN_HEX_LEN hex digits + NUL.
 * 0, or -1 if the generator failed. */
int admin_random_hex(char out[ADMIN_HEX_LEN + 1]);

/* SHA-256 of len bytes, as ADMIN_HEX_LEN lower-case hex digits + NUL. */
int admin_sha256_hex(const void *data, size_t len,
		     char out[ADMIN_HEX_LEN + 1]);

/* 1 if the strings are equal, in time that depends on their lengths
 * only, not on where they differ. */
int admin_equal(const char *a, const char *b);

#endif
