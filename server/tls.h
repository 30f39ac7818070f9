/* tls: per-listener TLS material (certificate, key, DH parameters,
 * priority string), loaded and checked before any listener starts. */
#ifndef SPAPROV_TLS_H
#define SPAPROV_TLS_H

#include "conf/conf.h"

struct tls_material {
	char *cert_pem;      /* server certificate and chain */
	char *key_pem;
	char *dh_pem;        /* PKCS#3 */
	char *priority;      /* validated GnuTLS priority string */
	unsigned dh_bits;    /* size of the DH prime actually offered */
};

/* The default GnuTLS priority for listeners of this CA. */
const char *tls_default_priority(enum conf_ca ca);

/* Read and check the listener's files: the certificate parses, the key
 * matches it, the DH parameters parse, the priority string is valid.
 * Errors are "CONF:LINE: KEY: reason". */
int tls_material_load(const struct conf *conf, const struct conf_listener *l,
		      struct tls_material *m, char **err);
void tls_material_free(struct tls_material *m);

/* Read a whole file (at most `limit` bytes) into a NUL-terminated buffer. */
int tls_read_file(const char *path, size_t limit, char **out, size_t *len,
		  char **err);

#endif
