/* phone-emu: a test client that fetches a profile over HTTPS the way a
 * Cisco SPA / Linksys / Sipura / MPP phone does: mutual TLS with the
 * phone's certificate chain, one of a few firmware TLS behaviours
 * (--profile), the device's macro expansion in the path, one request per
 * TCP connection.  Used by the integration tests and benchmarks.
 *
 * Exit status: 0 HTTP status as expected (--expect-status, default 200),
 * 1 another status or a malformed response, 2 usage or local file error,
 * 3 TLS error (handshake, server certificate, DH group too large,
 * renegotiation request, record error), 4 connection error (resolve,
 * connect, timeout while connecting, connection cut mid-response).
 *
 * For every request that got a response, one line goes to stderr:
 *   status=200 tls=TLS1.0 cipher=TLS_RSA_WITH_AES_256_CBC_SHA kx=RSA
 *   dh_bits=0 resumed=0 bytes=1234
 * (on one line).  Errors are one line starting with "phone-emu: ". */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* memmem; configure defines it in config.h */
#endif

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define PE_MAX_CHAIN 16                  /* certificates in --cert */
#define PE_MAX_HEADER (64 * 1024)        /* response status line + headers */
#define PE_MAX_BODY (16 * 1024 * 1024)   /* response body */
#define PE_MAX_PATH (64 * 1024)          /* expanded request path */
#define PE_MAX_POST (1024 * 1024)        /* expanded POST body */
#define PE_MAX_UA 1024                   /* User-Agent */
#define PE_MAX_HOST 512                  /* Host header value */
#define PE_MAX_REPEAT 1000000
#define PE_MAX_TIMEOUT 3600              /* seconds */
#define PE_MAX_CN 1024                   /* server certificate CN */
#define PE_MAX_DH_BITS 65536
#define PE_MAX_SESSION_FILE (64 * 1024)  /* --session-file contents */
#define PE_READ_CHUNK 16384
#define PE_DEFAULT_MAC "0022bd010203"
#define PE_DEFAULT_PATH "/spa$MA.xml"
#define PE_LEGACY_DH_MAX 1024            /* DOMAIN.md s.3: pre-7.5.2b firmware */

enum pe_exit {
	PE_OK = 0,
	PE_STATUS = 1,
	PE_USAGE = 2,
	PE_TLS = 3,
	PE_CONN = 4,
};

/* Cipher suites are named by the wire value in comments (OpenSSL name). */
#define PE_TAIL ":+COMP-NULL:+SIGN-ALL:+CTYPE-X509"
#define PE_UA_SPA_PRE "Cisco/SPA504G-7.4.4 ("
#define PE_UA_SPA_POST ")(CBT141100HR)"
#define PE_UA_MPP_PRE "Cisco-CP-8841-3PCC/11.0 ("
#define PE_UA_MPP_POST ")"

struct pe_profile {
	const char *name;
	const char *priority;
	unsigned int max_dh_bits;  /* refuse larger DH primes; 0 = any */
	int legacy;                /* no TLS extensions (so no SNI), MD5 ok */
	const char *ua_pre;        /* default User-Agent: ua_pre MAC ua_post */
	const char *ua_post;
	int ua_upper;              /* MAC in the UA upper case */
};

/* GnuTLS sorts the offered suites by key exchange first, then cipher,
 * then MAC (whatever the order in the string), so fw206 offers
 * 0x39 0x33 0x35 0x2f 0x05 0x04 rather than the firmware's
 * 0x39 0x35 0x33 0x2f 0x05 0x04: same set, same first choice. */
static const struct pe_profile pe_profiles[] = {
	{ "legacy-dhe",		/* DHE-RSA-AES256-SHA 0x39 */
	  "NONE:+VERS-TLS1.0:+DHE-RSA:+AES-256-CBC:+SHA1" PE_TAIL,
	  PE_LEGACY_DH_MAX, 1, PE_UA_SPA_PRE, PE_UA_SPA_POST, 1 },
	{ "legacy-rsa",		/* AES256-SHA 0x35 */
	  "NONE:+VERS-TLS1.0:+RSA:+AES-256-CBC:+SHA1" PE_TAIL,
	  0, 1, PE_UA_SPA_PRE, PE_UA_SPA_POST, 1 },
	{ "rc4",		/* RC4-SHA 0x05 */
	  "NONE:+VERS-TLS1.0:+RSA:+ARCFOUR-128:+SHA1" PE_TAIL,
	  0, 1, PE_UA_SPA_PRE, PE_UA_SPA_POST, 1 },
	{ "rc4-md5",		/* RC4-MD5 0x04 */
	  "NONE:+VERS-TLS1.0:+RSA:+ARCFOUR-128:+MD5" PE_TAIL,
	  0, 1, PE_UA_SPA_PRE, PE_UA_SPA_POST, 1 },
	{ "fw206",		/* firmware 2.0.6 list minus EXPORT */
	  "NONE:+VERS-TLS1.0:+DHE-RSA:+RSA:+AES-256-CBC:+AES-128-CBC"
	  ":+ARCFOUR-128:+SHA1:+MD5" PE_TAIL,
	  PE_LEGACY_DH_MAX, 1, PE_UA_SPA_PRE, PE_UA_SPA_POST, 1 },
	{ "modern",		/* TLS 1.2, ECDHE only, like MPP firmware */
	  "NONE:+VERS-TLS1.2:+ECDHE-RSA:+ECDHE-ECDSA:+AES-256-GCM"
	  ":+AES-128-GCM:+AES-256-CBC:+AES-128-CBC:+AEAD:+SHA384:+SHA256"
	  ":+SHA1:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1" PE_TAIL,
	  0, 0, PE_UA_MPP_PRE, PE_UA_MPP_POST, 0 },
};

struct pe_opts {
	const char *host;
	const char *port;
	const struct pe_profile *profile;
	const char *cert;
	const char *key;
	const char *ca;
	const char *server_name;
	const char *path;
	const char *mac;
	const char *ua;
	const char *post;
	const char *method;
	const char *out;
	const char *priority;
	const char *session_file;
	long repeat;
	int resume;
	int expect_status;
	long timeout_ms;
	long max_dh_bits;          /* -1: the profile's limit */
	int extensions;            /* -1: the profile's choice */
};

struct pe_ctx {
	const struct pe_opts *o;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	gnutls_pcert_st pcert[PE_MAX_CHAIN];
	unsigned int npcert;
	gnutls_privkey_t pkey;
	char *request;
	size_t request_len;
	gnutls_datum_t resume_data;
	FILE *out;
	char mac[13];
	char verify_err[1024];
};

struct pe_buf {
	char *p;
	size_t len;
	size_t cap;
};

struct pe_resp {
	struct pe_buf raw;         /* bytes as received */
	struct pe_buf body;        /* decoded body */
	size_t hdr_end;            /* offset of the body in raw */
	int status;
	int chunked;
	long long content_length;  /* -1 when absent */
	size_t chunk_pos;          /* chunked decoder position in raw */
};

static void pe_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void pe_err(const char *fmt, ...)
{
	va_list ap;

	fputs("phone-emu: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static long long pe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int pe_left_ms(long long deadline)
{
	long long left = deadline - pe_now_ms();

	return left > 0 ? (int)left : 0;
}

static int pe_buf_add(struct pe_buf *b, const void *data, size_t n, size_t max)
{
	size_t cap;
	char *p;

	if (n > max || b->len > max - n)
		return -1;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void usage(FILE *f)
{
	size_t i;

	fputs(
"usage: phone-emu --host HOST --port N --profile NAME [options]\n"
"  --cert FILE          phone certificate chain (PEM, leaf first; all sent,\n"
"                       whatever CA names the server asks for)\n"
"  --key FILE           its private key (PEM); without --cert/--key no\n"
"                       client certificate is sent\n"
"  --ca FILE            provisioning root(s): verify the server chain\n"
"                       (SHA-1 allowed; MD5 too for the TLS 1.0 profiles);\n"
"                       without it the server is not verified\n"
"  --server-name NAME   with --ca: the server certificate CN must equal NAME\n"
"                       (text after '/' in the CN ignored, no wildcards, SAN\n"
"                       not consulted, like the phone); also the Host header\n"
"                       and, for 'modern', the SNI\n"
"  --path PATH          request path, default " PE_DEFAULT_PATH "; $MA, $MAU, $MAC,\n"
"                       $(MA).. and $$ are expanded like the phone does\n"
"  --mac MAC            12 hex digits, default " PE_DEFAULT_MAC "\n"
"  --user-agent UA      default per profile, MAC from --mac:\n"
"                       TLS 1.0 profiles \"" PE_UA_SPA_PRE "MAC" PE_UA_SPA_POST "\"\n"
"                       (MAC upper case), modern \"" PE_UA_MPP_PRE "mac" PE_UA_MPP_POST "\";\n"
"                       \"\" sends none\n"
"  --method GET|POST    default GET, POST with --post\n"
"  --post BODY          POST BODY (macros expanded) with Content-Length\n"
"  --repeat N           N requests, each on a new TCP+TLS connection\n"
"  --resume             resume the previous request's TLS session\n"
"  --session-file FILE  implies --resume: the first request resumes the\n"
"                       session saved in FILE (if FILE exists and is not\n"
"                       empty); every handshake saves its session to FILE\n"
"                       (GnuTLS's session data: holds the master secret)\n"
"  --out FILE           write the body (of every request) to FILE, not stdout\n"
"  --expect-status N    exit 0 only for this HTTP status (default 200)\n"
"  --timeout SEC        limit per request for connect+TLS+HTTP (default 10)\n"
"  --max-dh-bits N      refuse larger DH primes (default 1024 for legacy-dhe\n"
"                       and fw206, none otherwise; 0 = no limit)\n"
"  --extensions         TLS 1.0 profiles: send GnuTLS's default extensions\n"
"                       (default: none, no SNI, no RFC 5746, like old firmware)\n"
"  --no-extensions      modern: send no TLS extensions (no SNI, no groups)\n"
"  --priority STRING    GnuTLS priority string replacing the profile's\n"
"profiles:\n", f);
	for (i = 0; i < sizeof(pe_profiles) / sizeof(pe_profiles[0]); i++)
		fprintf(f, "  %-11s %s\n", pe_profiles[i].name,
			pe_profiles[i].priority);
	fputs("exit: 0 expected status, 1 other status, 2 usage, 3 TLS error,"
	      " 4 connection error\n", f);
}

static const struct pe_profile *pe_profile_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(pe_profiles) / sizeof(pe_profiles[0]); i++)
		if (strcmp(pe_profiles[i].name, name) == 0)
			return &pe_profiles[i];
	return NULL;
}

static int pe_parse_long(const char *s, long min, long max, long *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < min || n > max)
		return -1;
	*v = n;
	return 0;
}

/* --mac: 12 hex digits, ':' or '-' separators allowed; stored lower. */
static int pe_parse_mac(const char *s, char mac[13])
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s == ':' || *s == '-')
			continue;
		if (!isxdigit((unsigned char)*s) || n == 12)
			return -1;
		mac[n++] = (char)tolower((unsigned char)*s);
	}
	mac[n] = '\0';
	return n == 12 ? 0 : -1;
}

enum {
	OPT_HOST = 256, OPT_PORT, OPT_PROFILE, OPT_CERT, OPT_KEY, OPT_CA,
	OPT_SNAME, OPT_PATH, OPT_MAC, OPT_UA, OPT_POST, OPT_METHOD,
	OPT_REPEAT, OPT_RESUME, OPT_OUT, OPT_EXPECT, OPT_TIMEOUT, OPT_DHBITS,
	OPT_EXT, OPT_NOEXT, OPT_PRIO, OPT_SESSION_FILE, OPT_HELP,
};

static const struct option pe_longopts[] = {
	{ "host", required_argument, NULL, OPT_HOST },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "server-name", required_argument, NULL, OPT_SNAME },
	{ "path", required_argument, NULL, OPT_PATH },
	{ "mac", required_argument, NULL, OPT_MAC },
	{ "user-agent", required_argument, NULL, OPT_UA },
	{ "post", required_argument, NULL, OPT_POST },
	{ "method", required_argument, NULL, OPT_METHOD },
	{ "repeat", required_argument, NULL, OPT_REPEAT },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "expect-status", required_argument, NULL, OPT_EXPECT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "max-dh-bits", required_argument, NULL, OPT_DHBITS },
	{ "extensions", no_argument, NULL, OPT_EXT },
	{ "no-extensions", no_argument, NULL, OPT_NOEXT },
	{ "priority", required_argument, NULL, OPT_PRIO },
	{ "session-file", required_argument, NULL, OPT_SESSION_FILE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* One option; returns 0 or -1 after printing why. */
static int pe_opt_one(struct pe_opts *o, int c, const char *arg)
{
	long v;

	switch (c) {
	case OPT_HOST: o->host = arg; return 0;
	case OPT_PORT:
		if (pe_parse_long(arg, 1, 65535, &v) < 0)
			break;
		o->port = arg;
		return 0;
	case OPT_PROFILE:
		o->profile = pe_profile_find(arg);
		if (!o->profile)
			break;
		return 0;
	case OPT_CERT: o->cert = arg; return 0;
	case OPT_KEY: o->key = arg; return 0;
	case OPT_CA: o->ca = arg; return 0;
	case OPT_SNAME: o->server_name = arg; return 0;
	case OPT_PATH: o->path = arg; return 0;
	case OPT_MAC: o->mac = arg; return 0;
	case OPT_UA: o->ua = arg; return 0;
	case OPT_POST: o->post = arg; return 0;
	case OPT_METHOD:
		if (strcmp(arg, "GET") != 0 && strcmp(arg, "POST") != 0)
			break;
		o->method = arg;
		return 0;
	case OPT_REPEAT:
		if (pe_parse_long(arg, 1, PE_MAX_REPEAT, &o->repeat) < 0)
			break;
		return 0;
	case OPT_RESUME: o->resume = 1; return 0;
	case OPT_OUT: o->out = arg; return 0;
	case OPT_EXPECT:
		if (pe_parse_long(arg, 100, 599, &v) < 0)
			break;
		o->expect_status = (int)v;
		return 0;
	case OPT_TIMEOUT:
		if (pe_parse_long(arg, 1, PE_MAX_TIMEOUT, &v) < 0)
			break;
		o->timeout_ms = v * 1000;
		return 0;
	case OPT_DHBITS:
		if (pe_parse_long(arg, 0, PE_MAX_DH_BITS, &o->max_dh_bits) < 0)
			break;
		return 0;
	case OPT_EXT: o->extensions = 1; return 0;
	case OPT_NOEXT: o->extensions = 0; return 0;
	case OPT_PRIO: o->priority = arg; return 0;
	case OPT_SESSION_FILE:
		o->session_file = arg;
		o->resume = 1;
		return 0;
	default:
		return -1;
	}
	pe_err("bad value for --%s: '%s'", pe_longopts[c - OPT_HOST].name, arg);
	return -1;
}

static int pe_parse_args(int argc, char **argv, struct pe_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->repeat = 1;
	o->expect_status = 200;
	o->timeout_ms = 10000;
	o->max_dh_bits = -1;
	o->extensions = -1;
	o->path = PE_DEFAULT_PATH;
	o->mac = PE_DEFAULT_MAC;
	while ((c = getopt_long(argc, argv, "", pe_longopts, NULL)) != -1) {
		if (c == OPT_HELP) {
			usage(stdout);
			exit(PE_OK);
		}
		if (pe_opt_one(o, c, optarg) < 0)
			return -1;
	}
	if (optind != argc) {
		pe_err("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (!o->host || !o->port || !o->profile) {
		pe_err("--host, --port and --profile are required");
		return -1;
	}
	if (!o->cert != !o->key) {
		pe_err("--cert and --key go together");
		return -1;
	}
	if (o->post && o->method && strcmp(o->method, "POST") != 0) {
		pe_err("--post needs --method POST");
		return -1;
	}
	if (!o->method)
		o->method = o->post ? "POST" : "GET";
	return 0;
}

/* One phone macro at in ("$MA", "$MAU", "$MAC", "$(MA)", ... or "$$"):
 * writes its value to val and returns the length consumed, 0 if none. */
static size_t pe_macro(const char *in, const char *mac, char val[18])
{
	static const char *const names[] = { "MAU", "MAC", "MA" };
	size_t i, k, n;
	int paren;

	if (in[0] != '$')
		return 0;
	if (in[1] == '$') {
		strcpy(val, "$");
		return 2;
	}
	paren = in[1] == '(';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i]);
		if (strncmp(in + 1 + paren, names[i], n) == 0 &&
		    (!paren || in[1 + paren + n] == ')'))
			break;
	}
	if (i == sizeof(names) / sizeof(names[0]))
		return 0;
	if (i == 0) {
		for (k = 0; k < 12; k++)
			val[k] = (char)toupper((unsigned char)mac[k]);
		val[12] = '\0';
	} else if (i == 1) {
		for (k = 0; k < 6; k++) {
			memcpy(val + 3 * k, mac + 2 * k, 2);
			val[3 * k + 2] = k < 5 ? ':' : '\0';
		}
	} else {
		memcpy(val, mac, 13);
	}
	return 1 + n + 2 * (size_t)paren;
}

/* Expand the phone's macros in a path or POST body; other $NAMEs are left
 * as they are.  Returns a malloc'd string, NULL if longer than max. */
static char *pe_expand(const char *in, const char *mac, size_t max)
{
	struct pe_buf b = { NULL, 0, 0 };
	char val[18];
	size_t used;

	while (*in) {
		used = pe_macro(in, mac, val);
		if (used) {
			if (pe_buf_add(&b, val, strlen(val), max) < 0)
				goto fail;
			in += used;
			continue;
		}
		if (pe_buf_add(&b, in, 1, max) < 0)
			goto fail;
		in++;
	}
	if (pe_buf_add(&b, "", 0, max) < 0)
		goto fail;
	return b.p;
fail:
	free(b.p);
	return NULL;
}

/* Host header value: --server-name or --host, with the port unless 443. */
static int pe_host_header(const struct pe_opts *o, char *buf, size_t size)
{
	const char *name = o->server_name ? o->server_name : o->host;
	int v6 = strchr(name, ':') != NULL;
	int n;

	if (strcmp(o->port, "443") == 0)
		n = snprintf(buf, size, "%s%s%s", v6 ? "[" : "", name,
			     v6 ? "]" : "");
	else
		n = snprintf(buf, size, "%s%s%s:%s", v6 ? "[" : "", name,
			     v6 ? "]" : "", o->port);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int pe_build_request(struct pe_ctx *ctx)
{
	const struct pe_opts *o = ctx->o;
	struct pe_buf b = { NULL, 0, 0 };
	char host[PE_MAX_HOST], ua[PE_MAX_UA], mac[13], line[PE_MAX_UA + 64];
	char *path = NULL, *body = NULL;
	size_t k, max = PE_MAX_PATH + PE_MAX_POST + 3 * PE_MAX_UA;
	int rc = -1;

	path = pe_expand(o->path, ctx->mac, PE_MAX_PATH);
	body = o->post ? pe_expand(o->post, ctx->mac, PE_MAX_POST) : NULL;
	if (!path || (o->post && !body) || strpbrk(path, "\r\n ")) {
		pe_err("bad or too long --path or --post");
		goto out;
	}
	for (k = 0; k < 13; k++)
		mac[k] = (char)(o->profile->ua_upper ?
				toupper((unsigned char)ctx->mac[k]) : ctx->mac[k]);
	if (o->ua)
		snprintf(ua, sizeof(ua), "%s", o->ua);
	else
		snprintf(ua, sizeof(ua), "%s%s%s", o->profile->ua_pre, mac,
			 o->profile->ua_post);
	if (pe_host_header(o, host, sizeof(host)) < 0 || strpbrk(ua, "\r\n")) {
		pe_err("bad or too long Host or User-Agent");
		goto out;
	}
	snprintf(line, sizeof(line), "%s ", o->method);
	if (pe_buf_add(&b, line, strlen(line), max) < 0 ||
	    pe_buf_add(&b, path, strlen(path), max) < 0)
		goto nomem;
	snprintf(line, sizeof(line), " HTTP/1.1\r\nHost: %s\r\n", host);
	if (pe_buf_add(&b, line, strlen(line), max) < 0)
		goto nomem;
	if (ua[0]) {
		snprintf(line, sizeof(line), "User-Agent: %s\r\n", ua);
		if (pe_buf_add(&b, line, strlen(line), max) < 0)
			goto nomem;
	}
	if (strcmp(o->method, "POST") == 0)
		snprintf(line, sizeof(line), "Content-Length: %zu\r\n",
			 body ? strlen(body) : 0);
	else
		line[0] = '\0';
	if (pe_buf_add(&b, line, strlen(line), max) < 0 ||
	    pe_buf_add(&b, "Connection: close\r\n\r\n", 21, max) < 0 ||
	    (body && pe_buf_add(&b, body, strlen(body), max) < 0))
		goto nomem;
	ctx->request = b.p;
	ctx->request_len = b.len;
	b.p = NULL;
	rc = 0;
	goto out;
nomem:
	pe_err("out of memory building the request");
out:
	free(b.p);
	free(path);
	free(body);
	return rc;
}

/* The phone sends its chain whatever CA names the server lists in its
 * CertificateRequest (GnuTLS alone would send nothing on a mismatch). */
static int pe_retrieve(gnutls_session_t s, const gnutls_datum_t *req_ca,
		       int nreq, const gnutls_pk_algorithm_t *pk, int npk,
		       gnutls_pcert_st **pcert, unsigned int *len,
		       gnutls_privkey_t *key)
{
	struct pe_ctx *ctx = gnutls_session_get_ptr(s);

	(void)req_ca;
	(void)nreq;
	(void)pk;
	(void)npk;
	*pcert = ctx->pcert;
	*len = ctx->npcert;
	*key = ctx->pkey;
	return 0;
}

/* The phone compares the subject CN, up to an optional '/', with the name
 * it connected to; SAN is not looked at and wildcards do not match. */
static int pe_check_cn(struct pe_ctx *ctx, gnutls_session_t s)
{
	const gnutls_datum_t *peers;
	gnutls_x509_crt_t crt = NULL;
	unsigned int n = 0;
	char cn[PE_MAX_CN], *slash;
	size_t size = sizeof(cn);
	int rc = -1;

	peers = gnutls_certificate_get_peers(s, &n);
	if (!peers || n == 0 || gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					  0, cn, &size) < 0) {
		snprintf(ctx->verify_err, sizeof(ctx->verify_err),
			 "server certificate has no readable CN");
		goto out;
	}
	slash = strchr(cn, '/');
	if (slash)
		*slash = '\0';
	if (strcasecmp(cn, ctx->o->server_name) != 0) {
		snprintf(ctx->verify_err, sizeof(ctx->verify_err),
			 "server certificate CN '%.200s' is not '%.200s'", cn,
			 ctx->o->server_name);
		goto out;
	}
	rc = 0;
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return rc;
}

/* Runs inside the handshake; a non-zero return aborts it. */
static int pe_verify(gnutls_session_t s)
{
	struct pe_ctx *ctx = gnutls_session_get_ptr(s);
	unsigned int status = 0;
	gnutls_datum_t txt = { NULL, 0 };
	int ret;

	ret = gnutls_certificate_verify_peers2(s, &status);
	if (ret < 0) {
		snprintf(ctx->verify_err, sizeof(ctx->verify_err),
			 "server certificate: %s", gnutls_strerror(ret));
		return -1;
	}
	if (status) {
		gnutls_certificate_verification_status_print(
			status, GNUTLS_CRT_X509, &txt, 0);
		while (txt.data && txt.size > 0 &&
		       isspace(txt.data[txt.size - 1]))
			txt.data[--txt.size] = '\0';
		snprintf(ctx->verify_err, sizeof(ctx->verify_err),
			 "server certificate rejected: %s",
			 txt.data ? (char *)txt.data : "?");
		gnutls_free(txt.data);
		return -1;
	}
	if (ctx->o->server_name)
		return pe_check_cn(ctx, s);
	return 0;
}

static int pe_load_client_cert(struct pe_ctx *ctx)
{
	const struct pe_opts *o = ctx->o;
	gnutls_datum_t d = { NULL, 0 };
	int ret;

	ctx->npcert = PE_MAX_CHAIN;
	ret = gnutls_pcert_list_import_x509_file(ctx->pcert, &ctx->npcert,
						 o->cert, GNUTLS_X509_FMT_PEM,
						 NULL, NULL, 0);
	if (ret < 0) {
		ctx->npcert = 0;
		pe_err("%s: %s", o->cert, gnutls_strerror(ret));
		return -1;
	}
	ret = gnutls_privkey_init(&ctx->pkey);
	if (ret >= 0)
		ret = gnutls_load_file(o->key, &d);
	if (ret >= 0)
		ret = gnutls_privkey_import_x509_raw(ctx->pkey, &d,
						     GNUTLS_X509_FMT_PEM,
						     NULL, 0);
	gnutls_free(d.data);
	if (ret < 0) {
		pe_err("%s: %s", o->key, gnutls_strerror(ret));
		return -1;
	}
	gnutls_certificate_set_retrieve_function2(ctx->cred, pe_retrieve);
	return 0;
}

static int pe_setup_tls(struct pe_ctx *ctx)
{
	const struct pe_opts *o = ctx->o;
	const char *base = o->priority ? o->priority : o->profile->priority;
	int ext = o->extensions >= 0 ? o->extensions : !o->profile->legacy;
	unsigned int flags = GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1;
	const char *errpos = NULL;
	char *prio = NULL;
	int ret, rc = -1;

	if (gnutls_certificate_allocate_credentials(&ctx->cred) < 0) {
		pe_err("out of memory");
		goto out;
	}
	if (o->cert && pe_load_client_cert(ctx) < 0)
		goto out;
	if (o->ca) {
		ret = gnutls_certificate_set_x509_trust_file(
			ctx->cred, o->ca, GNUTLS_X509_FMT_PEM);
		if (ret <= 0) {
			pe_err("%s: %s", o->ca, ret < 0 ? gnutls_strerror(ret) :
			       "no certificate");
			goto out;
		}
		if (o->profile->legacy)
			flags |= GNUTLS_VERIFY_ALLOW_SIGN_RSA_MD5;
		gnutls_certificate_set_verify_flags(ctx->cred, flags);
		gnutls_certificate_set_verify_function(ctx->cred, pe_verify);
	}
	prio = malloc(strlen(base) + sizeof(":%NO_EXTENSIONS"));
	if (!prio) {
		pe_err("out of memory");
		goto out;
	}
	strcpy(prio, base);
	if (!ext)
		strcat(prio, ":%NO_EXTENSIONS");
	ret = gnutls_priority_init(&ctx->prio, prio, &errpos);
	if (ret < 0) {
		pe_err("priority '%s': %s at '%s'", prio, gnutls_strerror(ret),
		       errpos ? errpos : "?");
		ctx->prio = NULL;
		goto out;
	}
	rc = 0;
out:
	free(prio);
	return rc;
}

static int pe_connect(const struct pe_opts *o, long long deadline, int *fdp)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct pollfd pfd;
	struct timeval tv;
	socklen_t len;
	int fd = -1, ret, soerr = 0, one = 1, saved = ETIMEDOUT;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	ret = getaddrinfo(o->host, o->port, &hints, &res);
	if (ret != 0) {
		pe_err("resolve %s: %s", o->host, gai_strerror(ret));
		return PE_CONN;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			do
				ret = poll(&pfd, 1, pe_left_ms(deadline));
			while (ret < 0 && errno == EINTR);
			len = sizeof(soerr);
			if (ret == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR,
						   &soerr, &len) == 0 &&
			    soerr == 0)
				break;
			errno = ret == 0 ? ETIMEDOUT : ret == 1 ? soerr : errno;
		}
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		pe_err("connect to %s port %s: %s", o->host, o->port,
		       strerror(saved));
		return PE_CONN;
	}
	/* Blocking from here on: reads are bounded by GnuTLS's pull
	 * timeout, writes by SO_SNDTIMEO. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	tv.tv_sec = o->timeout_ms / 1000;
	tv.tv_usec = (o->timeout_ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fdp = fd;
	return PE_OK;
}

struct pe_tlsinfo {
	const char *proto;
	const char *suite;
	const char *kx;
	int dh_bits;
	int resumed;
};

static void pe_tls_info(gnutls_session_t s, struct pe_tlsinfo *ti)
{
	gnutls_kx_algorithm_t kx = gnutls_kx_get(s);
	int bits;

	ti->proto = gnutls_protocol_get_name(gnutls_protocol_get_version(s));
	/* gnutls_ciphersuite_get() (GnuTLS >= 3.7.4) gives the IANA name,
	 * e.g. TLS_DHE_RSA_WITH_AES_256_CBC_SHA; GnuTLS's own name is only
	 * the fallback. */
	ti->suite = gnutls_ciphersuite_get(s);
	if (!ti->suite)
		ti->suite = gnutls_cipher_suite_get_name(
			kx, gnutls_cipher_get(s), gnutls_mac_get(s));
	ti->kx = gnutls_kx_get_name(kx);
	ti->dh_bits = 0;
	if (kx == GNUTLS_KX_DHE_RSA || kx == GNUTLS_KX_DHE_DSS) {
		bits = gnutls_dh_get_prime_bits(s);
		ti->dh_bits = bits > 0 ? bits : 0;
	}
	ti->resumed = gnutls_session_is_resumed(s) != 0;
	if (!ti->proto)
		ti->proto = "?";
	if (!ti->suite)
		ti->suite = "?";
	if (!ti->kx)
		ti->kx = "?";
}

static int pe_handshake_error(struct pe_ctx *ctx, gnutls_session_t s, int ret)
{
	if ((ret == GNUTLS_E_CERTIFICATE_ERROR ||
	     ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) &&
	    ctx->verify_err[0])
		pe_err("TLS handshake failed: %s", ctx->verify_err);
	else if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
		pe_err("TLS handshake failed: %s (%s)", gnutls_strerror(ret),
		       gnutls_alert_get_name(gnutls_alert_get(s)));
	else
		pe_err("TLS handshake failed: %s", gnutls_strerror(ret));
	return PE_TLS;
}

/* --session-file: the session data of the last handshake, written to a
 * temporary file and renamed over FILE. */
static int pe_save_session(struct pe_ctx *ctx)
{
	const char *path = ctx->o->session_file;
	size_t len = strlen(path) + sizeof(".tmp");
	char *tmp = malloc(len);
	FILE *f = NULL;
	int rc = -1;

	if (!tmp) {
		pe_err("out of memory");
		return -1;
	}
	snprintf(tmp, len, "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (!f || fwrite(ctx->resume_data.data, 1, ctx->resume_data.size, f) !=
			  ctx->resume_data.size) {
		pe_err("%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		pe_err("%s: %s", tmp, strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) < 0) {
		pe_err("%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (f)
		fclose(f);
	free(tmp);
	return rc;
}

/* --session-file: resume the session saved there, if any. */
static int pe_load_session(struct pe_ctx *ctx)
{
	const char *path = ctx->o->session_file;
	unsigned char buf[PE_MAX_SESSION_FILE];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		pe_err("%s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f) || (n == sizeof(buf) && fgetc(f) != EOF)) {
		pe_err("%s: unreadable or larger than %d bytes", path,
		       PE_MAX_SESSION_FILE);
		fclose(f);
		return -1;
	}
	fclose(f);
	if (n == 0)
		return 0;
	ctx->resume_data.data = gnutls_malloc(n);
	if (!ctx->resume_data.data) {
		pe_err("out of memory");
		return -1;
	}
	memcpy(ctx->resume_data.data, buf, n);
	ctx->resume_data.size = (unsigned int)n;
	return 0;
}

static int pe_tls_open(struct pe_ctx *ctx, int fd, long long deadline,
		       gnutls_session_t *sp, struct pe_tlsinfo *ti)
{
	const struct pe_opts *o = ctx->o;
	int ext = o->extensions >= 0 ? o->extensions : !o->profile->legacy;
	long max_dh = o->max_dh_bits >= 0 ? o->max_dh_bits :
					     (long)o->profile->max_dh_bits;
	gnutls_session_t s;
	int ret;

	if (gnutls_init(sp, GNUTLS_CLIENT) < 0) {
		*sp = NULL;
		pe_err("out of memory");
		return PE_TLS;
	}
	s = *sp;
	gnutls_session_set_ptr(s, ctx);
	gnutls_priority_set(s, ctx->prio);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, ctx->cred);
	if (ext && o->server_name)
		gnutls_server_name_set(s, GNUTLS_NAME_DNS, o->server_name,
				       strlen(o->server_name));
	if (o->resume && ctx->resume_data.data) {
		ret = gnutls_session_set_data(s, ctx->resume_data.data,
					      ctx->resume_data.size);
		if (ret < 0) {
			pe_err("session data%s%s: %s",
			       o->session_file ? " in " : "",
			       o->session_file ? o->session_file : "",
			       gnutls_strerror(ret));
			return PE_USAGE;
		}
	}
	gnutls_transport_set_int(s, fd);
	ctx->verify_err[0] = '\0';
	do {
		if (!pe_left_ms(deadline)) {
			ret = GNUTLS_E_TIMEDOUT;
			break;
		}
		gnutls_handshake_set_timeout(s, (unsigned)pe_left_ms(deadline));
		ret = gnutls_handshake(s);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret < 0)
		return pe_handshake_error(ctx, s, ret);
	pe_tls_info(s, ti);
	if (max_dh > 0 && ti->dh_bits > max_dh) {
		gnutls_alert_send(s, GNUTLS_AL_FATAL,
				  GNUTLS_A_INSUFFICIENT_SECURITY);
		pe_err("DH group of %d bits refused (max %ld)", ti->dh_bits,
		       max_dh);
		return PE_TLS;
	}
	if (o->resume) {
		gnutls_free(ctx->resume_data.data);
		ctx->resume_data.data = NULL;
		ctx->resume_data.size = 0;
		ret = gnutls_session_get_data2(s, &ctx->resume_data);
		if (ret < 0)
			ctx->resume_data.data = NULL;
		else if (o->session_file && pe_save_session(ctx) < 0)
			return PE_USAGE;
	}
	return PE_OK;
}

static int pe_send_all(gnutls_session_t s, const char *p, size_t n,
		       long long deadline)
{
	ssize_t ret;

	while (n > 0) {
		ret = gnutls_record_send(s, p, n);
		if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
			if (pe_left_ms(deadline))
				continue;
			ret = GNUTLS_E_TIMEDOUT;
		}
		if (ret < 0) {
			pe_err("sending the request: %s",
			       gnutls_strerror((int)ret));
			return PE_TLS;
		}
		p += ret;
		n -= (size_t)ret;
	}
	return PE_OK;
}

/* Reads more of the response into r->raw.  Returns the number of bytes
 * read, 0 at the end of the stream, or minus an exit code after printing
 * the reason.  A TCP close without close_notify counts as the end (the
 * phone does not care); a renegotiation request fails the way firmware
 * 7.5.7 does (bug CSCuu14196). */
#define PE_MAX_RAW (PE_MAX_HEADER + 2 * PE_MAX_BODY)
static int pe_recv(gnutls_session_t s, struct pe_resp *r, long long deadline)
{
	char tmp[PE_READ_CHUNK];
	ssize_t ret;

	for (;;) {
		if (!pe_left_ms(deadline)) {
			ret = GNUTLS_E_TIMEDOUT;
			break;
		}
		gnutls_record_set_timeout(s, (unsigned)pe_left_ms(deadline));
		ret = gnutls_record_recv(s, tmp, sizeof(tmp));
		if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
			continue;
		if (ret == 0 || ret == GNUTLS_E_PREMATURE_TERMINATION)
			return 0;
		if (ret < 0)
			break;
		if (pe_buf_add(&r->raw, tmp, (size_t)ret, PE_MAX_RAW) < 0) {
			pe_err("response larger than %d bytes", PE_MAX_RAW);
			return -PE_STATUS;
		}
		return (int)ret;
	}
	if (ret == GNUTLS_E_REHANDSHAKE)
		pe_err("reading the response: server asked for renegotiation"
		       " (refused, like firmware 7.5.7)");
	else
		pe_err("reading the response: %s", gnutls_strerror((int)ret));
	return -PE_TLS;
}

/* Status line and the two headers that frame the body. */
static int pe_parse_head(struct pe_resp *r)
{
	char *line = r->raw.p, *eol, *val;
	char *hend = r->raw.p + r->hdr_end - 2;
	char *endp;

	if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
	    line[8] != ' ' || !isdigit((unsigned char)line[9]) ||
	    !isdigit((unsigned char)line[10]) ||
	    !isdigit((unsigned char)line[11]) ||
	    (line[12] != ' ' && line[12] != '\r'))
		return -1;
	r->status = atoi(line + 9);
	for (line = strstr(line, "\r\n") + 2; line < hend; line = eol + 2) {
		eol = strstr(line, "\r\n");
		val = memchr(line, ':', (size_t)(eol - line));
		if (!val)
			return -1;
		for (val++; *val == ' ' || *val == '\t'; val++)
			;
		if (strncasecmp(line, "Content-Length:", 15) == 0) {
			errno = 0;
			r->content_length = strtoll(val, &endp, 10);
			if (errno || endp == val || !isdigit((unsigned char)*val) ||
			    (*endp != '\r' && *endp != ' ') ||
			    r->content_length > PE_MAX_BODY)
				return -1;
		} else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0) {
			r->chunked = strncasecmp(val, "chunked", 7) == 0;
		}
	}
	return 0;
}

/* Chunked body decoder, resumable: 1 done, 0 need more, -1 malformed. */
static int pe_dechunk(struct pe_resp *r)
{
	const char *p, *lim, *eol, *q, *data;
	unsigned long long size;

	for (;;) {
		p = r->raw.p + r->chunk_pos;
		lim = r->raw.p + r->raw.len;
		eol = memmem(p, (size_t)(lim - p), "\r\n", 2);
		if (!eol)
			return lim - p > 1024 ? -1 : 0;
		size = 0;
		for (q = p; q < eol && isxdigit((unsigned char)*q); q++) {
			size = size * 16 + (unsigned)(isdigit((unsigned char)*q) ?
				*q - '0' : tolower((unsigned char)*q) - 'a' + 10);
			if (size > PE_MAX_BODY)
				return -1;
		}
		if (q == p || (q < eol && *q != ';' && *q != ' ' && *q != '\t'))
			return -1;
		data = eol + 2;
		if (size == 0) {
			if (lim - data >= 2 && memcmp(data, "\r\n", 2) == 0)
				return 1;
			return memmem(data, (size_t)(lim - data), "\r\n\r\n", 4) ?
				1 : 0;
		}
		if ((size_t)(lim - data) < size + 2)
			return 0;
		if (memcmp(data + size, "\r\n", 2) != 0 ||
		    pe_buf_add(&r->body, data, size, PE_MAX_BODY) < 0)
			return -1;
		r->chunk_pos = (size_t)(data + size + 2 - r->raw.p);
	}
}

static int pe_read_head(gnutls_session_t s, struct pe_resp *r,
			long long deadline)
{
	char *end;
	int ret;

	while (!r->raw.p || !(end = memmem(r->raw.p, r->raw.len, "\r\n\r\n", 4))) {
		if (r->raw.len > PE_MAX_HEADER) {
			pe_err("response head longer than %d bytes",
			       PE_MAX_HEADER);
			return PE_STATUS;
		}
		ret = pe_recv(s, r, deadline);
		if (ret < 0)
			return -ret;
		if (ret == 0) {
			pe_err("connection closed %s", r->raw.len ?
			       "inside the response head" :
			       "without a response");
			return PE_CONN;
		}
	}
	r->hdr_end = (size_t)(end - r->raw.p) + 4;
	r->chunk_pos = r->hdr_end;
	if (pe_parse_head(r) < 0) {
		pe_err("malformed response head");
		return PE_STATUS;
	}
	return PE_OK;
}

static int pe_read_response(gnutls_session_t s, struct pe_resp *r,
			    long long deadline)
{
	int ret, done;

	ret = pe_read_head(s, r, deadline);
	if (ret != PE_OK)
		return ret;
	if (r->status < 200 || r->status == 204 || r->status == 304)
		return PE_OK;
	for (;;) {
		if (r->chunked)
			done = pe_dechunk(r);
		else if (r->content_length >= 0)
			done = r->raw.len - r->hdr_end >=
			       (size_t)r->content_length;
		else
			done = r->raw.len - r->hdr_end > PE_MAX_BODY ? -1 : 0;
		if (done < 0) {
			pe_err("malformed or too large response body");
			return PE_STATUS;
		}
		if (done)
			break;
		ret = pe_recv(s, r, deadline);
		if (ret < 0)
			return -ret;
		if (ret == 0 && (r->chunked || r->content_length >= 0)) {
			pe_err("connection closed inside the response body"
			       " (%zu bytes read)", r->raw.len - r->hdr_end);
			return PE_CONN;
		}
		if (ret == 0)
			break;
	}
	if (!r->chunked && pe_buf_add(&r->body, r->raw.p + r->hdr_end,
				      r->content_length >= 0 ?
				      (size_t)r->content_length :
				      r->raw.len - r->hdr_end, PE_MAX_BODY) < 0) {
		pe_err("out of memory");
		return PE_STATUS;
	}
	return PE_OK;
}

static int pe_request_once(struct pe_ctx *ctx)
{
	const struct pe_opts *o = ctx->o;
	long long deadline = pe_now_ms() + o->timeout_ms;
	gnutls_session_t s = NULL;
	struct pe_tlsinfo ti;
	struct pe_resp r;
	int fd = -1, rc;

	memset(&r, 0, sizeof(r));
	r.content_length = -1;
	rc = pe_connect(o, deadline, &fd);
	if (rc != PE_OK)
		goto out;
	rc = pe_tls_open(ctx, fd, deadline, &s, &ti);
	if (rc != PE_OK)
		goto out;
	rc = pe_send_all(s, ctx->request, ctx->request_len, deadline);
	if (rc != PE_OK)
		goto out;
	rc = pe_read_response(s, &r, deadline);
	if (rc != PE_OK)
		goto out;
	fprintf(stderr, "status=%d tls=%s cipher=%s kx=%s dh_bits=%d"
		" resumed=%d bytes=%zu\n", r.status, ti.proto, ti.suite,
		ti.kx, ti.dh_bits, ti.resumed, r.body.len);
	if (r.body.len && fwrite(r.body.p, 1, r.body.len, ctx->out) !=
			  r.body.len) {
		pe_err("writing the body: %s", strerror(errno));
		rc = PE_USAGE;
		goto out;
	}
	rc = r.status == o->expect_status ? PE_OK : PE_STATUS;
	gnutls_record_set_timeout(s, 100);
	gnutls_bye(s, GNUTLS_SHUT_WR);
out:
	if (s)
		gnutls_deinit(s);
	if (fd >= 0)
		close(fd);
	free(r.raw.p);
	free(r.body.p);
	return rc;
}

static void pe_cleanup(struct pe_ctx *ctx)
{
	unsigned int i;

	gnutls_free(ctx->resume_data.data);
	for (i = 0; i < ctx->npcert; i++)
		gnutls_pcert_deinit(&ctx->pcert[i]);
	if (ctx->pkey)
		gnutls_privkey_deinit(ctx->pkey);
	if (ctx->prio)
		gnutls_priority_deinit(ctx->prio);
	if (ctx->cred)
		gnutls_certificate_free_credentials(ctx->cred);
	free(ctx->request);
}

int main(int argc, char **argv)
{
	struct pe_opts o;
	struct pe_ctx ctx;
	int rc = PE_USAGE;
	long i;

	memset(&ctx, 0, sizeof(ctx));
	signal(SIGPIPE, SIG_IGN);
	if (pe_parse_args(argc, argv, &o) < 0) {
		fputs("try 'phone-emu --help'\n", stderr);
		return PE_USAGE;
	}
	ctx.o = &o;
	if (pe_parse_mac(o.mac, ctx.mac) < 0) {
		pe_err("--mac needs 12 hex digits, not '%s'", o.mac);
		goto out;
	}
	if (pe_build_request(&ctx) < 0 || pe_setup_tls(&ctx) < 0 ||
	    (o.session_file && pe_load_session(&ctx) < 0))
		goto out;
	ctx.out = o.out ? fopen(o.out, "wb") : stdout;
	if (!ctx.out) {
		pe_err("%s: %s", o.out, strerror(errno));
		goto out;
	}
	for (i = 0, rc = PE_OK; i < o.repeat && rc == PE_OK; i++)
		rc = pe_request_once(&ctx);
	if ((o.out ? fclose(ctx.out) : fflush(ctx.out)) != 0) {
		pe_err("writing the body: %s", strerror(errno));
		if (rc == PE_OK)
			rc = PE_USAGE;
	}
out:
	pe_cleanup(&ctx);
	return rc;
}
