#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db/internal.h"
#include "db/pin.h"

void db_pin_clear(struct db_pin *p)
{
	free(p->fingerprint);
	free(p->cert_serial);
	free(p->issuer);
	free(p->first_seen);
	free(p->pinned_by);
	memset(p, 0, sizeof(*p));
}

int db_pin_get(struct db *db, const char *mac, struct db_pin *out,
	       char **err)
{
	static const char sql[] =
		"SELECT fingerprint, cert_serial, issuer, first_seen,"
		" pinned_by FROM device_pins WHERE mac = ?1";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, mac);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->fingerprint = db_col_dup(s, 0);
		out->cert_serial = db_col_dup(s, 1);
		out->issuer = db_col_dup(s, 2);
		out->first_seen = db_col_dup(s, 3);
		out->pinned_by = db_col_dup(s, 4);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return DB_NOTFOUND;
	if (rc != SQLITE_ROW) {
		db_set_err(db, err, "reading pin");
		return DB_ERROR;
	}
	if (out->fingerprint == NULL || out->first_seen == NULL ||
	    out->pinned_by == NULL) {
		db_pin_clear(out);
		*err = db_fmt_err("reading pin: out of memory");
		return DB_ERROR;
	}
	return DB_OK;
}

int db_pin_remove(struct db *db, const char *mac, int *had_pin, char **err)
{
	static const char exists[] = "SELECT 1 FROM devices WHERE mac = ?1";
	static const char del[] = "DELETE FROM device_pins WHERE mac = ?1";
	sqlite3_stmt *e = db_prepare(db, exists, err);
	sqlite3_stmt *d = e != NULL ? db_prepare(db, del, err) : NULL;
	int rc, result = DB_ERROR;

	if (d == NULL)
		return DB_ERROR;
	if (db_exec_retry(db, "BEGIN IMMEDIATE", err) < 0)
		return DB_ERROR;
	db_bind_text(e, 1, mac);
	rc = sqlite3_step(e);
	sqlite3_reset(e);
	if (rc == SQLITE_DONE) {
		*err = db_fmt_err("no device %s", mac);
		result = DB_NOTFOUND;
		goto rollback;
	}
	if (rc != SQLITE_ROW) {
		db_set_err(db, err, "reading device");
		goto rollback;
	}
	db_bind_text(d, 1, mac);
	if (db_step_done(db, d, err, "removing pin") < 0)
		goto rollback;
	*had_pin = sqlite3_changes(db->sql) > 0;
	if (db_exec_retry(db, "COMMIT", err) < 0)
		goto rollback;
	return DB_OK;
rollback:
	sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	return result;
}

int db_pin_first(struct db *db, const struct db_resync *r, char **err)
{
	/* the WHERE also keeps the SELECT's ON CONFLICT unambiguous */
	static const char sql[] =
		"INSERT INTO device_pins (mac, fingerprint, cert_serial, issuer,"
		" first_seen, pinned_by) SELECT ?1, ?2, ?3, ?4, ?5, ?6"
		" WHERE EXISTS (SELECT 1 FROM devices WHERE mac = ?1)"
		" ON CONFLICT(mac) DO NOTHING";
	sqlite3_stmt *s;

	if (r->mac == NULL || r->fingerprint == NULL || !r->fingerprint[0])
		return 0;
	if ((s = db_prepare(db, sql, err)) == NULL)
		return -1;
	db_bind_text(s, 1, r->mac);
	db_bind_text(s, 2, r->fingerprint);
	db_bind_text(s, 3, r->cert_serial);
	db_bind_text(s, 4, r->cert_issuer);
	db_bind_text(s, 5, r->ts);
	db_bind_text(s, 6, DB_PIN_BY_DAEMON);
	return db_step_done(db, s, err, "pinning certificate");
}

int db_profile_generic_safe(struct db *db, const char *name, int *safe,
			    char **err)
{
	static const char sql[] =
		"SELECT generic_safe FROM profiles WHERE name = ?1";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	int rc;

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*safe = sqlite3_column_int(s, 0) != 0;
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return DB_OK;
	if (rc == SQLITE_DONE)
		return DB_NOTFOUND;
	db_set_err(db, err, "reading profile");
	return DB_ERROR;
}

int db_profile_set_flagged(struct db *db, const char *name, const char *body,
			   int generic_safe, char **err)
{
	static const char sql[] =
		"INSERT INTO profiles (name, body, updated, generic_safe)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT(name) DO UPDATE SET"
		" body = excluded.body, updated = excluded.updated,"
		" generic_safe = excluded.generic_safe";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	char now[32];

	if (s == NULL)
		return DB_ERROR;
	db_timestamp(now);
	db_bind_text(s, 1, name);
	db_bind_text(s, 2, body);
	db_bind_text(s, 3, now);
	sqlite3_bind_int(s, 4, generic_safe != 0);
	return db_step_done(db, s, err, "storing profile") < 0 ? DB_ERROR
							       : DB_OK;
}
