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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl/csvimport.h"
#include "ctl/ctl.h"
#include "db/db.h"
#include "db/import.h"

/* Limits of `device import`. */
#define IMPORT_MAX_FILE (512ul << 20)   /* bytes per file */
#define IMPORT_READ_SIZE 65536          /* bytes per read() */

#define VAR_PREFIX "var:"

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
		CSVIMPORT_MAX_PROFILE, CSVIMPORT_MAX_DESCRIPTION,
		CSVIMPORT_MAX_FIELD, CSVIMPORT_MAX_ERRORS, IMPORT_MAX_FILE >> 20,
		CSVIMPORT_MAX_ROWS, CSVIMPORT_MAX_COLUMNS,
		CSVIMPORT_MAX_RECORD >> 10);
}

/* --- reading the file ---------------------------------------------------- */

/* Read and check the whole file.  Returns 0 (errors, if any, are in the
 * import) or -1 when the file cannot be read (reported). */
static int import_read(struct csvimport *im, const char *file,
		       const char *path)
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
		ctl_err("%s: larger than %lu MiB", file, IMPORT_MAX_FILE >> 20);
		goto out;
	}
	if ((buf = malloc(IMPORT_READ_SIZE)) == NULL) {
		ctl_err("out of memory");
		goto out;
	}
	while ((n = fread(buf, 1, IMPORT_READ_SIZE, f)) > 0) {
		if ((total += n) > IMPORT_MAX_FILE) {
			ctl_err("%s: larger than %lu MiB", file,
				IMPORT_MAX_FILE >> 20);
			goto out;
		}
		if (csvimport_feed(im, buf, n) < 0)
			break;
	}
	if (ferror(f)) {
		ctl_err("%s: %s", file, strerror(errno));
		goto out;
	}
	csvimport_finish(im);
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
	struct csvimport *im = ctx;
	size_t n;
	const char *mac = csvimport_rows(im, &n)[i].mac;
	unsigned long line = csvimport_row_line(im, i);

	switch (why) {
	case DB_IMPORT_EXISTS:
		csvimport_add_error(im, line, csvimport_mac_label(im),
				    "device %s already exists (use --update)",
				    mac);
		break;
	case DB_IMPORT_PENDING:
		csvimport_add_error(im, line, "status", "invalid status "
				    "'pending' (only spaprovd records devices "
				    "as pending)");
		break;
	case DB_IMPORT_TOO_MANY_VARS:
		csvimport_add_error(im, line, NULL, "device %s would have "
				    "more than %d variables", mac,
				    DB_MAX_VARS);
		break;
	}
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Check (and unless dry_run, write) everything; print the outcome. */
static int import_run(struct ctl *ctl, struct csvimport *im,
		      const char *file, const char *path, unsigned flags)
{
	struct db_import_result res = { 0, 0, 0 };
	const struct db_import_row *rows;
	struct db *db;
	char *err = NULL;
	size_t total, n_rows;

	if (import_read(im, file, path) < 0)
		return CTL_INVALID;
	rows = csvimport_rows(im, &n_rows);
	if (csvimport_header_ok(im)) {
		if ((db = ctl_db(ctl)) == NULL)
			return CTL_DBERROR;
		/* With errors in the file, the rows are still checked
		 * against the database, so that every error is reported. */
		if (csvimport_n_errors(im) > 0)
			flags |= DB_IMPORT_DRY_RUN;
		if (db_import_devices(db, rows, n_rows, flags, on_refuse, im,
				      &res, &err) < 0) {
			ctl_err("%s", err != NULL ? err : "database error");
			free(err);
			return CTL_DBERROR;
		}
	}
	total = csvimport_n_errors(im);
	if (total > 0) {
		csvimport_print_errors(im, stderr);
		ctl_err("%s: %zu %s, nothing imported", file, total,
			plural(total, "error", "errors"));
		return CTL_INVALID;
	}
	if (flags & DB_IMPORT_DRY_RUN)
		printf("dry run: %zu %s valid\n", n_rows,
		       plural(n_rows, "row", "rows"));
	else
		printf("imported %zu %s (%zu new, %zu updated) from %s\n",
		       n_rows, plural(n_rows, "device", "devices"),
		       res.added, res.updated, file);
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
	struct csvimport *im;
	const char *file;
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
	file = strcmp(argv[optind], "-") == 0 ? "<stdin>" : argv[optind];
	if ((im = csvimport_new(file)) == NULL) {
		ctl_err("out of memory");
		return CTL_DBERROR;
	}
	rc = import_run(ctl, im, file, argv[optind], flags);
	csvimport_free(im);
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
