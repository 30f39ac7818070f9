/* spaprovd: the provisioning daemon.  One TLS listener per Cisco
 * provisioning CA, one shared SQLite inventory and ledger. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "db/db.h"
#include "fleet/steer.h"
#include "server/conn.h"
#include "server/privs.h"
#include "server/server.h"
#include "server/service.h"
#include "server/workers.h"
#include "db/txn.h"
#include "ident/idcache.h"
#include "util/log.h"
#include "web-admin/admin.h"

#define DEFAULT_CONF SPAPROV_SYSCONFDIR "/spaprov.conf"
#define DEFAULT_CLIENT_ROOTS SPAPROV_PKGDATADIR "/client-roots.pem"
#define DEFAULT_PIDFILE "/run/spaprovd.pid"
#define MAX_TRUST_PEM (4u << 20)
#define DRAIN_SECONDS 10   /* in-flight requests get this long at stop */

struct options {
	const char *conf_path;
	const char *ports_file;
	const char *pidfile;
	int test_only;
	int daemonize;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: spaprovd [-c FILE] [-t] [-d [--pidfile FILE]] "
		"[--ports-file FILE]\n"
		"Serve Cisco SPA/Linksys/Sipura/MPP provisioning profiles.\n\n"
		"  -c, --config FILE     configuration (default %s)\n"
		"  -t, --test            check the configuration, TLS material "
		"and database, then exit\n"
		"  -d, --daemon          detach and log to syslog (for hosts "
		"without systemd)\n"
		"      --pidfile FILE    with -d, write the process id there "
		"(default %s)\n"
		"      --ports-file FILE when all listeners are up, write "
		"\"NAME PORT\" lines there\n"
		"  -h, --help            this help\n"
		"  -V, --version         print the version\n\n"
		"Runs in the foreground and logs to stderr unless -d or "
		"syslog = yes.\nSIGHUP reloads the configuration, certificates "
		"and client roots; SIGTERM or\nSIGINT stops after the requests "
		"in progress.\n",
		DEFAULT_CONF, DEFAULT_PIDFILE);
}

static void db_key_close(void *p)
{
	db_close(p);
}

struct db *server_thread_db(struct server *srv)
{
	struct db *db = pthread_getspecific(srv->db_key);
	char *err = NULL;

	if (db != NULL)
		return db;
	if (db_open_existing(srv->db_path, srv->busy_timeout_ms, &db,
			     &err) < 0) {
		log_error("msg=\"cannot open database\" error=\"%s\"",
			  err ? err : "?");
		free(err);
		return NULL;
	}
	db_no_checkpoint(db); /* the ledger's checkpointer does it */
	pthread_setspecific(srv->db_key, db);
	return db;
}

/* Four listeners with a thousand phones each need more than 1024 fds. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("msg=\"cannot raise the open file limit\" "
				 "error=\"%s\"", strerror(errno));
	}
}

/* The client roots of a configuration, for verification and as PEM. */
static int gen_load_trust(struct gen *gen, char **err)
{
	const char *def[] = { DEFAULT_CLIENT_ROOTS };
	const char *const *files = (const char *const *)gen->conf->client_roots;
	size_t n = gen->conf->n_client_roots, total = 0;

	if (n == 0) {
		files = def;
		n = 1;
	}
	if (trust_load(files, n, gen->conf->client_cert_time_check,
		       &gen->trust, err) < 0 ||
	    idcache_new(gen->trust, gen->conf->client_cert_time_check,
			gen->conf->identity_cache, IDCACHE_DEFAULT_MAX_AGE,
			&gen->idcache, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char *pem = NULL, *grown;
		size_t len = 0;

		if (tls_read_file(files[i], MAX_TRUST_PEM, &pem, &len, err) < 0)
			return -1;
		grown = realloc(gen->trust_pem, total + len + 2);
		if (grown == NULL) {
			free(pem);
			return -1;
		}
		gen->trust_pem = grown;
		memcpy(gen->trust_pem + total, pem, len);
		total += len;
		gen->trust_pem[total++] = '\n';
		gen->trust_pem[total] = '\0';
		free(pem);
	}
	return 0;
}

/* Load a configuration and its client roots; one reference for the caller. */
static struct gen *gen_load(const char *path, char **err)
{
	struct gen *gen = calloc(1, sizeof(*gen));

	if (gen == NULL)
		return NULL;
	gen->refs = 1;
	if (conf_load(path, &gen->conf, err) < 0 ||
	    gen_load_trust(gen, err) < 0 ||
	    steer_hosts_load(gen->conf, &gen->hosts, err) < 0) {
		gen_release(gen);
		return NULL;
	}
	log_info("msg=\"client roots loaded\" certificates=%zu time_check=%s",
		 trust_count(gen->trust),
		 gen->conf->client_cert_time_check ? "yes" : "no");
	return gen;
}

static void apply_log_level(const struct conf *conf)
{
	int level = log_level_parse(conf->log_level ? conf->log_level : "info");

	log_set_level(level >= 0 ? (enum log_level)level : LOG_LVL_INFO);
}

static int write_ports(const struct server *srv, const char *path)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	for (size_t i = 0; i < srv->n_listeners; i++)
		fprintf(f, "%s %u\n", srv->listeners[i]->cl->name,
			srv->listeners[i]->port);
	if (admin_port(srv) != 0)
		fprintf(f, "admin %u\n", admin_port(srv));
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

/* Everything that can fail before serving: config, roots, database, TLS,
 * sockets.  Runs with the privileges spaprovd was started with. */
static int setup(struct server *srv, const struct options *o, char **err)
{
	struct db *db = NULL;
	const struct conf *conf;

	srv->gen = gen_load(o->conf_path, err);
	if (srv->gen == NULL)
		return -1;
	conf = srv->gen->conf;
	apply_log_level(conf);
	srv->db_path = strdup(conf->database);
	srv->busy_timeout_ms = conf->busy_timeout_ms;
	if (db_open(conf->database, conf->busy_timeout_ms, &db, err) < 0)
		return -1;
	db_close(db);
	for (size_t i = 0; i < conf->n_listeners; i++) {
		struct listener *l = listener_new(srv, srv->gen,
						  &conf->listeners[i], err);

		if (l == NULL)
			return -1;
		srv->listeners[srv->n_listeners++] = l;
	}
	if (admin_setup(srv, o->test_only, err) < 0)
		return -1;
	if (o->test_only)
		return 0;
	for (size_t i = 0; i < srv->n_listeners; i++)
		if (listener_bind(srv->listeners[i], err) < 0)
			return -1;
	return 0;
}

static struct listener *find_listener(struct server *srv,
				      const struct conf_listener *cl)
{
	for (size_t i = 0; i < srv->n_listeners; i++) {
		const struct conf_listener *o = srv->listeners[i]->cl;

		if (strcmp(o->address, cl->address) == 0 &&
		    o->port == cl->port && cl->port != 0)
			return srv->listeners[i];
	}
	for (size_t i = 0; i < srv->n_listeners; i++)
		if (strcmp(srv->listeners[i]->cl->name, cl->name) == 0)
			return srv->listeners[i];
	return NULL;
}

/* Wait (bounded) until a quiesced listener has no connections left. */
static void drain(struct listener *l, int seconds)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };

	for (int i = 0; i < seconds * 20 && l->n_mhd > 0; i++) {
		if (listener_connections(l) == 0)
			return;
		nanosleep(&pause, NULL);
	}
}

/* Build the listeners of a new generation; nothing running is touched.
 * next[i] is new, or the running listener to keep. */
static int reload_prepare(struct server *srv, struct gen *gen,
			  struct listener **next, struct listener **old_of,
			  char **err)
{
	const struct conf *conf = gen->conf;

	for (size_t i = 0; i < conf->n_listeners; i++) {
		const struct conf_listener *cl = &conf->listeners[i];
		struct listener *old = find_listener(srv, cl);

		next[i] = listener_new(srv, gen, cl, err);
		old_of[i] = old;
		if (next[i] == NULL)
			return -1;
		if (old != NULL && listener_same(old, next[i])) {
			listener_free(next[i]);
			next[i] = old;
			steer_hosts_bound(gen->hosts, cl->name, old->port);
			continue;
		}
		/* same address and port (0 = the one it got): hand over the
		 * socket; anything else needs a socket of its own */
		if ((old == NULL || strcmp(old->cl->address, cl->address) != 0 ||
		     old->cl->port != cl->port) &&
		    listener_bind(next[i], err) < 0)
			return -1;
		if (next[i]->fd >= 0)
			old_of[i] = NULL; /* a socket of its own */
	}
	return 0;
}

static int in_list(struct listener *l, struct listener **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == l)
			return 1;
	return 0;
}

/* Switch to the prepared listeners: a replaced listener hands its socket
 * to its successor, so connections wait in the backlog, not refused. */
static void reload_commit(struct server *srv, struct gen *gen,
			  struct listener **next, struct listener **old_of)
{
	size_t n = gen->conf->n_listeners, kept = 0, replaced = 0;
	char *err = NULL;

	for (size_t i = 0; i < n; i++) {
		if (next[i]->n_mhd > 0) {
			kept++;
			continue;
		}
		if (old_of[i] != NULL) {
			listener_quiesce(old_of[i]);
			listener_take_socket(next[i], old_of[i]);
		}
		if (listener_start(next[i], &err) < 0) {
			log_error("msg=\"reload: listener not started\" "
				  "error=\"%s\"", err);
			free(err);
			err = NULL;
		}
		replaced++;
	}
	for (size_t i = 0; i < srv->n_listeners; i++) {
		struct listener *l = srv->listeners[i];

		if (in_list(l, next, n))
			continue;
		listener_quiesce(l);
		drain(l, DRAIN_SECONDS);
		listener_free(l);
	}
	for (size_t i = 0; i < n; i++)
		srv->listeners[i] = next[i];
	srv->n_listeners = n;
	gen_release(srv->gen);
	srv->gen = gen;
	apply_log_level(gen->conf);
	log_info("msg=\"configuration reloaded\" listeners=%zu kept=%zu "
		 "replaced=%zu", n, kept, replaced);
}

static void reload(struct server *srv, const struct options *o)
{
	struct listener *next[CONF_MAX_LISTENERS] = { NULL };
	struct listener *old_of[CONF_MAX_LISTENERS] = { NULL };
	struct gen *gen;
	char *err = NULL;
	size_t n;

	service_notify("RELOADING=1");
	gen = gen_load(o->conf_path, &err);
	if (gen != NULL && strcmp(gen->conf->database, srv->db_path) != 0)
		err = strdup("the database cannot change on reload: restart "
			     "spaprovd");
	if (gen != NULL && err == NULL &&
	    gen->conf->threads != workers_count(srv->workers))
		log_warn("msg=\"[server] threads changes at the next restart\" "
			 "running=%u configured=%u",
			 workers_count(srv->workers), gen->conf->threads);
	if (gen == NULL || err != NULL ||
	    reload_prepare(srv, gen, next, old_of, &err) < 0) {
		log_error("msg=\"reload refused, the running configuration "
			  "stays\" error=\"%s\"", err ? err : "?");
		n = gen ? gen->conf->n_listeners : 0;
		for (size_t i = 0; i < n; i++)
			if (next[i] != NULL && !in_list(next[i],
							srv->listeners,
							srv->n_listeners))
				listener_free(next[i]);
		gen_release(gen);
		free(err);
		service_notify("READY=1");
		return;
	}
	reload_commit(srv, gen, next, old_of);
	service_notify("READY=1");
}

static int serve(struct server *srv, const struct options *o, char **err)
{
	sigset_t set;
	int sig = 0;

	if (ledger_start(srv->db_path, srv->busy_timeout_ms,
			 srv->gen->conf->ledger_batch,
			 srv->gen->conf->resync_retention_days, &srv->ledger,
			 err) < 0)
		return -1;
	if (workers_start(srv->gen->conf->threads, "worker", &srv->workers,
			  err) < 0)
		return -1;
	for (size_t i = 0; i < srv->n_listeners; i++)
		if (listener_start(srv->listeners[i], err) < 0)
			return -1;
	if (admin_start(srv, err) < 0)
		return -1;
	if (o->ports_file != NULL && write_ports(srv, o->ports_file) < 0)
		log_warn("msg=\"cannot write ports file\" file=%s error=\"%s\"",
			 o->ports_file, strerror(errno));
	log_info("msg=\"ready\" listeners=%zu database=%s", srv->n_listeners,
		 srv->db_path);
	service_notify("READY=1");
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		log_info("msg=\"SIGHUP: reloading\" config=%s", o->conf_path);
		reload(srv, o);
		admin_reloaded(srv);
		if (o->ports_file != NULL)
			write_ports(srv, o->ports_file);
	}
	log_info("msg=\"stopping\" signal=%s", strsignal(sig));
	service_notify("STOPPING=1");
	return 0;
}

/* Stop accepting everywhere, let requests in progress finish (bounded),
 * then commit the last ledger rows and close the database. */
static void teardown(struct server *srv)
{
	admin_stop(srv);
	for (size_t i = 0; i < srv->n_listeners; i++)
		listener_quiesce(srv->listeners[i]);
	for (size_t i = 0; i < srv->n_listeners; i++)
		drain(srv->listeners[i], DRAIN_SECONDS);
	for (size_t i = 0; i < srv->n_listeners; i++)
		listener_free(srv->listeners[i]);
	srv->n_listeners = 0;
	workers_stop(srv->workers);
	ledger_stop(srv->ledger);
	gen_release(srv->gen);
	free(srv->db_path);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, 'P' },
		{ "ports-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:tdhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->conf_path = optarg; break;
		case 't': o->test_only = 1; break;
		case 'd': o->daemonize = 1; break;
		case 'P': o->pidfile = optarg; break;
		case 'p': o->ports_file = optarg; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("spaprovd %s\n", PACKAGE_VERSION); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { .conf_path = DEFAULT_CONF,
			     .pidfile = DEFAULT_PIDFILE };
	struct server srv = { 0 };
	char *err = NULL;
	int rc = 1;
	sigset_t set;

	if (parse_options(argc, argv, &o) < 0)
		return 2;
	/* Block the signals in every thread; the main thread waits on them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	gnutls_global_init();
	conn_init_suite_names();
	pthread_key_create(&srv.db_key, db_key_close);
	if (setup(&srv, &o, &err) < 0)
		goto out;
	if (o.test_only) {
		printf("%s: configuration OK (%zu listeners)\n", o.conf_path,
		       srv.n_listeners);
		rc = 0;
		goto out;
	}
	if (srv.gen->conf->syslog || o.daemonize)
		log_use_syslog("spaprovd");
	if (o.daemonize && service_daemonize(o.pidfile, &err) < 0)
		goto out;
	if (privs_drop(srv.gen->conf, srv.db_path, &err) < 0)
		goto out;
	if (serve(&srv, &o, &err) == 0)
		rc = 0;
out:
	if (err != NULL) {
		if (o.daemonize || (srv.gen != NULL && srv.gen->conf->syslog))
			log_error("msg=\"cannot start\" error=\"%s\"", err);
		fprintf(stderr, "spaprovd: %s\n", err);
		free(err);
	}
	teardown(&srv);
	if (o.daemonize)
		unlink(o.pidfile);
	gnutls_global_deinit();
	return rc;
}
