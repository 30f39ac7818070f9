/* conn: per-connection state of a provisioning listener, and the TLS
 * handshake hook that fills it.
 *
 * The hook records what the client offered (for failed-handshake rows)
 * and keeps a copy of the client's Certificate message: after an
 * SSLv2-format ClientHello GnuTLS completes the mutual handshake but
 * gnutls_certificate_get_peers() returns nothing (DOMAIN.md s.6), so the
 * captured chain is the fallback. */
#ifndef SPAPROV_CONN_H
#define SPAPROV_CONN_H

#include <stddef.h>
#include <gnutls/gnutls.h>

#include "ident/trust.h"
#include "server/sessions.h"

#define CONN_MAX_CERT_MSG (64u * 1024) /* client Certificate message */
#define CONN_MAX_HELLO_TEXT 512

struct conn {
	gnutls_session_t tls;
	char remote[64];           /* peer address, text */
	unsigned hello_seen : 1, hello_v2 : 1, server_hello_sent : 1,
		 client_finished : 1, requests_started : 1,
		 hello_malformed : 1;
	char hello[CONN_MAX_HELLO_TEXT];  /* "TLS1.0 suites=..." */
	unsigned last_htype;       /* last handshake message seen */
	unsigned last_incoming;
	gnutls_datum_t chain[TRUST_MAX_CHAIN]; /* captured client chain */
	size_t n_chain;
	int chain_truncated;
	/* limits on the client's Certificate message (max_client_chain,
	 * max_client_cert_size); conn_new() sets the largest allowed */
	size_t max_chain, max_cert_msg;
	char refused[128];         /* why the hook ended the handshake */
	struct sessions_link resume; /* the listener's session cache */
};

/* Make the per-connection state; NULL when out of memory.  A client
 * Certificate message with more than max_chain certificates or more than
 * max_cert_msg bytes ends the handshake, and conn_handshake_failure()
 * says so. */
struct conn *conn_new(gnutls_session_t tls, const char *remote);
void conn_free(struct conn *c);

/* Install the handshake hook on `tls`; `lookup` turns the session's
 * user pointer into our struct conn. */
void conn_install_hook(gnutls_session_t tls,
		       struct conn *(*lookup)(gnutls_session_t tls));

/* Why the handshake of a connection that never made a request failed,
 * or NULL if it completed (an idle connection is no failure). */
const char *conn_handshake_failure(const struct conn *c, char *buf,
				   size_t size);

/* Build the name table used to print offered suites; call once at start. */
void conn_init_suite_names(void);

#endif
