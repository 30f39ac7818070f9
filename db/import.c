#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db/db.h"
#include "db/import.h"
#include "db/internal.h"

/* --- import ------------------------------------------------------------- */

#define IMPORT_STATUS_MAX 12  /* "disabled" + NUL, as in struct db_device */

static const char sql_lookup[] =
	"SELECT status FROM devices WHERE mac = ?1";
static const char sql_insert[] =
	"INSERT INTO devices (mac, status, profile, description, created,"
	" updated) VALUES (?1, coalesce(?2, 'enabled'), ?3, coalesce(?4, ''),"
	" ?5, ?5)";
static const char sql_update[] =
	"UPDATE devices SET status = coalesce(?2, status),"
	" profile = coalesce(?3, profile),"
	" description = coalesce(?4, description), updated = ?5"
	" WHERE mac = ?1";
static const char sql_var_upsert[] =
	"INSERT INTO device_vars (mac, name, value) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (mac, name) DO UPDATE SET value = excluded.value";
static const char sql_var_count[] =
	"SELECT count(*) FROM device_vars WHERE mac = ?1";

struct import_stmts {
	sqlite3_stmt *lookup, *insert, *update, *var_upsert, *var_count;
};

static int import_prepare(struct db *db, struct import_stmts *st,
			  char **err)
{
	st->lookup = db_stmt(db, sql_lookup);
	st->insert = db_stmt(db, sql_insert);
	st->update = db_stmt(db, sql_update);
	st->var_upsert = db_stmt(db, sql_var_upsert);
	st->var_count = db_stmt(db, sql_var_count);
	if (st->lookup == NULL || st->insert == NULL || st->update == NULL ||
	    st->var_upsert == NULL || st->var_count == NULL) {
		db_set_err(db, err, "preparing the import statements");
		return -1;
	}
	return 0;
}

/* The current status of mac into status[]: DB_OK, DB_NOTFOUND or
 * DB_ERROR. */
static int import_lookup(struct db *db, sqlite3_stmt *s, const char *mac,
			 char status[IMPORT_STATUS_MAX], char **err)
{
	int rc;

	db_bind_text(s, 1, mac);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);

		snprintf(status, IMPORT_STATUS_MAX, "%s", v != NULL ? v : "");
		rc = DB_OK;
	} else if (rc == SQLITE_DONE) {
		rc = DB_NOTFOUND;
	} else {
		db_set_err(db, err, "looking up a device");
		rc = DB_ERROR;
	}
	sqlite3_reset(s);
	return rc;
}

static long long import_var_count(struct db *db, sqlite3_stmt *s,
				  const char *mac, char **err)
{
	long long n = -1;

	db_bind_text(s, 1, mac);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	else
		db_set_err(db, err, "counting device variables");
	sqlite3_reset(s);
	return n;
}

/* Insert or update one device and its variables.  Returns 0, 1 when the
 * device ends up with too many variables, or -1 with *err. */
static int import_write(struct db *db, const struct import_stmts *st,
			const struct db_import_row *r, int exists,
			const char *now, char **err)
{
	sqlite3_stmt *s = exists ? st->update : st->insert;
	long long count;

	db_bind_text(s, 1, r->mac);
	db_bind_text(s, 2, r->status);
	db_bind_text(s, 3, r->profile);
	db_bind_text(s, 4, r->description);
	db_bind_text(s, 5, now);
	if (db_step_done(db, s, err, exists ? "updating a device"
					    : "adding a device") < 0)
		return -1;
	for (size_t i = 0; i < r->n_vars; i++) {
		db_bind_text(st->var_upsert, 1, r->mac);
		db_bind_text(st->var_upsert, 2, r->vars[i].name);
		db_bind_text(st->var_upsert, 3, r->vars[i].value);
		if (db_step_done(db, st->var_upsert, err,
				 "storing a device variable") < 0)
			return -1;
	}
	if (!exists || r->n_vars == 0)
		return r->n_vars > DB_MAX_VARS ? 1 : 0;
	count = import_var_count(db, st->var_count, r->mac, err);
	if (count < 0)
		return -1;
	return count > DB_MAX_VARS ? 1 : 0;
}

/* Check and write one row; refusals are reported through refuse(). */
static int import_row(struct db *db, const struct import_stmts *st,
		      const struct db_import_row *r, size_t index,
		      unsigned flags, const char *now,
		      db_import_refuse_fn refuse, void *ctx,
		      struct db_import_result *res, char **err)
{
	char status[IMPORT_STATUS_MAX] = "";
	int found, rc;

	found = import_lookup(db, st->lookup, r->mac, status, err);
	if (found == DB_ERROR)
		return -1;
	if (found == DB_OK && !(flags & DB_IMPORT_UPDATE)) {
		refuse(ctx, index, DB_IMPORT_EXISTS);
		res->refused++;
		return 0;
	}
	if (r->status != NULL && strcmp(r->status, "pending") == 0 &&
	    strcmp(status, "pending") != 0) {
		refuse(ctx, index, DB_IMPORT_PENDING);
		res->refused++;
		return 0;
	}
	rc = import_write(db, st, r, found == DB_OK, now, err);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		refuse(ctx, index, DB_IMPORT_TOO_MANY_VARS);
		res->refused++;
		return 0;
	}
	if (found == DB_OK)
		res->updated++;
	else
		res->added++;
	return 0;
}

int db_import_devices(struct db *db, const struct db_import_row *rows,
		      size_t n, unsigned flags, db_import_refuse_fn refuse,
		      void *ctx, struct db_import_result *res, char **err)
{
	struct import_stmts st;
	char now[32];

	memset(res, 0, sizeof(*res));
	if (import_prepare(db, &st, err) < 0)
		return -1;
	/* Even a dry run writes (and rolls back), so that it checks exactly
	 * what the real import would: it needs the write lock too. */
	if (db_exec_retry(db, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	db_timestamp(now);
	for (size_t i = 0; i < n; i++)
		if (import_row(db, &st, &rows[i], i, flags, now, refuse, ctx,
			       res, err) < 0)
			goto rollback;
	if (res->refused > 0 || (flags & DB_IMPORT_DRY_RUN)) {
		if (db_exec_retry(db, "ROLLBACK", err) < 0)
			return -1;
		return 0;
	}
	if (db_exec_retry(db, "COMMIT", err) < 0)
		goto rollback;
	return 0;
rollback:
	sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* --- export ------------------------------------------------------------- */

#define EXPORT_WHERE \
	" WHERE (?1 IS NULL OR d.status = ?1) AND (?2 IS NULL OR d.profile = ?2)"

static const char sql_export_names[] =
	"SELECT DISTINCT v.name FROM device_vars AS v"
	" JOIN devices AS d ON d.mac = v.mac" EXPORT_WHERE
	" ORDER BY v.name";
static const char sql_export_devices[] =
	"SELECT d.mac, d.status, d.profile, d.description FROM devices AS d"
	EXPORT_WHERE " ORDER BY d.mac";
static const char sql_export_vars[] =
	"SELECT v.mac, v.name, v.value FROM device_vars AS v"
	" JOIN devices AS d ON d.mac = v.mac" EXPORT_WHERE
	" ORDER BY v.mac, v.name";

/* A growing array of strings / variables, reused from row to row. */
struct export_buf {
	struct db_var *vars;
	size_t n, cap;
	char **names;
	size_t n_names, cap_names;
};

static void export_vars_clear(struct export_buf *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->vars[i].name);
		free(b->vars[i].value);
	}
	b->n = 0;
}

static int export_var_push(struct export_buf *b, const char *name,
			   const char *value)
{
	if (b->n == b->cap) {
		size_t ncap = b->cap == 0 ? 16 : b->cap * 2;
		struct db_var *nv = realloc(b->vars, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		b->vars = nv;
		b->cap = ncap;
	}
	b->vars[b->n].name = strdup(name);
	b->vars[b->n].value = strdup(value);
	if (b->vars[b->n].name == NULL || b->vars[b->n].value == NULL) {
		free(b->vars[b->n].name);
		free(b->vars[b->n].value);
		return -1;
	}
	b->n++;
	return 0;
}

static int export_name_push(struct export_buf *b, const char *name)
{
	if (b->n_names == b->cap_names) {
		size_t ncap = b->cap_names == 0 ? 16 : b->cap_names * 2;
		char **nn = realloc(b->names, ncap * sizeof(*nn));

		if (nn == NULL)
			return -1;
		b->names = nn;
		b->cap_names = ncap;
	}
	if ((b->names[b->n_names] = strdup(name)) == NULL)
		return -1;
	b->n_names++;
	return 0;
}

static void export_buf_free(struct export_buf *b)
{
	export_vars_clear(b);
	free(b->vars);
	for (size_t i = 0; i < b->n_names; i++)
		free(b->names[i]);
	free(b->names);
}

static void export_bind(sqlite3_stmt *s, const struct db_export_filter *f)
{
	db_bind_text(s, 1, f != NULL ? f->status : NULL);
	db_bind_text(s, 2, f != NULL ? f->profile : NULL);
}

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* The sorted variable names of the matching devices into b->names. */
static int export_names(struct db *db, const struct db_export_filter *f,
			struct export_buf *b, char **err)
{
	sqlite3_stmt *s = db_stmt(db, sql_export_names);
	int rc;

	if (s == NULL) {
		db_set_err(db, err, "preparing the export");
		return -1;
	}
	export_bind(s, f);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (export_name_push(b, col(s, 0)) < 0)
			break;
	sqlite3_reset(s);
	if (rc == SQLITE_ROW) {
		*err = db_fmt_err("out of memory");
		return -1;
	}
	if (rc != SQLITE_DONE) {
		db_set_err(db, err, "reading variable names");
		return -1;
	}
	return 0;
}

/* Collect the variables of `mac` from the vars cursor, whose current
 * row (if *vrc is SQLITE_ROW) is the first one not yet consumed. */
static int export_collect(struct db *db, sqlite3_stmt *vs, int *vrc,
			  const char *mac, struct export_buf *b, char **err)
{
	export_vars_clear(b);
	while (*vrc == SQLITE_ROW) {
		int cmp = strcmp(col(vs, 0), mac);

		if (cmp > 0)
			break;
		if (cmp == 0 && export_var_push(b, col(vs, 1),
						col(vs, 2)) < 0) {
			*err = db_fmt_err("out of memory");
			return -1;
		}
		*vrc = sqlite3_step(vs);
	}
	if (*vrc != SQLITE_ROW && *vrc != SQLITE_DONE) {
		db_set_err(db, err, "reading device variables");
		return -1;
	}
	return 0;
}

/* Walk the devices and their variables (both in MAC order) together. */
static int export_rows(struct db *db, const struct db_export_filter *f,
		       int (*row)(void *ctx, const struct db_export_device *d),
		       void *ctx, struct export_buf *b, char **err)
{
	sqlite3_stmt *ds = db_stmt(db, sql_export_devices);
	sqlite3_stmt *vs = db_stmt(db, sql_export_vars);
	int drc, vrc, result = -1;

	if (ds == NULL || vs == NULL) {
		db_set_err(db, err, "preparing the export");
		return -1;
	}
	export_bind(ds, f);
	export_bind(vs, f);
	vrc = sqlite3_step(vs);
	while ((drc = sqlite3_step(ds)) == SQLITE_ROW) {
		struct db_export_device d = {
			.mac = col(ds, 0), .status = col(ds, 1),
			.profile = col(ds, 2), .description = col(ds, 3),
		};

		if (export_collect(db, vs, &vrc, d.mac, b, err) < 0)
			goto out;
		d.vars = b->vars;
		d.n_vars = b->n;
		if (row(ctx, &d) != 0) {
			result = 1;
			goto out;
		}
	}
	if (drc != SQLITE_DONE) {
		db_set_err(db, err, "reading devices");
		goto out;
	}
	result = 0;
out:
	sqlite3_reset(ds);
	sqlite3_reset(vs);
	return result;
}

int db_export_devices(struct db *db, const struct db_export_filter *f,
		      int (*header)(void *ctx, const char *const *var_names,
				    size_t n),
		      int (*row)(void *ctx, const struct db_export_device *d),
		      void *ctx, char **err)
{
	struct export_buf b = { 0 };
	int result = -1;

	/* One read transaction: the header and the rows see one snapshot. */
	if (db_exec_retry(db, "BEGIN", err) < 0)
		return -1;
	if (export_names(db, f, &b, err) < 0)
		goto out;
	if (header(ctx, (const char *const *)b.names, b.n_names) != 0) {
		result = 1;
		goto out;
	}
	result = export_rows(db, f, row, ctx, &b, err);
out:
	sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL);
	export_buf_free(&b);
	return result;
}
