/* bench/client.c: the simulated phones.
 *
 * Each client thread runs an epoll loop over non-blocking sockets and
 * non-blocking GnuTLS sessions.  A resync is what a phone does: connect,
 * full mutual handshake with its own certificate (or a resumption), one
 * GET /spa<mac>.xml with its User-Agent, read the response, close.
 * Closed loop: `concurrency` resyncs in flight, a new one as soon as one
 * ends.  Open loop (storm): resync j starts at its arrival time whatever
 * the server's state; latency is counted from that arrival time. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench.h"

#define BN_EVENTS 256
#define BN_RESP_CHUNK 16384
#define BN_LOCK_STRIPES 64
#define BN_SESSION_MAX 8192        /* saved session data per phone */

/* The phones' TLS (DOMAIN.md s.3): TLS 1.0, one suite, no extensions. */
#define BN_TAIL ":+COMP-NULL:+SIGN-ALL:+CTYPE-X509"
static const char *const mode_prio[] = {
	[BN_LEGACY] = "NONE:+VERS-TLS1.0:+DHE-RSA:+AES-256-CBC:+SHA1" BN_TAIL,
	[BN_RSA] = "NONE:+VERS-TLS1.0:+RSA:+AES-256-CBC:+SHA1" BN_TAIL,
	[BN_RESUME] = "NONE:+VERS-TLS1.0:+DHE-RSA:+AES-256-CBC:+SHA1" BN_TAIL,
	[BN_RESUME_ID] = "NONE:+VERS-TLS1.0:+DHE-RSA:+AES-256-CBC:+SHA1"
			 BN_TAIL,
};
static const char *const mode_names[] = {
	[BN_LEGACY] = "legacy",
	[BN_RSA] = "rsa",
	[BN_RESUME] = "resume",
	[BN_RESUME_ID] = "resume-id",
};

const char *bn_mode_name(enum bn_mode m)
{
	return mode_names[m];
}

enum cstate { C_FREE, C_CONNECT, C_HANDSHAKE, C_SEND, C_RECV };

struct cconn {
	enum cstate st;
	int fd;
	gnutls_session_t s;
	size_t job, phone;
	double t0;                 /* latency origin */
	double deadline;
	int resume_tried;
	char req[BN_MAX_REQ];
	size_t req_len, req_off;
	char *resp;
	size_t resp_len, resp_cap;
	long long clen;            /* -1 unknown */
	size_t hdr_end;
	struct cthread *th;
};

/* Shared by all client threads of one run. */
struct crun {
	const struct bn_load *ld;
	const struct bn_pki *pki;
	const struct bn_target *t;
	gnutls_pcert_st *pcert;    /* one per phone */
	gnutls_datum_t *sess;      /* resume: saved session per phone */
	pthread_mutex_t locks[BN_LOCK_STRIPES];
	double *sched;             /* open loop arrival times (relative) */
	double t_start, deadline;
	atomic_size_t next_job;
	double *lat;
	size_t n_lat_cap;
	atomic_size_t n_lat;
};

struct cthread {
	struct crun *run;
	unsigned id, nthreads;
	int ep;
	gnutls_certificate_credentials_t cred;
	gnutls_privkey_t keys[BN_KEY_POOL];
	gnutls_priority_t prio;
	struct cconn *conns;
	size_t n_slots, inflight;
	size_t next_local;         /* open loop: next job index of this thread */
	struct bn_result res;
	double t_first, t_last;
};

static int retrieve(gnutls_session_t s, const gnutls_datum_t *req_ca,
		    int nreq, const gnutls_pk_algorithm_t *pk, int npk,
		    gnutls_pcert_st **pcert, unsigned int *len,
		    gnutls_privkey_t *key)
{
	struct cconn *c = gnutls_session_get_ptr(s);

	(void)req_ca;
	(void)nreq;
	(void)pk;
	(void)npk;
	*pcert = &c->th->run->pcert[c->phone];
	*len = 1;
	*key = c->th->keys[c->phone % BN_KEY_POOL];
	return 0;
}

static void note_err(struct bn_result *r, const char *what)
{
	if (r->first_error[0] == '\0')
		snprintf(r->first_error, sizeof(r->first_error), "%s", what);
}

static void conn_end(struct cthread *th, struct cconn *c)
{
	if (c->s != NULL)
		gnutls_deinit(c->s);
	if (c->fd >= 0)
		close(c->fd);
	c->s = NULL;
	c->fd = -1;
	c->st = C_FREE;
	c->resp_len = 0;
	th->inflight--;
}

static void fail(struct cthread *th, struct cconn *c, size_t *counter,
		 const char *what, const char *detail)
{
	char buf[200];

	snprintf(buf, sizeof(buf), "%s: %s", what, detail);
	(*counter)++;
	th->res.failed++;
	note_err(&th->res, buf);
	conn_end(th, c);
}

static void want(struct cthread *th, struct cconn *c, int out)
{
	struct epoll_event ev = { .events = out ? EPOLLOUT : EPOLLIN,
				  .data.ptr = c };

	epoll_ctl(th->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void finish(struct cthread *th, struct cconn *c)
{
	struct crun *run = th->run;
	double now = bn_now();
	char mac[13];
	const char *body;
	size_t body_len;
	int status = 0;

	if (sscanf(c->resp, "HTTP/1.%*d %d", &status) != 1 || status != 200) {
		char s[16];

		snprintf(s, sizeof(s), "%d", status);
		fail(th, c, &th->res.err_status, "HTTP status", s);
		return;
	}
	body = c->resp + c->hdr_end;
	body_len = c->resp_len - c->hdr_end;
	bn_phone_mac(c->phone, mac);
	if (run->ld->check_body &&
	    memmem(body, body_len, mac, strlen(mac)) == NULL) {
		fail(th, c, &th->res.err_body, "body", "lacks the phone's MAC");
		return;
	}
	if (th->res.dh_bits == 0 && !gnutls_session_is_resumed(c->s) &&
	    gnutls_kx_get(c->s) == GNUTLS_KX_DHE_RSA)
		th->res.dh_bits = gnutls_dh_get_prime_bits(c->s);
	if (c->resume_tried) {
		th->res.resume_tried++;
		if (gnutls_session_is_resumed(c->s))
			th->res.resumed++;
	}
	if (run->sess != NULL) {
		gnutls_datum_t d = { NULL, 0 };
		pthread_mutex_t *m = &run->locks[c->phone % BN_LOCK_STRIPES];

		if (gnutls_session_get_data2(c->s, &d) == 0 &&
		    d.size <= BN_SESSION_MAX) {
			pthread_mutex_lock(m);
			gnutls_free(run->sess[c->phone].data);
			run->sess[c->phone] = d;
			pthread_mutex_unlock(m);
		} else {
			gnutls_free(d.data);
		}
	}
	{
		size_t k = atomic_fetch_add(&run->n_lat, 1);

		if (k < run->n_lat_cap)
			run->lat[k] = (now - c->t0) * 1e3;
	}
	th->res.ok++;
	if (now > th->t_last)
		th->t_last = now;
	conn_end(th, c);
}

/* Parse the head once it is complete. */
static void parse_head(struct cconn *c)
{
	char *e = memmem(c->resp, c->resp_len, "\r\n\r\n", 4);
	const char *p;

	if (e == NULL || c->hdr_end)
		return;
	c->hdr_end = (size_t)(e - c->resp) + 4;
	c->clen = -1;
	for (p = c->resp; p < e; p++) {
		if ((p == c->resp || p[-1] == '\n') &&
		    strncasecmp(p, "Content-Length:", 15) == 0) {
			c->clen = atoll(p + 15);
			break;
		}
	}
}

static void step(struct cthread *th, struct cconn *c)
{
	int rc;

	switch (c->st) {
	case C_CONNECT: {
		int err = 0;
		socklen_t l = sizeof(err);

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err != 0) {
			fail(th, c, &th->res.err_connect, "connect",
			     strerror(err));
			return;
		}
		c->st = C_HANDSHAKE;
	}
		/* fall through */
	case C_HANDSHAKE:
		rc = gnutls_handshake(c->s);
		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
			want(th, c, gnutls_record_get_direction(c->s));
			return;
		}
		if (rc < 0) {
			fail(th, c, &th->res.err_tls, "handshake",
			     gnutls_strerror(rc));
			return;
		}
		c->st = C_SEND;
		/* fall through */
	case C_SEND:
		while (c->req_off < c->req_len) {
			ssize_t n = gnutls_record_send(
				c->s, c->req + c->req_off,
				c->req_len - c->req_off);

			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				want(th, c, 1);
				return;
			}
			if (n < 0) {
				fail(th, c, &th->res.err_tls, "send",
				     gnutls_strerror((int)n));
				return;
			}
			c->req_off += (size_t)n;
		}
		c->st = C_RECV;
		want(th, c, 0);
		/* fall through */
	case C_RECV:
		for (;;) {
			ssize_t n;

			if (c->resp_cap - c->resp_len < BN_RESP_CHUNK) {
				size_t cap = c->resp_cap ? c->resp_cap * 2
							 : 2 * BN_RESP_CHUNK;
				char *p;

				if (cap > BN_MAX_BODY + BN_RESP_CHUNK) {
					fail(th, c, &th->res.err_body,
					     "response", "too large");
					return;
				}
				p = realloc(c->resp, cap);
				if (p == NULL) {
					fail(th, c, &th->res.err_body,
					     "response", "out of memory");
					return;
				}
				c->resp = p;
				c->resp_cap = cap;
			}
			n = gnutls_record_recv(c->s, c->resp + c->resp_len,
					       c->resp_cap - c->resp_len - 1);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				return;
			if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
				c->resp[c->resp_len] = '\0';
				parse_head(c);
				if (c->hdr_end &&
				    (c->clen < 0 ||
				     (long long)(c->resp_len - c->hdr_end) >=
					     c->clen)) {
					finish(th, c);
				} else {
					fail(th, c, &th->res.err_tls,
					     "response", "connection closed");
				}
				return;
			}
			if (n < 0) {
				fail(th, c, &th->res.err_tls, "recv",
				     gnutls_strerror((int)n));
				return;
			}
			c->resp_len += (size_t)n;
			c->resp[c->resp_len] = '\0';
			parse_head(c);
			if (c->hdr_end && c->clen >= 0 &&
			    (long long)(c->resp_len - c->hdr_end) >= c->clen) {
				finish(th, c);
				return;
			}
		}
	case C_FREE:
		return;
	}
}

static void start(struct cthread *th, struct cconn *c, size_t job,
		  double t0)
{
	struct crun *run = th->run;
	const struct bn_target *t = run->t;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	unsigned flags = GNUTLS_CLIENT | GNUTLS_NONBLOCK;
	char mac[13], mac_up[13], serial[16];
	int one = 1;

	memset(c, 0, offsetof(struct cconn, resp));
	c->resp_len = 0;
	c->clen = -1;
	c->hdr_end = 0;
	c->th = th;
	c->fd = -1;
	c->job = job;
	c->phone = job % run->ld->phones;
	c->t0 = t0;
	c->deadline = bn_now() + run->ld->timeout;
	th->inflight++;
	th->res.started++;
	if (th->inflight > th->res.max_inflight)
		th->res.max_inflight = th->inflight;
	if (th->t_first == 0)
		th->t_first = bn_now();
	bn_phone_mac(c->phone, mac);
	for (int i = 0; i < 13; i++)
		mac_up[i] = (char)(mac[i] >= 'a' ? mac[i] - 32 : mac[i]);
	c->req_len = (size_t)snprintf(
		c->req, sizeof(c->req),
		"GET /spa%s.xml HTTP/1.1\r\nHost: " BN_FQDN ":%u\r\n"
		"User-Agent: Cisco/" BN_PHONE_MODEL "-7.4.4 (%s)(%s)\r\n"
		"Connection: close\r\n\r\n",
		mac, t->ports[job % t->n_ports], mac_up,
		bn_phone_serial(c->phone, serial));
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fail(th, c, &th->res.err_connect, "socket", strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sa.sin_port = htons((uint16_t)t->ports[job % t->n_ports]);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (run->ld->mode == BN_LEGACY || run->ld->mode == BN_RSA ||
	    run->ld->mode == BN_RESUME_ID)
		flags |= GNUTLS_NO_EXTENSIONS;
	if (gnutls_init(&c->s, flags) < 0) {
		c->s = NULL;
		fail(th, c, &th->res.err_tls, "gnutls_init", "failed");
		return;
	}
	gnutls_session_set_ptr(c->s, c);
	gnutls_priority_set(c->s, th->prio);
	gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, th->cred);
	gnutls_transport_set_int(c->s, c->fd);
	if (run->sess != NULL) {
		pthread_mutex_t *m = &run->locks[c->phone % BN_LOCK_STRIPES];

		pthread_mutex_lock(m);
		if (run->sess[c->phone].data != NULL) {
			gnutls_session_set_data(c->s, run->sess[c->phone].data,
						run->sess[c->phone].size);
			c->resume_tried = 1;
		}
		pthread_mutex_unlock(m);
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS) {
		fail(th, c, &th->res.err_connect, "connect", strerror(errno));
		return;
	}
	c->st = C_CONNECT;
	if (epoll_ctl(th->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		fail(th, c, &th->res.err_connect, "epoll", strerror(errno));
}

static struct cconn *free_slot(struct cthread *th)
{
	for (size_t i = 0; i < th->n_slots; i++)
		if (th->conns[i].st == C_FREE)
			return &th->conns[i];
	return NULL;
}

static void start_due(struct cthread *th)
{
	struct crun *run = th->run;
	const struct bn_load *ld = run->ld;
	double now = bn_now();

	while (th->inflight < th->n_slots) {
		struct cconn *c;
		size_t job;

		if (ld->concurrency > 0) {
			job = atomic_fetch_add(&run->next_job, 1);
			if (job >= ld->requests)
				return;
			c = free_slot(th);
			start(th, c, job, now);
			continue;
		}
		job = th->next_local;
		if (job >= ld->requests ||
		    run->t_start + run->sched[job] > now)
			return;
		th->next_local += th->nthreads;
		if (now - (run->t_start + run->sched[job]) >
		    th->res.max_start_lag)
			th->res.max_start_lag =
				now - (run->t_start + run->sched[job]);
		c = free_slot(th);
		start(th, c, job, run->t_start + run->sched[job]);
	}
}

static int all_started(struct cthread *th)
{
	const struct bn_load *ld = th->run->ld;

	if (ld->concurrency > 0)
		return atomic_load(&th->run->next_job) >= ld->requests;
	return th->next_local >= ld->requests;
}

static void *cthread_main(void *arg)
{
	struct cthread *th = arg;
	struct crun *run = th->run;
	struct epoll_event evs[BN_EVENTS];
	double last_scan = 0;

	for (;;) {
		double now = bn_now();
		int n, wait_ms = 10;

		start_due(th);
		if (th->inflight == 0 && all_started(th))
			break;
		if (now > run->deadline) {
			for (size_t i = 0; i < th->n_slots; i++)
				if (th->conns[i].st != C_FREE)
					fail(th, &th->conns[i],
					     &th->res.err_timeout, "run",
					     "stopped at the time limit");
			/* jobs never started are not counted as resyncs */
			break;
		}
		if (run->ld->concurrency == 0 && !all_started(th) &&
		    th->inflight < th->n_slots) {
			double due = run->t_start + run->sched[th->next_local] -
				     now;

			wait_ms = due <= 0 ? 0 : due < 0.01 ? (int)(due * 1e3)
							    : 10;
		}
		n = epoll_wait(th->ep, evs, BN_EVENTS, wait_ms);
		for (int i = 0; i < n; i++) {
			struct cconn *c = evs[i].data.ptr;

			if (c->st != C_FREE)
				step(th, c);
		}
		if (now - last_scan > 0.1) {
			last_scan = now;
			for (size_t i = 0; i < th->n_slots; i++)
				if (th->conns[i].st != C_FREE &&
				    now > th->conns[i].deadline)
					fail(th, &th->conns[i],
					     &th->res.err_timeout, "resync",
					     "timed out");
		}
	}
	return NULL;
}

static int cthread_init(struct cthread *th, struct crun *run, unsigned id,
			unsigned nthreads, size_t slots)
{
	const char *where = NULL;

	memset(th, 0, sizeof(*th));
	th->run = run;
	th->id = id;
	th->nthreads = nthreads;
	th->next_local = id;
	th->n_slots = slots;
	th->conns = calloc(slots, sizeof(*th->conns));
	th->ep = epoll_create1(EPOLL_CLOEXEC);
	if (th->conns == NULL || th->ep < 0)
		return -1;
	for (size_t i = 0; i < slots; i++)
		th->conns[i].fd = -1;
	if (gnutls_certificate_allocate_credentials(&th->cred) < 0)
		return -1;
	gnutls_certificate_set_retrieve_function2(th->cred, retrieve);
	for (int i = 0; i < BN_KEY_POOL; i++) {
		if (gnutls_privkey_init(&th->keys[i]) < 0 ||
		    gnutls_privkey_import_x509_raw(th->keys[i],
						   &run->pki->key_pem[i],
						   GNUTLS_X509_FMT_PEM, NULL,
						   0) < 0)
			return -1;
	}
	if (gnutls_priority_init(&th->prio, mode_prio[run->ld->mode],
				 &where) < 0) {
		bn_warn("priority error at %s", where ? where : "?");
		return -1;
	}
	return 0;
}

static void cthread_free(struct cthread *th)
{
	for (size_t i = 0; th->conns != NULL && i < th->n_slots; i++)
		free(th->conns[i].resp);
	free(th->conns);
	if (th->ep >= 0)
		close(th->ep);
	for (int i = 0; i < BN_KEY_POOL; i++)
		if (th->keys[i] != NULL)
			gnutls_privkey_deinit(th->keys[i]);
	if (th->cred != NULL)
		gnutls_certificate_free_credentials(th->cred);
	if (th->prio != NULL)
		gnutls_priority_deinit(th->prio);
}

static int import_pcerts(struct crun *run, size_t n)
{
	run->pcert = calloc(n, sizeof(*run->pcert));
	if (run->pcert == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (gnutls_pcert_import_x509_raw(&run->pcert[i],
						 &run->pki->phone_der[i],
						 GNUTLS_X509_FMT_DER, 0) < 0)
			return -1;
	return 0;
}

static void add(struct bn_result *a, const struct bn_result *b)
{
	a->ok += b->ok;
	a->failed += b->failed;
	a->started += b->started;
	a->err_connect += b->err_connect;
	a->err_tls += b->err_tls;
	a->err_status += b->err_status;
	a->err_body += b->err_body;
	a->err_timeout += b->err_timeout;
	a->resumed += b->resumed;
	a->resume_tried += b->resume_tried;
	a->max_inflight += b->max_inflight;
	if (a->dh_bits == 0)
		a->dh_bits = b->dh_bits;
	if (b->max_start_lag > a->max_start_lag)
		a->max_start_lag = b->max_start_lag;
	if (a->first_error[0] == '\0')
		memcpy(a->first_error, b->first_error, sizeof(a->first_error));
}

/* One phase: threads over run->ld's jobs; results added into r. */
static int run_phase(struct crun *run, struct bn_result *r)
{
	const struct bn_load *ld = run->ld;
	struct cthread th[BN_MAX_THREADS];
	pthread_t tid[BN_MAX_THREADS];
	unsigned nth = ld->threads ? ld->threads : 1;
	size_t slots;
	double t_first = 0, t_last = 0;
	int rc = -1;

	memset(th, 0, sizeof(th));
	for (unsigned i = 0; i < nth; i++)
		th[i].ep = -1;
	atomic_store(&run->next_job, 0);
	atomic_store(&run->n_lat, 0);
	slots = ld->concurrency > 0 ? (ld->concurrency + nth - 1) / nth
				    : BN_MAX_CONCURRENCY / nth;
	for (unsigned i = 0; i < nth; i++)
		if (cthread_init(&th[i], run, i, nth, slots) < 0)
			goto out;
	run->t_start = bn_now();
	run->deadline = run->t_start + ld->max_seconds;
	for (unsigned i = 0; i < nth; i++)
		if (pthread_create(&tid[i], NULL, cthread_main, &th[i]) != 0)
			bn_die("pthread_create");
	for (unsigned i = 0; i < nth; i++)
		pthread_join(tid[i], NULL);
	for (unsigned i = 0; i < nth; i++) {
		add(r, &th[i].res);
		if (th[i].t_first && (t_first == 0 || th[i].t_first < t_first))
			t_first = th[i].t_first;
		if (th[i].t_last > t_last)
			t_last = th[i].t_last;
	}
	r->wall_s = t_last > t_first ? t_last - t_first : 0;
	if (ld->concurrency == 0)
		r->wall_s = t_last > run->t_start ? t_last - run->t_start : 0;
	rc = 0;
out:
	for (unsigned i = 0; i < nth; i++)
		cthread_free(&th[i]);
	return rc;
}

int bn_load_run(const struct bn_load *ld, const struct bn_pki *pki,
		const struct bn_target *t, struct bn_result *r)
{
	struct crun run = { .ld = ld, .pki = pki, .t = t };
	unsigned nth = ld->threads ? ld->threads : 1;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (nth > BN_MAX_THREADS || ld->phones > pki->n_phones ||
	    ld->phones == 0 || ld->requests == 0 ||
	    ld->requests > BN_MAX_REQUESTS || t->n_ports == 0)
		return -1;
	atomic_init(&run.next_job, 0);
	atomic_init(&run.n_lat, 0);
	run.lat = calloc(ld->requests > ld->phones ? ld->requests
						   : ld->phones,
			 sizeof(double));
	run.n_lat_cap = ld->requests > ld->phones ? ld->requests : ld->phones;
	if (run.lat == NULL || import_pcerts(&run, ld->phones) < 0)
		goto out;
	for (int i = 0; i < BN_LOCK_STRIPES; i++)
		pthread_mutex_init(&run.locks[i], NULL);
	if (ld->concurrency == 0) {
		unsigned long long seed = 42;

		/* arrivals uniformly at random over the window, sorted */
		run.sched = calloc(ld->requests, sizeof(double));
		if (run.sched == NULL)
			goto out;
		for (size_t i = 0; i < ld->requests; i++)
			run.sched[i] = (double)(bn_rng(&seed) >> 11) /
				       (double)(1ULL << 53) * ld->arrive_over;
		qsort(run.sched, ld->requests, sizeof(double), bn_cmp_double);
	}
	if (ld->mode == BN_RESUME || ld->mode == BN_RESUME_ID) {
		/* warm-up: every phone once with a full handshake, to have
		 * a session to resume; not measured */
		struct bn_load warm = *ld;
		struct bn_result wr;

		run.sess = calloc(ld->phones, sizeof(*run.sess));
		if (run.sess == NULL)
			goto out;
		warm.requests = ld->phones;
		warm.concurrency = ld->concurrency ? ld->concurrency : 64;
		memset(&wr, 0, sizeof(wr));
		run.ld = &warm;
		if (run_phase(&run, &wr) < 0)
			goto out;
		run.ld = ld;
		if (wr.failed > 0)
			bn_warn("resume warm-up: %zu of %zu failed (%s)",
				wr.failed, wr.started, wr.first_error);
	}
	if (ld->mark != NULL)
		ld->mark(ld->mark_ctx);
	if (run_phase(&run, r) < 0)
		goto out;
	r->n_lat = atomic_load(&run.n_lat);
	if (r->n_lat > ld->requests)
		r->n_lat = ld->requests;
	qsort(run.lat, r->n_lat, sizeof(double), bn_cmp_double);
	r->lat = run.lat;
	run.lat = NULL;
	rc = 0;
out:
	free(run.lat);
	free(run.sched);
	if (run.pcert != NULL)
		for (size_t i = 0; i < ld->phones; i++)
			gnutls_pcert_deinit(&run.pcert[i]);
	free(run.pcert);
	if (run.sess != NULL)
		for (size_t i = 0; i < ld->phones; i++)
			gnutls_free(run.sess[i].data);
	free(run.sess);
	return rc;
}

void bn_result_free(struct bn_result *r)
{
	free(r->lat);
	r->lat = NULL;
}

/* ---- idle and slow connections ----------------------------------- */

struct bn_idle {
	struct crun run;
	struct bn_load ld;
	struct cthread th;
	struct cconn *c;
	size_t n;
};

struct bn_idle *bn_idle_open(const struct bn_pki *pki,
			     const struct bn_target *t, size_t n,
			     double timeout, size_t *opened)
{
	struct bn_idle *h = calloc(1, sizeof(*h));
	double deadline = bn_now() + timeout;
	size_t phones = n < pki->n_phones ? n : pki->n_phones;

	*opened = 0;
	if (h == NULL)
		return NULL;
	h->th.ep = -1;
	h->ld = (struct bn_load){ .mode = BN_LEGACY, .phones = phones,
				  .requests = n, .timeout = timeout };
	h->run = (struct crun){ .ld = &h->ld, .pki = pki, .t = t };
	h->c = calloc(n, sizeof(*h->c));
	if (h->c == NULL || import_pcerts(&h->run, phones) < 0 ||
	    cthread_init(&h->th, &h->run, 0, 1, 1) < 0) {
		bn_idle_close(h);
		return NULL;
	}
	for (size_t i = 0; i < n && bn_now() < deadline; i++) {
		struct cconn *c = &h->c[i];
		struct pollfd pfd;

		start(&h->th, c, i, bn_now());
		h->n = i + 1;
		/* drive this one handshake to its end (bounded) */
		while (c->st == C_CONNECT || c->st == C_HANDSHAKE) {
			int rc;

			pfd.fd = c->fd;
			if (c->st == C_CONNECT) {
				pfd.events = POLLOUT;
				if (poll(&pfd, 1, 100) < 0 ||
				    bn_now() > deadline)
					break;
				if (pfd.revents == 0)
					continue;
				c->st = C_HANDSHAKE;
			}
			rc = gnutls_handshake(c->s);
			if (rc == 0) {
				c->st = C_SEND;
				break;
			}
			if (gnutls_error_is_fatal(rc) || bn_now() > deadline) {
				conn_end(&h->th, c);
				break;
			}
			pfd.events = gnutls_record_get_direction(c->s)
					     ? POLLOUT : POLLIN;
			if (poll(&pfd, 1, 100) < 0)
				break;
		}
		if (c->st != C_SEND) {
			if (c->st != C_FREE)
				conn_end(&h->th, c);
			continue;
		}
		if (i % 2 == 1) {
			/* a slow phone: half a request, then nothing */
			if (gnutls_record_send(c->s, c->req, c->req_len / 2) <
			    0) {
				conn_end(&h->th, c);
				continue;
			}
		}
		(*opened)++;
	}
	return h;
}

size_t bn_idle_alive(struct bn_idle *h)
{
	size_t alive = 0;

	for (size_t i = 0; i < h->n; i++) {
		char b;
		ssize_t r;

		if (h->c[i].st == C_FREE || h->c[i].fd < 0)
			continue;
		r = recv(h->c[i].fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			alive++;
	}
	return alive;
}

void bn_idle_close(struct bn_idle *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; h->c != NULL && i < h->n; i++) {
		if (h->c[i].s != NULL)
			gnutls_deinit(h->c[i].s);
		if (h->c[i].fd >= 0)
			close(h->c[i].fd);
		free(h->c[i].resp);
	}
	free(h->c);
	cthread_free(&h->th);
	if (h->run.pcert != NULL)
		for (size_t i = 0; i < h->ld.phones; i++)
			gnutls_pcert_deinit(&h->run.pcert[i]);
	free(h->run.pcert);
	free(h);
}
