#include "config.h"

/* web-admin/auth: who is asking (a session cookie or an API token), the
 * CSRF check, and the login and logout endpoints with their throttling:
 * ADMIN_ACCOUNT_FAILURES failed logins in a row lock an account, and
 * ADMIN_ADDRESS_FAILURES lock a client address, for ADMIN_LOCK_BASE
 * seconds, doubling with each further failure up to ADMIN_LOCK_MAX.
 *
 * Throttling fails closed: every attempt is counted as a failure before
 * its password is tried (a success takes it back), and when the failures
 * cannot be read or the attempt cannot be counted the password is not
 * tried at all (503).  A database that refuses writes thus gives no
 * unlimited, unrecorded guesses. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/admin.h"
#include "util/log.h"
#include "web-admin/internal.h"

#define ADMIN_ACCOUNT_FAILURES 5
#define ADMIN_ADDRESS_FAILURES 20
#define ADMIN_LOCK_BASE 30         /* seconds */
#define ADMIN_LOCK_MAX 3600
#define ADMIN_THROTTLE_MEMORY 86400 /* idle failures forgotten after */
#define ADMIN_MAX_KEY (ADMIN_NAME_MAX + 72)

/* "Authorization: Bearer spa_<64 hex>" */
static int token_auth(struct areq *r)
{
	const char *h = MHD_lookup_connection_value(
		r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	char hash[ADMIN_HEX_LEN + 1], now[32], *err = NULL;
	int rc;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return -1;
	h += 7;
	if (strlen(h) != ADMIN_TOKEN_LEN ||
	    strncmp(h, ADMIN_TOKEN_PREFIX, 4) != 0 ||
	    admin_sha256_hex(h, ADMIN_TOKEN_LEN, hash) < 0)
		return -1;
	db_timestamp(now);
	rc = db_admin_token_find(r->db, hash, now, r->account, &err);
	if (rc == DB_ERROR)
		log_error("msg=\"cannot read token\" error=\"%s\"",
			  err ? err : "?");
	free(err);
	if (rc != DB_OK)
		return -1;
	r->via_token = 1;
	return 0;
}

int admin_authenticate(struct areq *r)
{
	const char *h = MHD_lookup_connection_value(
		r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

	/* a request that names a token stands or falls with it */
	if (h != NULL)
		return token_auth(r);
	return admin_session_find(r);
}

int admin_csrf_ok(struct areq *r)
{
	const char *t = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						    "X-CSRF-Token");

	if (r->via_token)
		return 1;
	return t != NULL && r->csrf[0] != '\0' && admin_equal(t, r->csrf);
}

enum MHD_Result api_session_get(struct areq *r)
{
	if (admin_authenticate(r) < 0)
		return admin_reply_error(r, MHD_HTTP_UNAUTHORIZED,
					 "unauthenticated", "log in first");
	return admin_reply_json(r, MHD_HTTP_OK,
				json_pack("{s:s, s:s, s:s}", "account",
					  r->account, "csrf", r->csrf, "via",
					  r->via_token ? "token" : "session"));
}

/* --- throttling ----------------------------------------------------------- */

/* *secs = how long key stays locked (0: not locked).  0, or -1 when the
 * database cannot tell (the caller must not try the password). */
static int locked_for(struct areq *r, const char *key, const char *now,
		      unsigned *secs)
{
	char until[32], *err = NULL;
	time_t t;
	int rc = db_admin_throttle_check(r->db, key, now, until, &err);

	*secs = 0;
	if (rc == DB_ERROR) {
		log_error("msg=\"cannot read login failures: login refused\" "
			  "error=\"%s\"", err ? err : "?");
		free(err);
		return -1;
	}
	if (rc != DB_EXISTS)
		return 0;
	t = admin_parse_iso(until) - time(NULL);
	*secs = t > 0 ? (unsigned)t : 1;
	return 0;
}

/* A login attempt counts as a failure of key before its password is
 * tried (*failures: the count with it); a success takes it back.  0, or
 * -1 when it could not be recorded: then the password is not tried. */
static int count_attempt(struct areq *r, const char *key, const char *now,
			 long long *failures)
{
	char *err = NULL;

	if (db_admin_throttle_fail(r->db, key, now, failures, &err) == DB_OK)
		return 0;
	log_error("msg=\"cannot record login attempt: login refused\" "
		  "error=\"%s\"", err ? err : "?");
	free(err);
	return -1;
}

/* After a wrong password: lock key once its failures reach `limit`,
 * ADMIN_LOCK_BASE seconds doubled for each failure past it.  *lock =
 * seconds, 0 if none.  0, or -1 when the lock could not be written. */
static int lock_after(struct areq *r, const char *key, long long failures,
		      long long limit, unsigned *lock)
{
	long long extra;
	char until[32], *err = NULL;

	*lock = 0;
	if (failures < limit)
		return 0;
	*lock = ADMIN_LOCK_BASE;
	for (extra = failures - limit; extra > 0 && *lock < ADMIN_LOCK_MAX;
	     extra--)
		*lock *= 2;
	if (*lock > ADMIN_LOCK_MAX)
		*lock = ADMIN_LOCK_MAX;
	admin_iso_time(time(NULL) + (time_t)*lock, until);
	if (db_admin_throttle_lock(r->db, key, until, &err) != DB_OK) {
		log_error("msg=\"cannot lock login\" error=\"%s\"",
			  err ? err : "?");
		free(err);
		return -1;
	}
	return 0;
}

/* The login could not be checked or recorded: the same answer for a
 * right and a wrong password. */
static enum MHD_Result reply_unrecorded(struct areq *r)
{
	r->retry_after = ADMIN_LOCK_BASE;
	return admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				 "database-error",
				 "Logins cannot be checked now. Try again "
				 "later.");
}

static enum MHD_Result reply_locked(struct areq *r, unsigned secs)
{
	r->retry_after = secs;
	return admin_reply_json(
		r, MHD_HTTP_TOO_MANY_REQUESTS,
		json_pack("{s:s, s:o, s:i}", "error", "locked", "message",
			  admin_json_text("Too many failed logins. Try again "
					  "later."),
			  "retry_after", (int)secs));
}

static void prune(struct areq *r)
{
	char now[32], stale[32], *err = NULL;

	db_timestamp(now);
	admin_iso_time(time(NULL) - ADMIN_THROTTLE_MEMORY, stale);
	if (db_admin_prune(r->db, now, stale, &err) == DB_ERROR) {
		log_warn("msg=\"cannot prune sessions\" error=\"%s\"",
			 err ? err : "?");
		free(err);
	}
}

/* --- login and logout ------------------------------------------------------ */

/* A wrong password; its failures (fa for the account, fb for the
 * address) are already counted. */
static enum MHD_Result login_failed(struct areq *r, const char *acct_key,
				    const char *addr_key, const char *name,
				    long long fa, long long fb)
{
	unsigned a = 0, b = 0;
	int bad = (acct_key[0] && lock_after(r, acct_key, fa,
					     ADMIN_ACCOUNT_FAILURES, &a) < 0) |
		  (lock_after(r, addr_key, fb, ADMIN_ADDRESS_FAILURES,
			      &b) < 0);

	admin_audit(r, "login-failure", acct_key[0] ? name : "(invalid name)",
		    bad ? "lock not recorded" : a || b ? "locked" : NULL);
	log_warn("msg=\"admin login failed\" account=\"%s\" remote=%s%s",
		 acct_key[0] ? name : "(invalid)", r->remote,
		 bad ? " locked=not-recorded" : a || b ? " locked=yes" : "");
	if (bad)
		return reply_unrecorded(r);
	if (a || b)
		return reply_locked(r, a > b ? a : b);
	return admin_reply_error(r, MHD_HTTP_UNAUTHORIZED,
				 "invalid-credentials",
				 "Wrong name or password.");
}

enum MHD_Result api_login(struct areq *r)
{
	enum MHD_Result ret = MHD_NO;
	json_t *body = admin_body_json(r, &ret);
	const char *name, *password;
	char acct_key[ADMIN_MAX_KEY] = "", addr_key[ADMIN_MAX_KEY];
	char now[32], expires[32], *hash = NULL, *err = NULL;
	long long fa = 0, fb = 0;
	unsigned lock;
	int rc, ok;

	if (body == NULL)
		return ret;
	name = json_string_value(json_object_get(body, "name"));
	password = json_string_value(json_object_get(body, "password"));
	if (name == NULL || password == NULL ||
	    strlen(password) > ADMIN_PASSWORD_MAX) {
		ret = admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "bad-request",
					"expected {\"name\", \"password\"}");
		goto out;
	}
	db_timestamp(now);
	prune(r);
	snprintf(addr_key, sizeof(addr_key), "address:%s", r->remote);
	if (admin_name_valid(name))
		snprintf(acct_key, sizeof(acct_key), "account:%s", name);
	if (locked_for(r, addr_key, now, &lock) < 0 ||
	    (lock == 0 && acct_key[0] &&
	     locked_for(r, acct_key, now, &lock) < 0)) {
		ret = reply_unrecorded(r);
		goto out;
	}
	if (lock > 0) {
		ret = reply_locked(r, lock);
		goto out;
	}
	if ((acct_key[0] && count_attempt(r, acct_key, now, &fa) < 0) ||
	    count_attempt(r, addr_key, now, &fb) < 0) {
		ret = reply_unrecorded(r);
		goto out;
	}
	rc = acct_key[0] ? db_admin_account_hash(r->db, name, &hash, &err)
			 : DB_NOTFOUND;
	if (rc == DB_ERROR) {
		log_error("msg=\"cannot read account\" error=\"%s\"",
			  err ? err : "?");
		ret = reply_unrecorded(r);
		goto out;
	}
	ok = admin_password_verify(password, rc == DB_OK ? hash : NULL);
	if (!ok) {
		ret = login_failed(r, acct_key, addr_key, name, fa, fb);
		goto out;
	}
	/* a success: the account's failures end; the address keeps the
	 * failures it had before this attempt */
	db_admin_throttle_clear(r->db, acct_key, NULL);
	db_admin_throttle_forgive(r->db, addr_key, NULL);
	if (admin_session_start(r, name, expires) < 0) {
		ret = reply_unrecorded(r);
		goto out;
	}
	db_admin_account_logged_in(r->db, name, now, NULL);
	admin_audit(r, "login", name, NULL);
	log_info("msg=\"admin login\" account=\"%s\" remote=%s", name,
		 r->remote);
	ret = admin_reply_json(r, MHD_HTTP_OK,
			       json_pack("{s:s, s:s, s:s}", "account", name,
					 "csrf", r->csrf, "expires", expires));
out:
	free(hash);
	free(err);
	json_decref(body);
	return ret;
}

enum MHD_Result api_logout(struct areq *r)
{
	if (r->via_token)
		return admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "token",
					 "API tokens have no session");
	admin_audit(r, "logout", r->account, NULL);
	admin_session_end(r);
	return admin_reply_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1));
}
