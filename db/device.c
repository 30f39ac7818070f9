#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db/db.h"
#include "db/device.h"
#include "db/internal.h"

#define LIKE_MAX_PATTERN 1024  /* bytes of a search text, escaped */

/* --- transactions ------------------------------------------------------- */

static void rollback(struct db *db)
{
	sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
}

/* Commit, or roll back and return -1 with *err. */
static int commit(struct db *db, char **err)
{
	if (db_exec_retry(db, "COMMIT", err) == 0)
		return 0;
	rollback(db);
	return -1;
}

/* Step a statement expected to return at most one row; SQLITE_ROW (the
 * caller reads and resets), SQLITE_DONE (reset) or an error (reset, *err). */
static int step_one(struct db *db, sqlite3_stmt *s, char **err,
		    const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return rc;
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		db_set_err(db, err, what);
		return SQLITE_ERROR;
	}
	return rc;
}

/* --- device set ---------------------------------------------------------- */

static const char sql_update[] =
	"UPDATE devices SET"
	" profile = CASE WHEN ?2 THEN NULL ELSE coalesce(?3, profile) END,"
	" description = coalesce(?4, description), updated = ?5"
	" WHERE mac = ?1";
static const char sql_var_unset[] =
	"DELETE FROM device_vars WHERE mac = ?1 AND name = ?2";
static const char sql_var_set[] =
	"INSERT INTO device_vars (mac, name, value) VALUES (?1, ?2, ?3)"
	" ON CONFLICT(mac, name) DO UPDATE SET value = excluded.value";
static const char sql_var_count[] =
	"SELECT count(*) FROM device_vars WHERE mac = ?1";

static int update_row(struct db *db, const char *mac,
		      const struct db_device_change *c, char **err)
{
	sqlite3_stmt *s = db_prepare(db, sql_update, err);
	char now[32];

	if (s == NULL)
		return DB_ERROR;
	db_timestamp(now);
	db_bind_text(s, 1, mac);
	sqlite3_bind_int(s, 2, c->clear_profile != 0);
	db_bind_text(s, 3, c->profile);
	db_bind_text(s, 4, c->description);
	db_bind_text(s, 5, now);
	if (db_step_done(db, s, err, "updating device") < 0)
		return DB_ERROR;
	if (sqlite3_changes(db->sql) == 0) {
		*err = db_fmt_err("no device %s", mac);
		return DB_NOTFOUND;
	}
	return DB_OK;
}

static int vars_unset(struct db *db, const char *mac,
		      const struct db_device_change *c, char **err)
{
	sqlite3_stmt *s = db_prepare(db, sql_var_unset, err);

	if (s == NULL)
		return DB_ERROR;
	for (size_t i = 0; i < c->n_unset; i++) {
		db_bind_text(s, 1, mac);
		db_bind_text(s, 2, c->unset[i]);
		if (db_step_done(db, s, err, "removing variable") < 0)
			return DB_ERROR;
		if (sqlite3_changes(db->sql) == 0) {
			*err = db_fmt_err("device %s has no variable '%s'", mac,
					  c->unset[i]);
			return DB_NOTFOUND;
		}
	}
	return DB_OK;
}

static int vars_set(struct db *db, const char *mac,
		    const struct db_device_change *c, char **err)
{
	sqlite3_stmt *s = db_prepare(db, sql_var_set, err);
	sqlite3_stmt *n = db_prepare(db, sql_var_count, err);
	long long count;

	if (s == NULL || n == NULL)
		return DB_ERROR;
	for (size_t i = 0; i < c->n_set; i++) {
		db_bind_text(s, 1, mac);
		db_bind_text(s, 2, c->set[i].name);
		db_bind_text(s, 3, c->set[i].value);
		if (db_step_done(db, s, err, "storing variable") < 0)
			return DB_ERROR;
	}
	db_bind_text(n, 1, mac);
	if (step_one(db, n, err, "counting variables") != SQLITE_ROW)
		return DB_ERROR;
	count = sqlite3_column_int64(n, 0);
	sqlite3_reset(n);
	if (count > DB_MAX_VARS) {
		*err = db_fmt_err("device %s would have %lld variables, more "
				  "than %d", mac, count, DB_MAX_VARS);
		return DB_INVALID;
	}
	return DB_OK;
}

int db_device_update(struct db *db, const char *mac,
		     const struct db_device_change *c, char **err)
{
	int rc;

	if (db_exec_retry(db, "BEGIN IMMEDIATE", err) < 0)
		return DB_ERROR;
	if ((rc = update_row(db, mac, c, err)) != DB_OK ||
	    (rc = vars_unset(db, mac, c, err)) != DB_OK ||
	    (rc = vars_set(db, mac, c, err)) != DB_OK) {
		rollback(db);
		return rc;
	}
	return commit(db, err) < 0 ? DB_ERROR : DB_OK;
}

/* --- device rm ----------------------------------------------------------- */

static const char sql_delete[] = "DELETE FROM devices WHERE mac = ?1";

int db_device_remove(struct db *db, const char *mac, size_t *n_vars,
		     char **err)
{
	sqlite3_stmt *n = db_prepare(db, sql_var_count, err);
	sqlite3_stmt *d = db_prepare(db, sql_delete, err);
	long long count;

	if (n == NULL || d == NULL)
		return DB_ERROR;
	if (db_exec_retry(db, "BEGIN IMMEDIATE", err) < 0)
		return DB_ERROR;
	db_bind_text(n, 1, mac);
	if (step_one(db, n, err, "counting variables") != SQLITE_ROW)
		goto fail;
	count = sqlite3_column_int64(n, 0);
	sqlite3_reset(n);
	db_bind_text(d, 1, mac);
	if (db_step_done(db, d, err, "removing device") < 0)
		goto fail;
	if (sqlite3_changes(db->sql) == 0) {
		rollback(db);
		*err = db_fmt_err("no device %s", mac);
		return DB_NOTFOUND;
	}
	if (commit(db, err) < 0)
		return DB_ERROR;
	if (n_vars != NULL)
		*n_vars = (size_t)count;
	return DB_OK;
fail:
	rollback(db);
	return DB_ERROR;
}

/* --- enable, disable, approve -------------------------------------------- */

static const char sql_status_get[] =
	"SELECT status FROM devices WHERE mac = ?1";
static const char sql_status_set[] =
	"UPDATE devices SET status = ?2, profile = coalesce(?3, profile),"
	" updated = ?4 WHERE mac = ?1";

static unsigned status_bit(const char *status)
{
	if (strcmp(status, "enabled") == 0)
		return DB_STATUS_ENABLED;
	if (strcmp(status, "disabled") == 0)
		return DB_STATUS_DISABLED;
	if (strcmp(status, "pending") == 0)
		return DB_STATUS_PENDING;
	return 0;
}

/* Read the status in the open transaction into prev. */
static int status_read(struct db *db, const char *mac,
		       char prev[DB_STATUS_LEN], char **err)
{
	sqlite3_stmt *s = db_prepare(db, sql_status_get, err);
	int rc;

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, mac);
	rc = step_one(db, s, err, "reading device status");
	if (rc == SQLITE_DONE) {
		*err = db_fmt_err("no device %s", mac);
		return DB_NOTFOUND;
	}
	if (rc != SQLITE_ROW)
		return DB_ERROR;
	snprintf(prev, DB_STATUS_LEN, "%s",
		 (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	return DB_OK;
}

int db_device_set_status(struct db *db, const char *mac, const char *status,
			 unsigned from, const char *profile,
			 char prev[DB_STATUS_LEN], char **err)
{
	sqlite3_stmt *s = db_prepare(db, sql_status_set, err);
	char now[32];
	int rc;

	if (s == NULL)
		return DB_ERROR;
	if (db_exec_retry(db, "BEGIN IMMEDIATE", err) < 0)
		return DB_ERROR;
	if ((rc = status_read(db, mac, prev, err)) != DB_OK) {
		rollback(db);
		return rc;
	}
	if ((status_bit(prev) & from) == 0) {
		rollback(db);
		return DB_INVALID;
	}
	if (strcmp(prev, status) == 0 && profile == NULL) {
		rollback(db);
		return DB_OK;
	}
	db_timestamp(now);
	db_bind_text(s, 1, mac);
	db_bind_text(s, 2, status);
	db_bind_text(s, 3, profile);
	db_bind_text(s, 4, now);
	if (db_step_done(db, s, err, "changing device status") < 0) {
		rollback(db);
		return DB_ERROR;
	}
	return commit(db, err) < 0 ? DB_ERROR : DB_OK;
}

/* --- the last resync ----------------------------------------------------- */

/* resyncs_mac_ts (mac, ts, rowid) answers this from the index end. */
static const char sql_last_resync[] =
	"SELECT ts, listener, ca, remote_addr, tls_version, cipher, outcome,"
	" detail, user_agent, status FROM resyncs WHERE mac = ?1"
	" ORDER BY ts DESC, id DESC LIMIT 1";

void db_last_resync_clear(struct db_last_resync *r)
{
	free(r->ts);
	free(r->listener);
	free(r->ca);
	free(r->remote_addr);
	free(r->tls_version);
	free(r->cipher);
	free(r->outcome);
	free(r->detail);
	free(r->user_agent);
	memset(r, 0, sizeof(*r));
}

int db_device_last_resync(struct db *db, const char *mac,
			  struct db_last_resync *out, char **err)
{
	sqlite3_stmt *s = db_prepare(db, sql_last_resync, err);
	int rc;

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, mac);
	rc = step_one(db, s, err, "reading the last resync");
	if (rc == SQLITE_DONE)
		return DB_NOTFOUND;
	if (rc != SQLITE_ROW)
		return DB_ERROR;
	memset(out, 0, sizeof(*out));
	out->ts = db_col_dup(s, 0);
	out->listener = db_col_dup(s, 1);
	out->ca = db_col_dup(s, 2);
	out->remote_addr = db_col_dup(s, 3);
	out->tls_version = db_col_dup(s, 4);
	out->cipher = db_col_dup(s, 5);
	out->outcome = db_col_dup(s, 6);
	out->detail = db_col_dup(s, 7);
	out->user_agent = db_col_dup(s, 8);
	out->status = sqlite3_column_int(s, 9);
	sqlite3_reset(s);
	return DB_OK;
}

/* --- device list --------------------------------------------------------- */

/* One WHERE for the count and the page.  A NULL parameter switches its
 * filter off (and OR stops before the subquery).  ?5 is a strftime
 * modifier ("-30 days"), ?6 a MAC substring, ?7 a LIKE pattern. */
#define LIST_WHERE \
	" WHERE (?1 IS NULL OR d.status = ?1)" \
	" AND (?2 IS NULL OR d.model = ?2 COLLATE NOCASE)" \
	" AND (?3 IS NULL OR d.profile = ?3)" \
	" AND (?4 IS NULL OR d.firmware = ?4)" \
	" AND (?5 IS NULL OR d.last_seen IS NULL OR d.last_seen <" \
	"      strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?5))" \
	" AND ((?6 IS NULL AND ?7 IS NULL) OR instr(d.mac, ?6) > 0" \
	"      OR d.description LIKE ?7 ESCAPE '\\'" \
	"      OR EXISTS (SELECT 1 FROM device_vars AS v WHERE v.mac = d.mac" \
	"                 AND v.value LIKE ?7 ESCAPE '\\'))" \
	" AND (?8 IS NULL OR (SELECT r.ca FROM resyncs AS r" \
	"      WHERE r.mac = d.mac ORDER BY r.ts DESC, r.id DESC LIMIT 1)" \
	"      = ?8)"

static const char sql_list_count[] =
	"SELECT count(*) FROM devices AS d" LIST_WHERE;
static const char sql_list[] =
	"SELECT d.mac, d.status, d.model, d.serial, d.firmware, d.profile,"
	" d.description, d.last_seen, lr.listener, lr.ca"
	" FROM devices AS d LEFT JOIN resyncs AS lr ON lr.id ="
	" (SELECT r.id FROM resyncs AS r WHERE r.mac = d.mac"
	"  ORDER BY r.ts DESC, r.id DESC LIMIT 1)"
	LIST_WHERE " ORDER BY d.mac LIMIT ?9 OFFSET ?10";

/* "%text%" with \, % and _ escaped by '\'. */
static char *like_pattern(const char *text)
{
	size_t len = strlen(text), j = 0;
	char *p;

	if (len > LIKE_MAX_PATTERN || (p = malloc(2 * len + 3)) == NULL)
		return NULL;
	p[j++] = '%';
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\\' || text[i] == '%' || text[i] == '_')
			p[j++] = '\\';
		p[j++] = text[i];
	}
	p[j++] = '%';
	p[j] = '\0';
	return p;
}

static void list_bind(sqlite3_stmt *s, const struct db_device_filter *f,
		      const char *days, const char *like)
{
	db_bind_text(s, 1, f->status);
	db_bind_text(s, 2, f->model);
	db_bind_text(s, 3, f->profile);
	db_bind_text(s, 4, f->firmware);
	db_bind_text(s, 5, days);
	db_bind_text(s, 6, f->search_mac);
	db_bind_text(s, 7, like);
	db_bind_text(s, 8, f->ca);
}

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static int list_rows(struct db *db, sqlite3_stmt *s,
		     int (*row)(void *ctx, const struct db_device_row *r),
		     void *ctx, char **err)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_device_row r = {
			.mac = col(s, 0), .status = col(s, 1),
			.model = col(s, 2), .serial = col(s, 3),
			.firmware = col(s, 4), .profile = col(s, 5),
			.description = col(s, 6), .last_seen = col(s, 7),
			.listener = col(s, 8), .ca = col(s, 9),
		};

		if (row(ctx, &r) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		db_set_err(db, err, "listing devices");
		return -1;
	}
	return 0;
}

int db_device_list(struct db *db, const struct db_device_filter *f,
		   int (*row)(void *ctx, const struct db_device_row *r),
		   void *ctx, long long *total, char **err)
{
	sqlite3_stmt *count = db_prepare(db, sql_list_count, err);
	sqlite3_stmt *list = count ? db_prepare(db, sql_list, err) : NULL;
	char days[32], *like = NULL;
	int result = DB_ERROR;

	if (list == NULL)
		return DB_ERROR;
	if (f->search_text != NULL &&
	    (like = like_pattern(f->search_text)) == NULL) {
		*err = db_fmt_err("search text too long");
		return DB_ERROR;
	}
	snprintf(days, sizeof(days), "-%d days", f->not_seen_days);
	/* One read transaction: the count and the page see one snapshot
	 * (WAL: the daemon's writes go on meanwhile). */
	if (db_exec_retry(db, "BEGIN", err) < 0)
		goto out;
	list_bind(count, f, f->not_seen_days >= 0 ? days : NULL, like);
	if (step_one(db, count, err, "counting devices") != SQLITE_ROW)
		goto fail;
	*total = sqlite3_column_int64(count, 0);
	sqlite3_reset(count);
	list_bind(list, f, f->not_seen_days >= 0 ? days : NULL, like);
	sqlite3_bind_int64(list, 9, f->limit);
	sqlite3_bind_int64(list, 10, f->offset);
	if (list_rows(db, list, row, ctx, err) < 0)
		goto fail;
	if (commit(db, err) < 0)
		goto out;
	result = DB_OK;
	goto out;
fail:
	rollback(db);
out:
	/* the statements keep pointers to like: drop them */
	sqlite3_clear_bindings(count);
	sqlite3_clear_bindings(list);
	free(like);
	return result;
}
