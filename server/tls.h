/* tls: per-listener TLS material (certificate, key, DH parameters,
 * priority string), loaded and checked before any listener starts. */
#ifndef SPAPROV_TLS_H
#define SPAPROV_TLS_H

#include "conf/conf.h"

#include <gnutls/abstract.h>

/* Bounds on what a PKCS#11 server key brings in. */
#define TLS_MAX_CHAIN 8          /* certificates handed out with the key */
#define TLS_MAX_PIN 256          /* bytes of a PIN (key_pin_file) */
#define TLS_MAX_LABEL 64         /* bytes of a token label we report */
#define TLS_MAX_P11_MODULES 8    /* pkcs11_module paths loaded at once */
#define TLS_MAX_P11_KEYS 64      /* key handles per listener (threads) */
#define TLS_MAX_P11_BINDINGS (2 * CONF_MAX_LISTENERS) /* old + new on reload */

/* A listener's key held by a PKCS#11 token (opaque). */
struct tls_p11key;

struct tls_material {
	char *cert_pem;      /* server certificate and chain */
	char *key_pem;       /* NULL when the key is a PKCS#11 URL */
	char *dh_pem;        /* PKCS#3 */
	char *priority;      /* validated GnuTLS priority string */
	unsigned dh_bits;    /* size of the DH prime actually offered */
	struct tls_p11key *p11; /* the PKCS#11 key, or NULL */
};

/* The default GnuTLS priority for listeners of this CA. */
const char *tls_default_priority(enum conf_ca ca);

/* Read and check the listener's files: the certificate parses, the key
 * matches it, the DH parameters parse, the priority string is valid.
 * Errors are "CONF:LINE: KEY: reason". */
int tls_material_load(const struct conf *conf, const struct conf_listener *l,
		      struct tls_material *m, char **err);
void tls_material_free(struct tls_material *m);

/* 1 if a `key` value is a PKCS#11 URL (RFC 7512, "pkcs11:..."). */
int tls_key_is_url(const char *key);

/* Same key in both (PEM text, or PKCS#11 URL and public key). */
int tls_material_same_key(const struct tls_material *a,
			  const struct tls_material *b);

/* What a tls_p11_open() error is about (the configuration key). */
enum tls_p11_what {
	TLS_P11_KEY = 0,     /* key: token, PIN, object, mismatch */
	TLS_P11_PIN_FILE,    /* key_pin_file */
	TLS_P11_MODULE,      /* pkcs11_module */
	TLS_P11_CERT,        /* certificate */
};

/* Open the PKCS#11 key `url` for the certificate (and chain) cert_pem
 * read from cert_path: loads `module` (NULL: GnuTLS's p11-kit defaults;
 * a module stays loaded until the process ends), logs in with the PIN of
 * pin_file (or the URL's pin-value), imports n_handles handles of the key
 * (one per worker thread, 1 to TLS_MAX_P11_KEYS) and checks that its
 * public key is the certificate's.  The PIN is kept (zeroed on free) for
 * logins the token asks for later.  Errors say what they are about in
 * *what and never contain the PIN.  Call from one thread at a time. */
int tls_p11_open(const char *module, const char *url, const char *pin_file,
		 const char *cert_pem, const char *cert_path,
		 unsigned n_handles, struct tls_p11key **out,
		 enum tls_p11_what *what, char **err);
void tls_p11_free(struct tls_p11key *k);
/* Sign and verify a probe with every handle: after a privilege drop the
 * token may no longer be usable (SoftHSM2 reads its token directory). */
int tls_p11_check_use(struct tls_p11key *k, char **err);
/* Label of the token holding the key. */
const char *tls_p11_token(const struct tls_p11key *k);
/* NULL, or why the PIN was not checked at this import (the process had
 * logged in to the token already, with another PIN; or the token did not
 * ask for one). */
const char *tls_p11_pin_note(const struct tls_p11key *k);

/* For libmicrohttpd (MHD_OPTION_HTTPS_CERT_CALLBACK2): hands the
 * certificate chain and key bound to the session's credentials. */
int tls_p11_retrieve(gnutls_session_t session,
		     const struct gnutls_cert_retr_st *info,
		     gnutls_pcert_st **certs, unsigned int *n_certs,
		     gnutls_ocsp_data_st **ocsp, unsigned int *n_ocsp,
		     gnutls_privkey_t *key, unsigned int *flags);
/* Bind k to the credentials of a new server session, before its
 * handshake: every session of one libmicrohttpd daemon shares them.
 * -1 if the table of bindings is full. */
int tls_p11_bind(struct tls_p11key *k, gnutls_session_t session);

/* The URL with any pin-value replaced by "***" (malloc'd), for messages. */
char *tls_url_redacted(const char *url);
/* The percent-decoded value of attribute `name` (path or query) of a
 * PKCS#11 URL into buf (NUL-terminated, cut to size); 0, or -1 if
 * absent. */
int tls_url_attr(const char *url, const char *name, char *buf, size_t size);

/* Read a whole file (at most `limit` bytes) into a NUL-terminated buffer. */
int tls_read_file(const char *path, size_t limit, char **out, size_t *len,
		  char **err);

#endif
