#include "config.h"

/* metrics: lock-free counters for GET /metrics.  See metrics.h. */

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "server/metrics.h"
#include "server/sessions.h"

const double metrics_buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1,
				   0.25,  0.5,  1,     2.5,  5 };
#define N_BUCKETS (sizeof(metrics_buckets) / sizeof(metrics_buckets[0]))
const unsigned metrics_n_buckets = N_BUCKETS;

/* The statuses a provisioning listener sends (outcome.h and what
 * libmicrohttpd answers itself); anything else counts as "other". */
static const unsigned statuses[] = { 0,   200, 400, 403, 404, 405,
				     408, 413, 414, 429, 431, 500,
				     501, 503, 505 };
#define N_STATUS (sizeof(statuses) / sizeof(statuses[0]))
#define STATUS_OTHER N_STATUS

static const char *const outcome_names[OUTCOME__COUNT] = {
#define X(id, n, s) [OUTCOME_##id] = n,
	OUTCOME_LIST(X)
#undef X
};

static const char *const hs_names[METRICS_HS__COUNT] = {
#define X(id, n) [METRICS_HS_##id] = n,
	METRICS_HS_LIST(X)
#undef X
};

typedef atomic_ullong counter;

struct series {
	char listener[METRICS_MAX_NAME + 1];
	char ca[METRICS_MAX_NAME + 1];
	counter resyncs[OUTCOME__COUNT][N_STATUS + 1];
	counter buckets[N_BUCKETS + 1];     /* not cumulative; last: +Inf */
	counter duration_us;                /* sum, microseconds */
	counter hsfail[METRICS_HS__COUNT];
	/* session caches detached (replaced listeners): their totals */
	unsigned long long gone_hits, gone_misses; /* under reg_lock */
};

/* series[0 .. n_series-1] are complete: a new one is filled in under
 * reg_lock, then published by the release store of n_series. */
static struct series *series[METRICS_MAX_SERIES];
static atomic_size_t n_series;
static counter dropped;                /* events without a series */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

/* Attached session caches, under reg_lock. */
static struct {
	struct sessions *cache;
	struct series *owner;
} caches[METRICS_MAX_CACHES];
static size_t n_caches;

static void copy_name(char *dst, const char *src)
{
	size_t n = src != NULL ? strnlen(src, METRICS_MAX_NAME) : 0;

	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static int same(const struct series *s, const char *listener, const char *ca)
{
	return strncmp(s->listener, listener ? listener : "",
		       METRICS_MAX_NAME) == 0 &&
	       strncmp(s->ca, ca ? ca : "", METRICS_MAX_NAME) == 0;
}

static struct series *find(const char *listener, const char *ca, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (same(series[i], listener, ca))
			return series[i];
	return NULL;
}

/* The series of (listener, ca), made on first use; NULL when the table
 * is full or memory is out. */
static struct series *series_of(const char *listener, const char *ca)
{
	size_t n = atomic_load_explicit(&n_series, memory_order_acquire);
	struct series *s = find(listener, ca, n);

	if (s != NULL)
		return s;
	pthread_mutex_lock(&reg_lock);
	n = atomic_load_explicit(&n_series, memory_order_relaxed);
	s = find(listener, ca, n);
	if (s == NULL && n < METRICS_MAX_SERIES &&
	    (s = calloc(1, sizeof(*s))) != NULL) {
		copy_name(s->listener, listener);
		copy_name(s->ca, ca);
		series[n] = s;
		atomic_store_explicit(&n_series, n + 1, memory_order_release);
	}
	pthread_mutex_unlock(&reg_lock);
	if (s == NULL)
		atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
	return s;
}

static size_t status_index(unsigned status)
{
	for (size_t i = 0; i < N_STATUS; i++)
		if (statuses[i] == status)
			return i;
	return STATUS_OTHER;
}

void metrics_request(const char *listener, const char *ca, unsigned status,
		     enum outcome o, double seconds)
{
	struct series *s = series_of(listener, ca);
	size_t b = 0;

	if (s == NULL || (unsigned)o >= OUTCOME__COUNT)
		return;
	if (!(seconds >= 0)) /* NaN or negative: a clock oddity */
		seconds = 0;
	while (b < N_BUCKETS && seconds > metrics_buckets[b])
		b++;
	atomic_fetch_add_explicit(&s->resyncs[o][status_index(status)], 1,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->duration_us,
				  (unsigned long long)(seconds * 1e6 + 0.5),
				  memory_order_relaxed);
}

/* The categories follow the wording of conn_handshake_failure() and of
 * the limits the handshake hook enforces (server/conn.c). */
enum metrics_hs metrics_hs_classify(const char *error)
{
	static const struct {
		const char *prefix;
		enum metrics_hs reason;
	} map[] = {
		{ "no ClientHello", METRICS_HS_NO_HELLO },
		{ "no shared protocol version or cipher", METRICS_HS_NO_SHARED },
		{ "malformed ClientHello", METRICS_HS_MALFORMED },
		{ "handshake stopped after", METRICS_HS_ABORTED },
		{ "handshake completed, then the client refused",
		  METRICS_HS_CLIENT_REFUSED },
		{ "client Certificate message of", METRICS_HS_LIMIT },
		{ "client certificate chain of", METRICS_HS_LIMIT },
	};

	if (error == NULL)
		return METRICS_HS_OTHER;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(error, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].reason;
	return METRICS_HS_OTHER;
}

const char *metrics_hs_name(enum metrics_hs r)
{
	return (unsigned)r < METRICS_HS__COUNT ? hs_names[r] : "other";
}

void metrics_handshake_failure(const char *listener, const char *ca,
			       const char *error)
{
	struct series *s = series_of(listener, ca);

	if (s != NULL)
		atomic_fetch_add_explicit(
			&s->hsfail[metrics_hs_classify(error)], 1,
			memory_order_relaxed);
}

void metrics_sessions_attach(const char *listener, const char *ca,
			     struct sessions *cache)
{
	struct series *s;

	if (cache == NULL || (s = series_of(listener, ca)) == NULL)
		return;
	pthread_mutex_lock(&reg_lock);
	if (n_caches < METRICS_MAX_CACHES) {
		caches[n_caches].cache = cache;
		caches[n_caches].owner = s;
		n_caches++;
	}
	pthread_mutex_unlock(&reg_lock);
}

void metrics_sessions_detach(struct sessions *cache)
{
	struct sessions_stats st;

	if (cache == NULL)
		return;
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; i < n_caches; i++) {
		if (caches[i].cache != cache)
			continue;
		sessions_get_stats(cache, &st);
		caches[i].owner->gone_hits += st.hits;
		caches[i].owner->gone_misses += st.misses;
		caches[i] = caches[--n_caches];
		break;
	}
	pthread_mutex_unlock(&reg_lock);
}

/* --- exposition --------------------------------------------------------- */

static unsigned long long get(counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void metrics_label(FILE *out, const char *value)
{
	for (const char *p = value ? value : ""; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else
			fputc(*p, out);
	}
}

static void head(FILE *out, const char *name, const char *type,
		 const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* 1 if an earlier series has the same listener name: the metrics with
 * only a listener label sum the series of one name (its CA changed). */
static int name_seen(size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(series[j]->listener, series[i]->listener) == 0)
			return 1;
	return 0;
}

static void write_resyncs(FILE *out, size_t n)
{
	head(out, "spaprov_resyncs_total", "counter",
	     "Provisioning requests answered, by listener, CA, HTTP status "
	     "sent (0: none) and outcome.");
	for (size_t i = 0; i < n; i++) {
		struct series *s = series[i];

		for (size_t o = 0; o < OUTCOME__COUNT; o++) {
			for (size_t k = 0; k <= N_STATUS; k++) {
				unsigned long long v = get(&s->resyncs[o][k]);

				if (v == 0)
					continue;
				fputs("spaprov_resyncs_total{listener=\"", out);
				metrics_label(out, s->listener);
				fputs("\",ca=\"", out);
				metrics_label(out, s->ca);
				if (k == STATUS_OTHER)
					fputs("\",status=\"other", out);
				else
					fprintf(out, "\",status=\"%u",
						statuses[k]);
				fprintf(out, "\",outcome=\"%s\"} %llu\n",
					outcome_names[o], v);
			}
		}
	}
}

static void write_histogram(FILE *out, size_t n)
{
	head(out, "spaprov_request_duration_seconds", "histogram",
	     "Time from the end of a request's headers to its answer "
	     "(the ledger row committed).");
	for (size_t i = 0; i < n; i++) {
		unsigned long long b[N_BUCKETS + 1] = { 0 }, us = 0, cum = 0;

		if (name_seen(i))
			continue;
		for (size_t j = i; j < n; j++) {
			if (strcmp(series[j]->listener, series[i]->listener))
				continue;
			for (size_t k = 0; k <= N_BUCKETS; k++)
				b[k] += get(&series[j]->buckets[k]);
			us += get(&series[j]->duration_us);
		}
		for (size_t k = 0; k <= N_BUCKETS; k++) {
			cum += b[k];
			fputs("spaprov_request_duration_seconds_bucket"
			      "{listener=\"", out);
			metrics_label(out, series[i]->listener);
			if (k < N_BUCKETS)
				fprintf(out, "\",le=\"%g\"} %llu\n",
					metrics_buckets[k], cum);
			else
				fprintf(out, "\",le=\"+Inf\"} %llu\n", cum);
		}
		fputs("spaprov_request_duration_seconds_sum{listener=\"", out);
		metrics_label(out, series[i]->listener);
		fprintf(out, "\"} %.6f\n", (double)us / 1e6);
		fputs("spaprov_request_duration_seconds_count{listener=\"", out);
		metrics_label(out, series[i]->listener);
		fprintf(out, "\"} %llu\n", cum);
	}
}

static void write_hsfail(FILE *out, size_t n)
{
	head(out, "spaprov_handshake_failures_total", "counter",
	     "Failed TLS handshakes, by listener and reason.");
	for (size_t i = 0; i < n; i++) {
		if (name_seen(i))
			continue;
		for (size_t r = 0; r < METRICS_HS__COUNT; r++) {
			unsigned long long v = 0;

			for (size_t j = i; j < n; j++)
				if (!strcmp(series[j]->listener,
					    series[i]->listener))
					v += get(&series[j]->hsfail[r]);
			if (v == 0)
				continue;
			fputs("spaprov_handshake_failures_total{listener=\"",
			      out);
			metrics_label(out, series[i]->listener);
			fprintf(out, "\",reason=\"%s\"} %llu\n", hs_names[r],
				v);
		}
	}
}

/* Per listener name: hits, misses (detached caches included) and the
 * entries of the caches attached now.  Under reg_lock, so no cache is
 * freed while it is read. */
static void write_sessions(FILE *out, size_t n)
{
	static const char *const what[3] = { "hits_total", "misses_total",
					     "entries" };
	static const char *const help[3] = {
		"Session-ID cache lookups that resumed a TLS session.",
		"Session-ID cache lookups that found nothing (or an expired "
		"session).",
		"Sessions in the cache now.",
	};

	pthread_mutex_lock(&reg_lock);
	for (int w = 0; w < 3; w++) {
		char name[64];

		snprintf(name, sizeof(name), "spaprov_tls_session_cache_%s",
			 what[w]);
		head(out, name, w < 2 ? "counter" : "gauge", help[w]);
		for (size_t i = 0; i < n; i++) {
			unsigned long long v = 0;
			int any = 0;

			if (name_seen(i))
				continue;
			for (size_t j = i; j < n; j++) {
				if (strcmp(series[j]->listener,
					   series[i]->listener))
					continue;
				v += w == 0 ? series[j]->gone_hits
				     : w == 1 ? series[j]->gone_misses : 0;
				any |= series[j]->gone_hits ||
				       series[j]->gone_misses;
			}
			for (size_t c = 0; c < n_caches; c++) {
				struct sessions_stats st;

				if (strcmp(caches[c].owner->listener,
					   series[i]->listener))
					continue;
				sessions_get_stats(caches[c].cache, &st);
				v += w == 0 ? st.hits
				     : w == 1 ? st.misses : st.entries;
				any = 1;
			}
			if (!any)
				continue; /* no session cache */
			fprintf(out, "%s{listener=\"", name);
			metrics_label(out, series[i]->listener);
			fprintf(out, "\"} %llu\n", v);
		}
	}
	pthread_mutex_unlock(&reg_lock);
}

int metrics_write(FILE *out)
{
	size_t n = atomic_load_explicit(&n_series, memory_order_acquire);

	write_resyncs(out, n);
	write_histogram(out, n);
	write_hsfail(out, n);
	write_sessions(out, n);
	head(out, "spaprov_metrics_dropped_total", "counter",
	     "Events not counted: more than METRICS_MAX_SERIES listener "
	     "names.");
	fprintf(out, "spaprov_metrics_dropped_total %llu\n", get(&dropped));
	return ferror(out) ? -1 : 0;
}
