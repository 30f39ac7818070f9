/* db: all SQL of spaprov.  One handle per thread; every query is a
 * prepared statement with bound parameters, prepared once per handle.
 *
 * Results separate "no row" from "error": DB_OK, DB_NOTFOUND, DB_EXISTS,
 * DB_ERROR.  SQLITE_BUSY is waited on (busy timeout) and retried for up
 * to 30 s; only a lock held longer than that becomes an error (and the
 * phone a 503: never a 200 without its row). */
#ifndef SPAPROV_DB_H
#define SPAPROV_DB_H

#include <stddef.h>

enum db_rc { DB_OK = 0, DB_NOTFOUND = 1, DB_EXISTS = 2, DB_ERROR = -1 };

#define DB_MAX_VARS 256          /* variables per device */
#define DB_MAX_VALUE 4096        /* bytes per variable value */

struct db;

/* Open (creating if needed) and bring the schema up to date.  Journal mode
 * WAL, foreign keys on.  Returns 0 or -1 with *err. */
int db_open(const char *path, unsigned busy_timeout_ms, struct db **out,
	    char **err);
/* Open an existing database for reading and writing without migrating;
 * fails if its schema is older or newer than this program's. */
int db_open_existing(const char *path, unsigned busy_timeout_ms,
		     struct db **out, char **err);
void db_close(struct db *db);
int db_schema_version(struct db *db);

/* UTC "2026-11-23T15:04:05.123Z" (24 chars + NUL). */
void db_timestamp(char out[32]);

/* --- inventory ----------------------------------------------------------- */
struct db_var {
	char *name;
	char *value;
};

struct db_device {
	char mac[13];
	char status[12];         /* enabled | disabled | pending */
	char *profile;           /* NULL if none */
	char *description;
	char *model, *serial, *firmware, *cert_issuer, *cert_subject;
	char *created, *updated, *last_seen;
	struct db_var *vars;     /* sorted by name */
	size_t n_vars;
	char *pin_fingerprint;   /* pinned certificate (db/pin.h), or NULL */
};

int db_device_get(struct db *db, const char *mac, struct db_device **out,
		  char **err);
void db_device_free(struct db_device *dev);

/* Insert an enabled device with its variables (one transaction).
 * DB_EXISTS if the MAC is already registered. */
int db_device_add(struct db *db, const char *mac, const char *profile,
		  const char *description, const struct db_var *vars,
		  size_t n_vars, char **err);

/* --- profiles ------------------------------------------------------------ */
/* *body is malloc'd. */
int db_profile_get(struct db *db, const char *name, char **body, char **err);
int db_profile_set(struct db *db, const char *name, const char *body,
		   char **err);

/* --- the ledger ---------------------------------------------------------- */
/* One request on a provisioning listener.  NULL strings are stored as NULL. */
struct db_resync {
	char ts[32];
	const char *listener, *ca, *remote_addr;
	const char *mac, *cert_subject, *cert_issuer, *cert_serial, *verify;
	const char *tls_version, *cipher, *user_agent, *model, *firmware;
	const char *method, *path;
	int status;
	long long bytes;
	double duration_ms;
	const char *outcome, *detail, *ua_mac;
	int ua_mismatch;
	int tls_resumed;         /* 1: the TLS session was resumed */
	const char *trust;       /* NULL: mac from the certificate (or none);
				    "url-mac": only from the URL */
	/* inventory bookkeeping done in the same transaction */
	int seen;                /* device exists: update last_seen etc. */
	int add_pending;         /* unknown device: insert as pending */
	const char *serial;      /* for add_pending / seen */
	int pin;                 /* pin `fingerprint` for mac if none is */
	const char *fingerprint; /* of the client certificate */
};

/* A handshake that never reached HTTP. */
struct db_hsfail {
	char ts[32];
	const char *listener, *ca, *remote_addr, *error, *client_hello;
};

/* Write rows in one transaction (group commit), retrying while busy.
 * Returns 0 or -1 with *err (nothing written). */
int db_ledger_write(struct db *db, struct db_resync *const *rows, size_t n,
		    struct db_hsfail *const *fails, size_t n_fails,
		    char **err);

/* Delete at most `limit` resyncs and handshake failures older than the
 * timestamp `before` (same format as db_timestamp), oldest first, in one
 * short transaction.  Returns the number deleted or -1 with *err. */
long long db_prune(struct db *db, const char *before, int limit, char **err);

/* --- reading the history (spaprovctl) ------------------------------------ */
struct db_history_filter {
	const char *mac;         /* NULL = all */
	int limit;               /* most recent N, <= 0 = 100 */
};

/* Calls row() for each row of resync_history, newest first, with column
 * names and values (values may be NULL).  row() returns 0 to go on. */
int db_history(struct db *db, const struct db_history_filter *f,
	       int (*row)(void *ctx, int ncols, const char *const *names,
			  const char *const *values),
	       void *ctx, char **err);

#endif
