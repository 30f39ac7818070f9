#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "server/workers.h"
#include "util/log.h"
#include "util/str.h"

/* Daemons one worker runs: one per listener, twice that while a reload
 * hands the listeners over. */
#define WORKER_MAX_DAEMONS 160
#define WORKER_EVENTS 64
#define WORKER_MAX_WAIT_MS 1000  /* a round at least this often */
/* libmicrohttpd 0.9.75 keeps a connection whose TLS handshake waits for
 * the client in its "ready" list and asks to be run again at once
 * (timeout 0) until the client's bytes come: one stalled handshake kept
 * a core busy (5 s of CPU in 5 s, the same with its own threads).  After
 * two such rounds without any event on the daemon, the worker backs off
 * 1, 2, 4, then 8 ms; any event runs the daemon at once again. */
#define WORKER_EAGER_ROUNDS 2
#define WORKER_MAX_BACKOFF_MS 8

/* A function queued for a worker's turn. */
struct call {
	struct call *next;
	void (*fn)(void *arg);
	void *arg;
	int done;
};

struct worker {
	struct workers *pool;
	unsigned index;
	pthread_t thread;
	int started;
	int ep;                  /* epoll set: the wake-up fd, the daemons */
	int wake;                /* eventfd: a call is queued */
	/* only the worker thread itself touches these */
	struct MHD_Daemon *daemons[WORKER_MAX_DAEMONS];
	uint64_t deadline[WORKER_MAX_DAEMONS]; /* ms; 0: none */
	unsigned idle_zero[WORKER_MAX_DAEMONS]; /* rounds run for a 0 timeout
						   with no event since */
	unsigned char zero_due[WORKER_MAX_DAEMONS]; /* this round's timeout
						       was 0 */
	size_t n;
	int stopping;
	atomic_int kicked;       /* a connection was resumed: run them all */
	/* the call queue */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct call *calls;
};

struct workers {
	unsigned n;
	char name[16];
	struct worker *w;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void run_calls(struct worker *w)
{
	struct call *list;

	pthread_mutex_lock(&w->lock);
	list = w->calls;
	w->calls = NULL;
	pthread_mutex_unlock(&w->lock);
	if (list == NULL)
		return;
	/* queued newest first: run them in the order they came */
	{
		struct call *rev = NULL;

		while (list != NULL) {
			struct call *next = list->next;

			list->next = rev;
			rev = list;
			list = next;
		}
		list = rev;
	}
	for (struct call *c = list, *next; c != NULL; c = next) {
		next = c->next;
		c->fn(c->arg);
		pthread_mutex_lock(&w->lock);
		c->done = 1; /* the caller may free c from here on */
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
	}
}

/* How long epoll may wait: until the first daemon's timeout. */
static int wait_ms(struct worker *w)
{
	uint64_t now = now_ms(), first = now + WORKER_MAX_WAIT_MS;

	for (size_t i = 0; i < w->n; i++) {
		MHD_UNSIGNED_LONG_LONG t;

		w->deadline[i] = 0;
		w->zero_due[i] = 0;
		if (MHD_get_timeout(w->daemons[i], &t) != MHD_YES)
			continue;
		w->zero_due[i] = t == 0;
		if (t == 0 && w->idle_zero[i] >= WORKER_EAGER_ROUNDS) {
			unsigned k = w->idle_zero[i] - WORKER_EAGER_ROUNDS;

			t = k < 3 ? 1u << k : WORKER_MAX_BACKOFF_MS;
		}
		w->deadline[i] = now + (t < WORKER_MAX_WAIT_MS ? t
							: WORKER_MAX_WAIT_MS);
		if (w->deadline[i] < first)
			first = w->deadline[i];
	}
	return (int)(first - now);
}

static void drain_wake(struct worker *w)
{
	uint64_t v;

	while (read(w->wake, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[WORKER_EVENTS];
	unsigned char ready[WORKER_MAX_DAEMONS];

	for (;;) {
		int timeout, n;
		uint64_t now;

		run_calls(w);
		if (w->stopping)
			break;
		timeout = wait_ms(w);
		n = epoll_wait(w->ep, ev, WORKER_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("msg=\"worker: epoll_wait failed\" worker=%s/%u "
				  "error=\"%s\"", w->pool->name, w->index,
				  strerror(errno));
			n = 0;
		}
		memset(ready, 0, w->n);
		for (int i = 0; i < n; i++) {
			uint64_t k = ev[i].data.u64;

			if (k == 0)
				drain_wake(w);
			else if (k - 1 < w->n)
				ready[k - 1] = 1;
		}
		now = now_ms();
		if (atomic_exchange(&w->kicked, 0))
			memset(ready, 1, w->n);
		for (size_t i = 0; i < w->n; i++) {
			if (ready[i]) {
				w->idle_zero[i] = 0;
			} else if (w->deadline[i] != 0 && now >= w->deadline[i]) {
				if (!w->zero_due[i])
					w->idle_zero[i] = 0;
				else if (w->idle_zero[i] < 64)
					w->idle_zero[i]++;
			} else {
				continue;
			}
			MHD_run(w->daemons[i]);
		}
	}
	return NULL;
}

/* Rebuild the epoll tags after the daemon list changed. */
static int retag(struct worker *w, size_t from)
{
	for (size_t i = from; i < w->n; i++) {
		const union MHD_DaemonInfo *info = MHD_get_daemon_info(
			w->daemons[i], MHD_DAEMON_INFO_EPOLL_FD);
		struct epoll_event e = { .events = EPOLLIN,
					 .data.u64 = i + 1 };

		if (info == NULL ||
		    epoll_ctl(w->ep, EPOLL_CTL_MOD, info->epoll_fd, &e) < 0)
			return -1;
	}
	return 0;
}

struct attach_call {
	struct worker *w;
	struct MHD_Daemon *d;
	const char *error;
};

static void do_attach(void *arg)
{
	struct attach_call *a = arg;
	struct worker *w = a->w;
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_EPOLL_FD);
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = w->n + 1 };

	if (w->n == WORKER_MAX_DAEMONS) {
		a->error = "too many listeners for one worker";
		return;
	}
	if (info == NULL || info->epoll_fd < 0) {
		a->error = "the daemon has no epoll set";
		return;
	}
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, info->epoll_fd, &e) < 0) {
		a->error = "epoll_ctl failed";
		return;
	}
	w->idle_zero[w->n] = 0;
	w->daemons[w->n++] = a->d;
}

static void do_detach(void *arg)
{
	struct attach_call *a = arg;
	struct worker *w = a->w;

	for (size_t i = 0; i < w->n; i++) {
		const union MHD_DaemonInfo *info;

		if (w->daemons[i] != a->d)
			continue;
		info = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_EPOLL_FD);
		if (info != NULL)
			epoll_ctl(w->ep, EPOLL_CTL_DEL, info->epoll_fd, NULL);
		memmove(&w->daemons[i], &w->daemons[i + 1],
			(w->n - i - 1) * sizeof(w->daemons[0]));
		memmove(&w->idle_zero[i], &w->idle_zero[i + 1],
			(w->n - i - 1) * sizeof(w->idle_zero[0]));
		w->n--;
		if (retag(w, i) < 0)
			log_error("msg=\"worker: cannot retag daemons\" "
				  "worker=%s/%u", w->pool->name, w->index);
		return;
	}
}

static void do_stop(void *arg)
{
	struct worker *w = arg;

	w->stopping = 1;
}

/* Break worker w out of epoll_wait(). */
static void wake(struct worker *w)
{
	uint64_t one = 1;

	if (write(w->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error("msg=\"worker: cannot wake\" worker=%s/%u "
			  "error=\"%s\"", w->pool->name, w->index,
			  strerror(errno));
}

void workers_kick(struct workers *p, unsigned i)
{
	struct worker *w = &p->w[i % p->n];

	atomic_store(&w->kicked, 1);
	wake(w);
}

void workers_call(struct workers *p, unsigned i, void (*fn)(void *arg),
		  void *arg)
{
	struct worker *w = &p->w[i % p->n];
	struct call c = { .fn = fn, .arg = arg };

	pthread_mutex_lock(&w->lock);
	c.next = w->calls;
	w->calls = &c;
	pthread_mutex_unlock(&w->lock);
	wake(w);
	pthread_mutex_lock(&w->lock);
	while (!c.done)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

int workers_attach(struct workers *p, unsigned i, struct MHD_Daemon *d,
		   char **err)
{
	struct attach_call a = { .w = &p->w[i % p->n], .d = d };

	workers_call(p, i, do_attach, &a);
	if (a.error != NULL) {
		*err = str_printf("worker %s/%u: %s", p->name, i, a.error);
		return -1;
	}
	return 0;
}

void workers_detach(struct workers *p, unsigned i, struct MHD_Daemon *d)
{
	struct attach_call a = { .w = &p->w[i % p->n], .d = d };

	workers_call(p, i, do_detach, &a);
}

unsigned workers_count(const struct workers *p)
{
	return p->n;
}

static int worker_init(struct workers *p, unsigned i, char **err)
{
	struct worker *w = &p->w[i];
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = 0 };
	char tname[32];

	w->pool = p;
	w->index = i;
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (w->ep < 0 || w->wake < 0 ||
	    epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake, &e) < 0) {
		*err = str_printf("worker %s/%u: %s", p->name, i,
				  strerror(errno));
		return -1;
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		*err = str_printf("worker %s/%u: cannot start a thread",
				  p->name, i);
		return -1;
	}
	w->started = 1;
	snprintf(tname, sizeof(tname), "%.10s/%u", p->name, i % 1000);
	tname[15] = '\0'; /* the kernel keeps 15 bytes */
	pthread_setname_np(w->thread, tname);
	return 0;
}

int workers_start(unsigned n, const char *name, struct workers **out,
		  char **err)
{
	struct workers *p = calloc(1, sizeof(*p));

	if (p == NULL || n == 0 ||
	    (p->w = calloc(n, sizeof(*p->w))) == NULL) {
		free(p);
		*err = str_printf("cannot start %u worker threads: %s", n,
				  n == 0 ? "none asked for" : "out of memory");
		return -1;
	}
	p->n = n;
	snprintf(p->name, sizeof(p->name), "%s", name);
	for (unsigned i = 0; i < n; i++) {
		p->w[i].ep = p->w[i].wake = -1;
		if (worker_init(p, i, err) < 0) {
			workers_stop(p);
			return -1;
		}
	}
	*out = p;
	return 0;
}

void workers_stop(struct workers *p)
{
	if (p == NULL)
		return;
	for (unsigned i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];

		if (w->started) {
			workers_call(p, i, do_stop, w);
			pthread_join(w->thread, NULL);
			if (w->n > 0)
				log_error("msg=\"worker stopped with daemons "
					  "attached\" worker=%s/%u daemons=%zu",
					  p->name, i, w->n);
		}
		if (w->ep >= 0)
			close(w->ep);
		if (w->wake >= 0)
			close(w->wake);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
	}
	free(p->w);
	free(p);
}
