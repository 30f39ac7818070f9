/* server: what all listeners of one spaprovd process share. */
#ifndef SPAPROV_SERVER_H
#define SPAPROV_SERVER_H

#include <pthread.h>

#include "conf/conf.h"
#include "ident/trust.h"
#include "server/ledger.h"
#include "server/tls.h"

struct db;
struct MHD_Daemon;

struct listener {
	struct server *srv;
	const struct conf_listener *cl;
	const char *ca;             /* conf_ca_name(cl->ca) */
	struct tls_material tls;
	struct MHD_Daemon *mhd;
	unsigned port;              /* the bound port */
};

struct server {
	struct conf *conf;
	struct trust *trust;
	char *trust_pem;            /* client roots, for the CertificateRequest */
	struct ledger *ledger;
	struct listener listeners[CONF_MAX_LISTENERS];
	size_t n_listeners;
	pthread_key_t db_key;       /* per-thread read connection */
};

/* This thread's database connection (opened on first use), or NULL. */
struct db *server_thread_db(struct server *srv);

/* listener.c */
int listener_start(struct listener *l, char **err);
void listener_stop(struct listener *l);

#endif
