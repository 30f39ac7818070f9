#include "config.h"

/* web-admin/api_profiles: profile templates.
 *   GET    /api/v1/profiles           names, sizes, devices using each
 *   GET    /api/v1/profiles/NAME      the template and its variables
 *   PUT    /api/v1/profiles/NAME      {"body": "..."}: store (checked)
 *   DELETE /api/v1/profiles/NAME      (?force=1 while devices use it)
 *   POST   /api/v1/profiles/preview   {"body", "mac"}: render for a device */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/profile.h"
#include "tmpl/tmpl.h"
#include "util/mac.h"
#include "web-admin/internal.h"

#define ADMIN_MAX_PROFILE_NAME 64

static int name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= ADMIN_MAX_PROFILE_NAME &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789._-") == n;
}

static int list_one(void *ctx, const struct db_profile_info *p)
{
	return json_array_append_new(
		ctx, json_pack("{s:o, s:o, s:I, s:I}", "name",
			       admin_json_text(p->name), "updated",
			       admin_json_text(p->updated), "devices",
			       (json_int_t)p->devices, "bytes",
			       (json_int_t)strlen(p->body)));
}

enum MHD_Result api_profiles_list(struct areq *r)
{
	json_t *a = json_array();
	char *err = NULL;
	enum MHD_Result ret;

	if (db_profile_list(r->db, list_one, a, &err) < 0) {
		json_decref(a);
		ret = admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					"database-error", "%s", err ? err : "?");
		free(err);
		return ret;
	}
	return admin_reply_json(r, MHD_HTTP_OK,
				json_pack("{s:o}", "profiles", a));
}

static void add_name(void *ctx, const char *name)
{
	json_array_append_new(ctx, admin_json_text(name));
}

enum MHD_Result api_profile_get(struct areq *r)
{
	char *body = NULL, *err = NULL;
	json_t *names = json_array();
	enum MHD_Result ret;
	int rc = db_profile_get(r->db, r->param, &body, &err);

	if (rc == DB_NOTFOUND) {
		ret = admin_reply_error(r, MHD_HTTP_NOT_FOUND, "not-found",
					"no such profile");
	} else if (rc != DB_OK) {
		ret = admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					"database-error", "%s", err ? err : "?");
	} else {
		/* a stored template with errors lists no names */
		if (tmpl_names(body, strlen(body), add_name, names, &err) < 0)
			json_array_clear(names);
		ret = admin_reply_json(r, MHD_HTTP_OK,
				       json_pack("{s:o, s:o, s:O}", "name",
						 admin_json_text(r->param),
						 "body", admin_json_text(body),
						 "variables", names));
	}
	json_decref(names);
	free(body);
	free(err);
	return ret;
}

static void ignore_name(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
}

/* The "body" member, checked as a template; replies on a problem. */
static const char *template_of(struct areq *r, json_t *j,
			       enum MHD_Result *ret)
{
	json_t *b = json_object_get(j, "body");
	char *err = NULL;

	if (!json_is_string(b) || json_string_length(b) > TMPL_MAX_SIZE ||
	    memchr(json_string_value(b), '\0', json_string_length(b))) {
		*ret = admin_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT,
					 "invalid", "body: expected the "
					 "template text");
		return NULL;
	}
	if (tmpl_names(json_string_value(b), json_string_length(b),
		       ignore_name, NULL, &err) < 0) {
		*ret = admin_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT,
					 "template", "%s", err ? err : "?");
		free(err);
		return NULL;
	}
	return json_string_value(b);
}

enum MHD_Result api_profile_put(struct areq *r)
{
	enum MHD_Result ret = MHD_NO;
	json_t *j;
	const char *body;
	char *err = NULL, detail[64];

	if (!name_ok(r->param))
		return admin_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT,
					 "invalid", "profile names are 1 to 64 "
					 "of A-Z a-z 0-9 . _ -");
	if ((j = admin_body_json(r, &ret)) == NULL)
		return ret;
	if ((body = template_of(r, j, &ret)) == NULL)
		goto out;
	if (db_profile_set(r->db, r->param, body, &err) != DB_OK) {
		ret = admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					"database-error", "%s", err ? err : "?");
		goto out;
	}
	snprintf(detail, sizeof(detail), "%zu bytes", strlen(body));
	admin_audit(r, "profile-edit", r->param, detail);
	ret = admin_reply_json(r, MHD_HTTP_OK,
			       json_pack("{s:o}", "name",
					 admin_json_text(r->param)));
out:
	free(err);
	json_decref(j);
	return ret;
}

enum MHD_Result api_profile_delete(struct areq *r)
{
	long long devices = 0;
	char *err = NULL;
	enum MHD_Result ret;
	int rc = db_profile_rm(r->db, r->param, admin_arg(r, "force") != NULL,
			       &devices, &err);

	if (rc == DB_OK) {
		admin_audit(r, "profile-delete", r->param, NULL);
		ret = admin_reply_json(r, MHD_HTTP_OK,
				       json_pack("{s:o, s:I}", "name",
						 admin_json_text(r->param),
						 "devices", (json_int_t)devices));
	} else if (rc == DB_NOTFOUND) {
		ret = admin_reply_error(r, MHD_HTTP_NOT_FOUND, "not-found",
					"no such profile");
	} else if (rc == DB_EXISTS) {
		ret = admin_reply_error(r, MHD_HTTP_CONFLICT, "in-use",
					"%lld devices use this profile",
					devices);
	} else {
		ret = admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					"database-error", "%s", err ? err : "?");
	}
	free(err);
	return ret;
}

enum MHD_Result api_profile_preview(struct areq *r)
{
	enum MHD_Result ret = MHD_NO;
	json_t *j = admin_body_json(r, &ret);
	const char *body, *macs;
	char mac[MAC_LEN + 1], *err = NULL, *out = NULL;
	struct db_device *dev = NULL;
	size_t len = 0;
	int rc, reveal;

	if (j == NULL)
		return ret;
	macs = json_string_value(json_object_get(j, "mac"));
	if (macs == NULL || mac_normalize(macs, mac) < 0) {
		ret = admin_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT,
					"bad-mac", "mac: not a MAC address");
		goto out;
	}
	if ((body = template_of(r, j, &ret)) == NULL)
		goto out;
	rc = db_device_get(r->db, mac, &dev, &err);
	if (rc != DB_OK) {
		ret = rc == DB_NOTFOUND
			      ? admin_reply_error(r, MHD_HTTP_NOT_FOUND,
						  "not-found", "no such device")
			      : admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
						  "database-error", "%s",
						  err ? err : "?");
		goto out;
	}
	reveal = json_is_true(json_object_get(j, "reveal"));
	if (reveal)
		admin_audit(r, "device-reveal", mac, "profile preview");
	rc = admin_render(r, dev, body, reveal, &out, &len, &err);
	ret = admin_reply_json(r, MHD_HTTP_OK,
			       json_pack("{s:o, s:o}", "output",
					 admin_json_text(rc == 0 ? out : NULL),
					 "error",
					 admin_json_text(rc == 0 ? NULL : err)));
out:
	free(out);
	free(err);
	db_device_free(dev);
	json_decref(j);
	return ret;
}
