/* fqdn: is a name fit to be a provisioning server's certificate CN?
 *
 * The phone resolves the subject CN and compares the address with the one
 * it connected to, and it rejects wildcards (DOMAIN.md s.1).  So the CN
 * must be a plain, fully qualified host name. */
#ifndef SPAPROV_CTL_FQDN_H
#define SPAPROV_CTL_FQDN_H

#define CTL_FQDN_MAX 253      /* bytes in a host name (RFC 1035) */
#define CTL_FQDN_MAX_LABEL 63 /* bytes between two dots */

/* Returns 1 if cn is a host name of letters, digits and hyphens with at
 * least one dot: no wildcard, no IP address, no empty label, no label
 * starting or ending with '-', no trailing dot, a top label that is not
 * all digits.  Otherwise returns 0 and, if why is not NULL, points *why to
 * a static reason ("is an IP address", ...).  The caller strips whatever a
 * phone ignores (text after a '/') before asking. */
int ctl_fqdn_valid(const char *cn, const char **why);

#endif
