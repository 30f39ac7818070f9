/* fleet/steer: which provisioning CA a phone's firmware trusts (DOMAIN.md
 * s.1), the listener that follows from it, and the Profile_Rule URL that
 * moves the phone there.
 *
 * The table maps a model family and a firmware version to the CAs the
 * firmware trusts, best first.  The recommended CA is the first of them
 * that some listener of the configuration serves; the recommended
 * listener is the first listener with that CA.  Both spaprovd (the
 * {{profile_rule}} built-in) and spaprovctl (device show, device list
 * --misplaced, profile render) ask the same functions. */
#ifndef SPAPROV_FLEET_STEER_H
#define SPAPROV_FLEET_STEER_H

#include <stddef.h>

#include "conf/conf.h"

#define STEER_MAX_MODEL 64      /* bytes of a model name looked at */
#define STEER_MAX_VERSION 64    /* bytes of a firmware version looked at */
#define STEER_MAX_CAS 4         /* CAs one family trusts */
#define STEER_MAX_REASON 256    /* bytes of steer_advice.reason */
#define STEER_MAX_HOST 253      /* bytes of a host name (RFC 1035) */
#define STEER_MAX_RULE 640      /* bytes of a Profile_Rule URL */
#define STEER_MAX_CERT_FILE (1u << 20) /* bytes of a certificate file */

/* What the table says about one model and firmware. */
struct steer_advice {
	const char *family;             /* "SPA5xx", ...; NULL: unknown model */
	enum conf_ca cas[STEER_MAX_CAS]; /* the CAs to use, best first */
	size_t n_cas;
	int firmware_known;             /* the version took part in the choice */
	/* filled by steer_recommend() */
	int have_ca;                    /* ca is set */
	enum conf_ca ca;                /* the recommended CA */
	const struct conf_listener *listener; /* first listener of ca, or NULL */
	char reason[STEER_MAX_REASON];  /* one line for people */
};

/* Compare two firmware versions: <0, 0 or >0 as a is older, the same or
 * newer.  "7.5.6" < "7.5.6a" < "7.5.7"; "1.3.3" < "1.3.3(SR5)" < "1.4.1";
 * "6.1.5(a)" == "6.1.5a".  Digit runs compare as numbers, letter runs
 * without case; other characters only separate.  A version that ends
 * earlier is older; a number is newer than letters at the same place. */
int steer_version_cmp(const char *a, const char *b);

/* 1 if s looks like a firmware version (starts with a digit, at most
 * STEER_MAX_VERSION bytes), else 0. */
int steer_version_valid(const char *s);

/* The table only: family and CAs for model (any spelling: "SPA-525G2",
 * "spa525g2") and firmware (may be NULL).  Returns 0, or -1 for a model
 * the table does not know (out->family NULL, n_cas 0). */
int steer_lookup(const char *model, const char *firmware,
		 struct steer_advice *out);

/* steer_lookup() and then the configuration: the recommended CA and
 * listener.  out->listener is NULL when the model is unknown or no
 * listener serves any CA it trusts; out->reason says why in every case. */
void steer_recommend(const struct conf *conf, const char *model,
		     const char *firmware, struct steer_advice *out);

/* 1 if a device of this model and firmware whose last request came in on
 * a listener of CA last_ca ("sb", ...) should be on another one: the model
 * is known and last_ca is not the recommended CA.  0 otherwise (unknown
 * model, never seen). */
int steer_misplaced(const struct conf *conf, const char *model,
		    const char *firmware, const char *last_ca,
		    struct steer_advice *out);

/* --- where phones reach the listeners ------------------------------------ */

/* Per listener of one configuration: the host name phones use (the
 * [server] public_name, else the CN of the listener's certificate up to a
 * '/'), its port, and the profile path.  Built once per configuration;
 * read by any thread.  The bound port of a listener configured with port 0
 * is set by steer_hosts_bound() (atomically: readers need no lock). */
struct steer_hosts;

/* Reads the listeners' certificate files (one that cannot be read or has
 * no usable CN gives that listener no host).  0, or -1 with *err when out
 * of memory. */
int steer_hosts_load(const struct conf *conf, struct steer_hosts **out,
		     char **err);
void steer_hosts_free(struct steer_hosts *h);
/* 1 if a and b give every listener the same host, port, CA and path
 * (the configured ports; bound ports are not compared). */
int steer_hosts_same(const struct steer_hosts *a,
		     const struct steer_hosts *b);
/* Record the port listener `name` got (for a configured port 0). */
void steer_hosts_bound(struct steer_hosts *h, const char *name,
		       unsigned port);

/* "https://HOST:PORT/PATH" for listener `name` into buf.  Returns buf, or
 * NULL with *why (static text) when the listener is not in h, has no host
 * name, or has port 0 that no one bound, or the URL does not fit. */
const char *steer_profile_rule(const struct steer_hosts *h, const char *name,
			       char *buf, size_t size, const char **why);

/* The {{profile_rule}} value for a phone: the rule on its recommended
 * listener, else on `current` (the listener it is using; may be NULL).
 * Returns buf or NULL with *why as steer_profile_rule(). */
const char *steer_rule_for(const struct conf *conf,
			   const struct steer_hosts *h,
			   const struct conf_listener *current,
			   const char *model, const char *firmware,
			   char *buf, size_t size, const char **why);

#endif
