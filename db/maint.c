#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/internal.h"
#include "db/maint.h"

#define BACKUP_PAGES 256      /* pages copied per step */
#define BACKUP_PAUSE_US 5000  /* between steps, so writers get the lock */
#define BACKUP_MAX_BUSY_STEPS 6000 /* 30 s of a source locked by others */

int db_backup(struct db *db, const char *dest, char **err)
{
	sqlite3 *out = NULL;
	sqlite3_backup *b;
	struct stat st;
	int rc, busy_steps = 0;

	int fd;

	if (stat(dest, &st) == 0) {
		*err = db_fmt_err("%s exists: refusing to overwrite it", dest);
		return -1;
	}
	/* the copy holds every SIP secret: owner-only, like the original */
	fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*err = db_fmt_err("%s: %s", dest, strerror(errno));
		return -1;
	}
	close(fd);
	if (sqlite3_open_v2(dest, &out, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		*err = db_fmt_err("%s: %s", dest, out ? sqlite3_errmsg(out)
						     : "cannot create");
		sqlite3_close(out);
		return -1;
	}
	b = sqlite3_backup_init(out, "main", db->sql, "main");
	if (b == NULL) {
		*err = db_fmt_err("%s: %s", dest, sqlite3_errmsg(out));
		sqlite3_close(out);
		unlink(dest);
		return -1;
	}
	do {
		rc = sqlite3_backup_step(b, BACKUP_PAGES);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
			if (++busy_steps > BACKUP_MAX_BUSY_STEPS)
				break; /* locked by someone else for too long */
		} else {
			busy_steps = 0;
		}
		if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			usleep(BACKUP_PAUSE_US);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		*err = db_fmt_err("backup to %s failed: %s", dest,
				  sqlite3_errstr(rc));
		sqlite3_close(out);
		unlink(dest);
		return -1;
	}
	/* the copy is a complete database on its own, not in WAL mode */
	sqlite3_exec(out, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
	sqlite3_close(out);
	return 0;
}

int db_check(struct db *db, void (*problem)(void *ctx, const char *what),
	     void *ctx, char **err)
{
	static const char *const checks[] = { "PRAGMA integrity_check",
					      "PRAGMA foreign_key_check" };
	int found = 0;

	for (size_t i = 0; i < 2; i++) {
		sqlite3_stmt *s = NULL;
		int rc;

		if (sqlite3_prepare_v2(db->sql, checks[i], -1, &s, NULL) !=
		    SQLITE_OK) {
			db_set_err(db, err, checks[i]);
			return -1;
		}
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *v = (const char *)sqlite3_column_text(s, 0);
			char line[512];

			if (i == 0 && v != NULL && strcmp(v, "ok") == 0)
				continue;
			if (i == 1)
				snprintf(line, sizeof(line), "table %s row %lld: "
					 "foreign key to %s is broken",
					 v ? v : "?",
					 (long long)sqlite3_column_int64(s, 1),
					 (const char *)sqlite3_column_text(s, 2));
			else
				snprintf(line, sizeof(line), "%s", v ? v : "?");
			problem(ctx, line);
			found++;
		}
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
			db_set_err(db, err, checks[i]);
			return -1;
		}
	}
	return found;
}
