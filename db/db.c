#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db/db.h"
#include "db/internal.h"
#include "db/migrations.h"
#include "db/pin.h"

/* Statements prepared once per handle, indexed by enum stmt_id. */
enum stmt_id {
	ST_DEVICE_GET,
	ST_DEVICE_VARS,
	ST_DEVICE_INSERT,
	ST_VAR_INSERT,
	ST_PROFILE_GET,
	ST_PROFILE_SET,
	ST_RESYNC_INSERT,
	ST_DEVICE_SEEN,
	ST_DEVICE_SEEN_SAME,
	ST_DEVICE_PENDING,
	ST_HSFAIL_INSERT,
	ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
	[ST_DEVICE_GET] =
	"SELECT status, profile, description, model, serial, firmware,"
	" cert_issuer, cert_subject, created, updated, last_seen,"
	" (SELECT fingerprint FROM device_pins AS p WHERE p.mac = ?1)"
	" FROM devices WHERE mac = ?1",
	[ST_DEVICE_VARS] =
	"SELECT name, value FROM device_vars WHERE mac = ?1 ORDER BY name",
	[ST_DEVICE_INSERT] =
	"INSERT INTO devices (mac, status, profile, description, created,"
	" updated) VALUES (?1, 'enabled', ?2, ?3, ?4, ?4)",
	[ST_VAR_INSERT] =
	"INSERT OR REPLACE INTO device_vars (mac, name, value)"
	" VALUES (?1, ?2, ?3)",
	[ST_PROFILE_GET] = "SELECT body FROM profiles WHERE name = ?1",
	[ST_PROFILE_SET] =
	"INSERT INTO profiles (name, body, updated) VALUES (?1, ?2, ?3)"
	" ON CONFLICT(name) DO UPDATE SET body = excluded.body,"
	" updated = excluded.updated",
	[ST_RESYNC_INSERT] =
	"INSERT INTO resyncs (ts, listener, ca, remote_addr, mac,"
	" cert_subject, cert_issuer, cert_serial, verify, tls_version,"
	" cipher, user_agent, model, firmware, method, path, status, bytes,"
	" duration_ms, outcome, detail, ua_mac, ua_mismatch, tls_resumed,"
	" trust) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
	" ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
	[ST_DEVICE_SEEN] =
	"UPDATE devices SET last_seen = ?2,"
	" model = coalesce(?3, model), serial = coalesce(?4, serial),"
	" firmware = coalesce(?5, firmware),"
	" cert_issuer = coalesce(?6, cert_issuer),"
	" cert_subject = coalesce(?7, cert_subject) WHERE mac = ?1",
	/* ST_DEVICE_SEEN when it would change nothing but last_seen: an
	 * UPDATE that assigns model and firmware rewrites their index entry
	 * (a page of devices_model_firmware) even if they are unchanged */
	[ST_DEVICE_SEEN_SAME] =
	"UPDATE devices SET last_seen = ?2 WHERE mac = ?1"
	" AND model IS coalesce(?3, model) AND serial IS coalesce(?4, serial)"
	" AND firmware IS coalesce(?5, firmware)"
	" AND cert_issuer IS coalesce(?6, cert_issuer)"
	" AND cert_subject IS coalesce(?7, cert_subject)",
	[ST_DEVICE_PENDING] =
	"INSERT INTO devices (mac, status, model, serial, firmware,"
	" cert_issuer, cert_subject, description, created, updated,"
	" last_seen) VALUES (?1, 'pending', ?3, ?4, ?5, ?6, ?7,"
	" 'recorded by spaprovd', ?2, ?2, ?2) ON CONFLICT(mac) DO NOTHING",
	[ST_HSFAIL_INSERT] =
	"INSERT INTO handshake_failures (ts, listener, ca, remote_addr,"
	" error, client_hello) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
};

void db_set_err(struct db *db, char **err, const char *what)
{
	if (err != NULL)
		*err = db_fmt_err("%s: %s", what, sqlite3_errmsg(db->sql));
}

void db_timestamp(char out[32])
{
	struct timespec now;
	struct tm tm;
	char base[20];

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", base, (int)(now.tv_nsec / 1000000L) % 1000);
}

/* How long a statement is retried while another connection holds the
 * database locked; each try already waits up to busy_timeout_ms.  Long
 * enough for another process's transaction, bounded so that a lock that
 * is never released ends in an error (a 503 for the phone), not in
 * threads waiting forever. */
#define DB_BUSY_RETRY_MS 30000

/* SQLITE_BUSY or SQLITE_LOCKED, extended codes included. */
static int is_busy(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void busy_err(char **err, const char *what)
{
	if (err != NULL)
		*err = db_fmt_err("%s: database locked by another connection "
				  "for more than %d s", what,
				  DB_BUSY_RETRY_MS / 1000);
}

/* Run SQL without results; while busy, wait and retry (bounded). */
int db_exec_retry(struct db *db, const char *sql, char **err)
{
	long long give_up = now_ms() + DB_BUSY_RETRY_MS;
	int rc;

	for (;;) {
		rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
		if (!is_busy(rc) || now_ms() >= give_up)
			break;
		usleep(10000);
	}
	if (rc != SQLITE_OK) {
		if (is_busy(rc))
			busy_err(err, sql);
		else
			db_set_err(db, err, sql);
		return -1;
	}
	return 0;
}

sqlite3_stmt *db_stmt(struct db *db, const char *sql)
{
	size_t i;

	for (i = 0; i < db->n_stmts; i++)
		if (db->stmts[i].sql == sql)
			return db->stmts[i].stmt;
	if (i == DB_MAX_STMTS)
		return NULL;
	if (sqlite3_prepare_v3(db->sql, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &db->stmts[i].stmt, NULL) != SQLITE_OK) {
		sqlite3_finalize(db->stmts[i].stmt);
		db->stmts[i].stmt = NULL;
		return NULL;
	}
	db->stmts[i].sql = sql;
	db->n_stmts++;
	return db->stmts[i].stmt;
}

sqlite3_stmt *db_prepare(struct db *db, const char *sql, char **err)
{
	sqlite3_stmt *s = db_stmt(db, sql);

	if (s == NULL)
		db_set_err(db, err, "preparing query");
	return s;
}

static sqlite3_stmt *stmt(struct db *db, enum stmt_id id)
{
	return db_stmt(db, stmt_sql[id]);
}

void db_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Step a statement that returns no rows; retry while busy (bounded). */
int db_step_done(struct db *db, sqlite3_stmt *s, char **err,
		 const char *what)
{
	long long give_up = now_ms() + DB_BUSY_RETRY_MS;
	int rc;

	while (is_busy(rc = sqlite3_step(s)) && now_ms() < give_up) {
		sqlite3_reset(s);
		usleep(10000);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		if (is_busy(rc))
			busy_err(err, what);
		else
			db_set_err(db, err, what);
		return -1;
	}
	return 0;
}

static int migrate(struct db *db, char **err)
{
	int version = db_schema_version(db);

	if (version < 0) {
		db_set_err(db, err, "reading user_version");
		return -1;
	}
	if ((unsigned)version > db_migrations_count) {
		*err = db_fmt_err("database schema version %d is newer than this "
			       "program's (%u)", version, db_migrations_count);
		return -1;
	}
	for (unsigned v = (unsigned)version; v < db_migrations_count; v++) {
		char pragma[64];

		if (db_exec_retry(db, "BEGIN IMMEDIATE", err) < 0)
			return -1;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %u",
			 v + 1);
		if (sqlite3_exec(db->sql, db_migrations[v], NULL, NULL,
				 NULL) != SQLITE_OK ||
		    sqlite3_exec(db->sql, pragma, NULL, NULL, NULL) !=
			    SQLITE_OK) {
			*err = db_fmt_err("migration %04u: %s", v + 1,
				       sqlite3_errmsg(db->sql));
			sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (db_exec_retry(db, "COMMIT", err) < 0)
			return -1;
	}
	return 0;
}

static int open_handle(const char *path, unsigned busy_timeout_ms, int create,
		       struct db **out, char **err)
{
	struct db *db = calloc(1, sizeof(*db));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	if (db == NULL) {
		*err = db_fmt_err("out of memory");
		return -1;
	}
	if (create) {
		/* A new database will hold SIP passwords: readable by its
		 * owner only (SQLite gives -wal and -shm the same mode).  If
		 * it exists or cannot be made, SQLite opens it or says why. */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
				    O_NOFOLLOW, 0600);

		if (fd >= 0)
			close(fd);
		flags |= SQLITE_OPEN_CREATE;
	}
	if (sqlite3_open_v2(path, &db->sql, flags, NULL) != SQLITE_OK) {
		*err = db_fmt_err("%s: %s", path, db->sql != NULL ?
			       sqlite3_errmsg(db->sql) : "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(db->sql, 1);
	sqlite3_busy_timeout(db->sql, (int)busy_timeout_ms);
	if (db_exec_retry(db, "PRAGMA journal_mode = WAL", err) < 0 ||
	    db_exec_retry(db, "PRAGMA synchronous = NORMAL", err) < 0 ||
	    db_exec_retry(db, "PRAGMA foreign_keys = ON", err) < 0) {
		char *inner = *err;
		int code = sqlite3_extended_errcode(db->sql) & 0xff;

		if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
			*err = db_fmt_err("%s: not an SQLite database, or a "
					  "corrupt one (%s); restore it from a "
					  "backup", path, inner);
		else if (sqlite3_db_readonly(db->sql, "main") == 1)
			*err = db_fmt_err("%s: cannot be opened for writing: "
					  "check the permissions of the file "
					  "and its directory, and that its "
					  "filesystem is not read-only (%s)",
					  path, inner);
		else
			*err = db_fmt_err("%s: %s", path, inner);
		free(inner);
		goto fail;
	}
	*out = db;
	return 0;
fail:
	db_close(db);
	return -1;
}

int db_open(const char *path, unsigned busy_timeout_ms, struct db **out,
	    char **err)
{
	struct db *db = NULL;

	if (open_handle(path, busy_timeout_ms, 1, &db, err) < 0)
		return -1;
	if (migrate(db, err) < 0) {
		char *inner = *err;

		*err = db_fmt_err("%s: %s", path, inner);
		free(inner);
		db_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

int db_open_existing(const char *path, unsigned busy_timeout_ms,
		     struct db **out, char **err)
{
	struct db *db = NULL;
	int version;

	if (open_handle(path, busy_timeout_ms, 0, &db, err) < 0)
		return -1;
	if (sqlite3_db_readonly(db->sql, "main") == 1) {
		*err = db_fmt_err("%s: read-only for this process; spaprovd "
				  "must write its ledger (check the "
				  "permissions of the file and its directory, "
				  "and that its filesystem is not read-only)",
				  path);
		db_close(db);
		return -1;
	}
	version = db_schema_version(db);
	if (version != (int)db_migrations_count) {
		*err = db_fmt_err("%s: schema version %d, this program needs %u "
			       "(start spaprovd once to migrate)", path,
			       version, db_migrations_count);
		db_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

void db_close(struct db *db)
{
	if (db == NULL)
		return;
	for (size_t i = 0; i < db->n_stmts; i++)
		sqlite3_finalize(db->stmts[i].stmt);
	sqlite3_close_v2(db->sql);
	free(db);
}

int db_schema_version(struct db *db)
{
	sqlite3_stmt *s = NULL;
	int version = -1;

	if (sqlite3_prepare_v2(db->sql, "PRAGMA user_version", -1, &s,
			       NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return version;
}

int db_one_row(struct db *db, sqlite3_stmt *s, char **out, int n,
	       char **err, const char *what)
{
	int rc = sqlite3_step(s), ret = DB_ERROR;

	if (rc == SQLITE_DONE) {
		ret = DB_NOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		db_set_err(db, err, what);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		out[i] = db_col_dup(s, i);
		if (out[i] == NULL) {
			for (int k = 0; k < i; k++) {
				free(out[k]);
				out[k] = NULL;
			}
			*err = db_fmt_err("%s: out of memory", what);
			goto out;
		}
	}
	ret = DB_OK;
out:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

/* --- inventory ----------------------------------------------------------- */

char *db_col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	return v == NULL ? NULL : strdup((const char *)v);
}

void db_device_free(struct db_device *dev)
{
	if (dev == NULL)
		return;
	free(dev->profile);
	free(dev->description);
	free(dev->model);
	free(dev->serial);
	free(dev->firmware);
	free(dev->cert_issuer);
	free(dev->cert_subject);
	free(dev->created);
	free(dev->updated);
	free(dev->last_seen);
	free(dev->pin_fingerprint);
	for (size_t i = 0; i < dev->n_vars; i++) {
		free(dev->vars[i].name);
		free(dev->vars[i].value);
	}
	free(dev->vars);
	free(dev);
}

static int device_vars_load(struct db *db, struct db_device *dev, char **err)
{
	sqlite3_stmt *s = stmt(db, ST_DEVICE_VARS);
	size_t cap = 0;
	int rc;

	if (s == NULL) {
		db_set_err(db, err, "preparing device_vars query");
		return -1;
	}
	db_bind_text(s, 1, dev->mac);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (dev->n_vars == cap) {
			size_t ncap = cap == 0 ? 8 : cap * 2;
			struct db_var *nv = realloc(dev->vars,
						    ncap * sizeof(*nv));

			if (nv == NULL)
				break;
			dev->vars = nv;
			cap = ncap;
		}
		dev->vars[dev->n_vars].name = db_col_dup(s, 0);
		dev->vars[dev->n_vars].value = db_col_dup(s, 1);
		dev->n_vars++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		db_set_err(db, err, "reading device variables");
		return -1;
	}
	return 0;
}

int db_device_get(struct db *db, const char *mac, struct db_device **out,
		  char **err)
{
	sqlite3_stmt *s = stmt(db, ST_DEVICE_GET);
	struct db_device *dev = NULL;
	int rc;

	if (s == NULL) {
		db_set_err(db, err, "preparing device query");
		return DB_ERROR;
	}
	db_bind_text(s, 1, mac);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return DB_NOTFOUND;
	}
	if (rc != SQLITE_ROW) {
		db_set_err(db, err, "reading device");
		sqlite3_reset(s);
		return DB_ERROR;
	}
	dev = calloc(1, sizeof(*dev));
	if (dev == NULL) {
		sqlite3_reset(s);
		*err = db_fmt_err("out of memory");
		return DB_ERROR;
	}
	snprintf(dev->mac, sizeof(dev->mac), "%s", mac);
	snprintf(dev->status, sizeof(dev->status), "%s",
		 (const char *)sqlite3_column_text(s, 0));
	dev->profile = db_col_dup(s, 1);
	dev->description = db_col_dup(s, 2);
	dev->model = db_col_dup(s, 3);
	dev->serial = db_col_dup(s, 4);
	dev->firmware = db_col_dup(s, 5);
	dev->cert_issuer = db_col_dup(s, 6);
	dev->cert_subject = db_col_dup(s, 7);
	dev->created = db_col_dup(s, 8);
	dev->updated = db_col_dup(s, 9);
	dev->last_seen = db_col_dup(s, 10);
	dev->pin_fingerprint = db_col_dup(s, 11);
	sqlite3_reset(s);
	if (device_vars_load(db, dev, err) < 0) {
		db_device_free(dev);
		return DB_ERROR;
	}
	*out = dev;
	return DB_OK;
}

int db_device_add(struct db *db, const char *mac, const char *profile,
		  const char *description, const struct db_var *vars,
		  size_t n_vars, char **err)
{
	sqlite3_stmt *ins = stmt(db, ST_DEVICE_INSERT);
	sqlite3_stmt *var = stmt(db, ST_VAR_INSERT);
	char now[32];
	int rc;

	if (ins == NULL || var == NULL) {
		db_set_err(db, err, "preparing device insert");
		return DB_ERROR;
	}
	if (db_exec_retry(db, "BEGIN IMMEDIATE", err) < 0)
		return DB_ERROR;
	db_timestamp(now);
	db_bind_text(ins, 1, mac);
	db_bind_text(ins, 2, profile);
	db_bind_text(ins, 3, description != NULL ? description : "");
	db_bind_text(ins, 4, now);
	rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
		*err = db_fmt_err("device %s already exists", mac);
		return DB_EXISTS;
	}
	if (rc != SQLITE_DONE) {
		db_set_err(db, err, "adding device");
		goto rollback;
	}
	for (size_t i = 0; i < n_vars; i++) {
		db_bind_text(var, 1, mac);
		db_bind_text(var, 2, vars[i].name);
		db_bind_text(var, 3, vars[i].value);
		if (db_step_done(db, var, err, "adding device variable") < 0)
			goto rollback;
	}
	if (db_exec_retry(db, "COMMIT", err) < 0)
		goto rollback;
	return DB_OK;
rollback:
	sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	return DB_ERROR;
}

/* --- profiles ------------------------------------------------------------ */

int db_profile_get(struct db *db, const char *name, char **body, char **err)
{
	sqlite3_stmt *s = stmt(db, ST_PROFILE_GET);

	if (s == NULL) {
		db_set_err(db, err, "preparing profile query");
		return DB_ERROR;
	}
	db_bind_text(s, 1, name);
	return db_one_row(db, s, body, 1, err, "reading profile");
}

int db_profile_set(struct db *db, const char *name, const char *body,
		   char **err)
{
	sqlite3_stmt *s = stmt(db, ST_PROFILE_SET);
	char now[32];

	if (s == NULL) {
		db_set_err(db, err, "preparing profile update");
		return DB_ERROR;
	}
	db_timestamp(now);
	db_bind_text(s, 1, name);
	db_bind_text(s, 2, body);
	db_bind_text(s, 3, now);
	return db_step_done(db, s, err, "storing profile") < 0 ? DB_ERROR : DB_OK;
}

/* --- the ledger ---------------------------------------------------------- */

static int resync_insert(struct db *db, const struct db_resync *r, char **err)
{
	sqlite3_stmt *s = stmt(db, ST_RESYNC_INSERT);
	const char *text[] = { r->ts, r->listener, r->ca, r->remote_addr,
			       r->mac, r->cert_subject, r->cert_issuer,
			       r->cert_serial, r->verify, r->tls_version,
			       r->cipher, r->user_agent, r->model,
			       r->firmware, r->method, r->path };

	if (s == NULL) {
		db_set_err(db, err, "preparing resync insert");
		return -1;
	}
	for (int i = 0; i < (int)(sizeof(text) / sizeof(text[0])); i++)
		db_bind_text(s, i + 1, text[i]);
	sqlite3_bind_int(s, 17, r->status);
	sqlite3_bind_int64(s, 18, r->bytes);
	sqlite3_bind_double(s, 19, r->duration_ms);
	db_bind_text(s, 20, r->outcome);
	db_bind_text(s, 21, r->detail);
	db_bind_text(s, 22, r->ua_mac);
	sqlite3_bind_int(s, 23, r->ua_mismatch);
	sqlite3_bind_int(s, 24, r->tls_resumed != 0);
	db_bind_text(s, 25, r->trust);
	return db_step_done(db, s, err, "recording resync");
}

/* Bind a ledger row's device facts as ?1..?7 of the device statements. */
static void device_bind(sqlite3_stmt *s, const struct db_resync *r)
{
	db_bind_text(s, 1, r->mac);
	db_bind_text(s, 2, r->ts);
	db_bind_text(s, 3, r->model);
	/* a device identified with low trust keeps its certificate facts */
	db_bind_text(s, 4, r->trust == NULL ? r->serial : NULL);
	db_bind_text(s, 5, r->firmware);
	db_bind_text(s, 6, r->trust == NULL ? r->cert_issuer : NULL);
	db_bind_text(s, 7, r->trust == NULL ? r->cert_subject : NULL);
}

static int device_touch(struct db *db, const struct db_resync *r, char **err)
{
	enum stmt_id id = r->add_pending ? ST_DEVICE_PENDING : ST_DEVICE_SEEN;
	sqlite3_stmt *s = stmt(db, id);

	if (s == NULL) {
		db_set_err(db, err, "preparing device update");
		return -1;
	}
	if (id == ST_DEVICE_SEEN) {
		/* usually only last_seen changes: try the cheap update */
		sqlite3_stmt *same = stmt(db, ST_DEVICE_SEEN_SAME);

		if (same == NULL) {
			db_set_err(db, err, "preparing device update");
			return -1;
		}
		device_bind(same, r);
		if (db_step_done(db, same, err, "updating device") < 0)
			return -1;
		if (sqlite3_changes(db->sql) > 0)
			return 0;
	}
	device_bind(s, r);
	return db_step_done(db, s, err, "updating device");
}

static int hsfail_insert(struct db *db, const struct db_hsfail *f, char **err)
{
	sqlite3_stmt *s = stmt(db, ST_HSFAIL_INSERT);

	if (s == NULL) {
		db_set_err(db, err, "preparing handshake failure insert");
		return -1;
	}
	db_bind_text(s, 1, f->ts);
	db_bind_text(s, 2, f->listener);
	db_bind_text(s, 3, f->ca);
	db_bind_text(s, 4, f->remote_addr);
	db_bind_text(s, 5, f->error);
	db_bind_text(s, 6, f->client_hello);
	return db_step_done(db, s, err, "recording handshake failure");
}

int db_ledger_write(struct db *db, struct db_resync *const *rows, size_t n,
		    struct db_hsfail *const *fails, size_t n_fails, char **err)
{
	if (db_exec_retry(db, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (resync_insert(db, rows[i], err) < 0)
			goto rollback;
		if ((rows[i]->seen || rows[i]->add_pending) &&
		    device_touch(db, rows[i], err) < 0)
			goto rollback;
		if (rows[i]->pin && db_pin_first(db, rows[i], err) < 0)
			goto rollback;
	}
	for (size_t i = 0; i < n_fails; i++)
		if (hsfail_insert(db, fails[i], err) < 0)
			goto rollback;
	if (db_exec_retry(db, "COMMIT", err) < 0)
		goto rollback;
	return 0;
rollback:
	sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

long long db_prune(struct db *db, const char *before, int limit, char **err)
{
	static const char del_resyncs[] =
		"DELETE FROM resyncs WHERE id IN (SELECT id FROM resyncs"
		" WHERE ts < ?1 ORDER BY id LIMIT ?2)";
	static const char del_fails[] =
		"DELETE FROM handshake_failures WHERE id IN (SELECT id FROM"
		" handshake_failures WHERE ts < ?1 ORDER BY id LIMIT ?2)";
	const char *const sqls[] = { del_resyncs, del_fails };
	long long n = 0;

	if (db_exec_retry(db, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	for (size_t i = 0; i < 2; i++) {
		sqlite3_stmt *s = db_stmt(db, sqls[i]);

		if (s == NULL) {
			db_set_err(db, err, "preparing prune");
			goto rollback;
		}
		db_bind_text(s, 1, before);
		sqlite3_bind_int(s, 2, limit);
		if (db_step_done(db, s, err, "pruning") < 0)
			goto rollback;
		n += sqlite3_changes(db->sql);
	}
	if (db_exec_retry(db, "COMMIT", err) < 0)
		goto rollback;
	return n;
rollback:
	sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* --- history -------------------------------------------------------------- */

int db_history(struct db *db, const struct db_history_filter *f,
	       int (*row)(void *ctx, int ncols, const char *const *names,
			  const char *const *values),
	       void *ctx, char **err)
{
	static const char sql[] =
		"SELECT time, mac, description, listener, status, outcome,"
		" model, firmware, tls_version, cipher, remote_addr, path,"
		" detail FROM resync_history"
		" WHERE (?1 IS NULL OR mac = ?1) ORDER BY id DESC LIMIT ?2";
	const char *names[16], *values[16];
	sqlite3_stmt *s = NULL;
	int rc, ncols, result = -1;

	if (sqlite3_prepare_v2(db->sql, sql, -1, &s, NULL) != SQLITE_OK) {
		db_set_err(db, err, "preparing history query");
		return -1;
	}
	db_bind_text(s, 1, f->mac);
	sqlite3_bind_int(s, 2, f->limit > 0 ? f->limit : 100);
	ncols = sqlite3_column_count(s);
	for (int i = 0; i < ncols; i++)
		names[i] = sqlite3_column_name(s, i);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (int i = 0; i < ncols; i++)
			values[i] = (const char *)sqlite3_column_text(s, i);
		if (row(ctx, ncols, names, values) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_set_err(db, err, "reading history");
		goto out;
	}
	result = 0;
out:
	sqlite3_finalize(s);
	return result;
}
