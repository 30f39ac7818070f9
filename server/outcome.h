/* outcome: every way a provisioning request ends, with its HTTP status.
 * The name is stored in resyncs.outcome; scripts and the admin UI rely
 * on these names, so they never change. */
#ifndef SPAPROV_OUTCOME_H
#define SPAPROV_OUTCOME_H

#define OUTCOME_LIST(X)                                              \
	X(OK, "ok", 200)                                             \
	X(NO_CERT, "no-certificate", 403)                            \
	X(UNTRUSTED, "untrusted-certificate", 403)                   \
	X(MALFORMED, "malformed-certificate", 403)                   \
	X(GENERIC, "generic-certificate", 403)                       \
	X(NO_MAC, "no-mac-in-certificate", 403)                      \
	X(SPOOF, "spoof", 403)                                       \
	X(UNKNOWN, "unknown-device", 404)                            \
	X(DISABLED, "disabled", 403)                                 \
	X(PENDING, "pending-approval", 403)                          \
	X(NO_PROFILE, "no-profile", 404)                             \
	X(RENDER_ERROR, "render-error", 500)                         \
	X(DB_ERROR, "database-error", 503)                           \
	X(BAD_METHOD, "method-not-allowed", 405)                     \
	X(BODY_TOO_LARGE, "body-too-large", 413)                     \
	X(URI_TOO_LONG, "uri-too-long", 414)                         \
	X(TOO_MANY_HEADERS, "too-many-headers", 431)                 \
	X(HEADERS_TOO_LARGE, "headers-too-large", 431)               \
	X(BAD_REQUEST, "bad-request", 400)                           \
	/* fleet: server/fleet_http.c */                             \
	X(OK_ENCRYPTED, "ok-encrypted", 200)                         \
	X(FIRMWARE, "firmware", 200)                                 \
	X(REPORT, "report", 200)                                     \
	X(NO_KEY, "no-key", 404)                                     \
	X(NO_URL_MAC, "no-mac-in-url", 404)                          \
	X(NO_FIRMWARE, "no-firmware", 404)                           \
	X(BAD_FIRMWARE_NAME, "bad-firmware-name", 400)               \
	X(BAD_REPORT, "bad-report", 400)                             \
	/* fleet: pins, generic certificates (fleet/identity.h) */  \
	X(PIN_MISMATCH, "pin-mismatch", 403)                         \
	X(GENERIC_NOT_ALLOWED, "generic-not-allowed", 403)

enum outcome {
#define X(id, name, status) OUTCOME_##id,
	OUTCOME_LIST(X)
#undef X
	OUTCOME__COUNT
};

const char *outcome_name(enum outcome o);
unsigned outcome_status(enum outcome o);

#endif
