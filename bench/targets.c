/* bench/targets.c: the servers under test, each started on 127.0.0.1
 * with a temporary configuration under DIR and stopped by the bench:
 * spaprovd (four legacy listeners, a fresh database with the phones),
 * the GnuTLS baseline (this program, serve-baseline), nginx and Apache
 * httpd with mod_ssl (client certificate required at server/vhost
 * level, a static file per phone). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench/bench.h"
#include "db/db.h"
#include "tmpl/tmpl.h"

#define BN_READY_S 120.0           /* a server must be up by then */
#define BN_STOP_S 20.0             /* and gone after SIGTERM */
#define BN_MAX_CONF (64 * 1024)

static const char *const kind_names[] = {
	[BN_SPAPROVD] = "spaprovd",
	[BN_BASELINE] = "baseline",
	[BN_NGINX] = "nginx",
	[BN_APACHE] = "apache",
};

static const char *const listener_ca[] = { "sipura", "linksys", "sb",
					   "sb2k" };

const char *bn_kind_name(enum bn_kind k)
{
	return kind_names[k];
}

int bn_kind_parse(const char *s, enum bn_kind *out)
{
	for (int k = 0; k <= BN_APACHE; k++) {
		if (strcmp(s, kind_names[k]) == 0) {
			*out = (enum bn_kind)k;
			return 0;
		}
	}
	return -1;
}

/* ---- the profile ---------------------------------------------------- */

/* A flat profile of the size SPA phones get (about 2 KB). */
static const char bench_profile[] =
	"<flat-profile>\n"
	"  <!-- spaprov bench profile for {{mac}} ({{model}} {{serial}}) -->\n"
	"  <Station_Name>{{station_name}}</Station_Name>\n"
	"  <Primary_NTP_Server>pool.ntp.org</Primary_NTP_Server>\n"
	"  <Time_Zone>GMT+01:00</Time_Zone>\n"
	"  <Line_Enable_1_>Yes</Line_Enable_1_>\n"
	"  <Proxy_1_>sip.example.com</Proxy_1_>\n"
	"  <Outbound_Proxy_1_>sbc.example.com:5060</Outbound_Proxy_1_>\n"
	"  <Register_Expires_1_>3600</Register_Expires_1_>\n"
	"  <Display_Name_1_>{{station_name}}</Display_Name_1_>\n"
	"  <User_ID_1_>{{sip_user}}</User_ID_1_>\n"
	"  <Auth_ID_1_>{{sip_user}}</Auth_ID_1_>\n"
	"  <Password_1_>{{sip_password}}</Password_1_>\n"
	"  <Use_Auth_ID_1_>Yes</Use_Auth_ID_1_>\n"
	"  <Preferred_Codec_1_>G711a</Preferred_Codec_1_>\n"
	"  <Second_Preferred_Codec_1_>G722</Second_Preferred_Codec_1_>\n"
	"  <Dial_Plan_1_>(*xx|[3469]11|0|00|[2-9]xxxxxx|1xxx[2-9]xxxxxxS0|"
	"xxxxxxxxxxxx.)</Dial_Plan_1_>\n"
	"  <Voice_Mail_Number>*97</Voice_Mail_Number>\n"
	"  <Line_Enable_2_>No</Line_Enable_2_>\n"
	"  <Enable_Web_Server>No</Enable_Web_Server>\n"
	"  <Admin_Passwd>{{sip_password}}</Admin_Passwd>\n"
	"  <Provision_Enable>Yes</Provision_Enable>\n"
	"  <Resync_On_Reset>Yes</Resync_On_Reset>\n"
	"  <Resync_Random_Delay>2</Resync_Random_Delay>\n"
	"  <Resync_Periodic>3600+600</Resync_Periodic>\n"
	"  <Resync_Error_Retry_Delay>3600</Resync_Error_Retry_Delay>\n"
	"  <Profile_Rule>https://prov.spaprov.test:8444/spa$MA.xml"
	"</Profile_Rule>\n"
	"  <Profile_Rule_B></Profile_Rule_B>\n"
	"  <Upgrade_Enable>Yes</Upgrade_Enable>\n"
	"  <Upgrade_Rule>http://prov.spaprov.test/fw/$PN-7-6-2.bin"
	"</Upgrade_Rule>\n"
	"  <Log_Resync_Request_Msg>$PN $MAC -- Requesting resync "
	"$SCHEME://$SERVIP:$PORT$PATH</Log_Resync_Request_Msg>\n"
	"  <Log_Resync_Success_Msg>$PN $MAC -- Successful resync "
	"$SCHEME://$SERVIP:$PORT$PATH</Log_Resync_Success_Msg>\n"
	"  <Log_Resync_Failure_Msg>$PN $MAC -- Resync failed: $ERR"
	"</Log_Resync_Failure_Msg>\n"
	"  <Syslog_Server>syslog.example.com</Syslog_Server>\n"
	"  <Debug_Level>0</Debug_Level>\n"
	"  <Text_Logo>{{mac_upper}}</Text_Logo>\n"
	"  <Enable_VLAN>No</Enable_VLAN>\n"
	"  <Speed_Dial_2>*98</Speed_Dial_2>\n"
	"  <Speed_Dial_3>*99</Speed_Dial_3>\n"
	"</flat-profile>\n";

struct pvars {
	char mac[13], mac_up[13], serial[16], station[32], user[16], pw[24];
};

static void phone_vars(size_t i, struct pvars *v)
{
	bn_phone_mac(i, v->mac);
	for (int k = 0; k < 13; k++)
		v->mac_up[k] = (char)(v->mac[k] >= 'a' ? v->mac[k] - 32
						       : v->mac[k]);
	bn_phone_serial(i, v->serial);
	snprintf(v->station, sizeof(v->station), "Bench phone %zu", i);
	snprintf(v->user, sizeof(v->user), "%zu", 100000 + i);
	snprintf(v->pw, sizeof(v->pw), "pw-%08zx-x", i * 2654435761u);
}

static const char *lookup(void *ctx, const char *name)
{
	struct pvars *v = ctx;

	if (strcmp(name, "mac") == 0)
		return v->mac;
	if (strcmp(name, "mac_upper") == 0)
		return v->mac_up;
	if (strcmp(name, "serial") == 0)
		return v->serial;
	if (strcmp(name, "model") == 0)
		return BN_PHONE_MODEL;
	if (strcmp(name, "station_name") == 0)
		return v->station;
	if (strcmp(name, "sip_user") == 0)
		return v->user;
	if (strcmp(name, "sip_password") == 0)
		return v->pw;
	return NULL;
}

char *bn_render_profile(size_t i, size_t *len)
{
	struct pvars v;
	char *out = NULL, *err = NULL;

	phone_vars(i, &v);
	if (tmpl_render(bench_profile, sizeof(bench_profile) - 1, lookup, &v,
			&out, len, &err) < 0)
		bn_die("bench profile: %s", err ? err : "?");
	return out;
}

/* ---- the database --------------------------------------------------- */

static void sql_ck(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		bn_die("%s: %s", what, sqlite3_errmsg(db));
}

int bn_db_register(const char *path, size_t n)
{
	char p2[BN_MAX_PATH + 8], ts[32];
	struct db *db = NULL;
	sqlite3 *sq = NULL;
	sqlite3_stmt *dev = NULL, *var = NULL;
	char *err = NULL;
	double t0 = bn_now();

	unlink(path);
	snprintf(p2, sizeof(p2), "%s-wal", path);
	unlink(p2);
	snprintf(p2, sizeof(p2), "%s-shm", path);
	unlink(p2);
	if (db_open(path, 5000, &db, &err) < 0 ||
	    db_profile_set(db, "bench", bench_profile, &err) < 0)
		bn_die("%s: %s", path, err ? err : "?");
	db_close(db);
	db_timestamp(ts);
	sql_ck(sq, sqlite3_open(path, &sq), "open");
	sql_ck(sq, sqlite3_exec(sq, "PRAGMA synchronous=OFF; BEGIN", NULL,
				NULL, NULL), "begin");
	sql_ck(sq, sqlite3_prepare_v2(sq,
		"INSERT INTO devices (mac, status, profile, description,"
		" created, updated) VALUES (?1, 'enabled', 'bench', ?2, ?3, ?3)",
		-1, &dev, NULL), "prepare");
	sql_ck(sq, sqlite3_prepare_v2(sq,
		"INSERT INTO device_vars (mac, name, value) VALUES (?1, ?2, ?3)",
		-1, &var, NULL), "prepare");
	for (size_t i = 0; i < n; i++) {
		struct pvars v;
		const char *names[3] = { "station_name", "sip_user",
					 "sip_password" };
		const char *vals[3];

		phone_vars(i, &v);
		vals[0] = v.station;
		vals[1] = v.user;
		vals[2] = v.pw;
		sqlite3_bind_text(dev, 1, v.mac, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(dev, 2, v.station, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(dev, 3, ts, -1, SQLITE_STATIC);
		sql_ck(sq, sqlite3_step(dev), "insert device");
		sqlite3_reset(dev);
		for (int k = 0; k < 3; k++) {
			sqlite3_bind_text(var, 1, v.mac, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(var, 2, names[k], -1, SQLITE_STATIC);
			sqlite3_bind_text(var, 3, vals[k], -1,
					  SQLITE_TRANSIENT);
			sql_ck(sq, sqlite3_step(var), "insert var");
			sqlite3_reset(var);
		}
	}
	sqlite3_finalize(dev);
	sqlite3_finalize(var);
	sql_ck(sq, sqlite3_exec(sq, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)",
				NULL, NULL, NULL), "commit");
	sqlite3_close(sq);
	if (n >= 100000)
		printf("registered %zu devices (3 variables each) in one "
		       "transaction: %.1f s, %.0f devices/s\n", n,
		       bn_now() - t0, (double)n / (bn_now() - t0));
	return 0;
}

long long bn_db_count_ok(const char *path, long long *total,
			 long long *distinct_macs)
{
	sqlite3 *sq = NULL;
	sqlite3_stmt *st = NULL;
	long long ok = -1;

	if (sqlite3_open_v2(path, &sq, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(sq, "SELECT count(*), coalesce(sum(outcome ="
			       " 'ok'), 0), count(DISTINCT mac) FROM resyncs",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto out;
	*total = sqlite3_column_int64(st, 0);
	ok = sqlite3_column_int64(st, 1);
	*distinct_macs = sqlite3_column_int64(st, 2);
out:
	sqlite3_finalize(st);
	sqlite3_close(sq);
	return ok;
}

/* ---- processes ------------------------------------------------------ */

/* Servers running now, for bn_targets_kill() from a signal handler. */
static volatile pid_t live[4];

static void live_set(pid_t pid, int on)
{
	for (int i = 0; i < 4; i++) {
		if (on && live[i] == 0) {
			live[i] = pid;
			return;
		}
		if (!on && live[i] == pid) {
			live[i] = 0;
			return;
		}
	}
}

void bn_targets_kill(void)
{
	for (int i = 0; i < 4; i++)
		if (live[i] > 0)
			kill(-live[i], SIGKILL);
}

static pid_t spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	live_set(pid, 1);
	return pid;
}

static int exited(pid_t pid)
{
	int st;

	return waitpid(pid, &st, WNOHANG) == pid;
}

static int wait_ports_file(struct bn_target *t, const char *path)
{
	double end = bn_now() + BN_READY_S;

	while (bn_now() < end) {
		FILE *f = fopen(path, "r");

		if (f != NULL) {
			char name[64];
			unsigned port;

			t->n_ports = 0;
			while (t->n_ports < BN_MAX_PORTS &&
			       fscanf(f, "%63s %u", name, &port) == 2)
				t->ports[t->n_ports++] = port;
			fclose(f);
			if (t->n_ports > 0)
				return 0;
		}
		if (exited(t->pid)) {
			live_set(t->pid, 0);
			t->pid = 0;
			return -1;
		}
		bn_sleep(0.005);
	}
	return -1;
}

static int port_open(unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int wait_ports_open(struct bn_target *t)
{
	double end = bn_now() + BN_READY_S;

	while (bn_now() < end) {
		size_t up = 0;

		for (size_t i = 0; i < t->n_ports; i++)
			up += (size_t)port_open(t->ports[i]);
		if (up == t->n_ports) {
			/* Apache binds before it reads all its configuration:
			 * still there a moment later? */
			bn_sleep(0.3);
			if (!exited(t->pid))
				return 0;
			live_set(t->pid, 0);
			t->pid = 0;
			return -1;
		}
		if (exited(t->pid)) {
			live_set(t->pid, 0);
			t->pid = 0;
			return -1;
		}
		bn_sleep(0.01);
	}
	return -1;
}

static unsigned free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t l = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned port = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &l) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Per-phone static files for nginx and Apache, made once. */
static void make_www(const char *dir, size_t n)
{
	char www[BN_MAX_PATH + 8], path[BN_MAX_PATH + 64], mac[13];

	snprintf(www, sizeof(www), "%s/www", dir);
	bn_mkdirs(www);
	chmod(dir, 0755);
	for (size_t i = 0; i < n; i++) {
		size_t len;
		char *body;

		bn_phone_mac(i, mac);
		snprintf(path, sizeof(path), "%s/spa%s.xml", www, mac);
		if (access(path, R_OK) == 0)
			continue;
		body = bn_render_profile(i, &len);
		if (bn_write_file(path, body, len, 0644) < 0)
			bn_die("cannot write %s", path);
		free(body);
	}
}

static int write_text(const char *path, const char *text)
{
	return bn_write_file(path, text, strlen(text), 0644);
}

static int start_spaprovd(const struct bn_target_opts *o,
			  const struct bn_pki *pki, struct bn_target *t)
{
	char conf[BN_MAX_CONF], path[BN_MAX_PATH + 32], ports[BN_MAX_PATH + 32];
	char log[BN_MAX_PATH + 32];
	size_t len = 0;
	double t0;

	if (o->db != NULL) {
		snprintf(t->db, sizeof(t->db), "%s", o->db);
	} else {
		snprintf(t->db, sizeof(t->db), "%s/spaprovd.db", t->workdir);
		bn_db_register(t->db, pki->n_phones);
	}
	len += (size_t)snprintf(conf + len, sizeof(conf) - len,
		"[server]\ndatabase = %s\nclient_roots = %s\n"
		"client_cert_time_check = no\nunknown_devices = record\n"
		"log_level = info\nthreads = %u\n%s", t->db, pki->client_root,
		o->threads ? o->threads : 2,
		geteuid() == 0 ? "run_as_root = yes\n" : "");
	for (unsigned i = 0; i < o->n_listeners && i < 4; i++)
		len += (size_t)snprintf(conf + len, sizeof(conf) - len,
			"\n[listener %s]\nca = %s\naddress = 127.0.0.1\n"
			"port = 0\ncertificate = %s\nkey = %s\ndh_bits = 1024\n"
			"connection_timeout = %u\n",
			listener_ca[i], listener_ca[i], pki->server_crt,
			o->server_key ? o->server_key : pki->server_key,
			o->conn_timeout ? o->conn_timeout : 30);
	snprintf(path, sizeof(path), "%s/spaprov.conf", t->workdir);
	snprintf(ports, sizeof(ports), "%s/ports", t->workdir);
	snprintf(log, sizeof(log), "%s/spaprovd.log", t->workdir);
	if (write_text(path, conf) < 0)
		return -1;
	unlink(ports);
	{
		char *argv[] = { (char *)o->spaprovd, (char *)"-c", path,
				 (char *)"--ports-file", ports, NULL };

		t0 = bn_now();
		t->pid = spawn(argv, log);
	}
	if (t->pid <= 0 || wait_ports_file(t, ports) < 0)
		return -1;
	t->start_s = bn_now() - t0;
	t->per_phone_body = 1;
	return 0;
}

static int start_baseline(const struct bn_target_opts *o,
			  const struct bn_pki *pki, struct bn_target *t)
{
	char ports[BN_MAX_PATH + 32], log[BN_MAX_PATH + 32], th[16], np[16];
	char *argv[16];
	int a = 0;
	double t0;

	snprintf(ports, sizeof(ports), "%s/ports", t->workdir);
	snprintf(log, sizeof(log), "%s/baseline.log", t->workdir);
	snprintf(th, sizeof(th), "%u", o->threads ? o->threads
			: (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	snprintf(np, sizeof(np), "%u", o->n_listeners);
	unlink(ports);
	argv[a++] = (char *)o->self;
	argv[a++] = (char *)"serve-baseline";
	argv[a++] = (char *)"--pki";
	argv[a++] = (char *)pki->dir;
	argv[a++] = (char *)"--ports-file";
	argv[a++] = ports;
	argv[a++] = (char *)"--threads";
	argv[a++] = th;
	argv[a++] = (char *)"--ports";
	argv[a++] = np;
	if (o->resume)
		argv[a++] = (char *)"--resume";
	if (o->server_key != NULL) {
		argv[a++] = (char *)"--key";
		argv[a++] = (char *)o->server_key;
	}
	argv[a] = NULL;
	t0 = bn_now();
	t->pid = spawn(argv, log);
	if (t->pid <= 0 || wait_ports_file(t, ports) < 0)
		return -1;
	t->start_s = bn_now() - t0;
	return 0;
}

#define CIPHERS "DHE-RSA-AES256-SHA:AES256-SHA:DHE-RSA-AES128-SHA:" \
		"AES128-SHA:@SECLEVEL=0"

static int start_nginx(const struct bn_target_opts *o,
		       const struct bn_pki *pki, struct bn_target *t)
{
	char conf[BN_MAX_CONF], path[BN_MAX_PATH + 32], log[BN_MAX_PATH + 32];
	char tmp[BN_MAX_PATH + 32];
	unsigned ncpu = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	size_t len = 0;
	double t0;

	make_www(o->dir, pki->n_phones);
	snprintf(tmp, sizeof(tmp), "%s/tmp", t->workdir);
	bn_mkdirs(tmp);
	len += (size_t)snprintf(conf + len, sizeof(conf) - len,
		"# spaprov-bench: nginx as operators set it up (DOMAIN.md s.5)\n"
		"daemon off;\nmaster_process on;\nworker_processes %u;\n"
		"pid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
		"worker_rlimit_nofile 65536;\n"
		"events { worker_connections 16384; }\n"
		"http {\n"
		"  access_log %s/access.log;\n"
		"  default_type text/xml;\n"
		"  client_body_temp_path %s;\n"
		"  keepalive_timeout 0;\n"
		"  ssl_certificate %s;\n  ssl_certificate_key %s;\n"
		"  ssl_dhparam %s;\n"
		"  ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n"
		"  ssl_ciphers \"" CIPHERS "\";\n"
		"  ssl_prefer_server_ciphers on;\n"
		"  ssl_verify_client on;\n  ssl_client_certificate %s;\n"
		"  ssl_verify_depth 2;\n"
		"  ssl_session_cache %s;\n  ssl_session_tickets %s;\n",
		ncpu, t->workdir, t->workdir, t->workdir, tmp,
		pki->server_crt, pki->server_key, pki->dh_pem,
		pki->client_root, o->resume ? "shared:SSL:32m" : "off",
		o->resume ? "on" : "off");
	t->n_ports = o->n_listeners;
	for (size_t i = 0; i < t->n_ports; i++) {
		t->ports[i] = free_port();
		len += (size_t)snprintf(conf + len, sizeof(conf) - len,
			"  server {\n    listen 127.0.0.1:%u ssl;\n"
			"    root %s/www;\n    location / { }\n  }\n",
			t->ports[i], o->dir);
	}
	len += (size_t)snprintf(conf + len, sizeof(conf) - len, "}\n");
	snprintf(path, sizeof(path), "%s/nginx.conf", t->workdir);
	snprintf(log, sizeof(log), "%s/stderr.log", t->workdir);
	if (write_text(path, conf) < 0)
		return -1;
	{
		char *argv[] = { (char *)"nginx", (char *)"-c", path,
				 (char *)"-p", t->workdir, NULL };

		t0 = bn_now();
		t->pid = spawn(argv, log);
	}
	if (t->pid <= 0 || wait_ports_open(t) < 0)
		return -1;
	t->start_s = bn_now() - t0;
	t->per_phone_body = 1;
	return 0;
}

#define AP_MODS "/usr/lib/apache2/modules"

static int start_apache(const struct bn_target_opts *o,
			const struct bn_pki *pki, struct bn_target *t)
{
	char conf[BN_MAX_CONF], path[BN_MAX_PATH + 32], log[BN_MAX_PATH + 32];
	char certdh[BN_MAX_PATH + 32];
	size_t len = 0;
	double t0;

	make_www(o->dir, pki->n_phones);
	/* mod_ssl with OpenSSL 3 ignores SSLOpenSSLConfCmd DHParameters and
	 * offers a 2048-bit group (old firmware fails above 1024 bits,
	 * DOMAIN.md s.3); DH parameters appended to the certificate file
	 * are honoured, so the bench gives it both */
	snprintf(certdh, sizeof(certdh), "%s/server-dh.crt", t->workdir);
	{
		char *crt = NULL, *dh = NULL, *both = NULL;
		size_t lc = 0, ld = 0;

		if (bn_read_file(pki->server_crt, 1 << 20, &crt, &lc) < 0 ||
		    bn_read_file(pki->dh_pem, 1 << 20, &dh, &ld) < 0 ||
		    (both = malloc(lc + ld + 1)) == NULL)
			bn_die("cannot read %s or %s", pki->server_crt,
			       pki->dh_pem);
		memcpy(both, crt, lc);
		memcpy(both + lc, dh, ld);
		if (bn_write_file(certdh, both, lc + ld, 0644) < 0)
			bn_die("cannot write %s", certdh);
		free(crt);
		free(dh);
		free(both);
	}
	len += (size_t)snprintf(conf + len, sizeof(conf) - len,
		"# spaprov-bench: Apache httpd + mod_ssl as operators set it "
		"up (DOMAIN.md s.5)\n"
		"LoadModule mpm_event_module " AP_MODS "/mod_mpm_event.so\n"
		"LoadModule authz_core_module " AP_MODS "/mod_authz_core.so\n"
		"LoadModule mime_module " AP_MODS "/mod_mime.so\n"
		"LoadModule socache_shmcb_module " AP_MODS
		"/mod_socache_shmcb.so\n"
		"LoadModule ssl_module " AP_MODS "/mod_ssl.so\n"
		"ServerName " BN_FQDN "\nServerRoot %s\nPidFile %s/httpd.pid\n"
		"ErrorLog %s/error.log\nLogLevel warn\n"
		"CustomLog %s/access.log common\n"
		"LogFormat \"%%h %%l %%u %%t \\\"%%r\\\" %%>s %%b\" common\n"
		"User www-data\nGroup www-data\n"
		"StartServers 2\nServerLimit 16\nThreadsPerChild 25\n"
		"MaxRequestWorkers 400\nMinSpareThreads 50\n"
		"MaxSpareThreads 400\nMaxConnectionsPerChild 0\n"
		"ListenBacklog 1024\nKeepAlive Off\n"
		"DocumentRoot %s/www\n"
		"<Directory %s/www>\n  Require all granted\n</Directory>\n"
		"TypesConfig /dev/null\nAddType text/xml .xml\n"
		"SSLSessionCache %s\nSSLSessionTickets %s\n",
		t->workdir, t->workdir, t->workdir, t->workdir, o->dir,
		o->dir, o->resume ? "shmcb:ssl_scache(33554432)" : "none",
		o->resume ? "on" : "off");
	if (o->resume)
		len += (size_t)snprintf(conf + len, sizeof(conf) - len,
					"SSLSessionCacheTimeout 3600\n");
	t->n_ports = o->n_listeners;
	for (size_t i = 0; i < t->n_ports; i++) {
		t->ports[i] = free_port();
		len += (size_t)snprintf(conf + len, sizeof(conf) - len,
			"Listen 127.0.0.1:%u\n"
			"<VirtualHost 127.0.0.1:%u>\n"
			"  SSLEngine on\n"
			"  ServerName " BN_FQDN "\n"
			"  SSLCertificateFile %s\n  SSLCertificateKeyFile %s\n"
			"  SSLOpenSSLConfCmd DHParameters \"%s\"\n"
			"  SSLProtocol all\n"
			"  SSLCipherSuite \"" CIPHERS "\"\n"
			"  SSLHonorCipherOrder on\n"
			"  SSLVerifyClient require\n  SSLVerifyDepth 2\n"
			"  SSLCACertificateFile %s\n"
			"</VirtualHost>\n",
			t->ports[i], t->ports[i], certdh,
			pki->server_key, pki->dh_pem, pki->client_root);
	}
	snprintf(path, sizeof(path), "%s/httpd.conf", t->workdir);
	snprintf(log, sizeof(log), "%s/stderr.log", t->workdir);
	if (write_text(path, conf) < 0)
		return -1;
	{
		char *argv[] = { (char *)"apache2", (char *)"-d", t->workdir,
				 (char *)"-f", path, (char *)"-DFOREGROUND",
				 NULL };

		t0 = bn_now();
		t->pid = spawn(argv, log);
	}
	if (t->pid <= 0 || wait_ports_open(t) < 0)
		return -1;
	t->start_s = bn_now() - t0;
	t->per_phone_body = 1;
	return 0;
}

int bn_target_start(enum bn_kind kind, const struct bn_target_opts *o,
		    const struct bn_pki *pki, struct bn_target *t)
{
	int rc = -1;

	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->name = kind_names[kind];
	snprintf(t->workdir, sizeof(t->workdir), "%s/%s", o->dir,
		 kind_names[kind]);
	if (bn_mkdirs(t->workdir) < 0)
		bn_die("cannot create %s", t->workdir);
	chmod(t->workdir, 0755);
	switch (kind) {
	case BN_SPAPROVD: rc = start_spaprovd(o, pki, t); break;
	case BN_BASELINE: rc = start_baseline(o, pki, t); break;
	case BN_NGINX: rc = start_nginx(o, pki, t); break;
	case BN_APACHE: rc = start_apache(o, pki, t); break;
	}
	if (rc < 0) {
		bn_warn("%s did not start; see the logs in %s", t->name,
			t->workdir);
		bn_target_stop(t);
	}
	return rc;
}

void bn_target_stop(struct bn_target *t)
{
	double end;
	int st;

	if (t->pid <= 0)
		return;
	live_set(t->pid, 0);
	kill(t->pid, SIGTERM);
	end = bn_now() + BN_STOP_S;
	while (bn_now() < end) {
		if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
			/* workers of nginx/Apache leave with their master;
			 * anything left in the group we made goes too */
			kill(-t->pid, SIGKILL);
			t->pid = 0;
			return;
		}
		bn_sleep(0.02);
	}
	bn_warn("%s (pid %d) ignored SIGTERM; killing its process group",
		t->name, (int)t->pid);
	kill(-t->pid, SIGKILL);
	waitpid(t->pid, &st, 0);
	t->pid = 0;
}
