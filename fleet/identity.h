/* fleet/identity: how far spaprovd trusts who a device says it is.
 *
 * Pinning: the first verified client certificate of a device is kept
 * (db/pin.h); a later request with another certificate for the same MAC
 * is compared here and, by the listener's pin_policy, served with an
 * alert or refused.
 *
 * Generic certificates (DOMAIN.md s.2): units before firmware 2.0 share
 * one "ciscogeneric" certificate and put their MAC in the URL.  With a
 * listener's generic_policy = url-mac that MAC identifies the device,
 * with low trust. */
#ifndef SPAPROV_FLEET_IDENTITY_H
#define SPAPROV_FLEET_IDENTITY_H

#include <stddef.h>

#include "util/mac.h"

#define FLEET_PIN_DETAIL 192    /* bytes of the pin-mismatch detail */

enum fleet_pin {
	FLEET_PIN_NEW = 0,      /* no pin yet: pin the presented certificate */
	FLEET_PIN_SAME,         /* the pinned certificate */
	FLEET_PIN_CHANGED,      /* another certificate than the pinned one */
};

/* pinned: the device's pin or NULL; presented: the fingerprint of the
 * certificate of this request (hex, any case). */
enum fleet_pin fleet_pin_compare(const char *pinned, const char *presented);

/* "certificate changed: pinned FP1, presented FP2" into buf. */
void fleet_pin_detail(char *buf, size_t size, const char *pinned,
		      const char *presented);

/* The one MAC named in path ("/config?Linksys0022BD010203",
 * "/spa0022bd010203.xml"), every MAC-like token being that same MAC
 * (mac_path_check() rules).  0 with mac (12 lower-case hex), or -1 when
 * the path names no MAC or two different ones. */
int fleet_url_mac(const char *path, char mac[MAC_LEN + 1]);

#endif
