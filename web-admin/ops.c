#include "config.h"

/* web-admin/ops: what monitoring asks, without logging in.
 *
 * GET /healthz: 200 {"status":"ok","database":"writable","listeners":N}
 * when this connection can take the database's write lock (within
 * ADMIN_HEALTH_WAIT_MS) and every configured provisioning listener is
 * running; else 503 with what is wrong.  The database check takes the
 * write lock, so its result is reused for ADMIN_HEALTH_CACHE_MS: a
 * flood of /healthz cannot keep the ledger from writing.
 *
 * GET /metrics: the Prometheus text format 0.0.4.  Counters and the
 * latency histogram come from server/metrics.c; the gauges (ledger
 * queue, certificate expiry, listeners up) are read here.  Public like
 * /healthz: names of listeners and CAs and counts, no MAC, address or
 * secret (README.md). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/admin.h"
#include "server/metrics.h"
#include "server/server.h"
#include "util/log.h"
#include "web-admin/internal.h"

#define ADMIN_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

static long long ms_between(const struct timespec *a,
			    const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000 +
	       (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* NULL when the database is writable, else a malloc'd reason. */
static char *database_problem(struct areq *r)
{
	struct admin *adm = r->adm;
	struct timespec now;
	char *err = NULL, *copy;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&adm->health_lock);
	if (adm->health_at.tv_sec == 0 ||
	    ms_between(&adm->health_at, &now) >= ADMIN_HEALTH_CACHE_MS) {
		struct db *db = server_thread_db(adm->srv);

		if (db == NULL)
			err = strdup("cannot open the database");
		else if (db_admin_writable(db, ADMIN_HEALTH_WAIT_MS,
					   adm->srv->busy_timeout_ms,
					   &err) != DB_OK && err == NULL)
			err = strdup("not writable");
		free(adm->health_err);
		adm->health_err = err;
		clock_gettime(CLOCK_MONOTONIC, &adm->health_at);
		if (err != NULL)
			log_warn("msg=\"health check: database not writable\" "
				 "error=\"%s\"", err);
	}
	copy = adm->health_err != NULL ? strdup(adm->health_err) : NULL;
	if (adm->health_err != NULL && copy == NULL)
		copy = strdup("?");
	pthread_mutex_unlock(&adm->health_lock);
	return copy;
}

enum MHD_Result api_healthz(struct areq *r)
{
	json_t *facts = admin_listeners_copy(r->adm), *l, *problems;
	json_t *o = json_object();
	char *db_err = database_problem(r);
	size_t i, running = 0;
	int fail;

	problems = json_array();
	json_array_foreach(facts, i, l) {
		if (json_is_true(json_object_get(l, "running"))) {
			running++;
			continue;
		}
		json_array_append_new(
			problems,
			json_pack("{s:s, s:O}", "what", "listener", "name",
				  json_object_get(l, "name")));
	}
	if (db_err != NULL)
		json_array_append_new(problems,
				      json_pack("{s:s, s:o}", "what", "database",
						"error", admin_json_text(db_err)));
	fail = json_array_size(problems) > 0;
	json_object_set_new(o, "status", json_string(fail ? "fail" : "ok"));
	json_object_set_new(o, "database", json_string(db_err ? "not writable"
							       : "writable"));
	json_object_set_new(o, "listeners", json_integer((json_int_t)running));
	if (fail) {
		json_object_set_new(o, "configured",
				    json_integer((json_int_t)json_array_size(
					    facts)));
		json_object_set(o, "problems", problems);
	}
	r->no_store = 1;
	free(db_err);
	json_decref(problems);
	json_decref(facts);
	return admin_reply_json(r, fail ? MHD_HTTP_SERVICE_UNAVAILABLE
				      : MHD_HTTP_OK, o);
}

static void gauge_head(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void counter_head(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
}

/* Per provisioning listener: up, and the days its certificate has left. */
static void listener_gauges(FILE *f, json_t *facts)
{
	time_t now = time(NULL);
	json_t *l;
	size_t i;

	gauge_head(f, "spaprov_listener_up",
		   "1 when the provisioning listener is serving.");
	json_array_foreach(facts, i, l) {
		fputs("spaprov_listener_up{listener=\"", f);
		metrics_label(f, json_string_value(json_object_get(l, "name")));
		fprintf(f, "\"} %d\n",
			json_is_true(json_object_get(l, "running")));
	}
	gauge_head(f, "spaprov_certificate_expiry_days",
		   "Days until the notAfter of the listener's server "
		   "certificate (negative: expired).");
	json_array_foreach(facts, i, l) {
		time_t end = admin_parse_iso(json_string_value(
			json_object_get(l, "not_after")));

		if (end == (time_t)-1)
			continue;
		fputs("spaprov_certificate_expiry_days{listener=\"", f);
		metrics_label(f, json_string_value(json_object_get(l, "name")));
		fprintf(f, "\"} %.3f\n", (double)(end - now) / 86400.0);
	}
}

enum MHD_Result api_metrics(struct areq *r)
{
	struct server *srv = r->adm->srv;
	json_t *facts = admin_listeners_copy(r->adm);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int bad;

	if (f == NULL) {
		json_decref(facts);
		return admin_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
					 "internal", "out of memory");
	}
	gauge_head(f, "spaprov_up", "1: spaprovd is serving.");
	fputs("spaprov_up 1\n", f);
	gauge_head(f, "spaprov_build_info", "The version, as a label.");
	fputs("spaprov_build_info{version=\"", f);
	metrics_label(f, PACKAGE_VERSION);
	fputs("\"} 1\n", f);
	gauge_head(f, "process_start_time_seconds",
		   "When spaprovd started, seconds since the Unix epoch.");
	fprintf(f, "process_start_time_seconds %lld\n",
		(long long)r->adm->started);
	gauge_head(f, "spaprov_ledger_queue_depth",
		   "Ledger rows waiting to be committed.");
	fprintf(f, "spaprov_ledger_queue_depth %zu\n",
		srv->ledger != NULL ? ledger_depth(srv->ledger) : (size_t)0);
	if (srv->ledger != NULL) { /* rows / transactions: the group size */
		unsigned long long tx, rows;

		ledger_totals(srv->ledger, &tx, &rows);
		counter_head(f, "spaprov_ledger_transactions_total",
			     "Ledger transactions committed (or failed).");
		fprintf(f, "spaprov_ledger_transactions_total %llu\n", tx);
		counter_head(f, "spaprov_ledger_rows_total",
			     "Request rows the ledger committed.");
		fprintf(f, "spaprov_ledger_rows_total %llu\n", rows);
	}
	listener_gauges(f, facts);
	json_decref(facts);
	bad = metrics_write(f) < 0;
	if (fclose(f) != 0 || bad || text == NULL) {
		free(text);
		return admin_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
					 "internal", "out of memory");
	}
	r->no_store = 1;
	return admin_reply(r, MHD_HTTP_OK, ADMIN_METRICS_TYPE, text, len, 1);
}
