#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db/fleet.h"
#include "db/internal.h"

#define FLEET_ROW_MAX_COLS 8  /* columns of any query in this file */

/* Step s to the end, handing each row to row().  0 or -1. */
static int each_row(struct db *db, sqlite3_stmt *s, db_row_fn row,
		    void *ctx, char **err, const char *what)
{
	const char *names[FLEET_ROW_MAX_COLS], *values[FLEET_ROW_MAX_COLS];
	int ncols = sqlite3_column_count(s), rc = SQLITE_DONE, ret = -1;

	if (ncols > FLEET_ROW_MAX_COLS) {
		*err = db_fmt_err("%s: too many columns", what);
		goto out;
	}
	for (int i = 0; i < ncols; i++)
		names[i] = sqlite3_column_name(s, i);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (int i = 0; i < ncols; i++)
			values[i] = (const char *)sqlite3_column_text(s, i);
		if (row(ctx, ncols, names, values) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_set_err(db, err, what);
		goto out;
	}
	ret = 0;
out:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

/* Changes of the last statement: DB_OK if any, else DB_NOTFOUND. */
static int changed(struct db *db)
{
	return sqlite3_changes(db->sql) > 0 ? DB_OK : DB_NOTFOUND;
}

/* --- device keys ---------------------------------------------------------- */

int db_device_key_get(struct db *db, const char *mac, char **key,
		      char **err)
{
	static const char sql[] = "SELECT key FROM device_keys WHERE mac = ?1";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, mac);
	return db_one_row(db, s, key, 1, err, "reading device key");
}

int db_device_key_set(struct db *db, const char *mac, const char *key,
		      char **err)
{
	/* only for a registered device: no row otherwise */
	static const char sql[] =
		"INSERT INTO device_keys (mac, key, created, updated)"
		" SELECT mac, ?2, ?3, ?3 FROM devices WHERE mac = ?1"
		" ON CONFLICT(mac) DO UPDATE SET key = excluded.key,"
		" updated = excluded.updated";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	char now[32];

	if (s == NULL)
		return DB_ERROR;
	db_timestamp(now);
	db_bind_text(s, 1, mac);
	db_bind_text(s, 2, key);
	db_bind_text(s, 3, now);
	if (db_step_done(db, s, err, "storing device key") < 0)
		return DB_ERROR;
	return changed(db);
}

int db_device_key_remove(struct db *db, const char *mac, char **err)
{
	static const char sql[] = "DELETE FROM device_keys WHERE mac = ?1";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, mac);
	if (db_step_done(db, s, err, "removing device key") < 0)
		return DB_ERROR;
	return changed(db);
}

/* --- firmware targets ----------------------------------------------------- */

int db_firmware_target_get(struct db *db, const char *model, char **version,
			   char **file, char **err)
{
	static const char sql[] =
		"SELECT version, file FROM firmware_targets WHERE model = ?1";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	char *cols[2] = { NULL, NULL };
	int rc;

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, model);
	rc = db_one_row(db, s, cols, 2, err, "reading firmware target");
	if (rc == DB_OK) {
		*version = cols[0];
		*file = cols[1];
	}
	return rc;
}

int db_firmware_target_set(struct db *db, const char *model,
			   const char *version, const char *file, char **err)
{
	static const char sql[] =
		"INSERT INTO firmware_targets (model, version, file, updated)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT(model) DO UPDATE SET"
		" version = excluded.version, file = excluded.file,"
		" updated = excluded.updated";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	char now[32];

	if (s == NULL)
		return DB_ERROR;
	db_timestamp(now);
	db_bind_text(s, 1, model);
	db_bind_text(s, 2, version);
	db_bind_text(s, 3, file);
	db_bind_text(s, 4, now);
	if (db_step_done(db, s, err, "storing firmware target") < 0)
		return DB_ERROR;
	return DB_OK;
}

int db_firmware_target_remove(struct db *db, const char *model, char **err)
{
	static const char sql[] =
		"DELETE FROM firmware_targets WHERE model = ?1";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, model);
	if (db_step_done(db, s, err, "removing firmware target") < 0)
		return DB_ERROR;
	return changed(db);
}

int db_firmware_targets(struct db *db, db_row_fn row, void *ctx, char **err)
{
	static const char sql[] =
		"SELECT model, version, file, updated FROM firmware_targets"
		" ORDER BY model";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return -1;
	return each_row(db, s, row, ctx, err, "listing firmware targets");
}

/* Enabled devices with their model and firmware: the inventory's, else
 * those of the newest ledger row that has them. */
#define FLEET_CTE                                                          \
	"WITH fleet AS (SELECT d.mac AS mac,"                              \
	" coalesce(d.model, (SELECT r.model FROM resyncs AS r"             \
	"  WHERE r.mac = d.mac AND r.model IS NOT NULL"                    \
	"  ORDER BY r.id DESC LIMIT 1)) AS model,"                         \
	" coalesce(d.firmware, (SELECT r.firmware FROM resyncs AS r"       \
	"  WHERE r.mac = d.mac AND r.firmware IS NOT NULL"                 \
	"  ORDER BY r.id DESC LIMIT 1)) AS firmware"                       \
	" FROM devices AS d WHERE d.status = 'enabled') "

int db_firmware_census(struct db *db, db_row_fn row, void *ctx, char **err)
{
	static const char sql[] = FLEET_CTE
		"SELECT coalesce(f.model, '(unknown)') AS model,"
		" coalesce(f.firmware, '(unknown)') AS firmware,"
		" count(*) AS devices, t.version AS target"
		" FROM fleet AS f LEFT JOIN firmware_targets AS t"
		" ON t.model = f.model"
		" GROUP BY f.model, f.firmware"
		" ORDER BY f.model, devices DESC, f.firmware";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return -1;
	return each_row(db, s, row, ctx, err, "firmware census");
}

int db_firmware_behind(struct db *db, long long min_downloads, db_row_fn row,
		       void *ctx, char **err)
{
	static const char sql[] = FLEET_CTE
		"SELECT mac, model, firmware, target, downloads, last_download"
		" FROM (SELECT f.mac AS mac, f.model AS model,"
		"  f.firmware AS firmware, t.version AS target,"
		"  (SELECT count(*) FROM resyncs AS r WHERE r.mac = f.mac"
		"   AND r.outcome = 'firmware' AND r.firmware = f.firmware)"
		"  AS downloads,"
		"  (SELECT max(r.ts) FROM resyncs AS r WHERE r.mac = f.mac"
		"   AND r.outcome = 'firmware') AS last_download"
		"  FROM fleet AS f JOIN firmware_targets AS t"
		"  ON t.model = f.model"
		"  WHERE f.firmware IS NULL OR f.firmware <> t.version)"
		" WHERE downloads >= ?1 ORDER BY model, mac";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, min_downloads);
	return each_row(db, s, row, ctx, err, "devices behind target");
}

/* --- device reports ------------------------------------------------------- */

int db_report_store(struct db *db, const char *mac, const char *ts,
		    const char *listener, const char *remote_addr,
		    const char *body, char **err)
{
	static const char sql[] =
		"INSERT INTO device_reports (mac, ts, listener, remote_addr,"
		" body) SELECT mac, ?2, ?3, ?4, ?5 FROM devices WHERE mac = ?1"
		" ON CONFLICT(mac) DO UPDATE SET ts = excluded.ts,"
		" listener = excluded.listener,"
		" remote_addr = excluded.remote_addr, body = excluded.body";
	sqlite3_stmt *s = db_prepare(db, sql, err);

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, mac);
	db_bind_text(s, 2, ts);
	db_bind_text(s, 3, listener);
	db_bind_text(s, 4, remote_addr);
	db_bind_text(s, 5, body);
	if (db_step_done(db, s, err, "storing device report") < 0)
		return DB_ERROR;
	return changed(db);
}

int db_report_get(struct db *db, const char *mac, char **ts, char **listener,
		  char **body, char **err)
{
	static const char sql[] =
		"SELECT ts, listener, body FROM device_reports WHERE mac = ?1";
	sqlite3_stmt *s = db_prepare(db, sql, err);
	char *cols[3] = { NULL, NULL, NULL };
	int rc;

	if (s == NULL)
		return DB_ERROR;
	db_bind_text(s, 1, mac);
	rc = db_one_row(db, s, cols, 3, err, "reading device report");
	if (rc == DB_OK) {
		*ts = cols[0];
		*listener = cols[1];
		*body = cols[2];
	}
	return rc;
}
