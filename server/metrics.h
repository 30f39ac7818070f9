/* metrics: spaprovd's counters, served as Prometheus text by the admin
 * listener (GET /metrics, web-admin/ops.c).
 *
 * Request threads count without locks: C11 atomics in fixed arrays,
 * one series per (listener name, CA).  Listeners are replaced on
 * SIGHUP; the series are keyed by name, not by the listener object, so
 * the counters of a listener survive a reload.  A name seen for the
 * first time takes a mutex once to get its series; after that the
 * lookup reads an atomic count and compares names.
 *
 * TLS session cache hits and misses live in each listener's cache
 * (server/sessions.c).  A listener attaches its cache when it starts and
 * detaches it before freeing it; the totals of a detached cache are kept,
 * so those counters do not go back when a reload replaces a listener. */
#ifndef SPAPROV_METRICS_H
#define SPAPROV_METRICS_H

#include <stdio.h>

#include "server/outcome.h"

#define METRICS_MAX_SERIES 256     /* (listener, CA) pairs ever seen */
#define METRICS_MAX_NAME 64        /* bytes of a listener or CA name */
#define METRICS_MAX_CACHES 256     /* session caches attached at once */

/* Handshake failures, by the text conn_handshake_failure() gives. */
#define METRICS_HS_LIST(X)                                          \
	X(NO_HELLO, "no-client-hello")                              \
	X(NO_SHARED, "no-shared-cipher")                            \
	X(MALFORMED, "malformed-hello")                             \
	X(ABORTED, "aborted")                                       \
	X(CLIENT_REFUSED, "client-refused")                         \
	X(LIMIT, "limit")                                           \
	X(OTHER, "other")

enum metrics_hs {
#define X(id, name) METRICS_HS_##id,
	METRICS_HS_LIST(X)
#undef X
	METRICS_HS__COUNT
};

struct sessions;

/* One answered provisioning request: the status sent (0 for none), its
 * outcome and how long it took (seconds, end of headers to answer). */
void metrics_request(const char *listener, const char *ca, unsigned status,
		     enum outcome o, double seconds);

/* One failed TLS handshake, `error` as conn_handshake_failure() put it. */
void metrics_handshake_failure(const char *listener, const char *ca,
			       const char *error);
enum metrics_hs metrics_hs_classify(const char *error);
const char *metrics_hs_name(enum metrics_hs r);

/* A started listener's session cache (NULL: none); detach before
 * sessions_free().  Detaching a cache never attached does nothing. */
void metrics_sessions_attach(const char *listener, const char *ca,
			     struct sessions *s);
void metrics_sessions_detach(struct sessions *s);

/* The counters in the Prometheus text format 0.0.4, with # HELP and
 * # TYPE lines: spaprov_resyncs_total, spaprov_request_duration_seconds,
 * spaprov_handshake_failures_total, spaprov_tls_session_cache_*.
 * Returns 0, or -1 on a write error. */
int metrics_write(FILE *out);

/* Prometheus label value: backslash, double quote and newline escaped. */
void metrics_label(FILE *out, const char *value);

/* The latency buckets' upper bounds, seconds (tests). */
extern const double metrics_buckets[];
extern const unsigned metrics_n_buckets;

#endif
