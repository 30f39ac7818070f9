/* server: what the listeners of one spaprovd process share.
 *
 * A generation is one loaded configuration with its client roots.  Each
 * listener points to the generation it was started with; SIGHUP makes a
 * new generation, replaces the listeners whose settings changed and keeps
 * the others serving.  Generations, listeners and the server are changed
 * only by the main thread, so their reference counts need no atomics. */
#ifndef SPAPROV_SERVER_H
#define SPAPROV_SERVER_H

#include <pthread.h>

#include "conf/conf.h"
#include "ident/trust.h"
#include "server/ledger.h"
#include "server/tls.h"

struct admin;
struct db;
struct idcache;
struct iplimit;
struct workers;
struct MHD_Daemon;
struct steer_hosts;
struct sessions;

struct gen {
	int refs;                   /* the server and listeners using it */
	struct conf *conf;
	struct trust *trust;
	struct idcache *idcache;    /* verified chains of this trust */
	char *trust_pem;            /* client roots, for the CertificateRequest */
	struct steer_hosts *hosts;  /* where phones reach each listener */
};

struct listener {
	struct server *srv;
	struct gen *gen;
	const struct conf_listener *cl;  /* in gen->conf */
	const char *ca;             /* conf_ca_name(cl->ca) */
	struct tls_material tls;
	struct sessions *sessions;  /* TLS resumption; NULL: disabled */
	struct workers *pool;       /* the threads running it */
	struct workers *own_pool;   /* its own (key threads), else NULL */
	struct MHD_Daemon **mhd;    /* one daemon per thread of the pool */
	unsigned n_mhd;             /* started */
	unsigned n_attached;        /* ... and handed to their thread */
	struct iplimit *iplimit;    /* per_ip_connection_limit, or NULL */
	int fd;                     /* listening socket, bound before any
				       privilege drop and kept across reloads */
	unsigned port;              /* the bound port */
	int quiesced;               /* no longer accepting; fd is ours again */
};

struct server {
	struct gen *gen;            /* the current configuration */
	char *db_path;              /* fixed for the life of the process */
	unsigned busy_timeout_ms;
	struct ledger *ledger;
	struct workers *workers;    /* the threads serving the listeners */
	struct listener *listeners[CONF_MAX_LISTENERS];
	size_t n_listeners;
	pthread_key_t db_key;       /* per-thread read connection */
	struct admin *admin;        /* web-admin/, NULL without [admin] */
};

/* This thread's database connection (opened on first use), or NULL. */
struct db *server_thread_db(struct server *srv);

/* Drop one reference; the last frees the configuration and roots. */
void gen_release(struct gen *gen);

/* listener.c */
/* Make a listener of `gen` for `cl` with its TLS material loaded; no
 * socket yet.  NULL with *err on failure. */
struct listener *listener_new(struct server *srv, struct gen *gen,
			      const struct conf_listener *cl, char **err);
/* Bind and listen (needs the privileges of the port). */
int listener_bind(struct listener *l, char **err);
/* Take over the listening socket of `old` (same address and port). */
void listener_take_socket(struct listener *l, struct listener *old);
/* Start serving on the bound socket: with srv->workers, or with threads
 * of its own when its `threads` key is set. */
int listener_start(struct listener *l, char **err);
/* Which of its pool's threads runs the daemon of `connection`. */
struct MHD_Connection;
unsigned listener_worker_of(const struct listener *l,
			    struct MHD_Connection *connection);
/* Connections open (for draining); 0 when not started. */
unsigned listener_connections(struct listener *l);
/* Stop accepting; the socket stays open for a successor.  Requests in
 * progress go on until listener_free(). */
void listener_quiesce(struct listener *l);
/* Finish requests in progress, close everything, release the generation. */
void listener_free(struct listener *l);
/* Same address, port, CA, TLS material, limits and client roots. */
int listener_same(const struct listener *a, const struct listener *b);

#endif
