/* Shared by db/admin.c and db/admin_views.c only. */
#ifndef SPAPROV_DB_ADMIN_INTERNAL_H
#define SPAPROV_DB_ADMIN_INTERNAL_H

#include <sqlite3.h>

#include "db/admin.h"

#define DB_ADMIN_MAX_COLS 32  /* columns handed to a row callback */

/* Calls row() for every row of s (parameters bound), then resets s.
 * Returns 0, or -1 with *err = "WHAT: sqlite message". */
int db_admin_rows(struct db *db, sqlite3_stmt *s, db_admin_row_fn row,
		  void *ctx, char **err, const char *what);

#endif
