/* trust: verify a phone's client-certificate chain against the client roots.
 *
 * Field chains are SHA-1 or MD5 signed, roots may be X.509 v1 and expired,
 * devices have no clock: verification allows all of that (dates only when
 * time_check is set) but still requires every signature to chain to a root
 * in the bundle by key, so a root that only copies a Cisco DN fails.  One
 * trust handle is read-only after load and shared by all threads. */
#ifndef SPAPROV_TRUST_H
#define SPAPROV_TRUST_H

#include <stddef.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define TRUST_MAX_CHAIN 8   /* certificates accepted from one client */

struct trust;

/* Load PEM bundles (each may hold several certificates).  Returns 0, or -1
 * with *err = malloc'd "FILE: reason". */
int trust_load(const char *const *files, size_t n_files, int time_check,
	       struct trust **out, char **err);
void trust_free(struct trust *t);
size_t trust_count(const struct trust *t);

/* Verify chain[0] (the leaf) using chain[1..n) as untrusted intermediates.
 * Returns 0 if trusted; else -1 with *reason pointing to a static string
 * such as "signer-not-found", "signature-failure", "expired",
 * "not-activated", "insecure-algorithm", "chain-too-long", "malformed". */
int trust_verify(const struct trust *t, const gnutls_datum_t *chain,
		 size_t n, const char **reason);

/* The same for certificates parsed already (chain[0] the leaf). */
int trust_verify_crts(const struct trust *t, gnutls_x509_crt_t *crts,
		      size_t n, const char **reason);

#endif
