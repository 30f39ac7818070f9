/* bench/inventory.c: a large inventory.  Registers N devices (default
 * 1,000,000, three variables each) in one transaction, then measures
 *   - db_device_get() latency through libspaprov (random MACs),
 *   - spaprovd's start time (fork to "ports written") and RSS with it,
 *   - ledger throughput: db_ledger_write() in batches (rows that update
 *     their devices, mostly seen for the first time; resyncs only; the
 *     first run's devices again), and the ledger module (server/ledger.c)
 *     driven by many waiting request threads. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/bench.h"
#include "db/db.h"
#include "db/ledger_tune.h"
#include "server/ledger.h"

#define INV_LOOKUPS 100000         /* random device lookups */
#define INV_LOOKUP_S 20.0          /* and at most this long */
#define INV_STARTS 3               /* daemon starts timed */
#define INV_DIRECT_ROWS 200000     /* rows written with db_ledger_write */
#define INV_BATCH 256              /* rows per transaction (ledger_batch) */
#define INV_LEDGER_THREADS 64      /* request threads waiting on commits */
#define INV_MAX_COMMITS 2000000    /* bound of the ledger-module run */

static void fill_row(struct db_resync *r, size_t dev, char mac[13])
{
	bn_phone_mac(dev, mac);
	memset(r, 0, sizeof(*r));
	db_timestamp(r->ts);
	r->listener = "sb2k";
	r->ca = "sb2k";
	r->remote_addr = "127.0.0.1";
	r->mac = mac;
	r->cert_subject = "O=spaprov bench (not Cisco),OU=SPA504G,"
			  "L=CBT00000001,ST=0022be000001";
	r->cert_issuer = "O=spaprov bench (not Cisco),CN=Bench Client Root";
	r->cert_serial = "01000000000003e9";
	r->verify = "ok";
	r->tls_version = "TLS1.0";
	r->cipher = "TLS_DHE_RSA_WITH_AES_256_CBC_SHA";
	r->user_agent = "Cisco/SPA504G-7.4.4 (0022BE000001)(CBT00000001)";
	r->model = "SPA504G";
	r->firmware = "7.4.4";
	r->method = "GET";
	r->path = "/spa0022be000001.xml";
	r->status = 200;
	r->bytes = 2300;
	r->duration_ms = 0.8;
	r->outcome = "ok";
	r->ua_mac = mac;
	r->seen = 1;
	r->serial = "CBT00000001";
}

static void lookups(const char *path, size_t devices)
{
	struct db *db = NULL;
	char *err = NULL, mac[13];
	double *lat = calloc(INV_LOOKUPS, sizeof(double));
	unsigned long long seed = 7;
	double t0 = bn_now();
	size_t n = 0, found = 0;

	if (lat == NULL || db_open_existing(path, 5000, &db, &err) < 0)
		bn_die("lookup: %s", err ? err : "out of memory");
	while (n < INV_LOOKUPS && bn_now() - t0 < INV_LOOKUP_S) {
		struct db_device *dev = NULL;
		double s = bn_now();

		bn_phone_mac((size_t)(bn_rng(&seed) % devices), mac);
		if (db_device_get(db, mac, &dev, &err) == DB_OK)
			found++;
		lat[n++] = (bn_now() - s) * 1e3;
		db_device_free(dev);
		free(err);
		err = NULL;
	}
	db_close(db);
	qsort(lat, n, sizeof(double), bn_cmp_double);
	printf("db_device_get, %zu random MACs (%zu found): p50 %.3f ms, "
	       "p99 %.3f ms, max %.3f ms\n", n, found, bn_pct(lat, n, 50),
	       bn_pct(lat, n, 99), n ? lat[n - 1] : 0);
	free(lat);
}

/* The kinds of direct_ledger() runs. */
enum inv_run {
	INV_SEEN,        /* rows update their devices (mostly first seen) */
	INV_SEEN_AGAIN,  /* the same devices again, nothing but last_seen new */
	INV_NO_DEVICE,   /* resyncs rows only */
};

/* db_ledger_write() in batches of INV_BATCH, on a handle tuned as
 * spaprovd's ledger tunes its own (db_ledger_tune); at most max_rows rows.
 * Returns the rows written. */
static size_t direct_ledger(const char *path, size_t devices,
			    enum inv_run kind, size_t max_rows,
			    double seconds)
{
	static const char *const what[] = {
		[INV_SEEN] = " (each also updates its device, as spaprovd "
			     "does)",
		[INV_SEEN_AGAIN] = " (each updates its device, seen before "
				   "with the same facts: daily operation)",
		[INV_NO_DEVICE] = " (resyncs only, no device update)",
	};
	struct db *db = NULL;
	struct db_resync rows[INV_BATCH], *ptr[INV_BATCH];
	char macs[INV_BATCH][13], *err = NULL;
	/* INV_SEEN_AGAIN replays the device sequence of INV_SEEN */
	unsigned long long seed = 11;
	size_t cap = max_rows / INV_BATCH + 1, nb = 0, done = 0;
	double *lat = calloc(cap, sizeof(double)), t0, el;

	if (lat == NULL)
		bn_die("out of memory");
	if (db_open_existing(path, 5000, &db, &err) < 0 ||
	    db_ledger_tune(db, &err) < 0)
		bn_die("ledger: %s", err ? err : "?");
	t0 = bn_now();
	while (done + INV_BATCH <= max_rows && bn_now() - t0 < seconds) {
		double s;

		for (size_t i = 0; i < INV_BATCH; i++) {
			fill_row(&rows[i], (size_t)(bn_rng(&seed) % devices),
				 macs[i]);
			rows[i].seen = kind != INV_NO_DEVICE;
			ptr[i] = &rows[i];
		}
		s = bn_now();
		if (db_ledger_write(db, ptr, INV_BATCH, NULL, 0, &err) < 0)
			bn_die("db_ledger_write: %s", err ? err : "?");
		lat[nb++] = (bn_now() - s) * 1e3;
		done += INV_BATCH;
	}
	el = bn_now() - t0;
	db_close(db);
	qsort(lat, nb, sizeof(double), bn_cmp_double);
	printf("db_ledger_write, batches of %d rows%s: %zu rows in %.2f s = "
	       "%.0f rows/s, commit p50 %.1f ms p99 %.1f ms max %.1f ms\n",
	       INV_BATCH, what[kind], done, el, (double)done / el,
	       bn_pct(lat, nb, 50), bn_pct(lat, nb, 99),
	       nb ? lat[nb - 1] : 0);
	fflush(stdout);
	free(lat);
	return done;
}

struct lt {
	struct ledger *l;
	size_t devices;
	unsigned id;
	double end;
	size_t n, failed;
	double *lat;
	size_t cap;
};

static atomic_size_t commits;

static void *ledger_thread(void *arg)
{
	struct lt *t = arg;
	unsigned long long seed = 100 + t->id;

	while (bn_now() < t->end &&
	       atomic_fetch_add(&commits, 1) < INV_MAX_COMMITS) {
		struct db_resync row;
		char mac[13];
		double s = bn_now();

		fill_row(&row, (size_t)(bn_rng(&seed) % t->devices), mac);
		if (ledger_commit(t->l, &row) < 0)
			t->failed++;
		if (t->n < t->cap)
			t->lat[t->n] = (bn_now() - s) * 1e3;
		t->n++;
	}
	return NULL;
}

static void module_ledger(const char *path, size_t devices, double seconds)
{
	struct ledger *l = NULL;
	struct lt th[INV_LEDGER_THREADS];
	pthread_t tid[INV_LEDGER_THREADS];
	char *err = NULL;
	size_t total = 0, failed = 0, nl = 0, cap = INV_MAX_COMMITS;
	double *all, t0, el;

	if (ledger_start(path, 5000, INV_BATCH, 0, &l, &err) < 0)
		bn_die("ledger_start: %s", err ? err : "?");
	all = calloc(cap, sizeof(double));
	if (all == NULL)
		bn_die("out of memory");
	atomic_store(&commits, 0);
	t0 = bn_now();
	for (unsigned i = 0; i < INV_LEDGER_THREADS; i++) {
		th[i] = (struct lt){ .l = l, .devices = devices, .id = i,
				     .end = t0 + seconds,
				     .lat = all + i * (cap / INV_LEDGER_THREADS),
				     .cap = cap / INV_LEDGER_THREADS };
		pthread_create(&tid[i], NULL, ledger_thread, &th[i]);
	}
	for (unsigned i = 0; i < INV_LEDGER_THREADS; i++) {
		pthread_join(tid[i], NULL);
		total += th[i].n;
		failed += th[i].failed;
	}
	el = bn_now() - t0;
	ledger_stop(l);
	/* gather the latencies into the front of the array */
	for (unsigned i = 0; i < INV_LEDGER_THREADS; i++) {
		size_t k = th[i].n < th[i].cap ? th[i].n : th[i].cap;

		memmove(all + nl, th[i].lat, k * sizeof(double));
		nl += k;
	}
	qsort(all, nl, sizeof(double), bn_cmp_double);
	printf("ledger module (group commit, batch %d), %d threads each "
	       "waiting for its row: %zu rows in %.2f s = %.0f rows/s, "
	       "commit wait p50 %.2f ms p99 %.2f ms, %zu failed\n",
	       INV_BATCH, INV_LEDGER_THREADS, total, el, (double)total / el,
	       bn_pct(all, nl, 50), bn_pct(all, nl, 99), failed);
	free(all);
}

int bn_inventory_main(const char *dir, const char *spaprovd, size_t devices,
		      const struct bn_pki *pki, double ledger_seconds)
{
	char path[BN_MAX_PATH + 32];
	struct bn_target_opts to = { .dir = dir, .spaprovd = spaprovd,
				     .threads = 2, .n_listeners = 4 };
	struct stat st;
	size_t seen;

	if (devices < pki->n_phones)
		devices = pki->n_phones;
	snprintf(path, sizeof(path), "%s/inventory.db", dir);
	printf("== inventory: %zu devices\n", devices);
	fflush(stdout);
	bn_db_register(path, devices);
	if (stat(path, &st) == 0)
		printf("database file: %.1f MB\n",
		       (double)st.st_size / 1048576);
	lookups(path, devices);
	to.db = path;
	for (int i = 0; i < INV_STARTS; i++) {
		struct bn_target t;
		struct bn_proc p;

		if (bn_target_start(BN_SPAPROVD, &to, pki, &t) < 0)
			return 1;
		bn_proc_read(t.pid, &p);
		printf("spaprovd start %d: %.3f s to ready (fork to ports "
		       "file), RSS %.1f MB", i + 1, t.start_s,
		       (double)p.rss_kb / 1024);
		if (i == INV_STARTS - 1) {
			struct bn_load ld = {
				.mode = BN_LEGACY, .phones = pki->n_phones,
				.requests = 2 * pki->n_phones,
				.concurrency = 32, .threads = 2,
				.timeout = 30, .max_seconds = 300,
				.check_body = 1,
			};
			struct bn_result r;

			if (bn_load_run(&ld, pki, &t, &r) == 0) {
				bn_proc_read(t.pid, &p);
				printf("; after %zu resyncs (%zu failed): "
				       "peak RSS %.1f MB, p99 %.1f ms",
				       r.ok, r.failed,
				       (double)p.hwm_kb / 1024,
				       bn_pct(r.lat, r.n_lat, 99));
				bn_result_free(&r);
			}
		}
		printf("\n");
		fflush(stdout);
		bn_target_stop(&t);
	}
	seen = direct_ledger(path, devices, INV_SEEN, INV_DIRECT_ROWS,
			     ledger_seconds);
	direct_ledger(path, devices, INV_NO_DEVICE, INV_DIRECT_ROWS,
		      ledger_seconds);
	direct_ledger(path, devices, INV_SEEN_AGAIN, seen, ledger_seconds);
	module_ledger(path, devices, ledger_seconds);
	return 0;
}
