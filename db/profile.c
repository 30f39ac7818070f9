#include "config.h"

#include <stdlib.h>

#include <sqlite3.h>

#include "db/internal.h"
#include "db/profile.h"

int db_profile_list(struct db *db,
		    int (*each)(void *ctx, const struct db_profile_info *p),
		    void *ctx, char **err)
{
	static const char sql[] =
		"SELECT p.name, p.body, p.updated,"
		" (SELECT count(*) FROM devices AS d WHERE d.profile = p.name)"
		" FROM profiles AS p ORDER BY p.name";
	sqlite3_stmt *s = db_stmt(db, sql);
	struct db_profile_info p;
	int rc;

	if (s == NULL) {
		db_set_err(db, err, "preparing profile list");
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		p.name = (const char *)sqlite3_column_text(s, 0);
		p.body = (const char *)sqlite3_column_text(s, 1);
		p.updated = (const char *)sqlite3_column_text(s, 2);
		p.devices = sqlite3_column_int64(s, 3);
		if (p.name == NULL || p.body == NULL || p.updated == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (each(ctx, &p) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		db_set_err(db, err, "listing profiles");
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* One integer from a query with ?1 = name; -1 on error. */
static long long count_of(struct db *db, const char *sql, const char *name)
{
	sqlite3_stmt *s = db_stmt(db, sql);
	long long n = -1;

	if (s == NULL)
		return -1;
	db_bind_text(s, 1, name);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n;
}

int db_profile_rm(struct db *db, const char *name, int force,
		  long long *devices, char **err)
{
	static const char exists[] =
		"SELECT count(*) FROM profiles WHERE name = ?1";
	static const char users[] =
		"SELECT count(*) FROM devices WHERE profile = ?1";
	static const char del[] = "DELETE FROM profiles WHERE name = ?1";
	sqlite3_stmt *s;
	long long found;
	int result = DB_ERROR;

	if (db_exec_retry(db, "BEGIN IMMEDIATE", err) < 0)
		return DB_ERROR;
	found = count_of(db, exists, name);
	*devices = count_of(db, users, name);
	if (found < 0 || *devices < 0) {
		db_set_err(db, err, "reading profile");
		goto out;
	}
	if (found == 0) {
		result = DB_NOTFOUND;
		goto out;
	}
	if (*devices > 0 && !force) {
		result = DB_EXISTS;
		goto out;
	}
	if ((s = db_stmt(db, del)) == NULL) {
		db_set_err(db, err, "preparing profile delete");
		goto out;
	}
	db_bind_text(s, 1, name);
	if (db_step_done(db, s, err, "deleting profile") < 0 ||
	    db_exec_retry(db, "COMMIT", err) < 0)
		goto out;
	return DB_OK;
out:
	sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	return result;
}
