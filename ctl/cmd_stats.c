#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "ctl/out.h"
#include "db/db.h"
#include "db/history.h"

#define STATS_MAX_COLS 8   /* columns of the widest section */

static void stats_usage(FILE *f)
{
	fprintf(f,
		"Usage: spaprovctl stats [--since T] [--json]\n"
		"Firmware census per model (devices), TLS versions and "
		"ciphers per listener,\nfailures and spoof attempts per UTC "
		"day, issuers of untrusted client\ncertificates and failed "
		"handshakes.  --since T (2026-11-23, 2026-11-23T10:00\nUTC, "
		"or an age: 2h, 7d) counts requests and handshakes from T "
		"on and devices\nseen since T.  --json: one object, an "
		"array per section.\n");
}

/* Each section: its JSON key, its title, its columns (the query's). */
static const struct section {
	enum db_stats which;
	const char *key, *title;
	struct out_col cols[STATS_MAX_COLS];
	size_t ncols;
} sections[] = {
	{ DB_STATS_FIRMWARE, "firmware", "Firmware per model (devices)",
	  { { "model", OUT_TEXT }, { "firmware", OUT_TEXT },
	    { "devices", OUT_INT }, { "last_seen", OUT_TEXT } }, 4 },
	{ DB_STATS_TLS, "tls", "TLS versions and ciphers per listener "
	  "(requests)",
	  { { "listener", OUT_TEXT }, { "tls_version", OUT_TEXT },
	    { "cipher", OUT_TEXT }, { "resyncs", OUT_INT },
	    { "devices", OUT_INT } }, 5 },
	{ DB_STATS_FAILURES, "failures", "Failures (not 200) and spoof "
	  "attempts per day (UTC)",
	  { { "day", OUT_TEXT }, { "requests", OUT_INT },
	    { "failures", OUT_INT }, { "spoofs", OUT_INT } }, 4 },
	{ DB_STATS_ISSUERS, "untrusted_issuers", "Issuers of untrusted "
	  "client certificates",
	  { { "issuer", OUT_TEXT }, { "requests", OUT_INT },
	    { "addresses", OUT_INT }, { "verify", OUT_TEXT },
	    { "first", OUT_TEXT }, { "last", OUT_TEXT } }, 6 },
	{ DB_STATS_HANDSHAKES, "handshake_failures", "Failed TLS handshakes",
	  { { "listener", OUT_TEXT }, { "error", OUT_TEXT },
	    { "failures", OUT_INT }, { "addresses", OUT_INT },
	    { "last", OUT_TEXT } }, 5 },
};
#define N_SECTIONS (sizeof(sections) / sizeof(sections[0]))

struct section_out {
	const struct section *sec;
	struct out *o;
};

static int add_row(void *ctx, int ncols, const char *const *names,
		   const char *const *values)
{
	struct section_out *so = ctx;

	(void)names;
	if ((size_t)ncols != so->sec->ncols)
		return -1; /* db/history.h and this table disagree */
	out_row(so->o, values);
	return 0;
}

/* One section: a titled table, or "KEY": [...] inside the JSON object. */
static int print_section(struct db *db, const struct section *sec,
			 const char *since, int json, int first)
{
	struct section_out so = { .sec = sec };
	char *err = NULL;

	so.o = out_new(json, sec->cols, sec->ncols);
	if (so.o == NULL) {
		ctl_err("out of memory");
		return CTL_DBERROR;
	}
	if (db_stats(db, sec->which, since, add_row, &so, &err) < 0) {
		ctl_err("%s", err ? err : "database error");
		free(err);
		out_finish(so.o);
		return CTL_DBERROR;
	}
	if (json) {
		printf("%s\"%s\": ", first ? "" : ",\n", sec->key);
		out_finish(so.o);
	} else {
		printf("%s%s\n", first ? "" : "\n", sec->title);
		if (out_finish(so.o) == 0)
			printf("(none)\n");
	}
	return CTL_OK;
}

int cmd_stats(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char since[32], *err = NULL;
	const char *since_p = NULL;
	struct db *db;
	int ch, json = 0, rc = CTL_OK;

	optind = 0; /* glibc: fully reset getopt, including the "+" mode */
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (db_time_arg(optarg, time(NULL), since, &err) < 0) {
				ctl_err("--since %s", err ? err : "?");
				free(err);
				return CTL_INVALID;
			}
			since_p = since;
			break;
		case 'j': json = 1; break;
		case 'h': stats_usage(stdout); return CTL_OK;
		default: stats_usage(stderr); return CTL_USAGE;
		}
	}
	if (optind != argc) {
		stats_usage(stderr);
		return CTL_USAGE;
	}
	if ((db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	if (json)
		printf("{\n");
	for (size_t i = 0; i < N_SECTIONS && rc == CTL_OK; i++)
		rc = print_section(db, &sections[i], since_p, json, i == 0);
	if (json && rc == CTL_OK)
		printf("}\n");
	return rc;
}
