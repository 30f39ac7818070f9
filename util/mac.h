/* mac: MAC address notation and MACs found in request paths. */
#ifndef SPAPROV_MAC_H
#define SPAPROV_MAC_H

#include <stddef.h>

#define MAC_LEN 12 /* 12 lower-case hex digits, no separators */

/* Normalise a MAC written as 000E08ABCDEF, 00:0e:08:ab:cd:ef,
 * 00-0E-08-AB-CD-EF or 000e.08ab.cdef into 12 lower-case hex digits plus
 * NUL. Returns 0, or -1 (out untouched) if `in` is not a MAC. */
int mac_normalize(const char *in, char out[MAC_LEN + 1]);

/* Returns 1 if s[0..len) is exactly 12 hex digits, else 0. */
int mac_is_hex12(const char *s, size_t len);

/* mac_path_check() looks at no more than this many bytes of a path; the
 * rest is ignored, and a token cut by the limit does not count (callers
 * that rely on the check must refuse longer paths themselves). */
#define MAC_PATH_MAX_SCAN 8192

enum mac_path_result {
	MAC_PATH_NONE = 0,     /* no MAC-like token in the path */
	MAC_PATH_MATCH = 1,    /* every MAC-like token is `mac` */
	MAC_PATH_MISMATCH = 2, /* a MAC-like token names another device */
};

/* Look for MACs in a URL path ("/spa0022bd010203.xml", "/cfg/00:22:BD:01:02:03",
 * "/config?Linksys0022BD010203"), any case, with or without colons or dashes.
 * A hex run of 12..16 digits counts as a MAC when its first or last 12
 * digits form one (so the hex-looking end of a prefix such as "spa" or
 * "profile" does not hide the MAC); longer runs (hashes) are ignored.
 * A dash or colon separated run of 6 to 8 two-digit groups is treated the
 * same way (candidates: its first and its last six groups).
 * `mac` is the identified device (12 hex) or NULL; with NULL (or a `mac`
 * that is not 12 hex digits) every MAC-like token is a mismatch.  When the
 * result is MAC_PATH_MISMATCH, `found` (if not NULL) receives the foreign
 * MAC (the token's last 12 digits, lower case); otherwise it is set to "". */
enum mac_path_result mac_path_check(const char *path, const char *mac,
				    char found[MAC_LEN + 1]);

#endif
