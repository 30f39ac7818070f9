#include "config.h"

/* web-admin/api_import: the inventory as CSV, in the format of
 * `spaprovctl device import` / `device export`: a header naming the
 * columns mac, status, profile, description and var:NAME, in any order;
 * an empty cell sets nothing.
 *   POST /api/v1/devices/import?update=1&dry_run=1   body: the CSV
 *        -> {"added", "updated", "errors": [{"line", "column", "error"}]}
 *        all rows or none: with any error nothing is written (422)
 *   GET  /api/v1/devices/export.csv?status=&profile=&reveal=1 */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h>

#include "db/db.h"
#include "db/import.h"
#include "tmpl/builtins.h"
#include "tmpl/tmpl.h"
#include "util/mac.h"
#include "web-admin/internal.h"

#define IMPORT_MAX_COLUMNS 256
#define IMPORT_MAX_ROWS 200000        /* devices per upload */
#define IMPORT_MAX_ERRORS 200         /* errors reported */
#define IMPORT_MAX_PROFILE 64
#define IMPORT_MAX_DESCRIPTION 1024
#define VAR_PREFIX "var:"

enum col_kind { COL_MAC, COL_STATUS, COL_PROFILE, COL_DESCRIPTION, COL_VAR };

struct row {
	struct db_import_row r;
	unsigned long line;
	char **cells;                    /* what r points into */
	size_t ncells;
};

struct import {
	struct areq *req;
	enum col_kind kind[IMPORT_MAX_COLUMNS];
	char *var[IMPORT_MAX_COLUMNS];   /* COL_VAR: the variable name */
	size_t ncols;
	int have_header, have_mac;
	/* the record being read */
	char **cells;
	size_t ncells;
	unsigned long line;              /* where the record ends */
	/* the rows read */
	struct row *rows;
	size_t nrows, caprows;
	json_t *errors;
	size_t nerrors;
	int oom;
};

static void add_error(struct import *im, unsigned long line,
		      const char *column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add_error(struct import *im, unsigned long line,
		      const char *column, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (im->nerrors++ >= IMPORT_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(im->errors,
			      json_pack("{s:I, s:o, s:o}", "line",
					(json_int_t)line, "column",
					admin_json_text(column), "error",
					admin_json_text(msg)));
}

static void on_field(void *s, size_t len, void *ctx)
{
	struct import *im = ctx;
	char **nc;

	if (im->ncells >= IMPORT_MAX_COLUMNS + 1)
		return;
	nc = realloc(im->cells, (im->ncells + 1) * sizeof(*nc));
	if (nc == NULL) {
		im->oom = 1;
		return;
	}
	im->cells = nc;
	im->cells[im->ncells] = strndup(s != NULL ? s : "", len);
	if (im->cells[im->ncells] == NULL)
		im->oom = 1;
	else
		im->ncells++;
}

static void header(struct import *im)
{
	static const char *const fixed[] = { "mac", "status", "profile",
					     "description" };
	const char *c;

	for (size_t i = 0; i < im->ncells && i < IMPORT_MAX_COLUMNS; i++) {
		c = im->cells[i];
		if (i == 0 && strncmp(c, "\xef\xbb\xbf", 3) == 0)
			c += 3;  /* byte order mark */
		im->kind[i] = COL_VAR;
		for (size_t k = 0; k < 4; k++)
			if (strcmp(c, fixed[k]) == 0)
				im->kind[i] = (enum col_kind)k;
		if (im->kind[i] == COL_MAC)
			im->have_mac = 1;
		if (im->kind[i] != COL_VAR)
			continue;
		if (strncmp(c, VAR_PREFIX, 4) != 0 || !tmpl_name_valid(c + 4) ||
		    tmpl_is_builtin(c + 4))
			add_error(im, im->line, c, "unknown column (expected "
				  "mac, status, profile, description or "
				  "var:NAME)");
		im->var[i] = strdup(c + 4);
	}
	im->ncols = im->ncells;
	if (im->ncells > IMPORT_MAX_COLUMNS)
		add_error(im, im->line, NULL, "more than %d columns",
			  IMPORT_MAX_COLUMNS);
	if (!im->have_mac)
		add_error(im, im->line, "mac", "required column missing");
}

/* One cell of a data record into row. */
static void cell(struct import *im, struct row *row, size_t i,
		 struct db_var *vars, size_t *nvars)
{
	const char *v = im->cells[i];

	if (v[0] == '\0' && im->kind[i] != COL_MAC)
		return;
	switch (im->kind[i]) {
	case COL_MAC:
		if (mac_normalize(v, row->r.mac) < 0)
			add_error(im, row->line, "mac", "not a MAC address");
		break;
	case COL_STATUS:
		if (strcmp(v, "enabled") != 0 && strcmp(v, "disabled") != 0)
			add_error(im, row->line, "status",
				  "expected enabled or disabled");
		row->r.status = v;
		break;
	case COL_PROFILE:
		if (strlen(v) > IMPORT_MAX_PROFILE)
			add_error(im, row->line, "profile", "longer than %d "
				  "bytes", IMPORT_MAX_PROFILE);
		row->r.profile = v;
		break;
	case COL_DESCRIPTION:
		if (strlen(v) > IMPORT_MAX_DESCRIPTION)
			add_error(im, row->line, "description", "longer than "
				  "%d bytes", IMPORT_MAX_DESCRIPTION);
		row->r.description = v;
		break;
	case COL_VAR:
		if (strlen(v) > DB_MAX_VALUE)
			add_error(im, row->line, im->var[i], "longer than %d "
				  "bytes", DB_MAX_VALUE);
		vars[*nvars].name = im->var[i];
		vars[(*nvars)++].value = (char *)v;
		break;
	}
}

static void data_record(struct import *im)
{
	struct row *row;
	struct db_var *vars;
	size_t nvars = 0;

	if (im->ncells != im->ncols) {
		add_error(im, im->line, NULL, "%zu fields, the header has %zu",
			  im->ncells, im->ncols);
		return;
	}
	if (im->nrows == IMPORT_MAX_ROWS) {
		add_error(im, im->line, NULL, "more than %d devices",
			  IMPORT_MAX_ROWS);
		return;
	}
	if (im->nrows == im->caprows) {
		size_t cap = im->caprows ? im->caprows * 2 : 256;
		struct row *nr = realloc(im->rows, cap * sizeof(*nr));

		if (nr == NULL) {
			im->oom = 1;
			return;
		}
		im->rows = nr;
		im->caprows = cap;
	}
	vars = calloc(im->ncols, sizeof(*vars));
	if (vars == NULL) {
		im->oom = 1;
		return;
	}
	row = &im->rows[im->nrows++];
	memset(row, 0, sizeof(*row));
	row->line = im->line;
	for (size_t i = 0; i < im->ncells; i++)
		cell(im, row, i, vars, &nvars);
	row->r.vars = vars;
	row->r.n_vars = nvars;
	/* the row keeps the cells it points to */
	row->cells = im->cells;
	row->ncells = im->ncells;
	im->cells = NULL;
	im->ncells = 0;
}

static void on_record(int c, void *ctx)
{
	struct import *im = ctx;

	(void)c;
	if (!im->have_header) {
		header(im);
		im->have_header = 1;
	} else {
		data_record(im);
	}
	/* cells not kept by a row (header, bad record) */
	for (size_t i = 0; i < im->ncells; i++)
		free(im->cells[i]);
	free(im->cells);
	im->cells = NULL;
	im->ncells = 0;
}

/* Parse the body line by line, so that errors carry line numbers. */
static int parse(struct import *im, const char *buf, size_t len)
{
	struct csv_parser p;
	size_t pos = 0, n;
	const char *nl;

	if (csv_init(&p, CSV_STRICT | CSV_APPEND_NULL) != 0)
		return -1;
	while (pos < len && !im->oom) {
		nl = memchr(buf + pos, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - (buf + pos)) + 1 : len - pos;
		im->line++;
		if (csv_parse(&p, buf + pos, n, on_field, on_record, im) != n) {
			add_error(im, im->line, NULL, "%s",
				  csv_strerror(csv_error(&p)));
			break;
		}
		pos += n;
	}
	csv_fini(&p, on_field, on_record, im);
	csv_free(&p);
	return im->oom ? -1 : 0;
}

static void refused(void *ctx, size_t index, enum db_import_refusal why)
{
	struct import *im = ctx;
	static const char *const reasons[] = {
		[DB_IMPORT_EXISTS] = "device already registered (import with "
				     "update to change it)",
		[DB_IMPORT_PENDING] = "status pending",
		[DB_IMPORT_TOO_MANY_VARS] = "too many variables",
	};

	add_error(im, im->rows[index].line, "mac", "%s: %s",
		  im->rows[index].r.mac, reasons[why]);
}

static int by_mac(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a;
	const struct row *y = *(const struct row *const *)b;
	int c = strcmp(x->r.mac, y->r.mac);

	return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

/* The same MAC twice in one file is an error on the later line. */
static int check_duplicates(struct import *im)
{
	struct row **sorted = calloc(im->nrows + 1, sizeof(*sorted));

	if (sorted == NULL)
		return -1;
	for (size_t i = 0; i < im->nrows; i++)
		sorted[i] = &im->rows[i];
	qsort(sorted, im->nrows, sizeof(*sorted), by_mac);
	for (size_t i = 1; i < im->nrows; i++)
		if (sorted[i]->r.mac[0] &&
		    strcmp(sorted[i]->r.mac, sorted[i - 1]->r.mac) == 0)
			add_error(im, sorted[i]->line, "mac",
				  "%s also on line %lu", sorted[i]->r.mac,
				  sorted[i - 1]->line);
	free(sorted);
	return 0;
}

static void import_free(struct import *im)
{
	for (size_t i = 0; i < im->nrows; i++) {
		free((void *)im->rows[i].r.vars);
		for (size_t k = 0; k < im->rows[i].ncells; k++)
			free(im->rows[i].cells[k]);
		free(im->rows[i].cells);
	}
	free(im->rows);
	for (size_t i = 0; i < IMPORT_MAX_COLUMNS; i++)
		free(im->var[i]);
	for (size_t i = 0; i < im->ncells; i++)
		free(im->cells[i]);
	free(im->cells);
	json_decref(im->errors);
}

/* Contiguous db rows for db_import_devices(). */
static struct db_import_row *db_rows(const struct import *im)
{
	struct db_import_row *a = calloc(im->nrows + 1, sizeof(*a));

	for (size_t i = 0; a != NULL && i < im->nrows; i++)
		a[i] = im->rows[i].r;
	return a;
}

static enum MHD_Result import_reply(struct areq *r, struct import *im,
				    const struct db_import_result *res,
				    int dry_run)
{
	unsigned status = im->nerrors > 0 ? MHD_HTTP_UNPROCESSABLE_CONTENT
					  : MHD_HTTP_OK;
	json_t *errors = im->errors;

	im->errors = NULL;
	return admin_reply_json(
		r, status,
		json_pack("{s:I, s:I, s:I, s:b, s:b, s:I, s:o}", "rows",
			  (json_int_t)im->nrows, "added",
			  (json_int_t)(im->nerrors ? 0 : res->added), "updated",
			  (json_int_t)(im->nerrors ? 0 : res->updated),
			  "dry_run", dry_run, "written",
			  !dry_run && im->nerrors == 0, "error_count",
			  (json_int_t)im->nerrors, "errors", errors));
}

enum MHD_Result api_devices_import(struct areq *r)
{
	struct import *im = calloc(1, sizeof(*im));
	struct db_import_result res = { 0 };
	struct db_import_row *rows = NULL;
	unsigned flags = 0;
	char *err = NULL, detail[96];
	enum MHD_Result ret;

	if (im == NULL || (im->errors = json_array()) == NULL) {
		free(im);
		return MHD_NO;
	}
	im->req = r;
	if (admin_arg(r, "update") != NULL)
		flags |= DB_IMPORT_UPDATE;
	if (admin_arg(r, "dry_run") != NULL)
		flags |= DB_IMPORT_DRY_RUN;
	if (parse(im, r->body != NULL ? r->body : "", r->body_len) < 0 ||
	    check_duplicates(im) < 0) {
		ret = admin_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
					"internal", "out of memory");
		goto out;
	}
	if (!im->have_header)
		add_error(im, 1, NULL, "empty file: expected a header line");
	if (im->nerrors == 0 && (rows = db_rows(im)) != NULL &&
	    db_import_devices(r->db, rows, im->nrows, flags, refused, im, &res,
			      &err) < 0) {
		ret = admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					"database-error", "%s", err ? err : "?");
		goto out;
	}
	if (im->nerrors == 0 && !(flags & DB_IMPORT_DRY_RUN)) {
		snprintf(detail, sizeof(detail), "%zu added, %zu updated",
			 res.added, res.updated);
		admin_audit(r, "devices-import", NULL, detail);
	}
	ret = import_reply(r, im, &res, (flags & DB_IMPORT_DRY_RUN) != 0);
out:
	free(rows);
	free(err);
	import_free(im);
	free(im);
	return ret;
}

/* --- export ------------------------------------------------------------- */

static const char *const secret_words[] = { "pass", "secret", "key", "pin",
					    "token" };

static int is_secret(const char *name)
{
	for (size_t w = 0; w < sizeof(secret_words) / sizeof(*secret_words);
	     w++)
		for (const char *p = name; *p != '\0'; p++)
			if (strncasecmp(p, secret_words[w],
					strlen(secret_words[w])) == 0)
				return 1;
	return 0;
}

/* One RFC 4180 field. */
static void csv_put(FILE *f, const char *prefix, const char *v, int first)
{
	size_t len = strlen(v);
	int quote = strpbrk(v, ",\"\r\n") != NULL ||
		    (len > 0 && (isspace((unsigned char)v[0]) ||
				 isspace((unsigned char)v[len - 1])));

	if (!first)
		fputc(',', f);
	if (quote)
		fputc('"', f);
	fputs(prefix, f);
	for (; *v != '\0'; v++) {
		if (*v == '"')
			fputc('"', f);
		fputc(*v, f);
	}
	if (quote)
		fputc('"', f);
}

struct exporter {
	FILE *out;
	int reveal;
	const char *const *names;
	size_t n_names;
};

static int export_header(void *ctx, const char *const *names, size_t n)
{
	struct exporter *ex = ctx;

	ex->names = names;
	ex->n_names = n;
	fputs("mac,status,profile,description", ex->out);
	for (size_t i = 0; i < n; i++)
		csv_put(ex->out, VAR_PREFIX, names[i], 0);
	fputs("\r\n", ex->out);
	return 0;
}

static int export_row(void *ctx, const struct db_export_device *d)
{
	struct exporter *ex = ctx;
	size_t v = 0;

	csv_put(ex->out, "", d->mac, 1);
	csv_put(ex->out, "", d->status, 0);
	csv_put(ex->out, "", d->profile != NULL ? d->profile : "", 0);
	csv_put(ex->out, "", d->description, 0);
	for (size_t i = 0; i < ex->n_names; i++) {
		const char *val = "";

		while (v < d->n_vars && strcmp(d->vars[v].name,
					       ex->names[i]) < 0)
			v++;
		if (v < d->n_vars && strcmp(d->vars[v].name,
					    ex->names[i]) == 0 &&
		    (ex->reveal || !is_secret(ex->names[i])))
			val = d->vars[v].value;
		csv_put(ex->out, "", val, 0);
	}
	fputs("\r\n", ex->out);
	return 0;
}

enum MHD_Result api_devices_export(struct areq *r)
{
	struct db_export_filter f = { .status = admin_arg(r, "status"),
				      .profile = admin_arg(r, "profile") };
	struct exporter ex = { .reveal = admin_arg(r, "reveal") != NULL };
	char *text = NULL, *err = NULL;
	size_t len = 0;
	enum MHD_Result ret;
	int rc;

	ex.out = open_memstream(&text, &len);
	if (ex.out == NULL)
		return MHD_NO;
	rc = db_export_devices(r->db, &f, export_header, export_row, &ex,
			       &err);
	fclose(ex.out);
	if (rc < 0) {
		free(text);
		ret = admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					"database-error", "%s", err ? err : "?");
		free(err);
		return ret;
	}
	admin_audit(r, "devices-export", NULL,
		    ex.reveal ? "with secrets" : NULL);
	r->disposition = "attachment; filename=\"spaprov-devices.csv\"";
	return admin_reply(r, MHD_HTTP_OK, "text/csv; charset=utf-8", text,
			   len, 1);
}
