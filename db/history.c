#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "db/history.h"
#include "db/internal.h"

#define HISTORY_MAX_SQL 1024  /* the history query with every filter */
#define ROW_MAX_COLS 16       /* columns of any query in this file */

/* Step s to the end, handing each row to row(); resets s.  0 or -1. */
static int each_row(struct db *db, sqlite3_stmt *s, db_row_fn row,
		    void *ctx, char **err, const char *what)
{
	const char *names[ROW_MAX_COLS], *values[ROW_MAX_COLS];
	int ncols = sqlite3_column_count(s), rc, result = -1;

	if (ncols > ROW_MAX_COLS) {
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
	result = 0;
out:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return result;
}

/* --- history ---------------------------------------------------------------
 * The WHERE clause holds only the filters given, so that SQLite can use
 * the (mac, ts) and ts indexes; values are always bound. */

static const char history_select[] =
	"SELECT r.id AS id, r.ts AS ts, r.mac AS mac,"
	" d.description AS description, r.listener AS listener,"
	" r.status AS status, r.outcome AS outcome, r.model AS model,"
	" r.firmware AS firmware, r.tls_version AS tls_version,"
	" r.cipher AS cipher, r.remote_addr AS remote_addr, r.path AS path,"
	" r.detail AS detail"
	" FROM resyncs AS r LEFT JOIN devices AS d ON d.mac = r.mac"
	" WHERE 1";

/* Parameter numbers of the filters. */
enum { P_MAC = 1, P_SINCE, P_UNTIL, P_STATUS, P_OUTCOME, P_LISTENER,
       P_LIMIT };

static void history_sql(const struct db_history_query *q, char *sql,
			size_t size)
{
	snprintf(sql, size, "%s%s%s%s%s%s%s"
		 " ORDER BY r.ts DESC, r.id DESC LIMIT ?7", history_select,
		 q->mac != NULL ? " AND r.mac = ?1" : "",
		 q->since != NULL ? " AND r.ts >= ?2" : "",
		 q->until != NULL ? " AND r.ts < ?3" : "",
		 q->status != 0 ? " AND r.status = ?4" : "",
		 q->outcome != NULL ? " AND r.outcome = ?5" : "",
		 q->listener != NULL ? " AND r.listener = ?6" : "");
}

int db_history_find(struct db *db, const struct db_history_query *q,
		    db_row_fn row, void *ctx, char **err)
{
	char sql[HISTORY_MAX_SQL];
	sqlite3_stmt *s = NULL;
	int result = -1;

	history_sql(q, sql, sizeof(sql));
	if (sqlite3_prepare_v2(db->sql, sql, -1, &s, NULL) != SQLITE_OK) {
		db_set_err(db, err, "preparing history query");
		goto out;
	}
	db_bind_text(s, P_MAC, q->mac);
	db_bind_text(s, P_SINCE, q->since);
	db_bind_text(s, P_UNTIL, q->until);
	sqlite3_bind_int(s, P_STATUS, q->status);
	db_bind_text(s, P_OUTCOME, q->outcome);
	db_bind_text(s, P_LISTENER, q->listener);
	sqlite3_bind_int(s, P_LIMIT, q->limit > 0 ? q->limit
				     : DB_HISTORY_DEFAULT_LIMIT);
	result = each_row(db, s, row, ctx, err, "reading history");
out:
	sqlite3_finalize(s);
	return result;
}

int db_history_seen(struct db *db, const char *mac, char **err)
{
	static const char sql[] =
		"SELECT 1 FROM resyncs WHERE mac = ?1 LIMIT 1";
	sqlite3_stmt *s = db_stmt(db, sql);
	int rc;

	if (s == NULL) {
		db_set_err(db, err, "preparing history query");
		return DB_ERROR;
	}
	db_bind_text(s, 1, mac);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return DB_OK;
	if (rc == SQLITE_DONE)
		return DB_NOTFOUND;
	db_set_err(db, err, "reading history");
	return DB_ERROR;
}

int db_history_last_listener(struct db *db, const char *mac,
			     char **listener, char **ca, char **err)
{
	static const char sql[] =
		"SELECT listener, ca FROM resyncs WHERE mac = ?1"
		" ORDER BY ts DESC, id DESC LIMIT 1";
	sqlite3_stmt *s = db_stmt(db, sql);
	int rc, result = DB_ERROR;

	if (s == NULL) {
		db_set_err(db, err, "preparing history query");
		return DB_ERROR;
	}
	db_bind_text(s, 1, mac);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		result = DB_NOTFOUND;
	} else if (rc != SQLITE_ROW) {
		db_set_err(db, err, "reading history");
	} else {
		*listener = db_col_dup(s, 0);
		*ca = db_col_dup(s, 1);
		if (*listener == NULL || *ca == NULL) {
			free(*listener);
			free(*ca);
			*listener = *ca = NULL;
			*err = db_fmt_err("out of memory");
		} else {
			result = DB_OK;
		}
	}
	sqlite3_reset(s);
	return result;
}

/* --- statistics ------------------------------------------------------------
 * ?1 is the start time, '' for everything (every ts sorts after ''). */

static const char *const stats_sql[DB_STATS__COUNT] = {
	[DB_STATS_FIRMWARE] =
	"SELECT model, firmware, count(*) AS devices,"
	" max(last_seen) AS last_seen FROM devices"
	" WHERE ?1 = '' OR last_seen >= ?1"
	" GROUP BY model, firmware"
	" ORDER BY model IS NULL, model, devices DESC, firmware",
	[DB_STATS_TLS] =
	"SELECT listener, tls_version, cipher, count(*) AS resyncs,"
	" count(DISTINCT mac) AS devices FROM resyncs WHERE ts >= ?1"
	" GROUP BY listener, tls_version, cipher"
	" ORDER BY listener, resyncs DESC, tls_version, cipher",
	[DB_STATS_FAILURES] =
	"SELECT substr(ts, 1, 10) AS day, count(*) AS requests,"
	" sum(status <> 200) AS failures,"
	" sum(outcome = 'spoof') AS spoofs FROM resyncs WHERE ts >= ?1"
	" GROUP BY day HAVING failures > 0 ORDER BY day",
	[DB_STATS_ISSUERS] =
	"SELECT cert_issuer AS issuer, count(*) AS requests,"
	" count(DISTINCT remote_addr) AS addresses,"
	" group_concat(DISTINCT verify) AS verify, min(ts) AS first,"
	" max(ts) AS last FROM resyncs"
	" WHERE ts >= ?1 AND outcome = 'untrusted-certificate'"
	" GROUP BY cert_issuer ORDER BY requests DESC, issuer",
	[DB_STATS_HANDSHAKES] =
	"SELECT listener, error, count(*) AS failures,"
	" count(DISTINCT remote_addr) AS addresses, max(ts) AS last"
	" FROM handshake_failures WHERE ts >= ?1"
	" GROUP BY listener, error ORDER BY listener, failures DESC, error",
};

int db_stats(struct db *db, enum db_stats which, const char *since,
	     db_row_fn row, void *ctx, char **err)
{
	sqlite3_stmt *s;

	if ((unsigned)which >= DB_STATS__COUNT) {
		*err = db_fmt_err("no such statistics section");
		return -1;
	}
	if ((s = db_stmt(db, stats_sql[which])) == NULL) {
		db_set_err(db, err, "preparing statistics query");
		return -1;
	}
	db_bind_text(s, 1, since != NULL ? since : "");
	return each_row(db, s, row, ctx, err, "reading statistics");
}

/* --- time arguments ------------------------------------------------------- */

/* n digits at *p into *v; advances *p.  0 or -1. */
static int digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

/* "YYYY-MM-DD[(T| )HH:MM[:SS]][Z]" into *t.  0 or -1. */
static int parse_absolute(const char *p, time_t *t)
{
	struct tm tm = { 0 }, back;
	int y, mo, d, h = 0, mi = 0, s = 0;

	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || digits(&p, 2, &d) < 0)
		return -1;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) < 0 || *p++ != ':' ||
		    digits(&p, 2, &mi) < 0)
			return -1;
		if (*p == ':' && (p++, digits(&p, 2, &s) < 0))
			return -1;
	}
	if (*p == 'Z')
		p++;
	if (*p != '\0' || y < 1970 || h > 23 || mi > 59 || s > 59)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	*t = timegm(&tm);
	/* timegm() normalises 2026-02-30: refuse what it had to change */
	if (gmtime_r(t, &back) == NULL || back.tm_mon != mo - 1 ||
	    back.tm_mday != d)
		return -1;
	return 0;
}

/* "<N><unit>", unit s m h d w: now minus that.  0 or -1. */
static int parse_relative(const char *p, time_t now, time_t *t)
{
	static const struct { char unit; long long secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 7 * 86400 },
	};
	long long n = 0;
	const char *start = p;

	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > (long long)DB_TIME_MAX_RELATIVE * 86400)
			return -1;
	}
	if (p == start || p[0] == '\0' || p[1] != '\0')
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].unit != *p)
			continue;
		if (n * units[i].secs > (long long)DB_TIME_MAX_RELATIVE * 86400)
			return -1;
		*t = now - (time_t)(n * units[i].secs);
		return 0;
	}
	return -1;
}

int db_time_arg(const char *text, time_t now, char out[32], char **err)
{
	struct tm tm;
	time_t t;

	if (strlen(text) > DB_TIME_MAX_ARG ||
	    (parse_absolute(text, &t) < 0 &&
	     parse_relative(text, now, &t) < 0) ||
	    gmtime_r(&t, &tm) == NULL) {
		*err = db_fmt_err("'%.*s': expected a UTC date or time "
				  "(2026-11-23, 2026-11-23T10:00) or an age "
				  "(30m, 2h, 7d, 2w)", DB_TIME_MAX_ARG, text);
		return -1;
	}
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	return 0;
}
