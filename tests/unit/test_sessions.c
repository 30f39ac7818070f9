#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "server/sessions.h"

/* A clock the tests move by hand. */
static time_t fake_time = 1000;

static time_t fake_now(void)
{
	return fake_time;
}

static struct sessions *new_cache(size_t entries, unsigned lifetime)
{
	char *err = NULL;
	struct sessions *s = sessions_new(entries, lifetime, NULL, &err);

	ck_assert_msg(s != NULL, "sessions_new: %s", err ? err : "?");
	fake_time = 1000;
	sessions_set_clock(s, fake_now);
	return s;
}

/* Session ID n: 32 bytes, different in their last bytes only. */
static void make_id(unsigned n, unsigned char id[32])
{
	memset(id, 0xa5, 32);
	id[28] = (unsigned char)(n >> 24);
	id[29] = (unsigned char)(n >> 16);
	id[30] = (unsigned char)(n >> 8);
	id[31] = (unsigned char)n;
}

static int put_n(struct sessions *s, unsigned n, size_t len, int fill)
{
	unsigned char id[32];
	unsigned char *data = malloc(len);
	int rc;

	ck_assert_ptr_nonnull(data);
	make_id(n, id);
	memset(data, fill, len);
	rc = sessions_put(s, id, sizeof(id), data, len);
	free(data);
	return rc;
}

/* 1 if session n is there with `len` bytes of `fill`, 0 if absent. */
static int has_n(struct sessions *s, unsigned n, size_t len, int fill)
{
	unsigned char id[32];
	gnutls_datum_t d;

	make_id(n, id);
	if (sessions_get(s, id, sizeof(id), &d) < 0) {
		ck_assert_ptr_null(d.data);
		return 0;
	}
	ck_assert_uint_eq(d.size, len);
	for (size_t i = 0; i < len; i++)
		ck_assert_int_eq(d.data[i], fill);
	gnutls_free(d.data);
	return 1;
}

static struct sessions_stats stats(struct sessions *s)
{
	struct sessions_stats st;

	sessions_get_stats(s, &st);
	return st;
}

START_TEST(test_new_bounds)
{
	char *err = NULL;

	ck_assert_ptr_null(sessions_new(0, 3600, NULL, &err));
	ck_assert_ptr_nonnull(err);
	free(err);
	err = NULL;
	ck_assert_ptr_null(
		sessions_new(SESSIONS_MAX_ENTRIES + 1, 3600, NULL, &err));
	ck_assert_ptr_nonnull(err);
	free(err);
	err = NULL;
	ck_assert_ptr_null(sessions_new(10, 0, NULL, &err));
	ck_assert_ptr_nonnull(err);
	free(err);
	sessions_free(NULL);
}
END_TEST

START_TEST(test_put_get_copy)
{
	struct sessions *s = new_cache(10, 3600);
	unsigned char id[32];
	gnutls_datum_t d;

	ck_assert_int_eq(put_n(s, 1, 100, 'a'), 0);
	ck_assert_int_eq(has_n(s, 1, 100, 'a'), 1);
	ck_assert_int_eq(has_n(s, 2, 100, 'a'), 0);
	/* the caller's copy is its own */
	make_id(1, id);
	ck_assert_int_eq(sessions_get(s, id, sizeof(id), &d), 0);
	memset(d.data, 'z', d.size);
	gnutls_free(d.data);
	ck_assert_int_eq(has_n(s, 1, 100, 'a'), 1);
	/* a shorter ID with the same first bytes is another session */
	ck_assert_int_eq(sessions_get(s, id, 31, &d), -1);
	ck_assert_uint_eq(stats(s).hits, 3);
	ck_assert_uint_eq(stats(s).misses, 2);
	ck_assert_uint_eq(stats(s).entries, 1);
	ck_assert_uint_eq(stats(s).bytes, 100);
	sessions_free(s);
}
END_TEST

START_TEST(test_refused)
{
	struct sessions *s = new_cache(10, 3600);
	unsigned char id[SESSIONS_MAX_ID + 1] = { 1 };
	unsigned char data[8] = { 2 };
	gnutls_datum_t d;

	ck_assert_int_eq(sessions_put(s, id, 0, data, sizeof(data)), -1);
	ck_assert_int_eq(sessions_put(s, id, sizeof(id), data, sizeof(data)),
			 -1);
	ck_assert_int_eq(sessions_put(s, id, 8, data, 0), -1);
	ck_assert_int_eq(put_n(s, 1, SESSIONS_MAX_DATA + 1, 'x'), -1);
	ck_assert_uint_eq(stats(s).refused, 4);
	ck_assert_uint_eq(stats(s).entries, 0);
	ck_assert_int_eq(sessions_get(s, id, sizeof(id), &d), -1);
	ck_assert_int_eq(sessions_get(s, id, 0, &d), -1);
	ck_assert_int_eq(sessions_del(s, id, sizeof(id)), -1);
	/* the largest allowed is kept */
	ck_assert_int_eq(put_n(s, 2, SESSIONS_MAX_DATA, 'y'), 0);
	ck_assert_int_eq(has_n(s, 2, SESSIONS_MAX_DATA, 'y'), 1);
	sessions_free(s);
}
END_TEST

START_TEST(test_replace_and_del)
{
	struct sessions *s = new_cache(10, 3600);
	unsigned char id[32];

	ck_assert_int_eq(put_n(s, 7, 100, 'a'), 0);
	ck_assert_int_eq(put_n(s, 7, 300, 'b'), 0);
	ck_assert_int_eq(has_n(s, 7, 300, 'b'), 1);
	ck_assert_uint_eq(stats(s).entries, 1);
	ck_assert_uint_eq(stats(s).bytes, 300);
	make_id(7, id);
	ck_assert_int_eq(sessions_del(s, id, sizeof(id)), 0);
	ck_assert_int_eq(sessions_del(s, id, sizeof(id)), -1);
	ck_assert_int_eq(has_n(s, 7, 300, 'b'), 0);
	ck_assert_uint_eq(stats(s).entries, 0);
	ck_assert_uint_eq(stats(s).bytes, 0);
	sessions_free(s);
}
END_TEST

START_TEST(test_lru_eviction)
{
	struct sessions *s = new_cache(3, 3600);

	ck_assert_int_eq(put_n(s, 1, 10, 1), 0);
	ck_assert_int_eq(put_n(s, 2, 10, 2), 0);
	ck_assert_int_eq(put_n(s, 3, 10, 3), 0);
	ck_assert_int_eq(has_n(s, 1, 10, 1), 1); /* 2 is now the oldest */
	ck_assert_int_eq(put_n(s, 4, 10, 4), 0);
	ck_assert_uint_eq(stats(s).entries, 3);
	ck_assert_uint_eq(stats(s).evicted, 1);
	ck_assert_int_eq(has_n(s, 2, 10, 2), 0);
	ck_assert_int_eq(has_n(s, 1, 10, 1), 1);
	ck_assert_int_eq(has_n(s, 3, 10, 3), 1);
	ck_assert_int_eq(has_n(s, 4, 10, 4), 1);
	/* now 1 is the least recently used */
	ck_assert_int_eq(put_n(s, 5, 10, 5), 0);
	ck_assert_int_eq(has_n(s, 1, 10, 1), 0);
	ck_assert_int_eq(has_n(s, 5, 10, 5), 1);
	sessions_free(s);
}
END_TEST

START_TEST(test_byte_budget)
{
	/* 2 entries: SESSIONS_BYTES_PER_ENTRY * 2 bytes in all */
	struct sessions *s = new_cache(2, 3600);
	size_t big = SESSIONS_BYTES_PER_ENTRY + 1000;

	ck_assert_int_eq(put_n(s, 1, big, 1), 0);
	ck_assert_int_eq(put_n(s, 2, big, 2), 0); /* 1 goes to make room */
	ck_assert_uint_eq(stats(s).entries, 1);
	ck_assert_uint_eq(stats(s).bytes, big);
	ck_assert_int_eq(has_n(s, 1, big, 1), 0);
	ck_assert_int_eq(has_n(s, 2, big, 2), 1);
	ck_assert_uint_eq(stats(s).evicted, 1);
	sessions_free(s);

	/* one entry larger than the whole budget is refused */
	s = new_cache(1, 3600);
	ck_assert_int_eq(put_n(s, 1, SESSIONS_BYTES_PER_ENTRY + 1, 1), -1);
	ck_assert_int_eq(put_n(s, 1, SESSIONS_BYTES_PER_ENTRY, 1), 0);
	ck_assert_uint_eq(stats(s).refused, 1);
	sessions_free(s);
}
END_TEST

START_TEST(test_expiry)
{
	struct sessions *s = new_cache(10, 60);

	ck_assert_int_eq(put_n(s, 1, 10, 1), 0);
	fake_time += 59;
	ck_assert_int_eq(has_n(s, 1, 10, 1), 1);
	fake_time += 1; /* a use does not extend the lifetime */
	ck_assert_int_eq(has_n(s, 1, 10, 1), 0);
	ck_assert_uint_eq(stats(s).expired, 1);
	ck_assert_uint_eq(stats(s).entries, 0);

	/* expired entries are dropped when a new one comes in */
	ck_assert_int_eq(put_n(s, 2, 10, 2), 0);
	ck_assert_int_eq(put_n(s, 3, 10, 3), 0);
	fake_time += 61;
	ck_assert_int_eq(put_n(s, 4, 10, 4), 0);
	ck_assert_uint_eq(stats(s).entries, 1);
	ck_assert_uint_eq(stats(s).expired, 3);
	ck_assert_uint_eq(stats(s).evicted, 0);
	ck_assert_int_eq(has_n(s, 4, 10, 4), 1);
	sessions_free(s);
}
END_TEST

START_TEST(test_many)
{
	enum { N = 5000 };
	struct sessions *s = new_cache(N, 3600);
	struct sessions_stats st;

	for (unsigned i = 0; i < N; i++)
		ck_assert_int_eq(put_n(s, i, 50 + i % 100, (int)(i & 0xff)),
				 0);
	for (unsigned i = 0; i < N; i++)
		ck_assert_int_eq(has_n(s, i, 50 + i % 100, (int)(i & 0xff)),
				 1);
	ck_assert_int_eq(put_n(s, N, 10, 0), 0); /* evicts session 0 */
	ck_assert_int_eq(has_n(s, 0, 50, 0), 0);
	st = stats(s);
	ck_assert_uint_eq(st.entries, N);
	ck_assert_uint_eq(st.evicted, 1);
	sessions_free(s);
}
END_TEST

/* Threads putting, getting and deleting on one small cache: the counts
 * stay consistent and nothing breaks (run under the sanitizers too). */
static struct sessions *shared;

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(size_t)arg;

	for (int i = 0; i < 20000; i++) {
		unsigned n = (unsigned)rand_r(&seed) % 300;
		unsigned char id[32];
		gnutls_datum_t d;

		make_id(n, id);
		switch (rand_r(&seed) % 4) {
		case 0:
		case 1:
			put_n(shared, n, 16 + n, (int)n & 0xff);
			break;
		case 2:
			if (sessions_get(shared, id, sizeof(id), &d) == 0) {
				ck_assert_uint_eq(d.size, 16 + n);
				ck_assert_int_eq(d.data[d.size - 1],
						 (int)n & 0xff);
				gnutls_free(d.data);
			}
			break;
		default:
			sessions_del(shared, id, sizeof(id));
			break;
		}
	}
	return NULL;
}

START_TEST(test_threads)
{
	pthread_t t[4];
	struct sessions_stats st;
	size_t bytes = 0, entries = 0;
	unsigned char id[32];
	gnutls_datum_t d;

	shared = new_cache(100, 3600);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker,
						(void *)(i + 1)), 0);
	for (size_t i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	st = stats(shared);
	ck_assert_uint_le(st.entries, 100);
	for (unsigned n = 0; n < 300; n++) {
		make_id(n, id);
		if (sessions_get(shared, id, sizeof(id), &d) == 0) {
			entries++;
			bytes += d.size;
			gnutls_free(d.data);
		}
	}
	ck_assert_uint_eq(entries, st.entries);
	ck_assert_uint_eq(bytes, st.bytes);
	sessions_free(shared);
}
END_TEST

/* The GnuTLS glue on a real server session: nothing without a cache,
 * the callbacks and tickets with one. */
START_TEST(test_install)
{
	struct sessions *s = new_cache(10, 3600);
	struct sessions_link link;
	gnutls_session_t tls;

	ck_assert_int_eq(gnutls_init(&tls, GNUTLS_SERVER), 0);
	ck_assert_int_eq(sessions_install(NULL, &link, tls), 0);
	ck_assert_ptr_null(link.cache);
	sessions_unlink(&link);
	ck_assert_int_eq(sessions_install(s, &link, tls), 0);
	ck_assert_ptr_eq(link.cache, s);
	ck_assert_ptr_eq(link.tls, tls);
	sessions_unlink(&link);
	ck_assert_ptr_null(link.cache);
	gnutls_deinit(tls);
	sessions_free(s);
}
END_TEST

static Suite *sessions_suite(void)
{
	Suite *su = suite_create("sessions");
	TCase *tc = tcase_create("cache");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_new_bounds);
	tcase_add_test(tc, test_put_get_copy);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_replace_and_del);
	tcase_add_test(tc, test_lru_eviction);
	tcase_add_test(tc, test_byte_budget);
	tcase_add_test(tc, test_expiry);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_install);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(sessions_suite());
	int failed;

	gnutls_global_init();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	gnutls_global_deinit();
	return failed == 0 ? 0 : 1;
}
