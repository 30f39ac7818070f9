#include "config.h"

/* web-admin/api_history: the resync ledger and the audit trail.
 *   GET /api/v1/history?mac=&listener=&outcome=&status=&since=&until=
 *                       &before=ID&limit=N
 *   GET /api/v1/audit?before=ID&limit=N
 * Newest first; "next" is the `before` of the following page (null at
 * the end).  since/until take what `spaprovctl history` takes:
 * "2026-11-23", "2026-11-23T10:00", "2h", "7d", ... */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/admin.h"
#include "db/history.h"
#include "util/mac.h"
#include "web-admin/internal.h"

#define ADMIN_HISTORY_LIMIT 100
#define ADMIN_HISTORY_MAX_LIMIT 1000
#define ADMIN_MAX_FILTER 64

static long long int_arg(struct areq *r, const char *name, long long def,
			 long long max)
{
	const char *v = admin_arg(r, name);
	char *end;
	long long n;

	if (v == NULL)
		return def;
	n = strtoll(v, &end, 10);
	if (*end != '\0' || n < 0)
		return -1;
	return n > max ? max : n;
}

/* The id below the last row, or null when the page was not full. */
static json_t *next_of(json_t *rows, long long limit)
{
	json_t *last = json_array_get(rows, json_array_size(rows) - 1);

	if ((long long)json_array_size(rows) < limit || last == NULL)
		return json_null();
	return json_integer(json_integer_value(json_object_get(last, "id")));
}

static const char *text_arg(struct areq *r, const char *name, int *bad)
{
	const char *v = admin_arg(r, name);

	if (v != NULL && strlen(v) > ADMIN_MAX_FILTER)
		*bad = 1;
	return v;
}

static int time_arg(struct areq *r, const char *name, char out[32],
		    const char **field, char **err)
{
	const char *v = admin_arg(r, name);

	*field = NULL;
	if (v == NULL)
		return 0;
	if (db_time_arg(v, time(NULL), out, err) < 0)
		return -1;
	*field = out;
	return 0;
}

enum MHD_Result api_history(struct areq *r)
{
	struct db_admin_history_query q = { 0 };
	char mac[MAC_LEN + 1], since[32], until[32], *err = NULL;
	const char *m = admin_arg(r, "mac");
	json_t *rows;
	enum MHD_Result ret;
	int bad = 0;

	if (m != NULL && mac_normalize(m, mac) < 0)
		return admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "bad-mac",
					 "mac: not a MAC address");
	q.mac = m != NULL ? mac : NULL;
	q.listener = text_arg(r, "listener", &bad);
	q.outcome = text_arg(r, "outcome", &bad);
	q.status = (int)int_arg(r, "status", 0, 999);
	q.before_id = int_arg(r, "before", 0, 1LL << 62);
	q.limit = (int)int_arg(r, "limit", ADMIN_HISTORY_LIMIT,
			       ADMIN_HISTORY_MAX_LIMIT);
	if (bad || q.status < 0 || q.before_id < 0 || q.limit <= 0)
		return admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "bad-filter",
					 "invalid filter value");
	if (time_arg(r, "since", since, &q.since, &err) < 0 ||
	    time_arg(r, "until", until, &q.until, &err) < 0) {
		ret = admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "bad-time",
					"%s", err ? err : "invalid time");
		free(err);
		return ret;
	}
	rows = json_array();
	if (db_admin_history(r->db, &q, admin_row_to_array, rows, &err) < 0) {
		json_decref(rows);
		ret = admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					"database-error", "%s", err ? err : "?");
		free(err);
		return ret;
	}
	return admin_reply_json(r, MHD_HTTP_OK,
				json_pack("{s:o, s:o}", "next",
					  next_of(rows, q.limit), "rows", rows));
}

enum MHD_Result api_audit(struct areq *r)
{
	long long before = int_arg(r, "before", 0, 1LL << 62);
	long long limit = int_arg(r, "limit", ADMIN_HISTORY_LIMIT,
				  ADMIN_HISTORY_MAX_LIMIT);
	json_t *rows;
	char *err = NULL;
	enum MHD_Result ret;

	if (before < 0 || limit <= 0)
		return admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "bad-filter",
					 "invalid before or limit");
	rows = json_array();
	if (db_admin_audit_list(r->db, before, (int)limit, admin_row_to_array,
				rows, &err) < 0) {
		json_decref(rows);
		ret = admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					"database-error", "%s", err ? err : "?");
		free(err);
		return ret;
	}
	return admin_reply_json(r, MHD_HTTP_OK,
				json_pack("{s:o, s:o}", "next",
					  next_of(rows, limit), "rows", rows));
}
