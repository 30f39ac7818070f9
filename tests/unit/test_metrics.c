#include "config.h"

/* server/metrics: counting, the exposition text, series that survive a
 * changed CA, session caches that survive a reload, and counting from
 * many threads at once.  Each test uses its own listener names (the
 * counters are process-wide). */

#include <check.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "server/metrics.h"
#include "server/sessions.h"

/* The exposition text now (malloc'd). */
static char *scrape(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(metrics_write(f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* The value of the sample named exactly `series` (name{labels}), or -1. */
static double value(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

START_TEST(classify)
{
	static const struct {
		const char *error, *reason;
	} cases[] = {
		/* as conn_handshake_failure() writes them */
		{ "no ClientHello: connection closed, timed out or not TLS",
		  "no-client-hello" },
		{ "malformed ClientHello; peer alert: Decode error",
		  "malformed-hello" },
		{ "no shared protocol version or cipher suite",
		  "no-shared-cipher" },
		{ "handshake stopped after sending SERVER HELLO DONE; peer "
		  "alert: Unknown CA", "aborted" },
		{ "handshake completed, then the client refused the session "
		  "before any request; peer alert: Handshake failed",
		  "client-refused" },
		{ "client Certificate message of 70000 bytes, over "
		  "max_client_cert_size 65536", "limit" },
		{ "client certificate chain of 9 certificates, over "
		  "max_client_chain 4", "limit" },
		{ "something new", "other" },
		{ NULL, "other" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(metrics_hs_name(metrics_hs_classify(
					 cases[i].error)),
				 cases[i].reason);
}
END_TEST

START_TEST(requests)
{
	char *t;

	metrics_request("req", "sb", 200, OUTCOME_OK, 0.003);
	metrics_request("req", "sb", 200, OUTCOME_OK, 0.004);
	metrics_request("req", "sb", 503, OUTCOME_OK, 0.2);    /* not recorded */
	metrics_request("req", "sb", 404, OUTCOME_UNKNOWN, 7); /* over 5 s */
	metrics_request("req", "sb", 299, OUTCOME_OK, 0.01);   /* odd status */
	t = scrape();
	ck_assert_double_eq(value(t, "spaprov_resyncs_total{listener=\"req\","
				     "ca=\"sb\",status=\"200\",outcome=\"ok\"}"),
			    2);
	ck_assert_double_eq(value(t, "spaprov_resyncs_total{listener=\"req\","
				     "ca=\"sb\",status=\"503\",outcome=\"ok\"}"),
			    1);
	ck_assert_double_eq(value(t, "spaprov_resyncs_total{listener=\"req\","
				     "ca=\"sb\",status=\"404\","
				     "outcome=\"unknown-device\"}"), 1);
	ck_assert_double_eq(value(t, "spaprov_resyncs_total{listener=\"req\","
				     "ca=\"sb\",status=\"other\","
				     "outcome=\"ok\"}"), 1);
	/* zero combinations are left out */
	ck_assert_double_eq(value(t, "spaprov_resyncs_total{listener=\"req\","
				     "ca=\"sb\",status=\"403\","
				     "outcome=\"spoof\"}"), -1);
	/* cumulative buckets; le is an upper bound, inclusive */
	ck_assert_double_eq(value(t, "spaprov_request_duration_seconds_bucket"
				     "{listener=\"req\",le=\"0.005\"}"), 2);
	ck_assert_double_eq(value(t, "spaprov_request_duration_seconds_bucket"
				     "{listener=\"req\",le=\"0.01\"}"), 3);
	ck_assert_double_eq(value(t, "spaprov_request_duration_seconds_bucket"
				     "{listener=\"req\",le=\"0.25\"}"), 4);
	ck_assert_double_eq(value(t, "spaprov_request_duration_seconds_bucket"
				     "{listener=\"req\",le=\"5\"}"), 4);
	ck_assert_double_eq(value(t, "spaprov_request_duration_seconds_bucket"
				     "{listener=\"req\",le=\"+Inf\"}"), 5);
	ck_assert_double_eq(value(t, "spaprov_request_duration_seconds_count"
				     "{listener=\"req\"}"), 5);
	ck_assert_double_eq_tol(value(t, "spaprov_request_duration_seconds_sum"
					 "{listener=\"req\"}"),
				7.217, 1e-6);
	ck_assert_ptr_nonnull(strstr(t, "# TYPE spaprov_resyncs_total counter\n"));
	ck_assert_ptr_nonnull(strstr(
		t, "# TYPE spaprov_request_duration_seconds histogram\n"));
	free(t);
}
END_TEST

/* A reload that gives a listener name another CA: the resyncs keep their
 * CA label, the per-listener metrics add up both. */
START_TEST(ca_changes)
{
	char *t;

	metrics_request("moved", "sb", 200, OUTCOME_OK, 0.001);
	metrics_handshake_failure("moved", "sb", "malformed ClientHello");
	metrics_request("moved", "sb2k", 200, OUTCOME_OK, 0.001);
	metrics_request("moved", "sb2k", 403, OUTCOME_SPOOF, 0.001);
	metrics_handshake_failure("moved", "sb2k", "malformed ClientHello");
	metrics_handshake_failure("moved", "sb2k",
				  "no shared protocol version or cipher suite");
	t = scrape();
	ck_assert_double_eq(value(t, "spaprov_resyncs_total{listener=\"moved\","
				     "ca=\"sb\",status=\"200\",outcome=\"ok\"}"),
			    1);
	ck_assert_double_eq(value(t, "spaprov_resyncs_total{listener=\"moved\","
				     "ca=\"sb2k\",status=\"200\","
				     "outcome=\"ok\"}"), 1);
	ck_assert_double_eq(value(t, "spaprov_request_duration_seconds_count"
				     "{listener=\"moved\"}"), 3);
	ck_assert_double_eq(value(t, "spaprov_handshake_failures_total"
				     "{listener=\"moved\","
				     "reason=\"malformed-hello\"}"), 2);
	ck_assert_double_eq(value(t, "spaprov_handshake_failures_total"
				     "{listener=\"moved\","
				     "reason=\"no-shared-cipher\"}"), 1);
	/* one histogram per name */
	ck_assert_ptr_null(strstr(strstr(t, "_count{listener=\"moved\"}") + 1,
				  "_count{listener=\"moved\"}"));
	free(t);
}
END_TEST

static void lookup(struct sessions *s, unsigned char tag)
{
	unsigned char id[32];
	gnutls_datum_t out = { NULL, 0 };

	memset(id, tag, sizeof(id));
	if (sessions_get(s, id, sizeof(id), &out) == 0)
		gnutls_free(out.data);
}

/* Hits and misses do not go back when a reload replaces a listener's
 * cache; a detached cache is no longer read. */
START_TEST(session_caches)
{
	char *err = NULL, *t;
	struct sessions *a = sessions_new(16, 60, NULL, &err);
	struct sessions *b = sessions_new(16, 60, NULL, &err);
	unsigned char id[32], data[8] = "session";

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	metrics_sessions_attach("cached", "mpp", a);
	lookup(a, 1);
	lookup(a, 2);
	t = scrape();
	ck_assert_double_eq(value(t, "spaprov_tls_session_cache_misses_total"
				     "{listener=\"cached\"}"), 2);
	ck_assert_double_eq(value(t, "spaprov_tls_session_cache_hits_total"
				     "{listener=\"cached\"}"), 0);
	free(t);
	/* the reload: b starts, a is detached and freed */
	metrics_sessions_attach("cached", "mpp", b);
	metrics_sessions_detach(a);
	sessions_free(a);
	memset(id, 3, sizeof(id));
	ck_assert_int_eq(sessions_put(b, id, sizeof(id), data, sizeof(data)),
			 0);
	lookup(b, 3);
	lookup(b, 4);
	t = scrape();
	ck_assert_double_eq(value(t, "spaprov_tls_session_cache_misses_total"
				     "{listener=\"cached\"}"), 3);
	ck_assert_double_eq(value(t, "spaprov_tls_session_cache_hits_total"
				     "{listener=\"cached\"}"), 1);
	ck_assert_double_eq(value(t, "spaprov_tls_session_cache_entries"
				     "{listener=\"cached\"}"), 1);
	free(t);
	metrics_sessions_detach(b);
	metrics_sessions_detach(b); /* twice: nothing */
	sessions_free(b);
	t = scrape();
	ck_assert_double_eq(value(t, "spaprov_tls_session_cache_hits_total"
				     "{listener=\"cached\"}"), 1);
	ck_assert_double_eq(value(t, "spaprov_tls_session_cache_entries"
				     "{listener=\"cached\"}"), 0);
	free(t);
	metrics_sessions_attach("cached", "mpp", NULL); /* no cache: nothing */
}
END_TEST

#define THREADS 8
#define PER_THREAD 20000

static void *hammer(void *arg)
{
	const char *names[3] = { "t0", "t1", "t2" };
	unsigned k = *(unsigned *)arg;

	for (unsigned i = 0; i < PER_THREAD; i++) {
		metrics_request(names[(i + k) % 3], "linksys", 200, OUTCOME_OK,
				0.001);
		metrics_handshake_failure(names[(i + k) % 3], "linksys",
					  "no ClientHello");
	}
	return NULL;
}

START_TEST(threads)
{
	pthread_t th[THREADS];
	unsigned ids[THREADS];
	double total = 0, fails = 0;
	char *t, series[160];

	for (unsigned i = 0; i < THREADS; i++) {
		ids[i] = i;
		ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, &ids[i]),
				 0);
	}
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	t = scrape();
	for (int n = 0; n < 3; n++) {
		snprintf(series, sizeof(series),
			 "spaprov_resyncs_total{listener=\"t%d\","
			 "ca=\"linksys\",status=\"200\",outcome=\"ok\"}", n);
		total += value(t, series);
		snprintf(series, sizeof(series),
			 "spaprov_handshake_failures_total{listener=\"t%d\","
			 "reason=\"no-client-hello\"}", n);
		fails += value(t, series);
	}
	ck_assert_double_eq(total, THREADS * PER_THREAD);
	ck_assert_double_eq(fails, THREADS * PER_THREAD);
	free(t);
}
END_TEST

/* Every line is a comment (# HELP / # TYPE) or name{labels} value, and
 * label values are escaped. */
START_TEST(format)
{
	regex_t sample;
	char *t, *line, *save = NULL;
	int lines = 0;

	metrics_request("we\"ird\\na\nme", "sb", 200, OUTCOME_OK, 0.001);
	t = scrape();
	ck_assert_ptr_nonnull(strstr(t, "listener=\"we\\\"ird\\\\na\\nme\""));
	ck_assert_int_eq(regcomp(&sample,
				 "^[a-zA-Z_:][a-zA-Z0-9_:]*"
				 "(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|"
				 "\\\\.)*\",?)*\\})? [-+0-9.eE]+(Inf)?$",
				 REG_EXTENDED | REG_NOSUB), 0);
	for (line = strtok_r(t, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		lines++;
		if (strncmp(line, "# HELP ", 7) == 0 ||
		    strncmp(line, "# TYPE ", 7) == 0)
			continue;
		ck_assert_msg(regexec(&sample, line, 0, NULL, 0) == 0,
			      "not a sample: %s", line);
	}
	ck_assert_int_gt(lines, 10);
	regfree(&sample);
	free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, classify);
	tcase_add_test(tc, requests);
	tcase_add_test(tc, ca_changes);
	tcase_add_test(tc, session_caches);
	tcase_add_test(tc, threads);
	tcase_add_test(tc, format);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
