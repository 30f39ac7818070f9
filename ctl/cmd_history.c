#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "db/db.h"
#include "util/mac.h"

static void history_usage(FILE *f)
{
	fprintf(f, "Usage: spaprovctl history [MAC] [--limit N]\n"
		   "The most recent requests (default 100), newest first; "
		   "all of them are in the\nresync_history view of the "
		   "database.\n");
}

struct table {
	int header_done;
};

/* Tab-free, fixed layout: values are untrusted (User-Agent, paths), so
 * control characters are shown as '?'. */
static void print_cell(const char *v, int width)
{
	char buf[128];
	size_t i;

	snprintf(buf, sizeof(buf), "%s", v != NULL ? v : "-");
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	printf("%-*s ", width, buf);
}

static int print_row(void *ctx, int ncols, const char *const *names,
		     const char *const *values)
{
	static const int widths[] = { 23, 12, 16, 10, 6, 22, 12, 10, 7, 32,
				      15, 24, 0 };
	struct table *t = ctx;
	int n = ncols < 13 ? ncols : 13;

	if (!t->header_done) {
		for (int i = 0; i < n; i++)
			print_cell(names[i], widths[i]);
		putchar('\n');
		t->header_done = 1;
	}
	for (int i = 0; i < n; i++)
		print_cell(values[i], widths[i]);
	putchar('\n');
	return 0;
}

int cmd_history(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct db_history_filter f = { .limit = 100 };
	struct table t = { 0 };
	char mac[MAC_LEN + 1], *end, *err = NULL;
	struct db *db;
	int ch;

	optind = 0; /* glibc: fully reset getopt, including the "+" mode */
	while ((ch = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			f.limit = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || f.limit < 1 || f.limit > 1000000) {
				ctl_err("--limit: expected a number from 1 to "
					"1000000");
				return CTL_INVALID;
			}
			break;
		case 'h': history_usage(stdout); return CTL_OK;
		default: history_usage(stderr); return CTL_USAGE;
		}
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
		f.mac = mac;
	}
	if ((db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	if (db_history(db, &f, print_row, &t, &err) < 0) {
		ctl_err("%s", err ? err : "database error");
		free(err);
		return CTL_DBERROR;
	}
	if (!t.header_done && f.mac != NULL) {
		ctl_err("no requests recorded for %s", f.mac);
		return CTL_NOTFOUND;
	}
	return CTL_OK;
}
