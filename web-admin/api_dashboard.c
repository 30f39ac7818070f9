#include "config.h"

/* web-admin/api_dashboard: GET /api/v1/dashboard?range=24h|7d&stale_days=N
 * Everything the dashboard shows, in one answer: the listeners and their
 * certificates, resyncs per hour by outcome, the inventory by status,
 * the firmware census, the TLS mix, phones not seen for N days, spoof
 * attempts, untrusted issuers and failed handshakes. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "db/admin.h"
#include "db/history.h"
#include "server/server.h"
#include "web-admin/internal.h"

#define ADMIN_DEFAULT_STALE_DAYS 7
#define ADMIN_MAX_STALE_DAYS 3650

/* Subject, issuer and expiry of the first certificate in pem. */
static json_t *cert_facts(const char *pem)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t in = { (unsigned char *)pem, pem ? (unsigned)strlen(pem) : 0 };
	gnutls_datum_t subject = { NULL, 0 }, issuer = { NULL, 0 };
	char not_after[32];
	json_t *j = NULL;

	if (pem == NULL) /* a plain-HTTP listener has no certificate */
		return json_object();
	if (gnutls_x509_crt_init(&crt) < 0)
		return json_object();
	if (gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_crt_get_dn3(crt, &subject, 0) < 0 ||
	    gnutls_x509_crt_get_issuer_dn3(crt, &issuer, 0) < 0)
		goto out;
	admin_iso_time(gnutls_x509_crt_get_expiration_time(crt), not_after);
	j = json_pack("{s:o, s:o, s:s}", "subject",
		      admin_json_text((const char *)subject.data), "issuer",
		      admin_json_text((const char *)issuer.data), "not_after",
		      not_after);
out:
	gnutls_free(subject.data);
	gnutls_free(issuer.data);
	gnutls_x509_crt_deinit(crt);
	return j != NULL ? j : json_object();
}

json_t *admin_listener_facts(const struct server *srv)
{
	json_t *a = json_array();

	for (size_t i = 0; i < srv->n_listeners; i++) {
		const struct listener *l = srv->listeners[i];
		json_t *o = cert_facts(l->tls.cert_pem);

		json_object_set_new(o, "name", admin_json_text(l->cl->name));
		json_object_set_new(o, "ca", admin_json_text(l->ca));
		json_object_set_new(o, "address",
				    admin_json_text(l->cl->address));
		json_object_set_new(o, "port", json_integer(l->port));
		json_object_set_new(o, "dh_bits", json_integer(l->tls.dh_bits));
		/* a listener a reload could not start has no daemon */
		json_object_set_new(o, "running",
				    json_boolean(l->mhd != NULL &&
						 !l->quiesced));
		json_array_append_new(a, o);
	}
	return a;
}

/* Each listener's facts plus its resyncs in the last 24 hours. */
static int listeners_json(struct areq *r, json_t *out, char **err)
{
	json_t *counts = json_array(), *facts, *l, *c;
	char since[32];
	size_t i, k;
	time_t now = time(NULL);

	admin_iso_time(now - 86400, since);
	if (db_admin_dashboard(r->db, DB_ADMIN_DASH_LISTENERS, since,
			       admin_row_to_array, counts, err) < 0) {
		json_decref(counts);
		return -1;
	}
	facts = admin_listeners_copy(r->adm);
	json_array_foreach(facts, i, l) {
		json_t *o = json_deep_copy(l);
		time_t end = admin_parse_iso(json_string_value(
			json_object_get(o, "not_after")));

		json_object_set_new(o, "days_left",
				    end == (time_t)-1 ? json_null()
				    : json_integer((end - now) / 86400));
		json_object_set_new(o, "resyncs_24h", json_integer(0));
		json_object_set_new(o, "ok_24h", json_integer(0));
		json_array_foreach(counts, k, c) {
			if (!json_equal(json_object_get(c, "listener"),
					json_object_get(o, "name")))
				continue;
			json_object_set(o, "resyncs_24h",
					json_object_get(c, "resyncs"));
			json_object_set(o, "ok_24h", json_object_get(c, "ok"));
		}
		json_array_append_new(out, o);
	}
	json_decref(facts);
	json_decref(counts);
	return 0;
}

/* Adds key: [rows of the dashboard query `which`]. */
static int dash_rows(struct areq *r, json_t *o, const char *key,
		     enum db_admin_dash which, const char *since, char **err)
{
	json_t *a = json_array();

	json_object_set_new(o, key, a);
	return db_admin_dashboard(r->db, which, since, admin_row_to_array, a,
				  err);
}

static int stats_rows(struct areq *r, json_t *o, const char *key,
		      enum db_stats which, const char *since, char **err)
{
	json_t *a = json_array();

	json_object_set_new(o, key, a);
	return db_stats(r->db, which, since, admin_row_to_array, a, err);
}

static int stale_json(struct areq *r, json_t *o, long long days, char **err)
{
	json_t *s = json_object();
	long long n = 0;
	char since[32];

	json_object_set_new(o, "stale", s);
	admin_iso_time(time(NULL) - (time_t)days * 86400, since);
	json_object_set_new(s, "days", json_integer(days));
	if (db_admin_stale_count(r->db, since, &n, err) < 0)
		return -1;
	json_object_set_new(s, "count", json_integer(n));
	return dash_rows(r, s, "devices", DB_ADMIN_DASH_STALE, since, err);
}

static long long stale_days(struct areq *r)
{
	const char *v = admin_arg(r, "stale_days");
	char *end;
	long long n;

	if (v == NULL)
		return ADMIN_DEFAULT_STALE_DAYS;
	n = strtoll(v, &end, 10);
	if (*end != '\0' || n < 1)
		return ADMIN_DEFAULT_STALE_DAYS;
	return n > ADMIN_MAX_STALE_DAYS ? ADMIN_MAX_STALE_DAYS : n;
}

enum MHD_Result api_dashboard(struct areq *r)
{
	const char *range = admin_arg(r, "range");
	int week = range != NULL && strcmp(range, "7d") == 0;
	json_t *o = json_object(), *listeners = json_array(), *hs;
	char since[32], now[32], *err = NULL;
	enum MHD_Result ret;
	time_t t = time(NULL);

	admin_iso_time(t, now);
	admin_iso_time(t - (week ? 7 : 1) * 86400, since);
	json_object_set_new(o, "generated", json_string(now));
	json_object_set_new(o, "range", json_string(week ? "7d" : "24h"));
	json_object_set_new(o, "since", json_string(since));
	json_object_set_new(o, "listeners", listeners);
	hs = json_object();
	json_object_set_new(o, "handshakes", hs);
	if (listeners_json(r, listeners, &err) < 0 ||
	    dash_rows(r, o, "hourly", DB_ADMIN_DASH_HOURLY, since, &err) < 0 ||
	    dash_rows(r, o, "status", DB_ADMIN_DASH_STATUS, NULL, &err) < 0 ||
	    stats_rows(r, o, "firmware", DB_STATS_FIRMWARE, NULL, &err) < 0 ||
	    stats_rows(r, o, "tls", DB_STATS_TLS, since, &err) < 0 ||
	    stats_rows(r, o, "issuers", DB_STATS_ISSUERS, since, &err) < 0 ||
	    dash_rows(r, o, "spoofs", DB_ADMIN_DASH_SPOOFS, since, &err) < 0 ||
	    dash_rows(r, hs, "recent", DB_ADMIN_DASH_HANDSHAKES, since,
		      &err) < 0 ||
	    stats_rows(r, hs, "by_error", DB_STATS_HANDSHAKES, since,
		       &err) < 0 ||
	    stale_json(r, o, stale_days(r), &err) < 0) {
		json_decref(o);
		ret = admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					"database-error", "%s", err ? err : "?");
		free(err);
		return ret;
	}
	return admin_reply_json(r, MHD_HTTP_OK, o);
}
