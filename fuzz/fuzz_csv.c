#include "config.h"

/* fuzz_csv: the CSV inventory reader of `spaprovctl device import`
 * (ctl/csvimport.c) on arbitrary bytes, as file "in.csv".
 *
 * The input is parsed twice: in one chunk, and in two chunks split in its
 * middle (the command reads files in blocks, so a block may end anywhere).
 * Invariants:
 *  - both parses give the same rows and the same error report;
 *  - every error line reads "in.csv:LINE: ..." with LINE between 1 and
 *    the number of lines of the input (LF, CRLF and a lone CR each end
 *    one), except a last "... and N more"; at most CSVIMPORT_MAX_ERRORS
 *    lines before it;
 *  - without a usable header there is an error;
 *  - every row kept has a MAC of 12 lower-case hex digits, distinct from
 *    the other rows', a line within the input, not before the previous
 *    row's, a known status or none, a profile and description within
 *    their limits, and variables with a name and a non-empty value. */

#include <stdlib.h>
#include <string.h>

#include "ctl/csvimport.h"
#include "fuzz/fuzz.h"

#define FILE_NAME "in.csv"

static unsigned long count_lines(const uint8_t *data, size_t size)
{
	unsigned long lines = 1;

	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n')
			lines++;
		else if (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n'))
			lines++;
	}
	return lines;
}

static char *report(const struct csvimport *ci)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		abort();
	csvimport_print_errors(ci, f);
	if (fclose(f) != 0)
		abort();
	return text;
}

static void check_report(const char *text, unsigned long lines)
{
	const char *p = text;
	size_t n = 0, prefix = strlen(FILE_NAME ":");

	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		unsigned long line;
		char *end;

		FUZZ_CHECK(eol != NULL);           /* every line ends */
		if (strncmp(p, "... and ", 8) == 0) {
			FUZZ_CHECK(eol[1] == '\0');  /* only last */
			FUZZ_CHECK(n == CSVIMPORT_MAX_ERRORS);
			break;
		}
		FUZZ_CHECK(strncmp(p, FILE_NAME ":", prefix) == 0);
		FUZZ_CHECK(p[prefix] >= '1' && p[prefix] <= '9');
		line = strtoul(p + prefix, &end, 10);
		FUZZ_CHECK(line >= 1 && line <= lines);
		FUZZ_CHECK(end[0] == ':' && end[1] == ' ' && end + 2 < eol);
		n++;
		FUZZ_CHECK(n <= CSVIMPORT_MAX_ERRORS);
		p = eol + 1;
	}
}

static int mac_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_rows(const struct csvimport *ci, unsigned long lines)
{
	size_t n;
	const struct db_import_row *rows = csvimport_rows(ci, &n);
	unsigned long prev = 1;
	const char **macs;

	if (n == 0)
		return;
	FUZZ_CHECK(csvimport_header_ok(ci));
	if ((macs = calloc(n, sizeof(*macs))) == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct db_import_row *r = &rows[i];
		unsigned long line = csvimport_row_line(ci, i);

		FUZZ_CHECK(fuzz_is_mac(r->mac));
		macs[i] = r->mac;
		FUZZ_CHECK(line > prev && line <= lines); /* header first */
		prev = line;
		FUZZ_CHECK(r->status == NULL ||
			   strcmp(r->status, "enabled") == 0 ||
			   strcmp(r->status, "disabled") == 0 ||
			   strcmp(r->status, "pending") == 0);
		FUZZ_CHECK(r->profile == NULL ||
			   (r->profile[0] != '\0' &&
			    strlen(r->profile) <= CSVIMPORT_MAX_PROFILE));
		FUZZ_CHECK(r->description == NULL ||
			   (r->description[0] != '\0' &&
			    strlen(r->description) <=
				    CSVIMPORT_MAX_DESCRIPTION));
		FUZZ_CHECK(r->n_vars <= CSVIMPORT_MAX_COLUMNS);
		for (size_t k = 0; k < r->n_vars; k++) {
			FUZZ_CHECK(r->vars[k].name[0] != '\0');
			FUZZ_CHECK(r->vars[k].value[0] != '\0');
			FUZZ_CHECK(strlen(r->vars[k].value) <=
				   CSVIMPORT_MAX_FIELD);
		}
	}
	qsort(macs, n, sizeof(*macs), mac_cmp);
	for (size_t i = 1; i < n; i++)
		FUZZ_CHECK(strcmp(macs[i - 1], macs[i]) != 0);
	free(macs);
}

static int rows_equal(const struct csvimport *a, const struct csvimport *b)
{
	size_t na, nb;
	const struct db_import_row *ra = csvimport_rows(a, &na),
				   *rb = csvimport_rows(b, &nb);

	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++) {
		if (strcmp(ra[i].mac, rb[i].mac) != 0 ||
		    csvimport_row_line(a, i) != csvimport_row_line(b, i) ||
		    ra[i].n_vars != rb[i].n_vars)
			return 0;
		for (size_t k = 0; k < ra[i].n_vars; k++)
			if (strcmp(ra[i].vars[k].value,
				   rb[i].vars[k].value) != 0)
				return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csvimport *one = csvimport_new(FILE_NAME);
	struct csvimport *two = csvimport_new(FILE_NAME);
	unsigned long lines = count_lines(data, size);
	size_t half = size / 2;
	char *text_one, *text_two;

	if (one == NULL || two == NULL)
		abort();
	/* A byte order mark is only looked for in a first chunk of three
	 * bytes or more, as the command reads files. */
	if (half < 3)
		half = size;
	csvimport_parse(one, (const char *)data, size);
	if (csvimport_feed(two, (const char *)data, half) == 0)
		csvimport_feed(two, (const char *)data + half, size - half);
	csvimport_finish(two);

	text_one = report(one);
	text_two = report(two);
	check_report(text_one, lines);
	FUZZ_CHECK(strcmp(text_one, text_two) == 0);
	FUZZ_CHECK(csvimport_n_errors(one) == csvimport_n_errors(two));
	FUZZ_CHECK(csvimport_header_ok(one) == csvimport_header_ok(two));
	if (!csvimport_header_ok(one))
		FUZZ_CHECK(csvimport_n_errors(one) > 0);
	check_rows(one, lines);
	FUZZ_CHECK(rows_equal(one, two));

	free(text_one);
	free(text_two);
	csvimport_free(one);
	csvimport_free(two);
	return 0;
}
