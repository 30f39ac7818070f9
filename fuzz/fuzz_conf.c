#include "config.h"

/* fuzz_conf: conf_parse_buffer() on arbitrary configuration text.
 *
 * The text is parsed as if read from FUZZ_CONF_PATH, in a directory that
 * does not exist: relative file names fail their readability check, so
 * seeds that must load name absolute files every system has (/etc/passwd).
 * Invariants:
 *  - on failure: *err is one line, "out of memory" or starting with the
 *    path and ':', its line number (if any) within the text, and *out is
 *    untouched;
 *  - on success: *err is NULL and every field is within the bounds the key
 *    table gives: paths absolute, at least one listener, names valid and
 *    unique, numeric addresses, no two listeners (nor the admin listener)
 *    on one address and non-zero port, dh_bits 0 exactly when dh_params is
 *    set, line numbers within the text and not before their section; the
 *    admin listener, if any, has both certificate and key or neither, and
 *    then a loopback address; without [admin] it has no fields set. */

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "fuzz/fuzz.h"
#include "util/log.h"

#define FUZZ_CONF_PATH "/nonexistent/spaprov-fuzz/spaprov.conf"

static int abs_path(const char *p)
{
	return p != NULL && p[0] == '/';
}

/* A key kept as a PKCS#11 URL: "pkcs11:" (any case), printable ASCII
 * without blanks. */
static int key_url_ok(const char *p)
{
	if (p == NULL || strncasecmp(p, "pkcs11:", 7) != 0)
		return 0;
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

static int listener_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 32 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_-") == n;
}

static size_t addr_bin(const char *s, unsigned char buf[16])
{
	if (inet_pton(AF_INET, s, buf) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return 16;
	return 0;
}

static int dh_bits_ok(unsigned b)
{
	return b == 768 || b == 1024 || b == 1536 || b == 2048 || b == 3072 ||
	       b == 4096;
}

static int line_ok(int line, int section, int lines)
{
	return line >= section && line <= lines;
}

static void check_listener(const struct conf *c, size_t i, int lines)
{
	const struct conf_listener *l = &c->listeners[i];
	unsigned char a[16], b[16];
	size_t alen, blen;

	FUZZ_CHECK(l->name != NULL && listener_name_ok(l->name));
	FUZZ_CHECK(conf_listener_find(c, l->name) == l);
	FUZZ_CHECK((unsigned)l->ca < CONF_CA__COUNT);
	FUZZ_CHECK(l->address != NULL && (alen = addr_bin(l->address, a)) > 0);
	FUZZ_CHECK(l->port <= 65535);
	if (l->mode == CONF_MODE_PLAIN)
		FUZZ_CHECK(l->certificate == NULL && l->key == NULL);
	else
		FUZZ_CHECK(abs_path(l->certificate) &&
			   (abs_path(l->key) || key_url_ok(l->key)));
	FUZZ_CHECK(l->key_pin_file == NULL ||
		   (abs_path(l->key_pin_file) && key_url_ok(l->key)));
	if (l->dh_params != NULL)
		FUZZ_CHECK(abs_path(l->dh_params) && l->dh_bits == 0);
	else
		FUZZ_CHECK(dh_bits_ok(l->dh_bits));
	FUZZ_CHECK(l->tls_priority == NULL || l->tls_priority[0] != '\0');
	FUZZ_CHECK(l->threads <= 64); /* 0: the shared threads */
	FUZZ_CHECK(l->connection_limit >= 1 && l->connection_limit <= 65536);
	FUZZ_CHECK(l->per_ip_connection_limit <= 65536);
	FUZZ_CHECK(l->connection_timeout >= 1 && l->connection_timeout <= 3600);
	FUZZ_CHECK(l->max_header_size >= 4096 &&
		   l->max_header_size <= 1u << 20);
	FUZZ_CHECK(l->max_body_size <= 16u << 20);
	FUZZ_CHECK(l->max_url_length >= 64 && l->max_url_length <= 65536);
	FUZZ_CHECK(l->max_headers >= 1 && l->max_headers <= 10000);
	FUZZ_CHECK(l->max_client_chain >= 1 &&
		   l->max_client_chain <= CONF_MAX_CLIENT_CHAIN);
	FUZZ_CHECK(l->max_client_cert_size >= 1024 &&
		   l->max_client_cert_size <= CONF_MAX_CLIENT_CERT_SIZE);
	FUZZ_CHECK(l->line_section >= 1 && l->line_section <= lines);
	FUZZ_CHECK(line_ok(l->line_certificate, l->line_section, lines) &&
		   line_ok(l->line_key, l->line_section, lines) &&
		   line_ok(l->line_dh, l->line_section, lines) &&
		   line_ok(l->line_priority, l->line_section, lines) &&
		   line_ok(l->line_address, l->line_section, lines) &&
		   line_ok(l->line_key_pin_file, l->line_section, lines));
	if (l->port == 0)
		return;
	for (size_t k = 0; k < i; k++) {
		const struct conf_listener *o = &c->listeners[k];

		if (o->port != l->port)
			continue;
		blen = addr_bin(o->address, b);
		FUZZ_CHECK(blen != alen || memcmp(a, b, alen) != 0);
	}
}

/* 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104 */
static int loopback(const unsigned char *a, size_t alen)
{
	static const unsigned char v6_loop[16] = {[15] = 1};
	static const unsigned char v4_mapped[12] = {[10] = 0xff, [11] = 0xff};

	if (alen == 4)
		return a[0] == 127;
	return memcmp(a, v6_loop, 16) == 0 ||
	       (memcmp(a, v4_mapped, 12) == 0 && a[12] == 127);
}

static void check_admin(const struct conf *c, int lines)
{
	const struct conf_admin *a = &c->admin;
	unsigned char x[16], y[16];
	size_t xlen;

	if (!a->enabled) {
		FUZZ_CHECK(a->address == NULL && a->certificate == NULL &&
			   a->key == NULL && a->assets == NULL);
		return;
	}
	FUZZ_CHECK(a->line_section >= 1 && a->line_section <= lines);
	FUZZ_CHECK(a->address != NULL && (xlen = addr_bin(a->address, x)) > 0);
	FUZZ_CHECK(line_ok(a->line_address, a->line_section, lines));
	FUZZ_CHECK(a->port <= 65535);
	FUZZ_CHECK((a->certificate == NULL) == (a->key == NULL));
	if (a->certificate != NULL)
		FUZZ_CHECK(abs_path(a->certificate) && abs_path(a->key));
	else
		FUZZ_CHECK(loopback(x, xlen));
	FUZZ_CHECK(a->assets == NULL || abs_path(a->assets));
	FUZZ_CHECK(a->session_timeout >= 60 &&
		   a->session_timeout <= 30 * 86400);
	if (a->port == 0)
		return;
	for (size_t i = 0; i < c->n_listeners; i++) {
		const struct conf_listener *l = &c->listeners[i];

		if (l->port == a->port)
			FUZZ_CHECK(addr_bin(l->address, y) != xlen ||
				   memcmp(x, y, xlen) != 0);
	}
}

static void check_conf(const struct conf *c, int lines)
{
	FUZZ_CHECK(c->path != NULL && strcmp(c->path, FUZZ_CONF_PATH) == 0);
	FUZZ_CHECK(abs_path(c->database));
	FUZZ_CHECK(c->pkcs11_module == NULL ||
		   (abs_path(c->pkcs11_module) &&
		    c->line_pkcs11_module >= 1 &&
		    c->line_pkcs11_module <= lines));
	FUZZ_CHECK(c->n_client_roots <= CONF_MAX_CLIENT_ROOTS);
	for (size_t i = 0; i < c->n_client_roots; i++)
		FUZZ_CHECK(abs_path(c->client_roots[i]) &&
			   c->client_roots_line[i] >= 1 &&
			   c->client_roots_line[i] <= lines);
	FUZZ_CHECK(c->client_cert_time_check == 0 ||
		   c->client_cert_time_check == 1);
	FUZZ_CHECK(c->unknown_devices == CONF_UNKNOWN_RECORD ||
		   c->unknown_devices == CONF_UNKNOWN_REJECT);
	FUZZ_CHECK(c->log_level != NULL && log_level_parse(c->log_level) >= 0);
	FUZZ_CHECK(c->ledger_batch >= 1 && c->ledger_batch <= 10000);
	FUZZ_CHECK(c->threads >= 1 && c->threads <= 64);
	FUZZ_CHECK(c->identity_cache <= 1000000);
	FUZZ_CHECK(c->busy_timeout_ms >= 100 && c->busy_timeout_ms <= 600000);
	FUZZ_CHECK(c->user == NULL || c->user[0] != '\0');
	FUZZ_CHECK(c->group == NULL || c->group[0] != '\0');
	FUZZ_CHECK(c->run_as_root == 0 || c->run_as_root == 1);
	FUZZ_CHECK(c->syslog == 0 || c->syslog == 1);
	FUZZ_CHECK(c->resync_retention_days <= 36500);
	FUZZ_CHECK(c->n_listeners >= 1 && c->n_listeners <= CONF_MAX_LISTENERS);
	for (size_t i = 0; i < c->n_listeners; i++)
		check_listener(c, i, lines);
	check_admin(c, lines);
}

static void check_error(const char *err, int lines)
{
	size_t plen = strlen(FUZZ_CONF_PATH);
	const char *p;
	long line;
	char *end;

	FUZZ_CHECK(err != NULL && strchr(err, '\n') == NULL);
	if (strcmp(err, "out of memory") == 0)
		return;
	FUZZ_CHECK(strncmp(err, FUZZ_CONF_PATH, plen) == 0 && err[plen] == ':');
	p = err + plen + 1;
	if (*p < '0' || *p > '9')
		return; /* "FILE: reason", no line */
	line = strtol(p, &end, 10);
	FUZZ_CHECK(*end == ':' && line >= 1 && line <= lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *conf = (struct conf *)(uintptr_t)&size, *untouched = conf;
	char *err = (char *)1;
	int r, lines = 1;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	r = conf_parse_buffer(FUZZ_CONF_PATH, (const char *)data, size, &conf,
			      &err);
	FUZZ_CHECK(r == 0 || r == -1);
	if (r == 0) {
		FUZZ_CHECK(err == NULL && conf != untouched && conf != NULL);
		check_conf(conf, lines);
		conf_free(conf);
	} else {
		FUZZ_CHECK(conf == untouched);
		check_error(err, lines);
		free(err);
	}
	return 0;
}
