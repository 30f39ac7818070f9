#include "config.h"

/* db/admin_views: the read queries behind the web admin's pages: a
 * filtered, sorted page of the inventory, the ledger page, and the
 * dashboard's lists.  Every filter is a bound parameter; the only SQL
 * chosen at run time is one of the fixed ORDER BY variants below. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db/admin.h"
#include "db/admin_internal.h"
#include "db/internal.h"

/* --- the device page ----------------------------------------------------- */

#define DEVICE_WHERE                                                        \
	" FROM devices d WHERE (?1 IS NULL OR d.status = ?1)"              \
	" AND (?2 IS NULL OR d.profile = ?2)"                              \
	" AND (?3 IS NULL OR d.model = ?3 COLLATE NOCASE)"                 \
	" AND (?4 IS NULL OR d.firmware = ?4)"                             \
	" AND (?5 IS NULL OR d.mac = ?5)"                                  \
	" AND ((?6 IS NULL AND ?7 IS NULL)"                                \
	"  OR (?6 IS NOT NULL AND instr(d.mac, ?6) > 0)"                   \
	"  OR (?7 IS NOT NULL AND (instr(lower(d.description), lower(?7)) > 0" \
	"   OR EXISTS (SELECT 1 FROM device_vars v WHERE v.mac = d.mac"    \
	"    AND instr(lower(v.value), lower(?7)) > 0))))"                 \
	" AND (?8 IS NULL OR d.last_seen IS NULL OR d.last_seen < ?8)"

#define DEVICE_PAGE(order)                                                  \
	"SELECT d.mac AS mac, d.status AS status, d.profile AS profile,"    \
	" d.description AS description, d.model AS model,"                 \
	" d.serial AS serial, d.firmware AS firmware,"                     \
	" d.last_seen AS last_seen, (SELECT count(*) FROM device_vars v"   \
	" WHERE v.mac = d.mac) AS vars" DEVICE_WHERE " ORDER BY " order    \
	" LIMIT ?9 OFFSET ?10"

/* [sort][descending] */
static const char *const device_page_sql[DB_ADMIN_SORT__COUNT][2] = {
	[DB_ADMIN_SORT_MAC] = { DEVICE_PAGE("d.mac"),
				DEVICE_PAGE("d.mac DESC") },
	[DB_ADMIN_SORT_STATUS] = { DEVICE_PAGE("d.status, d.mac"),
				   DEVICE_PAGE("d.status DESC, d.mac") },
	[DB_ADMIN_SORT_MODEL] = { DEVICE_PAGE("d.model, d.mac"),
				  DEVICE_PAGE("d.model DESC, d.mac") },
	[DB_ADMIN_SORT_FIRMWARE] = { DEVICE_PAGE("d.firmware, d.mac"),
				     DEVICE_PAGE("d.firmware DESC, d.mac") },
	[DB_ADMIN_SORT_PROFILE] = { DEVICE_PAGE("d.profile, d.mac"),
				    DEVICE_PAGE("d.profile DESC, d.mac") },
	[DB_ADMIN_SORT_DESCRIPTION] = {
		DEVICE_PAGE("d.description, d.mac"),
		DEVICE_PAGE("d.description DESC, d.mac") },
	[DB_ADMIN_SORT_LAST_SEEN] = {
		DEVICE_PAGE("d.last_seen, d.mac"),
		DEVICE_PAGE("d.last_seen DESC, d.mac") },
};

static const char device_count_sql[] = "SELECT count(*)" DEVICE_WHERE;

static void bind_device_filter(sqlite3_stmt *s,
			       const struct db_admin_device_query *q)
{
	db_bind_text(s, 1, q->status);
	db_bind_text(s, 2, q->profile);
	db_bind_text(s, 3, q->model);
	db_bind_text(s, 4, q->firmware);
	db_bind_text(s, 5, q->mac);
	db_bind_text(s, 6, q->mac_part);
	db_bind_text(s, 7, q->text);
	db_bind_text(s, 8, q->not_seen_since);
}

static int device_count(struct db *db, const struct db_admin_device_query *q,
			long long *total, char **err)
{
	sqlite3_stmt *s = db_stmt(db, device_count_sql);
	int rc;

	if (s == NULL) {
		db_set_err(db, err, "preparing device count");
		return -1;
	}
	bind_device_filter(s, q);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*total = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		db_set_err(db, err, "counting devices");
		return -1;
	}
	return 0;
}

int db_admin_device_page(struct db *db, const struct db_admin_device_query *q,
			 db_admin_row_fn row, void *ctx, long long *total,
			 char **err)
{
	unsigned sort = (unsigned)q->sort < DB_ADMIN_SORT__COUNT
				? (unsigned)q->sort : DB_ADMIN_SORT_MAC;
	sqlite3_stmt *s = db_stmt(db, device_page_sql[sort][q->descending != 0]);
	int ret = -1;

	if (s == NULL) {
		db_set_err(db, err, "preparing device page");
		return -1;
	}
	/* one read snapshot for the count and the page */
	if (db_exec_retry(db, "BEGIN", err) < 0)
		return -1;
	if (device_count(db, q, total, err) < 0)
		goto out;
	bind_device_filter(s, q);
	sqlite3_bind_int64(s, 9, q->limit > 0 ? q->limit : 50);
	sqlite3_bind_int64(s, 10, q->offset > 0 ? q->offset : 0);
	ret = db_admin_rows(db, s, row, ctx, err, "reading devices");
out:
	sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL);
	return ret;
}

/* --- the ledger page ----------------------------------------------------- */

#define HISTORY_SQL(mac_cond)                                               \
	"SELECT r.id AS id, r.ts AS ts, r.listener AS listener, r.ca AS ca,"\
	" r.remote_addr AS remote_addr, r.mac AS mac,"                     \
	" d.description AS description, r.status AS status,"               \
	" r.outcome AS outcome, r.detail AS detail, r.model AS model,"     \
	" r.firmware AS firmware, r.tls_version AS tls_version,"           \
	" r.cipher AS cipher, r.user_agent AS user_agent,"                 \
	" r.method AS method, r.path AS path, r.verify AS verify,"         \
	" r.cert_subject AS cert_subject, r.cert_issuer AS cert_issuer,"   \
	" r.duration_ms AS duration_ms, r.bytes AS bytes"                  \
	" FROM resyncs r LEFT JOIN devices d ON d.mac = r.mac"             \
	" WHERE " mac_cond                                                 \
	" AND (?2 IS NULL OR r.listener = ?2)"                             \
	" AND (?3 IS NULL OR r.outcome = ?3)"                              \
	" AND (?4 = 0 OR r.status = ?4)"                                   \
	" AND (?5 IS NULL OR r.ts >= ?5) AND (?6 IS NULL OR r.ts < ?6)"    \
	" AND (?7 <= 0 OR r.id < ?7) ORDER BY r.id DESC LIMIT ?8"

int db_admin_history(struct db *db, const struct db_admin_history_query *q,
		     db_admin_row_fn row, void *ctx, char **err)
{
	/* with a MAC the (mac, ts) index finds the phone's rows */
	static const char by_mac[] = HISTORY_SQL("r.mac = ?1");
	static const char all[] = HISTORY_SQL("?1 IS NULL");
	sqlite3_stmt *s = db_stmt(db, q->mac != NULL ? by_mac : all);

	if (s == NULL) {
		db_set_err(db, err, "preparing history page");
		return -1;
	}
	db_bind_text(s, 1, q->mac);
	db_bind_text(s, 2, q->listener);
	db_bind_text(s, 3, q->outcome);
	sqlite3_bind_int(s, 4, q->status);
	db_bind_text(s, 5, q->since);
	db_bind_text(s, 6, q->until);
	sqlite3_bind_int64(s, 7, q->before_id);
	sqlite3_bind_int(s, 8, q->limit > 0 ? q->limit : 100);
	return db_admin_rows(db, s, row, ctx, err, "reading history");
}

/* --- the dashboard ------------------------------------------------------- */

static const char *const dash_sql[DB_ADMIN_DASH__COUNT] = {
	[DB_ADMIN_DASH_LISTENERS] =
	"SELECT listener, count(*) AS resyncs, sum(status = 200) AS ok"
	" FROM resyncs WHERE ts >= ?1 GROUP BY listener ORDER BY listener",
	[DB_ADMIN_DASH_HOURLY] =
	"SELECT substr(ts, 1, 13) AS hour, outcome, count(*) AS resyncs"
	" FROM resyncs WHERE ts >= ?1 GROUP BY hour, outcome"
	" ORDER BY hour, outcome",
	[DB_ADMIN_DASH_STALE] =
	"SELECT mac, description, model, firmware, last_seen FROM devices"
	" WHERE status = 'enabled' AND (last_seen IS NULL OR last_seen < ?1)"
	" ORDER BY last_seen IS NOT NULL, last_seen, mac LIMIT 100",
	[DB_ADMIN_DASH_SPOOFS] =
	"SELECT ts, listener, remote_addr, mac, detail, user_agent"
	" FROM resyncs WHERE outcome = 'spoof' AND ts >= ?1"
	" ORDER BY ts DESC LIMIT 20",
	[DB_ADMIN_DASH_HANDSHAKES] =
	"SELECT ts, listener, remote_addr, error, client_hello"
	" FROM handshake_failures WHERE ts >= ?1 ORDER BY ts DESC LIMIT 20",
	[DB_ADMIN_DASH_STATUS] =
	"SELECT status, count(*) AS devices FROM devices"
	" GROUP BY status ORDER BY status",
	[DB_ADMIN_DASH_PINS] =
	"SELECT ts, mac, listener, remote_addr, outcome, status, cert_serial,"
	" cert_issuer, detail FROM resyncs WHERE ts >= ?1"
	" AND (outcome = 'pin-mismatch'"
	"  OR substr(detail, 1, 19) = 'certificate changed')"
	" ORDER BY ts DESC LIMIT 20",
};

int db_admin_dashboard(struct db *db, enum db_admin_dash which,
		       const char *since, db_admin_row_fn row, void *ctx,
		       char **err)
{
	sqlite3_stmt *s;

	if ((unsigned)which >= DB_ADMIN_DASH__COUNT) {
		*err = db_fmt_err("unknown dashboard query %d", (int)which);
		return -1;
	}
	if ((s = db_stmt(db, dash_sql[which])) == NULL) {
		db_set_err(db, err, "preparing dashboard query");
		return -1;
	}
	if (sqlite3_bind_parameter_count(s) > 0)
		db_bind_text(s, 1, since != NULL ? since : "");
	return db_admin_rows(db, s, row, ctx, err, "reading dashboard");
}

int db_admin_stale_count(struct db *db, const char *since, long long *n,
			 char **err)
{
	static const char sql[] =
		"SELECT count(*) FROM devices WHERE status = 'enabled'"
		" AND (last_seen IS NULL OR last_seen < ?1)";
	sqlite3_stmt *s = db_stmt(db, sql);
	int rc;

	if (s == NULL) {
		db_set_err(db, err, "preparing stale count");
		return -1;
	}
	db_bind_text(s, 1, since);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		db_set_err(db, err, "counting stale devices");
		return -1;
	}
	return 0;
}
