/* db/import: the bulk side of `spaprovctl device import` and `device
 * export`: many devices written in one transaction, and the whole
 * inventory read back in one snapshot.
 *
 * An import takes the write lock (BEGIN IMMEDIATE, waiting out the busy
 * timeout like every writer) for the time it takes to write the rows:
 * one to two seconds per 100,000 devices on a small machine, a dry run
 * included.  spaprovd's ledger commits (and so its answers) wait that
 * long meanwhile; nothing is lost. */
#ifndef SPAPROV_DB_IMPORT_H
#define SPAPROV_DB_IMPORT_H

#include <stddef.h>

#include "db/db.h"

/* One device to write.  NULL members are "not given": a new device gets
 * the defaults (enabled, no profile, empty description), an existing one
 * (DB_IMPORT_UPDATE) keeps what it has.  Variables are added or replaced;
 * variables not listed are kept. */
struct db_import_row {
	char mac[13];                 /* 12 lower-case hex digits */
	const char *status;           /* enabled | disabled | pending */
	const char *profile;
	const char *description;
	const struct db_var *vars;
	size_t n_vars;
};

#define DB_IMPORT_UPDATE 1u   /* existing devices are updated, not refused */
#define DB_IMPORT_DRY_RUN 2u  /* check everything, write nothing */

/* Why a row was refused. */
enum db_import_refusal {
	DB_IMPORT_EXISTS,         /* the MAC is registered (no UPDATE flag) */
	DB_IMPORT_PENDING,        /* status 'pending' for a device that is not
				   * pending: only spaprovd records those */
	DB_IMPORT_TOO_MANY_VARS,  /* the device would have > DB_MAX_VARS */
};

struct db_import_result {
	size_t added, updated;    /* rows that were (or would be) written */
	size_t refused;           /* rows refused (refuse() was called) */
};

typedef void (*db_import_refuse_fn)(void *ctx, size_t index,
				    enum db_import_refusal why);

/* Write rows[0..n) in one transaction: all of them, or none when a row is
 * refused (refuse() is called for every such row, with its index) or
 * DB_IMPORT_DRY_RUN is set; the rows are checked and written in the
 * transaction either way, then rolled back.  The MACs must be distinct.
 * Returns 0 (see res->refused) or -1 with *err (nothing written). */
int db_import_devices(struct db *db, const struct db_import_row *rows,
		      size_t n, unsigned flags, db_import_refuse_fn refuse,
		      void *ctx, struct db_import_result *res, char **err);

/* --- export ------------------------------------------------------------- */

/* NULL members do not filter. */
struct db_export_filter {
	const char *status;
	const char *profile;
};

/* One device; pointers are valid during the callback only.  profile is
 * NULL when the device has none; vars are sorted by name (byte order). */
struct db_export_device {
	const char *mac, *status, *profile, *description;
	const struct db_var *vars;
	size_t n_vars;
};

/* In one read snapshot: header() once with the sorted, distinct names of
 * the variables the matching devices have, then row() for each matching
 * device in MAC order.  A callback returns 0 to go on, anything else to
 * stop.  Returns 0, 1 when a callback stopped it, or -1 with *err. */
int db_export_devices(struct db *db, const struct db_export_filter *f,
		      int (*header)(void *ctx, const char *const *var_names,
				    size_t n),
		      int (*row)(void *ctx, const struct db_export_device *d),
		      void *ctx, char **err);

#endif
