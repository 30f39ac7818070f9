#include "config.h"

#include <sqlite3.h>

#include "db/internal.h"
#include "db/txn.h"

static int run(struct db *db, const char *sql)
{
	sqlite3_stmt *s = db_stmt(db, sql);
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

void db_no_checkpoint(struct db *db)
{
	sqlite3_wal_autocheckpoint(db->sql, 0);
}

int db_read_begin(struct db *db)
{
	static const char begin[] = "BEGIN";

	if (!sqlite3_get_autocommit(db->sql))
		return -1; /* one is open already: not ours to end */
	return run(db, begin);
}

void db_read_end(struct db *db)
{
	static const char end[] = "COMMIT";

	if (!sqlite3_get_autocommit(db->sql))
		run(db, end);
}
