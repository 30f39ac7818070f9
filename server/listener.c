#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "server/conn.h"
#include "server/request.h"
#include "server/server.h"
#include "util/log.h"

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* MHD keeps its connection as the GnuTLS session's user pointer. */
static struct conn *conn_from_session(gnutls_session_t tls)
{
	struct MHD_Connection *connection = gnutls_session_get_ptr(tls);
	const union MHD_ConnectionInfo *info;

	if (connection == NULL)
		return NULL;
	info = MHD_get_connection_info(connection,
				       MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info != NULL ? info->socket_context : NULL;
}

static void peer_name(struct MHD_Connection *connection, char *buf,
		      size_t size)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(
		connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	snprintf(buf, size, "?");
	if (info == NULL || info->client_addr == NULL)
		return;
	getnameinfo(info->client_addr,
		    info->client_addr->sa_family == AF_INET6
			    ? sizeof(struct sockaddr_in6)
			    : sizeof(struct sockaddr_in),
		    buf, (socklen_t)size, NULL, 0, NI_NUMERICHOST);
}

static void record_failure(struct listener *l, struct conn *c)
{
	char reason[256];
	struct db_hsfail f = { .listener = l->cl->name, .ca = l->ca,
			       .remote_addr = c->remote };

	f.error = conn_handshake_failure(c, reason, sizeof(reason));
	if (f.error == NULL)
		return;
	f.client_hello = c->hello[0] ? c->hello : NULL;
	db_timestamp(f.ts);
	log_info("msg=\"TLS handshake failed\" listener=%s remote=%s "
		 "error=\"%s\" hello=\"%s\"", l->cl->name, c->remote, f.error,
		 c->hello);
	ledger_record_hsfail(l->srv->ledger, &f);
}

static void notify(void *cls, struct MHD_Connection *connection,
		   void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
	struct listener *l = cls;
	const union MHD_ConnectionInfo *info;
	struct conn *c;
	char remote[64];

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		c = *socket_context;
		if (c != NULL) {
			record_failure(l, c);
			conn_free(c);
			*socket_context = NULL;
		}
		return;
	}
	info = MHD_get_connection_info(connection,
				       MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (info == NULL || info->tls_session == NULL)
		return;
	peer_name(connection, remote, sizeof(remote));
	c = conn_new(info->tls_session, remote);
	if (c == NULL)
		return;
	*socket_context = c;
	if (gnutls_session_get_ptr(info->tls_session) == NULL)
		gnutls_session_set_ptr(info->tls_session, connection);
	conn_install_hook(info->tls_session, conn_from_session);
}

static void mhd_log(void *cls, const char *fm, va_list ap)
{
	struct listener *l = cls;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fm, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_debug("listener=%s msg=\"libmicrohttpd: %s\"", l->cl->name, msg);
}

static int make_addr(const struct conf_listener *cl,
		     struct sockaddr_storage *ss, int *ipv6)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, cl->address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)cl->port);
		*ipv6 = 0;
		return 0;
	}
	if (inet_pton(AF_INET6, cl->address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)cl->port);
		*ipv6 = 1;
		return 0;
	}
	return -1;
}

int listener_start(struct listener *l, char **err)
{
	const struct conf_listener *cl = l->cl;
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	int ipv6 = 0;

	if (make_addr(cl, &ss, &ipv6) < 0) {
		*err = fmt("%s:%d: address: not a numeric IP address",
			   l->srv->conf->path, cl->line_address);
		return -1;
	}
	if (ipv6)
		flags |= MHD_USE_IPv6;
	l->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, request_handle, l,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, l,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_HTTPS_MEM_CERT, l->tls.cert_pem,
		MHD_OPTION_HTTPS_MEM_KEY, l->tls.key_pem,
		MHD_OPTION_HTTPS_MEM_TRUST, l->srv->trust_pem,
		MHD_OPTION_HTTPS_MEM_DHPARAMS, l->tls.dh_pem,
		MHD_OPTION_HTTPS_PRIORITIES, l->tls.priority,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cl->threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cl->connection_limit,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned int)cl->per_ip_connection_limit,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)cl->connection_timeout,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
		MHD_OPTION_NOTIFY_CONNECTION, notify, l,
		MHD_OPTION_NOTIFY_COMPLETED, request_completed, l,
		MHD_OPTION_END);
	if (l->mhd == NULL) {
		*err = fmt("%s:%d: [listener %s]: cannot listen on %s port %u "
			   "(address in use, not local, or not permitted)",
			   l->srv->conf->path, cl->line_section, cl->name,
			   cl->address, cl->port);
		return -1;
	}
	info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_BIND_PORT);
	l->port = info != NULL ? info->port : cl->port;
	log_info("msg=\"listening\" listener=%s ca=%s address=%s port=%u "
		 "dh_bits=%u threads=%u priority=\"%s\"", cl->name, l->ca,
		 cl->address, l->port, l->tls.dh_bits, cl->threads,
		 l->tls.priority);
	return 0;
}

void listener_stop(struct listener *l)
{
	if (l->mhd != NULL) {
		MHD_stop_daemon(l->mhd);
		l->mhd = NULL;
	}
}
