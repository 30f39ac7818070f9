/* db/ledger_tune.c: the ledger connection's page cache and its background
 * checkpointer (db/ledger_tune.h).
 *
 * Why: a batch of 256 resyncs that also update their devices dirties
 * about 1,500 pages scattered over a large inventory.  With SQLite's
 * defaults (2 MB cache; a checkpoint in the commit once the WAL holds
 * 1,000 frames) a batch spilled pages to the WAL before its commit, and
 * every commit then copied the whole WAL into the database file with two
 * fsyncs: two thirds of the ledger's time.  Here a thread with its own
 * connection does the copying (PASSIVE checkpoints block neither the
 * writer nor readers) while the writer goes on committing, and copies
 * many batches at a time, so that a page changed by several batches is
 * written to the database file once.
 *
 * The WAL starts over only when a commit finds it fully copied.  When it
 * reaches wal_max_frames the committing thread waits for a pass that
 * copies everything; to keep that wait short, the passes run back to back
 * over the last ckpt_frames before the limit and flush the database file
 * as they go (SQLite itself flushes it only at the end of a pass that
 * copies the whole WAL).
 *
 * The thread belongs to the ledger connection through an SQL function
 * whose destructor SQLite calls when that connection closes (db_close):
 * the handle needs no field of its own and no call to stop it. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sqlite3.h>

#include "db/internal.h"
#include "db/ledger_tune.h"

/* The SQL function that carries the checkpointer: on the ledger
 * connection, SELECT spaprov_ledger_checkpoints() gives the passes run. */
#define CKPT_FUNC "spaprov_ledger_checkpoints"

struct ckpt {
	sqlite3 *sql;              /* the thread's own connection */
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t wake;       /* the thread waits for work */
	pthread_cond_t idle;       /* a commit waits for a pass to end */
	int ckpt_frames, wal_max_frames;
	unsigned ckpt_ms;
	/* under lock: */
	int want;                  /* a pass is wanted */
	int running;               /* a pass is running */
	int stopping;
	int dirty;                 /* commits since the last pass began */
	int trimmed;               /* WAL truncated since the last commit */
	int wal_frames;            /* WAL length after the last commit */
	int copied;                /* of those, copied to the database */
	unsigned long gen;         /* times the WAL started over */
	unsigned long passes;      /* passes run */
};

/* From this WAL length on, passes run back to back. */
static int ckpt_near(const struct ckpt *c)
{
	return c->wal_frames >= c->wal_max_frames - c->ckpt_frames;
}

/* Write what the passes copied to the database file out to the disk. */
static void ckpt_flush_db(struct ckpt *c)
{
	sqlite3_file *f = NULL;

	if (sqlite3_file_control(c->sql, "main", SQLITE_FCNTL_FILE_POINTER,
				 &f) == SQLITE_OK &&
	    f != NULL && f->pMethods != NULL)
		f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
}

/* One checkpoint; called, and returns, with c->lock held. */
static void ckpt_pass(struct ckpt *c, int mode)
{
	unsigned long gen = c->gen;
	int flush = ckpt_near(c), log = -1, copied = -1, rc;

	c->want = 0;
	c->dirty = 0;
	c->running = 1;
	pthread_mutex_unlock(&c->lock);
	rc = sqlite3_wal_checkpoint_v2(c->sql, NULL, mode, &log, &copied);
	if (rc == SQLITE_OK && copied > 0 && flush)
		ckpt_flush_db(c);
	pthread_mutex_lock(&c->lock);
	c->running = 0;
	c->passes++;
	/* a result about a WAL that has started over since means nothing */
	if (rc == SQLITE_OK && copied >= 0 && gen == c->gen)
		c->copied = copied;
	pthread_cond_broadcast(&c->idle);
}

static void deadline(struct timespec *t, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static void *ckpt_main(void *arg)
{
	struct ckpt *c = arg;

	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		struct timespec until;

		if (c->want) {
			ckpt_pass(c, SQLITE_CHECKPOINT_PASSIVE);
			continue;
		}
		deadline(&until, c->ckpt_ms);
		if (pthread_cond_timedwait(&c->wake, &c->lock, &until) !=
			    ETIMEDOUT ||
		    c->want || c->stopping)
			continue;
		if (c->dirty) {
			/* commits, too few for a pass: copy them now */
			c->want = 1;
		} else if (!c->trimmed) {
			/* idle: give the WAL file's space back (without
			 * waiting for anyone: a busy database leaves it) */
			c->trimmed = 1;
			ckpt_pass(c, SQLITE_CHECKPOINT_TRUNCATE);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* SQLite's WAL hook on the ledger connection, after each commit (no lock
 * held): ask for a pass, or wait for one when the WAL is too long. */
static int ckpt_hook(void *arg, sqlite3 *sql, const char *schema, int frames)
{
	struct ckpt *c = arg;
	int pending;

	(void)sql;
	(void)schema;
	pthread_mutex_lock(&c->lock);
	if (frames < c->wal_frames) {  /* this commit started the WAL over */
		c->gen++;
		c->copied = 0;
	}
	c->wal_frames = frames;
	c->dirty = 1;
	c->trimmed = 0;
	pending = frames - c->copied;
	if (pending >= c->ckpt_frames ||
	    (ckpt_near(c) && pending > 0 && !c->running)) {
		c->want = 1;
		pthread_cond_signal(&c->wake);
	}
	/* at the limit, wait for a pass that copies everything (unless a
	 * reader still uses old frames): the next commit starts the WAL
	 * over.  While a pass runs, commits go on up to a hard limit. */
	if (frames >= c->wal_max_frames && pending > 0 &&
	    (!c->running || frames >= c->wal_max_frames + c->ckpt_frames)) {
		c->want = 1;
		pthread_cond_signal(&c->wake);
		while ((c->want || c->running) && !c->stopping)
			pthread_cond_wait(&c->idle, &c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return SQLITE_OK;
}

/* The destructor of CKPT_FUNC: the ledger connection is closing. */
static void ckpt_free(void *arg)
{
	struct ckpt *c = arg;

	if (c == NULL)
		return;
	if (c->started) {
		pthread_mutex_lock(&c->lock);
		c->stopping = 1;
		pthread_cond_broadcast(&c->wake);
		pthread_cond_broadcast(&c->idle);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
	}
	/* the last connection to close copies the WAL and removes it */
	sqlite3_close_v2(c->sql);
	pthread_cond_destroy(&c->wake);
	pthread_cond_destroy(&c->idle);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void ckpt_count(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct ckpt *c = sqlite3_user_data(ctx);
	unsigned long n;

	(void)argc;
	(void)argv;
	pthread_mutex_lock(&c->lock);
	n = c->passes;
	pthread_mutex_unlock(&c->lock);
	sqlite3_result_int64(ctx, (sqlite3_int64)n);
}

static int ckpt_open(struct db *db, const struct db_ledger_tuning *t,
		     struct ckpt **out, char **err)
{
	const char *path = sqlite3_db_filename(db->sql, "main");
	struct ckpt *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		*err = db_fmt_err("ledger checkpointer: out of memory");
		return -1;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	pthread_cond_init(&c->idle, NULL);
	c->ckpt_frames = (int)t->ckpt_frames;
	c->wal_max_frames = (int)t->wal_max_frames;
	c->ckpt_ms = t->ckpt_ms;
	c->trimmed = 1;
	if (path == NULL || path[0] == '\0') {
		*err = db_fmt_err("ledger checkpointer: the database has no "
				  "file name");
		goto fail;
	}
	/* no busy handler: a checkpoint never waits for anyone */
	if (sqlite3_open_v2(path, &c->sql, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(c->sql, "PRAGMA synchronous = NORMAL", NULL, NULL,
			 NULL) != SQLITE_OK) {
		*err = db_fmt_err("ledger checkpointer: %s: %s", path,
				  c->sql != NULL ? sqlite3_errmsg(c->sql) :
						   "cannot open");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	ckpt_free(c);
	return -1;
}

static int ckpt_start(struct ckpt *c, char **err)
{
	sigset_t all, old;
	int rc;

	/* signals stay with the threads that wait for them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&c->thread, NULL, ckpt_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		*err = db_fmt_err("ledger checkpointer: cannot start a thread");
		return -1;
	}
	c->started = 1;
	return 0;
}

int db_ledger_tune_with(struct db *db, const struct db_ledger_tuning *t,
			char **err)
{
	struct ckpt *c = NULL;
	char pragma[64];

	if (t->cache_kib == 0 || t->cache_kib > DB_LEDGER_MAX_CACHE_KIB ||
	    t->ckpt_frames == 0 || t->ckpt_frames > DB_LEDGER_MAX_FRAMES ||
	    t->wal_max_frames < t->ckpt_frames ||
	    t->wal_max_frames > DB_LEDGER_MAX_FRAMES ||
	    t->ckpt_ms == 0 || t->ckpt_ms > DB_LEDGER_MAX_CKPT_MS) {
		*err = db_fmt_err("ledger tuning: a setting is out of range");
		return -1;
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA cache_size = -%u",
		 t->cache_kib);
	if (db_exec_retry(db, pragma, err) < 0)
		return -1;
	if (ckpt_open(db, t, &c, err) < 0)
		return -1;
	if (ckpt_start(c, err) < 0) {
		ckpt_free(c);
		return -1;
	}
	/* from here SQLite owns c: it calls ckpt_free, also on failure */
	if (sqlite3_create_function_v2(db->sql, CKPT_FUNC, 0, SQLITE_UTF8, c,
				       ckpt_count, NULL, NULL,
				       ckpt_free) != SQLITE_OK) {
		db_set_err(db, err, "ledger checkpointer");
		return -1;
	}
	/* replaces SQLite's checkpoint in the commit (wal_autocheckpoint) */
	sqlite3_wal_hook(db->sql, ckpt_hook, c);
	return 0;
}

int db_ledger_tune(struct db *db, char **err)
{
	static const struct db_ledger_tuning defaults = {
		.cache_kib = DB_LEDGER_CACHE_KIB,
		.ckpt_frames = DB_LEDGER_CKPT_FRAMES,
		.wal_max_frames = DB_LEDGER_WAL_MAX_FRAMES,
		.ckpt_ms = DB_LEDGER_CKPT_MS,
	};

	return db_ledger_tune_with(db, &defaults, err);
}
