/* ident: who a phone is, from its client certificate and its User-Agent.
 *
 * Subject layouts (see DOMAIN.md section 2):
 *   OU=<product>, L=<serial>, ST=<mac>             (firmware 2.0.x and later)
 *   C=US, ST=<mac>, L=<serial>, O=Cisco Systems, Inc., OU=cisco.com,
 *     CN=<product>, MAC: <mac>, Serial: <serial>   (SPA525G2)
 *   OU=cisco.com, L=ciscogeneric, ST=ciscogeneric   (generic: never a device)
 * The MAC is read from ST; if that is not 12 hex digits, from surname
 * (2.5.4.4); then from "MAC: " in CN; always normalised to lower case. */
#ifndef SPAPROV_IDENT_H
#define SPAPROV_IDENT_H

#include <stddef.h>
#include <gnutls/x509.h>

#define IDENT_MAX_FIELD 64
#define IDENT_MAX_DN 512
#define IDENT_MAX_DER (64 * 1024) /* ident_from_der() refuses larger input */

enum ident_status {
	IDENT_OK = 0,         /* mac found */
	IDENT_GENERIC = 1,    /* the shared "ciscogeneric" certificate */
	IDENT_NO_MAC = 2,     /* parsed, but no MAC in any known place */
	IDENT_MALFORMED = 3,  /* not a parsable X.509 certificate */
};

struct ident {
	char mac[13];                    /* "" unless IDENT_OK */
	char serial[IDENT_MAX_FIELD];    /* from L (or "Serial: " in CN) */
	char product[IDENT_MAX_FIELD];   /* from OU (or CN for the SPA525G2 layout) */
	char subject[IDENT_MAX_DN];      /* RFC 4514 DN, truncated, printable */
	char issuer[IDENT_MAX_DN];
	char cert_serial[IDENT_MAX_FIELD]; /* hex, lower case, no separators */
	char fingerprint[65];            /* SHA-256 of the DER, hex */
};

/* Fill `out` from a parsed certificate / from DER bytes. Fields are
 * always NUL-terminated; non-printable bytes in attribute values are
 * replaced by '?'.  On IDENT_MALFORMED *err (if err != NULL) gets a
 * malloc'd reason. */
enum ident_status ident_from_crt(gnutls_x509_crt_t crt, struct ident *out,
				 char **err);
enum ident_status ident_from_der(const unsigned char *der, size_t len,
				 struct ident *out, char **err);
const char *ident_status_name(enum ident_status st);

#endif
