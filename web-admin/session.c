#include "config.h"

/* web-admin/session: login sessions.  The cookie carries 32 random bytes
 * in hex; the database keeps their SHA-256, the account, a CSRF token and
 * the expiry time, which the server checks on every request.  The
 * cookie is HttpOnly, SameSite=Strict, Path=/, and Secure (with the
 * __Host- prefix) on HTTPS. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/admin.h"
#include "util/log.h"
#include "web-admin/internal.h"

const char *admin_cookie_name(const struct admin *adm)
{
	return adm->https ? "__Host-spaprov_session" : "spaprov_session";
}

static void set_cookie(struct areq *r, const char *value, unsigned max_age)
{
	free(r->set_cookie);
	if (asprintf(&r->set_cookie,
		     "%s=%s; Path=/; Max-Age=%u; HttpOnly; SameSite=Strict%s",
		     admin_cookie_name(r->adm), value, max_age,
		     r->adm->https ? "; Secure" : "") < 0)
		r->set_cookie = NULL;
}

static int is_hex64(const char *s)
{
	return s != NULL && strlen(s) == ADMIN_HEX_LEN &&
	       strspn(s, "0123456789abcdef") == ADMIN_HEX_LEN;
}

int admin_session_start(struct areq *r, const char *account,
			char expires[32])
{
	unsigned timeout = r->adm->session_timeout;
	char id[ADMIN_HEX_LEN + 1], now[32], *err = NULL;
	time_t t = time(NULL);
	int ret = -1;

	if (admin_random_hex(id) < 0 || admin_random_hex(r->csrf) < 0 ||
	    admin_sha256_hex(id, ADMIN_HEX_LEN, r->session_hash) < 0)
		goto out;
	db_timestamp(now);
	admin_iso_time(t + (time_t)timeout, expires);
	if (db_admin_session_add(r->db, r->session_hash, account, r->csrf, now,
				 expires, r->remote, &err) != DB_OK) {
		log_error("msg=\"cannot store session\" error=\"%s\"",
			  err ? err : "?");
		goto out;
	}
	set_cookie(r, id, timeout);
	snprintf(r->account, sizeof(r->account), "%s", account);
	ret = 0;
out:
	explicit_bzero(id, sizeof(id));
	free(err);
	return ret;
}

int admin_session_find(struct areq *r)
{
	const char *id = MHD_lookup_connection_value(
		r->conn, MHD_COOKIE_KIND, admin_cookie_name(r->adm));
	struct db_admin_session s;
	char now[32], hash[ADMIN_HEX_LEN + 1], *err = NULL;
	int rc;

	if (!is_hex64(id) || admin_sha256_hex(id, ADMIN_HEX_LEN, hash) < 0)
		return -1;
	db_timestamp(now);
	rc = db_admin_session_get(r->db, hash, now, &s, &err);
	if (rc != DB_OK) {
		if (rc == DB_ERROR)
			log_error("msg=\"cannot read session\" error=\"%s\"",
				  err ? err : "?");
		free(err);
		return -1;
	}
	snprintf(r->account, sizeof(r->account), "%s", s.account);
	snprintf(r->csrf, sizeof(r->csrf), "%s", s.csrf);
	memcpy(r->session_hash, hash, sizeof(hash));
	return 0;
}

void admin_session_end(struct areq *r)
{
	char *err = NULL;

	if (r->session_hash[0] != '\0' &&
	    db_admin_session_rm(r->db, r->session_hash, &err) == DB_ERROR) {
		log_error("msg=\"cannot end session\" error=\"%s\"",
			  err ? err : "?");
		free(err);
	}
	set_cookie(r, "", 0);
}
