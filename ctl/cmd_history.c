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
#include "server/outcome.h"
#include "util/mac.h"

#define MAX_LISTENER_NAME 64   /* longer than any listener name */

static void history_usage(FILE *f)
{
	fprintf(f,
		"Usage: spaprovctl history [MAC] [--since T] [--until T] "
		"[--status N]\n"
		"                          [--outcome NAME] [--listener NAME] "
		"[--limit N] [--json]\n"
		"The most recent matching requests (default %d), newest "
		"first, times in UTC.\nT: 2026-11-23, 2026-11-23T10:00 (UTC) "
		"or an age: 30m, 2h, 7d, 2w;\n--since T includes T, --until "
		"T excludes it.  Every request is also in the\n"
		"resync_history view of the database.\n",
		DB_HISTORY_DEFAULT_LIMIT);
}

static const struct out_col history_cols[] = {
	{ "id", OUT_INT }, { "ts", OUT_TEXT }, { "mac", OUT_TEXT },
	{ "description", OUT_TEXT }, { "listener", OUT_TEXT },
	{ "status", OUT_INT }, { "outcome", OUT_TEXT },
	{ "model", OUT_TEXT }, { "firmware", OUT_TEXT },
	{ "tls_version", OUT_TEXT }, { "cipher", OUT_TEXT },
	{ "remote_addr", OUT_TEXT }, { "path", OUT_TEXT },
	{ "detail", OUT_TEXT },
};
#define HISTORY_NCOLS (sizeof(history_cols) / sizeof(history_cols[0]))

static int add_row(void *ctx, int ncols, const char *const *names,
		   const char *const *values)
{
	(void)names;
	if ((size_t)ncols != HISTORY_NCOLS)
		return -1; /* db/history.h and this table disagree */
	out_row(ctx, values);
	return 0;
}

static int outcome_known(const char *name)
{
	static const char *const names[] = {
#define X(id, n, s) n,
		OUTCOME_LIST(X)
#undef X
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* A number from lo to hi, or -1 after saying what is wrong. */
static int number_arg(const char *opt, const char *text, int lo, int hi)
{
	char *end;
	long n = strtol(text, &end, 10);

	if (*text == '\0' || *end != '\0' || n < lo || n > hi) {
		ctl_err("%s: expected a number from %d to %d", opt, lo, hi);
		return -1;
	}
	return (int)n;
}

static int time_arg(const char *opt, const char *text, char out[32])
{
	char *err = NULL;

	if (db_time_arg(text, time(NULL), out, &err) < 0) {
		ctl_err("%s %s", opt, err ? err : "invalid time");
		free(err);
		return -1;
	}
	return 0;
}

struct history_opts {
	struct db_history_query q;
	char since[32], until[32];
	int json;
};

/* One option into h; CTL_OK or the exit code. */
static int history_opt(int ch, struct history_opts *h)
{
	switch (ch) {
	case 's':
		h->q.since = h->since;
		return time_arg("--since", optarg, h->since) < 0 ? CTL_INVALID
								 : CTL_OK;
	case 'u':
		h->q.until = h->until;
		return time_arg("--until", optarg, h->until) < 0 ? CTL_INVALID
								 : CTL_OK;
	case 'S':
		h->q.status = number_arg("--status", optarg, 100, 599);
		return h->q.status < 0 ? CTL_INVALID : CTL_OK;
	case 'o':
		if (!outcome_known(optarg)) {
			ctl_err("--outcome: unknown outcome '%s' (see "
				"schema/README.md)", optarg);
			return CTL_INVALID;
		}
		h->q.outcome = optarg;
		return CTL_OK;
	case 'l':
		if (strlen(optarg) > MAX_LISTENER_NAME) {
			ctl_err("--listener: name too long");
			return CTL_INVALID;
		}
		h->q.listener = optarg;
		return CTL_OK;
	case 'n':
		h->q.limit = number_arg("--limit", optarg, 1,
					DB_HISTORY_MAX_LIMIT);
		return h->q.limit < 0 ? CTL_INVALID : CTL_OK;
	case 'j':
		h->json = 1;
		return CTL_OK;
	default:
		history_usage(stderr);
		return CTL_USAGE;
	}
}

/* After an empty answer for a MAC: exit 2 if it was never seen at all. */
static int never_seen(struct db *db, const char *mac)
{
	char *err = NULL;
	int rc = db_history_seen(db, mac, &err);

	if (rc == DB_NOTFOUND)
		ctl_err("no requests recorded for %s", mac);
	else if (rc != DB_OK)
		ctl_err("%s", err ? err : "database error");
	free(err);
	return rc == DB_OK ? CTL_OK : rc == DB_NOTFOUND ? CTL_NOTFOUND
							: CTL_DBERROR;
}

int cmd_history(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "status", required_argument, NULL, 'S' },
		{ "outcome", required_argument, NULL, 'o' },
		{ "listener", required_argument, NULL, 'l' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct history_opts h = { .q.limit = DB_HISTORY_DEFAULT_LIMIT };
	char mac[MAC_LEN + 1], *err = NULL;
	struct out *o;
	struct db *db;
	size_t rows;
	int ch, rc;

	optind = 0; /* glibc: fully reset getopt, including the "+" mode */
	while ((ch = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		if (ch == 'h') {
			history_usage(stdout);
			return CTL_OK;
		}
		if ((rc = history_opt(ch, &h)) != CTL_OK)
			return rc;
	}
	if (argc - optind > 1) {
		history_usage(stderr);
		return CTL_USAGE;
	}
	if (argc - optind == 1) {
		if (mac_normalize(argv[optind], mac) < 0) {
			ctl_err("invalid MAC address '%s'", argv[optind]);
			return CTL_INVALID;
		}
		h.q.mac = mac;
	}
	if ((db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	if ((o = out_new(h.json, history_cols, HISTORY_NCOLS)) == NULL) {
		ctl_err("out of memory");
		return CTL_DBERROR;
	}
	if (db_history_find(db, &h.q, add_row, o, &err) < 0) {
		ctl_err("%s", err ? err : "database error");
		free(err);
		out_finish(o);
		return CTL_DBERROR;
	}
	rows = out_finish(o);
	if (rows == 0 && h.q.mac != NULL)
		return never_seen(db, h.q.mac);
	return CTL_OK;
}
