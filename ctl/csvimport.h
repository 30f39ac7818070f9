/* ctl/csvimport: the reading half of `spaprovctl device import`: a CSV
 * inventory (libcsv, RFC 4180) parsed and checked row by row, without a
 * database.
 *
 * The text is fed in chunks of any size; every error is recorded with the
 * physical line where its record starts (a quoted field may span lines)
 * and printed as FILE:LINE: COLUMN: reason.  Rows that pass every check
 * are kept as struct db_import_row, ready for db_import_devices(); errors
 * found later (by the database) can be added to the same report. */
#ifndef SPAPROV_CTL_CSVIMPORT_H
#define SPAPROV_CTL_CSVIMPORT_H

#include <stddef.h>
#include <stdio.h>

#include "db/db.h"
#include "db/import.h"

/* Limits of an import. */
#define CSVIMPORT_MAX_RECORD (2ul << 20)  /* bytes per record (a CSV record
					   * may span lines) */
#define CSVIMPORT_MAX_FIELD DB_MAX_VALUE  /* bytes per field: 4096 */
#define CSVIMPORT_MAX_COLUMNS 256         /* columns in the header */
#define CSVIMPORT_MAX_ROWS 1000000ul      /* devices per file */
#define CSVIMPORT_MAX_PROFILE 64          /* as `profile set` */
#define CSVIMPORT_MAX_DESCRIPTION 1024    /* as `device add` */
#define CSVIMPORT_MAX_ERRORS 100          /* errors printed; more counted */

struct csvimport;

/* A new import of the file called `file` in messages (not copied: it must
 * outlive the import).  NULL when out of memory. */
struct csvimport *csvimport_new(const char *file);
void csvimport_free(struct csvimport *ci);

/* Parse the next n bytes of the text (a UTF-8 byte order mark at the very
 * start of the first chunk of 3 bytes or more is skipped).  Returns 0, or
 * -1 once the import cannot go on (a bad header, too many rows, out of
 * memory...): the reason is among the errors, later chunks are ignored. */
int csvimport_feed(struct csvimport *ci, const char *p, size_t n);

/* The end of the text: the last record, the header's absence. */
void csvimport_finish(struct csvimport *ci);

/* The whole of buf[0..n) in one go: csvimport_feed() and
 * csvimport_finish(). */
void csvimport_parse(struct csvimport *ci, const char *buf, size_t n);

/* 1 when a usable header was read (the rows can go to the database). */
int csvimport_header_ok(const struct csvimport *ci);

/* The rows that passed every check, in file order; valid until
 * csvimport_free(). */
const struct db_import_row *csvimport_rows(const struct csvimport *ci,
					   size_t *n);
/* The line where row i starts. */
unsigned long csvimport_row_line(const struct csvimport *ci, size_t i);
/* The label of the MAC column as the header wrote it ("mac"). */
const char *csvimport_mac_label(const struct csvimport *ci);

/* Record an error found after parsing (by the database) against line,
 * column (may be NULL). */
void csvimport_add_error(struct csvimport *ci, unsigned long line,
			 const char *column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Errors so far: parsing and added ones. */
size_t csvimport_n_errors(const struct csvimport *ci);

/* Write the errors to f, one "FILE:LINE: COLUMN: reason" line each, in
 * line order (parse errors before added ones on the same line), at most
 * CSVIMPORT_MAX_ERRORS, then "... and N more" if there are more. */
void csvimport_print_errors(const struct csvimport *ci, FILE *f);

#endif
