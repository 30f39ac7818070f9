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
struct MHD_Daemon;
struct steer_hosts;
struct sessions;

struct gen {
	int refs;                   /* the server and listeners using it */
	struct conf *conf;
	struct trust *trust;
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
	struct MHD_Daemon *mhd;
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
/* Start serving on the bound socket. */
int listener_start(struct listener *l, char **err);
/* Stop accepting; the socket stays open for a successor.  Requests in
 * progress go on until listener_free(). */
void listener_quiesce(struct listener *l);
/* Finish requests in progress, close everything, release the generation. */
void listener_free(struct listener *l);
/* Same address, port, CA, TLS material, limits and client roots. */
int listener_same(const struct listener *a, const struct listener *b);

#endif
