/* spaprovd: the provisioning daemon.  One TLS listener per Cisco
 * provisioning CA, one shared SQLite inventory and ledger. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "db/db.h"
#include "server/conn.h"
#include "server/server.h"
#include "util/log.h"

#define DEFAULT_CONF SPAPROV_SYSCONFDIR "/spaprov.conf"
#define DEFAULT_CLIENT_ROOTS SPAPROV_PKGDATADIR "/client-roots.pem"
#define MAX_TRUST_PEM (4u << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: spaprovd [-c FILE] [-t] [--ports-file FILE]\n"
		"Serve Cisco SPA/Linksys/Sipura/MPP provisioning profiles.\n\n"
		"  -c, --config FILE     configuration (default %s)\n"
		"  -t, --test            check the configuration, TLS material "
		"and database, then exit\n"
		"      --ports-file FILE when all listeners are up, write "
		"\"NAME PORT\" lines there\n"
		"  -h, --help            this help\n"
		"  -V, --version         print the version\n\n"
		"Runs in the foreground and logs to stderr. SIGTERM or SIGINT "
		"stops it.\n",
		DEFAULT_CONF);
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
	if (db_open_existing(srv->conf->database, srv->conf->busy_timeout_ms,
			     &db, &err) < 0) {
		log_error("msg=\"cannot open database\" error=\"%s\"",
			  err ? err : "?");
		free(err);
		return NULL;
	}
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

static int load_trust(struct server *srv, char **err)
{
	const char *def[] = { DEFAULT_CLIENT_ROOTS };
	const char *const *files = (const char *const *)srv->conf->client_roots;
	size_t n = srv->conf->n_client_roots;
	size_t total = 0;

	if (n == 0) {
		files = def;
		n = 1;
	}
	if (trust_load(files, n, srv->conf->client_cert_time_check,
		       &srv->trust, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char *pem = NULL;
		size_t len = 0;
		char *grown;

		if (tls_read_file(files[i], MAX_TRUST_PEM, &pem, &len, err) < 0)
			return -1;
		grown = realloc(srv->trust_pem, total + len + 2);
		if (grown == NULL) {
			free(pem);
			return -1;
		}
		srv->trust_pem = grown;
		memcpy(srv->trust_pem + total, pem, len);
		total += len;
		srv->trust_pem[total++] = '\n';
		srv->trust_pem[total] = '\0';
		free(pem);
	}
	log_info("msg=\"client roots loaded\" certificates=%zu files=%zu "
		 "time_check=%s", trust_count(srv->trust), n,
		 srv->conf->client_cert_time_check ? "yes" : "no");
	return 0;
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
		fprintf(f, "%s %u\n", srv->listeners[i].cl->name,
			srv->listeners[i].port);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

/* Everything that can fail before serving: config, roots, database, TLS. */
static int setup(struct server *srv, const char *conf_path, char **err)
{
	struct db *db = NULL;
	int level;

	if (conf_load(conf_path, &srv->conf, err) < 0)
		return -1;
	level = log_level_parse(srv->conf->log_level ? srv->conf->log_level
						     : "info");
	log_set_level(level >= 0 ? (enum log_level)level : LOG_LVL_INFO);
	if (load_trust(srv, err) < 0)
		return -1;
	if (db_open(srv->conf->database, srv->conf->busy_timeout_ms, &db,
		    err) < 0)
		return -1;
	db_close(db);
	for (size_t i = 0; i < srv->conf->n_listeners; i++) {
		struct listener *l = &srv->listeners[i];

		l->srv = srv;
		l->cl = &srv->conf->listeners[i];
		l->ca = conf_ca_name(l->cl->ca);
		if (tls_material_load(srv->conf, l->cl, &l->tls, err) < 0)
			return -1;
		srv->n_listeners++;
	}
	return 0;
}

static int serve(struct server *srv, const char *ports_file, char **err)
{
	sigset_t set;
	int sig = 0;

	if (ledger_start(srv->conf->database, srv->conf->busy_timeout_ms,
			 srv->conf->ledger_batch, &srv->ledger, err) < 0)
		return -1;
	for (size_t i = 0; i < srv->n_listeners; i++)
		if (listener_start(&srv->listeners[i], err) < 0)
			return -1;
	if (ports_file != NULL && write_ports(srv, ports_file) < 0)
		log_warn("msg=\"cannot write ports file\" file=%s error=\"%s\"",
			 ports_file, strerror(errno));
	log_info("msg=\"ready\" listeners=%zu database=%s", srv->n_listeners,
		 srv->conf->database);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		log_warn("msg=\"SIGHUP ignored: configuration reload is not "
			 "supported yet, restart spaprovd to apply changes\"");
	}
	log_info("msg=\"stopping\" signal=%s", strsignal(sig));
	return 0;
}

static void teardown(struct server *srv)
{
	for (size_t i = 0; i < srv->n_listeners; i++) {
		listener_stop(&srv->listeners[i]);
		tls_material_free(&srv->listeners[i].tls);
	}
	ledger_stop(srv->ledger);
	trust_free(srv->trust);
	free(srv->trust_pem);
	conf_free(srv->conf);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "ports-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = DEFAULT_CONF, *ports_file = NULL;
	struct server srv = { 0 };
	char *err = NULL;
	int ch, test_only = 0, rc = 1;
	sigset_t set;

	while ((ch = getopt_long(argc, argv, "c:thV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 't': test_only = 1; break;
		case 'p': ports_file = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("spaprovd %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
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
	if (setup(&srv, conf_path, &err) < 0)
		goto out;
	if (test_only) {
		printf("%s: configuration OK (%zu listeners)\n", conf_path,
		       srv.n_listeners);
		rc = 0;
		goto out;
	}
	if (serve(&srv, ports_file, &err) == 0)
		rc = 0;
out:
	if (err != NULL) {
		fprintf(stderr, "spaprovd: %s\n", err);
		free(err);
	}
	teardown(&srv);
	gnutls_global_deinit();
	return rc;
}
