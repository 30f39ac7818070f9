#include "config.h"

/* web-admin/api_fleet: the fleet panels of the dashboard.
 *
 *   GET /api/v1/fleet/misplaced?limit=N   phones on a listener of another
 *       CA than fleet/steer recommends, with the listener and the
 *       Profile_Rule that move them (as `spaprovctl device list
 *       --misplaced`)
 *   GET /api/v1/fleet/firmware?stuck_after=N   per model: the version
 *       histogram, the target, how many are behind it and how many are
 *       stuck (as `spaprovctl firmware report`)
 *   GET /api/v1/fleet/pins?range=24h|7d   recent pin mismatches
 *
 * The steering advice uses the configuration the admin listener holds a
 * reference on (admin_gen_hold). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/admin.h"
#include "db/device.h"
#include "db/fleet.h"
#include "fleet/steer.h"
#include "server/server.h"
#include "web-admin/internal.h"

#define ADMIN_MISPLACED_DEFAULT 100   /* rows of the misplaced list */
#define ADMIN_MISPLACED_MAX 1000
#define ADMIN_STUCK_DEFAULT 3         /* as `spaprovctl firmware report` */
#define ADMIN_STUCK_MAX 1000

static enum MHD_Result db_error(struct areq *r, char *err)
{
	enum MHD_Result ret;

	ret = admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				"database-error", "%s", err ? err : "?");
	free(err);
	return ret;
}

/* The advice for one device under the held generation g. */
static json_t *steer_json(const struct gen *g, const char *model,
			  const char *firmware, const char *last_ca)
{
	struct steer_advice a;
	char rule[STEER_MAX_RULE + 1];
	const char *why = NULL, *url = NULL;
	int misplaced;

	if (g == NULL)
		return json_null();
	misplaced = steer_misplaced(g->conf, model, firmware, last_ca, &a);
	if (a.listener != NULL)
		url = steer_profile_rule(g->hosts, a.listener->name, rule,
					 sizeof(rule), &why);
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:b, s:o}",
			 "family", admin_json_text(a.family),
			 "recommended_ca",
			 a.have_ca ? json_string(conf_ca_name(a.ca))
				   : json_null(),
			 "recommended_listener",
			 a.listener ? admin_json_text(a.listener->name)
				    : json_null(),
			 "profile_rule", admin_json_text(url),
			 "rule_problem", admin_json_text(url ? NULL : why),
			 "misplaced", misplaced,
			 "reason", admin_json_text(a.reason));
}

json_t *admin_steer_json(struct areq *r, const char *model,
			 const char *firmware, const char *last_ca)
{
	json_t *j = steer_json(admin_gen_hold(r->adm), model, firmware,
			       last_ca);

	admin_gen_done(r->adm);
	return j;
}

/* --- phones on the wrong listener ------------------------------------------ */

struct misplaced {
	const struct gen *g;
	json_t *rows;
	long long total, limit;
};

static int misplaced_row(void *ctx, const struct db_device_row *d)
{
	struct misplaced *m = ctx;
	json_t *s, *o;

	if (m->g == NULL || d->ca == NULL)
		return 0;
	s = steer_json(m->g, d->model, d->firmware, d->ca);
	if (!json_is_true(json_object_get(s, "misplaced"))) {
		json_decref(s);
		return 0;
	}
	if (m->total++ >= m->limit) {
		json_decref(s);
		return 0;
	}
	o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		      "mac", admin_json_text(d->mac),
		      "status", admin_json_text(d->status),
		      "model", admin_json_text(d->model),
		      "firmware", admin_json_text(d->firmware),
		      "description", admin_json_text(d->description),
		      "last_seen", admin_json_text(d->last_seen),
		      "listener", admin_json_text(d->listener),
		      "ca", admin_json_text(d->ca));
	json_object_update(o, s);
	json_decref(s);
	json_array_append_new(m->rows, o);
	return 0;
}

enum MHD_Result api_fleet_misplaced(struct areq *r)
{
	struct db_device_filter f = { .not_seen_days = -1 };
	struct misplaced m = { .rows = json_array() };
	long long matching = 0;
	char *err = NULL;
	int rc;

	m.limit = admin_num_arg(r, "limit", ADMIN_MISPLACED_DEFAULT, 1,
			  ADMIN_MISPLACED_MAX);
	f.limit = -1; /* the table is in C: every device is looked at */
	m.g = admin_gen_hold(r->adm);
	rc = db_device_list(r->db, &f, misplaced_row, &m, &matching, &err);
	admin_gen_done(r->adm);
	if (rc != DB_OK) {
		json_decref(m.rows);
		return db_error(r, err);
	}
	return admin_reply_json(r, MHD_HTTP_OK,
				json_pack("{s:I, s:I, s:o}", "total",
					  (json_int_t)m.total, "limit",
					  (json_int_t)m.limit, "devices",
					  m.rows));
}

/* --- firmware ------------------------------------------------------------ */

/* The entry of `model` in the array of models (case-insensitive, as the
 * targets), made if missing. */
static json_t *model_entry(json_t *models, const char *model)
{
	json_t *m;
	size_t i;

	json_array_foreach(models, i, m) {
		const char *name = json_string_value(json_object_get(m, "model"));

		if (name != NULL && model != NULL &&
		    strcasecmp(name, model) == 0)
			return m;
	}
	m = json_pack("{s:o, s:n, s:n, s:I, s:[], s:I, s:I}", "model",
		      admin_json_text(model), "target", "file", "devices",
		      (json_int_t)0, "versions", "behind", (json_int_t)0,
		      "stuck", (json_int_t)0);
	json_array_append_new(models, m);
	return m;
}

static const char *col(int ncols, const char *const *names,
		       const char *const *values, const char *name)
{
	for (int i = 0; i < ncols; i++)
		if (strcmp(names[i], name) == 0)
			return values[i];
	return NULL;
}

static int target_row(void *ctx, int ncols, const char *const *names,
		      const char *const *values)
{
	json_t *m = model_entry(ctx, col(ncols, names, values, "model"));

	json_object_set_new(m, "target", admin_json_text(col(ncols, names,
							     values,
							     "version")));
	json_object_set_new(m, "file", admin_json_text(col(ncols, names, values,
							   "file")));
	return 0;
}

static int census_row(void *ctx, int ncols, const char *const *names,
		      const char *const *values)
{
	json_t *m = model_entry(ctx, col(ncols, names, values, "model"));
	const char *n = col(ncols, names, values, "devices");
	json_int_t count = n ? strtoll(n, NULL, 10) : 0;

	json_array_append_new(json_object_get(m, "versions"),
			      json_pack("{s:o, s:I}", "firmware",
					admin_json_text(col(ncols, names,
							    values,
							    "firmware")),
					"devices", count));
	json_object_set_new(m, "devices",
			    json_integer(json_integer_value(
				    json_object_get(m, "devices")) + count));
	return 0;
}

struct behind {
	json_t *models, *rows;
	const char *key;         /* "behind" or "stuck" */
};

static int behind_row(void *ctx, int ncols, const char *const *names,
		      const char *const *values)
{
	struct behind *b = ctx;
	json_t *m = model_entry(b->models, col(ncols, names, values, "model"));

	json_object_set_new(m, b->key,
			    json_integer(json_integer_value(
				    json_object_get(m, b->key)) + 1));
	if (b->rows != NULL && json_array_size(b->rows) < 100)
		admin_row_to_array(b->rows, ncols, names, values);
	return 0;
}

enum MHD_Result api_fleet_firmware(struct areq *r)
{
	long long stuck = admin_num_arg(r, "stuck_after", ADMIN_STUCK_DEFAULT, 1,
				  ADMIN_STUCK_MAX);
	json_t *models = json_array(), *stuck_rows = json_array();
	struct behind behind = { models, NULL, "behind" };
	struct behind st = { models, stuck_rows, "stuck" };
	char *err = NULL;

	if (db_firmware_targets(r->db, target_row, models, &err) < 0 ||
	    db_firmware_census(r->db, census_row, models, &err) < 0 ||
	    db_firmware_behind(r->db, 0, behind_row, &behind, &err) < 0 ||
	    db_firmware_behind(r->db, stuck, behind_row, &st, &err) < 0) {
		json_decref(models);
		json_decref(stuck_rows);
		return db_error(r, err);
	}
	return admin_reply_json(r, MHD_HTTP_OK,
				json_pack("{s:I, s:o, s:o}", "stuck_after",
					  (json_int_t)stuck, "models", models,
					  "stuck_devices", stuck_rows));
}

/* --- pin mismatches ------------------------------------------------------- */

enum MHD_Result api_fleet_pins(struct areq *r)
{
	const char *range = admin_arg(r, "range");
	int week = range != NULL && strcmp(range, "7d") == 0;
	json_t *rows = json_array();
	char since[32], *err = NULL;

	admin_iso_time(time(NULL) - (week ? 7 : 1) * 86400, since);
	if (db_admin_dashboard(r->db, DB_ADMIN_DASH_PINS, since,
			       admin_row_to_array, rows, &err) < 0) {
		json_decref(rows);
		return db_error(r, err);
	}
	return admin_reply_json(r, MHD_HTTP_OK,
				json_pack("{s:s, s:s, s:o}", "range",
					  week ? "7d" : "24h", "since", since,
					  "mismatches", rows));
}
