#include "config.h"

/* web-admin/reply: every response, with the security headers; JSON in
 * and out; small helpers the handlers share. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/admin.h"
#include "util/log.h"
#include "web-admin/internal.h"

/* Scripts, styles, images and API calls from this origin only; no
 * inline script or style, no plugins, no framing, no <base> games. */
#define ADMIN_CSP                                                           \
	"default-src 'self'; script-src 'self'; style-src 'self'; "         \
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; "       \
	"object-src 'none'; base-uri 'none'; form-action 'self'; "          \
	"frame-ancestors 'none'"

static const struct {
	const char *name, *value;
} security_headers[] = {
	{ "Content-Security-Policy", ADMIN_CSP },
	{ "X-Content-Type-Options", "nosniff" },
	{ "Referrer-Policy", "no-referrer" },
	{ "X-Frame-Options", "DENY" },
	{ "Cross-Origin-Opener-Policy", "same-origin" },
	{ "Cross-Origin-Resource-Policy", "same-origin" },
	{ "Permissions-Policy", "camera=(), microphone=(), geolocation=()" },
};

enum MHD_Result admin_reply(struct areq *r, unsigned status,
			    const char *content_type, char *body, size_t len,
			    int must_free)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char num[24];

	resp = MHD_create_response_from_buffer(
		len, body, must_free ? MHD_RESPMEM_MUST_FREE
				     : MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	for (size_t i = 0; i < sizeof(security_headers) /
				       sizeof(security_headers[0]); i++)
		MHD_add_response_header(resp, security_headers[i].name,
					security_headers[i].value);
	if (r->adm->https)
		MHD_add_response_header(resp, "Strict-Transport-Security",
					"max-age=31536000");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				strncmp(r->url, "/api/", 5) == 0 || r->no_store
					? "no-store" : "no-cache");
	if (r->set_cookie != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE,
					r->set_cookie);
	if (r->retry_after > 0) {
		snprintf(num, sizeof(num), "%u", r->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, num);
	}
	if (r->disposition != NULL)
		MHD_add_response_header(resp,
					MHD_HTTP_HEADER_CONTENT_DISPOSITION,
					r->disposition);
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result admin_reply_json(struct areq *r, unsigned status, json_t *j)
{
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (text == NULL) {
		static char oom[] = "{\"error\":\"internal\"}";

		return admin_reply(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "application/json", oom, sizeof(oom) - 1,
				   0);
	}
	return admin_reply(r, status, "application/json", text, strlen(text),
			   1);
}

enum MHD_Result admin_reply_error(struct areq *r, unsigned status,
				  const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return admin_reply_json(r, status,
				json_pack("{s:s, s:o}", "error", code,
					  "message", admin_json_text(msg)));
}

/* Length of the valid UTF-8 sequence at s, 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

json_t *admin_json_text(const char *s)
{
	json_t *j;
	char *fixed, *o;
	size_t n;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	if (j != NULL)
		return j;
	/* not UTF-8: each bad byte becomes U+FFFD (3 bytes) */
	fixed = malloc(strlen(s) * 3 + 1);
	if (fixed == NULL)
		return json_null();
	for (o = fixed; *s != '\0'; s += n) {
		n = utf8_len((const unsigned char *)s);
		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		} else {
			memcpy(o, s, n);
			o += n;
		}
	}
	*o = '\0';
	j = json_string(fixed);
	free(fixed);
	return j != NULL ? j : json_null();
}

json_t *admin_body_json(struct areq *r, enum MHD_Result *ret)
{
	const char *ct = MHD_lookup_connection_value(
		r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	json_error_t e;
	json_t *j;

	/* a cross-site form cannot send application/json */
	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0) {
		*ret = admin_reply_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
					 "content-type",
					 "send Content-Type: application/json");
		return NULL;
	}
	if (r->body_len > ADMIN_MAX_JSON) {
		*ret = admin_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
					 "body-too-large",
					 "JSON body larger than %u bytes",
					 ADMIN_MAX_JSON);
		return NULL;
	}
	j = json_loadb(r->body != NULL ? r->body : "", r->body_len,
		       JSON_REJECT_DUPLICATES, &e);
	if (j == NULL || !json_is_object(j)) {
		*ret = admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "bad-json",
					 "expected a JSON object: %s",
					 j == NULL ? e.text : "not an object");
		json_decref(j);
		return NULL;
	}
	return j;
}

const char *admin_arg(struct areq *r, const char *name)
{
	const char *v = MHD_lookup_connection_value(
		r->conn, MHD_GET_ARGUMENT_KIND, name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

long long admin_num_arg(struct areq *r, const char *name, long long def,
			long long min, long long max)
{
	const char *v = admin_arg(r, name);
	char *end;
	long long n;

	if (v == NULL)
		return def;
	n = strtoll(v, &end, 10);
	if (*end != '\0' || n < min)
		return def;
	return n > max ? max : n;
}

/* Columns that are numbers in every query the API passes on. */
static const char *const int_columns[] = {
	"id", "status", "bytes", "resyncs", "ok", "devices", "vars",
	"requests", "addresses", "failures", "tokens", "sessions",
	"downloads",
};

static json_t *column_value(const char *name, const char *v)
{
	char *end;

	if (v == NULL)
		return json_null();
	if (strcmp(name, "duration_ms") == 0)
		return json_real(strtod(v, NULL));
	for (size_t i = 0; i < sizeof(int_columns) / sizeof(int_columns[0]);
	     i++) {
		if (strcmp(name, int_columns[i]) == 0) {
			long long n = strtoll(v, &end, 10);

			/* devices.status is text: keep non-numbers as text */
			if (*v != '\0' && *end == '\0')
				return json_integer(n);
			break;
		}
	}
	return admin_json_text(v);
}

int admin_row_to_array(void *ctx, int ncols, const char *const *names,
		       const char *const *values)
{
	json_t *o = json_object();

	if (o == NULL)
		return -1;
	for (int i = 0; i < ncols; i++)
		json_object_set_new(o, names[i],
				    column_value(names[i], values[i]));
	return json_array_append_new(ctx, o) == 0 ? 0 : -1;
}

void admin_iso_time(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

time_t admin_parse_iso(const char *s)
{
	struct tm tm = { 0 };
	int n = 0;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year,
				&tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
				&tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
		return (time_t)-1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

void admin_audit(struct areq *r, const char *action, const char *target,
		 const char *detail)
{
	char *err = NULL;

	if (db_admin_audit(r->db, r->account[0] ? r->account : NULL,
			   r->remote, action, target, detail, &err) != DB_OK) {
		log_error("msg=\"cannot record audit entry\" action=%s "
			  "error=\"%s\"", action, err ? err : "?");
		free(err);
	}
}
