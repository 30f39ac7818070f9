#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/pkcs11.h>
#include <gnutls/x509.h>

#include "util/str.h"
#include "server/tls.h"
#include "util/log.h"

#define TLS_MAX_PEM (256u * 1024) /* certificate, key or DH file */

/* Legacy listeners admit what old firmware speaks (DOMAIN.md s.3, s.6):
 * TLS 1.0-1.2, RSA and DHE-RSA, AES-CBC-SHA1, 3DES, RC4 with SHA1 and MD5.
 * -GROUP-DH-ALL stops GnuTLS from replacing our 1024-bit DH parameters by
 * the RFC 7919 2048-bit group; %COMPAT tolerates old clients' quirks.
 * Safe renegotiation is not required (clients without RFC 5746 connect);
 * the server never renegotiates. */
static const char *const default_priority[CONF_CA__COUNT] = {
	[CONF_CA_SIPURA] = "NORMAL:-GROUP-DH-ALL:+VERS-TLS1.0:+VERS-TLS1.1:"
			   "+ARCFOUR-128:+3DES-CBC:+MD5:+SHA1:%COMPAT",
	[CONF_CA_LINKSYS] = "NORMAL:-GROUP-DH-ALL:+VERS-TLS1.0:+VERS-TLS1.1:"
			    "+ARCFOUR-128:+3DES-CBC:+MD5:+SHA1:%COMPAT",
	[CONF_CA_SB] = "NORMAL:-GROUP-DH-ALL:+VERS-TLS1.0:+VERS-TLS1.1:"
		       "+ARCFOUR-128:+3DES-CBC:+MD5:+SHA1:%COMPAT",
	/* SPA5xx >= 7.5.6 and SPA1xx >= 1.3.3 still speak TLS 1.0 with
	 * AES-CBC-SHA1, but no longer need RC4 or 3DES. */
	[CONF_CA_SB2K] = "NORMAL:-GROUP-DH-ALL:+VERS-TLS1.0:+VERS-TLS1.1:"
			 "+SHA1:%COMPAT",
	/* Multiplatform phones speak TLS 1.2. */
	[CONF_CA_MPP] = "NORMAL:-GROUP-DH-ALL:-VERS-TLS1.0:-VERS-TLS1.1",
};

/* RFC 2409 group 2: the 1024-bit MODP group (a safe prime, generator 2). */
static const unsigned char modp1024_prime[] = {
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2,
	0x21, 0x68, 0xC2, 0x34, 0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1,
	0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74, 0x02, 0x0B, 0xBE, 0xA6,
	0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD,
	0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D,
	0xF2, 0x5F, 0x14, 0x37, 0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45,
	0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6, 0xF4, 0x4C, 0x42, 0xE9,
	0xA6, 0x37, 0xED, 0x6B, 0x0B, 0xFF, 0x5C, 0xB6, 0xF4, 0x06, 0xB7, 0xED,
	0xEE, 0x38, 0x6B, 0xFB, 0x5A, 0x89, 0x9F, 0xA5, 0xAE, 0x9F, 0x24, 0x11,
	0x7C, 0x4B, 0x1F, 0xE6, 0x49, 0x28, 0x66, 0x51, 0xEC, 0xE6, 0x53, 0x81,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};
static const unsigned char generator2[] = { 0x02 };

const char *tls_default_priority(enum conf_ca ca)
{
	return default_priority[ca];
}

int tls_read_file(const char *path, size_t limit, char **out, size_t *len,
		  char **err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (f == NULL) {
		*err = str_printf("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(limit + 1);
	if (buf == NULL) {
		fclose(f);
		*err = str_printf("out of memory");
		return -1;
	}
	n = fread(buf, 1, limit + 1, f);
	if (ferror(f) || n > limit) {
		*err = ferror(f) ? str_printf("cannot read %s: %s", path,
				       strerror(errno))
				 : str_printf("%s is larger than %u bytes", path,
				       (unsigned)limit);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	if (len != NULL)
		*len = n;
	return 0;
}

/* PEM PKCS#3 of the DH group with a prime of `bits`: well-known groups
 * where they exist, generated ones otherwise. */
static int dh_for_bits(unsigned bits, char **pem, char **err)
{
	gnutls_dh_params_t dh = NULL;
	gnutls_datum_t p = { 0 }, g = { (unsigned char *)generator2, 1 };
	gnutls_datum_t out = { 0 };
	int rc, result = -1;

	gnutls_dh_params_init(&dh);
	if (bits == 1024) {
		p.data = (unsigned char *)modp1024_prime;
		p.size = sizeof(modp1024_prime);
	} else if (bits == 2048) {
		p = gnutls_ffdhe_2048_group_prime;
		g = gnutls_ffdhe_2048_group_generator;
	} else if (bits == 3072) {
		p = gnutls_ffdhe_3072_group_prime;
		g = gnutls_ffdhe_3072_group_generator;
	} else if (bits == 4096) {
		p = gnutls_ffdhe_4096_group_prime;
		g = gnutls_ffdhe_4096_group_generator;
	}
	if (p.data != NULL)
		rc = gnutls_dh_params_import_raw(dh, &p, &g);
	else
		rc = gnutls_dh_params_generate2(dh, bits);
	if (rc < 0 || (rc = gnutls_dh_params_export2_pkcs3(
			       dh, GNUTLS_X509_FMT_PEM, &out)) < 0) {
		*err = str_printf("cannot make %u-bit DH parameters: %s", bits,
			   gnutls_strerror(rc));
		goto out;
	}
	*pem = strndup((const char *)out.data, out.size);
	result = *pem != NULL ? 0 : -1;
out:
	gnutls_free(out.data);
	gnutls_dh_params_deinit(dh);
	return result;
}

/* Bits of a big-endian integer (the export's third value is the private
 * exponent size, not the prime's). */
static unsigned prime_bits(const gnutls_datum_t *p)
{
	unsigned i = 0, bits;

	while (i < p->size && p->data[i] == 0)
		i++;
	if (i == p->size)
		return 0;
	bits = (p->size - i) * 8;
	for (unsigned char top = p->data[i]; !(top & 0x80); top <<= 1)
		bits--;
	return bits;
}

static int dh_file(const char *path, char **pem, unsigned *bits, char **err)
{
	gnutls_dh_params_t dh = NULL;
	gnutls_datum_t d, p = { 0 }, g = { 0 };
	unsigned pbits = 0;
	int rc;

	if (tls_read_file(path, TLS_MAX_PEM, pem, NULL, err) < 0)
		return -1;
	d.data = (unsigned char *)*pem;
	d.size = (unsigned)strlen(*pem);
	gnutls_dh_params_init(&dh);
	rc = gnutls_dh_params_import_pkcs3(dh, &d, GNUTLS_X509_FMT_PEM);
	if (rc >= 0)
		rc = gnutls_dh_params_export_raw(dh, &p, &g, NULL);
	if (rc >= 0)
		pbits = prime_bits(&p);
	gnutls_free(p.data);
	gnutls_free(g.data);
	gnutls_dh_params_deinit(dh);
	if (rc < 0) {
		*err = str_printf("%s: not PKCS#3 DH parameters: %s", path,
			   gnutls_strerror(rc));
		free(*pem);
		*pem = NULL;
		return -1;
	}
	*bits = pbits;
	return 0;
}

/* The certificate parses and the key is the one it certifies. */
static int check_cert_key(const struct tls_material *m, const char *cert_path,
			  const char *key_path, char **err, int *which)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t d;
	unsigned char id_crt[64], id_key[64];
	size_t n_crt = sizeof(id_crt), n_key = sizeof(id_key);
	int rc, result = -1;

	gnutls_x509_crt_init(&crt);
	gnutls_x509_privkey_init(&key);
	d.data = (unsigned char *)m->cert_pem;
	d.size = (unsigned)strlen(m->cert_pem);
	*which = 0;
	if ((rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM)) < 0) {
		*err = str_printf("%s: not a PEM certificate: %s", cert_path,
			   gnutls_strerror(rc));
		goto out;
	}
	*which = 1;
	d.data = (unsigned char *)m->key_pem;
	d.size = (unsigned)strlen(m->key_pem);
	if ((rc = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM,
					      NULL, 0)) < 0) {
		*err = str_printf("%s: not a PEM private key (or encrypted): %s",
			   key_path, gnutls_strerror(rc));
		goto out;
	}
	if (gnutls_x509_crt_get_key_id(crt, 0, id_crt, &n_crt) < 0 ||
	    gnutls_x509_privkey_get_key_id(key, 0, id_key, &n_key) < 0 ||
	    n_crt != n_key || memcmp(id_crt, id_key, n_crt) != 0) {
		*err = str_printf("%s does not match the certificate %s", key_path,
			   cert_path);
		goto out;
	}
	result = 0;
out:
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return result;
}

/* ---- PKCS#11 keys ---------------------------------------------------- */

#define TLS_MAX_TOKENS 64        /* tokens looked at to find the key's */
#define TLS_MAX_SEEN 256         /* bytes of the "tokens seen" list */
#define TLS_MAX_ATTR 256         /* bytes of a URL attribute we compare */

struct tls_p11key {
	gnutls_privkey_t keys[TLS_MAX_P11_KEYS]; /* one handle per thread */
	unsigned n_keys;
	unsigned next;                   /* round robin over keys, atomic */
	gnutls_pcert_st pcerts[TLS_MAX_CHAIN];
	unsigned n_pcerts;
	char *url;                       /* as configured, less pin-value */
	unsigned char key_id[32];        /* SHA-256 of the public key */
	size_t key_id_len;
	char token[TLS_MAX_LABEL];       /* label of the token used */
	char pin[TLS_MAX_PIN + 1];
	size_t pin_len;
	int have_pin, pin_from_url;
	int pin_asked;   /* the token asked for the PIN (any thread) */
	int pin_final;   /* the token warned of locking (any thread) */
	const char *pin_note;            /* why the PIN was not checked */
};

/* The PIN each token was logged in with (SHA-256): PKCS#11 keeps one
 * login per token and process, so a later import is not asked again. */
#define TLS_MAX_P11_TOKENS 16
static struct {
	char token[TLS_MAX_LABEL];
	unsigned char pin_hash[32];
} logins[TLS_MAX_P11_TOKENS];
static size_t n_logins;

/* Modules added so far: GnuTLS cannot unload one. */
static struct {
	int inited;
	char modules[TLS_MAX_P11_MODULES][PATH_MAX];
	size_t n_modules;
} p11;

/* Credentials of a libmicrohttpd daemon -> the key of its listener. */
static pthread_mutex_t bind_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	void *cred;
	struct tls_p11key *key;
} bindings[TLS_MAX_P11_BINDINGS];

int tls_key_is_url(const char *key)
{
	return key != NULL && strncasecmp(key, "pkcs11:", 7) == 0;
}

/* The raw value of attribute `name`: path attributes are separated by
 * ';', query attributes (after '?') by '&'. */
static int url_find(const char *url, const char *name, const char **val,
		    size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *p;

	if (!tls_key_is_url(url))
		return -1;
	for (p = url + 7; *p != '\0';) {
		size_t n = strcspn(p, ";?&");

		if (n > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			*val = p + nlen + 1;
			*vlen = n - nlen - 1;
			return 0;
		}
		p += n;
		if (*p != '\0')
			p++;
	}
	return -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tls_url_attr(const char *url, const char *name, char *buf, size_t size)
{
	const char *v;
	size_t vlen, o = 0;
	int hi, lo;

	if (size == 0 || url_find(url, name, &v, &vlen) < 0)
		return -1;
	for (size_t i = 0; i < vlen && o + 1 < size; i++) {
		if (v[i] == '%' && i + 2 < vlen &&
		    (hi = hexval(v[i + 1])) >= 0 &&
		    (lo = hexval(v[i + 2])) >= 0) {
			buf[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			buf[o++] = v[i];
		}
	}
	buf[o] = '\0';
	return 0;
}

char *tls_url_redacted(const char *url)
{
	size_t len = strlen(url);
	/* each "pin-value=" (10 bytes) grows by at most "***" */
	char *s = malloc(len + 3 * (len / 10 + 1) + 1), *o;
	const char *p;

	if (s == NULL || !tls_key_is_url(url)) {
		free(s);
		return strdup(url);
	}
	memcpy(s, url, 7);
	o = s + 7;
	for (p = url + 7; *p != '\0';) {
		size_t n = strcspn(p, ";?&");

		if (n >= 10 && strncmp(p, "pin-value=", 10) == 0) {
			memcpy(o, "pin-value=***", 13);
			o += 13;
		} else {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
		if (*p != '\0')
			*o++ = *p++;
	}
	*o = '\0';
	return s;
}

/* Copy the attributes of p (len bytes, separated by sep) to o, less
 * pin-value; returns the new end of o. */
static char *copy_attrs(char *o, const char *p, size_t len, char sep)
{
	const char *end = p + len, *e;
	char *start = o;

	while (p < end) {
		e = memchr(p, sep, (size_t)(end - p));
		if (e == NULL)
			e = end;
		if (e - p < 10 || strncmp(p, "pin-value=", 10) != 0) {
			if (o != start)
				*o++ = sep;
			memcpy(o, p, (size_t)(e - p));
			o += e - p;
		}
		p = e < end ? e + 1 : end;
	}
	return o;
}

/* The URL without pin-value, so that GnuTLS asks our PIN callback. */
static char *url_without_pin(const char *url)
{
	const char *path = url + 7, *query = strchr(path, '?');
	char *s = malloc(strlen(url) + 1), *o, *mark;

	if (s == NULL)
		return NULL;
	memcpy(s, url, 7);
	o = copy_attrs(s + 7, path,
		       query ? (size_t)(query - path) : strlen(path), ';');
	if (query != NULL) {
		mark = o;
		*o++ = '?';
		o = copy_attrs(o, query + 1, strlen(query + 1), '&');
		if (o == mark + 1)
			o = mark;
	}
	*o = '\0';
	return s;
}

/* Token, object and id of the URL, for messages ("token 'x', object
 * 'y'"). */
static void url_describe(const char *url, char *buf, size_t size)
{
	char tok[TLS_MAX_LABEL], obj[TLS_MAX_LABEL], id[TLS_MAX_LABEL];
	const char *v;
	size_t vlen;

	if (tls_url_attr(url, "token", tok, sizeof(tok)) < 0)
		snprintf(tok, sizeof(tok), "(any)");
	if (tls_url_attr(url, "object", obj, sizeof(obj)) < 0)
		obj[0] = '\0';
	id[0] = '\0';
	if (url_find(url, "id", &v, &vlen) == 0)
		snprintf(id, sizeof(id), "%.*s", (int)vlen, v);
	snprintf(buf, size, "token '%s'%s%s%s%s%s", tok,
		 obj[0] ? ", object '" : "", obj, obj[0] ? "'" : "",
		 id[0] ? ", id " : "", id);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* Load the PKCS#11 subsystem (once) and the module (once per path). */
static int p11_load(const char *module, char **err)
{
	int rc;

	if (!p11.inited) {
		rc = gnutls_pkcs11_init(module ? GNUTLS_PKCS11_FLAG_MANUAL
					       : GNUTLS_PKCS11_FLAG_AUTO,
					NULL);
		if (rc < 0) {
			*err = str_printf("cannot initialise PKCS#11: %s",
				   gnutls_strerror(rc));
			return -1;
		}
		p11.inited = 1;
	}
	if (module == NULL)
		return 0;
	for (size_t i = 0; i < p11.n_modules; i++)
		if (strcmp(p11.modules[i], module) == 0)
			return 0;
	if (p11.n_modules == TLS_MAX_P11_MODULES ||
	    strlen(module) >= PATH_MAX) {
		*err = str_printf("%s: cannot load more than %d modules: restart "
			   "spaprovd", module, TLS_MAX_P11_MODULES);
		return -1;
	}
	rc = gnutls_pkcs11_add_provider(module, NULL);
	if (rc < 0) {
		*err = str_printf("cannot load the PKCS#11 module %s: %s", module,
			   gnutls_strerror(rc));
		return -1;
	}
	snprintf(p11.modules[p11.n_modules++], PATH_MAX, "%s", module);
	return 0;
}

static void seen_add(char *seen, const char *label)
{
	size_t n = strlen(seen);

	if (n + 8 >= TLS_MAX_SEEN)
		return;
	snprintf(seen + n, TLS_MAX_SEEN - n, "%s'%s'", n ? ", " : "", label);
	for (char *c = seen + n; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

/* Does the token of turl have every token attribute the key URL gives? */
static int token_matches(const char *url, const char *turl)
{
	static const struct {
		const char *attr;
		gnutls_pkcs11_token_info_t info;
	} attrs[] = {
		{ "token", GNUTLS_PKCS11_TOKEN_LABEL },
		{ "manufacturer", GNUTLS_PKCS11_TOKEN_MANUFACTURER },
		{ "serial", GNUTLS_PKCS11_TOKEN_SERIAL },
		{ "model", GNUTLS_PKCS11_TOKEN_MODEL },
	};
	char want[TLS_MAX_ATTR], got[TLS_MAX_ATTR];

	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		size_t n = sizeof(got);

		if (tls_url_attr(url, attrs[i].attr, want, sizeof(want)) < 0)
			continue;
		if (gnutls_pkcs11_token_get_info(turl, attrs[i].info, got,
						 &n) < 0 ||
		    strcmp(want, got) != 0)
			return 0;
	}
	return 1;
}

/* The label of the first token the URL matches: the one GnuTLS uses. */
static int p11_find_token(struct tls_p11key *k, const char *module,
			  char **err)
{
	char seen[TLS_MAX_SEEN] = "", label[TLS_MAX_LABEL], desc[256];

	for (unsigned i = 0; i < TLS_MAX_TOKENS; i++) {
		char *turl = NULL;
		size_t n = sizeof(label);
		int match;

		if (gnutls_pkcs11_token_get_url(i, GNUTLS_PKCS11_URL_GENERIC,
						&turl) < 0)
			break;
		if (gnutls_pkcs11_token_get_info(turl,
						 GNUTLS_PKCS11_TOKEN_LABEL,
						 label, &n) < 0)
			snprintf(label, sizeof(label), "?");
		match = token_matches(k->url, turl);
		gnutls_free(turl);
		if (match) {
			snprintf(k->token, sizeof(k->token), "%s", label);
			for (char *c = k->token; *c; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f ||
				    *c == '"')
					*c = '?';
			return 0;
		}
		seen_add(seen, label);
	}
	url_describe(k->url, desc, sizeof(desc));
	if (seen[0] != '\0')
		*err = str_printf("token not found: no PKCS#11 token matches the "
			   "URL's %s (tokens seen: %s)", desc, seen);
	else
		*err = str_printf("token not found: %s has no initialised token "
			   "(URL's %s)", module ? module
						: "no PKCS#11 module (p11-kit)",
			   desc);
	return -1;
}

/* GnuTLS asks for the PIN: give the configured one, once.  A second
 * request means it was wrong; trying again could lock the token. */
static int p11_pin(void *data, int attempt, const char *token_url,
		   const char *token_label, unsigned int flags, char *pin,
		   size_t pin_max)
{
	struct tls_p11key *k = data;

	(void)token_url;
	(void)token_label;
	if (flags & GNUTLS_PIN_FINAL_TRY)
		__atomic_store_n(&k->pin_final, 1, __ATOMIC_RELAXED);
	if (attempt > 0 || (flags & GNUTLS_PIN_WRONG) || !k->have_pin ||
	    k->pin_len >= pin_max)
		return -1;
	memcpy(pin, k->pin, k->pin_len + 1);
	__atomic_store_n(&k->pin_asked, 1, __ATOMIC_RELAXED);
	return 0;
}

/* The PIN file holds the PIN, maybe followed by a line end; or the URL
 * has a pin-value. */
static int p11_read_pin(struct tls_p11key *k, const char *path,
			const char *url, char **err)
{
	char *buf = NULL;
	size_t len = 0;
	int result = -1;

	if (path == NULL) {
		if ((buf = malloc(TLS_MAX_PIN + 1)) == NULL ||
		    tls_url_attr(url, "pin-value", buf, TLS_MAX_PIN + 1) < 0) {
			free(buf);
			return 0;   /* no PIN given */
		}
		len = strlen(buf);
		k->pin_from_url = 1;
		path = "the URL's pin-value";
	} else if (tls_read_file(path, TLS_MAX_PIN, &buf, &len, err) < 0) {
		return -1;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len == 0)
		*err = str_printf("%s holds no PIN", path);
	else if (memchr(buf, '\0', len) != NULL ||
		 memchr(buf, '\n', len) != NULL)
		*err = str_printf("%s: the PIN must be one line of text", path);
	else {
		memcpy(k->pin, buf, len);
		k->pin[len] = '\0';
		k->pin_len = len;
		k->have_pin = 1;
		result = 0;
	}
	gnutls_memset(buf, 0, len);
	free(buf);
	return result;
}

/* After a successful import: remember the PIN the token was logged in
 * with, or say why this key's PIN was not checked. */
static void p11_note_login(struct tls_p11key *k)
{
	unsigned char h[32];
	size_t i;

	if (!k->have_pin ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, k->pin, k->pin_len, h) < 0)
		return;
	for (i = 0; i < n_logins; i++)
		if (strcmp(logins[i].token, k->token) == 0)
			break;
	if (__atomic_load_n(&k->pin_asked, __ATOMIC_RELAXED)) {
		if (i == n_logins && n_logins < TLS_MAX_P11_TOKENS)
			n_logins++;
		if (i < n_logins) {
			snprintf(logins[i].token, sizeof(logins[i].token),
				 "%s", k->token);
			memcpy(logins[i].pin_hash, h, sizeof(h));
		}
	} else if (i == n_logins) {
		k->pin_note = "the token did not ask for the PIN, so it was "
			      "not checked";
	} else if (memcmp(logins[i].pin_hash, h, sizeof(h)) != 0) {
		k->pin_note = "the token is logged in with another PIN, so "
			      "this one was not checked: a wrong PIN shows "
			      "at the next start (spaprovctl check tests it "
			      "now)";
	}
	gnutls_memset(h, 0, sizeof(h));
}

/* Why gnutls_privkey_import_url() failed, in the operator's words. */
static char *p11_import_error(const struct tls_p11key *k, int rc,
			      const char *pin_file)
{
	char desc[256];

	url_describe(k->url, desc, sizeof(desc));
	if (rc == GNUTLS_E_PKCS11_PIN_ERROR && !k->have_pin)
		return str_printf("token '%s' needs a PIN: set key_pin_file",
			   k->token);
	if (rc == GNUTLS_E_PKCS11_PIN_ERROR)
		return str_printf("wrong PIN for token '%s' (from %s)%s", k->token,
			   k->pin_from_url ? "the URL's pin-value" : pin_file,
			   k->pin_final ? "; the token says the next wrong "
					  "PIN may lock it" : "");
	if (rc == GNUTLS_E_PKCS11_PIN_LOCKED)
		return str_printf("the PIN of token '%s' is locked", k->token);
	if (rc == GNUTLS_E_PKCS11_PIN_EXPIRED)
		return str_printf("the PIN of token '%s' has expired", k->token);
	if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return str_printf("no such object: no private key in %s", desc);
	if (rc == GNUTLS_E_PKCS11_REQUESTED_OBJECT_NOT_AVAILBLE)
		return str_printf("token not found: %s", desc);
	return str_printf("cannot use the PKCS#11 key (%s): %s", desc,
		   gnutls_strerror(rc));
}

/* The certificate's public key is the token key's. */
static int p11_check_match(struct tls_p11key *k, const char *cert_path,
			   char **err)
{
	gnutls_pubkey_t pub = NULL;
	unsigned char crt_id[32];
	size_t n_crt = sizeof(crt_id);
	char desc[256];
	int rc, result = -1;

	url_describe(k->url, desc, sizeof(desc));
	k->key_id_len = sizeof(k->key_id);
	if ((rc = gnutls_pubkey_init(&pub)) < 0 ||
	    (rc = gnutls_pubkey_import_privkey(pub, k->keys[0], 0, 0)) < 0 ||
	    (rc = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256,
					   k->key_id, &k->key_id_len)) < 0) {
		*err = str_printf("cannot read the public key of %s: %s", desc,
			   gnutls_strerror(rc));
		goto out;
	}
	if (gnutls_pubkey_get_key_id(k->pcerts[0].pubkey,
				     GNUTLS_KEYID_USE_SHA256, crt_id,
				     &n_crt) < 0 ||
	    n_crt != k->key_id_len || memcmp(crt_id, k->key_id, n_crt) != 0) {
		*err = str_printf("mismatch: the key in %s is not the one the "
			   "certificate %s certifies", desc, cert_path);
		goto out;
	}
	result = 0;
out:
	gnutls_pubkey_deinit(pub);
	return result;
}

/* The URL names a private key, and the PIN comes from one place. */
static int p11_check_url(const char *url, const char *pin_file,
			 enum tls_p11_what *what, char **err)
{
	char type[16];
	const char *v;
	size_t vlen;

	if (!gnutls_url_is_supported(url)) {
		*err = str_printf("this GnuTLS does not support PKCS#11 URLs");
		return -1;
	}
	if (tls_url_attr(url, "type", type, sizeof(type)) == 0 &&
	    strcmp(type, "private") != 0) {
		*err = str_printf("the URL names a type=%s object: the key must be "
			   "type=private", type);
		return -1;
	}
	if (pin_file != NULL && url_find(url, "pin-value", &v, &vlen) == 0) {
		*what = TLS_P11_PIN_FILE;
		*err = str_printf("the key URL has a pin-value too: give the PIN "
			   "once (key_pin_file preferred)");
		return -1;
	}
	return 0;
}

static int p11_import(struct tls_p11key *k, unsigned n_handles,
		      const char *pin_file, char **err)
{
	int rc;

	for (unsigned i = 0; i < n_handles; i++) {
		if ((rc = gnutls_privkey_init(&k->keys[i])) < 0) {
			*err = str_printf("%s", gnutls_strerror(rc));
			return -1;
		}
		k->n_keys++;
		gnutls_privkey_set_pin_function(k->keys[i], p11_pin, k);
		rc = gnutls_privkey_import_url(k->keys[i], k->url, 0);
		if (rc < 0) {
			*err = p11_import_error(k, rc, pin_file);
			return -1;
		}
	}
	return 0;
}

int tls_p11_open(const char *module, const char *url, const char *pin_file,
		 const char *cert_pem, const char *cert_path,
		 unsigned n_handles, struct tls_p11key **out,
		 enum tls_p11_what *what, char **err)
{
	struct tls_p11key *k = calloc(1, sizeof(*k));
	gnutls_datum_t d;
	unsigned n = TLS_MAX_CHAIN;
	int rc;

	*what = TLS_P11_KEY;
	*out = NULL;
	if (k == NULL || (k->url = url_without_pin(url)) == NULL) {
		*err = str_printf("out of memory");
		goto fail;
	}
	if (n_handles < 1 || n_handles > TLS_MAX_P11_KEYS)
		n_handles = n_handles < 1 ? 1 : TLS_MAX_P11_KEYS;
	d.data = (unsigned char *)cert_pem;
	d.size = (unsigned)strlen(cert_pem);
	rc = gnutls_pcert_list_import_x509_raw(
		k->pcerts, &n, &d, GNUTLS_X509_FMT_PEM,
		GNUTLS_X509_CRT_LIST_IMPORT_FAIL_IF_EXCEED);
	if (rc < 0 || n == 0) {
		*what = TLS_P11_CERT;
		*err = rc == GNUTLS_E_SHORT_MEMORY_BUFFER
			       ? str_printf("%s holds more than %d certificates",
				     cert_path, TLS_MAX_CHAIN)
			       : str_printf("%s: not a PEM certificate: %s",
				     cert_path, gnutls_strerror(rc));
		goto fail;
	}
	k->n_pcerts = n;
	if (p11_check_url(url, pin_file, what, err) < 0)
		goto fail;
	if (p11_read_pin(k, pin_file, url, err) < 0) {
		*what = TLS_P11_PIN_FILE;
		goto fail;
	}
	if (p11_load(module, err) < 0) {
		*what = module ? TLS_P11_MODULE : TLS_P11_KEY;
		goto fail;
	}
	if (p11_find_token(k, module, err) < 0 ||
	    p11_import(k, n_handles, pin_file, err) < 0 ||
	    p11_check_match(k, cert_path, err) < 0)
		goto fail;
	p11_note_login(k);
	*out = k;
	return 0;
fail:
	tls_p11_free(k);
	return -1;
}

void tls_p11_free(struct tls_p11key *k)
{
	if (k == NULL)
		return;
	pthread_mutex_lock(&bind_lock);
	for (size_t i = 0; i < TLS_MAX_P11_BINDINGS; i++)
		if (bindings[i].key == k)
			bindings[i].key = NULL, bindings[i].cred = NULL;
	pthread_mutex_unlock(&bind_lock);
	for (unsigned i = 0; i < k->n_keys; i++)
		gnutls_privkey_deinit(k->keys[i]);
	for (unsigned i = 0; i < k->n_pcerts; i++)
		gnutls_pcert_deinit(&k->pcerts[i]);
	gnutls_memset(k->pin, 0, sizeof(k->pin));
	free(k->url);
	free(k);
}

int tls_p11_check_use(struct tls_p11key *k, char **err)
{
	static const char probe[] = "spaprov: can this process use the key?";
	gnutls_datum_t data = { (unsigned char *)probe, sizeof(probe) - 1 };
	gnutls_datum_t sig = { NULL, 0 };
	gnutls_sign_algorithm_t alg;
	int rc = 0;

	for (unsigned i = 0; i < k->n_keys && rc >= 0; i++) {
		alg = gnutls_pk_to_sign(
			gnutls_privkey_get_pk_algorithm(k->keys[i], NULL),
			GNUTLS_DIG_SHA256);
		rc = gnutls_privkey_sign_data(k->keys[i], GNUTLS_DIG_SHA256, 0,
					      &data, &sig);
		if (rc >= 0)
			rc = gnutls_pubkey_verify_data2(k->pcerts[0].pubkey,
							alg, 0, &data, &sig);
		gnutls_free(sig.data);
		sig.data = NULL;
	}
	if (rc >= 0)
		return 0;
	*err = str_printf("the key in token '%s' does not work for this process "
		   "(uid %u): %s; the user spaprovd runs as must be able to "
		   "use the token (SoftHSM2: read its token directory)",
		   k->token, (unsigned)getuid(), gnutls_strerror(rc));
	return -1;
}

const char *tls_p11_token(const struct tls_p11key *k)
{
	return k->token;
}

const char *tls_p11_pin_note(const struct tls_p11key *k)
{
	return k->pin_note;
}

int tls_p11_bind(struct tls_p11key *k, gnutls_session_t session)
{
	void *cred = NULL;
	size_t i, free_slot = TLS_MAX_P11_BINDINGS;
	int result = -1;

	if (gnutls_credentials_get(session, GNUTLS_CRD_CERTIFICATE, &cred) <
		    0 ||
	    cred == NULL)
		return -1;
	pthread_mutex_lock(&bind_lock);
	for (i = 0; i < TLS_MAX_P11_BINDINGS; i++) {
		if (bindings[i].cred == cred)
			break;
		if (bindings[i].cred == NULL &&
		    free_slot == TLS_MAX_P11_BINDINGS)
			free_slot = i;
	}
	if (i == TLS_MAX_P11_BINDINGS)
		i = free_slot;
	if (i < TLS_MAX_P11_BINDINGS) {
		bindings[i].cred = cred;
		bindings[i].key = k;
		result = 0;
	}
	pthread_mutex_unlock(&bind_lock);
	return result;
}

int tls_p11_retrieve(gnutls_session_t session,
		     const struct gnutls_cert_retr_st *info,
		     gnutls_pcert_st **certs, unsigned int *n_certs,
		     gnutls_ocsp_data_st **ocsp, unsigned int *n_ocsp,
		     gnutls_privkey_t *key, unsigned int *flags)
{
	struct tls_p11key *k = NULL;
	unsigned i;

	(void)session;
	pthread_mutex_lock(&bind_lock);
	for (i = 0; i < TLS_MAX_P11_BINDINGS && k == NULL; i++)
		if (bindings[i].cred == info->cred)
			k = bindings[i].key;
	pthread_mutex_unlock(&bind_lock);
	if (k == NULL)
		return -1;
	i = __atomic_fetch_add(&k->next, 1, __ATOMIC_RELAXED) % k->n_keys;
	*certs = k->pcerts;
	*n_certs = k->n_pcerts;
	*ocsp = NULL;
	*n_ocsp = 0;
	*key = k->keys[i];
	*flags = 0;
	return 0;
}

int tls_material_same_key(const struct tls_material *a,
			  const struct tls_material *b)
{
	if (a->p11 == NULL && b->p11 == NULL)
		return (a->key_pem == NULL && b->key_pem == NULL) ||
		       (a->key_pem != NULL && b->key_pem != NULL &&
			strcmp(a->key_pem, b->key_pem) == 0);
	return a->p11 != NULL && b->p11 != NULL &&
	       strcmp(a->p11->url, b->p11->url) == 0 &&
	       a->p11->key_id_len == b->p11->key_id_len &&
	       memcmp(a->p11->key_id, b->p11->key_id, a->p11->key_id_len) == 0;
}

/* ---- loading --------------------------------------------------------- */

static int check_priority(const char *prio, char **err)
{
	gnutls_priority_t p = NULL;
	const char *where = NULL;
	int rc = gnutls_priority_init(&p, prio, &where);

	if (rc < 0) {
		*err = str_printf("invalid GnuTLS priority string at \"%.40s\": %s",
			   where ? where : prio, gnutls_strerror(rc));
		return -1;
	}
	gnutls_priority_deinit(p);
	return 0;
}

static int located(const struct conf *conf, int line, const char *key,
		   char **err)
{
	char *inner = *err;

	*err = str_printf("%s:%d: %s: %s", conf->path, line, key, inner);
	free(inner);
	return -1;
}

/* The listener's key is on a PKCS#11 token: one handle per thread. */
static int load_p11(const struct conf *conf, const struct conf_listener *l,
		    struct tls_material *m, char **err)
{
	enum tls_p11_what what;

	if (tls_p11_open(conf->pkcs11_module, l->key, l->key_pin_file,
			 m->cert_pem, l->certificate, l->threads, &m->p11,
			 &what, err) == 0) {
		if (tls_p11_pin_note(m->p11) != NULL)
			log_warn("msg=\"PIN not checked: %s\" listener=%s "
				 "token=\"%s\"", tls_p11_pin_note(m->p11),
				 l->name, tls_p11_token(m->p11));
		return 0;
	}
	if (what == TLS_P11_PIN_FILE)
		located(conf, l->line_key_pin_file, "key_pin_file", err);
	else if (what == TLS_P11_MODULE)
		located(conf, conf->line_pkcs11_module, "pkcs11_module", err);
	else if (what == TLS_P11_CERT)
		located(conf, l->line_certificate, "certificate", err);
	else
		located(conf, l->line_key, "key", err);
	return -1;
}

int tls_material_load(const struct conf *conf, const struct conf_listener *l,
		      struct tls_material *m, char **err)
{
	int which = 0;

	memset(m, 0, sizeof(*m));
	m->priority = strdup(l->tls_priority ? l->tls_priority
					     : default_priority[l->ca]);
	if (m->priority == NULL)
		goto nomem;
	if (check_priority(m->priority, err) < 0) {
		located(conf, l->line_priority ? l->line_priority
					       : l->line_section,
			"tls_priority", err);
		goto fail;
	}
	if (tls_read_file(l->certificate, TLS_MAX_PEM, &m->cert_pem, NULL,
			  err) < 0) {
		located(conf, l->line_certificate, "certificate", err);
		goto fail;
	}
	if (tls_key_is_url(l->key)) {
		if (load_p11(conf, l, m, err) < 0)
			goto fail;
	} else if (tls_read_file(l->key, TLS_MAX_PEM, &m->key_pem, NULL,
				 err) < 0) {
		located(conf, l->line_key, "key", err);
		goto fail;
	} else if (check_cert_key(m, l->certificate, l->key, err, &which) <
		   0) {
		located(conf, which ? l->line_key : l->line_certificate,
			which ? "key" : "certificate", err);
		goto fail;
	}
	if (l->dh_params != NULL) {
		if (dh_file(l->dh_params, &m->dh_pem, &m->dh_bits, err) < 0) {
			located(conf, l->line_dh, "dh_params", err);
			goto fail;
		}
	} else {
		m->dh_bits = l->dh_bits ? l->dh_bits : 1024;
		if (dh_for_bits(m->dh_bits, &m->dh_pem, err) < 0) {
			located(conf, l->line_dh ? l->line_dh : l->line_section,
				"dh_bits", err);
			goto fail;
		}
	}
	return 0;
nomem:
	*err = str_printf("out of memory");
fail:
	tls_material_free(m);
	return -1;
}

void tls_material_free(struct tls_material *m)
{
	free(m->cert_pem);
	if (m->key_pem != NULL)
		gnutls_memset(m->key_pem, 0, strlen(m->key_pem));
	free(m->key_pem);
	tls_p11_free(m->p11);
	free(m->dh_pem);
	free(m->priority);
	memset(m, 0, sizeof(*m));
}
