/* ua: parse the HTTP User-Agent of Cisco/Linksys/Sipura devices.
 *   Linksys/SPA-2102-2.0.5 (88012BA01234)
 *   Linksys/SPA-942-6.1.5(a) (88019FA42805)
 *   Cisco/SPA501G-7.4.4 (8843E157DDCC)(CBT141100HR)
 *   Cisco/SPA525G-7.4.7 (CBT141900G7)
 *   Cisco-CP-8841-3PCC/11.0 (00562b043615)
 *   Sipura/SPA2002-3.1.2(a)
 * Model and version split at the last '-' before the first space.  A
 * parenthesised group that is 12 hex digits is a MAC, any other is a
 * serial.  Never trusted over the certificate: used to cross-check and for
 * the firmware version. */
#ifndef SPAPROV_UA_H
#define SPAPROV_UA_H

#define UA_MAX_FIELD 48
#define UA_MAX_LEN 1024  /* longer User-Agents are not parsed */

struct ua {
	char vendor[UA_MAX_FIELD];   /* "Linksys", "Cisco", "Sipura" */
	char model[UA_MAX_FIELD];    /* "SPA-2102", "SPA501G", "CP-8841-3PCC" */
	char firmware[UA_MAX_FIELD]; /* "2.0.5", "6.1.5(a)", "11.0" */
	char mac[13];                /* lower case, "" if absent */
	char serial[UA_MAX_FIELD];   /* "" if absent */
};

/* Returns 0 when vendor, model and firmware were found; -1 otherwise (a
 * browser, curl, garbage, NULL), with every field of `out` set to "". */
int ua_parse(const char *s, struct ua *out);

#endif
