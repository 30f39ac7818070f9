/* db/admin: the web admin's tables (schema/0002-admin.sql): accounts,
 * API tokens, login sessions, login throttling and the audit trail, and
 * the read queries behind the admin pages that no other db file has
 * (a sortable device page, the ledger page, the dashboard lists).
 *
 * Secrets never reach this file in clear: accounts store a crypt(3)
 * hash, tokens and session ids their SHA-256 in hex. */
#ifndef SPAPROV_DB_ADMIN_H
#define SPAPROV_DB_ADMIN_H

#include <stddef.h>

#include "db/db.h"

#define DB_ADMIN_MAX_NAME 64     /* account name bytes */
#define DB_ADMIN_HEX_LEN 64      /* SHA-256 / random ids in hex */

/* Rows handed to callbacks: column names and values as text (NULL for
 * SQL NULL), valid during the call only.  Return 0 to go on. */
typedef int (*db_admin_row_fn)(void *ctx, int ncols,
			       const char *const *names,
			       const char *const *values);

/* --- accounts ------------------------------------------------------------ */
/* DB_EXISTS if the name is taken. */
int db_admin_account_add(struct db *db, const char *name, const char *hash,
			 char **err);
/* New password hash; the account's sessions end.  DB_NOTFOUND. */
int db_admin_account_passwd(struct db *db, const char *name,
			    const char *hash, char **err);
/* Removes the account, its tokens and sessions.  DB_NOTFOUND. */
int db_admin_account_rm(struct db *db, const char *name, char **err);
/* Columns: name, created, updated, last_login, tokens, sessions. */
int db_admin_account_list(struct db *db, db_admin_row_fn row, void *ctx,
			  char **err);
/* *hash malloc'd.  DB_OK, DB_NOTFOUND or DB_ERROR. */
int db_admin_account_hash(struct db *db, const char *name, char **hash,
			  char **err);
int db_admin_account_logged_in(struct db *db, const char *name,
			       const char *now, char **err);

/* --- API tokens ---------------------------------------------------------- */
int db_admin_token_add(struct db *db, const char *account,
		       const char *hash_hex, char **err);
/* The account owning the token with this hash (account must hold
 * DB_ADMIN_MAX_NAME + 1 bytes); records its use.  DB_NOTFOUND. */
int db_admin_token_find(struct db *db, const char *hash_hex,
			const char *now, char *account, char **err);

/* --- sessions ------------------------------------------------------------ */
struct db_admin_session {
	char account[DB_ADMIN_MAX_NAME + 1];
	char csrf[DB_ADMIN_HEX_LEN + 1];
	char expires[32];
};

int db_admin_session_add(struct db *db, const char *id_hash,
			 const char *account, const char *csrf,
			 const char *now, const char *expires,
			 const char *remote_addr, char **err);
/* The session with this id hash that has not expired at `now`.
 * DB_NOTFOUND when there is none (or it expired). */
int db_admin_session_get(struct db *db, const char *id_hash,
			 const char *now, struct db_admin_session *out,
			 char **err);
int db_admin_session_rm(struct db *db, const char *id_hash, char **err);
/* Forget expired sessions and throttle entries idle since `stale`. */
int db_admin_prune(struct db *db, const char *now, const char *stale,
		   char **err);

/* --- login throttling ---------------------------------------------------- */
/* DB_OK when `key` is not locked at `now`; DB_EXISTS when it is, with
 * locked_until (32 bytes) filled. */
int db_admin_throttle_check(struct db *db, const char *key, const char *now,
			    char *locked_until, char **err);
/* Count a failure; *failures receives the count including this one.
 * The caller decides from it whether to lock the key: */
int db_admin_throttle_fail(struct db *db, const char *key, const char *now,
			   long long *failures, char **err);
int db_admin_throttle_lock(struct db *db, const char *key,
			   const char *locked_until, char **err);
int db_admin_throttle_clear(struct db *db, const char *key, char **err);
/* Take back one counted failure (a login counted before its password
 * was tried, that then succeeded); never below 0, a lock stays. */
int db_admin_throttle_forgive(struct db *db, const char *key, char **err);

/* --- health ------------------------------------------------------------- */
/* Can this connection write?  BEGIN IMMEDIATE (takes the write lock,
 * waiting at most wait_ms for another writer) then ROLLBACK; the busy
 * timeout is then set back to restore_ms.  DB_OK, or DB_ERROR with
 * *err = the reason (e.g. "database is locked", "attempt to write a
 * readonly database"). */
int db_admin_writable(struct db *db, unsigned wait_ms, unsigned restore_ms,
		      char **err);

/* --- audit --------------------------------------------------------------- */
/* account, remote_addr, target, detail may be NULL. */
int db_admin_audit(struct db *db, const char *account,
		   const char *remote_addr, const char *action,
		   const char *target, const char *detail, char **err);
/* Newest first, ids below before_id (0: from the newest), at most limit.
 * Columns: id, ts, account, remote_addr, action, target, detail. */
int db_admin_audit_list(struct db *db, long long before_id, int limit,
			db_admin_row_fn row, void *ctx, char **err);

/* --- the device page ----------------------------------------------------- */
enum db_admin_sort {
	DB_ADMIN_SORT_MAC = 0,
	DB_ADMIN_SORT_STATUS,
	DB_ADMIN_SORT_MODEL,
	DB_ADMIN_SORT_FIRMWARE,
	DB_ADMIN_SORT_PROFILE,
	DB_ADMIN_SORT_DESCRIPTION,
	DB_ADMIN_SORT_LAST_SEEN,
	DB_ADMIN_SORT__COUNT
};

/* NULL members do not filter. */
struct db_admin_device_query {
	const char *status, *profile, *model, *firmware;
	const char *mac;            /* 12 hex digits: that device exactly */
	const char *mac_part;       /* hex digits: a part of the MAC */
	const char *text;           /* in the description or a value */
	const char *not_seen_since; /* last_seen before this time, or never */
	enum db_admin_sort sort;
	int descending;
	long long limit, offset;
};

/* The page of devices, and *total matching ones, in one snapshot.
 * Columns: mac, status, profile, description, model, serial, firmware,
 * last_seen, vars. */
int db_admin_device_page(struct db *db, const struct db_admin_device_query *q,
			 db_admin_row_fn row, void *ctx, long long *total,
			 char **err);

/* --- the ledger page ----------------------------------------------------- */
struct db_admin_history_query {
	const char *mac, *listener, *outcome;
	int status;                 /* 0 = any */
	const char *since, *until;  /* since <= ts < until */
	long long before_id;        /* 0 = from the newest */
	int limit;
};

/* Newest first.  Columns: id, ts, listener, ca, remote_addr, mac,
 * description, status, outcome, detail, model, firmware, tls_version,
 * cipher, user_agent, method, path, verify, cert_subject, cert_issuer,
 * duration_ms, bytes. */
int db_admin_history(struct db *db, const struct db_admin_history_query *q,
		     db_admin_row_fn row, void *ctx, char **err);

/* --- the dashboard ------------------------------------------------------- */
/* (The firmware census, TLS mix, untrusted issuers and handshake failure
 * counts are db_stats() in db/history.h.) */
enum db_admin_dash {
	/* since: listener, resyncs, ok */
	DB_ADMIN_DASH_LISTENERS,
	/* since: hour ("2026-11-23T15"), outcome, resyncs */
	DB_ADMIN_DASH_HOURLY,
	/* enabled devices last seen before since, or never: mac, description,
	 * model, firmware, last_seen (at most 100) */
	DB_ADMIN_DASH_STALE,
	/* the newest spoof attempts since: ts, listener, remote_addr, mac,
	 * detail, user_agent (at most 20) */
	DB_ADMIN_DASH_SPOOFS,
	/* the newest failed handshakes since: ts, listener, remote_addr,
	 * error, client_hello (at most 20) */
	DB_ADMIN_DASH_HANDSHAKES,
	/* devices by status: status, devices */
	DB_ADMIN_DASH_STATUS,
	/* the newest pin mismatches since (outcome pin-mismatch, or a
	 * warning detail "certificate changed..."): ts, mac, listener,
	 * remote_addr, outcome, status, cert_serial, cert_issuer, detail
	 * (at most 20) */
	DB_ADMIN_DASH_PINS,
	DB_ADMIN_DASH__COUNT
};

int db_admin_dashboard(struct db *db, enum db_admin_dash which,
		       const char *since, db_admin_row_fn row, void *ctx,
		       char **err);
/* Enabled devices not seen since `since` (or never). */
int db_admin_stale_count(struct db *db, const char *since, long long *n,
			 char **err);

#endif
