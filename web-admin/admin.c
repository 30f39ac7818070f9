#include "config.h"

/* web-admin: the admin listener.  libmicrohttpd calls admin_access() for
 * every request; it collects the body, then dispatch() finds the route,
 * checks who is asking and the CSRF token, and runs the handler. */

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "util/str.h"
#include "server/server.h"
#include "server/tls.h"
#include "util/log.h"
#include "web-admin/admin.h"
#include "web-admin/internal.h"

#define ADMIN_MAX_PEM (1u << 20)   /* certificate or key file, bytes */
#define ADMIN_TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define ADMIN_BACKLOG 128

static void peer_name(struct MHD_Connection *c, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	snprintf(buf, size, "?");
	if (info == NULL || info->client_addr == NULL)
		return;
	getnameinfo(info->client_addr,
		    info->client_addr->sa_family == AF_INET6
			    ? sizeof(struct sockaddr_in6)
			    : sizeof(struct sockaddr_in),
		    buf, (socklen_t)size, NULL, 0, NI_NUMERICHOST);
}

/* "scheme://host" of the Origin header must be ours when present: a
 * second fence, behind SameSite=Strict cookies and CSRF tokens. */
static int origin_ok(struct areq *r)
{
	const char *origin = MHD_lookup_connection_value(
		r->conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(
		r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *scheme = r->adm->https ? "https://" : "http://";
	size_t n = strlen(scheme);

	if (origin == NULL)
		return 1;
	if (host == NULL || strncmp(origin, scheme, n) != 0)
		return 0;
	return strcmp(origin + n, host) == 0;
}

static int is_safe_method(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

static enum MHD_Result dispatch(struct areq *r)
{
	const struct admin_route *route;
	int wrong_method = 0;

	if (strlen(r->url) > ADMIN_MAX_URL)
		return admin_reply_error(r, MHD_HTTP_URI_TOO_LONG,
					 "uri-too-long", "path too long");
	if (r->too_large)
		return admin_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
					 "body-too-large",
					 "request body larger than %u bytes",
					 ADMIN_MAX_BODY);
	route = admin_route_find(r->method, r->url, r->param, &wrong_method);
	if (route == NULL && !wrong_method &&
	    strncmp(r->url, "/api/", 5) != 0) {
		if (!is_safe_method(r->method))
			return admin_reply_error(r, MHD_HTTP_METHOD_NOT_ALLOWED,
						 "method-not-allowed",
						 "method not allowed");
		return admin_static(r);
	}
	if (route == NULL)
		return wrong_method
			       ? admin_reply_error(r, MHD_HTTP_METHOD_NOT_ALLOWED,
						   "method-not-allowed",
						   "method not allowed here")
			       : admin_reply_error(r, MHD_HTTP_NOT_FOUND,
						   "not-found", "no such API");
	if (route->flags & ROUTE_NO_DB)
		return route->handler(r); /* public, safe methods only */
	r->db = server_thread_db(r->adm->srv);
	if (r->db == NULL)
		return admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
					 "database-error",
					 "cannot open the database");
	if (!is_safe_method(r->method) && !origin_ok(r))
		return admin_reply_error(r, MHD_HTTP_FORBIDDEN, "bad-origin",
					 "cross-origin request refused");
	if (!(route->flags & ROUTE_PUBLIC)) {
		if (admin_authenticate(r) < 0)
			return admin_reply_error(r, MHD_HTTP_UNAUTHORIZED,
						 "unauthenticated",
						 "log in first");
		if (!is_safe_method(r->method) && !admin_csrf_ok(r))
			return admin_reply_error(r, MHD_HTTP_FORBIDDEN, "csrf",
						 "missing or wrong CSRF token");
	}
	return route->handler(r);
}

static void take_upload(struct areq *r, const char *data, size_t size)
{
	char *nb;

	if (r->too_large || r->body_len + size > ADMIN_MAX_BODY) {
		r->too_large = 1;
		return;
	}
	nb = realloc(r->body, r->body_len + size + 1);
	if (nb == NULL) {
		r->too_large = 1;
		return;
	}
	memcpy(nb + r->body_len, data, size);
	r->body = nb;
	r->body_len += size;
	r->body[r->body_len] = '\0';
}

static struct areq *req_new(struct admin *adm, struct MHD_Connection *c,
			    const char *url, const char *method)
{
	struct areq *r = calloc(1, sizeof(*r));
	const char *len;

	if (r == NULL)
		return NULL;
	r->adm = adm;
	r->conn = c;
	r->url = url;
	r->method = method;
	peer_name(c, r->remote, sizeof(r->remote));
	len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					  MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (len != NULL && strtoull(len, NULL, 10) > ADMIN_MAX_BODY)
		r->too_large = 1;
	return r;
}

static enum MHD_Result admin_access(void *cls, struct MHD_Connection *c,
				    const char *url, const char *method,
				    const char *version,
				    const char *upload_data,
				    size_t *upload_data_size, void **req_cls)
{
	struct areq *r = *req_cls;

	(void)version;
	if (r == NULL) {
		r = req_new(cls, c, url, method);
		*req_cls = r;
		return r != NULL ? MHD_YES : MHD_NO;
	}
	if (*upload_data_size > 0) {
		take_upload(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return dispatch(r);
}

static void admin_completed(void *cls, struct MHD_Connection *c,
			    void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct areq *r = *req_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (r == NULL)
		return;
	free(r->body);
	free(r->set_cookie);
	free(r);
	*req_cls = NULL;
}

static void mhd_log(void *cls, const char *fm, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fm, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_debug("listener=admin msg=\"libmicrohttpd: %s\"", msg);
}

/* The certificate and key parse and belong together. */
static int load_tls(struct admin *adm, const struct conf *conf, char **err)
{
	const struct conf_admin *ca = &conf->admin;
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_datum_t c, k;
	size_t len;
	int rc;

	if (tls_read_file(ca->certificate, ADMIN_MAX_PEM, &adm->cert_pem, &len,
			  err) < 0 ||
	    tls_read_file(ca->key, ADMIN_MAX_PEM, &adm->key_pem, &len, err) < 0)
		return -1;
	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		*err = str_printf("out of memory");
		return -1;
	}
	c.data = (unsigned char *)adm->cert_pem;
	c.size = (unsigned)strlen(adm->cert_pem);
	k.data = (unsigned char *)adm->key_pem;
	k.size = (unsigned)strlen(adm->key_pem);
	rc = gnutls_certificate_set_x509_key_mem(cred, &c, &k,
						 GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(cred);
	if (rc < 0) {
		*err = str_printf("%s:%d: key: does not go with the certificate %s "
			   "(%s)", conf->path, ca->line_key, ca->certificate,
			   gnutls_strerror(rc));
		return -1;
	}
	adm->https = 1;
	return 0;
}

/* The front end must be there: index.html readable. */
static int load_assets(struct admin *adm, const struct conf *conf, char **err)
{
	const struct conf_admin *ca = &conf->admin;
	char *index = NULL;
	int ret = -1;

	adm->assets = strdup(ca->assets != NULL ? ca->assets
				: SPAPROV_PKGDATADIR "/web-admin");
	if (adm->assets == NULL)
		return -1;
	index = str_printf("%s/index.html", adm->assets);
	if (index == NULL)
		return -1;
	if (access(index, R_OK) < 0) {
		*err = str_printf("%s:%d: assets: cannot read %s: %s", conf->path,
			   ca->assets != NULL ? ca->line_assets
					      : ca->line_section,
			   index, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(index);
	return ret;
}

static int make_addr(const char *address, unsigned port,
		     struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return 0;
	}
	return -1;
}

/* Bind and listen, with the privileges spaprovd was started with. */
static int bind_admin(struct admin *adm, const struct conf *conf, char **err)
{
	const struct conf_admin *ca = &conf->admin;
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int one = 1;

	if (make_addr(ca->address, ca->port, &ss, &len) < 0) {
		*err = str_printf("%s:%d: address: not a numeric IP address",
			   conf->path, ca->line_address);
		return -1;
	}
	adm->ipv6 = ss.ss_family == AF_INET6;
	adm->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (adm->fd < 0 ||
	    setsockopt(adm->fd, SOL_SOCKET, SO_REUSEADDR, &one,
		       sizeof(one)) < 0 ||
	    (adm->ipv6 && setsockopt(adm->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
				     sizeof(one)) < 0) ||
	    bind(adm->fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(adm->fd, ADMIN_BACKLOG) < 0) {
		*err = str_printf("%s:%d: [admin]: cannot listen on %s port %u: %s",
			   conf->path, ca->line_section, ca->address, ca->port,
			   strerror(errno));
		return -1;
	}
	len = sizeof(ss);
	if (getsockname(adm->fd, (struct sockaddr *)&ss, &len) == 0)
		adm->port = ntohs(adm->ipv6
				  ? ((struct sockaddr_in6 *)&ss)->sin6_port
				  : ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

static void admin_free(struct admin *adm)
{
	if (adm == NULL)
		return;
	if (adm->mhd != NULL)
		MHD_stop_daemon(adm->mhd);
	else if (adm->fd >= 0)
		close(adm->fd);
	free(adm->cert_pem);
	if (adm->key_pem != NULL) {
		explicit_bzero(adm->key_pem, strlen(adm->key_pem));
		free(adm->key_pem);
	}
	free(adm->assets);
	free(adm->address);
	json_decref(adm->listeners);
	if (adm->gen != NULL)
		gen_release(adm->gen);
	pthread_rwlock_destroy(&adm->gen_lock);
	pthread_mutex_destroy(&adm->lock);
	free(adm->health_err);
	pthread_mutex_destroy(&adm->health_lock);
	free(adm);
}

int admin_setup(struct server *srv, int test_only, char **err)
{
	const struct conf *conf = srv->gen->conf;
	struct admin *adm;

	if (!conf->admin.enabled || srv->admin != NULL)
		return 0;
	adm = calloc(1, sizeof(*adm));
	if (adm == NULL) {
		*err = str_printf("out of memory");
		return -1;
	}
	adm->srv = srv;
	adm->fd = -1;
	pthread_mutex_init(&adm->lock, NULL);
	pthread_mutex_init(&adm->health_lock, NULL);
	pthread_rwlock_init(&adm->gen_lock, NULL);
	adm->started = time(NULL);
	adm->session_timeout = conf->admin.session_timeout;
	adm->address = strdup(conf->admin.address);
	if (adm->address == NULL ||
	    (conf->admin.certificate != NULL && load_tls(adm, conf, err) < 0) ||
	    load_assets(adm, conf, err) < 0 ||
	    (!test_only && bind_admin(adm, conf, err) < 0)) {
		if (*err == NULL)
			*err = str_printf("out of memory");
		admin_free(adm);
		return -1;
	}
	srv->admin = adm;
	return 0;
}

int admin_start(struct server *srv, char **err)
{
	struct MHD_OptionItem tls[] = { { MHD_OPTION_END, 0, NULL },
					{ MHD_OPTION_END, 0, NULL },
					{ MHD_OPTION_END, 0, NULL },
					{ MHD_OPTION_END, 0, NULL } };
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_ERROR_LOG | MHD_USE_ITC;
	struct admin *adm;

	if (admin_setup(srv, 0, err) < 0)
		return -1;
	if ((adm = srv->admin) == NULL)
		return 0;
	if (adm->https) {
		flags |= MHD_USE_TLS;
		tls[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
						  adm->cert_pem };
		tls[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
						  adm->key_pem };
		tls[2] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
						  (void *)ADMIN_TLS_PRIORITY };
	}
	if (adm->ipv6)
		flags |= MHD_USE_IPv6;
	admin_reloaded(srv);
	adm->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, admin_access, adm,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, adm,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)adm->fd,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)ADMIN_THREADS,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)ADMIN_CONNECTION_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)ADMIN_CONNECTION_TIMEOUT,
		MHD_OPTION_NOTIFY_COMPLETED, admin_completed, adm,
		MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
	if (adm->mhd == NULL) {
		*err = str_printf("%s: [admin]: libmicrohttpd could not start on %s "
			   "port %u", srv->gen->conf->path, adm->address,
			   adm->port);
		return -1;
	}
	log_info("msg=\"listening\" listener=admin address=%s port=%u "
		 "scheme=%s assets=%s session_timeout=%u", adm->address,
		 adm->port, adm->https ? "https" : "http", adm->assets,
		 adm->session_timeout);
	return 0;
}

void admin_stop(struct server *srv)
{
	admin_free(srv->admin);
	srv->admin = NULL;
}

void admin_reloaded(struct server *srv)
{
	struct admin *adm = srv->admin;
	json_t *facts;

	if (adm == NULL)
		return;
	facts = admin_listener_facts(srv);
	pthread_mutex_lock(&adm->lock);
	json_decref(adm->listeners);
	adm->listeners = facts;
	pthread_mutex_unlock(&adm->lock);
	/* generation references are the main thread's: take the new one
	 * here, and drop the old one once no request reads it */
	if (adm->gen != srv->gen) {
		struct gen *old;

		srv->gen->refs++;
		pthread_rwlock_wrlock(&adm->gen_lock);
		old = adm->gen;
		adm->gen = srv->gen;
		pthread_rwlock_unlock(&adm->gen_lock);
		if (old != NULL)
			gen_release(old);
	}
}

const struct gen *admin_gen_hold(struct admin *adm)
{
	pthread_rwlock_rdlock(&adm->gen_lock);
	return adm->gen;
}

void admin_gen_done(struct admin *adm)
{
	pthread_rwlock_unlock(&adm->gen_lock);
}

json_t *admin_listeners_copy(struct admin *adm)
{
	json_t *copy;

	pthread_mutex_lock(&adm->lock);
	copy = json_deep_copy(adm->listeners);
	pthread_mutex_unlock(&adm->lock);
	return copy != NULL ? copy : json_array();
}

unsigned admin_port(const struct server *srv)
{
	return srv->admin != NULL ? srv->admin->port : 0;
}
