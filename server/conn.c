#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "server/conn.h"

/* A configured limit can never exceed what this file keeps. */
_Static_assert(CONF_MAX_CLIENT_CHAIN <= TRUST_MAX_CHAIN,
	       "max_client_chain above TRUST_MAX_CHAIN");
_Static_assert(CONF_MAX_CLIENT_CERT_SIZE <= CONN_MAX_CERT_MSG,
	       "max_client_cert_size above CONN_MAX_CERT_MSG");

/* IANA id -> GnuTLS name, for describing what a failed client offered. */
struct suite_name {
	unsigned char id[2];
	const char *name;
};
static struct suite_name *suite_names;
static size_t n_suite_names;

static struct conn *(*conn_lookup)(gnutls_session_t tls);

void conn_init_suite_names(void)
{
	unsigned char id[2];
	size_t n = 0;

	while (gnutls_cipher_suite_info(n, id, NULL, NULL, NULL, NULL) != NULL)
		n++;
	suite_names = calloc(n, sizeof(*suite_names));
	if (suite_names == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *name = gnutls_cipher_suite_info(
			i, suite_names[i].id, NULL, NULL, NULL, NULL);

		suite_names[i].name = name;
	}
	n_suite_names = n;
}

static const char *suite_name(unsigned char a, unsigned char b)
{
	for (size_t i = 0; i < n_suite_names; i++)
		if (suite_names[i].id[0] == a && suite_names[i].id[1] == b)
			return suite_names[i].name;
	return NULL;
}

struct conn *conn_new(gnutls_session_t tls, const char *remote)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->tls = tls;
	snprintf(c->remote, sizeof(c->remote), "%s", remote);
	c->max_chain = TRUST_MAX_CHAIN;
	c->max_cert_msg = CONN_MAX_CERT_MSG;
	return c;
}

void conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_chain; i++)
		free(c->chain[i].data);
	free(c);
}

static void append(char *buf, size_t size, const char *s)
{
	size_t len = strlen(buf);

	if (len + 1 < size)
		snprintf(buf + len, size - len, "%s", s);
}

static const char *version_name(unsigned char major, unsigned char minor)
{
	if (major == 3 && minor == 0)
		return "SSL3.0";
	if (major == 3 && minor >= 1 && minor <= 4) {
		static const char *const tls[] = { "TLS1.0", "TLS1.1",
						   "TLS1.2", "TLS1.3" };
		return tls[minor - 1];
	}
	if (major == 0 && minor == 2)
		return "SSL2.0";
	return "unknown-version";
}

/* Describe suites given as `width`-byte ids (2 in TLS, 3 in SSLv2 form). */
static void describe_suites(struct conn *c, const unsigned char *p,
			    size_t len, size_t width)
{
	char one[64];

	append(c->hello, sizeof(c->hello), " suites=");
	for (size_t i = 0; i + width <= len; i += width) {
		const unsigned char *id = p + i + width - 2;
		const char *name;

		if (width == 3 && p[i] != 0)
			continue; /* an SSL 2.0-only cipher kind */
		name = suite_name(id[0], id[1]);
		if (name != NULL)
			snprintf(one, sizeof(one), "%s%s", i ? "," : "", name);
		else
			snprintf(one, sizeof(one), "%s0x%02x%02x", i ? "," : "",
				 id[0], id[1]);
		append(c->hello, sizeof(c->hello), one);
	}
}

static void parse_hello(struct conn *c, const unsigned char *p, size_t len)
{
	size_t off, sid, slen;

	c->hello_seen = 1;
	if (len < 2)
		goto short_msg;
	snprintf(c->hello, sizeof(c->hello), "%s", version_name(p[0], p[1]));
	if (len < 2 + 32 + 1)
		goto short_msg;
	off = 2 + 32;
	sid = p[off];
	off += 1 + sid;
	if (off + 2 > len)
		goto short_msg;
	slen = ((size_t)p[off] << 8) | p[off + 1];
	off += 2;
	if (off + slen > len)
		goto short_msg;
	describe_suites(c, p + off, slen, 2);
	return;
short_msg:
	c->hello_malformed = 1;
	append(c->hello, sizeof(c->hello), c->hello[0] ? " (truncated ClientHello)"
							: "truncated ClientHello");
}

/* SSL 2.0 CLIENT-HELLO body: version, 3 lengths, then cipher specs. */
static void parse_hello_v2(struct conn *c, const unsigned char *p, size_t len)
{
	size_t specs;

	c->hello_seen = 1;
	c->hello_v2 = 1;
	if (len >= 9 && p[0] == 1 && p[1] == 3)
		p++, len--; /* skip the message type if present */
	if (len < 8) {
		snprintf(c->hello, sizeof(c->hello), "SSLv2-format hello "
			 "(truncated)");
		return;
	}
	snprintf(c->hello, sizeof(c->hello), "%s (SSLv2-format hello)",
		 version_name(p[0], p[1]));
	specs = ((size_t)p[2] << 8) | p[3];
	if (8 + specs > len)
		specs = len - 8;
	describe_suites(c, p + 8, specs, 3);
}

/* Keep a copy of the client's certificate chain (TLS 1.0-1.2 layout:
 * 24-bit list length, then 24-bit length + DER per certificate). */
static void capture_chain(struct conn *c, const unsigned char *p, size_t len)
{
	size_t off = 3, total;

	if (c->n_chain > 0 || len < 3 || len > CONN_MAX_CERT_MSG)
		return;
	if (gnutls_protocol_get_version(c->tls) == GNUTLS_TLS1_3)
		return; /* peers are always available in TLS 1.3 */
	total = ((size_t)p[0] << 16) | ((size_t)p[1] << 8) | p[2];
	if (total + 3 > len)
		return;
	while (off + 3 <= 3 + total) {
		size_t n = ((size_t)p[off] << 16) | ((size_t)p[off + 1] << 8) |
			   p[off + 2];

		off += 3;
		if (n == 0 || off + n > 3 + total)
			break;
		if (c->n_chain == TRUST_MAX_CHAIN) {
			c->chain_truncated = 1;
			break;
		}
		c->chain[c->n_chain].data = malloc(n);
		if (c->chain[c->n_chain].data == NULL)
			break;
		memcpy(c->chain[c->n_chain].data, p + off, n);
		c->chain[c->n_chain].size = (unsigned)n;
		c->n_chain++;
		off += n;
	}
}

static size_t get24(const unsigned char *p)
{
	return ((size_t)p[0] << 16) | ((size_t)p[1] << 8) | p[2];
}

/* Certificates in a Certificate message: TLS 1.0-1.2 have a list of
 * (24-bit length, DER); TLS 1.3 has a request context first and 16-bit
 * extensions after each certificate.  Counting stops where the message
 * stops making sense (GnuTLS rejects such a message itself). */
static size_t count_certs(const unsigned char *p, size_t len, int tls13)
{
	size_t off = 0, end, n = 0;

	if (tls13) {
		if (len < 1)
			return 0;
		off = 1 + (size_t)p[0];
	}
	if (off + 3 > len)
		return 0;
	end = off + 3 + get24(p + off);
	if (end > len)
		end = len;
	off += 3;
	while (off + 3 <= end) {
		size_t clen = get24(p + off);

		off += 3 + clen;
		if (tls13) {
			if (off + 2 > end)
				break;
			off += 2 + (((size_t)p[off] << 8) | p[off + 1]);
		}
		if (off > end)
			break;
		n++;
	}
	return n;
}

/* The client's Certificate message against max_client_cert_size and
 * max_client_chain; -1 (and c->refused) when it is over one of them. */
static int check_cert_msg(struct conn *c, const gnutls_datum_t *msg)
{
	int tls13 = gnutls_protocol_get_version(c->tls) == GNUTLS_TLS1_3;
	size_t n;

	if (msg->size > c->max_cert_msg) {
		snprintf(c->refused, sizeof(c->refused),
			 "client Certificate message of %u bytes, over "
			 "max_client_cert_size %zu", msg->size,
			 c->max_cert_msg);
		return -1;
	}
	n = count_certs(msg->data, msg->size, tls13);
	if (n > c->max_chain) {
		snprintf(c->refused, sizeof(c->refused),
			 "client certificate chain of %zu certificates, over "
			 "max_client_chain %zu", n, c->max_chain);
		return -1;
	}
	return 0;
}

static int hook(gnutls_session_t tls, unsigned htype, unsigned when,
		unsigned incoming, const gnutls_datum_t *msg)
{
	struct conn *c = conn_lookup != NULL ? conn_lookup(tls) : NULL;

	if (c == NULL)
		return 0;
	c->last_htype = htype;
	c->last_incoming = incoming;
	if (!incoming) {
		if (htype == GNUTLS_HANDSHAKE_SERVER_HELLO)
			c->server_hello_sent = 1;
		return 0;
	}
	if (when != GNUTLS_HOOK_PRE || msg == NULL)
		return 0;
	switch (htype) {
	case GNUTLS_HANDSHAKE_CLIENT_HELLO:
		parse_hello(c, msg->data, msg->size);
		break;
	case GNUTLS_HANDSHAKE_CLIENT_HELLO_V2:
		parse_hello_v2(c, msg->data, msg->size);
		break;
	case GNUTLS_HANDSHAKE_CERTIFICATE_PKT:
		if (check_cert_msg(c, msg) < 0)
			return GNUTLS_E_CERTIFICATE_ERROR; /* ends the handshake */
		capture_chain(c, msg->data, msg->size);
		break;
	case GNUTLS_HANDSHAKE_FINISHED:
		c->client_finished = 1;
		break;
	default:
		break;
	}
	return 0;
}

void conn_install_hook(gnutls_session_t tls,
		       struct conn *(*lookup)(gnutls_session_t tls))
{
	conn_lookup = lookup;
	gnutls_handshake_set_hook_function(tls, GNUTLS_HANDSHAKE_ANY,
					   GNUTLS_HOOK_BOTH, hook);
}

const char *conn_handshake_failure(const struct conn *c, char *buf,
				   size_t size)
{
	gnutls_alert_description_t alert;
	const char *alert_name;

	if (c->refused[0]) {
		snprintf(buf, size, "%s", c->refused);
		return buf;
	}
	if (c->requests_started)
		return NULL;
	alert = gnutls_alert_get(c->tls);
	alert_name = gnutls_alert_get_name(alert);
	if (c->client_finished) {
		/* An idle connection is no failure; a client that completes
		 * the handshake and then refuses it (e.g. an old phone that
		 * cannot take the DH group) is. */
		if (alert == GNUTLS_A_CLOSE_NOTIFY || alert_name == NULL)
			return NULL;
		snprintf(buf, size, "handshake completed, then the client "
			 "refused the session before any request; peer "
			 "alert: %s", alert_name);
		return buf;
	}
	if (!c->hello_seen) {
		snprintf(buf, size, "no ClientHello: connection closed, timed "
			 "out or not TLS");
		return buf;
	}
	if (c->hello_malformed)
		snprintf(buf, size, "malformed ClientHello");
	else if (!c->server_hello_sent)
		snprintf(buf, size, "no shared protocol version or cipher "
			 "suite");
	else
		snprintf(buf, size, "handshake stopped after %s %s",
			 c->last_incoming ? "receiving" : "sending",
			 gnutls_handshake_description_get_name(c->last_htype));
	if (alert != GNUTLS_A_CLOSE_NOTIFY && alert_name != NULL) {
		size_t len = strlen(buf);

		snprintf(buf + len, size - len, "; peer alert: %s", alert_name);
	}
	return buf;
}
