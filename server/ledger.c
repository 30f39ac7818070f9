#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "db/ledger_tune.h"
#include "server/ledger.h"
#include "util/log.h"

enum item_state { ITEM_QUEUED, ITEM_DONE, ITEM_FAILED };

struct item {
	struct item *next;
	struct db_resync *row;     /* borrowed from the request, or owned */
	struct db_hsfail *fail;    /* owned copy */
	enum item_state state;
	int owned;                 /* row is our copy (ledger_record) */
	ledger_done_fn *done;      /* NULL: a ledger_commit() caller waits */
	void *arg;
};

struct ledger {
	struct db *db;
	char *path;                /* of the database, for messages */
	unsigned batch;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;       /* the writer waits for items */
	pthread_cond_t done;       /* requests wait for their commit */
	struct item *head, *tail;
	size_t depth;
	unsigned long long taken_batches;     /* batches taken off the queue */
	unsigned long long committed_batches; /* ... and finished */
	unsigned long long rows_written;      /* resyncs in them */
	uint64_t last_commit_us;   /* when the last batch ended */
	int stopping;
	unsigned retention_days;
	time_t next_prune;         /* when to look for old rows again */
};

/* Under load, how long a batch waits to fill (see gather_locked()), and
 * what "under load" means: the last batch ended this recently. */
#define LEDGER_GATHER_US 3000
#define LEDGER_BUSY_US 5000

#define PRUNE_BATCH 500            /* rows deleted per transaction */
#define PRUNE_INTERVAL 600         /* seconds between pruning rounds */

static void hsfail_free(struct db_hsfail *f)
{
	if (f == NULL)
		return;
	free((char *)f->listener);
	free((char *)f->ca);
	free((char *)f->remote_addr);
	free((char *)f->error);
	free((char *)f->client_hello);
	free(f);
}

static struct db_hsfail *hsfail_copy(const struct db_hsfail *f)
{
	struct db_hsfail *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	memcpy(c->ts, f->ts, sizeof(c->ts));
	c->listener = strdup(f->listener ? f->listener : "");
	c->ca = strdup(f->ca ? f->ca : "");
	c->remote_addr = strdup(f->remote_addr ? f->remote_addr : "");
	c->error = strdup(f->error ? f->error : "");
	c->client_hello = f->client_hello ? strdup(f->client_hello) : NULL;
	if (!c->listener || !c->ca || !c->remote_addr || !c->error ||
	    (f->client_hello && !c->client_hello)) {
		hsfail_free(c);
		return NULL;
	}
	return c;
}

static void enqueue_locked(struct ledger *l, struct item *it)
{
	it->next = NULL;
	it->state = ITEM_QUEUED;
	if (l->tail != NULL)
		l->tail->next = it;
	else
		l->head = it;
	l->tail = it;
	l->depth++;
	pthread_cond_signal(&l->work);
}

/* Detach up to l->batch items from the queue; caller holds the lock. */
static struct item *take_locked(struct ledger *l, size_t *count)
{
	struct item *first = l->head, *last = NULL, *it = first;
	size_t n = 0;

	while (it != NULL && n < l->batch) {
		last = it;
		it = it->next;
		n++;
	}
	l->head = it;
	if (it == NULL)
		l->tail = NULL;
	if (last != NULL)
		last->next = NULL;
	l->depth -= n;
	*count = n;
	return first;
}

static void write_batch(struct ledger *l, struct item *items, size_t n)
{
	struct db_resync **rows = calloc(n, sizeof(*rows));
	struct db_hsfail **fails = calloc(n, sizeof(*fails));
	size_t nr = 0, nf = 0, nr_done = 0;
	enum item_state result = ITEM_FAILED;
	char *err = NULL;

	if (rows == NULL || fails == NULL) {
		log_error("msg=\"ledger: out of memory\" rows=%zu", n);
		goto out;
	}
	for (struct item *it = items; it != NULL; it = it->next) {
		if (it->row != NULL)
			rows[nr++] = it->row;
		else
			fails[nf++] = it->fail;
	}
	if (db_ledger_write(l->db, rows, nr, fails, nf, &err) < 0) {
		log_error("msg=\"ledger: cannot write to the database: "
			  "resyncs answered 503, handshake failures dropped\" "
			  "database=%s resyncs=%zu handshake_failures=%zu "
			  "error=\"%s\"", l->path, nr, nf, err ? err : "?");
		free(err);
		goto out;
	}
	result = ITEM_DONE;
	nr_done = nr;
out:
	free(rows);
	free(fails);
	/* callbacks first, outside the lock: each resumes its request,
	 * which may be freed from then on */
	for (struct item *it = items, **link = &items; it != NULL;) {
		struct item *next = it->next;

		if (it->row != NULL && it->done != NULL) {
			it->done(it->arg, result == ITEM_DONE);
			free(it);
			*link = next;
		} else if (it->row != NULL && it->owned) {
			free(it->row);
			free(it);
			*link = next;
		} else {
			link = &it->next;
		}
		it = next;
	}
	pthread_mutex_lock(&l->lock);
	for (struct item *it = items, *next; it != NULL; it = next) {
		next = it->next;
		if (it->row != NULL) {
			it->state = result;
		} else {
			hsfail_free(it->fail);
			free(it);
		}
	}
	l->committed_batches++;
	l->rows_written += nr_done;
	pthread_cond_broadcast(&l->done);
	pthread_mutex_unlock(&l->lock);
}

/* One small pruning step when due; returns 1 if more rows are waiting. */
static int prune_step(struct ledger *l)
{
	char cutoff[32], *err = NULL;
	time_t now = time(NULL);
	struct tm tm;
	long long n;

	if (l->retention_days == 0 || now < l->next_prune)
		return 0;
	now -= (time_t)l->retention_days * 86400;
	gmtime_r(&now, &tm);
	strftime(cutoff, sizeof(cutoff), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	n = db_prune(l->db, cutoff, PRUNE_BATCH, &err);
	if (n < 0) {
		log_error("msg=\"ledger: pruning failed\" error=\"%s\"",
			  err ? err : "?");
		free(err);
	} else if (n > 0) {
		log_info("msg=\"ledger: pruned old rows\" rows=%lld before=%s",
			 n, cutoff);
	}
	if (n >= PRUNE_BATCH)
		return 1;
	l->next_prune = time(NULL) + PRUNE_INTERVAL;
	return 0;
}

static uint64_t mono_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

/* Group commit under load: when the last batch ended moments ago, rows
 * are arriving steadily; wait a little for more so one transaction
 * carries several (a commit writes the same index pages for one row as
 * for ten).  An idle server commits a lone row at once. */
static void gather_locked(struct ledger *l)
{
	uint64_t start = mono_us(), deadline = start + LEDGER_GATHER_US;

	if (l->depth >= l->batch || l->stopping ||
	    start - l->last_commit_us > LEDGER_BUSY_US)
		return;
	while (l->depth < l->batch && !l->stopping) {
		uint64_t now = mono_us();
		struct timespec until;

		if (now >= deadline)
			break;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)(deadline - now) * 1000;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec += until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
		}
		pthread_cond_timedwait(&l->work, &l->lock, &until);
	}
}

static void *writer(void *arg)
{
	struct ledger *l = arg;

	pthread_mutex_lock(&l->lock);
	for (;;) {
		struct item *items;
		size_t n;

		while (l->head == NULL && !l->stopping) {
			struct timespec until;
			int more;

			pthread_mutex_unlock(&l->lock);
			more = prune_step(l);
			pthread_mutex_lock(&l->lock);
			if (more || l->head != NULL || l->stopping)
				continue;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += l->retention_days ? 60 : 3600;
			pthread_cond_timedwait(&l->work, &l->lock, &until);
		}
		if (l->head == NULL && l->stopping)
			break;
		gather_locked(l);
		items = take_locked(l, &n);
		l->taken_batches++;
		pthread_mutex_unlock(&l->lock);
		write_batch(l, items, n);
		pthread_mutex_lock(&l->lock);
		l->last_commit_us = mono_us();
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* The database holds SIP passwords: say so when every user can read it. */
static void warn_if_world_readable(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & S_IROTH))
		log_warn("msg=\"the database is readable by every user of this "
			 "host and holds SIP passwords: chmod o-rw it\" "
			 "database=%s mode=%04o", path,
			 (unsigned)(st.st_mode & 07777));
}

int ledger_start(const char *path, unsigned busy_timeout_ms, unsigned batch,
		 unsigned retention_days, struct ledger **out, char **err)
{
	struct ledger *l = calloc(1, sizeof(*l));

	if (l == NULL || (l->path = strdup(path)) == NULL) {
		free(l);
		*err = strdup("out of memory");
		return -1;
	}
	if (db_open_existing(path, busy_timeout_ms, &l->db, err) < 0) {
		free(l->path);
		free(l);
		return -1;
	}
	if (db_ledger_tune(l->db, err) < 0) { /* works without, only slower */
		log_warn("msg=\"ledger: database tuning failed, going on "
			 "without\" error=\"%s\"", *err);
		free(*err);
		*err = NULL;
	}
	warn_if_world_readable(path);
	l->batch = batch > 0 ? batch : 1;
	l->retention_days = retention_days;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->work, NULL);
	pthread_cond_init(&l->done, NULL);
	if (pthread_create(&l->thread, NULL, writer, l) != 0) {
		db_close(l->db);
		free(l->path);
		free(l);
		*err = strdup("cannot start the ledger thread");
		return -1;
	}
	*out = l;
	return 0;
}

int ledger_commit(struct ledger *l, struct db_resync *row)
{
	struct item it = { .row = row };

	pthread_mutex_lock(&l->lock);
	enqueue_locked(l, &it);
	while (it.state == ITEM_QUEUED)
		pthread_cond_wait(&l->done, &l->lock);
	pthread_mutex_unlock(&l->lock);
	return it.state == ITEM_DONE ? 0 : -1;
}

int ledger_submit(struct ledger *l, struct db_resync *row,
		  ledger_done_fn *done, void *arg)
{
	struct item *it = calloc(1, sizeof(*it));

	if (it == NULL)
		return -1;
	it->row = row;
	it->done = done;
	it->arg = arg;
	pthread_mutex_lock(&l->lock);
	enqueue_locked(l, it);
	pthread_mutex_unlock(&l->lock);
	return 0;
}

/* One block: the struct, then every string it points to. */
static struct db_resync *row_copy(const struct db_resync *r)
{
	struct db_resync tmp = *r, *c;
	const char **fields[] = {
		&tmp.listener, &tmp.ca, &tmp.remote_addr, &tmp.mac,
		&tmp.cert_subject, &tmp.cert_issuer, &tmp.cert_serial,
		&tmp.verify, &tmp.tls_version, &tmp.cipher, &tmp.user_agent,
		&tmp.model, &tmp.firmware, &tmp.method, &tmp.path,
		&tmp.outcome, &tmp.detail, &tmp.ua_mac, &tmp.trust,
		&tmp.serial, &tmp.fingerprint,
	};
	size_t nf = sizeof(fields) / sizeof(fields[0]), total = sizeof(tmp);
	char *p;

	for (size_t i = 0; i < nf; i++)
		if (*fields[i] != NULL)
			total += strlen(*fields[i]) + 1;
	c = malloc(total);
	if (c == NULL)
		return NULL;
	p = (char *)(c + 1);
	for (size_t i = 0; i < nf; i++) {
		size_t len;

		if (*fields[i] == NULL)
			continue;
		len = strlen(*fields[i]) + 1;
		memcpy(p, *fields[i], len);
		*fields[i] = p;
		p += len;
	}
	*c = tmp;
	return c;
}

void ledger_record(struct ledger *l, const struct db_resync *row)
{
	struct item *it = calloc(1, sizeof(*it));

	if (it == NULL || (it->row = row_copy(row)) == NULL) {
		free(it);
		log_error("msg=\"ledger: out of memory, request not recorded\" "
			  "remote=%s outcome=%s", row->remote_addr, row->outcome);
		return;
	}
	it->owned = 1;
	pthread_mutex_lock(&l->lock);
	enqueue_locked(l, it);
	pthread_mutex_unlock(&l->lock);
}

void ledger_flush(struct ledger *l)
{
	unsigned long long want;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	/* what is queued now is in the next batch at the latest */
	want = l->taken_batches + (l->depth + l->batch - 1) / l->batch;
	while (l->committed_batches < want)
		pthread_cond_wait(&l->done, &l->lock);
	pthread_mutex_unlock(&l->lock);
}

void ledger_record_hsfail(struct ledger *l, const struct db_hsfail *f)
{
	struct item *it = calloc(1, sizeof(*it));

	if (it == NULL || (it->fail = hsfail_copy(f)) == NULL) {
		free(it);
		log_error("msg=\"ledger: out of memory, handshake failure not "
			  "recorded\" remote=%s", f->remote_addr);
		return;
	}
	pthread_mutex_lock(&l->lock);
	enqueue_locked(l, it);
	pthread_mutex_unlock(&l->lock);
}

size_t ledger_depth(struct ledger *l)
{
	size_t d;

	pthread_mutex_lock(&l->lock);
	d = l->depth;
	pthread_mutex_unlock(&l->lock);
	return d;
}

void ledger_totals(struct ledger *l, unsigned long long *transactions,
		   unsigned long long *rows)
{
	pthread_mutex_lock(&l->lock);
	*transactions = l->committed_batches;
	*rows = l->rows_written;
	pthread_mutex_unlock(&l->lock);
}

void ledger_stop(struct ledger *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	l->stopping = 1;
	pthread_cond_signal(&l->work);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->thread, NULL);
	log_info("msg=\"ledger stopped\" transactions=%llu resyncs=%llu",
		 l->committed_batches, l->rows_written);
	db_close(l->db);
	pthread_cond_destroy(&l->work);
	pthread_cond_destroy(&l->done);
	pthread_mutex_destroy(&l->lock);
	free(l->path);
	free(l);
}
