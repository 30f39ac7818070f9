/* db internals shared by the files of the db module only (db.c and the
 * per-topic query files).  Nothing outside db/ includes this. */
#ifndef SPAPROV_DB_INTERNAL_H
#define SPAPROV_DB_INTERNAL_H

#include <sqlite3.h>

#include "db/db.h"
#include "util/str.h"

#define DB_MAX_STMTS 128  /* distinct prepared statements per handle */

struct db {
	sqlite3 *sql;
	struct {
		const char *sql;      /* identity: the address of the SQL text */
		sqlite3_stmt *stmt;
	} stmts[DB_MAX_STMTS];
	size_t n_stmts;
};

/* The prepared statement for `sql` (a static string: cached by its
 * address), prepared on first use; NULL on error. */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);
/* db_stmt() that reports a failure in *err ("preparing query: ..."). */
sqlite3_stmt *db_prepare(struct db *db, const char *sql, char **err);

/* the module's name for str_printf(), kept for its many callers */
#define db_fmt_err str_printf
/* *err = "WHAT: sqlite message" (err may be NULL). */
void db_set_err(struct db *db, char **err, const char *what);
/* sqlite3_exec without results, retried while busy. */
int db_exec_retry(struct db *db, const char *sql, char **err);
/* Bind text or NULL, SQLITE_STATIC: the value must outlive the step. */
void db_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Step a statement that returns no rows (retried while busy), reset it. */
int db_step_done(struct db *db, sqlite3_stmt *s, char **err, const char *what);
/* Step s (parameters bound) expecting at most one row; copy its first n
 * text columns, which must not be NULL, into out[] (malloc'd).  Resets s.
 * DB_OK, DB_NOTFOUND or DB_ERROR with *err ("WHAT: ..."). */
int db_one_row(struct db *db, sqlite3_stmt *s, char **out, int n,
	       char **err, const char *what);
/* strdup of a text column, NULL for SQL NULL. */
char *db_col_dup(sqlite3_stmt *s, int i);

#endif
