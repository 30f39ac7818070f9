/* out: how spaprovctl prints results: an aligned table for people or,
 * with --json, a JSON array of objects for scripts.  Values from the
 * network (User-Agents, subjects, paths) are shown with control
 * characters replaced in tables and escaped by jansson in JSON. */
#ifndef SPAPROV_CTL_OUT_H
#define SPAPROV_CTL_OUT_H

#include <stddef.h>

enum out_type { OUT_TEXT, OUT_INT, OUT_REAL };

struct out_col {
	const char *name;    /* column title and JSON key */
	enum out_type type;  /* JSON type (NULL values stay null) */
};

struct out;

struct out *out_new(int json, const struct out_col *cols, size_t ncols);
/* Add a row of ncols values (any may be NULL). */
void out_row(struct out *o, const char *const *values);
/* Print everything; returns the number of rows.  Frees o. */
size_t out_finish(struct out *o);

/* One record as "name: value" lines, or one JSON object. */
void out_record(int json, const struct out_col *cols, size_t ncols,
		const char *const *values);

#endif
