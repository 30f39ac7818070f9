#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "db/db.h"
#include "db/pin.h"
#include "db/txn.h"
#include "fleet/firmware.h"
#include "fleet/identity.h"
#include "fleet/steer.h"
#include "ident/idcache.h"
#include "ident/ident.h"
#include "ident/ua.h"
#include "server/conn.h"
#include "server/fleet_http.h"
#include "server/metrics.h"
#include "server/outcome.h"
#include "server/request.h"
#include "server/server.h"
#include "server/workers.h"
#include "tmpl/builtins.h"
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
	int url_mac;            /* identified by the MAC in the URL only */
	int pin_new;            /* no pin yet: pin this certificate */
};

/* Where a request is: its row goes to the ledger with the connection
 * suspended, and the ledger's thread resumes it once the row is written;
 * no worker thread waits for a commit. */
enum req_phase {
	REQ_READING = 0,        /* headers, body */
	REQ_COMMITTING,         /* suspended until the ledger is done */
	REQ_COMMITTED,          /* resumed: answer */
};

/* A body refused by its Content-Length is still read (and dropped) up to
 * this size before the 413, so the client gets the answer; a larger one
 * is answered at once and the connection closed. */
#define REFUSED_BODY_DRAIN (1024u * 1024)

/* One HTTP request, from its request line to its response. */
struct req {
	struct timespec start;
	char *uri;              /* request target as sent, cut at max_url_length */
	size_t uri_len;         /* its whole length */
	char method[16];
	char *body;             /* POST body */
	size_t body_len;
	int body_too_large;
	int headers_done;       /* the access handler has seen the headers */
	int answered;           /* finish() ran: a row was written or logged */
	enum outcome refuse;    /* a limit the request broke, or OUTCOME_OK */
	unsigned long long announced; /* Content-Length, 0 if none */
	int draining;           /* refused: its body is read and dropped */
	char detail[128];       /* which limit, for the ledger */
	/* from finish() on: the verdict, its ledger row, the answer */
	enum req_phase phase;
	int committed;          /* the ledger wrote the row */
	struct MHD_Connection *connection;
	struct workers *pool;   /* the worker running its daemon */
	unsigned worker;
	char *path;             /* path and query, the row's path */
	struct verdict v;
	struct db_resync row;
	enum fleet_route route;
	struct fleet_reply fx;
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

/* A trusted generic certificate: 403, or with generic_policy = url-mac
 * the MAC in the path identifies the device, with low trust (nothing of
 * the shared certificate describes it). */
static void identify_generic(struct listener *l, const char *url,
			     struct verdict *v)
{
	v->outcome = OUTCOME_GENERIC;
	if (l->cl->generic_policy != CONF_GENERIC_URL_MAC)
		return;
	if (fleet_url_mac(url, v->id.mac) < 0) {
		snprintf(v->detail, sizeof(v->detail),
			 "generic certificate and no single MAC in the path");
		return;
	}
	v->id.serial[0] = '\0';
	v->id.product[0] = '\0';
	v->url_mac = 1;
	v->outcome = OUTCOME_OK;
}

/* Certificate checks: trusted chain, a device identity, no foreign MAC. */
static void identify(struct listener *l, struct conn *c, const char *url,
		     struct verdict *v)
{
	size_t n = 0;
	const gnutls_datum_t *chain;
	char found[MAC_LEN + 1];
	enum ident_status st;
	int trusted;

	if (l->cl->mode != CONF_MODE_MUTUAL) {
		v->verify = "not-requested"; /* no client certificate asked */
		return;
	}
	chain = peer_chain(c, &n);
	v->verify = "no-certificate";
	if (chain == NULL) {
		v->outcome = OUTCOME_NO_CERT;
		return;
	}
	/* a repeated chain costs a lookup (ident/idcache.h) */
	trusted = idcache_check(l->gen->idcache, chain, n, &v->id, &st,
				&v->verify);
	v->have_id = st != IDENT_MALFORMED;
	if (c->chain_truncated || trusted < 0) {
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
		identify_generic(l, url, v);
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

/* A device identified by its URL only gets a profile marked safe for it
 * (generic_safe); 0 if it may have this one, else the outcome is set. */
static int generic_allowed(struct db *db, struct verdict *v)
{
	char *err = NULL;
	int safe = 0, rc;

	if (!v->url_mac)
		return 0;
	rc = db_profile_generic_safe(db, v->dev->profile, &safe, &err);
	if (rc == DB_OK && safe)
		return 0;
	v->outcome = rc == DB_OK ? OUTCOME_GENERIC_NOT_ALLOWED
		     : rc == DB_NOTFOUND ? OUTCOME_NO_PROFILE
					 : OUTCOME_DB_ERROR;
	snprintf(v->detail, sizeof(v->detail), "profile '%s': %s",
		 v->dev->profile, rc == DB_OK ? "not generic-safe, the device "
		 "is identified by the MAC in the URL only" : rc == DB_NOTFOUND
		 ? "not found" : err ? err : "?");
	free(err);
	return -1;
}

static void render(struct listener *l, struct db *db, struct verdict *v)
{
	/* built-ins from this request: certificate, User-Agent, listener */
	struct tmpl_builtins b = {
		.mac = v->id.mac, .serial = v->id.serial,
		.model = v->url_mac && v->have_ua ? v->ua.model : v->id.product,
		.firmware = v->have_ua ? v->ua.firmware : NULL,
		.ca = l->ca, .listener = l->cl->name,
		.vars = v->dev->vars, .n_vars = v->dev->n_vars,
	};
	struct fleet_reply fx;
	char rule[STEER_MAX_RULE];
	const char *why = NULL;

	if (v->dev->profile == NULL) {
		v->outcome = OUTCOME_NO_PROFILE;
		snprintf(v->detail, sizeof(v->detail), "device has no profile");
		return;
	}
	if (generic_allowed(db, v) < 0)
		return;
	b.profile_rule = steer_rule_for(l->gen->conf, l->gen->hosts, l->cl,
					b.model, b.firmware, rule, sizeof(rule),
					&why);
	fleet_reply_init(&fx);
	if (fleet_http_render(l, db, v->dev->profile, &b, &v->profile,
			      &v->profile_len, &fx) < 0) {
		/* say why {{profile_rule}} had no value */
		int no_rule = fx.outcome == OUTCOME_RENDER_ERROR &&
			      b.profile_rule == NULL &&
			      strstr(fx.detail, "'profile_rule'") != NULL;

		v->outcome = fx.outcome;
		if (snprintf(v->detail, sizeof(v->detail), "%s%s%s%s",
			     fx.detail, no_rule ? " (" : "", no_rule ? why : "",
			     no_rule ? ")" : "") >= (int)sizeof(v->detail))
			log_debug("msg=\"ledger detail cut\" mac=%s", v->id.mac);
	}
	fleet_reply_clear(&fx);
}

/* The certificate against the device's pin (read with its row): none
 * yet, it is pinned with this 200; another one is logged and, with
 * pin_policy = refuse, refused.  0 to go on, -1 when refused. */
static int check_pin(struct listener *l, struct verdict *v)
{
	enum fleet_pin p;

	if (v->url_mac)
		return 0; /* a shared certificate is never pinned */
	p = fleet_pin_compare(v->dev->pin_fingerprint, v->id.fingerprint);
	v->pin_new = p == FLEET_PIN_NEW;
	if (p != FLEET_PIN_CHANGED)
		return 0;
	fleet_pin_detail(v->detail, sizeof(v->detail), v->dev->pin_fingerprint,
			 v->id.fingerprint);
	log_warn("msg=\"client certificate changed\" listener=%s mac=%s "
		 "pinned=%s presented=%s pin_policy=%s", l->cl->name,
		 v->id.mac, v->dev->pin_fingerprint, v->id.fingerprint,
		 l->cl->pin_policy == CONF_PIN_REFUSE ? "refuse" : "alert");
	if (l->cl->pin_policy != CONF_PIN_REFUSE)
		return 0;
	v->outcome = OUTCOME_PIN_MISMATCH;
	return -1;
}

/* Inventory checks for an identified device, then the profile. */
static void lookup_device(struct listener *l, struct verdict *v, int *pending)
{
	struct db *db = server_thread_db(l->srv);
	char *err = NULL;
	int rc, began;

	if (db == NULL) {
		v->outcome = OUTCOME_DB_ERROR;
		return;
	}
	began = db_read_begin(db) == 0;
	rc = db_device_get(db, v->id.mac, &v->dev, &err);
	if (rc == DB_NOTFOUND) {
		v->outcome = OUTCOME_UNKNOWN;
		/* a MAC from the URL alone never adds a device */
		*pending = l->gen->conf->unknown_devices ==
				   CONF_UNKNOWN_RECORD && !v->url_mac;
	} else if (rc != DB_OK) {
		v->outcome = OUTCOME_DB_ERROR;
		snprintf(v->detail, sizeof(v->detail), "%s", err ? err : "?");
	} else if (strcmp(v->dev->status, "disabled") == 0) {
		v->outcome = OUTCOME_DISABLED;
	} else if (strcmp(v->dev->status, "pending") == 0) {
		v->outcome = OUTCOME_PENDING;
	} else if (check_pin(l, v) == 0) {
		render(l, db, v);
	}
	if (began)
		db_read_end(db);
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
	if (c->tls != NULL) { /* NULL on a plain-HTTP listener */
		row->tls_version = gnutls_protocol_get_name(
			gnutls_protocol_get_version(c->tls));
		row->cipher = gnutls_ciphersuite_get(c->tls);
		row->tls_resumed = gnutls_session_is_resumed(c->tls) != 0;
	}
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
	row->trust = v->url_mac ? "url-mac" : NULL;
	row->fingerprint = v->have_id ? v->id.fingerprint : NULL;
	row->pin = v->pin_new && v->outcome == OUTCOME_OK;
}

static enum MHD_Result respond(struct MHD_Connection *connection,
			       unsigned status, char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (body != NULL) {
		resp = MHD_create_response_from_buffer(len, body,
						       MHD_RESPMEM_MUST_FREE);
		if (resp == NULL)
			free(body);
	} else {
		const char *reason = MHD_get_reason_phrase_for(status);
		char *text = NULL;
		int n = asprintf(&text, "%u %s\n", status, reason);

		resp = MHD_create_response_from_buffer(
			n > 0 ? (size_t)n : 0, n > 0 ? text : NULL,
			MHD_RESPMEM_MUST_FREE);
		if (resp == NULL && n > 0)
			free(text);
	}
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				body != NULL && len > 0 && body[0] == '<'
					? "text/xml; charset=utf-8"
					: "text/plain; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	ret = MHD_queue_response(connection, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Firmware, reports and encrypted profiles: server/fleet_http.c. */
static void fleet(struct listener *l, struct conn *c, struct req *r,
		  enum fleet_route route, const char *url, const char *method,
		  struct verdict *v, struct fleet_reply *fx)
{
	struct fleet_http_in in = {
		.url = url, .raw_uri = r->uri, .method = method,
		.remote = c->remote, .body = r->body, .body_len = r->body_len,
		/* a MAC from the URL alone (generic certificate) is no
		 * verified identity: no report, no download on its behalf */
		.mac = v->id.mac[0] && !v->url_mac ? v->id.mac : NULL,
		.ua_firmware = v->have_ua ? v->ua.firmware : NULL,
	};

	fleet_http_serve(l, route, &in, fx);
	v->outcome = fx->outcome;
	snprintf(v->detail, sizeof(v->detail), "%s", fx->detail);
}

/* What a fleet request changes in its ledger row. */
static void fleet_row(struct db_resync *row, const struct fleet_reply *fx)
{
	if (fx->trust != NULL) {
		row->trust = fx->trust;
		row->mac = fx->mac[0] ? fx->mac : NULL;
	}
	row->bytes = row->status == MHD_HTTP_OK ? fx->bytes : 0;
	/* only a verified certificate updates the device's row */
	row->seen = row->mac != NULL && row->trust == NULL && fx->seen;
}

/* The ledger's thread: the row is written (or not); wake the request. */
static void row_written(void *arg, int committed)
{
	struct req *r = arg;
	struct workers *pool = r->pool;
	unsigned worker = r->worker;

	r->committed = committed;
	r->phase = REQ_COMMITTED;
	MHD_resume_connection(r->connection); /* r may be gone after this */
	workers_kick(pool, worker);
}

static void req_clear(struct req *r)
{
	fleet_reply_clear(&r->fx);
	free(r->v.profile);
	r->v.profile = NULL;
	db_device_free(r->v.dev);
	r->v.dev = NULL;
}

static enum MHD_Result finish_committed(struct listener *l,
					struct MHD_Connection *connection,
					struct conn *c, struct req *r);

/* Everything up to the ledger row: identity, inventory, the body.
 * `early`: refused on its headers, answered before any body comes. */
static enum MHD_Result finish(struct listener *l,
			      struct MHD_Connection *connection,
			      struct conn *c, struct req *r, const char *url,
			      const char *method, int early)
{
	const char *ua = MHD_lookup_connection_value(
		connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
	struct verdict *v = &r->v;
	struct db_resync *row = &r->row;
	int pending = 0;

	v->outcome = OUTCOME_OK;
	r->route = fleet_http_route(l->cl, method, url);
	v->have_ua = ua_parse(ua, &v->ua) == 0;
	identify(l, c, url, v);
	if (v->outcome == OUTCOME_OK && v->have_ua && v->ua.mac[0] &&
	    v->id.mac[0] && strcmp(v->ua.mac, v->id.mac) != 0) {
		row->ua_mismatch = 1;
		snprintf(v->detail, sizeof(v->detail),
			 "User-Agent MAC %s differs from certificate",
			 v->ua.mac);
	}
	r->answered = 1;
	if (r->refuse != OUTCOME_OK) {
		v->outcome = r->refuse;
		snprintf(v->detail, sizeof(v->detail), "%s", r->detail);
	} else if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 &&
		   strcmp(method, "HEAD") != 0) {
		v->outcome = OUTCOME_BAD_METHOD;
	}
	if (v->outcome == OUTCOME_OK && r->route == FLEET_ROUTE_PROFILE)
		lookup_device(l, v, &pending);
	else if (v->outcome == OUTCOME_OK)
		fleet(l, c, r, r->route, url, method, v, &r->fx);
	fill_row(row, l, c, v, method, url, ua);
	if (r->route != FLEET_ROUTE_PROFILE)
		fleet_row(row, &r->fx);
	row->add_pending = pending;
	row->duration_ms = ms_since(&r->start);
	if (early) {
		/* a refusal (never a 200) is answered at once, while the
		 * client may still be sending a body; its row follows */
		ledger_record(l->srv->ledger, row);
		r->committed = 1;
		r->phase = REQ_COMMITTED;
		return finish_committed(l, connection, c, r);
	}
	r->connection = connection;
	r->pool = l->pool;
	r->worker = listener_worker_of(l, connection);
	r->phase = REQ_COMMITTING;
	if (ledger_submit(l->srv->ledger, row, row_written, r) < 0) {
		r->phase = REQ_COMMITTED; /* out of memory: not recorded */
		r->committed = 0;
		return MHD_YES;        /* called again at once */
	}
	MHD_suspend_connection(connection);
	return MHD_YES;
}

/* Resumed after the ledger: the answer.  Never 200 for a resync that
 * could not be recorded. */
static enum MHD_Result finish_committed(struct listener *l,
					struct MHD_Connection *connection,
					struct conn *c, struct req *r)
{
	struct db_resync *row = &r->row;
	unsigned status = (unsigned)row->status;
	enum MHD_Result ret;

	if (!r->committed) {
		log_warn("msg=\"request not recorded (database write failed), "
			 "answered 503\" listener=%s remote=%s mac=%s "
			 "outcome=%s", l->cl->name, c->remote,
			 row->mac ? row->mac : "-", row->outcome);
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		req_clear(r);
	}
	log_debug("listener=%s remote=%s mac=%s status=%u outcome=%s",
		  l->cl->name, c->remote, row->mac ? row->mac : "-", status,
		  row->outcome);
	metrics_request(l->cl->name, l->ca, status, r->v.outcome,
			ms_since(&r->start) / 1e3);
	if (status == MHD_HTTP_OK && r->route != FLEET_ROUTE_PROFILE) {
		ret = fleet_http_respond(connection, &r->fx);
	} else if (status == MHD_HTTP_OK) {
		ret = respond(connection, status, r->v.profile,
			      r->v.profile_len);
		r->v.profile = NULL; /* owned by the response now */
	} else {
		ret = respond(connection, status, NULL, 0);
	}
	req_clear(r);
	return ret;
}

struct query_buf {
	char *s;
	size_t len, cap;
	int n;
	int truncated;
};

static void qb_add(struct query_buf *q, const char *text)
{
	size_t n = strlen(text);

	if (q->s == NULL)
		return;
	if (q->len + n + 1 > q->cap) {
		q->truncated = 1; /* keep what fits */
		n = q->cap - 1 - q->len;
	}
	memcpy(q->s + q->len, text, n);
	q->len += n;
	q->s[q->len] = '\0';
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind,
			       const char *key, const char *value)
{
	struct query_buf *q = cls;

	(void)kind;
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
 * the spoof check and the ledger need the whole of it; at most `max`
 * bytes are kept, *truncated tells when there was more. */
static char *full_path(struct MHD_Connection *connection, const char *url,
		       size_t max, int *truncated)
{
	struct query_buf q = { .cap = max + 1 };

	q.s = malloc(q.cap);
	if (q.s == NULL)
		return NULL;
	q.s[0] = '\0';
	qb_add(&q, url);
	MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, add_arg,
				  &q);
	*truncated = q.truncated;
	return q.s;
}

static struct req *req_new(struct conn *c, const char *uri, size_t keep)
{
	struct req *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->refuse = OUTCOME_OK;
	fleet_reply_init(&r->fx); /* req_clear() may run before finish() */
	if (uri != NULL) {
		r->uri_len = strlen(uri);
		r->uri = strndup(uri, keep); /* NULL is survivable */
	}
	if (c != NULL)
		c->requests_started = 1;
	return r;
}

void *request_start(void *cls, const char *uri,
		    struct MHD_Connection *connection)
{
	struct listener *l = cls;

	return req_new(conn_of(connection), uri, l->cl->max_url_length);
}

static void refuse(struct req *r, enum outcome o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse(struct req *r, enum outcome o, const char *fmt, ...)
{
	va_list ap;

	r->refuse = o;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

/* The limits that can be checked once the headers are in: the length of
 * the request target, the number of header fields, the announced body. */
static void check_headers(const struct conf_listener *cl,
			  struct MHD_Connection *connection, struct req *r)
{
	const char *clen = MHD_lookup_connection_value(
		connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	int n = MHD_get_connection_values(connection, MHD_HEADER_KIND, NULL,
					  NULL);
	unsigned long long len = 0;
	char *end = NULL;

	if (r->uri_len > cl->max_url_length) {
		refuse(r, OUTCOME_URI_TOO_LONG,
		       "request target of %zu bytes, max_url_length %u",
		       r->uri_len, cl->max_url_length);
		return;
	}
	if (n > (int)cl->max_headers) {
		refuse(r, OUTCOME_TOO_MANY_HEADERS,
		       "%d header fields, max_headers %u", n, cl->max_headers);
		return;
	}
	if (clen == NULL)
		return;
	errno = 0;
	len = strtoull(clen, &end, 10);
	r->announced = len;
	if (errno != 0 || end == clen || len > cl->max_body_size)
		refuse(r, OUTCOME_BODY_TOO_LARGE,
		       "Content-Length %.20s, max_body_size %u", clen,
		       cl->max_body_size);
}

/* Accumulate a POST body up to max_body_size; -1 past it. */
static int take_upload(struct req *r, const char *data, size_t size,
		       size_t max)
{
	char *nb;

	if (r->body_len + size > max) {
		r->body_too_large = 1;
		snprintf(r->detail, sizeof(r->detail),
			 "body over max_body_size %zu without Content-Length; "
			 "connection closed", max);
		return -1;
	}
	nb = realloc(r->body, r->body_len + size + 1);
	if (nb == NULL) {
		r->body_too_large = 1;
		snprintf(r->detail, sizeof(r->detail),
			 "out of memory for a body of %zu bytes; connection "
			 "closed", r->body_len + size);
		return -1;
	}
	memcpy(nb + r->body_len, data, size);
	r->body = nb;
	r->body_len += size;
	r->body[r->body_len] = '\0';
	return 0;
}

static enum MHD_Result answer(struct listener *l,
			      struct MHD_Connection *connection,
			      struct conn *c, struct req *r, const char *url,
			      const char *method, int early)
{
	int truncated = 0;
	char *path = full_path(connection, url, l->cl->max_url_length,
			       &truncated);
	enum MHD_Result ret;

	free(r->path);

	if (path == NULL)
		return MHD_NO;
	if (truncated && r->refuse == OUTCOME_OK)
		refuse(r, OUTCOME_URI_TOO_LONG,
		       "path and query over max_url_length %u",
		       l->cl->max_url_length);
	r->path = path; /* the ledger row points to it */
	ret = finish(l, connection, c, r, path, method, early);
	return ret;
}

enum MHD_Result request_handle(void *cls, struct MHD_Connection *connection,
			       const char *url, const char *method,
			       const char *version, const char *upload_data,
			       size_t *upload_data_size, void **req_cls)
{
	struct listener *l = cls;
	struct req *r = *req_cls;
	struct conn *c = conn_of(connection);

	(void)version;
	if (c == NULL)
		return MHD_NO;
	if (r == NULL) { /* no request_start(): out of memory there */
		r = req_new(c, NULL, 0);
		if (r == NULL)
			return MHD_NO;
		*req_cls = r;
	}
	if (r->phase == REQ_COMMITTED)
		return finish_committed(l, connection, c, r);
	if (r->answered) { /* refused early: drop whatever still comes */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!r->headers_done) {
		r->headers_done = 1;
		/* duration_ms counts from the end of the headers */
		clock_gettime(CLOCK_MONOTONIC, &r->start);
		snprintf(r->method, sizeof(r->method), "%s", method);
		check_headers(l->cl, connection, r);
		if (r->refuse == OUTCOME_BODY_TOO_LARGE &&
		    r->announced <= REFUSED_BODY_DRAIN) {
			/* answered after its body: closing with the body
			 * unread resets the connection, and the reset can
			 * overtake the 413 on its way to the client */
			r->draining = 1;
			return MHD_YES;
		}
		if (r->refuse != OUTCOME_OK) /* answer before any body */
			return answer(l, connection, c, r, url, method, 1);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (r->draining)
			return MHD_YES;
		if (take_upload(r, upload_data, n, l->cl->max_body_size) < 0)
			return MHD_NO; /* recorded by request_completed() */
		return MHD_YES;
	}
	return answer(l, connection, c, r, url, method, 0);
}

/* A request that never reached finish(): libmicrohttpd refused it itself
 * (request line and headers over max_header_size, a malformed request)
 * or we closed it (a body without Content-Length over max_body_size).
 * Its row holds the status actually sent, 0 for none. */
static void record_unanswered(struct listener *l,
			      struct MHD_Connection *connection,
			      struct conn *c, struct req *r)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(
		connection, MHD_CONNECTION_INFO_HTTP_STATUS);
	unsigned sent = info != NULL ? info->http_status : 0;
	struct verdict v = { .outcome = OUTCOME_OK };
	struct db_resync row = { 0 };
	const char *path = r->uri != NULL ? r->uri : "";

	if (!r->body_too_large && sent < 400)
		return; /* cut off by the client or a timeout: no request */
	identify(l, c, path, &v);
	if (r->body_too_large) {
		v.outcome = OUTCOME_BODY_TOO_LARGE;
		snprintf(v.detail, sizeof(v.detail), "%s", r->detail);
	} else if (sent == MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE ||
		   sent == MHD_HTTP_URI_TOO_LONG) {
		v.outcome = sent == MHD_HTTP_URI_TOO_LONG
				    ? OUTCOME_URI_TOO_LONG
				    : OUTCOME_HEADERS_TOO_LARGE;
		snprintf(v.detail, sizeof(v.detail),
			 "request line and headers over max_header_size %u",
			 l->cl->max_header_size);
	} else {
		v.outcome = OUTCOME_BAD_REQUEST;
		snprintf(v.detail, sizeof(v.detail),
			 "refused by the HTTP parser with status %u", sent);
	}
	fill_row(&row, l, c, &v, r->method[0] ? r->method : "-", path,
		 MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
					     MHD_HTTP_HEADER_USER_AGENT));
	row.status = (int)sent;
	row.duration_ms = ms_since(&r->start);
	r->answered = 1;
	ledger_record(l->srv->ledger, &row); /* nobody waits: a copy */
	metrics_request(l->cl->name, l->ca, sent, v.outcome,
			ms_since(&r->start) / 1e3);
	db_device_free(v.dev);
}

void request_completed(void *cls, struct MHD_Connection *connection,
		       void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct listener *l = cls;
	struct req *r = *req_cls;
	struct conn *c = conn_of(connection);

	if (r == NULL)
		return;
	if (!r->answered && c != NULL &&
	    toe != MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN)
		record_unanswered(l, connection, c, r);
	if (r->phase == REQ_COMMITTING) /* never: daemons stop after a flush */
		ledger_flush(l->srv->ledger);
	req_clear(r);
	free(r->path);
	free(r->uri);
	free(r->body);
	free(r);
	*req_cls = NULL;
}
