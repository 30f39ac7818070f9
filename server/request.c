#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "db/db.h"
#include "ident/ident.h"
#include "ident/ua.h"
#include "server/conn.h"
#include "server/outcome.h"
#include "server/request.h"
#include "server/server.h"
#include "tmpl/tmpl.h"
#include "util/log.h"
#include "util/mac.h"

static const struct {
	const char *name;
	unsigned status;
} outcomes[OUTCOME__COUNT] = {
#define X(id, n, s) [OUTCOME_##id] = { n, s },
	OUTCOME_LIST(X)
#undef X
};

const char *outcome_name(enum outcome o)
{
	return outcomes[o].name;
}

unsigned outcome_status(enum outcome o)
{
	return outcomes[o].status;
}

/* One HTTP request, from its headers to its response. */
struct req {
	struct timespec start;
	char *body;             /* POST body */
	size_t body_len;
	int body_too_large;
};

/* Everything learnt about the request, then written as one ledger row. */
struct verdict {
	enum outcome outcome;
	char detail[256];
	const char *verify;
	struct ident id;
	int have_id;
	struct ua ua;
	int have_ua;
	struct db_device *dev;
	char *profile;          /* rendered body */
	size_t profile_len;
};

static double ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

static struct conn *conn_of(struct MHD_Connection *connection)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(
		connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info != NULL ? info->socket_context : NULL;
}

/* The chain the client sent: from GnuTLS, or the copy the handshake hook
 * kept when GnuTLS lost it (SSLv2-format hello). */
static const gnutls_datum_t *peer_chain(struct conn *c, size_t *n)
{
	unsigned count = 0;
	const gnutls_datum_t *peers =
		gnutls_certificate_get_peers(c->tls, &count);

	if (peers != NULL && count > 0) {
		*n = count;
		return peers;
	}
	*n = c->n_chain;
	return c->n_chain > 0 ? c->chain : NULL;
}

/* Certificate checks: trusted chain, a device identity, no foreign MAC. */
static void identify(struct listener *l, struct conn *c, const char *url,
		     struct verdict *v)
{
	size_t n = 0;
	const gnutls_datum_t *chain = peer_chain(c, &n);
	char found[MAC_LEN + 1];
	enum ident_status st;

	v->verify = "no-certificate";
	if (chain == NULL) {
		v->outcome = OUTCOME_NO_CERT;
		return;
	}
	st = ident_from_der(chain[0].data, chain[0].size, &v->id, NULL);
	v->have_id = st != IDENT_MALFORMED;
	if (c->chain_truncated || trust_verify(l->srv->trust, chain, n,
					       &v->verify) < 0) {
		if (c->chain_truncated)
			v->verify = "chain-too-long";
		v->outcome = OUTCOME_UNTRUSTED;
		v->id.mac[0] = '\0'; /* an untrusted MAC identifies nobody */
		return;
	}
	v->verify = "ok";
	if (st == IDENT_MALFORMED) {
		v->outcome = OUTCOME_MALFORMED;
	} else if (st == IDENT_GENERIC) {
		v->outcome = OUTCOME_GENERIC;
	} else if (st == IDENT_NO_MAC) {
		v->outcome = OUTCOME_NO_MAC;
	} else if (mac_path_check(url, v->id.mac, found) ==
		   MAC_PATH_MISMATCH) {
		v->outcome = OUTCOME_SPOOF;
		snprintf(v->detail, sizeof(v->detail),
			 "path names %s, certificate %s", found, v->id.mac);
	} else {
		v->outcome = OUTCOME_OK;
	}
}

struct render_ctx {
	const struct verdict *v;
	const struct listener *l;
	char mac_upper[MAC_LEN + 1];
};

/* Built-ins first, then the device's own variables. */
static const char *render_lookup(void *p, const char *name)
{
	struct render_ctx *rc = p;
	const struct verdict *v = rc->v;

	if (strcmp(name, "mac") == 0)
		return v->id.mac;
	if (strcmp(name, "mac_upper") == 0)
		return rc->mac_upper;
	/* built-ins are always defined: empty when the phone did not say */
	if (strcmp(name, "serial") == 0)
		return v->id.serial;
	if (strcmp(name, "model") == 0)
		return v->id.product;
	if (strcmp(name, "firmware") == 0)
		return v->have_ua ? v->ua.firmware : "";
	if (strcmp(name, "ca") == 0)
		return rc->l->ca;
	if (strcmp(name, "listener") == 0)
		return rc->l->cl->name;
	for (size_t i = 0; i < v->dev->n_vars; i++)
		if (strcmp(v->dev->vars[i].name, name) == 0)
			return v->dev->vars[i].value;
	return NULL;
}

static void render(struct listener *l, struct db *db, struct verdict *v)
{
	struct render_ctx rc = { .v = v, .l = l };
	char *tmpl = NULL, *err = NULL;
	int rcode;

	if (v->dev->profile == NULL) {
		v->outcome = OUTCOME_NO_PROFILE;
		snprintf(v->detail, sizeof(v->detail), "device has no profile");
		return;
	}
	rcode = db_profile_get(db, v->dev->profile, &tmpl, &err);
	if (rcode != DB_OK) {
		v->outcome = rcode == DB_NOTFOUND ? OUTCOME_NO_PROFILE
						  : OUTCOME_DB_ERROR;
		snprintf(v->detail, sizeof(v->detail), "profile '%s': %s",
			 v->dev->profile, err ? err : "not found");
		goto out;
	}
	for (int i = 0; i < MAC_LEN; i++)
		rc.mac_upper[i] = (char)(v->id.mac[i] >= 'a' ?
					 v->id.mac[i] - 32 : v->id.mac[i]);
	if (tmpl_render(tmpl, strlen(tmpl), render_lookup, &rc, &v->profile,
			&v->profile_len, &err) < 0) {
		v->outcome = OUTCOME_RENDER_ERROR;
		snprintf(v->detail, sizeof(v->detail), "profile '%s': %s",
			 v->dev->profile, err ? err : "?");
	}
out:
	free(tmpl);
	free(err);
}

/* Inventory checks for an identified device, then the profile. */
static void lookup_device(struct listener *l, struct verdict *v, int *pending)
{
	struct db *db = server_thread_db(l->srv);
	char *err = NULL;
	int rc;

	if (db == NULL) {
		v->outcome = OUTCOME_DB_ERROR;
		return;
	}
	rc = db_device_get(db, v->id.mac, &v->dev, &err);
	if (rc == DB_NOTFOUND) {
		v->outcome = OUTCOME_UNKNOWN;
		*pending = l->srv->conf->unknown_devices == CONF_UNKNOWN_RECORD;
	} else if (rc != DB_OK) {
		v->outcome = OUTCOME_DB_ERROR;
		snprintf(v->detail, sizeof(v->detail), "%s", err ? err : "?");
	} else if (strcmp(v->dev->status, "disabled") == 0) {
		v->outcome = OUTCOME_DISABLED;
	} else if (strcmp(v->dev->status, "pending") == 0) {
		v->outcome = OUTCOME_PENDING;
	} else {
		render(l, db, v);
	}
	free(err);
}

static void fill_row(struct db_resync *row, struct listener *l,
		     struct conn *c, const struct verdict *v,
		     const char *method, const char *url, const char *ua)
{
	int ok_id = v->have_id && v->id.mac[0] != '\0';

	db_timestamp(row->ts);
	row->listener = l->cl->name;
	row->ca = l->ca;
	row->remote_addr = c->remote;
	row->mac = ok_id ? v->id.mac : NULL;
	row->cert_subject = v->have_id ? v->id.subject : NULL;
	row->cert_issuer = v->have_id ? v->id.issuer : NULL;
	row->cert_serial = v->have_id ? v->id.cert_serial : NULL;
	row->verify = v->verify;
	row->tls_version =
		gnutls_protocol_get_name(gnutls_protocol_get_version(c->tls));
	row->cipher = gnutls_ciphersuite_get(c->tls);
	row->user_agent = ua;
	row->model = v->have_id && v->id.product[0] ? v->id.product
		     : v->have_ua			? v->ua.model
							: NULL;
	row->firmware = v->have_ua ? v->ua.firmware : NULL;
	row->method = method;
	row->path = url;
	row->status = (int)outcome_status(v->outcome);
	row->bytes = v->outcome == OUTCOME_OK ? (long long)v->profile_len : 0;
	row->outcome = outcome_name(v->outcome);
	row->detail = v->detail[0] ? v->detail : NULL;
	row->ua_mac = v->have_ua && v->ua.mac[0] ? v->ua.mac : NULL;
	row->serial = v->have_id && v->id.serial[0] ? v->id.serial : NULL;
	/* the device's own row is updated only for a verified identity */
	row->seen = ok_id && v->dev != NULL && v->outcome != OUTCOME_SPOOF;
}

static enum MHD_Result respond(struct MHD_Connection *connection,
			       unsigned status, char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (body != NULL) {
		resp = MHD_create_response_from_buffer(len, body,
						       MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					len > 0 && body[0] == '<'
						? "text/xml; charset=utf-8"
						: "text/plain; charset=utf-8");
	} else {
		const char *reason = MHD_get_reason_phrase_for(status);
		char *text = NULL;
		int n = asprintf(&text, "%u %s\n", status, reason);

		resp = MHD_create_response_from_buffer(
			n > 0 ? (size_t)n : 0, n > 0 ? text : NULL,
			MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/plain; charset=utf-8");
	}
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	ret = MHD_queue_response(connection, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result finish(struct listener *l,
			      struct MHD_Connection *connection,
			      struct conn *c, struct req *r, const char *url,
			      const char *method)
{
	const char *ua = MHD_lookup_connection_value(
		connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
	struct verdict v = { .outcome = OUTCOME_OK };
	struct db_resync row = { 0 };
	int pending = 0;
	unsigned status;
	enum MHD_Result ret;

	v.have_ua = ua_parse(ua, &v.ua) == 0;
	identify(l, c, url, &v);
	if (v.outcome == OUTCOME_OK && v.have_ua && v.ua.mac[0] &&
	    strcmp(v.ua.mac, v.id.mac) != 0) {
		row.ua_mismatch = 1;
		snprintf(v.detail, sizeof(v.detail),
			 "User-Agent MAC %s differs from certificate",
			 v.ua.mac);
	}
	if (r->body_too_large)
		v.outcome = OUTCOME_BODY_TOO_LARGE;
	else if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 &&
		 strcmp(method, "HEAD") != 0)
		v.outcome = OUTCOME_BAD_METHOD;
	if (v.outcome == OUTCOME_OK)
		lookup_device(l, &v, &pending);
	fill_row(&row, l, c, &v, method, url, ua);
	row.add_pending = pending;
	row.duration_ms = ms_since(&r->start);
	status = (unsigned)row.status;
	if (ledger_commit(l->srv->ledger, &row) < 0) {
		/* never answer 200 for a resync we could not record */
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		free(v.profile);
		v.profile = NULL;
	}
	log_debug("listener=%s remote=%s mac=%s status=%u outcome=%s",
		  l->cl->name, c->remote, row.mac ? row.mac : "-", status,
		  row.outcome);
	if (status == MHD_HTTP_OK) {
		ret = respond(connection, status, v.profile, v.profile_len);
		v.profile = NULL; /* owned by the response now */
	} else {
		ret = respond(connection, status, NULL, 0);
	}
	free(v.profile);
	db_device_free(v.dev);
	return ret;
}

struct query_buf {
	char *s;
	size_t len, cap;
	int n;
};

static void qb_add(struct query_buf *q, const char *text)
{
	size_t n = strlen(text);

	if (q->s == NULL || q->len + n + 1 > q->cap)
		return; /* longer than REQUEST_MAX_PATH: keep what fits */
	memcpy(q->s + q->len, text, n + 1);
	q->len += n;
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind,
			       const char *key, const char *value)
{
	struct query_buf *q = cls;

	qb_add(q, q->n++ == 0 ? "?" : "&");
	qb_add(q, key);
	if (value != NULL) {
		qb_add(q, "=");
		qb_add(q, value);
	}
	return MHD_YES;
}

/* The path with its query string (libmicrohttpd hands them apart), as
 * the phone sent it but %-decoded: "/config?Linksys0022BD010203".  Both
 * the spoof check and the ledger need the whole of it. */
static char *full_path(struct MHD_Connection *connection, const char *url)
{
	struct query_buf q = { .cap = REQUEST_MAX_PATH + 1 };

	q.s = malloc(q.cap);
	if (q.s == NULL)
		return NULL;
	q.s[0] = '\0';
	qb_add(&q, url);
	MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, add_arg,
				  &q);
	return q.s;
}

/* Accumulate a POST body up to REQUEST_MAX_BODY. */
static void take_upload(struct req *r, const char *data, size_t size)
{
	char *nb;

	if (r->body_too_large || r->body_len + size > REQUEST_MAX_BODY) {
		r->body_too_large = 1;
		return;
	}
	nb = realloc(r->body, r->body_len + size + 1);
	if (nb == NULL) {
		r->body_too_large = 1;
		return;
	}
	memcpy(nb + r->body_len, data, size);
	r->body = nb;
	r->body_len += size;
	r->body[r->body_len] = '\0';
}

enum MHD_Result request_handle(void *cls, struct MHD_Connection *connection,
			       const char *url, const char *method,
			       const char *version, const char *upload_data,
			       size_t *upload_data_size, void **req_cls)
{
	struct listener *l = cls;
	struct req *r = *req_cls;
	struct conn *c = conn_of(connection);

	if (c == NULL)
		return MHD_NO;
	if (r == NULL) {
		r = calloc(1, sizeof(*r));
		if (r == NULL)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &r->start);
		c->requests_started = 1;
		*req_cls = r;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		take_upload(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	{
		char *path = full_path(connection, url);
		enum MHD_Result ret;

		if (path == NULL)
			return MHD_NO;
		ret = finish(l, connection, c, r, path, method);
		free(path);
		return ret;
	}
}

void request_completed(void *cls, struct MHD_Connection *connection,
		       void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *r = *req_cls;

	if (r == NULL)
		return;
	free(r->body);
	free(r);
	*req_cls = NULL;
}
