/* Unit tests for the ledger's device update (db/db.c device_touch: the
 * last_seen-only update and the full one give the values of before) and
 * db/ledger_tune.c (settings checked, WAL bounded, the background pass
 * copies everything once commits stop and then truncates the WAL file,
 * readers holding old snapshots neither block the writer nor lose their
 * view, other writers go on, closing stops the thread). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db/db.h"
#include "db/ledger_tune.h"

#define T_DEVICES 2000             /* inventory of the checkpoint tests */
#define T_BATCH 64                 /* rows per db_ledger_write */
#define T_PAGE 4096                /* SQLite's default page size */
#define T_WAIT_S 10                /* bound of every wait */

static char dir[64];
static char path[96];
static struct db *lg;              /* the ledger's handle */
static struct db *rd;              /* another handle, like spaprovctl's */

/* Small settings: many passes and WAL restarts in a short test. */
static const struct db_ledger_tuning small = {
	.cache_kib = 1024, .ckpt_frames = 64, .wal_max_frames = 256,
	.ckpt_ms = 50,
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void setup(void)
{
	struct db *db = NULL;
	char *err = NULL;

	snprintf(dir, sizeof(dir), "/tmp/test_ledger_tune.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.db", dir);
	ck_assert_msg(db_open(path, 1000, &db, &err) == 0, "%s", err);
	db_close(db);
	ck_assert_msg(db_open_existing(path, 1000, &lg, &err) == 0, "%s", err);
	ck_assert_msg(db_open_existing(path, 1000, &rd, &err) == 0, "%s", err);
}

static void remove_file(const char *suffix)
{
	char f[128];

	snprintf(f, sizeof(f), "%s%s", path, suffix);
	unlink(f);
}

static void teardown(void)
{
	db_close(lg);
	db_close(rd);
	lg = rd = NULL;
	remove_file("");
	remove_file("-wal");
	remove_file("-shm");
	remove_file(".copy");
	remove_file(".copy-wal");
	remove_file(".copy-shm");
	rmdir(dir);
}

/* A connection of our own, like an operator's sqlite3. */
static sqlite3 *operator_open(const char *file)
{
	sqlite3 *sq = NULL;

	ck_assert_int_eq(sqlite3_open_v2(file, &sq, SQLITE_OPEN_READWRITE,
					 NULL), SQLITE_OK);
	sqlite3_busy_timeout(sq, 5000);
	return sq;
}

static long long operator_count(sqlite3 *sq, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long n = -1;

	ck_assert_int_eq(sqlite3_prepare_v2(sq, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static long long operator_count_path(const char *sql)
{
	sqlite3 *sq = operator_open(path);
	long long n = operator_count(sq, sql);

	sqlite3_close(sq);
	return n;
}

static void register_devices(size_t n)
{
	sqlite3 *sq = operator_open(path);
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM"
		 " k WHERE i < %zu) INSERT INTO devices (mac, status,"
		 " description, created, updated) SELECT printf('0022be%%06x',"
		 " i), 'enabled', 'phone ' || i, 't0', 't0' FROM k", n - 1);
	ck_assert_int_eq(sqlite3_exec(sq, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(sq);
}

struct row {
	struct db_resync r;
	char mac[13];
};

static void fill(struct row *w, size_t dev, const char *ts)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->mac, sizeof(w->mac), "0022be%06zx", dev);
	snprintf(w->r.ts, sizeof(w->r.ts), "%s", ts);
	w->r.listener = w->r.ca = "sb";
	w->r.remote_addr = "10.0.0.1";
	w->r.mac = w->r.ua_mac = w->mac;
	w->r.cert_subject = "OU=SPA504G,L=CBT0001,ST=0022be000001";
	w->r.cert_issuer = "CN=Test Root";
	w->r.verify = "ok";
	w->r.method = "GET";
	w->r.path = "/spa.xml";
	w->r.status = 200;
	w->r.outcome = "ok";
	w->r.model = "SPA504G";
	w->r.firmware = "7.4.4";
	w->r.serial = "CBT0001";
	w->r.seen = 1;
}

static void write_rows(struct db *db, struct db_resync **rows, size_t n)
{
	char *err = NULL;

	ck_assert_msg(db_ledger_write(db, rows, n, NULL, 0, &err) == 0, "%s",
		      err);
}

static void write_one(struct db *db, struct db_resync *r)
{
	write_rows(db, &r, 1);
}

/* T_BATCH rows for pseudo-random devices; returns rows written. */
static size_t write_batch(struct db *db, unsigned long long *seed)
{
	struct row w[T_BATCH];
	struct db_resync *p[T_BATCH];
	char ts[32];

	db_timestamp(ts);
	for (size_t i = 0; i < T_BATCH; i++) {
		*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
		fill(&w[i], (size_t)(*seed >> 33) % T_DEVICES, ts);
		p[i] = &w[i].r;
	}
	write_rows(db, p, T_BATCH);
	return T_BATCH;
}

static long long wal_bytes(void)
{
	char f[128];
	struct stat st;

	snprintf(f, sizeof(f), "%s-wal", path);
	return stat(f, &st) == 0 ? (long long)st.st_size : 0;
}

static struct db_device *device(const char *mac)
{
	struct db_device *dev = NULL;
	char *err = NULL;

	ck_assert_msg(db_device_get(rd, mac, &dev, &err) == DB_OK, "%s",
		      err ? err : "not found");
	return dev;
}

static void tune(const struct db_ledger_tuning *t)
{
	char *err = NULL;

	ck_assert_msg(db_ledger_tune_with(lg, t, &err) == 0, "%s", err);
}

/* --- the device update ---------------------------------------------------- */

START_TEST(seen_updates_device_as_before)
{
	struct db_device *dev;
	struct row w;
	char *err = NULL;

	tune(&small);
	ck_assert_int_eq(db_device_add(rd, "0022be000001", NULL, "desk", NULL,
				       0, &err), DB_OK);
	/* first request: every fact is new */
	fill(&w, 1, "2026-11-23T10:00:00.000Z");
	write_one(lg, &w.r);
	dev = device("0022be000001");
	ck_assert_str_eq(dev->last_seen, "2026-11-23T10:00:00.000Z");
	ck_assert_str_eq(dev->model, "SPA504G");
	ck_assert_str_eq(dev->serial, "CBT0001");
	ck_assert_str_eq(dev->firmware, "7.4.4");
	ck_assert_str_eq(dev->cert_issuer, "CN=Test Root");
	ck_assert_str_eq(dev->cert_subject,
			 "OU=SPA504G,L=CBT0001,ST=0022be000001");
	db_device_free(dev);

	/* the same facts again: only last_seen moves */
	fill(&w, 1, "2026-11-23T11:00:00.000Z");
	write_one(lg, &w.r);
	dev = device("0022be000001");
	ck_assert_str_eq(dev->last_seen, "2026-11-23T11:00:00.000Z");
	ck_assert_str_eq(dev->firmware, "7.4.4");
	db_device_free(dev);

	/* new firmware, no model in this request: model is kept */
	fill(&w, 1, "2026-11-23T12:00:00.000Z");
	w.r.firmware = "7.6.2";
	w.r.model = NULL;
	write_one(lg, &w.r);
	dev = device("0022be000001");
	ck_assert_str_eq(dev->last_seen, "2026-11-23T12:00:00.000Z");
	ck_assert_str_eq(dev->firmware, "7.6.2");
	ck_assert_str_eq(dev->model, "SPA504G");
	db_device_free(dev);

	/* identified by the URL only: certificate facts are kept, even if
	 * nothing else changed */
	fill(&w, 1, "2026-11-23T13:00:00.000Z");
	w.r.firmware = "7.6.2";
	w.r.trust = "url-mac";
	w.r.serial = "OTHER";
	w.r.cert_subject = "CN=someone else";
	w.r.cert_issuer = "CN=Other Root";
	write_one(lg, &w.r);
	dev = device("0022be000001");
	ck_assert_str_eq(dev->last_seen, "2026-11-23T13:00:00.000Z");
	ck_assert_str_eq(dev->serial, "CBT0001");
	ck_assert_str_eq(dev->cert_subject,
			 "OU=SPA504G,L=CBT0001,ST=0022be000001");
	ck_assert_str_eq(dev->cert_issuer, "CN=Test Root");
	db_device_free(dev);

	/* a new certificate with the same firmware: the full update */
	fill(&w, 1, "2026-11-23T14:00:00.000Z");
	w.r.firmware = "7.6.2";
	w.r.cert_issuer = "CN=Test Root 2";
	write_one(lg, &w.r);
	dev = device("0022be000001");
	ck_assert_str_eq(dev->last_seen, "2026-11-23T14:00:00.000Z");
	ck_assert_str_eq(dev->cert_issuer, "CN=Test Root 2");
	ck_assert_str_eq(dev->firmware, "7.6.2");
	db_device_free(dev);
}
END_TEST

START_TEST(seen_unknown_and_pending)
{
	struct db_device *dev = NULL;
	struct row w[3];
	struct db_resync *p[3] = { &w[0].r, &w[1].r, &w[2].r };
	char *err = NULL;

	tune(&small);
	/* "seen" for a MAC that is not registered: no device appears */
	fill(&w[0], 7, "2026-11-23T10:00:00.000Z");
	/* an unknown device recorded as pending, then seen in the batch */
	fill(&w[1], 8, "2026-11-23T10:00:01.000Z");
	w[1].r.seen = 0;
	w[1].r.add_pending = 1;
	fill(&w[2], 8, "2026-11-23T10:00:02.000Z");
	w[2].r.firmware = "7.6.2";
	write_rows(lg, p, 3);
	ck_assert_int_eq(db_device_get(rd, "0022be000007", &dev, &err),
			 DB_NOTFOUND);
	dev = device("0022be000008");
	ck_assert_str_eq(dev->status, "pending");
	ck_assert_str_eq(dev->last_seen, "2026-11-23T10:00:02.000Z");
	ck_assert_str_eq(dev->firmware, "7.6.2");
	db_device_free(dev);
}
END_TEST

/* --- tuning --------------------------------------------------------------- */

START_TEST(tune_rejects_bad_settings)
{
	const struct db_ledger_tuning bad[] = {
		{ 0, 64, 256, 50 },
		{ 1024, 0, 256, 50 },
		{ 1024, 64, 32, 50 },
		{ 1024, 64, 256, 0 },
		{ DB_LEDGER_MAX_CACHE_KIB + 1, 64, 256, 50 },
		{ 1024, 64, DB_LEDGER_MAX_FRAMES + 1, 50 },
		{ 1024, 64, 256, DB_LEDGER_MAX_CKPT_MS + 1 },
	};
	struct row w;
	char *err = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(db_ledger_tune_with(lg, &bad[i], &err), -1);
		ck_assert_ptr_nonnull(err);
		free(err);
		err = NULL;
	}
	/* the handle is still usable, and the defaults are accepted */
	ck_assert_msg(db_ledger_tune(lg, &err) == 0, "%s", err);
	fill(&w, 1, "2026-11-23T10:00:00.000Z");
	write_one(lg, &w.r);
}
END_TEST

START_TEST(wal_bounded_and_copied_when_idle)
{
	unsigned long long seed = 1;
	long long max_wal = 0, total = 0, in_file = -1;
	/* the WAL: its limit, a pass's worth, and one batch (T_BATCH rows
	 * of about 6 pages each, counted generously) */
	long long bound = 32 + (long long)(small.wal_max_frames +
					   small.ckpt_frames + 16 * T_BATCH) *
				       (T_PAGE + 24);
	char copy[128];
	double until;

	register_devices(T_DEVICES);
	tune(&small);
	for (int b = 0; b < 150; b++) {
		total += (long long)write_batch(lg, &seed);
		if (wal_bytes() > max_wal)
			max_wal = wal_bytes();
	}
	ck_assert_msg(max_wal <= bound, "WAL reached %lld bytes (bound %lld)",
		      max_wal, bound);
	/* no more commits: within a few passes the database file alone
	 * holds every row (its copy has no WAL) */
	snprintf(copy, sizeof(copy), "%s.copy", path);
	until = now_s() + T_WAIT_S;
	while (now_s() < until) {
		sqlite3 *sq;
		FILE *in, *out;
		char buf[65536];
		size_t n;

		usleep(100000);
		in = fopen(path, "rb");
		out = fopen(copy, "wb");
		ck_assert_ptr_nonnull(in);
		ck_assert_ptr_nonnull(out);
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
		fclose(in);
		fclose(out);
		sq = operator_open(copy);
		in_file = operator_count(sq, "SELECT count(*) FROM resyncs");
		sqlite3_close(sq);
		remove_file(".copy-wal");
		remove_file(".copy-shm");
		if (in_file == total)
			break;
	}
	ck_assert_int_eq(in_file, total);
	/* and a little later the WAL file gives its space back */
	until = now_s() + T_WAIT_S;
	while (wal_bytes() > 0 && now_s() < until)
		usleep(20000);
	ck_assert_int_eq(wal_bytes(), 0);
	ck_assert_int_eq(operator_count_path("SELECT count(*) FROM resyncs"),
			 total);
}
END_TEST

START_TEST(old_reader_neither_blocks_nor_loses_its_view)
{
	unsigned long long seed = 2;
	sqlite3 *op;
	long long before, total;
	double t0;

	register_devices(T_DEVICES);
	tune(&small);
	total = (long long)write_batch(lg, &seed);
	/* an operator leaves a read transaction open at the prompt */
	op = operator_open(path);
	ck_assert_int_eq(sqlite3_exec(op, "BEGIN", NULL, NULL, NULL),
			 SQLITE_OK);
	before = operator_count(op, "SELECT count(*) FROM resyncs");
	ck_assert_int_eq(before, total);
	/* the WAL cannot start over meanwhile: far past wal_max_frames */
	t0 = now_s();
	for (int b = 0; b < 40; b++)
		total += (long long)write_batch(lg, &seed);
	ck_assert_msg(now_s() - t0 < T_WAIT_S, "writes took %.1f s",
		      now_s() - t0);
	ck_assert_int_eq(operator_count(op, "SELECT count(*) FROM resyncs"),
			 before);
	ck_assert_int_eq(sqlite3_exec(op, "COMMIT", NULL, NULL, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(operator_count(op, "SELECT count(*) FROM resyncs"),
			 total);
	/* once it is gone, the WAL is bounded again */
	for (int b = 0; b < 20; b++)
		total += (long long)write_batch(lg, &seed);
	ck_assert_int_eq(operator_count(op, "SELECT count(*) FROM resyncs"),
			 total);
	sqlite3_close(op);
}
END_TEST

START_TEST(other_writers_and_close)
{
	unsigned long long seed = 3;
	long long total = 0;
	sqlite3 *op;
	char *err = NULL, mac[13];

	register_devices(T_DEVICES);
	tune(&small);
	for (int b = 0; b < 30; b++) {
		total += (long long)write_batch(lg, &seed);
		/* spaprovctl adds devices between the batches */
		snprintf(mac, sizeof(mac), "0022bf%06x", b);
		ck_assert_int_eq(db_device_add(rd, mac, NULL, "new", NULL, 0,
					       &err), DB_OK);
	}
	/* closing the ledger's handle stops its thread and keeps all */
	db_close(lg);
	lg = NULL;
	db_close(rd);
	rd = NULL;
	/* the last connection closed: the WAL was copied and removed */
	ck_assert_int_eq(wal_bytes(), 0);
	op = operator_open(path);
	ck_assert_int_eq(operator_count(op, "SELECT count(*) FROM resyncs"),
			 total);
	ck_assert_int_eq(operator_count(op, "SELECT count(*) FROM devices"),
			 T_DEVICES + 30);
	ck_assert_int_eq(operator_count(op, "SELECT count(*) FROM devices"
					    " WHERE last_seen IS NOT NULL"),
			 operator_count(op, "SELECT count(DISTINCT mac) FROM"
					    " resyncs"));
	sqlite3_close(op);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ledger_tune");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, seen_updates_device_as_before);
	tcase_add_test(tc, seen_unknown_and_pending);
	tcase_add_test(tc, tune_rejects_bad_settings);
	tcase_add_test(tc, wal_bounded_and_copied_when_idle);
	tcase_add_test(tc, old_reader_neither_blocks_nor_loses_its_view);
	tcase_add_test(tc, other_writers_and_close);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
