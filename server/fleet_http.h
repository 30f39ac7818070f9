/* server/fleet_http: the requests of issue 7 that are not the ordinary,
 * certificate-identified profile: firmware downloads, device reports, and
 * the encrypted profile that server-auth and plain listeners serve.
 * request.c routes, identifies and records; this file decides and
 * answers.
 *
 *   GET|HEAD /firmware/NAME  any listener.  mutual: a verified device
 *                            certificate; plain: anyone (a MAC in the
 *                            query, "?$MA", names the device, url-mac);
 *                            server-auth: refused.          -> firmware
 *   POST .../report/...      mutual listeners only (a path segment
 *   POST ...?report          "report" or a query key "report"): the
 *                            device's XML report is kept.    -> report
 *   anything else            mutual: the profile (request.c); server-auth
 *                            and plain: the encrypted profile of the MAC
 *                            in the URL ($MAU or $MA), url-mac. -> ok-encrypted
 */
#ifndef SPAPROV_FLEET_HTTP_H
#define SPAPROV_FLEET_HTTP_H

#include <stddef.h>

#include <microhttpd.h>

#include "server/outcome.h"

struct db;
struct listener;
struct conf_listener;
struct fleet_fw_vars;

enum fleet_route {
	FLEET_ROUTE_PROFILE = 0,  /* request.c: the certificate's profile */
	FLEET_ROUTE_ENCRYPTED,    /* server-auth / plain: by the URL's MAC */
	FLEET_ROUTE_FIRMWARE,
	FLEET_ROUTE_REPORT,
};

#define FLEET_TRUST_URL_MAC "url-mac"

/* What the request brings. */
struct fleet_http_in {
	const char *url;          /* path and query, %-decoded */
	const char *raw_uri;      /* the request target as sent, or NULL */
	const char *method;
	const char *remote;       /* client address */
	const char *body;         /* POST body (NUL-terminated), or NULL */
	size_t body_len;
	const char *mac;          /* verified device certificate, or NULL */
	const char *ua_firmware;  /* from the User-Agent, or NULL */
};

/* The decision, for the ledger row and the response. */
struct fleet_reply {
	enum outcome outcome;
	char detail[256];
	const char *trust;        /* FLEET_TRUST_URL_MAC or NULL */
	char mac[13];             /* the URL's MAC (url-mac), or "" */
	int seen;                 /* a verified device: update its row */
	long long bytes;          /* body bytes of a 200, for the ledger */
	unsigned char *body;      /* encrypted profile, malloc'd, or NULL */
	size_t len;
	int fd;                   /* firmware image, or -1 */
	unsigned long long size;
};

void fleet_reply_init(struct fleet_reply *fx);
/* Free the body, close the file. */
void fleet_reply_clear(struct fleet_reply *fx);

/* Which handler a request goes to on this listener. */
enum fleet_route fleet_http_route(const struct conf_listener *cl,
				  const char *method, const char *url);

/* Serve a request of `route` (not FLEET_ROUTE_PROFILE) on l that passed
 * the listener's checks (a verified certificate on mutual listeners). */
void fleet_http_serve(struct listener *l, enum fleet_route route,
		      const struct fleet_http_in *in, struct fleet_reply *fx);

/* Queue the 200 response of fx (application/octet-stream, the file
 * streamed from its descriptor); takes the body and the descriptor. */
enum MHD_Result fleet_http_respond(struct MHD_Connection *connection,
				   struct fleet_reply *fx);

/* {{firmware_target}} and {{upgrade_rule}} for a device of `model` on l.
 * 0, or -1 with *err (database error). */
int fleet_http_fw_vars(struct listener *l, struct db *db, const char *model,
		       struct fleet_fw_vars *out, char **err);

struct tmpl_builtins;
/* Render the template `profile` for a device on l: b holds the request's
 * built-ins; the firmware variables are filled in here.  0 with *out
 * (malloc'd) and *len, or -1 with fx->outcome and fx->detail saying why
 * (no-profile, database-error, render-error).  The one rendering path of
 * the request handler and the encrypted-profile handler. */
int fleet_http_render(struct listener *l, struct db *db, const char *profile,
		      struct tmpl_builtins *b, char **out, size_t *len,
		      struct fleet_reply *fx);

#endif
