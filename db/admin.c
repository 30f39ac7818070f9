#include "config.h"

/* db/admin: accounts, tokens, sessions, throttling and the audit trail.
 * The read queries of the admin pages are in db/admin_views.c. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db/admin.h"
#include "db/admin_internal.h"
#include "db/internal.h"

/* Run a prepared statement that returns no rows and report whether it
 * changed one: DB_OK, DB_NOTFOUND (no row changed) or DB_ERROR. */
static int step_change(struct db *db, sqlite3_stmt *s, char **err,
		       const char *what)
{
	if (db_step_done(db, s, err, what) < 0)
		return DB_ERROR;
	return sqlite3_changes(db->sql) > 0 ? DB_OK : DB_NOTFOUND;
}

int db_admin_rows(struct db *db, sqlite3_stmt *s, db_admin_row_fn row,
		  void *ctx, char **err, const char *what)
{
	const char *names[DB_ADMIN_MAX_COLS], *values[DB_ADMIN_MAX_COLS];
	int ncols = sqlite3_column_count(s), rc;

	if (ncols > DB_ADMIN_MAX_COLS)
		ncols = DB_ADMIN_MAX_COLS;
	for (int i = 0; i < ncols; i++)
		names[i] = sqlite3_column_name(s, i);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (int i = 0; i < ncols; i++)
			values[i] = (const char *)sqlite3_column_text(s, i);
		if (row(ctx, ncols, names, values) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		db_set_err(db, err, what);
		return -1;
	}
	return 0;
}

/* --- accounts ------------------------------------------------------------ */

int db_admin_account_add(struct db *db, const char *name, const char *hash,
			 char **err)
{
	static const char sql[] =
		"INSERT INTO admin_accounts (name, password_hash, created,"
		" updated) VALUES (?1, ?2, ?3, ?3)";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	char now[32];
	int rc;

	if (s == NULL)
		return DB_ERROR;
	db_timestamp(now);
	db_bind_text(s, 1, name);
	db_bind_text(s, 2, hash);
	db_bind_text(s, 3, now);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		*err = db_fmt_err("account %s already exists", name);
		return DB_EXISTS;
	}
	if (rc != SQLITE_DONE) {
		db_set_err(db, err, "adding account");
		return DB_ERROR;
	}
	return DB_OK;
}

int db_admin_account_passwd(struct db *db, const char *name,
			    const char *hash, char **err)
{
	static const char upd[] =
		"UPDATE admin_accounts SET password_hash = ?2, updated = ?3"
		" WHERE name = ?1";
	static const char end[] =
		"DELETE FROM admin_sessions WHERE account = ?1";
	sqlite3_stmt *s = db_prepare(db, upd, err), *e = db_prepare(db, end, err);
	char now[32];
	int rc;

	if (s == NULL || e == NULL)
		return DB_ERROR;
	if (db_exec_retry(db, "BEGIN IMMEDIATE", err) < 0)
		return DB_ERROR;
	db_timestamp(now);
	db_bind_text(s, 1, name);
	db_bind_text(s, 2, hash);
	db_bind_text(s, 3, now);
	rc = step_change(db, s, err, "changing password");
	if (rc == DB_OK) {
		db_bind_text(e, 1, name);
		if (db_step_done(db, e, err, "ending sessions") < 0)
			rc = DB_ERROR;
	}
	if (rc == DB_OK && db_exec_retry(db, "COMMIT", err) == 0)
		return DB_OK;
	sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	return rc == DB_OK ? DB_ERROR : rc;
}

int db_admin_account_rm(struct db *db, const char *name, char **err)
{
	static const char sql[] = "DELETE FROM admin_accounts WHERE name = ?1";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, name);
	return step_change(db, s, err, "removing account");
}

int db_admin_account_list(struct db *db, db_admin_row_fn row, void *ctx,
			  char **err)
{
	static const char sql[] =
		"SELECT a.name AS name, a.created AS created,"
		" a.updated AS updated, a.last_login AS last_login,"
		" (SELECT count(*) FROM admin_tokens t"
		"   WHERE t.account = a.name) AS tokens,"
		" (SELECT count(*) FROM admin_sessions s"
		"   WHERE s.account = a.name AND s.expires > ?1) AS sessions"
		" FROM admin_accounts a ORDER BY a.name";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	char now[32];

	if (s == NULL)
		return -1;
	db_timestamp(now);
	db_bind_text(s, 1, now);
	return db_admin_rows(db, s, row, ctx, err, "listing accounts");
}

int db_admin_account_hash(struct db *db, const char *name, char **hash,
			  char **err)
{
	static const char sql[] =
		"SELECT password_hash FROM admin_accounts WHERE name = ?1";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, name);
	return db_one_row(db, s, hash, 1, err, "reading account");
}

int db_admin_account_logged_in(struct db *db, const char *name,
			       const char *now, char **err)
{
	static const char sql[] =
		"UPDATE admin_accounts SET last_login = ?2 WHERE name = ?1";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, name);
	db_bind_text(s, 2, now);
	return step_change(db, s, err, "recording login");
}

/* --- API tokens ---------------------------------------------------------- */

int db_admin_token_add(struct db *db, const char *account,
		       const char *hash_hex, char **err)
{
	static const char sql[] =
		"INSERT INTO admin_tokens (hash, account, created)"
		" SELECT ?1, name, ?3 FROM admin_accounts WHERE name = ?2";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	char now[32];

	if (s == NULL)
		return DB_ERROR;
	db_timestamp(now);
	db_bind_text(s, 1, hash_hex);
	db_bind_text(s, 2, account);
	db_bind_text(s, 3, now);
	return step_change(db, s, err, "adding token");
}

int db_admin_token_find(struct db *db, const char *hash_hex,
			const char *now, char *account, char **err)
{
	static const char sql[] =
		"UPDATE admin_tokens SET last_used = ?2 WHERE hash = ?1"
		" RETURNING account";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	int rc, found = 0;

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, hash_hex);
	db_bind_text(s, 2, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(account, DB_ADMIN_MAX_NAME + 1, "%s",
			 (const char *)sqlite3_column_text(s, 0));
		found = 1;
		/* RETURNING: the change is done when the statement ends */
		rc = sqlite3_step(s);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		db_set_err(db, err, "reading token");
		return DB_ERROR;
	}
	return found ? DB_OK : DB_NOTFOUND;
}

/* --- sessions ------------------------------------------------------------ */

int db_admin_session_add(struct db *db, const char *id_hash,
			 const char *account, const char *csrf,
			 const char *now, const char *expires,
			 const char *remote_addr, char **err)
{
	static const char sql[] =
		"INSERT INTO admin_sessions (id_hash, account, csrf, created,"
		" expires, remote_addr) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, id_hash);
	db_bind_text(s, 2, account);
	db_bind_text(s, 3, csrf);
	db_bind_text(s, 4, now);
	db_bind_text(s, 5, expires);
	db_bind_text(s, 6, remote_addr);
	return db_step_done(db, s, err, "adding session") < 0 ? DB_ERROR
							      : DB_OK;
}

int db_admin_session_get(struct db *db, const char *id_hash,
			 const char *now, struct db_admin_session *out,
			 char **err)
{
	static const char sql[] =
		"SELECT account, csrf, expires FROM admin_sessions"
		" WHERE id_hash = ?1 AND expires > ?2";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	int rc;

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, id_hash);
	db_bind_text(s, 2, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(out->account, sizeof(out->account), "%s",
			 (const char *)sqlite3_column_text(s, 0));
		snprintf(out->csrf, sizeof(out->csrf), "%s",
			 (const char *)sqlite3_column_text(s, 1));
		snprintf(out->expires, sizeof(out->expires), "%s",
			 (const char *)sqlite3_column_text(s, 2));
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return DB_NOTFOUND;
	if (rc != SQLITE_ROW) {
		db_set_err(db, err, "reading session");
		return DB_ERROR;
	}
	return DB_OK;
}

int db_admin_session_rm(struct db *db, const char *id_hash, char **err)
{
	static const char sql[] =
		"DELETE FROM admin_sessions WHERE id_hash = ?1";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, id_hash);
	return step_change(db, s, err, "ending session");
}

int db_admin_prune(struct db *db, const char *now, const char *stale,
		   char **err)
{
	static const char sess[] =
		"DELETE FROM admin_sessions WHERE expires <= ?1";
	static const char thr[] =
		"DELETE FROM admin_throttle WHERE last_failure < ?1"
		" AND (locked_until IS NULL OR locked_until <= ?2)";
	sqlite3_stmt *a = db_prepare(db, sess, err), *b = db_prepare(db, thr, err);

	if (a == NULL || b == NULL)
		return DB_ERROR;
	db_bind_text(a, 1, now);
	if (db_step_done(db, a, err, "pruning sessions") < 0)
		return DB_ERROR;
	db_bind_text(b, 1, stale);
	db_bind_text(b, 2, now);
	if (db_step_done(db, b, err, "pruning login failures") < 0)
		return DB_ERROR;
	return DB_OK;
}

/* --- login throttling ---------------------------------------------------- */

int db_admin_throttle_check(struct db *db, const char *key, const char *now,
			    char *locked_until, char **err)
{
	static const char sql[] =
		"SELECT locked_until FROM admin_throttle"
		" WHERE key = ?1 AND locked_until > ?2";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	int rc;

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, key);
	db_bind_text(s, 2, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		snprintf(locked_until, 32, "%s",
			 (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return DB_EXISTS;
	if (rc == SQLITE_DONE)
		return DB_OK;
	db_set_err(db, err, "reading login failures");
	return DB_ERROR;
}

int db_admin_throttle_fail(struct db *db, const char *key, const char *now,
			   long long *failures, char **err)
{
	static const char sql[] =
		"INSERT INTO admin_throttle (key, failures, last_failure)"
		" VALUES (?1, 1, ?2) ON CONFLICT(key) DO UPDATE SET"
		" failures = failures + 1, last_failure = excluded.last_failure"
		" RETURNING failures";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	int rc;

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, key);
	db_bind_text(s, 2, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*failures = sqlite3_column_int64(s, 0);
		rc = sqlite3_step(s);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		db_set_err(db, err, "recording login failure");
		return DB_ERROR;
	}
	return DB_OK;
}

int db_admin_throttle_lock(struct db *db, const char *key,
			   const char *locked_until, char **err)
{
	static const char sql[] =
		"UPDATE admin_throttle SET locked_until = ?2 WHERE key = ?1";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, key);
	db_bind_text(s, 2, locked_until);
	return step_change(db, s, err, "locking login");
}

int db_admin_throttle_clear(struct db *db, const char *key, char **err)
{
	static const char sql[] = "DELETE FROM admin_throttle WHERE key = ?1";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, key);
	return db_step_done(db, s, err, "clearing login failures") < 0
		       ? DB_ERROR : DB_OK;
}

int db_admin_throttle_forgive(struct db *db, const char *key, char **err)
{
	static const char sql[] =
		"UPDATE admin_throttle SET failures = max(failures - 1, 0)"
		" WHERE key = ?1";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, key);
	return step_change(db, s, err, "forgiving a login failure");
}

/* --- health ------------------------------------------------------------- */

int db_admin_writable(struct db *db, unsigned wait_ms, unsigned restore_ms,
		      char **err)
{
	int rc;

	sqlite3_busy_timeout(db->sql, (int)wait_ms);
	rc = sqlite3_exec(db->sql, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		db_set_err(db, err, "BEGIN IMMEDIATE");
	else if (sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL) !=
		 SQLITE_OK)
		db_set_err(db, err, "ROLLBACK");
	else
		rc = SQLITE_DONE;
	sqlite3_busy_timeout(db->sql, (int)restore_ms);
	return rc == SQLITE_DONE ? DB_OK : DB_ERROR;
}

/* --- audit --------------------------------------------------------------- */

int db_admin_audit(struct db *db, const char *account,
		   const char *remote_addr, const char *action,
		   const char *target, const char *detail, char **err)
{
	static const char sql[] =
		"INSERT INTO audit (ts, account, remote_addr, action, target,"
		" detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	char now[32];

	if (s == NULL)
		return DB_ERROR;
	db_timestamp(now);
	db_bind_text(s, 1, now);
	db_bind_text(s, 2, account);
	db_bind_text(s, 3, remote_addr);
	db_bind_text(s, 4, action);
	db_bind_text(s, 5, target);
	db_bind_text(s, 6, detail);
	return db_step_done(db, s, err, "recording audit entry") < 0
		       ? DB_ERROR : DB_OK;
}

int db_admin_audit_list(struct db *db, long long before_id, int limit,
			db_admin_row_fn row, void *ctx, char **err)
{
	static const char sql[] =
		"SELECT id, ts, account, remote_addr, action, target, detail"
		" FROM audit WHERE (?1 <= 0 OR id < ?1)"
		" ORDER BY id DESC LIMIT ?2";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, before_id);
	sqlite3_bind_int(s, 2, limit > 0 ? limit : 100);
	return db_admin_rows(db, s, row, ctx, err, "reading audit trail");
}
