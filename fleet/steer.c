#include "config.h"

/* fleet/steer: the CA table (DOMAIN.md s.1) and the Profile_Rule it
 * yields.
 *
 * Families are matched on the model with everything but letters and
 * digits removed, in upper case ("SPA-525G2" -> "SPA525G2",
 * "CP-8841-3PCC" -> "CP88413PCC").  Each family lists the CAs its firmware
 * trusts, best first; versioned families have a second list for firmware
 * before a version (or of unknown version).  The Linksys CA expired in
 * June 2015 and SPA50x firmware 7.6.2 and later enforces certificate
 * dates, so no SPA5xx list holds linksys at all (an SPA5xx that trusts it
 * today stops the day it is upgraded). */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "fleet/steer.h"

#define END CONF_CA__COUNT      /* ends a list of CAs */

struct steer_family {
	const char *name;        /* in reasons */
	const char *prefix;      /* the normalised model starts with it, */
	int digits;              /* then exactly this many digits (-1: any), */
	const char *suffix;      /* and ends with this (NULL: anything) */
	const char *min_fw;      /* `newer` from this version; NULL: no split */
	enum conf_ca newer[STEER_MAX_CAS + 1];
	enum conf_ca older[STEER_MAX_CAS + 1]; /* before min_fw, or unknown */
};

/* Order matters where prefixes overlap (PAP2T before PAP2).  Fallbacks
 * after the first CA are CAs the same table or the field tests list for
 * the family (e.g. SPA112 1.3.1 accepts Linksys, Sipura and SB). */
static const struct steer_family families[] = {
	{ "MPP (CP-xxxx-3PCC)", "CP", 4, "3PCC", NULL,
	  { END }, { CONF_CA_MPP, CONF_CA_SB2K, END } },
	{ "SPA5xx", "SPA5", 2, NULL, "7.5.6",
	  { CONF_CA_SB2K, CONF_CA_SB, CONF_CA_SIPURA, END },
	  { CONF_CA_SB, CONF_CA_SIPURA, END } },
	{ "SPA1xx", "SPA1", 2, NULL, "1.3.3",
	  { CONF_CA_SB2K, CONF_CA_SB, END },
	  { CONF_CA_SB, CONF_CA_SIPURA, CONF_CA_LINKSYS, END } },
	{ "SPA232D", "SPA232", -1, NULL, "1.3.3",
	  { CONF_CA_SB2K, CONF_CA_SB, END }, { CONF_CA_SB, END } },
	{ "SPA30x", "SPA30", 1, NULL, NULL,
	  { END }, { CONF_CA_SB, CONF_CA_SIPURA, END } },
	{ "SRP5xx", "SRP5", 2, NULL, NULL, { END }, { CONF_CA_SB, END } },
	{ "PAP2T", "PAP2T", -1, NULL, NULL, { END }, { CONF_CA_SIPURA, END } },
	{ "PAP2", "PAP2", -1, NULL, NULL, { END }, { CONF_CA_LINKSYS, END } },
	{ "WRTP", "WRTP", -1, NULL, NULL, { END }, { CONF_CA_LINKSYS, END } },
	{ "RTP", "RTP", -1, NULL, NULL, { END }, { CONF_CA_LINKSYS, END } },
	{ "WRP400", "WRP400", -1, NULL, NULL, { END },
	  { CONF_CA_SIPURA, END } },
	{ "SPA2xxx", "SPA2", 3, NULL, NULL, { END }, { CONF_CA_SIPURA, END } },
	{ "SPA3xxx", "SPA3", 3, NULL, NULL, { END }, { CONF_CA_SIPURA, END } },
	{ "SPA9xx", "SPA9", 2, NULL, NULL, { END }, { CONF_CA_SIPURA, END } },
};

#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

/* --- versions ------------------------------------------------------------ */

enum vkind { V_END = 0, V_NUM, V_ALPHA };

struct vtok {
	enum vkind kind;
	const char *s;   /* digits without leading zeros, or letters */
	size_t len;
};

/* The next digit or letter run of [*p, end); other bytes separate. */
static void vnext(const char **p, const char *end, struct vtok *t)
{
	const char *s = *p;

	while (s < end && !isalnum((unsigned char)*s))
		s++;
	t->kind = V_END;
	t->s = s;
	t->len = 0;
	if (s == end) {
		*p = s;
		return;
	}
	if (isdigit((unsigned char)*s)) {
		t->kind = V_NUM;
		while (s < end && *s == '0')
			s++;
		t->s = s;
		while (s < end && isdigit((unsigned char)*s))
			s++;
	} else {
		t->kind = V_ALPHA;
		while (s < end && isalpha((unsigned char)*s))
			s++;
	}
	t->len = (size_t)(s - t->s);
	*p = s;
}

static int vtok_cmp(const struct vtok *a, const struct vtok *b)
{
	size_t n = a->len < b->len ? a->len : b->len;

	if (a->kind == V_NUM) {
		if (a->len != b->len)
			return a->len < b->len ? -1 : 1;
		return memcmp(a->s, b->s, a->len);
	}
	for (size_t i = 0; i < n; i++) {
		int x = toupper((unsigned char)a->s[i]);
		int y = toupper((unsigned char)b->s[i]);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return a->len == b->len ? 0 : a->len < b->len ? -1 : 1;
}

int steer_version_cmp(const char *a, const char *b)
{
	const char *ea = a + strnlen(a, STEER_MAX_VERSION);
	const char *eb = b + strnlen(b, STEER_MAX_VERSION);
	struct vtok x, y;
	int c;

	for (;;) {
		vnext(&a, ea, &x);
		vnext(&b, eb, &y);
		if (x.kind == V_END || y.kind == V_END)
			return x.kind == y.kind ? 0 : x.kind == V_END ? -1 : 1;
		if (x.kind != y.kind)
			return x.kind == V_NUM ? 1 : -1;
		if ((c = vtok_cmp(&x, &y)) != 0)
			return c < 0 ? -1 : 1;
	}
}

int steer_version_valid(const char *s)
{
	return s != NULL && isdigit((unsigned char)s[0]) &&
	       strnlen(s, STEER_MAX_VERSION + 1) <= STEER_MAX_VERSION;
}

/* --- the table ----------------------------------------------------------- */

/* Upper-case letters and digits of model; -1 if empty or too long. */
static int normalise(const char *model, char out[STEER_MAX_MODEL + 1])
{
	size_t n = 0;

	if (model == NULL || strnlen(model, STEER_MAX_MODEL + 1) >
				     STEER_MAX_MODEL)
		return -1;
	for (const char *p = model; *p != '\0'; p++)
		if (isalnum((unsigned char)*p))
			out[n++] = (char)toupper((unsigned char)*p);
	out[n] = '\0';
	return n > 0 ? 0 : -1;
}

static int family_match(const struct steer_family *f, const char *m)
{
	size_t n = strlen(m), plen = strlen(f->prefix), d = 0;
	size_t slen = f->suffix != NULL ? strlen(f->suffix) : 0;

	if (n < plen + slen || strncmp(m, f->prefix, plen) != 0)
		return 0;
	if (slen > 0 && strcmp(m + n - slen, f->suffix) != 0)
		return 0;
	if (f->digits < 0)
		return 1;
	while (plen + d < n - slen && isdigit((unsigned char)m[plen + d]))
		d++;
	if (d != (size_t)f->digits)
		return 0;
	return slen == 0 || plen + d == n - slen;
}

static void copy_cas(const enum conf_ca *list, struct steer_advice *out)
{
	out->n_cas = 0;
	for (size_t i = 0; i < STEER_MAX_CAS && list[i] != END; i++)
		out->cas[out->n_cas++] = list[i];
}

static const struct steer_family *find_family(const char *model)
{
	char m[STEER_MAX_MODEL + 1];

	if (normalise(model, m) < 0)
		return NULL;
	for (size_t i = 0; i < N_FAMILIES; i++)
		if (family_match(&families[i], m))
			return &families[i];
	return NULL;
}

int steer_lookup(const char *model, const char *firmware,
		 struct steer_advice *out)
{
	const struct steer_family *f = find_family(model);

	memset(out, 0, sizeof(*out));
	if (f == NULL)
		return -1;
	out->family = f->name;
	if (f->min_fw != NULL && steer_version_valid(firmware)) {
		out->firmware_known = 1;
		copy_cas(steer_version_cmp(firmware, f->min_fw) >= 0
				 ? f->newer : f->older, out);
	} else {
		copy_cas(f->older, out);
	}
	return 0;
}

/* --- the configuration --------------------------------------------------- */

static const struct conf_listener *first_listener(const struct conf *conf,
						  enum conf_ca ca)
{
	/* only mutual-TLS listeners identify phones by certificate */
	for (size_t i = 0; i < conf->n_listeners; i++)
		if (conf->listeners[i].ca == ca &&
		    conf->listeners[i].mode == CONF_MODE_MUTUAL)
			return &conf->listeners[i];
	return NULL;
}

/* "(SPA5xx firmware from 7.5.6)", "(SPA1xx firmware before 1.3.3)",
 * "(SPA5xx firmware unknown: as before 7.5.6)" or "(PAP2)". */
static void why_family(const struct steer_family *f,
		       const struct steer_advice *a, const char *firmware,
		       char *buf, size_t size)
{
	if (f->min_fw == NULL)
		snprintf(buf, size, "(%s)", f->name);
	else if (!a->firmware_known)
		snprintf(buf, size, "(%s firmware unknown: as before %s)",
			 f->name, f->min_fw);
	else
		snprintf(buf, size, "(%s firmware %s %s)", f->name,
			 steer_version_cmp(firmware, f->min_fw) >= 0
				 ? "from" : "before", f->min_fw);
}

/* The CAs before index `chosen` that no listener serves, as
 * "; no mpp listener". */
static void why_skipped(const struct steer_advice *a, size_t chosen,
			char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < chosen && len < size; i++) {
		int n = snprintf(buf + len, size - len, "; no %s listener",
				 conf_ca_name(a->cas[i]));

		if (n < 0)
			break;
		len += (size_t)n;
	}
}

void steer_recommend(const struct conf *conf, const char *model,
		     const char *firmware, struct steer_advice *out)
{
	const struct steer_family *f = find_family(model);
	char fam[96], skipped[96];
	size_t i;

	if (steer_lookup(model, firmware, out) < 0) {
		if (model == NULL || model[0] == '\0')
			snprintf(out->reason, sizeof(out->reason),
				 "model unknown");
		else
			snprintf(out->reason, sizeof(out->reason),
				 "no CA known for model %.64s", model);
		return;
	}
	why_family(f, out, firmware, fam, sizeof(fam));
	for (i = 0; i < out->n_cas; i++)
		if ((out->listener = first_listener(conf, out->cas[i])) != NULL)
			break;
	out->have_ca = 1;
	out->ca = out->cas[i < out->n_cas ? i : 0];
	if (out->listener == NULL) {
		snprintf(out->reason, sizeof(out->reason),
			 "model %.64s needs the %s CA %s, which no listener "
			 "has", model, conf_ca_name(out->ca), fam);
		return;
	}
	why_skipped(out, i, skipped, sizeof(skipped));
	snprintf(out->reason, sizeof(out->reason),
		 "model %.64s%s%.64s trusts the %s CA %s%s", model,
		 out->firmware_known ? " firmware " : "",
		 out->firmware_known ? firmware : "", conf_ca_name(out->ca),
		 fam, skipped);
}

int steer_misplaced(const struct conf *conf, const char *model,
		    const char *firmware, const char *last_ca,
		    struct steer_advice *out)
{
	steer_recommend(conf, model, firmware, out);
	return out->have_ca && last_ca != NULL &&
	       strcmp(last_ca, conf_ca_name(out->ca)) != 0;
}

/* --- hosts --------------------------------------------------------------- */

struct steer_host {
	char *name;
	enum conf_ca ca;
	unsigned port;           /* as configured */
	unsigned bound;          /* for port 0: the one it got (atomic) */
	char *host;              /* NULL: no usable CN */
};

struct steer_hosts {
	char *path;              /* profile_path */
	size_t n;
	struct steer_host v[CONF_MAX_LISTENERS];
};

void steer_hosts_free(struct steer_hosts *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].host);
	}
	free(h->path);
	free(h);
}

/* A host name phones can use: letters, digits, '.' and '-'. */
static int host_ok(const char *s, size_t len)
{
	return len > 0 && len <= STEER_MAX_HOST && s[0] != '-' &&
	       s[0] != '.' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789.-") >= len;
}

/* At most STEER_MAX_CERT_FILE bytes of path; -1 if that fails. */
static int read_cert_file(const char *path, gnutls_datum_t *out)
{
	FILE *f = path != NULL ? fopen(path, "rb") : NULL;
	size_t n = 0;
	int ret = -1;

	out->data = malloc(STEER_MAX_CERT_FILE + 1);
	if (f == NULL || out->data == NULL)
		goto out;
	n = fread(out->data, 1, STEER_MAX_CERT_FILE + 1, f);
	if (ferror(f) || n > STEER_MAX_CERT_FILE)
		goto out;
	out->size = (unsigned)n;
	ret = 0;
out:
	if (f != NULL)
		fclose(f);
	if (ret < 0) {
		free(out->data);
		out->data = NULL;
	}
	return ret;
}

/* The subject CN of the first certificate in a PEM file, up to a '/'
 * (phones ignore the rest); NULL when the file cannot be read or parsed
 * or has no usable CN (the TLS setup reports a bad file, `spaprovctl
 * check` a bad CN).  -1 only when out of memory. */
static int cert_host(const char *path, char **host)
{
	gnutls_datum_t pem = { NULL, 0 };
	gnutls_x509_crt_t crt = NULL;
	char cn[STEER_MAX_HOST + 2];
	size_t size = sizeof(cn);
	int ret = 0;

	*host = NULL;
	if (read_cert_file(path, &pem) < 0 || gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					  0, cn, &size) < 0)
		goto out;
	cn[strcspn(cn, "/")] = '\0';
	if (host_ok(cn, strlen(cn)) && (*host = strdup(cn)) == NULL)
		ret = -1;
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	free(pem.data);
	return ret;
}

int steer_hosts_load(const struct conf *conf, struct steer_hosts **out,
		     char **err)
{
	struct steer_hosts *h = calloc(1, sizeof(*h));
	const char *path = conf->profile_path != NULL ? conf->profile_path
						      : CONF_DEF_PROFILE_PATH;

	*err = NULL;
	if (h == NULL || (h->path = strdup(path)) == NULL)
		goto fail;
	for (size_t i = 0; i < conf->n_listeners; i++) {
		const struct conf_listener *cl = &conf->listeners[i];
		struct steer_host *e = &h->v[h->n++];

		e->ca = cl->ca;
		e->port = cl->port;
		if ((e->name = strdup(cl->name)) == NULL)
			goto fail;
		if (conf->public_name != NULL) {
			if ((e->host = strdup(conf->public_name)) == NULL)
				goto fail;
		} else if (cert_host(cl->certificate, &e->host) < 0) {
			goto fail;
		}
	}
	*out = h;
	return 0;
fail:
	*err = strdup("out of memory");
	steer_hosts_free(h);
	return -1;
}

static int str_same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int steer_hosts_same(const struct steer_hosts *a,
		     const struct steer_hosts *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->n != b->n || strcmp(a->path, b->path) != 0)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, b->v[i].name) != 0 ||
		    a->v[i].ca != b->v[i].ca || a->v[i].port != b->v[i].port ||
		    !str_same(a->v[i].host, b->v[i].host))
			return 0;
	return 1;
}

static const struct steer_host *host_find(const struct steer_hosts *h,
					  const char *name)
{
	for (size_t i = 0; h != NULL && name != NULL && i < h->n; i++)
		if (strcmp(h->v[i].name, name) == 0)
			return &h->v[i];
	return NULL;
}

void steer_hosts_bound(struct steer_hosts *h, const char *name,
		       unsigned port)
{
	struct steer_host *e = (struct steer_host *)host_find(h, name);

	if (e != NULL)
		__atomic_store_n(&e->bound, port, __ATOMIC_RELAXED);
}

const char *steer_profile_rule(const struct steer_hosts *h, const char *name,
			       char *buf, size_t size, const char **why)
{
	const struct steer_host *e = host_find(h, name);
	unsigned port;
	int n;

	if (e == NULL) {
		*why = "no such listener";
		return NULL;
	}
	if (e->host == NULL) {
		*why = "no host name in the listener's certificate (no usable "
		       "CN, or unreadable): set public_name in [server]";
		return NULL;
	}
	port = e->port != 0 ? e->port
			    : __atomic_load_n(&e->bound, __ATOMIC_RELAXED);
	if (port == 0) {
		*why = "the listener has port 0 (any free port): its port is "
		       "known only to the running spaprovd";
		return NULL;
	}
	n = snprintf(buf, size, "https://%s:%u%s", e->host, port, h->path);
	if (n < 0 || (size_t)n >= size) {
		*why = "the URL is too long";
		return NULL;
	}
	return buf;
}

const char *steer_rule_for(const struct conf *conf,
			   const struct steer_hosts *h,
			   const struct conf_listener *current,
			   const char *model, const char *firmware,
			   char *buf, size_t size, const char **why)
{
	struct steer_advice a;
	const struct conf_listener *cl;

	steer_recommend(conf, model, firmware, &a);
	cl = a.listener != NULL ? a.listener : current;
	if (cl == NULL) {
		*why = "no recommended listener and none in use";
		return NULL;
	}
	return steer_profile_rule(h, cl->name, buf, size, why);
}
