/* spaprovctl device import / device export: the inventory as CSV.
 *
 * Import reads the whole file first (libcsv, RFC 4180), checking every
 * record and collecting every error, then hands the good rows to
 * db_import_devices(), which writes all of them in one transaction or
 * none.  Export writes the same format, so that an export read back with
 * `import --update` changes nothing. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <csv.h>

#include "ctl/ctl.h"
#include "db/db.h"
#include "db/import.h"
#include "tmpl/builtins.h"
#include "tmpl/tmpl.h"
#include "util/mac.h"

/* Limits of `device import`. */
#define IMPORT_MAX_FILE (512ul << 20)   /* bytes per file */
#define IMPORT_MAX_RECORD (2ul << 20)   /* bytes per record (a CSV record
					 * may span lines) */
#define IMPORT_MAX_FIELD DB_MAX_VALUE   /* bytes per field: 4096 */
#define IMPORT_MAX_COLUMNS 256          /* columns in the header */
#define IMPORT_MAX_ROWS 1000000ul       /* devices per file */
#define IMPORT_MAX_PROFILE 64           /* as `profile set` */
#define IMPORT_MAX_DESCRIPTION 1024     /* as `device add` */
#define IMPORT_MAX_ERRORS 100           /* errors printed; more counted */
#define IMPORT_SHOW_VALUE 40            /* bytes of a bad value shown */
#define IMPORT_READ_SIZE 65536          /* bytes per read() */

#define VAR_PREFIX "var:"

static const char *const STATUSES[] = { "enabled", "disabled", "pending" };

static void import_usage(FILE *f)
{
	fprintf(f,
"Usage: spaprovctl device import FILE.csv [--dry-run] [--update]\n"
"Add (or with --update, also change) many devices from a CSV file (\"-\"\n"
"for standard input), all of them or none.\n\n"
"The first line names the columns, in any order:\n"
"  mac           required; any notation (000E08ABCDEF, 00:0e:08:ab:cd:ef,\n"
"                00-0E-08-AB-CD-EF, 000e.08ab.cdef)\n"
"  profile       profile name (at most %d bytes)\n"
"  description   free text (at most %d bytes)\n"
"  status        enabled or disabled (pending only where a device is pending)\n"
"  var:NAME      the value of template variable NAME (at most %d bytes)\n"
"An empty cell sets nothing: a new device gets the default (enabled, no\n"
"profile, no description, variable not set), an existing one keeps its\n"
"value.  RFC 4180 quoting (\"a, \"\"b\"\"\" is a, \"b\"), CRLF or LF line\n"
"ends, an optional UTF-8 byte order mark; spaces are part of a value.\n\n"
"  --update    change devices that already exist (without it, an existing\n"
"              MAC is an error): profile, description and status when the\n"
"              cell is not empty, variables added or replaced\n"
"  --dry-run   check everything, the database included; write nothing\n\n"
"Errors are reported as FILE:LINE: COLUMN: reason, all of them (the first\n"
"%d printed); with any error nothing is written (exit 3).  Limits: %lu MiB\n"
"per file, %lu devices, %d columns, %lu KiB per record.  The import holds\n"
"the database write lock while it writes (one to two seconds per 100,000\n"
"devices; a dry run too); spaprovd's requests wait for it meanwhile.\n"
"A file from `device export` without --reveal has empty secret cells:\n"
"importing it with --update keeps the stored secrets.\n",
		IMPORT_MAX_PROFILE, IMPORT_MAX_DESCRIPTION, IMPORT_MAX_FIELD,
		IMPORT_MAX_ERRORS, IMPORT_MAX_FILE >> 20, IMPORT_MAX_ROWS,
		IMPORT_MAX_COLUMNS, IMPORT_MAX_RECORD >> 10);
}

/* --- error messages ------------------------------------------------------ */

struct import_err {
	unsigned long line;
	char *text;          /* "COLUMN: reason" or "reason" */
};

/* Errors of one phase, in line order: the first IMPORT_MAX_ERRORS kept. */
struct errlist {
	struct import_err kept[IMPORT_MAX_ERRORS];
	size_t n_kept;
	size_t total;
};

static void errlist_add(struct errlist *l, unsigned long line,
			const char *column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void errlist_add(struct errlist *l, unsigned long line,
			const char *column, const char *fmt, ...)
{
	char *reason = NULL, *text = NULL;
	va_list ap;

	l->total++;
	if (l->n_kept == IMPORT_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&reason, fmt, ap) < 0)
		reason = NULL;
	va_end(ap);
	if (reason != NULL && column != NULL) {
		if (asprintf(&text, "%s: %s", column, reason) < 0)
			text = NULL;
		free(reason);
	} else {
		text = reason;
	}
	l->kept[l->n_kept].line = line;
	l->kept[l->n_kept].text = text;
	l->n_kept++;
}

static void errlist_free(struct errlist *l)
{
	for (size_t i = 0; i < l->n_kept; i++)
		free(l->kept[i].text);
	l->n_kept = 0;
}

/* Print both lists merged by line (a before b on the same line), at most
 * IMPORT_MAX_ERRORS, then how many more there were. */
static void errlists_print(const char *file, const struct errlist *a,
			   const struct errlist *b)
{
	size_t i = 0, j = 0, shown = 0;

	while (shown < IMPORT_MAX_ERRORS && (i < a->n_kept || j < b->n_kept)) {
		const struct import_err *e;

		if (j == b->n_kept ||
		    (i < a->n_kept && a->kept[i].line <= b->kept[j].line))
			e = &a->kept[i++];
		else
			e = &b->kept[j++];
		fprintf(stderr, "%s:%lu: %s\n", file, e->line,
			e->text != NULL ? e->text : "out of memory");
		shown++;
	}
	if (a->total + b->total > shown)
		fprintf(stderr, "... and %zu more\n", a->total + b->total - shown);
}

/* A value for a message: at most IMPORT_SHOW_VALUE bytes, control
 * characters as '?'. */
static const char *shown(const char *v, char buf[IMPORT_SHOW_VALUE + 4])
{
	size_t i;

	for (i = 0; v[i] != '\0' && i < IMPORT_SHOW_VALUE; i++)
		buf[i] = ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) ? '?'
								     : v[i];
	if (v[i] != '\0')
		buf[i++] = '.', buf[i++] = '.', buf[i++] = '.';
	buf[i] = '\0';
	return buf;
}

/* --- the set of MACs seen, with the line of their first row ------------- */

struct macset {
	uint64_t *keys;      /* 48-bit MAC + 1; 0 = empty slot */
	unsigned long *lines;
	size_t cap, n;       /* cap: a power of two */
};

static uint64_t mac_key(const char mac[MAC_LEN + 1])
{
	return strtoull(mac, NULL, 16) + 1;
}

static size_t macset_slot(const struct macset *s, uint64_t key)
{
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) &
		   (s->cap - 1);

	while (s->keys[i] != 0 && s->keys[i] != key)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int macset_grow(struct macset *s)
{
	struct macset big = { .cap = s->cap == 0 ? 1024 : s->cap * 2 };

	big.keys = calloc(big.cap, sizeof(*big.keys));
	big.lines = calloc(big.cap, sizeof(*big.lines));
	if (big.keys == NULL || big.lines == NULL) {
		free(big.keys);
		free(big.lines);
		return -1;
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (s->keys[i] != 0) {
			size_t k = macset_slot(&big, s->keys[i]);

			big.keys[k] = s->keys[i];
			big.lines[k] = s->lines[i];
		}
	}
	big.n = s->n;
	free(s->keys);
	free(s->lines);
	*s = big;
	return 0;
}

/* Add mac first seen on `line`.  Returns 0 if new, 1 if already there
 * (*first = its line), -1 when out of memory. */
static int macset_add(struct macset *s, const char mac[MAC_LEN + 1],
		      unsigned long line, unsigned long *first)
{
	uint64_t key = mac_key(mac);
	size_t i;

	if ((s->n + 1) * 2 > s->cap && macset_grow(s) < 0)
		return -1;
	i = macset_slot(s, key);
	if (s->keys[i] == key) {
		*first = s->lines[i];
		return 1;
	}
	s->keys[i] = key;
	s->lines[i] = line;
	s->n++;
	return 0;
}

/* --- the import state ---------------------------------------------------- */

enum col_kind { COL_MAC, COL_PROFILE, COL_DESCRIPTION, COL_STATUS, COL_VAR };

struct column {
	enum col_kind kind;
	char *label;         /* the header cell, for messages */
	const char *var;     /* COL_VAR: the name after "var:" */
};

/* The record being parsed: fields in one buffer, each NUL-terminated. */
struct record {
	char *buf;
	size_t len, cap;
	size_t off[IMPORT_MAX_COLUMNS];
	size_t flen[IMPORT_MAX_COLUMNS];
	unsigned char too_long[IMPORT_MAX_COLUMNS];
	size_t n_fields;     /* fields seen, may be > IMPORT_MAX_COLUMNS */
	unsigned long line;  /* physical line where it starts */
	size_t bytes;
	int open;
};

struct import {
	const char *file;             /* name in messages */
	struct csv_parser csv;
	int csv_ready;
	unsigned long line;           /* physical line being read */
	int pending_cr;               /* the last chunk ended with CR */
	int skip_line;                /* after a syntax error: skip to EOL */
	int fatal;                    /* stop reading */
	int have_header, header_bad;
	struct column cols[IMPORT_MAX_COLUMNS];
	size_t n_cols;
	int col_mac;
	struct record rec;
	struct macset macs;
	struct db_import_row *rows;   /* the good rows */
	unsigned long *row_lines;
	void **row_mem;
	size_t n_rows, cap_rows;
	struct errlist errs;          /* from reading the file */
	struct errlist db_errs;       /* from the database */
};

static const char *col_label(const struct import *im, size_t i)
{
	return im->have_header && i < im->n_cols ? im->cols[i].label : NULL;
}

/* --- the header ---------------------------------------------------------- */

static const char *field(const struct record *r, size_t i)
{
	return r->buf + r->off[i];
}

/* The kind of column i from its label; 0 or -1 (error recorded). */
static int header_column(struct import *im, size_t i)
{
	static const char *const fixed[] = {
		[COL_MAC] = "mac", [COL_PROFILE] = "profile",
		[COL_DESCRIPTION] = "description", [COL_STATUS] = "status",
	};
	struct column *c = &im->cols[i];
	const char *label = c->label, *var;

	for (int k = COL_MAC; k < COL_VAR; k++) {
		if (strcmp(label, fixed[k]) == 0) {
			c->kind = (enum col_kind)k;
			return 0;
		}
	}
	if (strncmp(label, VAR_PREFIX, strlen(VAR_PREFIX)) != 0) {
		errlist_add(&im->errs, im->rec.line, label, "unknown column "
			    "(expected mac, profile, description, status or "
			    "var:NAME)");
		return -1;
	}
	var = label + strlen(VAR_PREFIX);
	if (!tmpl_name_valid(var) || tmpl_is_builtin(var)) {
		errlist_add(&im->errs, im->rec.line, label, "%s '%s'",
			    tmpl_is_builtin(var) ? "reserved built-in name"
						 : "invalid variable name",
			    var);
		return -1;
	}
	c->kind = COL_VAR;
	c->var = var;
	return 0;
}

static int header_dup(const struct import *im, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (im->cols[k].label != NULL &&
		    strcmp(im->cols[k].label, im->cols[i].label) == 0)
			return 1;
	return 0;
}

/* A header cell that can be a column name: printable, not too long. */
static int label_ok(const struct record *r, size_t i)
{
	const char *v = field(r, i);

	if (r->too_long[i] || r->flen[i] == 0 ||
	    r->flen[i] > strlen(VAR_PREFIX) + TMPL_MAX_NAME)
		return 0;
	for (size_t k = 0; k < r->flen[i]; k++)
		if ((unsigned char)v[k] < 0x20 || v[k] == 0x7f)
			return 0;
	return 1;
}

static void header_parse(struct import *im)
{
	struct record *r = &im->rec;
	char buf[IMPORT_SHOW_VALUE + 4], where[32];

	im->have_header = 1;
	im->col_mac = -1;
	if (r->n_fields > IMPORT_MAX_COLUMNS) {
		errlist_add(&im->errs, r->line, NULL, "more than %d columns",
			    IMPORT_MAX_COLUMNS);
		im->header_bad = im->fatal = 1;
		return;
	}
	im->n_cols = r->n_fields;
	for (size_t i = 0; i < r->n_fields; i++) {
		snprintf(where, sizeof(where), "column %zu", i + 1);
		if (!label_ok(r, i)) {
			if (r->flen[i] == 0 && !r->too_long[i])
				errlist_add(&im->errs, r->line, where,
					    "empty column name");
			else
				errlist_add(&im->errs, r->line, where,
					    "invalid column name '%s'",
					    r->too_long[i] ? "..." :
					    shown(field(r, i), buf));
			im->header_bad = 1;
			continue;
		}
		if ((im->cols[i].label = strdup(field(r, i))) == NULL) {
			errlist_add(&im->errs, r->line, NULL, "out of memory");
			im->header_bad = 1;
			break;
		}
		if (header_column(im, i) < 0) {
			im->header_bad = 1;
		} else if (header_dup(im, i)) {
			errlist_add(&im->errs, r->line, im->cols[i].label,
				    "duplicate column");
			im->header_bad = 1;
		} else if (im->cols[i].kind == COL_MAC) {
			im->col_mac = (int)i;
		}
	}
	if (im->col_mac < 0 && !im->header_bad) {
		errlist_add(&im->errs, r->line, "mac",
			    "required column missing");
		im->header_bad = 1;
	}
	if (im->header_bad)
		im->fatal = 1;
}

/* --- rows ---------------------------------------------------------------- */

/* The cells of one row, checked; pointers into the record. */
struct cells {
	char mac[MAC_LEN + 1];
	int have_mac;
	const char *status, *profile, *description;  /* NULL: empty cell */
	size_t vars[IMPORT_MAX_COLUMNS];              /* columns with a value */
	size_t n_vars;
};

static int cell_value(struct import *im, size_t i, struct cells *c)
{
	const struct record *r = &im->rec;
	const char *label = im->cols[i].label, *v = field(r, i);
	size_t len = r->flen[i];
	char buf[IMPORT_SHOW_VALUE + 4];

	switch (im->cols[i].kind) {
	case COL_MAC:
		if (len == 0) {
			errlist_add(&im->errs, r->line, label,
				    "missing MAC address");
			return -1;
		}
		if (mac_normalize(v, c->mac) < 0) {
			errlist_add(&im->errs, r->line, label,
				    "invalid MAC address '%s'", shown(v, buf));
			return -1;
		}
		c->have_mac = 1;
		return 0;
	case COL_STATUS:
		if (len == 0)
			return 0;
		for (size_t k = 0; k < sizeof(STATUSES) / sizeof(*STATUSES);
		     k++)
			if (strcmp(v, STATUSES[k]) == 0)
				c->status = STATUSES[k];
		if (c->status != NULL)
			return 0;
		errlist_add(&im->errs, r->line, label,
			    "invalid status '%s' (enabled or disabled)",
			    shown(v, buf));
		return -1;
	case COL_PROFILE:
		if (len > IMPORT_MAX_PROFILE) {
			errlist_add(&im->errs, r->line, label, "profile name "
				    "longer than %d bytes", IMPORT_MAX_PROFILE);
			return -1;
		}
		c->profile = len > 0 ? v : NULL;
		return 0;
	case COL_DESCRIPTION:
		if (len > IMPORT_MAX_DESCRIPTION) {
			errlist_add(&im->errs, r->line, label, "value longer "
				    "than %d bytes", IMPORT_MAX_DESCRIPTION);
			return -1;
		}
		c->description = len > 0 ? v : NULL;
		return 0;
	case COL_VAR:
		if (len > 0)
			c->vars[c->n_vars++] = i;
		return 0;
	}
	return -1;
}

/* Keep a checked row: one allocation for its variables and strings. */
static int row_store(struct import *im, const struct cells *c)
{
	const struct record *r = &im->rec;
	struct db_import_row *row;
	struct db_var *vars;
	size_t size = c->n_vars * sizeof(struct db_var);
	char *p;

	if (im->n_rows == im->cap_rows) {
		size_t ncap = im->cap_rows == 0 ? 1024 : im->cap_rows * 2;
		struct db_import_row *nr = realloc(im->rows,
						   ncap * sizeof(*nr));
		unsigned long *nl;
		void **nm;

		if (nr != NULL)
			im->rows = nr;
		nl = realloc(im->row_lines, ncap * sizeof(*nl));
		if (nl != NULL)
			im->row_lines = nl;
		nm = realloc(im->row_mem, ncap * sizeof(*nm));
		if (nm != NULL)
			im->row_mem = nm;
		if (nr == NULL || nl == NULL || nm == NULL)
			return -1;
		im->cap_rows = ncap;
	}
	size += (c->profile ? strlen(c->profile) + 1 : 0) +
		(c->description ? strlen(c->description) + 1 : 0);
	for (size_t k = 0; k < c->n_vars; k++)
		size += r->flen[c->vars[k]] + 1;
	if ((vars = malloc(size > 0 ? size : 1)) == NULL)
		return -1;
	row = &im->rows[im->n_rows];
	memset(row, 0, sizeof(*row));
	memcpy(row->mac, c->mac, sizeof(row->mac));
	row->status = c->status;
	p = (char *)(vars + c->n_vars);
	if (c->profile != NULL)
		row->profile = p, p = stpcpy(p, c->profile) + 1;
	if (c->description != NULL)
		row->description = p, p = stpcpy(p, c->description) + 1;
	for (size_t k = 0; k < c->n_vars; k++) {
		vars[k].name = (char *)im->cols[c->vars[k]].var;
		vars[k].value = p;
		p = stpcpy(p, field(r, c->vars[k])) + 1;
	}
	row->vars = vars;
	row->n_vars = c->n_vars;
	im->row_lines[im->n_rows] = r->line;
	im->row_mem[im->n_rows] = vars;
	im->n_rows++;
	return 0;
}

/* Check the record as a row; keep it if it is good. */
static void row_parse(struct import *im)
{
	const struct record *r = &im->rec;
	struct cells c = { .have_mac = 0 };
	unsigned long first;
	int bad = 0;

	if (r->n_fields != im->n_cols) {
		errlist_add(&im->errs, r->line, NULL, "wrong number of fields "
			    "(%zu, header has %zu)", r->n_fields, im->n_cols);
		return;
	}
	for (size_t i = 0; i < r->n_fields; i++) {
		const char *label = im->cols[i].label;

		if (r->too_long[i]) {
			errlist_add(&im->errs, r->line, label, "value longer "
				    "than %d bytes", IMPORT_MAX_FIELD);
			bad = 1;
		} else if (memchr(field(r, i), '\0', r->flen[i]) != NULL) {
			errlist_add(&im->errs, r->line, label,
				    "value contains a NUL byte");
			bad = 1;
		} else if (cell_value(im, i, &c) < 0) {
			bad = 1;
		}
	}
	if (c.have_mac) {
		switch (macset_add(&im->macs, c.mac, r->line, &first)) {
		case 1:
			errlist_add(&im->errs, r->line, im->cols[im->col_mac].label,
				    "duplicate MAC %s (first on line %lu)",
				    c.mac, first);
			bad = 1;
			break;
		case -1:
			goto oom;
		}
	}
	if (bad)
		return;
	if (im->n_rows == IMPORT_MAX_ROWS) {
		errlist_add(&im->errs, r->line, NULL, "more than %lu devices "
			    "(split the file)", IMPORT_MAX_ROWS);
		im->fatal = 1;
		return;
	}
	if (row_store(im, &c) == 0)
		return;
oom:
	errlist_add(&im->errs, r->line, NULL, "out of memory");
	im->fatal = 1;
}

/* --- reading the file ---------------------------------------------------- */

static void record_reset(struct record *r)
{
	r->len = 0;
	r->n_fields = 0;
	r->open = 0;
}

static void on_field(void *s, size_t len, void *ctx)
{
	struct import *im = ctx;
	struct record *r = &im->rec;
	size_t i = r->n_fields++;

	if (i >= IMPORT_MAX_COLUMNS)
		return;
	r->too_long[i] = len > IMPORT_MAX_FIELD;
	if (r->too_long[i] || s == NULL)
		len = 0;
	if (r->len + len + 1 > r->cap) {
		size_t ncap = (r->len + len + 1) * 2;
		char *nb = realloc(r->buf, ncap);

		if (nb == NULL) {
			r->too_long[i] = 1;
			errlist_add(&im->errs, r->line, NULL, "out of memory");
			im->fatal = 1;
			return;
		}
		r->buf = nb;
		r->cap = ncap;
	}
	if (len > 0)
		memcpy(r->buf + r->len, s, len);
	r->buf[r->len + len] = '\0';
	r->off[i] = r->len;
	r->flen[i] = len;
	r->len += len + 1;
}

static void on_record(int term, void *ctx)
{
	struct import *im = ctx;

	(void)term;
	if (!im->fatal) {
		if (!im->have_header)
			header_parse(im);
		else
			row_parse(im);
	}
	record_reset(&im->rec);
}

/* RFC 4180: spaces are part of the field. */
static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

static int parser_init(struct import *im)
{
	if (im->csv_ready)
		csv_free(&im->csv);
	im->csv_ready = 0;
	if (csv_init(&im->csv, CSV_STRICT | CSV_STRICT_FINI |
				       CSV_APPEND_NULL) != 0)
		return -1;
	csv_set_space_func(&im->csv, no_space);
	im->csv_ready = 1;
	return 0;
}

static int is_eol(char c)
{
	return c == '\n' || c == '\r';
}

/* Report a syntax error in the open record and skip to the next line. */
static void syntax_error(struct import *im, const char *p, size_t n)
{
	struct record *r = &im->rec;

	errlist_add(&im->errs, r->line, col_label(im, r->n_fields),
		    "malformed quoting (a field with a '\"' must be enclosed "
		    "in quotes, with each '\"' inside doubled)");
	if (!im->have_header || parser_init(im) < 0)
		im->fatal = 1;
	record_reset(r);
	im->skip_line = !is_eol(p[n - 1]);
}

/* Parse p[0..n): at most one physical line, any line end at its end, so
 * that records end (on_record) only at the end of a chunk and the line
 * where each record starts is known. */
static void feed(struct import *im, const char *p, size_t n)
{
	struct record *r = &im->rec;

	if (im->pending_cr && p[0] != '\n')
		im->line++;          /* a lone CR ended the line */
	im->pending_cr = 0;
	if (im->skip_line) {
		im->skip_line = !is_eol(p[n - 1]);
	} else {
		if (!r->open && !(n == 1 && is_eol(p[0]))) {
			r->open = 1;
			r->line = im->line;
			r->bytes = 0;
		}
		if (r->open && (r->bytes += n) > IMPORT_MAX_RECORD) {
			errlist_add(&im->errs, r->line, NULL, "record longer "
				    "than %lu bytes (a quoted field not "
				    "closed?)", IMPORT_MAX_RECORD);
			im->fatal = 1;
			return;
		}
		if (csv_parse(&im->csv, p, n, on_field, on_record, im) < n &&
		    !im->fatal)
			syntax_error(im, p, n);
	}
	if (p[n - 1] == '\n')
		im->line++;
	else if (p[n - 1] == '\r')
		im->pending_cr = 1;
}

static void feed_block(struct import *im, const char *p, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n && !im->fatal; i++) {
		if (is_eol(p[i])) {
			feed(im, p + start, i + 1 - start);
			start = i + 1;
		}
	}
	if (start < n && !im->fatal)
		feed(im, p + start, n - start);
}

/* Read and check the whole file.  Returns 0 (errors, if any, are in
 * im->errs) or -1 when the file cannot be read (reported). */
static int import_read(struct import *im, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	unsigned long total = 0;
	struct stat st;
	char *buf = NULL;
	size_t n;
	int result = -1;

	if (f == NULL) {
		ctl_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
	    (unsigned long long)st.st_size > IMPORT_MAX_FILE) {
		ctl_err("%s: larger than %lu MiB", im->file,
			IMPORT_MAX_FILE >> 20);
		goto out;
	}
	if ((buf = malloc(IMPORT_READ_SIZE)) == NULL ||
	    parser_init(im) < 0) {
		ctl_err("out of memory");
		goto out;
	}
	while (!im->fatal && (n = fread(buf, 1, IMPORT_READ_SIZE, f)) > 0) {
		size_t skip = 0;

		if (total == 0 && n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
			skip = 3;    /* UTF-8 byte order mark */
		if ((total += n) > IMPORT_MAX_FILE) {
			ctl_err("%s: larger than %lu MiB", im->file,
				IMPORT_MAX_FILE >> 20);
			goto out;
		}
		feed_block(im, buf + skip, n - skip);
	}
	if (ferror(f)) {
		ctl_err("%s: %s", im->file, strerror(errno));
		goto out;
	}
	if (!im->fatal && csv_fini(&im->csv, on_field, on_record, im) != 0)
		errlist_add(&im->errs, im->rec.line, col_label(im,
			    im->rec.n_fields), "quoted field not closed at "
			    "the end of the file");
	if (!im->have_header && !im->fatal)
		errlist_add(&im->errs, 1, NULL, "no header line (expected "
			    "column names: mac, profile, ...)");
	result = 0;
out:
	free(buf);
	if (f != stdin)
		fclose(f);
	return result;
}

/* --- writing to the database --------------------------------------------- */

static void on_refuse(void *ctx, size_t i, enum db_import_refusal why)
{
	struct import *im = ctx;
	const char *mac = im->rows[i].mac;
	unsigned long line = im->row_lines[i];

	switch (why) {
	case DB_IMPORT_EXISTS:
		errlist_add(&im->db_errs, line, im->cols[im->col_mac].label,
			    "device %s already exists (use --update)", mac);
		break;
	case DB_IMPORT_PENDING:
		errlist_add(&im->db_errs, line, "status", "invalid status "
			    "'pending' (only spaprovd records devices as "
			    "pending)");
		break;
	case DB_IMPORT_TOO_MANY_VARS:
		errlist_add(&im->db_errs, line, NULL, "device %s would have "
			    "more than %d variables", mac, DB_MAX_VARS);
		break;
	}
}

static void import_free(struct import *im)
{
	if (im->csv_ready)
		csv_free(&im->csv);
	for (size_t i = 0; i < IMPORT_MAX_COLUMNS; i++)
		free(im->cols[i].label);
	free(im->rec.buf);
	free(im->macs.keys);
	free(im->macs.lines);
	for (size_t i = 0; i < im->n_rows; i++)
		free(im->row_mem[i]);
	free(im->rows);
	free(im->row_lines);
	free(im->row_mem);
	errlist_free(&im->errs);
	errlist_free(&im->db_errs);
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Check (and unless dry_run, write) everything; print the outcome. */
static int import_run(struct ctl *ctl, struct import *im, const char *path,
		      unsigned flags)
{
	struct db_import_result res = { 0, 0, 0 };
	struct db *db;
	char *err = NULL;
	size_t total;

	if (import_read(im, path) < 0)
		return CTL_INVALID;
	if (im->have_header && !im->header_bad) {
		if ((db = ctl_db(ctl)) == NULL)
			return CTL_DBERROR;
		/* With errors in the file, the rows are still checked
		 * against the database, so that every error is reported. */
		if (im->errs.total > 0)
			flags |= DB_IMPORT_DRY_RUN;
		if (db_import_devices(db, im->rows, im->n_rows, flags,
				      on_refuse, im, &res, &err) < 0) {
			ctl_err("%s", err != NULL ? err : "database error");
			free(err);
			return CTL_DBERROR;
		}
	}
	total = im->errs.total + im->db_errs.total;
	if (total > 0) {
		errlists_print(im->file, &im->errs, &im->db_errs);
		ctl_err("%s: %zu %s, nothing imported", im->file, total,
			plural(total, "error", "errors"));
		return CTL_INVALID;
	}
	if (flags & DB_IMPORT_DRY_RUN)
		printf("dry run: %zu %s valid\n", im->n_rows,
		       plural(im->n_rows, "row", "rows"));
	else
		printf("imported %zu %s (%zu new, %zu updated) from %s\n",
		       im->n_rows, plural(im->n_rows, "device", "devices"),
		       res.added, res.updated, im->file);
	return CTL_OK;
}

int cmd_device_import(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "update", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct import *im;
	unsigned flags = 0;
	int ch, rc;

	optind = 0; /* glibc: fully reset getopt, including the "+" mode */
	while ((ch = getopt_long(argc, argv, "nuh", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': flags |= DB_IMPORT_DRY_RUN; break;
		case 'u': flags |= DB_IMPORT_UPDATE; break;
		case 'h': import_usage(stdout); return CTL_OK;
		default: import_usage(stderr); return CTL_USAGE;
		}
	}
	if (optind + 1 != argc) {
		import_usage(stderr);
		return CTL_USAGE;
	}
	if ((im = calloc(1, sizeof(*im))) == NULL) {
		ctl_err("out of memory");
		return CTL_DBERROR;
	}
	im->file = strcmp(argv[optind], "-") == 0 ? "<stdin>" : argv[optind];
	im->line = 1;
	rc = import_run(ctl, im, argv[optind], flags);
	import_free(im);
	free(im);
	return rc;
}

/* --- export -------------------------------------------------------------- */

/* Variables whose names contain one of these (any case) are secrets. */
static const char *const SECRET_WORDS[] = {
	"pass", "secret", "key", "pin", "token",
};

static void export_usage(FILE *f)
{
	fprintf(f,
"Usage: spaprovctl device export [--status S] [--profile P] [--reveal]\n"
"Write the devices as CSV to standard output, in the format of `device\n"
"import`: mac,status,profile,description and a var:NAME column for every\n"
"variable any exported device has (sorted by name).\n\n"
"  --status S    only devices with status S (enabled, disabled, pending)\n"
"  --profile P   only devices with profile P\n"
"  --reveal      export secrets too\n\n"
"Secrets: the values of variables whose names contain pass, secret, key,\n"
"pin or token are written as empty cells unless --reveal is given, and a\n"
"note on standard error says how many were withheld.  Importing such a\n"
"file with --update keeps the stored secrets (an empty cell changes\n"
"nothing), but a device imported from it into another database has no\n"
"value for them: use --reveal to copy an inventory, and protect the file.\n"
"An empty cell always means \"not set\" to import, so variables whose\n"
"value is the empty string are not recreated either (also noted).\n");
}

static int is_secret(const char *name)
{
	for (size_t w = 0; w < sizeof(SECRET_WORDS) / sizeof(*SECRET_WORDS);
	     w++) {
		size_t len = strlen(SECRET_WORDS[w]);

		for (const char *p = name; *p != '\0'; p++)
			if (strncasecmp(p, SECRET_WORDS[w], len) == 0)
				return 1;
	}
	return 0;
}

/* One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line
 * end, or spaces at either end (which some readers strip). */
static void csv_put(FILE *f, const char *prefix, const char *v, int first)
{
	size_t len = strlen(v);
	int quote = strpbrk(v, ",\"\r\n") != NULL ||
		    (len > 0 && (v[0] == ' ' || v[0] == '\t' ||
				 v[len - 1] == ' ' || v[len - 1] == '\t'));

	if (!first)
		fputc(',', f);
	if (quote)
		fputc('"', f);
	fputs(prefix, f);
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '"' && quote)
			fputc('"', f);
		fputc(*p, f);
	}
	if (quote)
		fputc('"', f);
}

struct exporter {
	FILE *out;
	int reveal;
	const char *const *names;   /* variable columns */
	size_t n_names;
	unsigned char *secret;      /* per column */
	size_t withheld, empty, devices;
};

static int export_header(void *ctx, const char *const *names, size_t n)
{
	struct exporter *ex = ctx;

	ex->names = names;
	ex->n_names = n;
	if (n > 0 && (ex->secret = calloc(n, 1)) == NULL) {
		ctl_err("out of memory");
		return -1;
	}
	fputs("mac,status,profile,description", ex->out);
	for (size_t i = 0; i < n; i++) {
		ex->secret[i] = (unsigned char)is_secret(names[i]);
		csv_put(ex->out, VAR_PREFIX, names[i], 0);
	}
	fputs("\n", ex->out);
	return 0;
}

static int export_row(void *ctx, const struct db_export_device *d)
{
	struct exporter *ex = ctx;
	size_t k = 0;

	csv_put(ex->out, "", d->mac, 1);
	csv_put(ex->out, "", d->status, 0);
	csv_put(ex->out, "", d->profile != NULL ? d->profile : "", 0);
	csv_put(ex->out, "", d->description != NULL ? d->description : "",
		0);
	/* Both lists are sorted by name: walk them together. */
	for (size_t i = 0; i < ex->n_names; i++) {
		const char *v = "";

		while (k < d->n_vars && strcmp(d->vars[k].name,
					       ex->names[i]) < 0)
			k++;
		if (k < d->n_vars && strcmp(d->vars[k].name,
					    ex->names[i]) == 0) {
			v = d->vars[k].value;
			if (v[0] == '\0')
				ex->empty++;
			else if (ex->secret[i] && !ex->reveal)
				v = "", ex->withheld++;
		}
		csv_put(ex->out, "", v, 0);
	}
	fputs("\n", ex->out);
	ex->devices++;
	return ferror(ex->out) ? -1 : 0;
}

static void export_notes(const struct exporter *ex)
{
	if (ex->withheld > 0)
		ctl_err("withheld %zu secret %s (variables named *pass*, "
			"*secret*, *key*, *pin*, *token*): their cells are "
			"empty, so importing this file elsewhere loses them "
			"(import --update keeps the stored ones); --reveal "
			"exports them", ex->withheld,
			plural(ex->withheld, "value", "values"));
	if (ex->empty > 0)
		ctl_err("%zu %s the empty string, exported as an empty cell, "
			"which import reads as \"not set\"", ex->empty,
			plural(ex->empty, "variable is", "variables are"));
}

int cmd_device_export(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "profile", required_argument, NULL, 'p' },
		{ "reveal", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct db_export_filter filter = { NULL, NULL };
	struct exporter ex = { .out = stdout };
	struct db *db;
	char *err = NULL;
	int ch, rc = CTL_USAGE, stopped;

	optind = 0; /* glibc: fully reset getopt, including the "+" mode */
	while ((ch = getopt_long(argc, argv, "s:p:rh", opts, NULL)) != -1) {
		switch (ch) {
		case 's': filter.status = optarg; break;
		case 'p': filter.profile = optarg; break;
		case 'r': ex.reveal = 1; break;
		case 'h': export_usage(stdout); return CTL_OK;
		default: export_usage(stderr); return CTL_USAGE;
		}
	}
	if (optind != argc) {
		export_usage(stderr);
		return CTL_USAGE;
	}
	if (filter.status != NULL && strcmp(filter.status, "enabled") != 0 &&
	    strcmp(filter.status, "disabled") != 0 &&
	    strcmp(filter.status, "pending") != 0) {
		ctl_err("--status: '%s' is not enabled, disabled or pending",
			filter.status);
		return CTL_INVALID;
	}
	if ((db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	stopped = db_export_devices(db, &filter, export_header, export_row,
				    &ex, &err);
	if (stopped < 0) {
		ctl_err("%s", err != NULL ? err : "database error");
		rc = CTL_DBERROR;
		goto out;
	}
	if (fflush(ex.out) != 0 || ferror(ex.out)) {
		ctl_err("standard output: %s", strerror(errno));
		rc = CTL_DBERROR;
		goto out;
	}
	rc = stopped == 0 ? CTL_OK : CTL_DBERROR;
	if (rc == CTL_OK)
		export_notes(&ex);
out:
	free(ex.secret);
	free(err);
	return rc;
}
