#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "db/db.h"
#include "db/maint.h"

static void db_usage(FILE *f)
{
	fprintf(f, "Usage: spaprovctl db backup FILE\n"
		   "       spaprovctl db check\n"
		   "backup: a consistent copy of the database, made with "
		   "SQLite's online backup\n        API while spaprovd keeps "
		   "running; FILE must not exist.\n"
		   "check:  SQLite's integrity and foreign key checks; exit 0 "
		   "when clean, 4 when\n        problems were found.\n");
}

static void print_problem(void *ctx, const char *what)
{
	(void)ctx;
	printf("problem: %s\n", what);
}

int cmd_db(struct ctl *ctl, int argc, char **argv)
{
	struct db *db;
	char *err = NULL;
	int n;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		db_usage(stdout);
		return CTL_OK;
	}
	if (!((argc == 3 && strcmp(argv[1], "backup") == 0) ||
	      (argc == 2 && strcmp(argv[1], "check") == 0))) {
		db_usage(stderr);
		return CTL_USAGE;
	}
	if ((db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	if (strcmp(argv[1], "backup") == 0) {
		if (db_backup(db, argv[2], &err) < 0) {
			ctl_err("%s", err ? err : "backup failed");
			free(err);
			return CTL_DBERROR;
		}
		printf("backup written to %s\n", argv[2]);
		return CTL_OK;
	}
	n = db_check(db, print_problem, NULL, &err);
	if (n < 0) {
		ctl_err("%s", err ? err : "check failed");
		free(err);
		return CTL_DBERROR;
	}
	if (n > 0) {
		ctl_err("%d problem%s found", n, n == 1 ? "" : "s");
		return CTL_DBERROR;
	}
	printf("database OK (schema version %d)\n", db_schema_version(db));
	return CTL_OK;
}
