/* maint: online backup and integrity checks of the database. */
#ifndef SPAPROV_DB_MAINT_H
#define SPAPROV_DB_MAINT_H

#include "db/db.h"

/* Copy the database to `dest` with SQLite's online backup API, a few
 * pages at a time so the daemon's writes are never blocked for long; the
 * copy is consistent.  `dest` must not exist.  Returns 0 or -1 with *err. */
int db_backup(struct db *db, const char *dest, char **err);

/* PRAGMA integrity_check and foreign_key_check.  Calls problem() for each
 * problem found; returns the number of problems, or -1 with *err. */
int db_check(struct db *db, void (*problem)(void *ctx, const char *what),
	     void *ctx, char **err);

#endif
