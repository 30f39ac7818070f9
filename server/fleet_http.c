#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "db/db.h"
#include "db/fleet.h"
#include "fleet/encprofile.h"
#include "fleet/firmware.h"
#include "fleet/report.h"
#include "server/fleet_http.h"
#include "server/server.h"
#include "tmpl/builtins.h"
#include "tmpl/tmpl.h"
#include "util/log.h"
#include "util/mac.h"

void fleet_reply_init(struct fleet_reply *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->outcome = OUTCOME_OK;
	fx->fd = -1;
}

void fleet_reply_clear(struct fleet_reply *fx)
{
	free(fx->body);
	fx->body = NULL;
	if (fx->fd >= 0)
		close(fx->fd);
	fx->fd = -1;
}

static void set(struct fleet_reply *fx, enum outcome o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set(struct fleet_reply *fx, enum outcome o, const char *fmt, ...)
{
	va_list ap;

	fx->outcome = o;
	va_start(ap, fmt);
	vsnprintf(fx->detail, sizeof(fx->detail), fmt, ap);
	va_end(ap);
}

/* --- routing ------------------------------------------------------------- */

/* A path segment "report", or a query key "report". */
static int is_report(const char *url)
{
	const char *end = url + strcspn(url, "?"), *p = url, *q = end;

	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *seg_end = slash != NULL ? slash : end;

		if (seg_end - p == 6 && memcmp(p, "report", 6) == 0)
			return 1;
		p = seg_end + 1;
	}
	if (*q != '?')
		return 0;
	for (q++; *q != '\0';) {
		if (strcspn(q, "=&") == 6 && memcmp(q, "report", 6) == 0)
			return 1;
		q += strcspn(q, "&");
		if (*q == '&')
			q++;
	}
	return 0;
}

enum fleet_route fleet_http_route(const struct conf_listener *cl,
				  const char *method, const char *url)
{
	if (strncmp(url, FLEET_FW_PREFIX, FLEET_FW_PREFIX_LEN) == 0)
		return FLEET_ROUTE_FIRMWARE;
	if (strcmp(method, "POST") == 0 && is_report(url))
		return FLEET_ROUTE_REPORT;
	return cl->mode == CONF_MODE_MUTUAL ? FLEET_ROUTE_PROFILE
					    : FLEET_ROUTE_ENCRYPTED;
}

/* The one MAC the URL names (every MAC-like token the same): 1, else 0
 * (none, or two different ones: *two is set). */
static int url_mac(const char *url, char mac[MAC_LEN + 1], int *two)
{
	char other[MAC_LEN + 1];

	*two = 0;
	if (mac_path_check(url, NULL, mac) != MAC_PATH_MISMATCH || !mac[0])
		return 0;
	if (mac_path_check(url, mac, other) == MAC_PATH_MATCH)
		return 1;
	*two = 1;
	return 0;
}

/* --- firmware ------------------------------------------------------------ */

/* The file name, from the request target as sent when we have it (so
 * that no %-encoded '/', '.' or NUL gets through), up to the query. */
static int firmware_name(const struct fleet_http_in *in, char *out,
			 size_t size)
{
	const char *src = in->raw_uri != NULL ? in->raw_uri : in->url;
	size_t n;

	if (strncmp(src, FLEET_FW_PREFIX, FLEET_FW_PREFIX_LEN) != 0)
		return -1;
	src += FLEET_FW_PREFIX_LEN;
	n = strcspn(src, "?");
	if (n == 0 || n >= size)
		return -1;
	memcpy(out, src, n);
	out[n] = '\0';
	return fleet_fw_name_valid(out) ? 0 : -1;
}

static void serve_firmware(struct listener *l, const struct fleet_http_in *in,
			   struct fleet_reply *fx)
{
	const char *dir = l->gen->conf->firmware_dir;
	char name[FLEET_FW_MAX_NAME + 1], *err = NULL;
	int two, missing = 0;

	if (l->cl->mode == CONF_MODE_SERVER_AUTH) {
		set(fx, OUTCOME_NO_CERT, "firmware needs a client certificate "
		    "(mode = mutual) or plain HTTP (mode = plain)");
		return;
	}
	if (l->cl->mode == CONF_MODE_MUTUAL) {
		fx->seen = 1; /* identified by its certificate */
	} else if (url_mac(in->url, fx->mac, &two)) {
		fx->trust = FLEET_TRUST_URL_MAC;
	} else {
		fx->mac[0] = '\0';
	}
	if (firmware_name(in, name, sizeof(name)) < 0) {
		set(fx, OUTCOME_BAD_FIRMWARE_NAME, "not a firmware file name "
		    "(1 to %d of A-Z a-z 0-9 . _ -, not starting with '.')",
		    FLEET_FW_MAX_NAME);
		return;
	}
	if (dir == NULL) {
		set(fx, OUTCOME_NO_FIRMWARE, "no firmware_dir in [server]");
		return;
	}
	fx->fd = fleet_fw_open(dir, name, &fx->size, &missing, &err);
	if (fx->fd < 0) {
		set(fx, OUTCOME_NO_FIRMWARE, "%s", err ? err : "?");
		free(err);
		return;
	}
	fx->outcome = OUTCOME_FIRMWARE;
	fx->bytes = strcmp(in->method, "HEAD") == 0 ? 0 : (long long)fx->size;
	snprintf(fx->detail, sizeof(fx->detail), "%s", name);
}

/* --- reports ------------------------------------------------------------- */

static void serve_report(struct listener *l, struct db *db,
			 const struct fleet_http_in *in, struct fleet_reply *fx)
{
	struct fleet_params params = { 0 };
	char ts[32], *err = NULL;
	int rc;

	if (l->cl->mode != CONF_MODE_MUTUAL || in->mac == NULL ||
	    in->mac[0] == '\0') {
		set(fx, OUTCOME_NO_CERT, "reports need a verified device "
		    "certificate (mode = mutual)");
		return;
	}
	fx->seen = 1;
	if (in->body == NULL || in->body_len == 0 ||
	    memchr(in->body, '\0', in->body_len) != NULL) {
		set(fx, OUTCOME_BAD_REPORT, "%s", in->body_len == 0
		    ? "empty body" : "binary body (encrypted reports are not "
				     "supported)");
		return;
	}
	if (fleet_params_parse(in->body, in->body_len, &params, &err) < 0) {
		set(fx, OUTCOME_BAD_REPORT, "not an XML flat-profile: %s",
		    err ? err : "?");
		goto out;
	}
	if (db == NULL) {
		set(fx, OUTCOME_DB_ERROR, "no database connection");
		goto out;
	}
	db_timestamp(ts);
	rc = db_report_store(db, in->mac, ts, l->cl->name, in->remote,
			     in->body, &err);
	if (rc == DB_NOTFOUND)
		set(fx, OUTCOME_UNKNOWN, "report from a device not in the "
		    "inventory");
	else if (rc != DB_OK)
		set(fx, OUTCOME_DB_ERROR, "%s", err ? err : "?");
	else
		set(fx, OUTCOME_REPORT, "%zu parameters", params.n);
out:
	fleet_params_free(&params);
	free(err);
}

/* --- encrypted profiles -------------------------------------------------- */

int fleet_http_fw_vars(struct listener *l, struct db *db, const char *model,
		       struct fleet_fw_vars *out, char **err)
{
	struct fleet_fw_site site = {
		.conf = l->gen->conf, .cl = l->cl, .port = l->port,
		.cert_pem = l->tls.cert_pem,
	};

	return fleet_fw_vars(db, &site, model, out, err);
}

int fleet_http_render(struct listener *l, struct db *db, const char *profile,
		      struct tmpl_builtins *b, char **out, size_t *len,
		      struct fleet_reply *fx)
{
	struct fleet_fw_vars fw;
	char *tmpl = NULL, *err = NULL;
	int rc, ret = -1;

	if (profile == NULL) {
		set(fx, OUTCOME_NO_PROFILE, "device has no profile");
		return -1;
	}
	rc = db_profile_get(db, profile, &tmpl, &err);
	if (rc != DB_OK) {
		set(fx, rc == DB_NOTFOUND ? OUTCOME_NO_PROFILE
					  : OUTCOME_DB_ERROR,
		    "profile '%s': %s", profile, err ? err : "not found");
		goto out;
	}
	if (fleet_http_fw_vars(l, db, b->model, &fw, &err) < 0) {
		set(fx, OUTCOME_DB_ERROR, "%s", err ? err : "?");
		goto out;
	}
	b->firmware_target = fw.target;
	b->upgrade_rule = fw.rule;
	if (tmpl_render(tmpl, strlen(tmpl), tmpl_builtins_lookup, b, out, len,
			&err) < 0) {
		set(fx, OUTCOME_RENDER_ERROR, "profile '%s': %s", profile,
		    err ? err : "?");
		goto out;
	}
	ret = 0;
out:
	free(tmpl);
	free(err);
	return ret;
}

/* The device's profile, rendered as request.c renders it. */
static int render(struct listener *l, struct db *db,
		  const struct db_device *dev, const char *ua_firmware,
		  char **out, size_t *len, struct fleet_reply *fx)
{
	struct tmpl_builtins b = {
		.mac = dev->mac, .serial = dev->serial, .model = dev->model,
		.firmware = ua_firmware, .ca = l->ca,
		.listener = l->cl->name, .vars = dev->vars,
		.n_vars = dev->n_vars,
	};

	return fleet_http_render(l, db, dev->profile, &b, out, len, fx);
}

/* The device's state allows serving it: enabled and with a key. */
static int servable(struct db *db, const struct db_device *dev, char **key,
		    struct fleet_reply *fx)
{
	char *err = NULL;
	int rc;

	if (strcmp(dev->status, "disabled") == 0) {
		set(fx, OUTCOME_DISABLED, "%s", "");
		return 0;
	}
	if (strcmp(dev->status, "pending") == 0) {
		set(fx, OUTCOME_PENDING, "%s", "");
		return 0;
	}
	rc = db_device_key_get(db, dev->mac, key, &err);
	if (rc == DB_NOTFOUND)
		set(fx, OUTCOME_NO_KEY, "no key for an encrypted profile "
		    "(spaprovctl device key %s --generate)", dev->mac);
	else if (rc != DB_OK)
		set(fx, OUTCOME_DB_ERROR, "%s", err ? err : "?");
	free(err);
	return rc == DB_OK;
}

static void serve_encrypted(struct listener *l, struct db *db,
			    const struct fleet_http_in *in,
			    struct fleet_reply *fx)
{
	struct db_device *dev = NULL;
	char *key = NULL, *profile = NULL, *err = NULL;
	size_t plen = 0;
	int two, rc;

	if (!url_mac(in->url, fx->mac, &two)) {
		set(fx, OUTCOME_NO_URL_MAC, "%s", two
		    ? "the URL names two different MACs"
		    : "no MAC in the URL (Profile_Rule needs $MAU or $MA)");
		fx->mac[0] = '\0';
		return;
	}
	fx->trust = FLEET_TRUST_URL_MAC;
	if (db == NULL) {
		set(fx, OUTCOME_DB_ERROR, "no database connection");
		return;
	}
	rc = db_device_get(db, fx->mac, &dev, &err);
	if (rc == DB_NOTFOUND) {
		/* never recorded as pending: nothing proves it is a device */
		set(fx, OUTCOME_UNKNOWN, "%s", "");
		goto out;
	}
	if (rc != DB_OK) {
		set(fx, OUTCOME_DB_ERROR, "%s", err ? err : "?");
		goto out;
	}
	if (!servable(db, dev, &key, fx) ||
	    render(l, db, dev, in->ua_firmware, &profile, &plen, fx) < 0)
		goto out;
	if (fleet_enc_seal(key, profile, plen, &fx->body, &fx->len,
			   &err) < 0) {
		set(fx, OUTCOME_RENDER_ERROR, "encrypting: %s",
		    err ? err : "?");
		goto out;
	}
	fx->outcome = OUTCOME_OK_ENCRYPTED;
	fx->bytes = (long long)fx->len;
	snprintf(fx->detail, sizeof(fx->detail), "profile '%s', %zu bytes "
		 "before gzip", dev->profile, plen);
out:
	if (key != NULL)
		memset(key, 0, strlen(key));
	free(key);
	free(profile);
	free(err);
	db_device_free(dev);
}

void fleet_http_serve(struct listener *l, enum fleet_route route,
		      const struct fleet_http_in *in, struct fleet_reply *fx)
{
	switch (route) {
	case FLEET_ROUTE_FIRMWARE:
		serve_firmware(l, in, fx);
		break;
	case FLEET_ROUTE_REPORT:
		serve_report(l, server_thread_db(l->srv), in, fx);
		break;
	case FLEET_ROUTE_ENCRYPTED:
		serve_encrypted(l, server_thread_db(l->srv), in, fx);
		break;
	default:
		set(fx, OUTCOME_BAD_REQUEST, "internal error: no fleet route");
		break;
	}
}

enum MHD_Result fleet_http_respond(struct MHD_Connection *connection,
				   struct fleet_reply *fx)
{
	struct MHD_Response *resp = NULL;
	enum MHD_Result ret;

	if (fx->fd >= 0) {
		resp = MHD_create_response_from_fd64(fx->size, fx->fd);
		if (resp != NULL)
			fx->fd = -1; /* closed by libmicrohttpd */
	} else if (fx->body != NULL) {
		resp = MHD_create_response_from_buffer(fx->len, fx->body,
						       MHD_RESPMEM_MUST_FREE);
		if (resp != NULL)
			fx->body = NULL;
	} else {
		resp = MHD_create_response_from_buffer(
			7, (void *)"200 OK\n", MHD_RESPMEM_PERSISTENT);
	}
	fleet_reply_clear(fx);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				fx->outcome == OUTCOME_REPORT
					? "text/plain; charset=utf-8"
					: "application/octet-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	ret = MHD_queue_response(connection, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}
