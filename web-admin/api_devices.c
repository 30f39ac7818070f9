#include "config.h"

/* web-admin/api_devices: the inventory.
 *   GET    /api/v1/devices             search, filter, sort, page
 *   POST   /api/v1/devices             add
 *   GET    /api/v1/devices/MAC         one device (?reveal=1: secrets)
 *   PATCH  /api/v1/devices/MAC         change profile, description, vars
 *   DELETE /api/v1/devices/MAC
 *   POST   /api/v1/devices/MAC/enable | disable | approve
 *   GET    /api/v1/devices/MAC/profile the profile as the phone gets it */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/admin.h"
#include "db/db.h"
#include "db/device.h"
#include "db/pin.h"
#include "tmpl/builtins.h"
#include "tmpl/tmpl.h"
#include "util/mac.h"
#include "util/str.h"
#include "web-admin/internal.h"

#define ADMIN_MAX_DESCRIPTION 1024
#define ADMIN_MAX_PROFILE_NAME 64
#define ADMIN_MAX_PER_PAGE 500
#define ADMIN_MAX_SEARCH 256
#define ADMIN_MAX_NOT_SEEN_DAYS 36500

/* The MAC in the path, normalised; replies 400 when it is not one. */
static int path_mac(struct areq *r, char mac[MAC_LEN + 1],
		    enum MHD_Result *ret)
{
	if (mac_normalize(r->param, mac) == 0)
		return 0;
	*ret = admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "bad-mac",
				 "not a MAC address");
	return -1;
}

static enum MHD_Result db_failure(struct areq *r, int rc, const char *err,
				  const char *what)
{
	switch (rc) {
	case DB_NOTFOUND:
		return admin_reply_error(r, MHD_HTTP_NOT_FOUND, "not-found",
					 "%s", err ? err : what);
	case DB_EXISTS:
		return admin_reply_error(r, MHD_HTTP_CONFLICT, "exists", "%s",
					 err ? err : what);
	case DB_INVALID:
		return admin_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT,
					 "invalid", "%s", err ? err : what);
	default:
		return admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					 "database-error", "%s",
					 err ? err : what);
	}
}

/* --- the list --------------------------------------------------------------- */

static const char *const sort_names[DB_ADMIN_SORT__COUNT] = {
	"mac", "status", "model", "firmware", "profile", "description",
	"last_seen",
};

/* "0e08", "00:0e:08", "0e-08-ab" -> hex digits, or "" if q is not that. */
static void mac_fragment(const char *q, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	if (q[strspn(q, "0123456789abcdefABCDEF:.-")] != '\0')
		return;
	for (; *q != '\0' && n + 1 < size; q++)
		if (isxdigit((unsigned char)*q))
			out[n++] = (char)tolower((unsigned char)*q);
	out[n] = '\0';
	if (n < 2)
		out[0] = '\0';
}

static void list_query(struct areq *r, struct db_admin_device_query *q,
		       char *mac, char *frag, char *since)
{
	const char *s = admin_arg(r, "q"), *sort = admin_arg(r, "sort");
	long long days = admin_num_arg(r, "not_seen_days", -1, 0,
				 ADMIN_MAX_NOT_SEEN_DAYS);

	q->status = admin_arg(r, "status");
	q->profile = admin_arg(r, "profile");
	q->model = admin_arg(r, "model");
	q->firmware = admin_arg(r, "firmware");
	if (s != NULL && strlen(s) <= ADMIN_MAX_SEARCH) {
		if (mac_normalize(s, mac) == 0) {
			q->mac = mac;
		} else {
			mac_fragment(s, frag, MAC_LEN + 1);
			q->mac_part = frag[0] ? frag : NULL;
			q->text = s;
		}
	}
	if (days >= 0) {
		admin_iso_time(time(NULL) - (time_t)days * 86400, since);
		q->not_seen_since = since;
	}
	for (int i = 0; sort != NULL && i < DB_ADMIN_SORT__COUNT; i++)
		if (strcmp(sort, sort_names[i]) == 0)
			q->sort = (enum db_admin_sort)i;
	q->descending = admin_arg(r, "order") != NULL &&
			strcmp(admin_arg(r, "order"), "desc") == 0;
}

enum MHD_Result api_devices_list(struct areq *r)
{
	struct db_admin_device_query q = { 0 };
	char mac[MAC_LEN + 1], frag[MAC_LEN + 1], since[32], *err = NULL;
	long long total = 0, page, per_page;
	json_t *rows = json_array();
	enum MHD_Result ret;

	list_query(r, &q, mac, frag, since);
	per_page = admin_num_arg(r, "per_page", 50, 1, ADMIN_MAX_PER_PAGE);
	page = admin_num_arg(r, "page", 1, 1, 1000000000);
	q.limit = per_page;
	q.offset = (page - 1) * per_page;
	if (db_admin_device_page(r->db, &q, admin_row_to_array, rows, &total,
				 &err) < 0) {
		json_decref(rows);
		ret = db_failure(r, DB_ERROR, err, "cannot list devices");
		free(err);
		return ret;
	}
	return admin_reply_json(
		r, MHD_HTTP_OK,
		json_pack("{s:I, s:I, s:I, s:s, s:s, s:o}", "total",
			  (json_int_t)total, "page", (json_int_t)page,
			  "per_page", (json_int_t)per_page, "sort",
			  sort_names[q.sort], "order",
			  q.descending ? "desc" : "asc", "devices", rows));
}

/* --- one device --------------------------------------------------------------- */

static json_t *vars_json(const struct db_device *dev, int reveal)
{
	json_t *a = json_array();

	for (size_t i = 0; i < dev->n_vars; i++) {
		int secret = admin_var_is_secret(dev->vars[i].name);

		json_array_append_new(
			a, json_pack("{s:o, s:o, s:b}", "name",
				     admin_json_text(dev->vars[i].name),
				     "value",
				     secret && !reveal
					     ? json_null()
					     : admin_json_text(dev->vars[i].value),
				     "secret", secret));
	}
	return a;
}

static json_t *last_resync_json(struct areq *r, const char *mac)
{
	struct db_last_resync lr = { 0 };
	char *err = NULL;
	json_t *j;

	if (db_device_last_resync(r->db, mac, &lr, &err) != DB_OK) {
		free(err);
		return json_null();
	}
	j = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i}",
		      "ts", admin_json_text(lr.ts),
		      "listener", admin_json_text(lr.listener),
		      "ca", admin_json_text(lr.ca),
		      "remote_addr", admin_json_text(lr.remote_addr),
		      "tls_version", admin_json_text(lr.tls_version),
		      "cipher", admin_json_text(lr.cipher),
		      "outcome", admin_json_text(lr.outcome),
		      "detail", admin_json_text(lr.detail),
		      "user_agent", admin_json_text(lr.user_agent),
		      "status", lr.status);
	db_last_resync_clear(&lr);
	return j;
}

/* The pinned certificate, or null. */
static json_t *pin_json(struct areq *r, const char *mac)
{
	struct db_pin p = { 0 };
	char *err = NULL;
	json_t *j;

	if (db_pin_get(r->db, mac, &p, &err) != DB_OK) {
		free(err);
		return json_null();
	}
	j = json_pack("{s:o, s:o, s:o, s:o, s:o}",
		      "fingerprint", admin_json_text(p.fingerprint),
		      "serial", admin_json_text(p.cert_serial),
		      "issuer", admin_json_text(p.issuer),
		      "first_seen", admin_json_text(p.first_seen),
		      "pinned_by", admin_json_text(p.pinned_by));
	db_pin_clear(&p);
	return j;
}

static json_t *device_json(struct areq *r, const struct db_device *d,
			   int reveal)
{
	json_t *last = last_resync_json(r, d->mac);

	return json_pack(
		"{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
		" s:o, s:o, s:o, s:o, s:o}",
		"mac", d->mac, "status", d->status,
		"profile", admin_json_text(d->profile),
		"description", admin_json_text(d->description),
		"model", admin_json_text(d->model),
		"serial", admin_json_text(d->serial),
		"firmware", admin_json_text(d->firmware),
		"cert_subject", admin_json_text(d->cert_subject),
		"cert_issuer", admin_json_text(d->cert_issuer),
		"created", admin_json_text(d->created),
		"updated", admin_json_text(d->updated),
		"last_seen", admin_json_text(d->last_seen),
		"vars", vars_json(d, reveal),
		"last_resync", last,
		"secrets_shown", json_boolean(reveal),
		"pin", pin_json(r, d->mac),
		"steer", admin_steer_json(r, d->model, d->firmware,
					  json_string_value(json_object_get(
						  last, "ca"))));
}

enum MHD_Result api_device_get(struct areq *r)
{
	char mac[MAC_LEN + 1], *err = NULL;
	struct db_device *dev = NULL;
	enum MHD_Result ret;
	int rc, reveal = admin_arg(r, "reveal") != NULL;

	if (path_mac(r, mac, &ret) < 0)
		return ret;
	rc = db_device_get(r->db, mac, &dev, &err);
	if (rc != DB_OK) {
		ret = db_failure(r, rc, err, "no such device");
		free(err);
		return ret;
	}
	if (reveal)
		admin_audit(r, "device-reveal", mac, "secret variables shown");
	ret = admin_reply_json(r, MHD_HTTP_OK, device_json(r, dev, reveal));
	db_device_free(dev);
	return ret;
}

/* --- changes --------------------------------------------------------------- */

/* Checks shared by add and edit; replies and returns -1 on a problem. */
static int check_text(struct areq *r, json_t *body, const char *key,
		      size_t max, const char **out, enum MHD_Result *ret)
{
	json_t *v = json_object_get(body, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    memchr(json_string_value(v), '\0', json_string_length(v))) {
		*ret = admin_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT,
					 "invalid", "%s: expected text of at "
					 "most %zu bytes", key, max);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* {"name": "value", ...} into vars (borrowed strings). */
static int check_vars(struct areq *r, json_t *obj, struct db_var *vars,
		      size_t *n, enum MHD_Result *ret)
{
	const char *name;
	json_t *v;

	*n = 0;
	if (obj == NULL)
		return 0;
	if (!json_is_object(obj) || json_object_size(obj) > DB_MAX_VARS)
		goto bad;
	json_object_foreach(obj, name, v) {
		if (!tmpl_name_valid(name) || tmpl_is_builtin(name)) {
			*ret = admin_reply_error(
				r, MHD_HTTP_UNPROCESSABLE_CONTENT, "invalid",
				"variable '%.64s': %s", name,
				tmpl_is_builtin(name) ? "reserved built-in name"
						      : "invalid name");
			return -1;
		}
		if (!json_is_string(v) || json_string_length(v) > DB_MAX_VALUE)
			goto bad;
		vars[*n].name = (char *)name;
		vars[*n].value = (char *)json_string_value(v);
		(*n)++;
	}
	return 0;
bad:
	*ret = admin_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "invalid",
				 "vars: expected at most %d names with text "
				 "values of at most %d bytes", DB_MAX_VARS,
				 DB_MAX_VALUE);
	return -1;
}

enum MHD_Result api_device_add(struct areq *r)
{
	enum MHD_Result ret = MHD_NO;
	json_t *body = admin_body_json(r, &ret);
	struct db_var vars[DB_MAX_VARS];
	const char *macs, *profile, *desc;
	char mac[MAC_LEN + 1], *err = NULL;
	size_t n = 0;
	int rc;

	if (body == NULL)
		return ret;
	macs = json_string_value(json_object_get(body, "mac"));
	if (macs == NULL || mac_normalize(macs, mac) < 0) {
		ret = admin_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT,
					"bad-mac", "mac: not a MAC address");
		goto out;
	}
	if (check_text(r, body, "profile", ADMIN_MAX_PROFILE_NAME, &profile,
		       &ret) < 0 ||
	    check_text(r, body, "description", ADMIN_MAX_DESCRIPTION, &desc,
		       &ret) < 0 ||
	    check_vars(r, json_object_get(body, "vars"), vars, &n, &ret) < 0)
		goto out;
	rc = db_device_add(r->db, mac, profile, desc, vars, n, &err);
	if (rc != DB_OK) {
		ret = db_failure(r, rc, err, "cannot add device");
		goto out;
	}
	admin_audit(r, "device-add", mac, profile ? profile : NULL);
	ret = admin_reply_json(r, MHD_HTTP_CREATED,
			       json_pack("{s:s}", "mac", mac));
out:
	free(err);
	json_decref(body);
	return ret;
}

/* "unset": ["name", ...] */
static int check_unset(struct areq *r, json_t *a, const char **names,
		       size_t *n, enum MHD_Result *ret)
{
	size_t i;
	json_t *v;

	*n = 0;
	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > DB_MAX_VARS)
		goto bad;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || !tmpl_name_valid(json_string_value(v)))
			goto bad;
		names[(*n)++] = json_string_value(v);
	}
	return 0;
bad:
	*ret = admin_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "invalid",
				 "unset: expected a list of variable names");
	return -1;
}

/* What changed, for the audit trail: names only, never values. */
static char *change_summary(const struct db_device_change *c)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (f == NULL)
		return NULL;
	if (c->profile != NULL)
		fprintf(f, "profile=%s ", c->profile);
	if (c->clear_profile)
		fputs("profile=(none) ", f);
	if (c->description != NULL)
		fputs("description ", f);
	for (size_t i = 0; i < c->n_set; i++)
		fprintf(f, "set:%s ", c->set[i].name);
	for (size_t i = 0; i < c->n_unset; i++)
		fprintf(f, "unset:%s ", c->unset[i]);
	fclose(f);
	if (len > 0)
		s[len - 1] = '\0';
	return s;
}

enum MHD_Result api_device_edit(struct areq *r)
{
	enum MHD_Result ret = MHD_NO;
	json_t *body;
	struct db_var vars[DB_MAX_VARS];
	const char *unset[DB_MAX_VARS];
	struct db_device_change c = { 0 };
	char mac[MAC_LEN + 1], *err = NULL, *summary = NULL;
	json_t *p;
	int rc;

	if (path_mac(r, mac, &ret) < 0 || (body = admin_body_json(r, &ret)) ==
						  NULL)
		return ret;
	p = json_object_get(body, "profile");
	c.clear_profile = p != NULL && json_is_null(p);
	if (check_text(r, body, "profile", ADMIN_MAX_PROFILE_NAME, &c.profile,
		       &ret) < 0 ||
	    check_text(r, body, "description", ADMIN_MAX_DESCRIPTION,
		       &c.description, &ret) < 0 ||
	    check_vars(r, json_object_get(body, "vars"), vars, &c.n_set,
		       &ret) < 0 ||
	    check_unset(r, json_object_get(body, "unset"), unset, &c.n_unset,
			&ret) < 0)
		goto out;
	if (c.profile != NULL && c.profile[0] == '\0') {
		c.profile = NULL;
		c.clear_profile = 1;
	}
	c.set = vars;
	c.unset = unset;
	rc = db_device_update(r->db, mac, &c, &err);
	if (rc != DB_OK) {
		ret = db_failure(r, rc, err, "no such device");
		goto out;
	}
	summary = change_summary(&c);
	admin_audit(r, "device-edit", mac, summary);
	ret = admin_reply_json(r, MHD_HTTP_OK, json_pack("{s:s}", "mac", mac));
out:
	free(summary);
	free(err);
	json_decref(body);
	return ret;
}

enum MHD_Result api_device_delete(struct areq *r)
{
	char mac[MAC_LEN + 1], *err = NULL;
	enum MHD_Result ret;
	size_t n_vars = 0;
	int rc;

	if (path_mac(r, mac, &ret) < 0)
		return ret;
	rc = db_device_remove(r->db, mac, &n_vars, &err);
	if (rc != DB_OK) {
		ret = db_failure(r, rc, err, "no such device");
		free(err);
		return ret;
	}
	admin_audit(r, "device-delete", mac, NULL);
	return admin_reply_json(r, MHD_HTTP_OK,
				json_pack("{s:s, s:I}", "mac", mac, "vars",
					  (json_int_t)n_vars));
}

/* Move the device to `status` from one of `from`. */
static enum MHD_Result set_status(struct areq *r, const char *status,
				  unsigned from, const char *action)
{
	char mac[MAC_LEN + 1], prev[DB_STATUS_LEN] = "", *err = NULL;
	enum MHD_Result ret;
	int rc;

	if (path_mac(r, mac, &ret) < 0)
		return ret;
	rc = db_device_set_status(r->db, mac, status, from, NULL, prev, &err);
	if (rc == DB_INVALID) {
		ret = admin_reply_error(r, MHD_HTTP_CONFLICT, "wrong-status",
					"device is %s", prev);
	} else if (rc != DB_OK) {
		ret = db_failure(r, rc, err, "no such device");
	} else {
		if (strcmp(prev, status) != 0)
			admin_audit(r, action, mac, prev);
		ret = admin_reply_json(r, MHD_HTTP_OK,
				       json_pack("{s:s, s:s, s:s}", "mac", mac,
						 "status", status, "was", prev));
	}
	free(err);
	return ret;
}

enum MHD_Result api_device_enable(struct areq *r)
{
	return set_status(r, "enabled", DB_STATUS_ENABLED | DB_STATUS_DISABLED,
			  "device-enable");
}

enum MHD_Result api_device_disable(struct areq *r)
{
	return set_status(r, "disabled", DB_STATUS_ANY, "device-disable");
}

enum MHD_Result api_device_approve(struct areq *r)
{
	return set_status(r, "enabled", DB_STATUS_PENDING | DB_STATUS_ENABLED,
			  "device-approve");
}

/* POST .../repin: forget the pinned certificate (as `spaprovctl device
 * repin`); the next verified one is pinned. */
enum MHD_Result api_device_repin(struct areq *r)
{
	char mac[MAC_LEN + 1], *err = NULL;
	enum MHD_Result ret;
	struct db_pin old = { 0 };
	char *olderr = NULL;
	int rc, had = 0;

	if (path_mac(r, mac, &ret) < 0)
		return ret;
	if (db_pin_get(r->db, mac, &old, &olderr) != DB_OK)
		free(olderr);
	rc = db_pin_remove(r->db, mac, &had, &err);
	if (rc != DB_OK) {
		ret = db_failure(r, rc, err, "no such device");
	} else {
		if (had) {
			char *detail = str_printf("pin %s removed",
						  old.fingerprint
						  ? old.fingerprint : "?");

			admin_audit(r, "device-repin", mac,
				    detail ? detail : "pin removed");
			free(detail);
		}
		ret = admin_reply_json(r, MHD_HTTP_OK,
				       json_pack("{s:s, s:b}", "mac", mac,
						 "had_pin", had));
	}
	db_pin_clear(&old);
	free(err);
	return ret;
}

enum MHD_Result api_device_profile(struct areq *r)
{
	char mac[MAC_LEN + 1], *err = NULL, *tmpl = NULL, *out = NULL;
	struct db_device *dev = NULL;
	enum MHD_Result ret;
	size_t len = 0;
	int rc;

	if (path_mac(r, mac, &ret) < 0)
		return ret;
	rc = db_device_get(r->db, mac, &dev, &err);
	if (rc != DB_OK) {
		ret = db_failure(r, rc, err, "no such device");
		goto out;
	}
	if (dev->profile == NULL) {
		ret = admin_reply_json(r, MHD_HTTP_OK,
				       json_pack("{s:n, s:n, s:s}", "profile",
						 "output", "error",
						 "The device has no profile: "
						 "the phone gets 404."));
		goto out;
	}
	rc = db_profile_get(r->db, dev->profile, &tmpl, &err);
	if (rc == DB_OK)
		rc = admin_render(r, dev, tmpl,
				  admin_arg(r, "reveal") != NULL, &out, &len,
				  &err) == 0 ? DB_OK : DB_INVALID;
	if (rc == DB_ERROR) {
		ret = db_failure(r, rc, err, "cannot read profile");
		goto out;
	}
	if (admin_arg(r, "reveal") != NULL)
		admin_audit(r, "device-reveal", mac, "profile with secrets");
	ret = admin_reply_json(
		r, MHD_HTTP_OK,
		json_pack("{s:o, s:o, s:o}", "profile",
			  admin_json_text(dev->profile), "output",
			  admin_json_text(out), "error",
			  rc == DB_NOTFOUND
				  ? admin_json_text("The profile does not "
						    "exist: the phone gets 404.")
				  : admin_json_text(err)));
out:
	free(out);
	free(tmpl);
	free(err);
	db_device_free(dev);
	return ret;
}
