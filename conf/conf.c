#include "config.h"

/* conf: our own INI reader.
 *
 * Why not libinih: we need the line of every key for later messages, a long
 * line must be an error rather than silently split, and an indented line is
 * an ordinary key, not a continuation.
 *
 * Syntax, one item per line:
 *   [server]            the daemon-wide section, at most once
 *   [listener NAME]     one per listening socket, NAME [A-Za-z0-9_-]{1,32}
 *   [admin]             the web admin listener, optional, at most once
 *   key = value         inside a section; key and value are trimmed
 *   ; text  or  # text  a comment line (leading blanks allowed)
 *   value ; text        an inline comment needs a blank before ';' or '#'
 * Quotes are ordinary characters.  Lines are at most CONF_MAX_LINE bytes
 * (without the newline) and may not contain NUL bytes.
 *
 * The keys are described by one table (name, section, type, bounds).  The
 * parser works on a memory buffer and keeps all its state in a struct on
 * the stack, so conf_parse_buffer() can be driven by a fuzzer as it is. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/str.h"
#include "conf/conf.h"
#include "util/log.h"

#define CONF_MAX_FILE (1u << 20)  /* bytes in the whole file */
#define CONF_MAX_NAME 32          /* bytes in a listener name */

enum conf_sect { SECT_NONE = 0, SECT_SERVER, SECT_LISTENER, SECT_ADMIN };

enum conf_type {
	T_PATH,      /* a path, relative to the file's directory */
	T_FILE,      /* a path to a file we must be able to read */
	T_FILES,     /* T_FILE that may be given several times */
	T_BOOL,
	T_UINT,      /* decimal, from min to max */
	T_CA,
	T_UNKNOWN,   /* record | reject */
	T_LOGLEVEL,
	T_ADDR,      /* numeric IPv4 or IPv6 */
	T_TEXT,
	T_DHBITS,
	T_DURATION,  /* seconds, or with a suffix s, m, h or d */
	T_PINPOL,    /* alert | refuse */
	T_GENPOL,    /* reject | url-mac */
	T_HOST,      /* a host name for URLs */
	T_URLPATH,   /* an absolute URL path */
	T_MODE,      /* mutual | server-auth | plain */
	T_KEY,       /* T_FILE, or a PKCS#11 URL "pkcs11:..." kept as is */
};

struct conf_key {
	const char *name;
	enum conf_sect sect;
	enum conf_type type;
	unsigned min, max;
	size_t off;        /* in struct conf or struct conf_listener */
	int line_off;      /* of an int line field in conf_listener, or -1 */
	int required;
};

#define S(f) offsetof(struct conf, f)
#define L(f) offsetof(struct conf_listener, f)
#define LL(f) (int)offsetof(struct conf_listener, f)
#define A(f) offsetof(struct conf_admin, f)
#define AL(f) (int)offsetof(struct conf_admin, f)

static const struct conf_key conf_keys[] = {
	{ "database", SECT_SERVER, T_PATH, 0, 0, S(database), -1, 1 },
	{ "client_roots", SECT_SERVER, T_FILES, 0, 0, S(client_roots), -1, 0 },
	{ "client_cert_time_check", SECT_SERVER, T_BOOL, 0, 0,
	  S(client_cert_time_check), -1, 0 },
	{ "unknown_devices", SECT_SERVER, T_UNKNOWN, 0, 0, S(unknown_devices),
	  -1, 0 },
	{ "log_level", SECT_SERVER, T_LOGLEVEL, 0, 0, S(log_level), -1, 0 },
	{ "ledger_batch", SECT_SERVER, T_UINT, 1, 10000, S(ledger_batch), -1,
	  0 },
	{ "threads", SECT_SERVER, T_UINT, 1, 64, S(threads), -1, 0 },
	{ "identity_cache", SECT_SERVER, T_UINT, 0, 1000000,
	  S(identity_cache), -1, 0 },
	{ "busy_timeout_ms", SECT_SERVER, T_UINT, 100, 600000,
	  S(busy_timeout_ms), -1, 0 },
	{ "user", SECT_SERVER, T_TEXT, 0, 0, S(user), -1, 0 },
	{ "group", SECT_SERVER, T_TEXT, 0, 0, S(group), -1, 0 },
	{ "run_as_root", SECT_SERVER, T_BOOL, 0, 0, S(run_as_root), -1, 0 },
	{ "syslog", SECT_SERVER, T_BOOL, 0, 0, S(syslog), -1, 0 },
	{ "resync_retention_days", SECT_SERVER, T_UINT, 0, 36500,
	  S(resync_retention_days), -1, 0 },
	{ "public_name", SECT_SERVER, T_HOST, 0, 0, S(public_name), -1, 0 },
	{ "profile_path", SECT_SERVER, T_URLPATH, 0, 0, S(profile_path), -1,
	  0 },
	{ "firmware_dir", SECT_SERVER, T_PATH, 0, 0, S(firmware_dir), -1, 0 },
	{ "pkcs11_module", SECT_SERVER, T_FILE, 0, 0, S(pkcs11_module),
	  (int)S(line_pkcs11_module), 0 },

	{ "ca", SECT_LISTENER, T_CA, 0, 0, L(ca), -1, 1 },
	{ "mode", SECT_LISTENER, T_MODE, 0, 0, L(mode), -1, 0 },
	{ "address", SECT_LISTENER, T_ADDR, 0, 0, L(address),
	  LL(line_address), 1 },
	{ "port", SECT_LISTENER, T_UINT, 0, 65535, L(port), -1, 1 },
	/* certificate and key: required unless mode = plain */
	{ "certificate", SECT_LISTENER, T_FILE, 0, 0, L(certificate),
	  LL(line_certificate), 0 },
	{ "key", SECT_LISTENER, T_KEY, 0, 0, L(key), LL(line_key), 0 },
	{ "key_pin_file", SECT_LISTENER, T_FILE, 0, 0, L(key_pin_file),
	  LL(line_key_pin_file), 0 },
	{ "dh_bits", SECT_LISTENER, T_DHBITS, 0, 0, L(dh_bits), LL(line_dh),
	  0 },
	{ "dh_params", SECT_LISTENER, T_FILE, 0, 0, L(dh_params), LL(line_dh),
	  0 },
	{ "tls_priority", SECT_LISTENER, T_TEXT, 0, 0, L(tls_priority),
	  LL(line_priority), 0 },
	{ "threads", SECT_LISTENER, T_UINT, 1, 64, L(threads), -1, 0 },
	{ "connection_limit", SECT_LISTENER, T_UINT, 1, 65536,
	  L(connection_limit), -1, 0 },
	{ "per_ip_connection_limit", SECT_LISTENER, T_UINT, 0, 65536,
	  L(per_ip_connection_limit), -1, 0 },
	{ "connection_timeout", SECT_LISTENER, T_UINT, 1, 3600,
	  L(connection_timeout), -1, 0 },
	{ "max_header_size", SECT_LISTENER, T_UINT, 4096, 1u << 20,
	  L(max_header_size), -1, 0 },
	{ "max_body_size", SECT_LISTENER, T_UINT, 0, 16u << 20,
	  L(max_body_size), -1, 0 },
	{ "max_url_length", SECT_LISTENER, T_UINT, 64, 65536,
	  L(max_url_length), -1, 0 },
	{ "max_headers", SECT_LISTENER, T_UINT, 1, 10000, L(max_headers), -1,
	  0 },
	{ "max_client_chain", SECT_LISTENER, T_UINT, 1, CONF_MAX_CLIENT_CHAIN,
	  L(max_client_chain), -1, 0 },
	{ "max_client_cert_size", SECT_LISTENER, T_UINT, 1024,
	  CONF_MAX_CLIENT_CERT_SIZE, L(max_client_cert_size), -1, 0 },
	{ "pin_policy", SECT_LISTENER, T_PINPOL, 0, 0, L(pin_policy), -1, 0 },
	{ "generic_policy", SECT_LISTENER, T_GENPOL, 0, 0, L(generic_policy),
	  -1, 0 },
	{ "tls_session_cache", SECT_LISTENER, T_UINT, 0,
	  CONF_MAX_TLS_SESSION_CACHE, L(tls_session_cache), -1, 0 },
	{ "tls_session_lifetime", SECT_LISTENER, T_DURATION, 1,
	  CONF_MAX_TLS_SESSION_LIFETIME, L(tls_session_lifetime), -1, 0 },

	{ "address", SECT_ADMIN, T_ADDR, 0, 0, A(address), AL(line_address),
	  1 },
	{ "port", SECT_ADMIN, T_UINT, 0, 65535, A(port), -1, 1 },
	{ "certificate", SECT_ADMIN, T_FILE, 0, 0, A(certificate),
	  AL(line_certificate), 0 },
	{ "key", SECT_ADMIN, T_FILE, 0, 0, A(key), AL(line_key), 0 },
	{ "session_timeout", SECT_ADMIN, T_DURATION, 60, 30 * 86400,
	  A(session_timeout), -1, 0 },
	{ "assets", SECT_ADMIN, T_PATH, 0, 0, A(assets), AL(line_assets), 0 },
};

#define N_KEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

static const char *const ca_names[CONF_CA__COUNT] = {
	"sipura", "linksys", "sb", "sb2k", "mpp"
};

static const char *const mode_names[] = {
	[CONF_MODE_MUTUAL] = "mutual",
	[CONF_MODE_SERVER_AUTH] = "server-auth",
	[CONF_MODE_PLAIN] = "plain",
};
#define N_MODES (sizeof(mode_names) / sizeof(mode_names[0]))

static const unsigned dh_sizes[] = { 768, 1024, 1536, 2048, 3072, 4096 };

/* The parser's whole state. */
struct parser {
	const char *file;            /* the name used in messages */
	const char *dir;             /* for relative paths; NULL = as given */
	struct conf *conf;
	enum conf_sect sect;
	struct conf_listener *cur;   /* in a [listener] section */
	char header[CONF_MAX_NAME + 16]; /* "[listener NAME]" or "[server]" */
	int sect_line;
	int server_line;             /* line of [server], 0 if none yet */
	int seen[N_KEYS];            /* line of each key in this section */
	int port_line[CONF_MAX_LISTENERS];
	char *err;
};

/* --- public helpers ----------------------------------------------------- */

const char *conf_ca_name(enum conf_ca ca)
{
	if ((unsigned)ca >= CONF_CA__COUNT)
		return "unknown";
	return ca_names[ca];
}

const char *conf_mode_name(enum conf_mode mode)
{
	if ((unsigned)mode >= N_MODES)
		return "unknown";
	return mode_names[mode];
}

int conf_ca_parse(const char *name, enum conf_ca *out)
{
	for (unsigned i = 0; i < CONF_CA__COUNT; i++) {
		if (strcmp(name, ca_names[i]) == 0) {
			*out = (enum conf_ca)i;
			return 0;
		}
	}
	return -1;
}

const struct conf_listener *conf_listener_find(const struct conf *conf,
					       const char *name)
{
	for (size_t i = 0; i < conf->n_listeners; i++)
		if (strcmp(conf->listeners[i].name, name) == 0)
			return &conf->listeners[i];
	return NULL;
}

void conf_free(struct conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->path);
	free(conf->database);
	for (size_t i = 0; i < conf->n_client_roots; i++)
		free(conf->client_roots[i]);
	free(conf->log_level);
	free(conf->user);
	free(conf->group);
	free(conf->public_name);
	free(conf->profile_path);
	free(conf->firmware_dir);
	free(conf->pkcs11_module);
	for (size_t i = 0; i < CONF_MAX_LISTENERS; i++) {
		struct conf_listener *l = &conf->listeners[i];

		free(l->name);
		free(l->address);
		free(l->certificate);
		free(l->key);
		free(l->key_pin_file);
		free(l->dh_params);
		free(l->tls_priority);
	}
	free(conf->admin.address);
	free(conf->admin.certificate);
	free(conf->admin.key);
	free(conf->admin.assets);
	free(conf);
}

/* --- errors ------------------------------------------------------------- */

/* "FILE:LINE: KEY: REASON"; LINE 0 leaves out ":LINE", KEY NULL ": KEY".
 * Returns -1 so that callers can `return perr(...)`. */
static int perr(struct parser *p, int line, const char *key,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int perr(struct parser *p, int line, const char *key,
		const char *fmt, ...)
{
	char where[32] = "", *reason = NULL;
	va_list ap;

	if (p->err != NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&reason, fmt, ap) < 0)
		reason = NULL;
	va_end(ap);
	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	if (reason != NULL)
		p->err = str_printf("%s%s: %s%s%s", p->file, where,
				  key ? key : "", key ? ": " : "", reason);
	if (p->err == NULL)
		p->err = strdup("out of memory");
	free(reason);
	return -1;
}

/* --- values ------------------------------------------------------------- */

static int parse_uint(const char *s, unsigned min, unsigned max,
		      unsigned *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
			*out = strcmp(s, yes[i]) == 0;
			return 0;
		}
	}
	return -1;
}

/* "90", "90s", "15m", "8h" or "2d" in seconds, from min to max. */
static int parse_duration(const char *s, unsigned min, unsigned max,
			  unsigned *out)
{
	static const struct { char suffix; unsigned mult; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	char digits[16];
	size_t n = strlen(s);
	unsigned mult = 1, v;

	if (n == 0 || n >= sizeof(digits))
		return -1;
	memcpy(digits, s, n + 1);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (digits[n - 1] == units[i].suffix) {
			mult = units[i].mult;
			digits[--n] = '\0';
			break;
		}
	}
	if (parse_uint(digits, 0, max / mult, &v) < 0 || v * mult < min)
		return -1;
	*out = v * mult;
	return 0;
}

/* 1 for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
static int addr_is_loopback(const char *s)
{
	static const unsigned char v6_loop[16] = { [15] = 1 };
	static const unsigned char v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, s, a) != 1)
		return 0;
	return memcmp(a, v6_loop, 16) == 0 ||
	       (memcmp(a, v4_mapped, 12) == 0 && a[12] == 127);
}

/* Binary form of a numeric address; returns its length, 0 if invalid. */
static size_t parse_addr(const char *s, unsigned char buf[16])
{
	if (inet_pton(AF_INET, s, buf) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return 16;
	return 0;
}

static char *resolve_path(const struct parser *p, const char *value)
{
	if (value[0] == '/' || p->dir == NULL)
		return strdup(value);
	return str_printf("%s%s%s", p->dir,
			p->dir[strlen(p->dir) - 1] == '/' ? "" : "/", value);
}

/* 0 if path names a regular file we can open for reading, else an errno. */
static int file_readable(const char *path)
{
	struct stat st;
	int fd, e = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) < 0)
		e = errno;
	else if (S_ISDIR(st.st_mode))
		e = EISDIR;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	close(fd);
	return e;
}

static int set_string(struct parser *p, char **field, char *value)
{
	if (value == NULL)
		return perr(p, 0, NULL, "out of memory");
	free(*field);
	*field = value;
	return 0;
}

static int set_path(struct parser *p, const struct conf_key *k, char **field,
		    const char *value, int line)
{
	char *path = resolve_path(p, value);
	int e;

	if (path == NULL)
		return perr(p, 0, NULL, "out of memory");
	if (k->type != T_PATH && (e = file_readable(path)) != 0) {
		free(path);
		if (e == EINVAL)
			return perr(p, line, k->name,
				    "cannot read file: not a regular file");
		return perr(p, line, k->name, "cannot read file: %s",
			    strerror(e));
	}
	return set_string(p, field, path);
}

static int set_client_root(struct parser *p, const struct conf_key *k,
			   const char *value, int line)
{
	struct conf *c = p->conf;

	if (c->n_client_roots == CONF_MAX_CLIENT_ROOTS)
		return perr(p, line, k->name, "more than %d client_roots",
			    CONF_MAX_CLIENT_ROOTS);
	if (set_path(p, k, &c->client_roots[c->n_client_roots], value,
		     line) < 0)
		return -1;
	c->client_roots_line[c->n_client_roots++] = line;
	return 0;
}

static int set_dh_bits(struct parser *p, const struct conf_key *k,
		       unsigned *field, const char *value, int line)
{
	unsigned v;

	if (parse_uint(value, 1, UINT_MAX, &v) == 0)
		for (size_t i = 0; i < sizeof(dh_sizes) / sizeof(dh_sizes[0]); i++)
			if (v == dh_sizes[i]) {
				*field = v;
				return 0;
			}
	return perr(p, line, k->name,
		    "expected 768, 1024, 1536, 2048, 3072 or 4096");
}

/* public_name: what phones put in the Profile_Rule host part. */
static int set_host(struct parser *p, const struct conf_key *k, char **field,
		    const char *value, int line)
{
	size_t n = strlen(value);

	if (n > CONF_MAX_PUBLIC_NAME || value[0] == '-' || value[0] == '.' ||
	    strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789.-") != n)
		return perr(p, line, k->name,
			    "expected a host name of letters, digits, '.' and "
			    "'-' (at most %d bytes)", CONF_MAX_PUBLIC_NAME);
	return set_string(p, field, strdup(value));
}

/* profile_path: "/..." of printable ASCII that needs no quoting in a URL
 * or XML; '$' macros are the phone's. */
static int set_url_path(struct parser *p, const struct conf_key *k,
			char **field, const char *value, int line)
{
	size_t n = strlen(value);

	if (value[0] != '/' || n > CONF_MAX_PROFILE_PATH)
		return perr(p, line, k->name, "expected a path starting with "
			    "'/' (at most %d bytes)", CONF_MAX_PROFILE_PATH);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c <= ' ' || c >= 0x7f || strchr("\"<>\\#", c) != NULL)
			return perr(p, line, k->name, "character '%c' is not "
				    "allowed in the path", c > ' ' && c < 0x7f
				    ? c : '?');
	}
	return set_string(p, field, strdup(value));
}

static int set_enum(struct parser *p, const struct conf_key *k, void *field,
		    const char *value, int line)
{
	enum conf_ca ca;

	switch (k->type) {
	case T_CA:
		if (conf_ca_parse(value, &ca) < 0)
			return perr(p, line, k->name,
				    "expected sipura, linksys, sb, sb2k or mpp");
		*(enum conf_ca *)field = ca;
		return 0;
	case T_UNKNOWN:
		if (strcmp(value, "record") == 0)
			*(enum conf_unknown *)field = CONF_UNKNOWN_RECORD;
		else if (strcmp(value, "reject") == 0)
			*(enum conf_unknown *)field = CONF_UNKNOWN_REJECT;
		else
			return perr(p, line, k->name, "expected record or reject");
		return 0;
	case T_MODE:
		for (size_t i = 0; i < N_MODES; i++) {
			if (strcmp(value, mode_names[i]) == 0) {
				*(enum conf_mode *)field = (enum conf_mode)i;
				return 0;
			}
		}
		return perr(p, line, k->name,
			    "expected mutual, server-auth or plain");
	case T_PINPOL:
		if (strcmp(value, "alert") == 0)
			*(enum conf_pin_policy *)field = CONF_PIN_ALERT;
		else if (strcmp(value, "refuse") == 0)
			*(enum conf_pin_policy *)field = CONF_PIN_REFUSE;
		else
			return perr(p, line, k->name, "expected alert or refuse");
		return 0;
	case T_GENPOL:
		if (strcmp(value, "reject") == 0)
			*(enum conf_generic_policy *)field = CONF_GENERIC_REJECT;
		else if (strcmp(value, "url-mac") == 0)
			*(enum conf_generic_policy *)field = CONF_GENERIC_URL_MAC;
		else
			return perr(p, line, k->name,
				    "expected reject or url-mac");
		return 0;
	case T_LOGLEVEL:
		if (log_level_parse(value) < 0)
			return perr(p, line, k->name,
				    "expected error, warn, info or debug");
		return set_string(p, field, strdup(value));
	default:
		return perr(p, line, k->name, "internal error: bad key type");
	}
}

/* The struct that keys of section `sect` fill in. */
static char *sect_base(struct parser *p, enum conf_sect sect)
{
	if (sect == SECT_SERVER)
		return (char *)p->conf;
	if (sect == SECT_ADMIN)
		return (char *)&p->conf->admin;
	return (char *)p->cur;
}

/* A PKCS#11 URL (RFC 7512) names a key held by a token. */
static int is_key_url(const char *value)
{
	return value != NULL && strncasecmp(value, "pkcs11:", 7) == 0;
}

/* Kept as written (checked when the key is opened); RFC 7512 encodes
 * blanks and other bytes as %XX. */
static int set_key_url(struct parser *p, const struct conf_key *k,
		       char **field, const char *value, int line)
{
	for (const char *c = value; *c != '\0'; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			return perr(p, line, k->name,
				    "a PKCS#11 URL has no blanks or control "
				    "characters (write them as %%XX)");
	return set_string(p, field, strdup(value));
}

static int set_value(struct parser *p, const struct conf_key *k,
		     const char *value, int line)
{
	void *field = sect_base(p, k->sect) + k->off;
	unsigned char addr[16];

	switch (k->type) {
	case T_PATH:
	case T_FILE:
		return set_path(p, k, field, value, line);
	case T_FILES:
		return set_client_root(p, k, value, line);
	case T_KEY:
		if (is_key_url(value))
			return set_key_url(p, k, field, value, line);
		return set_path(p, k, field, value, line);
	case T_BOOL:
		if (parse_bool(value, field) < 0)
			return perr(p, line, k->name, "expected yes or no");
		return 0;
	case T_UINT:
		if (parse_uint(value, k->min, k->max, field) < 0)
			return perr(p, line, k->name,
				    "expected a number from %u to %u", k->min,
				    k->max);
		return 0;
	case T_ADDR:
		if (parse_addr(value, addr) == 0)
			return perr(p, line, k->name, "not a numeric IP address");
		return set_string(p, field, strdup(value));
	case T_TEXT:
		return set_string(p, field, strdup(value));
	case T_DHBITS:
		return set_dh_bits(p, k, field, value, line);
	case T_HOST:
		return set_host(p, k, field, value, line);
	case T_URLPATH:
		return set_url_path(p, k, field, value, line);
	case T_DURATION:
		if (parse_duration(value, k->min, k->max, field) < 0)
			return perr(p, line, k->name,
				    "expected a duration from %us to %ud "
				    "(a number of seconds, or with s, m, h or d)",
				    k->min, k->max / 86400);
		return 0;
	default:
		return set_enum(p, k, field, value, line);
	}
}

/* --- sections ----------------------------------------------------------- */

static int key_index(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(conf_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The key `name` of section `sect`, or -1. */
static int key_find(enum conf_sect sect, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (conf_keys[i].sect == sect &&
		    strcmp(conf_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 2)
		return 2;
	return n > 64 ? 64 : (unsigned)n;
}

/* "[address]:port" for IPv6, "address:port" for IPv4. */
static void format_endpoint(const struct conf_listener *l, char *buf,
			    size_t size)
{
	int v6 = strchr(l->address, ':') != NULL;

	snprintf(buf, size, "%s%s%s:%u", v6 ? "[" : "", l->address,
		 v6 ? "]" : "", l->port);
}

/* The listener just closed must not share address:port with an earlier one. */
static int check_endpoint(struct parser *p)
{
	const struct conf_listener *l = p->cur, *o;
	unsigned char a[16], b[16];
	size_t alen, blen, idx = p->conf->n_listeners - 1;
	char ep[INET6_ADDRSTRLEN + 16];

	if (l->port == 0)
		return 0;
	alen = parse_addr(l->address, a);
	for (size_t i = 0; i < idx; i++) {
		o = &p->conf->listeners[i];
		if (o->port != l->port)
			continue;
		blen = parse_addr(o->address, b);
		if (alen != blen || memcmp(a, b, alen) != 0)
			continue;
		format_endpoint(l, ep, sizeof(ep));
		return perr(p, p->port_line[idx], "port",
			    "listener '%s' uses %s already used by listener '%s' (line %d)",
			    l->name, ep, o->name, o->line_section);
	}
	return 0;
}

/* TLS listeners need a certificate and its key; plain ones take none. */
static int check_listener_mode(struct parser *p, const struct conf_listener *l)
{
	if (l->mode != CONF_MODE_PLAIN) {
		if (l->certificate == NULL)
			return perr(p, p->sect_line, p->header,
				    "missing key 'certificate'");
		if (l->key == NULL)
			return perr(p, p->sect_line, p->header,
				    "missing key 'key'");
		return 0;
	}
	if (l->certificate != NULL)
		return perr(p, l->line_certificate, "certificate",
			    "not used with mode = plain (plain HTTP)");
	if (l->key != NULL)
		return perr(p, l->line_key, "key",
			    "not used with mode = plain (plain HTTP)");
	return 0;
}

static int close_listener(struct parser *p)
{
	struct conf_listener *l = p->cur;
	int *line;

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (k->sect != SECT_LISTENER)
			continue;
		if (k->required && p->seen[i] == 0)
			return perr(p, p->sect_line, p->header,
				    "missing key '%s'", k->name);
		if (k->line_off < 0)
			continue;
		line = (int *)(void *)((char *)l + k->line_off);
		if (*line == 0)
			*line = p->sect_line;
	}
	if (check_listener_mode(p, l) < 0)
		return -1;
	if (l->key_pin_file != NULL && !is_key_url(l->key))
		return perr(p, l->line_key_pin_file, "key_pin_file",
			    "only for a PKCS#11 key (key = pkcs11:...)");
	if (l->dh_params != NULL)
		l->dh_bits = 0;
	p->port_line[p->conf->n_listeners - 1] = p->seen[key_index("port")];
	return check_endpoint(p);
}

/* Required keys; HTTPS needs both files; plain HTTP only on loopback. */
static int close_admin(struct parser *p)
{
	struct conf_admin *a = &p->conf->admin;

	for (size_t i = 0; i < N_KEYS; i++)
		if (conf_keys[i].sect == SECT_ADMIN && conf_keys[i].required &&
		    p->seen[i] == 0)
			return perr(p, p->sect_line, "[admin]",
				    "missing key '%s'", conf_keys[i].name);
	if (a->certificate != NULL && a->key == NULL)
		return perr(p, a->line_certificate, "certificate",
			    "needs a key too");
	if (a->key != NULL && a->certificate == NULL)
		return perr(p, a->line_key, "key", "needs a certificate too");
	if (a->certificate == NULL && !addr_is_loopback(a->address))
		return perr(p, a->line_address, "address",
			    "plain HTTP only on a loopback address "
			    "(127.0.0.1 or ::1); give certificate and key "
			    "to serve HTTPS on %s", a->address);
	return 0;
}

static int close_section(struct parser *p)
{
	int r = 0;

	if (p->sect == SECT_LISTENER)
		r = close_listener(p);
	else if (p->sect == SECT_ADMIN)
		r = close_admin(p);
	p->sect = SECT_NONE;
	p->cur = NULL;
	memset(p->seen, 0, sizeof(p->seen));
	return r;
}

static int valid_listener_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONF_MAX_NAME)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_-") == n;
}

static int open_listener(struct parser *p, const char *text, const char *name,
			 int line)
{
	struct conf *c = p->conf;
	struct conf_listener *l;

	if (*name == '\0')
		return perr(p, line, text, "missing listener name");
	if (!valid_listener_name(name))
		return perr(p, line, text,
			    "invalid listener name (expected 1 to %d of A-Z a-z 0-9 _ -)",
			    CONF_MAX_NAME);
	snprintf(p->header, sizeof(p->header), "[listener %s]", name);
	if (conf_listener_find(c, name) != NULL)
		return perr(p, line, p->header, "duplicate listener name");
	if (c->n_listeners == CONF_MAX_LISTENERS)
		return perr(p, line, p->header, "more than %d listeners",
			    CONF_MAX_LISTENERS);
	l = &c->listeners[c->n_listeners++];
	l->name = strdup(name);
	if (l->name == NULL)
		return perr(p, 0, NULL, "out of memory");
	l->dh_bits = 1024;
	l->threads = 0; /* the server's shared worker threads */
	l->connection_limit = 4096;
	l->per_ip_connection_limit = 0;
	l->connection_timeout = 30;
	l->max_header_size = CONF_DEF_MAX_HEADER_SIZE;
	l->max_body_size = CONF_DEF_MAX_BODY_SIZE;
	l->max_url_length = CONF_DEF_MAX_URL_LENGTH;
	l->max_headers = CONF_DEF_MAX_HEADERS;
	l->max_client_chain = CONF_MAX_CLIENT_CHAIN;
	l->max_client_cert_size = CONF_MAX_CLIENT_CERT_SIZE;
	l->tls_session_cache = CONF_DEF_TLS_SESSION_CACHE;
	l->tls_session_lifetime = CONF_DEF_TLS_SESSION_LIFETIME;
	l->line_section = line;
	p->sect_line = line;
	p->cur = l;
	p->sect = SECT_LISTENER;
	return 0;
}

static int open_server(struct parser *p, const char *text, const char *name,
		       int line)
{
	if (*name != '\0')
		return perr(p, line, text, "the server section takes no name");
	if (p->server_line != 0)
		return perr(p, line, "[server]", "duplicate section (first on line %d)",
			    p->server_line);
	snprintf(p->header, sizeof(p->header), "[server]");
	p->server_line = line;
	p->sect_line = line;
	p->sect = SECT_SERVER;
	return 0;
}

static int open_admin(struct parser *p, const char *text, const char *name,
		      int line)
{
	if (*name != '\0')
		return perr(p, line, text, "the admin section takes no name");
	if (p->conf->admin.enabled)
		return perr(p, line, "[admin]",
			    "duplicate section (first on line %d)",
			    p->conf->admin.line_section);
	snprintf(p->header, sizeof(p->header), "[admin]");
	p->conf->admin.enabled = 1;
	p->conf->admin.line_section = line;
	p->sect_line = line;
	p->sect = SECT_ADMIN;
	return 0;
}

/* text is the trimmed line, starting with '['. */
static int parse_header(struct parser *p, char *text, int line)
{
	size_t n = strlen(text);
	char inner[CONF_MAX_LINE + 1], *name, *end;

	if (close_section(p) < 0)
		return -1;
	if (text[n - 1] != ']')
		return perr(p, line, text, "section header must end with ']'");
	memcpy(inner, text + 1, n - 2);
	inner[n - 2] = '\0';
	name = inner + strspn(inner, " \t");
	end = name + strcspn(name, " \t");
	if (*end != '\0')
		*end++ = '\0';
	end += strspn(end, " \t");
	for (size_t k = strlen(end); k > 0 && strchr(" \t", end[k - 1]); k--)
		end[k - 1] = '\0';
	if (strcmp(name, "server") == 0)
		return open_server(p, text, end, line);
	if (strcmp(name, "listener") == 0)
		return open_listener(p, text, end, line);
	if (strcmp(name, "admin") == 0)
		return open_admin(p, text, end, line);
	return perr(p, line, text, "unknown section");
}

/* --- lines -------------------------------------------------------------- */

/* dh_bits and dh_params exclude each other. */
static int check_exclusive(struct parser *p, const char *key, int line)
{
	const char *other;
	int seen;

	if (strcmp(key, "dh_bits") == 0)
		other = "dh_params";
	else if (strcmp(key, "dh_params") == 0)
		other = "dh_bits";
	else
		return 0;
	seen = p->seen[key_index(other)];
	if (seen == 0)
		return 0;
	return perr(p, line, key, "cannot be used together with %s (line %d)",
		    other, seen);
}

static int parse_keyval(struct parser *p, char *text, int line)
{
	char *eq = strchr(text, '='), *key = text, *value;
	size_t n;
	int i, first;

	if (eq == NULL || eq == text)
		return perr(p, line, NULL,
			    "expected 'key = value' or '[section]'");
	*eq = '\0';
	for (n = strlen(key); n > 0 && strchr(" \t\r\v\f", key[n - 1]); n--)
		key[n - 1] = '\0';
	value = eq + 1 + strspn(eq + 1, " \t\r\v\f");
	if (p->sect == SECT_NONE)
		return perr(p, line, key, "key outside a section");
	i = key_find(p->sect, key);
	if (i < 0)
		return perr(p, line, key, "unknown key");
	first = p->seen[i];
	if (first != 0 && conf_keys[i].type != T_FILES)
		return perr(p, line, key, "duplicate key (first on line %d)",
			    first);
	if (*value == '\0')
		return perr(p, line, key, "missing value");
	if (check_exclusive(p, key, line) < 0)
		return -1;
	if (set_value(p, &conf_keys[i], value, line) < 0)
		return -1;
	if (first == 0)
		p->seen[i] = line;
	if (conf_keys[i].line_off >= 0)
		*(int *)(void *)(sect_base(p, p->sect) +
				 conf_keys[i].line_off) = line;
	return 0;
}

/* Cuts a comment off and trims; returns the remaining text. */
static char *strip_line(char *s)
{
	char *end;

	s += strspn(s, " \t\r\v\f");
	if (*s == ';' || *s == '#') {
		*s = '\0';
		return s;
	}
	for (end = s; *end != '\0'; end++) {
		if ((*end == ';' || *end == '#') &&
		    strchr(" \t", end[-1]) != NULL) {
			*end = '\0';
			break;
		}
	}
	while (end > s && strchr(" \t\r\v\f", end[-1]) != NULL)
		*--end = '\0';
	return s;
}

static int parse_line(struct parser *p, const char *raw, size_t n, int line)
{
	char buf[CONF_MAX_LINE + 1], *text;

	if (n > CONF_MAX_LINE)
		return perr(p, line, NULL, "line longer than %d bytes",
			    CONF_MAX_LINE);
	if (memchr(raw, '\0', n) != NULL)
		return perr(p, line, NULL, "NUL byte in line");
	memcpy(buf, raw, n);
	buf[n] = '\0';
	text = strip_line(buf);
	if (*text == '\0')
		return 0;
	if (*text == '[')
		return parse_header(p, text, line);
	return parse_keyval(p, text, line);
}

/* The admin listener must not take a provisioning listener's socket. */
static int check_admin_endpoint(struct parser *p)
{
	const struct conf_admin *a = &p->conf->admin;
	unsigned char x[16], y[16];
	size_t xlen, ylen;

	if (!a->enabled || a->port == 0)
		return 0;
	xlen = parse_addr(a->address, x);
	for (size_t i = 0; i < p->conf->n_listeners; i++) {
		const struct conf_listener *l = &p->conf->listeners[i];

		ylen = parse_addr(l->address, y);
		if (l->port != a->port || xlen != ylen ||
		    memcmp(x, y, xlen) != 0)
			continue;
		return perr(p, a->line_section, "[admin]",
			    "port %u on %s is already used by listener '%s' "
			    "(line %d)", a->port, a->address, l->name,
			    l->line_section);
	}
	return 0;
}

static int finish(struct parser *p)
{
	struct conf *c = p->conf;

	if (close_section(p) < 0)
		return -1;
	if (c->database == NULL)
		return perr(p, p->server_line, "[server]",
			    "missing key 'database'");
	if (c->n_listeners == 0)
		return perr(p, 0, NULL, "no [listener] section");
	return check_admin_endpoint(p);
}

/* Parses buf (len bytes).  `file` names the source in messages; relative
 * paths in values are taken relative to `dir` (NULL: left as they are). */
static int conf_parse(const char *file, const char *dir, const char *buf,
		      size_t len, struct conf **out, char **err)
{
	struct parser p = { .file = file, .dir = dir };
	size_t pos = 0, n;
	const char *nl;
	int line = 0, ret = -1;

	p.conf = calloc(1, sizeof(*p.conf));
	if (p.conf == NULL || (p.conf->path = strdup(file)) == NULL ||
	    (p.conf->log_level = strdup("info")) == NULL) {
		perr(&p, 0, NULL, "out of memory");
		goto out;
	}
	p.conf->client_cert_time_check = 0;
	p.conf->unknown_devices = CONF_UNKNOWN_RECORD;
	p.conf->ledger_batch = 256;
	p.conf->threads = default_threads();
	p.conf->identity_cache = CONF_DEF_IDENTITY_CACHE;
	p.conf->busy_timeout_ms = 5000;
	p.conf->admin.session_timeout = CONF_ADMIN_SESSION_TIMEOUT;
	while (pos < len) {
		nl = memchr(buf + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		if (parse_line(&p, buf + pos, n, ++line) < 0)
			goto out;
		pos += n + 1;
	}
	if (finish(&p) < 0)
		goto out;
	*out = p.conf;
	p.conf = NULL;
	ret = 0;
out:
	conf_free(p.conf);
	if (ret < 0)
		*err = p.err;
	return ret;
}

/* --- files -------------------------------------------------------------- */

/* Reads at most CONF_MAX_FILE bytes of path; 0, or -1 with *err. */
static int read_file(const char *path, char **buf, size_t *len, char **err)
{
	char *b = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*err = str_printf("%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	b = malloc(CONF_MAX_FILE + 1);
	if (b == NULL) {
		*err = strdup("out of memory");
		goto out;
	}
	while (n <= CONF_MAX_FILE) {
		r = read(fd, b + n, CONF_MAX_FILE + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*err = str_printf("%s: cannot read: %s", path,
					strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > CONF_MAX_FILE) {
		*err = str_printf("%s: larger than %u bytes", path, CONF_MAX_FILE);
		goto out;
	}
	*buf = b;
	*len = n;
	b = NULL;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(b);
	return ret;
}

/* The absolute directory holding path, or NULL if it cannot be found. */
static char *config_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *abs;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return NULL;
	abs = realpath(dir, NULL);
	if (abs == NULL)
		return dir;
	free(dir);
	return abs;
}

int conf_parse_buffer(const char *path, const char *buf, size_t len,
		      struct conf **out, char **err)
{
	char *dir;
	int ret;

	*err = NULL;
	if (len > CONF_MAX_FILE) {
		*err = str_printf("%s: larger than %u bytes", path, CONF_MAX_FILE);
		return -1;
	}
	dir = config_dir(path);
	if (dir == NULL) {
		*err = strdup("out of memory");
		return -1;
	}
	ret = conf_parse(path, dir, buf, len, out, err);
	free(dir);
	return ret;
}

int conf_load(const char *path, struct conf **out, char **err)
{
	char *buf = NULL;
	size_t len;
	int ret = -1;

	*err = NULL;
	if (read_file(path, &buf, &len, err) < 0)
		goto out;
	ret = conf_parse_buffer(path, buf, len, out, err);
out:
	free(buf);
	return ret;
}
