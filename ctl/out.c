#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl/out.h"

#define OUT_MAX_CELL 60   /* table cells longer than this are cut */

struct out {
	int json;
	const struct out_col *cols;
	size_t ncols;
	char **cells;         /* rows * ncols */
	size_t rows, cap;
};

struct out *out_new(int json, const struct out_col *cols, size_t ncols)
{
	struct out *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->json = json;
	o->cols = cols;
	o->ncols = ncols;
	return o;
}

void out_row(struct out *o, const char *const *values)
{
	if (o == NULL)
		return;
	if (o->rows == o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 64;
		char **n = realloc(o->cells, ncap * o->ncols * sizeof(*n));

		if (n == NULL)
			return;
		o->cells = n;
		o->cap = ncap;
	}
	for (size_t i = 0; i < o->ncols; i++)
		o->cells[o->rows * o->ncols + i] =
			values[i] != NULL ? strdup(values[i]) : NULL;
	o->rows++;
}

/* A JSON string; bytes that are not valid UTF-8 become '?'. */
static json_t *json_text(const char *v)
{
	json_t *j = json_string(v);
	char *copy;

	if (j != NULL || (copy = strdup(v)) == NULL)
		return j != NULL ? j : json_null();
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j != NULL ? j : json_null();
}

static json_t *json_value(const struct out_col *col, const char *v)
{
	char *end;

	if (v == NULL)
		return json_null();
	if (col->type == OUT_INT) {
		long long n = strtoll(v, &end, 10);

		if (*v != '\0' && *end == '\0')
			return json_integer(n);
	} else if (col->type == OUT_REAL) {
		double d = strtod(v, &end);

		if (*v != '\0' && *end == '\0')
			return json_real(d);
	}
	return json_text(v);
}

static json_t *json_object_of(const struct out_col *cols, size_t ncols,
			      char *const *values)
{
	json_t *obj = json_object();

	for (size_t i = 0; i < ncols; i++)
		json_object_set_new(obj, cols[i].name,
				    json_value(&cols[i], values[i]));
	return obj;
}

/* Printable, cut to OUT_MAX_CELL bytes when cut is set. */
static void cell_cut(const char *v, char *buf, size_t size, int cut)
{
	size_t i;

	snprintf(buf, size, "%s", v != NULL ? v : "-");
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	if (cut && i > OUT_MAX_CELL)
		strcpy(buf + OUT_MAX_CELL - 3, "...");
}

static void cell_text(const char *v, char *buf, size_t size)
{
	cell_cut(v, buf, size, 1);
}

static void print_table(struct out *o)
{
	char buf[OUT_MAX_CELL * 4 + 1];
	size_t *w = calloc(o->ncols, sizeof(*w));

	if (w == NULL)
		return;
	for (size_t c = 0; c < o->ncols; c++)
		w[c] = strlen(o->cols[c].name);
	for (size_t r = 0; r < o->rows; r++)
		for (size_t c = 0; c < o->ncols; c++) {
			cell_text(o->cells[r * o->ncols + c], buf, sizeof(buf));
			if (strlen(buf) > w[c])
				w[c] = strlen(buf);
		}
	for (size_t c = 0; c < o->ncols; c++)
		printf("%-*s%s", (int)w[c], o->cols[c].name,
		       c + 1 < o->ncols ? "  " : "\n");
	for (size_t r = 0; r < o->rows; r++)
		for (size_t c = 0; c < o->ncols; c++) {
			cell_text(o->cells[r * o->ncols + c], buf, sizeof(buf));
			printf("%-*s%s", (int)w[c], buf,
			       c + 1 < o->ncols ? "  " : "\n");
		}
	free(w);
}

size_t out_finish(struct out *o)
{
	size_t rows;

	if (o == NULL)
		return 0;
	rows = o->rows;
	if (o->json) {
		json_t *arr = json_array();

		for (size_t r = 0; r < o->rows; r++)
			json_array_append_new(arr, json_object_of(
				o->cols, o->ncols, o->cells + r * o->ncols));
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	} else if (o->rows > 0) {
		print_table(o);
	}
	for (size_t i = 0; i < o->rows * o->ncols; i++)
		free(o->cells[i]);
	free(o->cells);
	free(o);
	return rows;
}

void out_record(int json, const struct out_col *cols, size_t ncols,
		const char *const *values)
{
	char buf[4096];
	size_t w = 0;

	if (json) {
		json_t *obj = json_object_of(cols, ncols, (char *const *)values);

		json_dumpf(obj, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(obj);
		return;
	}
	for (size_t i = 0; i < ncols; i++)
		if (strlen(cols[i].name) > w)
			w = strlen(cols[i].name);
	for (size_t i = 0; i < ncols; i++) {
		cell_cut(values[i], buf, sizeof(buf), 0); /* one value a line */
		printf("%-*s  %s\n", (int)w + 1, cols[i].name, buf);
	}
}
