#include "config.h"

#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"

/* Every test runs in a private temporary directory (the cwd) holding real
 * certificate, key and parameter files; configurations are written there as
 * "spaprov.conf", so messages start with "spaprov.conf:". */
static char tmpdir[PATH_MAX];

#define SERVER "[server]\ndatabase = spaprov.db\n"
/* six lines */
#define LISTENER(name, addr, port) \
	"[listener " name "]\nca = sb2k\naddress = " addr "\nport = " port \
	"\ncertificate = sb2k.crt\nkey = sb2k.key\n"

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static char *load_error_n(const char *text, size_t len)
{
	struct conf *conf = (struct conf *)&tmpdir; /* must stay untouched */
	char *err = NULL;

	write_file("spaprov.conf", text, len);
	ck_assert_int_eq(conf_load("spaprov.conf", &conf, &err), -1);
	ck_assert_ptr_eq(conf, (struct conf *)&tmpdir);
	ck_assert_ptr_nonnull(err);
	return err;
}

static void expect_error(const char *text, const char *want)
{
	char *err = load_error_n(text, strlen(text));

	ck_assert_str_eq(err, want);
	free(err);
}

static struct conf *load_ok(const char *path, const char *text)
{
	struct conf *conf = NULL;
	char *err = NULL;

	write_file(path, text, strlen(text));
	ck_assert_msg(conf_load(path, &conf, &err) == 0, "error: %s", err);
	ck_assert_ptr_null(err);
	ck_assert_ptr_nonnull(conf);
	return conf;
}

static char *in_tmp(const char *name)
{
	static char buf[4][PATH_MAX + 64];
	static int next;
	char *b = buf[next++ % 4];

	snprintf(b, sizeof(buf[0]), "%s/%s", tmpdir, name);
	return b;
}

static unsigned expected_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 2 ? 2 : n > 64 ? 64 : (unsigned)n;
}

START_TEST(valid_full)
{
	char text[4096];
	struct conf *c;
	const struct conf_listener *l;

	snprintf(text, sizeof(text),
		 "; spaprov test configuration\n"                  /* 1 */
		 "# another comment\n"                             /* 2 */
		 "\n"                                              /* 3 */
		 "[server]\n"                                      /* 4 */
		 "database = spaprov.db\n"                         /* 5 */
		 "client_roots = roots.pem   ; first one\n"        /* 6 */
		 "  client_roots   =   %s\n"                       /* 7 */
		 "\tclient_cert_time_check = yes\n"                /* 8 */
		 "unknown_devices = reject\n"                      /* 9 */
		 "log_level = debug\n"                             /* 10 */
		 "ledger_batch = 10000\n"                          /* 11 */
		 "busy_timeout_ms = 100\r\n"                       /* 12 */
		 "   ; indented comment\n"                         /* 13 */
		 "[listener sb2k]                    ; one per CA\n" /* 14 */
		 "ca = sb2k\n"                                     /* 15 */
		 "address = 127.0.0.1\n"                           /* 16 */
		 "port = 8444\n"                                   /* 17 */
		 "certificate = sb2k.crt\n"                        /* 18 */
		 "key = sb2k.key\n"                                /* 19 */
		 "dh_bits = 2048\n"                                /* 20 */
		 "tls_priority = NORMAL:-VERS-ALL:+VERS-TLS1.0;x \"q\" # c\n" /* 21 */
		 "threads = 64\n"                                  /* 22 */
		 "connection_limit = 1\n"                          /* 23 */
		 "per_ip_connection_limit = 65536\n"               /* 24 */
		 "connection_timeout = 3600\n"                     /* 25 */
		 "\n"                                              /* 26 */
		 "[ listener   mpp-1_X ]\n"                        /* 27 */
		 "ca = mpp\n"                                      /* 28 */
		 "address = ::1\n"                                 /* 29 */
		 "port = 0\n"                                      /* 30 */
		 "certificate = sb2k.crt\n"                        /* 31 */
		 "key = %s\n"                                      /* 32 */
		 "dh_params = dh.pem\n",                           /* 33 */
		 in_tmp("roots2.pem"), in_tmp("sb2k.key"));
	c = load_ok("spaprov.conf", text);

	ck_assert_str_eq(c->path, "spaprov.conf");
	ck_assert_str_eq(c->database, in_tmp("spaprov.db"));
	ck_assert_uint_eq(c->n_client_roots, 2);
	ck_assert_str_eq(c->client_roots[0], in_tmp("roots.pem"));
	ck_assert_str_eq(c->client_roots[1], in_tmp("roots2.pem"));
	ck_assert_int_eq(c->client_roots_line[0], 6);
	ck_assert_int_eq(c->client_roots_line[1], 7);
	ck_assert_int_eq(c->client_cert_time_check, 1);
	ck_assert_int_eq(c->unknown_devices, CONF_UNKNOWN_REJECT);
	ck_assert_str_eq(c->log_level, "debug");
	ck_assert_uint_eq(c->ledger_batch, 10000);
	ck_assert_uint_eq(c->busy_timeout_ms, 100);
	ck_assert_uint_eq(c->n_listeners, 2);

	l = &c->listeners[0];
	ck_assert_str_eq(l->name, "sb2k");
	ck_assert_int_eq(l->ca, CONF_CA_SB2K);
	ck_assert_str_eq(l->address, "127.0.0.1");
	ck_assert_uint_eq(l->port, 8444);
	ck_assert_str_eq(l->certificate, in_tmp("sb2k.crt"));
	ck_assert_str_eq(l->key, in_tmp("sb2k.key"));
	ck_assert_uint_eq(l->dh_bits, 2048);
	ck_assert_ptr_null(l->dh_params);
	ck_assert_str_eq(l->tls_priority, "NORMAL:-VERS-ALL:+VERS-TLS1.0;x \"q\"");
	ck_assert_uint_eq(l->threads, 64);
	ck_assert_uint_eq(l->connection_limit, 1);
	ck_assert_uint_eq(l->per_ip_connection_limit, 65536);
	ck_assert_uint_eq(l->connection_timeout, 3600);
	ck_assert_int_eq(l->line_section, 14);
	ck_assert_int_eq(l->line_address, 16);
	ck_assert_int_eq(l->line_certificate, 18);
	ck_assert_int_eq(l->line_key, 19);
	ck_assert_int_eq(l->line_dh, 20);
	ck_assert_int_eq(l->line_priority, 21);

	l = &c->listeners[1];
	ck_assert_str_eq(l->name, "mpp-1_X");
	ck_assert_int_eq(l->ca, CONF_CA_MPP);
	ck_assert_str_eq(l->address, "::1");
	ck_assert_uint_eq(l->port, 0);
	ck_assert_str_eq(l->key, in_tmp("sb2k.key"));
	ck_assert_uint_eq(l->dh_bits, 0);
	ck_assert_str_eq(l->dh_params, in_tmp("dh.pem"));
	ck_assert_ptr_null(l->tls_priority);
	/* defaults: no threads of its own, the shared ones serve it */
	ck_assert_uint_eq(l->threads, 0);
	ck_assert_uint_eq(l->connection_limit, 4096);
	ck_assert_uint_eq(l->per_ip_connection_limit, 0);
	ck_assert_uint_eq(l->connection_timeout, 30);
	ck_assert_int_eq(l->line_section, 27);
	ck_assert_int_eq(l->line_address, 29);
	ck_assert_int_eq(l->line_certificate, 31);
	ck_assert_int_eq(l->line_key, 32);
	ck_assert_int_eq(l->line_dh, 33);
	ck_assert_int_eq(l->line_priority, 27); /* absent: the section's line */

	ck_assert_ptr_eq(conf_listener_find(c, "mpp-1_X"), l);
	ck_assert_ptr_eq(conf_listener_find(c, "sb2k"), &c->listeners[0]);
	ck_assert_ptr_null(conf_listener_find(c, "mpp"));
	conf_free(c);
}
END_TEST

START_TEST(valid_defaults)
{
	struct conf *c = load_ok("spaprov.conf",
				 SERVER LISTENER("a", "10.0.0.1", "443"));
	const struct conf_listener *l = &c->listeners[0];

	ck_assert_uint_eq(c->n_client_roots, 0);
	ck_assert_int_eq(c->client_cert_time_check, 0);
	ck_assert_int_eq(c->unknown_devices, CONF_UNKNOWN_RECORD);
	ck_assert_str_eq(c->log_level, "info");
	ck_assert_uint_eq(c->ledger_batch, 256);
	ck_assert_uint_eq(c->busy_timeout_ms, 5000);
	ck_assert_uint_eq(c->n_listeners, 1);
	ck_assert_uint_eq(l->dh_bits, 1024);
	ck_assert_ptr_null(l->dh_params);
	ck_assert_ptr_null(l->tls_priority);
	ck_assert_uint_eq(l->threads, 0);
	ck_assert_uint_eq(c->threads, expected_threads());
	ck_assert_uint_ge(c->threads, 2);
	ck_assert_uint_eq(l->connection_limit, 4096);
	ck_assert_uint_eq(l->per_ip_connection_limit, 0);
	ck_assert_uint_eq(l->connection_timeout, 30);
	ck_assert_int_eq(l->line_section, 3);
	ck_assert_int_eq(l->line_dh, 3);
	ck_assert_int_eq(l->line_priority, 3);
	ck_assert_uint_eq(c->identity_cache, 20000);
	conf_free(c);
	c = load_ok("spaprov.conf", SERVER "threads = 3\n"
		    LISTENER("a", "10.0.0.1", "443") "threads = 5\n");
	l = &c->listeners[0];
	ck_assert_uint_eq(c->threads, 3);
	ck_assert_uint_eq(l->threads, 5);
	conf_free(c);
}
END_TEST

START_TEST(paths_relative_to_config_dir)
{
	/* the config lives in a subdirectory and is named by a relative
	 * path: its relative values resolve against that directory */
	struct conf *c;

	ck_assert(mkdir("etc", 0700) == 0 || access("etc", F_OK) == 0);
	write_file("etc/s.crt", "x", 1);
	write_file("etc/s.key", "x", 1);
	c = load_ok("etc/sp.conf",
		    "[server]\ndatabase = ../var/db\nclient_roots = s.crt\n"
		    "[listener a]\nca = sipura\naddress = 0.0.0.0\nport = 1\n"
		    "certificate = s.crt\nkey = ./s.key\n");
	ck_assert_str_eq(c->path, "etc/sp.conf");
	ck_assert_str_eq(c->database, in_tmp("etc/../var/db"));
	ck_assert_str_eq(c->client_roots[0], in_tmp("etc/s.crt"));
	ck_assert_str_eq(c->listeners[0].certificate, in_tmp("etc/s.crt"));
	ck_assert_str_eq(c->listeners[0].key, in_tmp("etc/./s.key"));
	ck_assert_int_eq(c->listeners[0].ca, CONF_CA_SIPURA);
	conf_free(c);

	/* an absolute config path works the same way */
	c = load_ok(in_tmp("etc/sp.conf"),
		    "[server]\ndatabase = /abs/db\n"
		    "[listener a]\nca = sb\naddress = 0.0.0.0\nport = 1\n"
		    "certificate = s.crt\nkey = s.key\n");
	ck_assert_str_eq(c->database, "/abs/db");
	ck_assert_str_eq(c->listeners[0].key, in_tmp("etc/s.key"));
	conf_free(c);
}
END_TEST

START_TEST(ca_names)
{
	enum conf_ca ca;
	static const char *const names[] = { "sipura", "linksys", "sb",
					     "sb2k", "mpp" };

	for (int i = 0; i < CONF_CA__COUNT; i++) {
		ck_assert_str_eq(conf_ca_name((enum conf_ca)i), names[i]);
		ck_assert_int_eq(conf_ca_parse(names[i], &ca), 0);
		ck_assert_int_eq(ca, i);
	}
	ck_assert_int_eq(conf_ca_parse("SB2K", &ca), -1);
	ck_assert_int_eq(conf_ca_parse("", &ca), -1);
	ck_assert_int_eq(conf_ca_parse("cisco", &ca), -1);
	conf_free(NULL);
}
END_TEST

START_TEST(err_cannot_open)
{
	struct conf *c = NULL;
	char *err = NULL;

	ck_assert_int_eq(conf_load("nonexistent.conf", &c, &err), -1);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "nonexistent.conf: cannot open: No such file or directory");
	free(err);
	ck_assert(mkdir("adir", 0700) == 0 || access("adir", F_OK) == 0);
	ck_assert_int_eq(conf_load("adir", &c, &err), -1);
	ck_assert_str_eq(err, "adir: cannot read: Is a directory");
	free(err);
}
END_TEST

START_TEST(err_unknown_section)
{
	expect_error(SERVER "[servers]\n",
		     "spaprov.conf:3: [servers]: unknown section");
	expect_error("[]\n", "spaprov.conf:1: []: unknown section");
}
END_TEST

START_TEST(err_bad_headers)
{
	expect_error("[server\n",
		     "spaprov.conf:1: [server: section header must end with ']'");
	expect_error("[server] x\n",
		     "spaprov.conf:1: [server] x: section header must end with ']'");
	expect_error("[server x]\n",
		     "spaprov.conf:1: [server x]: the server section takes no name");
	expect_error(SERVER "[server]\n",
		     "spaprov.conf:3: [server]: duplicate section (first on line 1)");
	expect_error(SERVER "[listener]\n",
		     "spaprov.conf:3: [listener]: missing listener name");
	expect_error(SERVER "[listener a.b]\n",
		     "spaprov.conf:3: [listener a.b]: invalid listener name "
		     "(expected 1 to 32 of A-Z a-z 0-9 _ -)");
	expect_error(SERVER "[listener a b]\n",
		     "spaprov.conf:3: [listener a b]: invalid listener name "
		     "(expected 1 to 32 of A-Z a-z 0-9 _ -)");
	expect_error(SERVER "[listener abcdefghijabcdefghijabcdefghijabc]\n",
		     "spaprov.conf:3: [listener abcdefghijabcdefghijabcdefghijabc]: "
		     "invalid listener name (expected 1 to 32 of A-Z a-z 0-9 _ -)");
}
END_TEST

START_TEST(err_syntax)
{
	expect_error("[server]\ndatabase\n",
		     "spaprov.conf:2: expected 'key = value' or '[section]'");
	expect_error("[server]\n = x\n",
		     "spaprov.conf:2: expected 'key = value' or '[section]'");
	expect_error("[server]\ndatabase =\n",
		     "spaprov.conf:2: database: missing value");
	expect_error("[server]\ndatabase = ; nothing\n",
		     "spaprov.conf:2: database: missing value");
}
END_TEST

START_TEST(err_unknown_key)
{
	expect_error(SERVER "colour = blue\n",
		     "spaprov.conf:3: colour: unknown key");
	/* a listener key in [server] and the other way round */
	expect_error(SERVER "port = 1\n", "spaprov.conf:3: port: unknown key");
	expect_error(SERVER LISTENER("a", "::1", "1") "database = x\n",
		     "spaprov.conf:9: database: unknown key");
	/* keys are case-sensitive */
	expect_error("[server]\nDatabase = x\n",
		     "spaprov.conf:2: Database: unknown key");
}
END_TEST

START_TEST(err_key_outside_section)
{
	expect_error("; comment\ndatabase = x\n" SERVER,
		     "spaprov.conf:2: database: key outside a section");
}
END_TEST

START_TEST(err_duplicate_key)
{
	expect_error("[server]\ndatabase = a\n  database = b\n",
		     "spaprov.conf:3: database: duplicate key (first on line 2)");
	expect_error(SERVER LISTENER("a", "::1", "1") "port = 2\n",
		     "spaprov.conf:9: port: duplicate key (first on line 6)");
}
END_TEST

START_TEST(client_roots_limit)
{
	char text[8192];
	size_t n;
	struct conf *c;

	n = (size_t)snprintf(text, sizeof(text), "%s", SERVER);
	for (int i = 0; i < CONF_MAX_CLIENT_ROOTS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "client_roots = roots.pem\n");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "%s",
			      LISTENER("a", "::1", "1"));
	c = load_ok("spaprov.conf", text);
	ck_assert_uint_eq(c->n_client_roots, CONF_MAX_CLIENT_ROOTS);
	ck_assert_int_eq(c->client_roots_line[CONF_MAX_CLIENT_ROOTS - 1],
			 2 + CONF_MAX_CLIENT_ROOTS);
	conf_free(c);

	n = (size_t)snprintf(text, sizeof(text), "%s", SERVER);
	for (int i = 0; i <= CONF_MAX_CLIENT_ROOTS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "client_roots = roots.pem\n");
	expect_error(text, "spaprov.conf:35: client_roots: more than 32 client_roots");
}
END_TEST

START_TEST(err_bad_values)
{
	expect_error("[server]\nclient_cert_time_check = maybe\n",
		     "spaprov.conf:2: client_cert_time_check: expected yes or no");
	expect_error("[server]\nclient_cert_time_check = Yes\n",
		     "spaprov.conf:2: client_cert_time_check: expected yes or no");
	expect_error("[server]\nunknown_devices = drop\n",
		     "spaprov.conf:2: unknown_devices: expected record or reject");
	expect_error("[server]\nlog_level = verbose\n",
		     "spaprov.conf:2: log_level: expected error, warn, info or debug");
	expect_error("[server]\nledger_batch = 0\n",
		     "spaprov.conf:2: ledger_batch: expected a number from 1 to 10000");
	expect_error("[server]\nledger_batch = 10001\n",
		     "spaprov.conf:2: ledger_batch: expected a number from 1 to 10000");
	expect_error("[server]\nbusy_timeout_ms = 99\n",
		     "spaprov.conf:2: busy_timeout_ms: expected a number from 100 to 600000");
	expect_error(SERVER "[listener a]\nca = cisco\n",
		     "spaprov.conf:4: ca: expected sipura, linksys, sb, sb2k or mpp");
	expect_error(SERVER "[listener a]\nport = 65536\n",
		     "spaprov.conf:4: port: expected a number from 0 to 65535");
	expect_error(SERVER "[listener a]\nport = -1\n",
		     "spaprov.conf:4: port: expected a number from 0 to 65535");
	expect_error(SERVER "[listener a]\nport = 80a\n",
		     "spaprov.conf:4: port: expected a number from 0 to 65535");
	expect_error(SERVER "[listener a]\nport = 99999999999999999999999\n",
		     "spaprov.conf:4: port: expected a number from 0 to 65535");
	expect_error(SERVER "threads = 0\n",
		     "spaprov.conf:3: threads: expected a number from 1 to 64");
	expect_error(SERVER "[listener a]\nthreads = 65\n",
		     "spaprov.conf:4: threads: expected a number from 1 to 64");
	expect_error(SERVER "[listener a]\nthreads = 0\n",
		     "spaprov.conf:4: threads: expected a number from 1 to 64");
	expect_error(SERVER "[listener a]\nconnection_limit = 0\n",
		     "spaprov.conf:4: connection_limit: expected a number from 1 to 65536");
	expect_error(SERVER "[listener a]\nper_ip_connection_limit = 65537\n",
		     "spaprov.conf:4: per_ip_connection_limit: expected a number from 0 to 65536");
	expect_error(SERVER "[listener a]\nconnection_timeout = 3601\n",
		     "spaprov.conf:4: connection_timeout: expected a number from 1 to 3600");
	expect_error(SERVER "[listener a]\ndh_bits = 1000\n",
		     "spaprov.conf:4: dh_bits: expected 768, 1024, 1536, 2048, 3072 or 4096");
	expect_error(SERVER "[listener a]\naddress = localhost\n",
		     "spaprov.conf:4: address: not a numeric IP address");
	expect_error(SERVER "[listener a]\naddress = [::1]\n",
		     "spaprov.conf:4: address: not a numeric IP address");
	expect_error(SERVER "[listener a]\naddress = 1.2.3.256\n",
		     "spaprov.conf:4: address: not a numeric IP address");
}
END_TEST

START_TEST(err_unreadable_files)
{
	expect_error(SERVER "[listener a]\ncertificate = missing.crt\n",
		     "spaprov.conf:4: certificate: cannot read file: No such file or directory");
	expect_error(SERVER "[listener a]\nkey = /nonexistent/x.key\n",
		     "spaprov.conf:4: key: cannot read file: No such file or directory");
	expect_error(SERVER "[listener a]\ndh_params = nodh.pem\n",
		     "spaprov.conf:4: dh_params: cannot read file: No such file or directory");
	expect_error("[server]\nclient_roots = none.pem\n",
		     "spaprov.conf:2: client_roots: cannot read file: No such file or directory");
	ck_assert(mkdir("certdir", 0700) == 0 || access("certdir", F_OK) == 0);
	expect_error(SERVER "[listener a]\ncertificate = certdir\n",
		     "spaprov.conf:4: certificate: cannot read file: Is a directory");
	expect_error(SERVER "[listener a]\ncertificate = /dev/null\n",
		     "spaprov.conf:4: certificate: cannot read file: not a regular file");
	if (geteuid() != 0) {   /* root reads anything */
		write_file("secret.key", "x", 1);
		ck_assert_int_eq(chmod("secret.key", 0), 0);
		expect_error(SERVER "[listener a]\nkey = secret.key\n",
			     "spaprov.conf:4: key: cannot read file: Permission denied");
	}
}
END_TEST

START_TEST(err_missing_required)
{
	expect_error(SERVER
		     "[listener sb2k]\nca = sb2k\naddress = 127.0.0.1\n"
		     "port = 8444\nkey = sb2k.key\n",
		     "spaprov.conf:3: [listener sb2k]: missing key 'certificate'");
	/* reported when the section ends, before later lines */
	expect_error(SERVER
		     "[listener a]\nca = sb2k\n"
		     "[listener b]\nbogus\n",
		     "spaprov.conf:3: [listener a]: missing key 'address'");
	expect_error(SERVER "[listener x]\n",
		     "spaprov.conf:3: [listener x]: missing key 'ca'");
	expect_error(SERVER
		     "[listener x]\nca = mpp\naddress = ::1\ncertificate = sb2k.crt\n"
		     "key = sb2k.key\n",
		     "spaprov.conf:3: [listener x]: missing key 'port'");
	expect_error(SERVER
		     "[listener x]\nca = mpp\naddress = ::1\ncertificate = sb2k.crt\n"
		     "port = 1\n",
		     "spaprov.conf:3: [listener x]: missing key 'key'");
}
END_TEST

START_TEST(err_missing_database)
{
	expect_error(LISTENER("a", "::1", "1"),
		     "spaprov.conf: [server]: missing key 'database'");
	expect_error(LISTENER("a", "::1", "1") "[server]\nlog_level = warn\n",
		     "spaprov.conf:7: [server]: missing key 'database'");
}
END_TEST

START_TEST(err_no_listener)
{
	expect_error(SERVER, "spaprov.conf: no [listener] section");
	expect_error("", "spaprov.conf: [server]: missing key 'database'");
}
END_TEST

START_TEST(err_dh_exclusive)
{
	expect_error(SERVER "[listener a]\ndh_bits = 2048\n\ndh_params = dh.pem\n",
		     "spaprov.conf:6: dh_params: cannot be used together with dh_bits (line 4)");
	expect_error(SERVER "[listener a]\ndh_params = dh.pem\ndh_bits = 2048\n",
		     "spaprov.conf:5: dh_bits: cannot be used together with dh_params (line 4)");
	/* each listener has its own choice */
	conf_free(load_ok("spaprov.conf",
			  SERVER LISTENER("a", "::1", "1") "dh_bits = 768\n"
			  LISTENER("b", "::1", "2") "dh_params = dh.pem\n"));
}
END_TEST

START_TEST(err_port_conflict)
{
	expect_error(SERVER LISTENER("a", "127.0.0.1", "8444")
		     LISTENER("b", "127.0.0.1", "8444"),
		     "spaprov.conf:12: port: listener 'b' uses 127.0.0.1:8444 "
		     "already used by listener 'a' (line 3)");
	/* the same IPv6 address written another way */
	expect_error(SERVER LISTENER("a", "::1", "443")
		     LISTENER("b", "127.0.0.1", "443")
		     LISTENER("c", "0:0::1", "443"),
		     "spaprov.conf:18: port: listener 'c' uses [0:0::1]:443 "
		     "already used by listener 'a' (line 3)");
	/* port 0 may repeat; other address or port is fine */
	conf_free(load_ok("spaprov.conf",
			  SERVER LISTENER("a", "127.0.0.1", "0")
			  LISTENER("b", "127.0.0.1", "0")
			  LISTENER("c", "127.0.0.2", "8444")
			  LISTENER("d", "127.0.0.1", "8444")
			  LISTENER("e", "127.0.0.1", "8445")));
}
END_TEST

START_TEST(err_duplicate_listener)
{
	expect_error(SERVER LISTENER("x", "::1", "1") LISTENER("x", "::1", "2"),
		     "spaprov.conf:9: [listener x]: duplicate listener name");
}
END_TEST

START_TEST(err_too_many_listeners)
{
	static char text[CONF_MAX_LISTENERS * 160];
	size_t n = (size_t)snprintf(text, sizeof(text), "%s", SERVER);
	struct conf *c;
	int i;

	for (i = 0; i < CONF_MAX_LISTENERS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "[listener l%d]\nca = sb\naddress = ::1\n"
				      "port = %d\ncertificate = sb2k.crt\n"
				      "key = sb2k.key\n", i, 1000 + i);
	c = load_ok("spaprov.conf", text);
	ck_assert_uint_eq(c->n_listeners, CONF_MAX_LISTENERS);
	ck_assert_str_eq(c->listeners[CONF_MAX_LISTENERS - 1].name, "l63");
	conf_free(c);
	snprintf(text + n, sizeof(text) - n, "[listener l%d]\n", i);
	expect_error(text, "spaprov.conf:387: [listener l64]: more than 64 listeners");
}
END_TEST

START_TEST(err_long_line)
{
	static char text[CONF_MAX_LINE + 256];
	size_t n;
	struct conf *c;

	/* exactly CONF_MAX_LINE bytes: fine */
	n = (size_t)snprintf(text, sizeof(text), SERVER "; ");
	memset(text + n, 'x', CONF_MAX_LINE - 2);
	n += CONF_MAX_LINE - 2;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\n%s",
			      LISTENER("a", "::1", "1"));
	c = load_ok("spaprov.conf", text);
	conf_free(c);
	/* one more: an error, not two lines */
	n = (size_t)snprintf(text, sizeof(text), SERVER "; ");
	memset(text + n, 'x', CONF_MAX_LINE - 1);
	snprintf(text + n + CONF_MAX_LINE - 1, 64, "\n");
	expect_error(text, "spaprov.conf:3: line longer than 4096 bytes");
	/* also on a last line without newline */
	text[strlen(text) - 1] = '\0';
	expect_error(text, "spaprov.conf:3: line longer than 4096 bytes");
}
END_TEST

START_TEST(err_nul_byte)
{
	static const char text[] = "[server]\ndatabase = a\0b\n";
	char *err = load_error_n(text, sizeof(text) - 1);

	ck_assert_str_eq(err, "spaprov.conf:2: NUL byte in line");
	free(err);
}
END_TEST

START_TEST(err_file_too_large)
{
	size_t len = (1u << 20) + 1;
	char *text = malloc(len), *err;

	ck_assert_ptr_nonnull(text);
	memset(text, '\n', len);
	err = load_error_n(text, len);
	ck_assert_str_eq(err, "spaprov.conf: larger than 1048576 bytes");
	free(err);
	free(text);
}
END_TEST

START_TEST(comments_and_quotes)
{
	struct conf *c = load_ok("spaprov.conf",
				 "#c\n;c\n  # c\n[server] # c\n"
				 "database = a;b#c\n"       /* no blank: kept */
				 "log_level = warn\t# tab before\n"
				 LISTENER("a", "::1", "1")
				 "tls_priority = \"NORMAL\" ; quotes stay\n");

	ck_assert_str_eq(c->database, in_tmp("a;b#c"));
	ck_assert_str_eq(c->log_level, "warn");
	ck_assert_str_eq(c->listeners[0].tls_priority, "\"NORMAL\"");
	conf_free(c);
}
END_TEST

/* --- [admin] ------------------------------------------------------------ */

START_TEST(admin_absent)
{
	struct conf *c = load_ok("spaprov.conf",
				 SERVER LISTENER("a", "127.0.0.1", "1"));

	ck_assert_int_eq(c->admin.enabled, 0);
	ck_assert_ptr_null(c->admin.address);
	ck_assert_uint_eq(c->admin.session_timeout, 8 * 3600);
	conf_free(c);
}
END_TEST

START_TEST(admin_valid)
{
	struct conf *c;

	/* plain HTTP on loopback, defaults */
	c = load_ok("spaprov.conf",
		    SERVER LISTENER("a", "127.0.0.1", "1")
		    "[admin]\naddress = 127.0.0.1\nport = 0\n");  /* 9-11 */
	ck_assert_int_eq(c->admin.enabled, 1);
	ck_assert_str_eq(c->admin.address, "127.0.0.1");
	ck_assert_uint_eq(c->admin.port, 0);
	ck_assert_ptr_null(c->admin.certificate);
	ck_assert_ptr_null(c->admin.key);
	ck_assert_ptr_null(c->admin.assets);
	ck_assert_uint_eq(c->admin.session_timeout, CONF_ADMIN_SESSION_TIMEOUT);
	ck_assert_int_eq(c->admin.line_section, 9);
	ck_assert_int_eq(c->admin.line_address, 10);
	/* listener keys of the same name are unaffected */
	ck_assert_uint_eq(c->listeners[0].port, 1);
	conf_free(c);

	/* HTTPS anywhere, every key, before the listeners */
	c = load_ok("spaprov.conf",
		    SERVER
		    "[admin]\naddress = 10.1.2.3\nport = 8443\n"     /* 3-5 */
		    "certificate = sb2k.crt\nkey = sb2k.key\n"       /* 6-7 */
		    "session_timeout = 30m\nassets = web\n"          /* 8-9 */
		    LISTENER("a", "10.1.2.3", "8444"));
	ck_assert_str_eq(c->admin.address, "10.1.2.3");
	ck_assert_uint_eq(c->admin.port, 8443);
	ck_assert_str_eq(c->admin.certificate, in_tmp("sb2k.crt"));
	ck_assert_str_eq(c->admin.key, in_tmp("sb2k.key"));
	ck_assert_uint_eq(c->admin.session_timeout, 1800);
	ck_assert_str_eq(c->admin.assets, in_tmp("web"));
	ck_assert_int_eq(c->admin.line_certificate, 6);
	ck_assert_int_eq(c->admin.line_key, 7);
	ck_assert_int_eq(c->admin.line_assets, 9);
	ck_assert_uint_eq(c->n_listeners, 1);
	conf_free(c);

	/* IPv6 loopback and v4-mapped loopback are loopback */
	conf_free(load_ok("spaprov.conf", SERVER LISTENER("a", "::1", "1")
			  "[admin]\naddress = ::1\nport = 3\n"));
	conf_free(load_ok("spaprov.conf", SERVER LISTENER("a", "::1", "1")
			  "[admin]\naddress = ::ffff:127.0.0.9\nport = 3\n"));
	conf_free(load_ok("spaprov.conf", SERVER LISTENER("a", "::1", "1")
			  "[admin]\naddress = 127.200.0.1\nport = 3\n"));
}
END_TEST

START_TEST(admin_durations)
{
	static const struct { const char *text; unsigned secs; } ok[] = {
		{ "60", 60 }, { "90s", 90 }, { "15m", 900 }, { "8h", 28800 },
		{ "30d", 2592000 }, { "2592000", 2592000 },
	};
	static const char *const bad[] = { "59", "0", "1m5", "h", "8x",
					   "31d", "-1", "8 h", "99999999999d" };
	char text[512], want[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct conf *c;

		snprintf(text, sizeof(text), SERVER LISTENER("a", "::1", "1")
			 "[admin]\naddress = ::1\nport = 3\n"
			 "session_timeout = %s\n", ok[i].text);
		c = load_ok("spaprov.conf", text);
		ck_assert_uint_eq(c->admin.session_timeout, ok[i].secs);
		conf_free(c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), SERVER LISTENER("a", "::1", "1")
			 "[admin]\naddress = ::1\nport = 3\n"
			 "session_timeout = %s\n", bad[i]);
		snprintf(want, sizeof(want), "spaprov.conf:12: session_timeout: "
			 "expected a duration from 60s to 30d (a number of "
			 "seconds, or with s, m, h or d)");
		expect_error(text, want);
	}
}
END_TEST

START_TEST(admin_errors)
{
	/* plain HTTP away from loopback is refused, naming the address line */
	expect_error(SERVER LISTENER("a", "::1", "1")
		     "[admin]\nport = 8080\naddress = 0.0.0.0\n",
		     "spaprov.conf:11: address: plain HTTP only on a loopback "
		     "address (127.0.0.1 or ::1); give certificate and key to "
		     "serve HTTPS on 0.0.0.0");
	expect_error(SERVER LISTENER("a", "::1", "1")
		     "[admin]\naddress = ::\nport = 8080\n",
		     "spaprov.conf:10: address: plain HTTP only on a loopback "
		     "address (127.0.0.1 or ::1); give certificate and key to "
		     "serve HTTPS on ::");
	expect_error(SERVER LISTENER("a", "::1", "1")
		     "[admin]\naddress = 128.0.0.1\nport = 8080\n",
		     "spaprov.conf:10: address: plain HTTP only on a loopback "
		     "address (127.0.0.1 or ::1); give certificate and key to "
		     "serve HTTPS on 128.0.0.1");
	/* half of the TLS pair */
	expect_error(SERVER LISTENER("a", "::1", "1")
		     "[admin]\naddress = ::1\nport = 1\ncertificate = sb2k.crt\n",
		     "spaprov.conf:12: certificate: needs a key too");
	expect_error(SERVER LISTENER("a", "::1", "1")
		     "[admin]\naddress = ::1\nport = 1\nkey = sb2k.key\n",
		     "spaprov.conf:12: key: needs a certificate too");
	/* required keys, checked when the section closes */
	expect_error(SERVER "[admin]\nport = 1\n" LISTENER("a", "::1", "1"),
		     "spaprov.conf:3: [admin]: missing key 'address'");
	expect_error(SERVER LISTENER("a", "::1", "1") "[admin]\naddress = ::1\n",
		     "spaprov.conf:9: [admin]: missing key 'port'");
	/* one section, no name, no listener keys */
	expect_error(SERVER LISTENER("a", "::1", "1")
		     "[admin]\naddress = ::1\nport = 1\n[admin]\n",
		     "spaprov.conf:12: [admin]: duplicate section (first on "
		     "line 9)");
	expect_error(SERVER "[admin x]\n",
		     "spaprov.conf:3: [admin x]: the admin section takes no name");
	expect_error(SERVER "[admin]\nca = sb2k\n",
		     "spaprov.conf:4: ca: unknown key");
	expect_error(SERVER "[admin]\ndatabase = x\n",
		     "spaprov.conf:4: database: unknown key");
	expect_error(SERVER "[admin]\nport = 65536\n",
		     "spaprov.conf:4: port: expected a number from 0 to 65535");
	expect_error(SERVER "[admin]\naddress = localhost\n",
		     "spaprov.conf:4: address: not a numeric IP address");
	expect_error(SERVER "[admin]\ncertificate = missing.crt\n",
		     "spaprov.conf:4: certificate: cannot read file: No such "
		     "file or directory");
	expect_error(SERVER "[admin]\nport = 1\nport = 2\n",
		     "spaprov.conf:5: port: duplicate key (first on line 4)");
	/* session_timeout is not a listener key */
	expect_error(SERVER LISTENER("a", "::1", "1") "session_timeout = 60\n",
		     "spaprov.conf:9: session_timeout: unknown key");
	/* the admin socket may not be a listener's */
	expect_error(SERVER LISTENER("a", "127.0.0.1", "8444")
		     "[admin]\naddress = 127.0.0.1\nport = 8444\n",
		     "spaprov.conf:9: [admin]: port 8444 on 127.0.0.1 is already "
		     "used by listener 'a' (line 3)");
	conf_free(load_ok("spaprov.conf", SERVER
			  LISTENER("a", "127.0.0.1", "8444")
			  "[admin]\naddress = 127.0.0.2\nport = 8444\n"));
}
END_TEST

/* The network limits of a listener: defaults, every key set, bounds. */
START_TEST(listener_limits)
{
	struct conf *c = load_ok("spaprov.conf",
				 SERVER LISTENER("a", "10.0.0.1", "443"));
	const struct conf_listener *l = &c->listeners[0];

	ck_assert_uint_eq(l->max_header_size, 32768);
	ck_assert_uint_eq(l->max_body_size, 65536);
	ck_assert_uint_eq(l->max_url_length, 4096);
	ck_assert_uint_eq(l->max_headers, 64);
	ck_assert_uint_eq(l->max_client_chain, 8);
	ck_assert_uint_eq(l->max_client_cert_size, 65536);
	conf_free(c);

	c = load_ok("spaprov.conf", SERVER LISTENER("a", "10.0.0.1", "443")
		    "max_header_size = 4096\nmax_body_size = 0\n"
		    "max_url_length = 64\nmax_headers = 1\n"
		    "max_client_chain = 1\nmax_client_cert_size = 1024\n"
		    LISTENER("b", "10.0.0.1", "444")
		    "max_header_size = 1048576\nmax_body_size = 16777216\n"
		    "max_url_length = 65536\nmax_headers = 10000\n"
		    "max_client_chain = 8\nmax_client_cert_size = 65536\n");
	l = &c->listeners[0];
	ck_assert_uint_eq(l->max_header_size, 4096);
	ck_assert_uint_eq(l->max_body_size, 0);
	ck_assert_uint_eq(l->max_url_length, 64);
	ck_assert_uint_eq(l->max_headers, 1);
	ck_assert_uint_eq(l->max_client_chain, 1);
	ck_assert_uint_eq(l->max_client_cert_size, 1024);
	l = &c->listeners[1];
	ck_assert_uint_eq(l->max_header_size, 1048576);
	ck_assert_uint_eq(l->max_body_size, 16777216);
	ck_assert_uint_eq(l->max_url_length, 65536);
	ck_assert_uint_eq(l->max_headers, 10000);
	ck_assert_uint_eq(l->max_client_chain, 8);
	ck_assert_uint_eq(l->max_client_cert_size, 65536);
	conf_free(c);

	expect_error(SERVER "[listener a]\nmax_header_size = 4095\n",
		     "spaprov.conf:4: max_header_size: expected a number from "
		     "4096 to 1048576");
	expect_error(SERVER "[listener a]\nmax_header_size = 1048577\n",
		     "spaprov.conf:4: max_header_size: expected a number from "
		     "4096 to 1048576");
	expect_error(SERVER "[listener a]\nmax_body_size = 16777217\n",
		     "spaprov.conf:4: max_body_size: expected a number from "
		     "0 to 16777216");
	expect_error(SERVER "[listener a]\nmax_url_length = 63\n",
		     "spaprov.conf:4: max_url_length: expected a number from "
		     "64 to 65536");
	expect_error(SERVER "[listener a]\nmax_headers = 0\n",
		     "spaprov.conf:4: max_headers: expected a number from "
		     "1 to 10000");
	/* deeper chains than the handshake hook keeps are not allowed */
	expect_error(SERVER "[listener a]\nmax_client_chain = 9\n",
		     "spaprov.conf:4: max_client_chain: expected a number from "
		     "1 to 8");
	expect_error(SERVER "[listener a]\nmax_client_chain = 0\n",
		     "spaprov.conf:4: max_client_chain: expected a number from "
		     "1 to 8");
	expect_error(SERVER "[listener a]\nmax_client_cert_size = 65537\n",
		     "spaprov.conf:4: max_client_cert_size: expected a number "
		     "from 1024 to 65536");
	expect_error(SERVER "[listener a]\nmax_client_cert_size = 1023\n",
		     "spaprov.conf:4: max_client_cert_size: expected a number "
		     "from 1024 to 65536");
	/* listener keys, not [server] ones */
	expect_error(SERVER "max_headers = 10\n",
		     "spaprov.conf:3: max_headers: unknown key");
}
END_TEST

/* TLS session resumption: defaults, 0 disables, durations, bounds. */
START_TEST(listener_tls_sessions)
{
	struct conf *c = load_ok("spaprov.conf",
				 SERVER LISTENER("a", "10.0.0.1", "443"));
	const struct conf_listener *l = &c->listeners[0];

	ck_assert_uint_eq(l->tls_session_cache, 20000);
	ck_assert_uint_eq(l->tls_session_lifetime, 3600);
	conf_free(c);

	c = load_ok("spaprov.conf", SERVER LISTENER("a", "10.0.0.1", "443")
		    "tls_session_cache = 0\ntls_session_lifetime = 1\n"
		    LISTENER("b", "10.0.0.1", "444")
		    "tls_session_cache = 1000000\n"
		    "tls_session_lifetime = 7d\n"
		    LISTENER("c", "10.0.0.1", "445")
		    "tls_session_lifetime = 90m\n");
	ck_assert_uint_eq(c->listeners[0].tls_session_cache, 0);
	ck_assert_uint_eq(c->listeners[0].tls_session_lifetime, 1);
	ck_assert_uint_eq(c->listeners[1].tls_session_cache, 1000000);
	ck_assert_uint_eq(c->listeners[1].tls_session_lifetime, 7 * 86400);
	ck_assert_uint_eq(c->listeners[2].tls_session_cache, 20000);
	ck_assert_uint_eq(c->listeners[2].tls_session_lifetime, 5400);
	conf_free(c);

	expect_error(SERVER "[listener a]\ntls_session_cache = 1000001\n",
		     "spaprov.conf:4: tls_session_cache: expected a number "
		     "from 0 to 1000000");
	expect_error(SERVER "[listener a]\ntls_session_cache = -1\n",
		     "spaprov.conf:4: tls_session_cache: expected a number "
		     "from 0 to 1000000");
	expect_error(SERVER "[listener a]\ntls_session_lifetime = 0\n",
		     "spaprov.conf:4: tls_session_lifetime: expected a "
		     "duration from 1s to 7d (a number of seconds, or with s, "
		     "m, h or d)");
	expect_error(SERVER "[listener a]\ntls_session_lifetime = 8d\n",
		     "spaprov.conf:4: tls_session_lifetime: expected a "
		     "duration from 1s to 7d (a number of seconds, or with s, "
		     "m, h or d)");
	/* listener keys, not [server] ones */
	expect_error(SERVER "tls_session_cache = 10\n",
		     "spaprov.conf:3: tls_session_cache: unknown key");
}
END_TEST

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, valid_full);
	tcase_add_test(tc, valid_defaults);
	tcase_add_test(tc, paths_relative_to_config_dir);
	tcase_add_test(tc, ca_names);
	tcase_add_test(tc, err_cannot_open);
	tcase_add_test(tc, err_unknown_section);
	tcase_add_test(tc, err_bad_headers);
	tcase_add_test(tc, err_syntax);
	tcase_add_test(tc, err_unknown_key);
	tcase_add_test(tc, err_key_outside_section);
	tcase_add_test(tc, err_duplicate_key);
	tcase_add_test(tc, client_roots_limit);
	tcase_add_test(tc, err_bad_values);
	tcase_add_test(tc, err_unreadable_files);
	tcase_add_test(tc, err_missing_required);
	tcase_add_test(tc, err_missing_database);
	tcase_add_test(tc, err_no_listener);
	tcase_add_test(tc, err_dh_exclusive);
	tcase_add_test(tc, err_port_conflict);
	tcase_add_test(tc, err_duplicate_listener);
	tcase_add_test(tc, err_too_many_listeners);
	tcase_add_test(tc, err_long_line);
	tcase_add_test(tc, err_nul_byte);
	tcase_add_test(tc, err_file_too_large);
	tcase_add_test(tc, comments_and_quotes);
	tcase_add_test(tc, admin_absent);
	tcase_add_test(tc, admin_valid);
	tcase_add_test(tc, admin_durations);
	tcase_add_test(tc, admin_errors);
	tcase_add_test(tc, listener_limits);
	tcase_add_test(tc, listener_tls_sessions);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	char tmpl[] = "/tmp/test_conf.XXXXXX";
	static const char *const files[] = { "sb2k.crt", "sb2k.key", "dh.pem",
					     "roots.pem", "roots2.pem" };
	SRunner *sr;
	int failed;

	if (mkdtemp(tmpl) == NULL || realpath(tmpl, tmpdir) == NULL ||
	    chdir(tmpdir) != 0) {
		perror("test_conf: temporary directory");
		return EXIT_FAILURE;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(files[i], "w");

		if (f == NULL || fputs("-----BEGIN X-----\n", f) < 0 ||
		    fclose(f) != 0) {
			perror(files[i]);
			return EXIT_FAILURE;
		}
	}
	sr = srunner_create(conf_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (chdir("/") == 0)
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
