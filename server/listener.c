#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "ident/idcache.h"
#include "util/str.h"
#include "fleet/steer.h"
#include "server/conn.h"
#include "server/iplimit.h"
#include "server/metrics.h"
#include "server/request.h"
#include "server/server.h"
#include "server/sessions.h"
#include "server/workers.h"
#include "util/log.h"

#define LISTENER_BACKLOG 1024

_Static_assert(CONF_MAX_TLS_SESSION_CACHE <= SESSIONS_MAX_ENTRIES,
	       "tls_session_cache above SESSIONS_MAX_ENTRIES");

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

	if (c->tls == NULL)
		return; /* plain HTTP: no handshake to fail */
	f.error = conn_handshake_failure(c, reason, sizeof(reason));
	if (f.error == NULL)
		return;
	f.client_hello = c->hello[0] ? c->hello : NULL;
	db_timestamp(f.ts);
	log_info("msg=\"TLS handshake failed\" listener=%s remote=%s "
		 "error=\"%s\" hello=\"%s\"", l->cl->name, c->remote, f.error,
		 c->hello);
	ledger_record_hsfail(l->srv->ledger, &f);
	metrics_handshake_failure(l->cl->name, l->ca, f.error);
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
			if (l->iplimit != NULL)
				iplimit_count(l->iplimit, c->remote, -1);
			record_failure(l, c);
			sessions_unlink(&c->resume);
			conn_free(c);
			*socket_context = NULL;
		}
		return;
	}
	if (l->cl->mode == CONF_MODE_PLAIN) { /* no TLS session to watch */
		peer_name(connection, remote, sizeof(remote));
		*socket_context = c = conn_new(NULL, remote);
		if (c != NULL && l->iplimit != NULL)
			iplimit_count(l->iplimit, c->remote, +1);
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
	c->max_chain = l->cl->max_client_chain;
	c->max_cert_msg = l->cl->max_client_cert_size;
	*socket_context = c;
	if (l->iplimit != NULL)
		iplimit_count(l->iplimit, c->remote, +1);
	if (gnutls_session_get_ptr(info->tls_session) == NULL)
		gnutls_session_set_ptr(info->tls_session, connection);
	conn_install_hook(info->tls_session, conn_from_session);
	if (l->tls.p11 != NULL &&
	    tls_p11_bind(l->tls.p11, info->tls_session) < 0)
		log_error("listener=%s msg=\"PKCS#11 key not bound: the "
			  "handshake will fail\"", l->cl->name);
	if (sessions_install(l->sessions, &c->resume, info->tls_session) < 0)
		log_debug("listener=%s msg=\"session tickets not enabled\"",
			  l->cl->name);
}

static void mhd_log(void *cls, const char *fm, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fm, va_list ap)
{
	struct listener *l = cls;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fm, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	/* a request libmicrohttpd refused itself (request line over
	 * max_header_size, not HTTP) has no ledger row: keep it visible */
	if (strncmp(msg, "Error processing request", 24) == 0)
		log_info("listener=%s msg=\"libmicrohttpd: %.120s\"",
			 l->cl->name, msg);
	else
		log_debug("listener=%s msg=\"libmicrohttpd: %s\"",
			  l->cl->name, msg);
}

static int make_addr(const struct conf_listener *cl,
		     struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, cl->address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)cl->port);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, cl->address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)cl->port);
		*len = sizeof(*v6);
		return 0;
	}
	return -1;
}

struct listener *listener_new(struct server *srv, struct gen *gen,
			      const struct conf_listener *cl, char **err)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		*err = str_printf("out of memory");
		return NULL;
	}
	l->srv = srv;
	l->cl = cl;
	l->ca = conf_ca_name(cl->ca);
	l->fd = -1;
	if (cl->mode != CONF_MODE_PLAIN &&
	    tls_material_load(gen->conf, cl, &l->tls, err) < 0) {
		free(l);
		return NULL;
	}
	if (cl->mode != CONF_MODE_PLAIN && cl->tls_session_cache > 0) {
		/* mutual: cache only sessions with a trusted client chain */
		l->sessions = sessions_new(
			cl->tls_session_cache, cl->tls_session_lifetime,
			cl->mode == CONF_MODE_MUTUAL ? gen->trust : NULL, err);
		if (l->sessions == NULL) {
			tls_material_free(&l->tls);
			free(l);
			return NULL;
		}
		if (cl->mode == CONF_MODE_MUTUAL)
			sessions_use_idcache(l->sessions, gen->idcache);
	}
	l->gen = gen;
	gen->refs++;
	return l;
}

int listener_bind(struct listener *l, char **err)
{
	const struct conf_listener *cl = l->cl;
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int one = 1;

	if (make_addr(cl, &ss, &len) < 0) {
		*err = str_printf("%s:%d: address: not a numeric IP address",
			   l->gen->conf->path, cl->line_address);
		return -1;
	}
	l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			sizeof(one)) < 0) ||
	    bind(l->fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(l->fd, LISTENER_BACKLOG) < 0) {
		*err = str_printf("%s:%d: [listener %s]: cannot listen on %s port %u: "
			   "%s", l->gen->conf->path, cl->line_section, cl->name,
			   cl->address, cl->port, strerror(errno));
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
		return -1;
	}
	len = sizeof(ss);
	if (getsockname(l->fd, (struct sockaddr *)&ss, &len) == 0)
		l->port = ntohs(ss.ss_family == AF_INET6
					? ((struct sockaddr_in6 *)&ss)->sin6_port
					: ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

void listener_take_socket(struct listener *l, struct listener *old)
{
	l->fd = old->fd;
	l->port = old->port;
	old->fd = -1;
}

/* per_ip_connection_limit, counted across the listener's threads. */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr,
				     socklen_t len)
{
	struct listener *l = cls;
	char host[64];

	if (l->iplimit == NULL ||
	    getnameinfo(addr, len, host, sizeof(host), NULL, 0,
			NI_NUMERICHOST) != 0)
		return MHD_YES;
	if (iplimit_allowed(l->iplimit, host))
		return MHD_YES;
	log_info("msg=\"connection refused: per_ip_connection_limit\" "
		 "listener=%s remote=%s limit=%u", l->cl->name, host,
		 l->cl->per_ip_connection_limit);
	return MHD_NO;
}

/* One libmicrohttpd daemon on the listener's socket, run by a worker. */
static struct MHD_Daemon *start_daemon(struct listener *l, unsigned flags,
				       struct MHD_OptionItem *tls,
				       unsigned connection_limit)
{
	const struct conf_listener *cl = l->cl;

	return MHD_start_daemon(
		flags, 0, accept_policy, l, request_handle, l,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, l,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)l->fd,
		MHD_OPTION_ARRAY, tls,
		MHD_OPTION_CONNECTION_LIMIT, connection_limit,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)cl->connection_timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)cl->max_header_size,
		MHD_OPTION_URI_LOG_CALLBACK, request_start, l,
		MHD_OPTION_NOTIFY_CONNECTION, notify, l,
		MHD_OPTION_NOTIFY_COMPLETED, request_completed, l,
		MHD_OPTION_END);
}

int listener_start(struct listener *l, char **err)
{
	const struct conf_listener *cl = l->cl;
	/* run by our workers: no thread of libmicrohttpd's own; a request
	 * waits for its ledger row suspended, not in a thread */
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	/* mode = plain: none of these; server-auth: no client roots, so no
	 * client certificate is asked for */
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, l->tls.cert_pem },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, l->tls.key_pem },
		{ MHD_OPTION_HTTPS_MEM_DHPARAMS, 0, l->tls.dh_pem },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, l->tls.priority },
		{ MHD_OPTION_HTTPS_MEM_TRUST, 0, l->gen->trust_pem },
		{ MHD_OPTION_END, 0, NULL },
	};
	unsigned n, per_daemon;

	if (cl->mode == CONF_MODE_PLAIN)
		tls[0].option = MHD_OPTION_END;
	else
		flags |= MHD_USE_TLS;
	if (cl->mode == CONF_MODE_SERVER_AUTH)
		tls[4].option = MHD_OPTION_END;
	if (l->tls.p11 != NULL) { /* no PEM key: the callback hands out the
				     chain and the token's key */
		if (tls_p11_check_use(l->tls.p11, err) < 0) {
			char *inner = *err;

			*err = str_printf("%s:%d: key: %s", l->gen->conf->path,
				   cl->line_key, inner);
			free(inner);
			return -1;
		}
		tls[1].option = MHD_OPTION_HTTPS_CERT_CALLBACK2;
		tls[1].ptr_value = (void *)tls_p11_retrieve;
		log_info("msg=\"server key on a PKCS#11 token\" listener=%s "
			 "token=\"%s\"", cl->name, tls_p11_token(l->tls.p11));
	}
	if (strchr(cl->address, ':') != NULL)
		flags |= MHD_USE_IPv6;
	if (cl->per_ip_connection_limit > 0 &&
	    (l->iplimit = iplimit_new(cl->per_ip_connection_limit)) == NULL) {
		*err = str_printf("out of memory");
		return -1;
	}
	if (cl->threads > 0) {
		if (workers_start(cl->threads, cl->name, &l->own_pool,
				  err) < 0)
			return -1;
		l->pool = l->own_pool;
	} else {
		l->pool = l->srv->workers;
	}
	n = workers_count(l->pool);
	l->mhd = calloc(n, sizeof(*l->mhd));
	if (l->mhd == NULL) {
		*err = str_printf("out of memory");
		return -1;
	}
	/* every thread accepts on the one socket: the limit is shared */
	per_daemon = (cl->connection_limit + n - 1) / n;
	steer_hosts_bound(l->gen->hosts, cl->name, l->port);
	for (unsigned i = 0; i < n; i++) {
		l->mhd[i] = start_daemon(l, flags, tls, per_daemon);
		if (l->mhd[i] == NULL) {
			*err = str_printf("%s:%d: [listener %s]: libmicrohttpd "
				   "could not start on %s port %u",
				   l->gen->conf->path, cl->line_section,
				   cl->name, cl->address, l->port);
			return -1;
		}
		l->n_mhd = i + 1;
		if (workers_attach(l->pool, i, l->mhd[i], err) < 0)
			return -1;
		l->n_attached = i + 1;
	}
	log_info("msg=\"listening\" listener=%s ca=%s address=%s port=%u "
		 "dh_bits=%u threads=%u%s tls_session_cache=%u priority=\"%s\"",
		 cl->name, l->ca, cl->address, l->port, l->tls.dh_bits, n,
		 l->own_pool != NULL ? " (its own)" : " (shared)",
		 cl->tls_session_cache,
		 l->tls.priority != NULL ? l->tls.priority : "none (plain HTTP)");
	metrics_sessions_attach(cl->name, l->ca, l->sessions);
	if (cl->mode != CONF_MODE_MUTUAL)
		log_info("msg=\"no client certificates: encrypted profiles by "
			 "the MAC in the URL%s\" listener=%s mode=%s",
			 cl->mode == CONF_MODE_PLAIN ? ", firmware" : "",
			 cl->name, conf_mode_name(cl->mode));
	return 0;
}

static void quiesce_one(void *arg)
{
	MHD_quiesce_daemon(arg);
}

void listener_quiesce(struct listener *l)
{
	if (l->quiesced)
		return;
	/* every daemon gives the socket back; it stays open (l->fd) */
	for (unsigned i = 0; i < l->n_attached; i++)
		workers_call(l->pool, i, quiesce_one, l->mhd[i]);
	for (unsigned i = l->n_attached; i < l->n_mhd; i++)
		MHD_quiesce_daemon(l->mhd[i]); /* started, never run */
	l->quiesced = 1;
}

struct count_call {
	struct MHD_Daemon *d;
	unsigned n;
};

static void count_one(void *arg)
{
	struct count_call *c = arg;
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(c->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	c->n = info != NULL ? info->num_connections : 0;
}

unsigned listener_worker_of(const struct listener *l,
			    struct MHD_Connection *connection)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(connection, MHD_CONNECTION_INFO_DAEMON);

	for (unsigned i = 0; info != NULL && i < l->n_mhd; i++)
		if (l->mhd[i] == info->daemon)
			return i;
	return 0;
}

unsigned listener_connections(struct listener *l)
{
	unsigned total = 0;

	for (unsigned i = 0; i < l->n_attached; i++) {
		struct count_call c = { .d = l->mhd[i] };

		workers_call(l->pool, i, count_one, &c);
		total += c.n;
	}
	return total;
}

void gen_release(struct gen *gen)
{
	if (gen == NULL || --gen->refs > 0)
		return;
	if (gen->idcache != NULL) {
		struct idcache_stats st;

		idcache_stats(gen->idcache, &st);
		if (st.hits + st.misses > 0) /* it served */
			log_info("msg=\"identity cache\" entries=%zu hits=%llu "
				 "misses=%llu evicted=%llu expired=%llu",
				 st.entries, (unsigned long long)st.hits,
				 (unsigned long long)st.misses,
				 (unsigned long long)st.evicted,
				 (unsigned long long)st.expired);
	}
	idcache_free(gen->idcache); /* before the trust it points to */
	trust_free(gen->trust);
	steer_hosts_free(gen->hosts);
	free(gen->trust_pem);
	conf_free(gen->conf);
	free(gen);
}

void listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	if (l->n_mhd > 0) {
		/* no daemon may close the socket the others still use */
		listener_quiesce(l);
		for (unsigned i = 0; i < l->n_attached; i++)
			workers_detach(l->pool, i, l->mhd[i]);
		/* requests waiting for their row are resumed by the ledger:
		 * libmicrohttpd must not be stopped with one suspended */
		ledger_flush(l->srv->ledger);
		for (unsigned i = 0; i < l->n_mhd; i++)
			MHD_stop_daemon(l->mhd[i]);
	}
	workers_stop(l->own_pool);
	if (l->fd >= 0)
		close(l->fd);
	if (l->sessions != NULL && l->n_mhd > 0) {
		struct sessions_stats st;

		sessions_get_stats(l->sessions, &st);
		log_info("msg=\"TLS session cache\" listener=%s entries=%zu "
			 "bytes=%zu hits=%llu misses=%llu stored=%llu "
			 "uncacheable=%llu refused=%llu evicted=%llu "
			 "expired=%llu", l->cl->name, st.entries, st.bytes,
			 st.hits, st.misses, st.stored, st.uncacheable,
			 st.refused, st.evicted, st.expired);
	}
	metrics_sessions_detach(l->sessions); /* before it is freed */
	sessions_free(l->sessions);
	iplimit_free(l->iplimit);
	free(l->mhd);
	tls_material_free(&l->tls);
	gen_release(l->gen);
	free(l);
}

static int str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int listener_same(const struct listener *a, const struct listener *b)
{
	const struct conf_listener *x = a->cl, *y = b->cl;
	const struct conf *cx = a->gen->conf, *cy = b->gen->conf;

	return str_eq(x->name, y->name) && x->ca == y->ca &&
	       x->mode == y->mode &&
	       str_eq(cx->firmware_dir, cy->firmware_dir) &&
	       str_eq(x->address, y->address) && x->port == y->port &&
	       x->threads == y->threads &&
	       x->connection_limit == y->connection_limit &&
	       x->per_ip_connection_limit == y->per_ip_connection_limit &&
	       x->connection_timeout == y->connection_timeout &&
	       x->max_header_size == y->max_header_size &&
	       x->max_body_size == y->max_body_size &&
	       x->max_url_length == y->max_url_length &&
	       x->max_headers == y->max_headers &&
	       x->max_client_chain == y->max_client_chain &&
	       x->max_client_cert_size == y->max_client_cert_size &&
	       x->tls_session_cache == y->tls_session_cache &&
	       x->tls_session_lifetime == y->tls_session_lifetime &&
	       str_eq(a->tls.cert_pem, b->tls.cert_pem) &&
	       tls_material_same_key(&a->tls, &b->tls) &&
	       str_eq(a->tls.dh_pem, b->tls.dh_pem) &&
	       str_eq(a->tls.priority, b->tls.priority) &&
	       str_eq(a->gen->trust_pem, b->gen->trust_pem) &&
	       cx->client_cert_time_check == cy->client_cert_time_check &&
	       cx->unknown_devices == cy->unknown_devices &&
	       x->pin_policy == y->pin_policy &&
	       x->generic_policy == y->generic_policy &&
	       steer_hosts_same(a->gen->hosts, b->gen->hosts);
}
