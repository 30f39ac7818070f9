/* ctl/csvimport: a CSV inventory parsed and checked without a database
 * (see csvimport.h).
 *
 * libcsv is fed one physical line at a time, so that records end only at
 * the end of a chunk and the line where each starts is known; a syntax
 * error skips to the end of its line and parsing goes on with the next,
 * so that every bad row is reported. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "ctl/csvimport.h"
#include "tmpl/builtins.h"
#include "tmpl/tmpl.h"
#include "util/mac.h"

#define CSVIMPORT_SHOW_VALUE 40   /* bytes of a bad value shown */

#define VAR_PREFIX "var:"

static const char *const STATUSES[] = { "enabled", "disabled", "pending" };

/* --- error messages ------------------------------------------------------ */

struct import_err {
	unsigned long line;
	char *text;          /* "COLUMN: reason" or "reason" */
};

/* Errors of one phase, in line order: the first CSVIMPORT_MAX_ERRORS kept. */
struct errlist {
	struct import_err kept[CSVIMPORT_MAX_ERRORS];
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
	if (l->n_kept == CSVIMPORT_MAX_ERRORS)
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
 * CSVIMPORT_MAX_ERRORS, then how many more there were. */
static void errlists_print(FILE *f, const char *file,
			   const struct errlist *a, const struct errlist *b)
{
	size_t i = 0, j = 0, shown = 0;

	while (shown < CSVIMPORT_MAX_ERRORS && (i < a->n_kept || j < b->n_kept)) {
		const struct import_err *e;

		if (j == b->n_kept ||
		    (i < a->n_kept && a->kept[i].line <= b->kept[j].line))
			e = &a->kept[i++];
		else
			e = &b->kept[j++];
		fprintf(f, "%s:%lu: %s\n", file, e->line,
			e->text != NULL ? e->text : "out of memory");
		shown++;
	}
	if (a->total + b->total > shown)
		fprintf(f, "... and %zu more\n", a->total + b->total - shown);
}

/* A value for a message: at most CSVIMPORT_SHOW_VALUE bytes, control
 * characters as '?'. */
static const char *shown(const char *v, char buf[CSVIMPORT_SHOW_VALUE + 4])
{
	size_t i;

	for (i = 0; v[i] != '\0' && i < CSVIMPORT_SHOW_VALUE; i++)
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
	size_t off[CSVIMPORT_MAX_COLUMNS];
	size_t flen[CSVIMPORT_MAX_COLUMNS];
	unsigned char too_long[CSVIMPORT_MAX_COLUMNS];
	size_t n_fields;     /* fields seen, may be > CSVIMPORT_MAX_COLUMNS */
	unsigned long line;  /* physical line where it starts */
	size_t bytes;
	int open;
};

struct csvimport {
	const char *file;             /* name in messages */
	struct csv_parser csv;
	int csv_ready;
	unsigned long line;           /* physical line being read */
	int pending_cr;               /* the last chunk ended with CR */
	int skip_line;                /* after a syntax error: skip to EOL */
	int fatal;                    /* stop reading */
	int started;                  /* a chunk was fed */
	int have_header, header_bad;
	struct column cols[CSVIMPORT_MAX_COLUMNS];
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

static const char *col_label(const struct csvimport *im, size_t i)
{
	return im->have_header && i < im->n_cols ? im->cols[i].label : NULL;
}

/* --- the header ---------------------------------------------------------- */

static const char *field(const struct record *r, size_t i)
{
	return r->buf + r->off[i];
}

/* The kind of column i from its label; 0 or -1 (error recorded). */
static int header_column(struct csvimport *im, size_t i)
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

static int header_dup(const struct csvimport *im, size_t i)
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

static void header_parse(struct csvimport *im)
{
	struct record *r = &im->rec;
	char buf[CSVIMPORT_SHOW_VALUE + 4], where[32];

	im->have_header = 1;
	im->col_mac = -1;
	if (r->n_fields > CSVIMPORT_MAX_COLUMNS) {
		errlist_add(&im->errs, r->line, NULL, "more than %d columns",
			    CSVIMPORT_MAX_COLUMNS);
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
	size_t vars[CSVIMPORT_MAX_COLUMNS];              /* columns with a value */
	size_t n_vars;
};

static int cell_value(struct csvimport *im, size_t i, struct cells *c)
{
	const struct record *r = &im->rec;
	const char *label = im->cols[i].label, *v = field(r, i);
	size_t len = r->flen[i];
	char buf[CSVIMPORT_SHOW_VALUE + 4];

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
		if (len > CSVIMPORT_MAX_PROFILE) {
			errlist_add(&im->errs, r->line, label, "profile name "
				    "longer than %d bytes", CSVIMPORT_MAX_PROFILE);
			return -1;
		}
		c->profile = len > 0 ? v : NULL;
		return 0;
	case COL_DESCRIPTION:
		if (len > CSVIMPORT_MAX_DESCRIPTION) {
			errlist_add(&im->errs, r->line, label, "value longer "
				    "than %d bytes", CSVIMPORT_MAX_DESCRIPTION);
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
static int row_store(struct csvimport *im, const struct cells *c)
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
static void row_parse(struct csvimport *im)
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
				    "than %d bytes", CSVIMPORT_MAX_FIELD);
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
	if (im->n_rows == CSVIMPORT_MAX_ROWS) {
		errlist_add(&im->errs, r->line, NULL, "more than %lu devices "
			    "(split the file)", CSVIMPORT_MAX_ROWS);
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
	struct csvimport *im = ctx;
	struct record *r = &im->rec;
	size_t i = r->n_fields++;

	if (i >= CSVIMPORT_MAX_COLUMNS)
		return;
	r->too_long[i] = len > CSVIMPORT_MAX_FIELD;
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
	struct csvimport *im = ctx;

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

static int parser_init(struct csvimport *im)
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
static void syntax_error(struct csvimport *im, const char *p, size_t n)
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
static void feed(struct csvimport *im, const char *p, size_t n)
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
		if (r->open && (r->bytes += n) > CSVIMPORT_MAX_RECORD) {
			errlist_add(&im->errs, r->line, NULL, "record longer "
				    "than %lu bytes (a quoted field not "
				    "closed?)", CSVIMPORT_MAX_RECORD);
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

static void feed_block(struct csvimport *im, const char *p, size_t n)
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

/* --- the API ------------------------------------------------------------ */

struct csvimport *csvimport_new(const char *file)
{
	struct csvimport *im = calloc(1, sizeof(*im));

	if (im == NULL)
		return NULL;
	im->file = file;
	im->line = 1;
	im->col_mac = -1;
	if (parser_init(im) < 0) {
		free(im);
		return NULL;
	}
	return im;
}

void csvimport_free(struct csvimport *im)
{
	if (im == NULL)
		return;
	if (im->csv_ready)
		csv_free(&im->csv);
	for (size_t i = 0; i < CSVIMPORT_MAX_COLUMNS; i++)
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
	free(im);
}

int csvimport_feed(struct csvimport *im, const char *p, size_t n)
{
	size_t skip = 0;

	if (!im->started && n > 0) {
		im->started = 1;
		if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
			skip = 3;    /* UTF-8 byte order mark */
	}
	if (!im->fatal)
		feed_block(im, p + skip, n - skip);
	return im->fatal ? -1 : 0;
}

void csvimport_finish(struct csvimport *im)
{
	if (!im->fatal && csv_fini(&im->csv, on_field, on_record, im) != 0)
		errlist_add(&im->errs, im->rec.line, col_label(im,
			    im->rec.n_fields), "quoted field not closed at "
			    "the end of the file");
	if (!im->have_header && !im->fatal)
		errlist_add(&im->errs, 1, NULL, "no header line (expected "
			    "column names: mac, profile, ...)");
}

void csvimport_parse(struct csvimport *im, const char *buf, size_t n)
{
	csvimport_feed(im, buf, n);
	csvimport_finish(im);
}

int csvimport_header_ok(const struct csvimport *im)
{
	return im->have_header && !im->header_bad;
}

const struct db_import_row *csvimport_rows(const struct csvimport *im,
					   size_t *n)
{
	*n = im->n_rows;
	return im->rows;
}

unsigned long csvimport_row_line(const struct csvimport *im, size_t i)
{
	return i < im->n_rows ? im->row_lines[i] : 0;
}

const char *csvimport_mac_label(const struct csvimport *im)
{
	return im->col_mac >= 0 && im->cols[im->col_mac].label != NULL
		       ? im->cols[im->col_mac].label : "mac";
}

void csvimport_add_error(struct csvimport *im, unsigned long line,
			 const char *column, const char *fmt, ...)
{
	char *reason = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&reason, fmt, ap) < 0)
		reason = NULL;
	va_end(ap);
	errlist_add(&im->db_errs, line, column, "%s",
		    reason != NULL ? reason : "out of memory");
	free(reason);
}

size_t csvimport_n_errors(const struct csvimport *im)
{
	return im->errs.total + im->db_errs.total;
}

void csvimport_print_errors(const struct csvimport *im, FILE *f)
{
	errlists_print(f, im->file, &im->errs, &im->db_errs);
}
