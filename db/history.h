/* db history: reading the ledger for spaprovctl: filtered history,
 * statistics, and the time arguments both take.
 *
 * Rows come back through a callback with the column names and values as
 * text (a value is NULL for SQL NULL); the column names are the ones
 * listed at each function, in that order.  The callback returns 0 to go
 * on, anything else to stop. */
#ifndef SPAPROV_DB_HISTORY_H
#define SPAPROV_DB_HISTORY_H

#include <time.h>

#include "db/db.h"

#define DB_HISTORY_DEFAULT_LIMIT 100
#define DB_HISTORY_MAX_LIMIT 1000000
#define DB_TIME_MAX_ARG 32          /* longest time argument accepted */
#define DB_TIME_MAX_RELATIVE 36500  /* days back a relative time may go */

typedef int (*db_row_fn)(void *ctx, int ncols, const char *const *names,
			 const char *const *values);

/* Filters of db_history_find(); NULL / 0 = no filter. */
struct db_history_query {
	const char *mac;            /* 12 lower-case hex digits */
	const char *since, *until;  /* ledger times: since <= ts < until */
	int status;                 /* HTTP status */
	const char *outcome, *listener;
	int limit;                  /* most recent N; <= 0: the default */
};

/* The most recent matching requests, newest first.  Columns: id, ts, mac,
 * description, listener, status, outcome, model, firmware, tls_version,
 * cipher, remote_addr, path, detail.  Returns 0 or -1 with *err. */
int db_history_find(struct db *db, const struct db_history_query *q,
		    db_row_fn row, void *ctx, char **err);

/* DB_OK if any request from this MAC is recorded, else DB_NOTFOUND (or
 * DB_ERROR with *err). */
int db_history_seen(struct db *db, const char *mac, char **err);

/* The listener and CA (malloc'd) of the newest request recorded for this
 * MAC: DB_OK, DB_NOTFOUND, or DB_ERROR with *err. */
int db_history_last_listener(struct db *db, const char *mac,
			     char **listener, char **ca, char **err);

/* The sections of `spaprovctl stats`, each one query.  `since` (a ledger
 * time, or NULL for everything) applies to the requests' and handshakes'
 * ts and to the devices' last_seen. */
enum db_stats {
	/* devices: model, firmware, devices, last_seen */
	DB_STATS_FIRMWARE,
	/* resyncs: listener, tls_version, cipher, resyncs, devices */
	DB_STATS_TLS,
	/* resyncs, UTC days with failures: day, requests, failures, spoofs */
	DB_STATS_FAILURES,
	/* outcome untrusted-certificate: issuer, requests, addresses,
	 * verify, first, last */
	DB_STATS_ISSUERS,
	/* handshake_failures: listener, error, failures, addresses, last */
	DB_STATS_HANDSHAKES,
	DB_STATS__COUNT
};

int db_stats(struct db *db, enum db_stats which, const char *since,
	     db_row_fn row, void *ctx, char **err);

/* A time argument as a ledger time ("2026-11-23T10:00:00.000Z", UTC):
 * "2026-11-23", "2026-11-23T10:00", "2026-11-23 10:00:30" (UTC, optional
 * trailing 'Z'), or relative to now: "90s", "30m", "2h", "7d", "2w".
 * Returns 0, or -1 with *err. */
int db_time_arg(const char *text, time_t now, char out[32], char **err);

#endif
