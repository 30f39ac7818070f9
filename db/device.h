/* db/device: the inventory queries behind `spaprovctl device`: change,
 * remove, change status, list with filters, and a device's last resync.
 * (db_device_get and db_device_add are in db/db.h.)
 *
 * Results are the db_rc values plus DB_INVALID: the change breaks a rule
 * (too many variables, wrong status); *err says which. */
#ifndef SPAPROV_DB_DEVICE_H
#define SPAPROV_DB_DEVICE_H

#include <stddef.h>

#include "db/db.h"

#define DB_INVALID 3

/* Statuses as a set, for db_device_set_status(). */
#define DB_STATUS_ENABLED 1u
#define DB_STATUS_DISABLED 2u
#define DB_STATUS_PENDING 4u
#define DB_STATUS_ANY 7u

#define DB_STATUS_LEN 12  /* "disabled" + NUL fits, as in struct db_device */

/* What `device set` changes; NULL / 0 members leave things as they are. */
struct db_device_change {
	const char *profile;       /* new profile */
	int clear_profile;         /* 1: no profile (NULL) */
	const char *description;
	const struct db_var *set;  /* variables to add or replace */
	size_t n_set;
	const char *const *unset;  /* variable names to remove */
	size_t n_unset;
};

/* Apply c in one transaction.  DB_NOTFOUND if the device or a variable
 * to unset does not exist, DB_INVALID if the device would have more than
 * DB_MAX_VARS variables; nothing is changed then. */
int db_device_update(struct db *db, const char *mac,
		     const struct db_device_change *c, char **err);

/* Delete the device and its variables (its resyncs stay in the ledger).
 * *n_vars (may be NULL) receives how many variables went with it. */
int db_device_remove(struct db *db, const char *mac, size_t *n_vars,
		     char **err);

/* Set the status to `status` if the current one is in `from` (a set of
 * DB_STATUS_*), and the profile too when `profile` is not NULL, in one
 * transaction.  prev receives the status before.  DB_INVALID (with prev
 * filled, *err NULL) when the current status is not in `from`; DB_OK
 * without writing when it already is `status` and no profile is given. */
int db_device_set_status(struct db *db, const char *mac, const char *status,
			 unsigned from, const char *profile,
			 char prev[DB_STATUS_LEN], char **err);

/* The newest row of the ledger for a MAC (the fields `device show`
 * prints); strings malloc'd, NULL when SQL NULL. */
struct db_last_resync {
	char *ts, *listener, *ca, *remote_addr, *tls_version, *cipher;
	char *outcome, *detail, *user_agent;
	int status;
};

/* DB_OK, DB_NOTFOUND (never seen: *out untouched) or DB_ERROR. */
int db_device_last_resync(struct db *db, const char *mac,
			  struct db_last_resync *out, char **err);
void db_last_resync_clear(struct db_last_resync *r);

/* Filters of `device list`; NULL / negative members do not filter. */
struct db_device_filter {
	const char *status;
	const char *model;         /* exact, case-insensitive */
	const char *profile;
	const char *ca;            /* CA of the device's last resync */
	const char *firmware;
	int not_seen_days;         /* last_seen older than N days, or never */
	const char *search_mac;    /* substring of the 12-hex MAC */
	const char *search_text;   /* substring of description or a value */
	long long limit;           /* rows to return (> 0) */
	long long offset;
};

/* One row of the list; pointers are valid during the callback only. */
struct db_device_row {
	const char *mac, *status, *model, *serial, *firmware, *profile;
	const char *description, *last_seen;
	const char *listener, *ca;   /* of the last resync, NULL if none */
};

/* Calls row() for each matching device in MAC order (limit / offset
 * applied) and sets *total to the number of matching devices, both read
 * in one snapshot.  row() returns 0 to go on. */
int db_device_list(struct db *db, const struct db_device_filter *f,
		   int (*row)(void *ctx, const struct db_device_row *r),
		   void *ctx, long long *total, char **err);

#endif
