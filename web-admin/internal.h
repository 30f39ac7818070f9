/* web-admin internals: the request, the route table, replies, and the
 * handlers of each endpoint family (one file each). */
#ifndef SPAPROV_WEB_ADMIN_INTERNAL_H
#define SPAPROV_WEB_ADMIN_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "web-admin/secret.h"

#define ADMIN_MAX_BODY (16u << 20)   /* request body (CSV import), bytes */
#define ADMIN_MAX_JSON (5u << 20)    /* JSON request body, bytes */
#define ADMIN_MAX_URL 2048           /* request path, bytes */
#define ADMIN_MAX_PARAM 128          /* the path segment a route captures */
#define ADMIN_MAX_ASSET (4u << 20)   /* a front-end file, bytes */
#define ADMIN_THREADS 4
#define ADMIN_CONNECTION_LIMIT 256
#define ADMIN_CONNECTION_TIMEOUT 60  /* idle seconds */
#define ADMIN_HEALTH_WAIT_MS 250     /* /healthz: longest wait for the
				      * database's write lock */
#define ADMIN_HEALTH_CACHE_MS 1000   /* /healthz: a check is reused this
				      * long (it takes the write lock) */

struct server;
struct db;

/* The admin listener (one per spaprovd).  What it needs of the [admin]
 * section is copied here: a reload replaces the configuration. */
struct admin {
	struct server *srv;
	struct MHD_Daemon *mhd;
	int fd;                      /* listening socket, -1 before bind */
	unsigned port;               /* the bound port */
	int ipv6, https;
	char *address;
	unsigned session_timeout;    /* seconds */
	char *cert_pem, *key_pem;
	char *assets;                /* front-end directory */
	pthread_mutex_t lock;        /* for listeners */
	json_t *listeners;           /* facts about the provisioning listeners */
	/* The configuration the steering advice is computed with: a
	 * reference on the server's current generation, taken and dropped
	 * by the main thread (admin_reloaded, admin_stop) under the write
	 * lock; request threads read it under the read lock. */
	pthread_rwlock_t gen_lock;
	struct gen *gen;
	time_t started;              /* for process_start_time_seconds */
	/* the last database check of /healthz (ops.c) */
	pthread_mutex_t health_lock;
	struct timespec health_at;   /* CLOCK_MONOTONIC; 0: never */
	char *health_err;            /* NULL: writable */
};

/* A copy of adm->listeners, taken under its lock. */
json_t *admin_listeners_copy(struct admin *adm);

/* The configuration (and where phones reach its listeners) for steering
 * advice: NULL when there is none.  Pair each admin_gen_hold() with
 * admin_gen_done(), and do not keep the pointers after it. */
struct gen;
const struct gen *admin_gen_hold(struct admin *adm);
void admin_gen_done(struct admin *adm);

/* One request. */
struct areq {
	struct admin *adm;
	struct MHD_Connection *conn;
	const char *method, *url;
	char remote[64];
	char *body;                  /* NUL-terminated */
	size_t body_len;
	int too_large;
	char param[ADMIN_MAX_PARAM + 1]; /* the route's '*' segment */
	struct db *db;               /* this thread's connection */
	/* who: set by admin_authenticate() */
	char account[ADMIN_NAME_MAX + 1];
	char csrf[ADMIN_HEX_LEN + 1];
	char session_hash[ADMIN_HEX_LEN + 1];
	int via_token;
	/* extra response headers */
	char *set_cookie;
	unsigned retry_after;        /* seconds, 0 = none */
	const char *disposition;     /* Content-Disposition */
	int no_store;                /* Cache-Control: no-store */
};

typedef enum MHD_Result (*admin_handler)(struct areq *r);

enum admin_route_flags {
	ROUTE_PUBLIC = 1,            /* no login needed */
	ROUTE_NO_DB = 2,             /* the handler opens the database
				      * itself, if it needs it */
};

struct admin_route {
	const char *method;
	const char *pattern;         /* "/api/v1/devices/ * /enable": '*' is
				      * one path segment, into r->param */
	admin_handler handler;
	unsigned flags;
};

/* routes.c: the route for method + path; NULL with *wrong_method set when
 * the path is known but not with this method. */
const struct admin_route *admin_route_find(const char *method,
					   const char *path, char *param,
					   int *wrong_method);

/* reply.c: every response goes through admin_reply(), which adds the
 * security headers.  body is freed (must_free) or static. */
enum MHD_Result admin_reply(struct areq *r, unsigned status,
			    const char *content_type, char *body, size_t len,
			    int must_free);
/* Steals j. */
enum MHD_Result admin_reply_json(struct areq *r, unsigned status, json_t *j);
enum MHD_Result admin_reply_error(struct areq *r, unsigned status,
				  const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A JSON string for text from the network or the database: bytes that
 * are not UTF-8 become U+FFFD; NULL becomes null. */
json_t *admin_json_text(const char *s);
/* The request body as a JSON object, or NULL after replying 400/415. */
json_t *admin_body_json(struct areq *r, enum MHD_Result *ret);
/* A query argument, or NULL. */
const char *admin_arg(struct areq *r, const char *name);
/* A decimal query argument: def when absent, malformed or below min;
 * at most max. */
long long admin_num_arg(struct areq *r, const char *name, long long def,
			long long min, long long max);
/* db row callback: appends {name: value} to the json_t array ctx; the
 * columns named in admin_int_columns become numbers. */
int admin_row_to_array(void *ctx, int ncols, const char *const *names,
		       const char *const *values);

/* "2026-11-23T15:04:05.000Z" for t (+ ms 0), and back (-1 if invalid). */
void admin_iso_time(time_t t, char out[32]);
time_t admin_parse_iso(const char *s);

/* Record an audit entry for the request's account (logs on failure). */
void admin_audit(struct areq *r, const char *action, const char *target,
		 const char *detail);

/* auth.c */
/* Who sent the request: a session cookie or an API token.  0 when
 * authenticated (r->account set), -1 when not. */
int admin_authenticate(struct areq *r);
/* 1 when a state-changing request carries the session's CSRF token (or
 * came with an API token), else 0. */
int admin_csrf_ok(struct areq *r);

/* session.c */
const char *admin_cookie_name(const struct admin *adm);
/* A new session for account: sets r->set_cookie, r->csrf.  0 or -1. */
int admin_session_start(struct areq *r, const char *account,
			char expires[32]);
/* The session named by the request's cookie, if valid: fills r.  0/-1. */
int admin_session_find(struct areq *r);
/* Ends r's session (if any) and sets an expired cookie. */
void admin_session_end(struct areq *r);

/* static.c: a file of the front end. */
enum MHD_Result admin_static(struct areq *r);

/* Handlers (one file per family). */
/* ops.c: GET /healthz and GET /metrics (public, see README.md). */
enum MHD_Result api_healthz(struct areq *r);
enum MHD_Result api_metrics(struct areq *r);

enum MHD_Result api_session_get(struct areq *r);
enum MHD_Result api_login(struct areq *r);
enum MHD_Result api_logout(struct areq *r);

enum MHD_Result api_dashboard(struct areq *r);

enum MHD_Result api_devices_list(struct areq *r);
enum MHD_Result api_device_add(struct areq *r);
enum MHD_Result api_device_get(struct areq *r);
enum MHD_Result api_device_edit(struct areq *r);
enum MHD_Result api_device_delete(struct areq *r);
enum MHD_Result api_device_enable(struct areq *r);
enum MHD_Result api_device_disable(struct areq *r);
enum MHD_Result api_device_approve(struct areq *r);
enum MHD_Result api_device_profile(struct areq *r);
enum MHD_Result api_device_repin(struct areq *r);

/* api_fleet.c: the fleet panels of the dashboard (fleet/steer.h,
 * db/fleet.h, db/pin.h). */
enum MHD_Result api_fleet_misplaced(struct areq *r);
enum MHD_Result api_fleet_firmware(struct areq *r);
enum MHD_Result api_fleet_pins(struct areq *r);
/* {recommended_ca, recommended_listener, profile_rule, misplaced, reason}
 * of a device (NULL model: unknown). */
struct db_device;
json_t *admin_steer_json(struct areq *r, const char *model,
			 const char *firmware, const char *last_ca);

enum MHD_Result api_devices_import(struct areq *r);
enum MHD_Result api_devices_export(struct areq *r);

enum MHD_Result api_history(struct areq *r);
enum MHD_Result api_audit(struct areq *r);

enum MHD_Result api_profiles_list(struct areq *r);
enum MHD_Result api_profile_get(struct areq *r);
enum MHD_Result api_profile_put(struct areq *r);
enum MHD_Result api_profile_delete(struct areq *r);
enum MHD_Result api_profile_preview(struct areq *r);

/* api_dashboard.c: facts about the provisioning listeners, read once. */
json_t *admin_listener_facts(const struct server *srv);

/* render.c: a template rendered for a device as the phone would get it
 * (its variables, the CA and listener of its last resync, the
 * Profile_Rule of its recommended listener).  Unless reveal, secret
 * variables render as ADMIN_MASK. */
#define ADMIN_MASK "********"
struct db_device;
int admin_render(struct areq *r, const struct db_device *dev,
		 const char *tmpl, int reveal, char **out, size_t *len,
		 char **err);
/* 1 for variables whose values are shown only on request: names with
 * pass, secret, key, pin or token in them (as `spaprovctl device
 * export`). */
int admin_var_is_secret(const char *name);

#endif
