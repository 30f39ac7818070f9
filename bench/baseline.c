/* bench/baseline.c: the ceiling for spaprovd's stack.  A bare GnuTLS
 * server: the same certificate, key, 1024-bit DH group and per-CA
 * priority strings as spaprovd's legacy listeners, the client certificate
 * requested in the first handshake, one epoll thread per core with
 * SO_REUSEPORT sockets on every port.  It reads the request up to the
 * blank line and sends fixed bytes as large as spaprovd's answer: no HTTP
 * parsing, no identity, no database, no ledger.
 *
 * With --resume it also keeps a session cache (gnutls_db_*, for session
 * IDs) and issues session tickets: what spaprovd would gain from them.
 * --key may be a PKCS#11 URL (a SoftHSM2 token), to price HSM keys. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/pkcs11.h>

#include "bench/bench.h"
#include "conf/conf.h"
#include "server/tls.h"

#define BS_MAX_REQ 8192            /* request head */
#define BS_EVENTS 256
#define BS_IDLE_S 30.0             /* close silent connections */
#define BS_CACHE_SLOTS 65536       /* session cache, direct mapped */
#define BS_CACHE_KEY 64
#define BS_CACHE_DATA 8192

enum sstate { S_HS, S_READ, S_WRITE };

struct sconn {
	struct sconn *prev, *next;
	int fd;
	gnutls_session_t s;
	enum sstate st;
	char req[BS_MAX_REQ];
	size_t req_len, out_off;
	double last;
};

struct slot {
	unsigned char key[BS_CACHE_KEY];
	unsigned key_len;
	gnutls_datum_t data;
};

struct bsrv {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio[BN_MAX_PORTS];
	unsigned ports[BN_MAX_PORTS];
	size_t n_ports;
	char *resp;
	size_t resp_len;
	int resume;
	gnutls_datum_t ticket_key;
	struct slot *cache;
	pthread_mutex_t cache_lock;
	atomic_int stop;
};

struct bthread {
	struct bsrv *srv;
	int ep;
	int lfd[BN_MAX_PORTS];
	struct sconn *head;
};

/* listeners in spaprovd's bench configuration, in port order */
static const enum conf_ca port_ca[BN_MAX_PORTS] = {
	CONF_CA_SIPURA, CONF_CA_LINKSYS, CONF_CA_SB, CONF_CA_SB2K,
	CONF_CA_SB2K, CONF_CA_SB2K, CONF_CA_SB2K, CONF_CA_SB2K,
};

static unsigned hash(const unsigned char *p, unsigned n)
{
	unsigned h = 2166136261u;

	for (unsigned i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % BS_CACHE_SLOTS;
}

static int db_store(void *ptr, gnutls_datum_t key, gnutls_datum_t data)
{
	struct bsrv *srv = ptr;
	struct slot *sl;

	if (key.size > BS_CACHE_KEY || data.size > BS_CACHE_DATA)
		return -1;
	sl = &srv->cache[hash(key.data, key.size)];
	pthread_mutex_lock(&srv->cache_lock);
	free(sl->data.data);
	sl->data.data = malloc(data.size);
	if (sl->data.data != NULL)
		memcpy(sl->data.data, data.data, data.size);
	sl->data.size = sl->data.data ? data.size : 0;
	memcpy(sl->key, key.data, key.size);
	sl->key_len = key.size;
	pthread_mutex_unlock(&srv->cache_lock);
	return 0;
}

static gnutls_datum_t db_fetch(void *ptr, gnutls_datum_t key)
{
	struct bsrv *srv = ptr;
	gnutls_datum_t out = { NULL, 0 };
	struct slot *sl;

	if (key.size > BS_CACHE_KEY)
		return out;
	sl = &srv->cache[hash(key.data, key.size)];
	pthread_mutex_lock(&srv->cache_lock);
	if (sl->key_len == key.size && sl->data.data != NULL &&
	    memcmp(sl->key, key.data, key.size) == 0) {
		out.data = gnutls_malloc(sl->data.size);
		if (out.data != NULL) {
			memcpy(out.data, sl->data.data, sl->data.size);
			out.size = sl->data.size;
		}
	}
	pthread_mutex_unlock(&srv->cache_lock);
	return out;
}

static int db_remove(void *ptr, gnutls_datum_t key)
{
	struct bsrv *srv = ptr;
	struct slot *sl;

	if (key.size > BS_CACHE_KEY)
		return -1;
	sl = &srv->cache[hash(key.data, key.size)];
	pthread_mutex_lock(&srv->cache_lock);
	if (sl->key_len == key.size && memcmp(sl->key, key.data,
					       key.size) == 0) {
		free(sl->data.data);
		sl->data.data = NULL;
		sl->key_len = 0;
	}
	pthread_mutex_unlock(&srv->cache_lock);
	return 0;
}

static void sc_close(struct bthread *th, struct sconn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		th->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	gnutls_deinit(c->s);
	close(c->fd);
	free(c);
}

static void sc_want(struct bthread *th, struct sconn *c, int out)
{
	struct epoll_event ev = { .events = out ? EPOLLOUT : EPOLLIN,
				  .data.ptr = c };

	epoll_ctl(th->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void sc_step(struct bthread *th, struct sconn *c)
{
	struct bsrv *srv = th->srv;
	int rc;

	c->last = bn_now();
	switch (c->st) {
	case S_HS:
		rc = gnutls_handshake(c->s);
		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
			sc_want(th, c, gnutls_record_get_direction(c->s));
			return;
		}
		if (rc < 0) {
			sc_close(th, c);
			return;
		}
		c->st = S_READ;
		sc_want(th, c, 0);
		/* fall through */
	case S_READ:
		for (;;) {
			ssize_t n = gnutls_record_recv(
				c->s, c->req + c->req_len,
				sizeof(c->req) - 1 - c->req_len);

			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				return;
			if (n <= 0) {
				sc_close(th, c);
				return;
			}
			c->req_len += (size_t)n;
			c->req[c->req_len] = '\0';
			if (strstr(c->req, "\r\n\r\n") != NULL)
				break;
			if (c->req_len >= sizeof(c->req) - 1) {
				sc_close(th, c);
				return;
			}
		}
		c->st = S_WRITE;
		/* fall through */
	case S_WRITE:
		while (c->out_off < srv->resp_len) {
			ssize_t n = gnutls_record_send(
				c->s, srv->resp + c->out_off,
				srv->resp_len - c->out_off);

			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				sc_want(th, c, 1);
				return;
			}
			if (n < 0) {
				sc_close(th, c);
				return;
			}
			c->out_off += (size_t)n;
		}
		gnutls_bye(c->s, GNUTLS_SHUT_WR); /* once; no waiting */
		sc_close(th, c);
		return;
	}
}

static void sc_accept(struct bthread *th, int lfd, size_t port)
{
	struct bsrv *srv = th->srv;

	for (int k = 0; k < 64; k++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };
		struct sconn *c;
		int one = 1;

		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (c == NULL || gnutls_init(&c->s, GNUTLS_SERVER |
							    GNUTLS_NONBLOCK) < 0) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->last = bn_now();
		gnutls_priority_set(c->s, srv->prio[port]);
		gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, srv->cred);
		gnutls_certificate_server_set_request(c->s, GNUTLS_CERT_REQUEST);
		gnutls_transport_set_int(c->s, fd);
		if (srv->resume) {
			gnutls_db_set_ptr(c->s, srv);
			gnutls_db_set_store_function(c->s, db_store);
			gnutls_db_set_retrieve_function(c->s, db_fetch);
			gnutls_db_set_remove_function(c->s, db_remove);
			gnutls_session_ticket_enable_server(c->s,
							    &srv->ticket_key);
		}
		c->next = th->head;
		if (th->head != NULL)
			th->head->prev = c;
		th->head = c;
		ev.data.ptr = c;
		epoll_ctl(th->ep, EPOLL_CTL_ADD, fd, &ev);
		sc_step(th, c);
	}
}

static void *bthread_main(void *arg)
{
	struct bthread *th = arg;
	struct epoll_event evs[BS_EVENTS];
	double last_scan = bn_now();

	while (!atomic_load(&th->srv->stop)) {
		int n = epoll_wait(th->ep, evs, BS_EVENTS, 200);
		double now;

		for (int i = 0; i < n; i++) {
			uintptr_t v = (uintptr_t)evs[i].data.ptr;

			if (v < BN_MAX_PORTS)
				sc_accept(th, th->lfd[v], (size_t)v);
			else
				sc_step(th, evs[i].data.ptr);
		}
		now = bn_now();
		if (now - last_scan > 1.0) {
			last_scan = now;
			for (struct sconn *c = th->head, *nx; c; c = nx) {
				nx = c->next;
				if (now - c->last > BS_IDLE_S)
					sc_close(th, c);
			}
		}
	}
	while (th->head != NULL)
		sc_close(th, th->head);
	return NULL;
}

static int listen_on(unsigned *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t l = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
						  SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)*port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &l) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "usage: spaprov-bench serve-baseline --pki DIR "
			"--ports-file FILE [--threads N] [--ports N] "
			"[--resume] [--key FILE|PKCS11-URL] "
			"[--response-bytes N]\n");
	exit(2);
}

int bn_baseline_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pki", required_argument, NULL, 'p' },
		{ "ports-file", required_argument, NULL, 'f' },
		{ "threads", required_argument, NULL, 't' },
		{ "ports", required_argument, NULL, 'n' },
		{ "resume", no_argument, NULL, 'r' },
		{ "key", required_argument, NULL, 'k' },
		{ "response-bytes", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	struct bsrv srv = { 0 };
	struct bthread th[BN_MAX_THREADS];
	pthread_t tid[BN_MAX_THREADS];
	const char *pkidir = NULL, *ports_file = NULL, *key = NULL;
	char crt[BN_MAX_PATH + 16], keyf[BN_MAX_PATH + 16];
	char dhf[BN_MAX_PATH + 16], roots[BN_MAX_PATH + 32];
	unsigned nth = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	long body_bytes = -1;
	gnutls_dh_params_t dh;
	gnutls_datum_t d;
	sigset_t set;
	int ch, sig, rc;

	optind = 0;
	srv.n_ports = 4;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': pkidir = optarg; break;
		case 'f': ports_file = optarg; break;
		case 't': nth = (unsigned)atoi(optarg); break;
		case 'n': srv.n_ports = (size_t)atoi(optarg); break;
		case 'r': srv.resume = 1; break;
		case 'k': key = optarg; break;
		case 'b': body_bytes = atol(optarg); break;
		default: usage();
		}
	}
	if (pkidir == NULL || ports_file == NULL || nth < 1 ||
	    nth > BN_MAX_THREADS || srv.n_ports < 1 ||
	    srv.n_ports > BN_MAX_PORTS)
		usage();
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	snprintf(crt, sizeof(crt), "%s/server.crt", pkidir);
	snprintf(keyf, sizeof(keyf), "%s/server.key", pkidir);
	snprintf(dhf, sizeof(dhf), "%s/dh1024.pem", pkidir);
	snprintf(roots, sizeof(roots), "%s/client-root.crt", pkidir);
	if (key != NULL && strncmp(key, "pkcs11:", 7) == 0)
		gnutls_pkcs11_init(GNUTLS_PKCS11_FLAG_AUTO, NULL);
	gnutls_certificate_allocate_credentials(&srv.cred);
	rc = gnutls_certificate_set_x509_key_file2(
		srv.cred, crt, key ? key : keyf, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0)
		bn_die("server key %s: %s", key ? key : keyf,
		       gnutls_strerror(rc));
	if (gnutls_certificate_set_x509_trust_file(srv.cred, roots,
						   GNUTLS_X509_FMT_PEM) < 0)
		bn_die("client roots %s", roots);
	if (gnutls_load_file(dhf, &d) < 0)
		bn_die("cannot read %s", dhf);
	gnutls_dh_params_init(&dh);
	if (gnutls_dh_params_import_pkcs3(dh, &d, GNUTLS_X509_FMT_PEM) < 0)
		bn_die("%s: not PKCS#3", dhf);
	gnutls_free(d.data);
	gnutls_certificate_set_dh_params(srv.cred, dh);
	for (size_t p = 0; p < srv.n_ports; p++)
		if (gnutls_priority_init(&srv.prio[p],
					 tls_default_priority(port_ca[p]),
					 NULL) < 0)
			bn_die("priority");
	if (srv.resume) {
		srv.cache = calloc(BS_CACHE_SLOTS, sizeof(*srv.cache));
		if (srv.cache == NULL ||
		    gnutls_session_ticket_key_generate(&srv.ticket_key) < 0)
			bn_die("session cache");
		pthread_mutex_init(&srv.cache_lock, NULL);
	}
	{
		/* the bytes spaprovd sends for phone 0 */
		size_t blen;
		char *body = bn_render_profile(0, &blen);
		char *r = NULL;
		int n;

		if (body_bytes >= 0 && (size_t)body_bytes < blen)
			blen = (size_t)body_bytes;
		n = asprintf(&r, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
			     "Content-Length: %zu\r\nContent-Type: text/xml; "
			     "charset=utf-8\r\nCache-Control: no-store\r\n"
			     "Date: Mon, 23 Nov 2026 15:04:05 GMT\r\n\r\n%.*s",
			     blen, (int)blen, body);
		if (n < 0)
			bn_die("out of memory");
		srv.resp = r;
		srv.resp_len = (size_t)n;
		free(body);
	}
	memset(th, 0, sizeof(th));
	for (unsigned t = 0; t < nth; t++) {
		th[t].srv = &srv;
		th[t].ep = epoll_create1(EPOLL_CLOEXEC);
		for (size_t p = 0; p < srv.n_ports; p++) {
			struct epoll_event ev = { .events = EPOLLIN,
						  .data.ptr = (void *)(uintptr_t)p };

			th[t].lfd[p] = listen_on(&srv.ports[p]);
			if (th[t].lfd[p] < 0)
				bn_die("cannot listen: %s", strerror(errno));
			epoll_ctl(th[t].ep, EPOLL_CTL_ADD, th[t].lfd[p], &ev);
		}
	}
	{
		char buf[512];
		size_t len = 0;

		for (size_t p = 0; p < srv.n_ports; p++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
						"%s %u\n",
						conf_ca_name(port_ca[p]),
						srv.ports[p]);
		if (bn_write_file(ports_file, buf, len, 0644) < 0)
			bn_die("cannot write %s", ports_file);
	}
	for (unsigned t = 0; t < nth; t++)
		pthread_create(&tid[t], NULL, bthread_main, &th[t]);
	while (sigwait(&set, &sig) != 0)
		;
	atomic_store(&srv.stop, 1);
	for (unsigned t = 0; t < nth; t++) {
		pthread_join(tid[t], NULL);
		for (size_t p = 0; p < srv.n_ports; p++)
			close(th[t].lfd[p]);
		close(th[t].ep);
	}
	for (size_t p = 0; p < srv.n_ports; p++)
		gnutls_priority_deinit(srv.prio[p]);
	gnutls_certificate_free_credentials(srv.cred);
	gnutls_dh_params_deinit(dh);
	if (srv.cache != NULL) {
		for (size_t i = 0; i < BS_CACHE_SLOTS; i++)
			free(srv.cache[i].data.data);
		free(srv.cache);
		gnutls_free(srv.ticket_key.data);
	}
	free(srv.resp);
	return 0;
}
