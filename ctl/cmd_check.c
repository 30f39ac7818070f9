#include "config.h"

/* spaprovctl check: validate the whole configuration without starting
 * anything.  Beyond what conf_load() checks (syntax, files readable), it
 * looks at what only the phones would notice: the server certificate's CN
 * and issuer, its dates, key and signature hash, the DH size and priority
 * string per listener, and the client-root bundle (DOMAIN.md s.1-3, 6).
 *
 * The provisioning roots themselves are compiled into the firmware and
 * never available to us, so the issuer check compares the issuer CN with
 * the names of Cisco's roots; that is as far as we can go. */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>

#include "util/str.h"
#include "conf/conf.h"
#include "ctl/ctl.h"
#include "ctl/fqdn.h"
#include "server/tls.h"

#define CHECK_MAX_PEM (256u * 1024)   /* certificate, key or DH file */
#define CHECK_MAX_BUNDLE (4u << 20)   /* one client-root file */
#define CHECK_MAX_CHAIN 8             /* certificates in a listener's file */
#define CHECK_MAX_ROOTS 256           /* certificates in one root file */
#define CHECK_MAX_DN 512              /* bytes of a CN or O we look at */
#define CHECK_WARN_DAYS 30            /* warn when expiry is closer */
#define CHECK_MIN_KEY_BITS 1024
#define CHECK_LEGACY_DH_BITS 1024     /* largest DH group old firmware takes */
#define CHECK_DEFAULT_DH_BITS 1024    /* what tls_material_load() uses */
#define SHA256_HEX_LEN (32 * 3)       /* "AB:CD:..." plus NUL */

#define DEFAULT_CLIENT_ROOTS SPAPROV_PKGDATADIR "/client-roots.pem"
/* Every certificate of `spaprovctl lab-pki` carries this in its O. */
#define LAB_PKI_ORG "spaprov lab PKI"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Issuer CN of server certificates per CA (DOMAIN.md s.1).  mpp has no
 * fixed name: see issuer_is(). */
static const char *const prov_root_cn[CONF_CA__COUNT] = {
	[CONF_CA_SIPURA] = "Sipura Technology Provisioning Root Authority 1",
	[CONF_CA_LINKSYS] = "Cisco Linksys Provisioning Root Authority 1",
	[CONF_CA_SB] = "Cisco Small Business Provisioning Root Authority 1",
	[CONF_CA_SB2K] = "Cisco Small Business Provisioning Root Authority 2",
	[CONF_CA_MPP] = NULL,
};

/* Client roots seen in the field (DOMAIN.md s.2) and the phones a bundle
 * without them cannot identify. */
static const struct known_root {
	const char *cn;
	const char *phones;
	const char *sha256;   /* fingerprint of Cisco's root if we know it */
} known_roots[] = {
	{ "Sipura Technology Client Root Authority 1",
	  "Sipura-era units (PAP2T, SPA2102/3102, SPA9xx and relatives)",
	  NULL },
	{ "Cisco Small Business Client Root Authority 1",
	  "most SPA and Linksys units made before 2014", NULL },
	{ "Cisco Small Business Client Root Authority 2",
	  "SPA5xx shipped with firmware 7.5.2 or later (from 2014)",
	  "49:81:EE:D4:BF:6D:93:76:69:36:5D:43:B8:84:47:8F:"
	  "05:1C:3B:28:AC:00:55:5A:49:AB:43:7C:43:53:F3:FC" },
	{ "Multiplatform Phone CA Client Root",
	  "Multiplatform phones (CP-78xx/88xx-3PCC)", NULL },
};

enum chk_level { CHK_INFO, CHK_WARNING, CHK_ERROR };

struct chk {
	const struct conf *conf;
	int json;
	json_t *doc;          /* JSON mode: the document */
	json_t *obj;          /* where facts go (borrowed) */
	json_t *msgs;         /* where messages go (borrowed) */
	const char *indent;   /* text mode */
	unsigned errors, warnings;
	time_t now;
};

/* What a listener's priority string admits, for the DH checks. */
struct prio_info {
	int valid;
	int dhe;     /* a DHE key exchange is enabled */
	int ffdhe;   /* the RFC 7919 groups are enabled */
};

/* ---- output: text lines or one JSON document ---------------------------- */

/* A JSON string even for bytes that are not UTF-8. */
static json_t *jstr(const char *s)
{
	json_t *v;
	char *copy;

	if (s == NULL)
		return json_null();
	if ((v = json_string(s)) != NULL || (copy = strdup(s)) == NULL)
		return v;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

static void chk_msg(struct chk *c, enum chk_level lv, const char *f, ...)
	__attribute__((format(printf, 3, 4)));

static void chk_msg(struct chk *c, enum chk_level lv, const char *f, ...)
{
	static const char *const label[] = { "INFO", "WARNING", "ERROR" };
	static const char *const jlabel[] = { "info", "warning", "error" };
	va_list ap;
	char *text = NULL;

	va_start(ap, f);
	if (vasprintf(&text, f, ap) < 0)
		text = NULL;
	va_end(ap);
	if (lv == CHK_ERROR)
		c->errors++;
	else if (lv == CHK_WARNING)
		c->warnings++;
	if (c->json)
		json_array_append_new(c->msgs,
				      json_pack("{s:s, s:o}", "level",
						jlabel[lv], "text",
						jstr(text ? text : "?")));
	else
		printf("%s%s: %s\n", c->indent, label[lv], text ? text : "?");
	free(text);
}

/* A fact: JSON mode stores v under key, text mode prints the line. */
static void chk_fact(struct chk *c, const char *key, json_t *v, const char *f,
		     ...) __attribute__((format(printf, 4, 5)));

static void chk_fact(struct chk *c, const char *key, json_t *v, const char *f,
		     ...)
{
	va_list ap;

	if (c->json) {
		json_object_set_new(c->obj, key, v ? v : json_null());
		return;
	}
	json_decref(v);
	fputs(c->indent, stdout);
	va_start(ap, f);
	vprintf(f, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* A fact only the JSON document carries. */
static void chk_json(struct chk *c, const char *key, json_t *v)
{
	if (c->json)
		json_object_set_new(c->obj, key, v ? v : json_null());
	else
		json_decref(v);
}

/* Start a new object in `array` that facts and messages go into. */
static void chk_section(struct chk *c, json_t *array)
{
	if (!c->json)
		return;
	c->obj = json_object();
	c->msgs = json_array();
	json_object_set_new(c->obj, "messages", c->msgs);
	json_array_append_new(array, c->obj);
}

/* ---- certificate helpers ------------------------------------------------ */

/* Control characters would reach the operator's terminal. */
static void clean_text(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* First value of a subject (or issuer) attribute, "" if absent. */
static void dn_attr(gnutls_x509_crt_t crt, int issuer, const char *oid,
		    char buf[CHECK_MAX_DN])
{
	size_t n = CHECK_MAX_DN;
	int rc = issuer ? gnutls_x509_crt_get_issuer_dn_by_oid(crt, oid, 0, 0,
							       buf, &n)
			: gnutls_x509_crt_get_dn_by_oid(crt, oid, 0, 0, buf,
							&n);

	if (rc < 0)
		buf[0] = '\0';
	buf[CHECK_MAX_DN - 1] = '\0';
	clean_text(buf);
}

static void fmt_date(time_t t, char buf[16])
{
	struct tm tm;

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 16, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, 16, "never");
}

/* Read up to *n PEM certificates of a file; *n becomes the count. */
static int load_certs(const char *path, size_t limit, gnutls_x509_crt_t *crts,
		      unsigned *n, char **err)
{
	char *pem = NULL;
	size_t len = 0;
	unsigned max = *n;
	gnutls_datum_t d;
	int rc;

	if (tls_read_file(path, limit, &pem, &len, err) < 0)
		return -1;
	d.data = (unsigned char *)pem;
	d.size = (unsigned)len;
	rc = gnutls_x509_crt_list_import(
		crts, n, &d, GNUTLS_X509_FMT_PEM,
		GNUTLS_X509_CRT_LIST_IMPORT_FAIL_IF_EXCEED);
	free(pem);
	if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
		*err = str_printf("%s holds more than %u certificates", path, max);
	else if (rc < 0)
		*err = str_printf("%s: not a PEM certificate: %s", path,
			    gnutls_strerror(rc));
	else if (rc == 0)
		*err = str_printf("%s holds no certificate", path);
	if (rc <= 0)
		return -1;
	*n = (unsigned)rc;
	return 0;
}

static void free_certs(gnutls_x509_crt_t *crts, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
}

/* "SHA256" -> "SHA-256" */
static void hash_name(gnutls_digest_algorithm_t dig, char buf[32])
{
	const char *name = gnutls_digest_get_name(dig);

	if (name == NULL)
		name = "unknown hash";
	if (strncmp(name, "SHA", 3) == 0 && name[3] >= '0' && name[3] <= '9')
		snprintf(buf, 32, "SHA-%s", name + 3);
	else
		snprintf(buf, 32, "%s", name);
}

static int self_signed(gnutls_x509_crt_t crt)
{
	return gnutls_x509_crt_check_issuer(crt, crt) != 0;
}

static int is_legacy(enum conf_ca ca)
{
	return ca == CONF_CA_SIPURA || ca == CONF_CA_LINKSYS ||
	       ca == CONF_CA_SB;
}

/* ---- a listener's certificate ------------------------------------------- */

/* Does this issuer CN belong to the CA's provisioning root? */
static int issuer_is(enum conf_ca ca, const char *cn)
{
	if (ca == CONF_CA_MPP)
		return strstr(cn, "Multiplatform") != NULL ||
		       strcmp(cn, prov_root_cn[CONF_CA_SB2K]) == 0;
	return strcmp(cn, prov_root_cn[ca]) == 0;
}

static const char *root_desc(enum conf_ca ca)
{
	return ca == CONF_CA_MPP ? "a Multiplatform provisioning root or "
				   "Cisco Small Business Provisioning Root "
				   "Authority 2"
				 : prov_root_cn[ca];
}

static void check_issuer(struct chk *c, const struct conf_listener *l,
			 const char *issuer)
{
	const char *ca = conf_ca_name(l->ca);

	if (issuer_is(l->ca, issuer))
		return;
	for (unsigned k = 0; k < CONF_CA__COUNT; k++) {
		if (k != l->ca && issuer_is(k, issuer)) {
			chk_msg(c, CHK_ERROR, "issuer CN '%s' is not the %s "
				"provisioning root (it is the %s one): %s "
				"phones will refuse the server", issuer, ca,
				conf_ca_name(k), ca);
			return;
		}
	}
	chk_msg(c, CHK_WARNING, "cannot confirm the issuer: CN '%s' is none "
		"of Cisco's provisioning roots (%s listeners need %s)", issuer,
		ca, root_desc(l->ca));
}

/* The phone compares the subject CN, up to a '/', with the host name. */
static void check_cn(struct chk *c, const char *cn)
{
	char host[CHECK_MAX_DN];
	const char *why = NULL;
	char *slash;

	if (cn[0] == '\0') {
		chk_msg(c, CHK_ERROR, "the certificate has no subject CN: "
			"phones need the server's host name there");
		return;
	}
	snprintf(host, sizeof(host), "%s", cn);
	if ((slash = strchr(host, '/')) != NULL) {
		*slash = '\0';
		chk_msg(c, CHK_INFO, "phones ignore the CN after '/': they "
			"compare '%s'", host);
	}
	if (!ctl_fqdn_valid(host, &why))
		chk_msg(c, CHK_ERROR, "subject CN '%s' %s", host, why);
}

static void check_names(struct chk *c, const struct conf_listener *l,
			gnutls_x509_crt_t *crts, unsigned n)
{
	char cn[CHECK_MAX_DN], issuer[CHECK_MAX_DN], top[CHECK_MAX_DN];

	dn_attr(crts[0], 0, GNUTLS_OID_X520_COMMON_NAME, cn);
	dn_attr(crts[0], 1, GNUTLS_OID_X520_COMMON_NAME, issuer);
	dn_attr(crts[n - 1], 1, GNUTLS_OID_X520_COMMON_NAME, top);
	chk_fact(c, "subject_cn", jstr(cn), "subject CN: %s", cn);
	chk_fact(c, "issuer_cn", jstr(issuer), "issuer CN: %s%s%s%s", issuer,
		 issuer_is(l->ca, issuer) ? " (the " : "",
		 issuer_is(l->ca, issuer) ? conf_ca_name(l->ca) : "",
		 issuer_is(l->ca, issuer) ? " provisioning root)" : "");
	check_cn(c, cn);
	for (unsigned i = 0; i + 1 < n; i++) {
		if (!gnutls_x509_crt_check_issuer(crts[i], crts[i + 1])) {
			chk_msg(c, CHK_ERROR, "%s: certificate %u did not "
				"issue certificate %u: put the server "
				"certificate first, then its issuers",
				l->certificate, i + 2, i + 1);
			return;
		}
	}
	if (n == 1 && self_signed(crts[0]))
		chk_msg(c, CHK_ERROR, "the certificate is self-signed: phones "
			"accept only one signed by %s", root_desc(l->ca));
	else
		check_issuer(c, l, top);
}

static void check_dates(struct chk *c, gnutls_x509_crt_t crt)
{
	time_t exp = gnutls_x509_crt_get_expiration_time(crt);
	time_t act = gnutls_x509_crt_get_activation_time(crt);
	char date[16], from[16];
	long days;

	fmt_date(exp, date);
	fmt_date(act, from);
	if (exp == (time_t)-1) {
		chk_fact(c, "not_after", json_null(), "expires: never");
		return;
	}
	days = (long)((exp - c->now) / 86400);
	chk_fact(c, "not_after", jstr(date), "expires: %s (%ld days)", date,
		 days);
	chk_json(c, "days_left", json_integer(days));
	if (exp <= c->now)
		chk_msg(c, CHK_ERROR, "the certificate expired on %s", date);
	else if (days < CHECK_WARN_DAYS)
		chk_msg(c, CHK_WARNING, "the certificate expires in %ld days "
			"(%s)", days, date);
	if (act != (time_t)-1 && act > c->now)
		chk_msg(c, CHK_WARNING, "the certificate is not valid before "
			"%s", from);
}

static void check_pubkey(struct chk *c, const struct conf_listener *l,
			 gnutls_x509_crt_t crt)
{
	unsigned bits = 0;
	int alg = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	const char *name = alg < 0 ? "unknown"
				   : gnutls_pk_algorithm_get_name(alg);

	chk_fact(c, "key_algorithm", jstr(name), "key: %s %u bits", name,
		 bits);
	chk_json(c, "key_bits", json_integer(bits));
	if (alg != GNUTLS_PK_RSA && l->ca != CONF_CA_MPP)
		chk_msg(c, CHK_WARNING, "%s key: SPA, Linksys and Sipura "
			"phones offer only RSA cipher suites", name);
	else if (alg == GNUTLS_PK_RSA && bits < CHECK_MIN_KEY_BITS)
		chk_msg(c, CHK_ERROR, "%u-bit RSA key: use 1024 bits (what "
			"the guides use) or 2048 (fine on current firmware)",
			bits);
}

/* A PKCS#11 key: the token is there, the PIN opens it, the object
 * exists and is the certificate's key (what spaprovd checks at start). */
static void check_p11_key(struct chk *c, const struct conf_listener *l)
{
	static const char *const about[] = {
		[TLS_P11_KEY] = "key", [TLS_P11_PIN_FILE] = "key_pin_file",
		[TLS_P11_MODULE] = "pkcs11_module",
		[TLS_P11_CERT] = "certificate",
	};
	struct tls_p11key *k = NULL;
	enum tls_p11_what what = TLS_P11_CERT;
	char *pem = NULL, *err = NULL, *shown = tls_url_redacted(l->key);
	char none[1];   /* presence only: the PIN is not copied */
	struct stat st;

	chk_fact(c, "key", jstr(shown), "PKCS#11 key: %s",
		 shown ? shown : "?");
	if (tls_url_attr(l->key, "pin-value", none, sizeof(none)) == 0)
		chk_msg(c, CHK_WARNING, "the PIN is in the configuration "
			"(pin-value): put it in a key_pin_file only spaprovd "
			"can read");
	if (l->key_pin_file != NULL && stat(l->key_pin_file, &st) == 0 &&
	    (st.st_mode & 0007) != 0)
		chk_msg(c, CHK_WARNING, "key_pin_file %s is readable by "
			"every user", l->key_pin_file);
	if (tls_read_file(l->certificate, CHECK_MAX_PEM, &pem, NULL, &err) <
		    0 ||
	    tls_p11_open(c->conf->pkcs11_module, l->key, l->key_pin_file, pem,
			 l->certificate, 1, &k, &what, &err) < 0) {
		chk_msg(c, CHK_ERROR, "%s: %s", about[what],
			err ? err : "cannot open");
		goto out;
	}
	chk_fact(c, "key_token", jstr(tls_p11_token(k)),
		 "token: '%s' (its key matches the certificate)",
		 tls_p11_token(k));
	if (tls_p11_pin_note(k) != NULL)
		chk_msg(c, CHK_WARNING, "key: %s", tls_p11_pin_note(k));
out:
	tls_p11_free(k);
	free(pem);
	free(err);
	free(shown);
}

/* The key file parses and holds the key the certificate certifies. */
static void check_key_match(struct chk *c, const struct conf_listener *l,
			    gnutls_x509_crt_t crt)
{
	gnutls_x509_privkey_t key = NULL;
	unsigned char id_crt[64], id_key[64];
	size_t n_crt = sizeof(id_crt), n_key = sizeof(id_key);
	char *pem = NULL, *err = NULL;
	size_t len = 0;
	gnutls_datum_t d;
	int rc;

	if (tls_read_file(l->key, CHECK_MAX_PEM, &pem, &len, &err) < 0) {
		chk_msg(c, CHK_ERROR, "key: %s", err ? err : "cannot read");
		goto out;
	}
	d.data = (unsigned char *)pem;
	d.size = (unsigned)len;
	gnutls_x509_privkey_init(&key);
	rc = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL,
					 0);
	if (rc < 0) {
		chk_msg(c, CHK_ERROR, "key %s: not a PEM private key (or an "
			"encrypted one): %s", l->key, gnutls_strerror(rc));
		goto out;
	}
	if (gnutls_x509_crt_get_key_id(crt, 0, id_crt, &n_crt) < 0 ||
	    gnutls_x509_privkey_get_key_id(key, 0, id_key, &n_key) < 0 ||
	    n_crt != n_key || memcmp(id_crt, id_key, n_crt) != 0)
		chk_msg(c, CHK_ERROR, "key %s does not match the certificate "
			"%s", l->key, l->certificate);
out:
	if (pem != NULL)
		gnutls_memset(pem, 0, len);
	free(pem);
	free(err);
	gnutls_x509_privkey_deinit(key);
}

/* Old firmware refuses SHA-256 signed server chains (DOMAIN.md s.1). */
static void check_signatures(struct chk *c, const struct conf_listener *l,
			     gnutls_x509_crt_t *crts, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int sign = gnutls_x509_crt_get_signature_algorithm(crts[i]);
		gnutls_digest_algorithm_t dig =
			gnutls_sign_get_hash_algorithm(sign);
		const char *name = gnutls_sign_get_name(sign);
		char hash[32];

		if (i == 0)
			chk_fact(c, "signature", jstr(name ? name : "unknown"),
				 "signature: %s", name ? name : "unknown");
		if (i > 0 && self_signed(crts[i]))
			continue;   /* a root's own signature is not checked */
		if (!is_legacy(l->ca) || dig == GNUTLS_DIG_SHA1 ||
		    dig == GNUTLS_DIG_MD5 || dig == GNUTLS_DIG_UNKNOWN)
			continue;
		hash_name(dig, hash);
		chk_msg(c, CHK_WARNING, "%s%s signed: firmware 7.5.x and "
			"older rejects it; ask Cisco for a SHA-1 signature "
			"for %s listeners", i ? "chain certificate: " : "",
			hash, conf_ca_name(l->ca));
	}
}

static void check_certificate(struct chk *c, const struct conf_listener *l)
{
	gnutls_x509_crt_t crts[CHECK_MAX_CHAIN];
	unsigned n = CHECK_MAX_CHAIN;
	char *err = NULL;

	chk_fact(c, "certificate", jstr(l->certificate), "certificate: %s",
		 l->certificate);
	if (load_certs(l->certificate, CHECK_MAX_PEM, crts, &n, &err) < 0) {
		chk_msg(c, CHK_ERROR, "certificate: %s",
			err ? err : "cannot read");
		free(err);
		return;
	}
	check_names(c, l, crts, n);
	check_dates(c, crts[0]);
	check_pubkey(c, l, crts[0]);
	check_signatures(c, l, crts, n);
	if (tls_key_is_url(l->key))
		check_p11_key(c, l);
	else
		check_key_match(c, l, crts[0]);
	free_certs(crts, n);
}

/* ---- a listener's TLS parameters ---------------------------------------- */

static int list_has(const unsigned *list, int n, unsigned lo, unsigned hi)
{
	for (int i = 0; i < n; i++)
		if (list[i] >= lo && list[i] <= hi)
			return 1;
	return 0;
}

static void check_priority(struct chk *c, const struct conf_listener *l,
			   struct prio_info *pi)
{
	const char *prio = l->tls_priority ? l->tls_priority
					   : tls_default_priority(l->ca);
	gnutls_priority_t p = NULL;
	const char *where = NULL;
	const unsigned *list;
	int rc, n;

	memset(pi, 0, sizeof(*pi));
	if (l->tls_priority != NULL)
		chk_fact(c, "tls_priority", jstr(prio), "tls_priority: %s",
			 prio);
	else
		chk_fact(c, "tls_priority", jstr(prio), "tls_priority: %s "
			 "(default for %s)", prio, conf_ca_name(l->ca));
	chk_json(c, "tls_priority_default",
		 json_boolean(l->tls_priority == NULL));
	if ((rc = gnutls_priority_init(&p, prio, &where)) < 0) {
		chk_msg(c, CHK_ERROR, "tls_priority is not valid at \"%.40s\": "
			"%s", where ? where : prio, gnutls_strerror(rc));
		return;
	}
	pi->valid = 1;
	n = gnutls_priority_kx_list(p, &list);
	pi->dhe = list_has(list, n, GNUTLS_KX_DHE_RSA, GNUTLS_KX_DHE_RSA);
	n = gnutls_priority_group_list(p, &list);
	pi->ffdhe = list_has(list, n, GNUTLS_GROUP_FFDHE2048,
			     GNUTLS_GROUP_FFDHE8192);
	n = gnutls_priority_protocol_list(p, &list);
	if (l->ca != CONF_CA_MPP && !list_has(list, n, GNUTLS_TLS1_0,
					      GNUTLS_TLS1_0))
		chk_msg(c, CHK_WARNING, "tls_priority does not enable TLS "
			"1.0: SPA phones on older firmware speak nothing "
			"newer");
	gnutls_priority_deinit(p);
}

/* Size of the prime of a PKCS#3 file.  (The `bits` that
 * gnutls_dh_params_export_raw() returns is the private value length, not
 * the prime size.) */
static int dh_file_bits(const char *path, unsigned *bits, char **err)
{
	gnutls_dh_params_t dh = NULL;
	gnutls_datum_t d, p = { 0 }, g = { 0 };
	char *pem = NULL;
	size_t len = 0, i = 0;
	int rc;

	if (tls_read_file(path, CHECK_MAX_PEM, &pem, &len, err) < 0)
		return -1;
	d.data = (unsigned char *)pem;
	d.size = (unsigned)len;
	gnutls_dh_params_init(&dh);
	rc = gnutls_dh_params_import_pkcs3(dh, &d, GNUTLS_X509_FMT_PEM);
	if (rc >= 0)
		rc = gnutls_dh_params_export_raw(dh, &p, &g, NULL);
	if (rc < 0)
		*err = str_printf("%s: not PKCS#3 DH parameters: %s", path,
			    gnutls_strerror(rc));
	while (rc >= 0 && i < p.size && p.data[i] == 0)
		i++;
	*bits = 0;
	if (rc >= 0 && i < p.size) {
		*bits = (unsigned)(p.size - i) * 8;
		for (unsigned char top = p.data[i]; !(top & 0x80); top <<= 1)
			(*bits)--;
	}
	gnutls_free(p.data);
	gnutls_free(g.data);
	gnutls_dh_params_deinit(dh);
	free(pem);
	return rc < 0 ? -1 : 0;
}

/* Old firmware fails with DH groups above 1024 bits (DOMAIN.md s.3), and
 * GnuTLS replaces small configured groups by RFC 7919 ones unless the
 * priority removes those (s.6). */
static void check_dh(struct chk *c, const struct conf_listener *l,
		     const struct prio_info *pi)
{
	const char *from = "dh_bits";
	unsigned bits = l->dh_bits;
	char *err = NULL;

	if (l->dh_params != NULL) {
		from = l->dh_params;
		if (dh_file_bits(l->dh_params, &bits, &err) < 0) {
			chk_msg(c, CHK_ERROR, "dh_params: %s",
				err ? err : "cannot read");
			free(err);
			return;
		}
	} else if (bits == 0 || l->line_dh == 0 ||
		   l->line_dh == l->line_section) {   /* not set: default */
		bits = bits ? bits : CHECK_DEFAULT_DH_BITS;
		from = "default";
	}
	chk_fact(c, "dh_bits", json_integer(bits), "DH: %u bits (%s)", bits,
		 from);
	if (pi->valid && !pi->dhe) {
		chk_msg(c, CHK_INFO, "tls_priority enables no DHE key "
			"exchange: the DH group is not used");
		return;
	}
	if (!is_legacy(l->ca))
		return;
	if (bits > CHECK_LEGACY_DH_BITS)
		chk_msg(c, CHK_WARNING, "%u-bit DH group: old firmware fails "
			"with DH above 1024 bits", bits);
	else if (pi->valid && pi->ffdhe)
		chk_msg(c, CHK_WARNING, "tls_priority keeps the RFC 7919 DH "
			"groups, so GnuTLS offers 2048-bit DH instead of the "
			"configured %u bits: old firmware fails with DH above "
			"1024 bits (add -GROUP-DH-ALL)", bits);
}

static void check_listener(struct chk *c, const struct conf_listener *l,
			   json_t *array)
{
	int v6 = strchr(l->address, ':') != NULL;
	struct prio_info pi;

	chk_section(c, array);
	c->indent = "  ";
	if (c->json) {
		json_object_set_new(c->obj, "name", jstr(l->name));
		json_object_set_new(c->obj, "ca", jstr(conf_ca_name(l->ca)));
		json_object_set_new(c->obj, "address", jstr(l->address));
		json_object_set_new(c->obj, "port", json_integer(l->port));
	} else {
		printf("listener %s: ca %s, %s%s%s:%u%s\n", l->name,
		       conf_ca_name(l->ca), v6 ? "[" : "", l->address,
		       v6 ? "]" : "", l->port,
		       l->port ? "" : " (any free port)");
	}
	if (l->mode != CONF_MODE_MUTUAL)
		chk_fact(c, "mode", jstr(conf_mode_name(l->mode)), "mode: %s "
			 "(no client certificates: encrypted profiles by the "
			 "MAC in the URL)", conf_mode_name(l->mode));
	if (l->mode == CONF_MODE_PLAIN)
		return; /* plain HTTP: no TLS to check */
	check_certificate(c, l);
	check_priority(c, l, &pi);
	check_dh(c, l, &pi);
}

/* ---- client roots ------------------------------------------------------- */

static int known_root(const char *cn)
{
	for (unsigned k = 0; k < NELEM(known_roots); k++)
		if (strcmp(cn, known_roots[k].cn) == 0)
			return (int)k;
	return -1;
}

static void sha256_hex(gnutls_x509_crt_t crt, char out[SHA256_HEX_LEN])
{
	unsigned char raw[32];
	size_t n = sizeof(raw);

	out[0] = '\0';
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, raw, &n) <
		    0 || n != sizeof(raw))
		return;
	for (size_t i = 0; i < n; i++)
		snprintf(out + 3 * i, 4, "%02X%s", raw[i],
			 i + 1 < n ? ":" : "");
}

static void root_expiry(struct chk *c, gnutls_x509_crt_t crt)
{
	time_t exp = gnutls_x509_crt_get_expiration_time(crt);
	int expired = exp != (time_t)-1 && exp <= c->now;
	char date[16];

	fmt_date(exp, date);
	chk_fact(c, "not_after", exp == (time_t)-1 ? json_null() : jstr(date),
		 "expires: %s", date);
	chk_json(c, "expired", json_boolean(expired));
	if (expired && c->conf->client_cert_time_check)
		chk_msg(c, CHK_WARNING, "expired on %s: with "
			"client_cert_time_check = yes, phones under this root "
			"are refused", date);
	else if (expired)
		chk_msg(c, CHK_INFO, "expired on %s: allowed, as field roots "
			"often are (client_cert_time_check = no)", date);
}

/* What the bundle holds of each known root. */
enum root_state { ROOT_ABSENT = 0, ROOT_IMITATION, ROOT_PRESENT };

/* One certificate of the bundle; updates present[k] when it bears the name
 * of the known Cisco root k. */
static void check_root(struct chk *c, gnutls_x509_crt_t crt, int *present)
{
	char cn[CHECK_MAX_DN], org[CHECK_MAX_DN], fp[SHA256_HEX_LEN];
	int k, genuine, lab;

	dn_attr(crt, 0, GNUTLS_OID_X520_COMMON_NAME, cn);
	dn_attr(crt, 0, GNUTLS_OID_X520_ORGANIZATION_NAME, org);
	sha256_hex(crt, fp);
	k = known_root(cn);
	genuine = k >= 0 && known_roots[k].sha256 != NULL &&
		  strcmp(fp, known_roots[k].sha256) == 0;
	lab = strstr(org, LAB_PKI_ORG) != NULL;
	chk_fact(c, "cn", jstr(cn), "root: %s%s", cn[0] ? cn : "(no CN)",
		 genuine ? " (genuine Cisco root)" : "");
	c->indent = "    ";
	chk_json(c, "organization", jstr(org));
	chk_fact(c, "sha256", jstr(fp), "SHA-256: %s", fp);
	chk_json(c, "genuine_cisco", json_boolean(genuine));
	chk_json(c, "lab", json_boolean(lab));
	root_expiry(c, crt);
	if (k >= 0 && known_roots[k].sha256 != NULL && !genuine)
		chk_msg(c, CHK_WARNING, "same name as a Cisco root but a "
			"different key: phones under Cisco's root will not "
			"verify against it");
	else if (k >= 0 && lab)
		chk_msg(c, CHK_INFO, "a lab PKI root with a Cisco name (O=%s): "
			"for tests only, real phones do not chain to it", org);
	if (k >= 0 && (genuine || (!lab && known_roots[k].sha256 == NULL)))
		present[k] = ROOT_PRESENT;
	else if (k >= 0 && present[k] == ROOT_ABSENT)
		present[k] = ROOT_IMITATION;
	if (gnutls_x509_crt_get_ca_status(crt, NULL) == 0)
		chk_msg(c, CHK_WARNING, "not a CA certificate: it cannot vouch "
			"for phones");
	c->indent = "  ";
}

static void check_root_file(struct chk *c, const char *path, json_t *roots,
			    json_t *bundle_msgs, int *present)
{
	gnutls_x509_crt_t crts[CHECK_MAX_ROOTS];
	unsigned n = CHECK_MAX_ROOTS;
	char *err = NULL;

	if (!c->json)
		printf("  file: %s\n", path);
	if (load_certs(path, CHECK_MAX_BUNDLE, crts, &n, &err) < 0) {
		c->msgs = bundle_msgs;
		chk_msg(c, CHK_ERROR, "client_roots: %s",
			err ? err : "cannot read");
		free(err);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		chk_section(c, roots);
		chk_json(c, "file", jstr(path));
		check_root(c, crts[i], present);
	}
	free_certs(crts, n);
}

static void check_client_roots(struct chk *c, json_t *top)
{
	static const char *const fallback[] = { DEFAULT_CLIENT_ROOTS };
	const char *const *files = (const char *const *)c->conf->client_roots;
	size_t n_files = c->conf->n_client_roots;
	int present[NELEM(known_roots)] = { 0 };
	json_t *sect = json_object(), *roots = json_array(),
	       *msgs = json_array(), *names = json_array();

	if (n_files == 0) {
		files = fallback;
		n_files = 1;
	}
	for (size_t i = 0; i < n_files; i++)
		json_array_append_new(names, jstr(files[i]));
	json_object_set_new(sect, "files", names);
	json_object_set_new(sect, "roots", roots);
	json_object_set_new(sect, "messages", msgs);
	json_object_set_new(top, "client_roots", sect);
	c->indent = "  ";
	if (!c->json)
		printf("client roots%s:\n", c->conf->n_client_roots ? ""
					      : " (default bundle)");
	for (size_t i = 0; i < n_files; i++)
		check_root_file(c, files[i], roots, msgs, present);
	c->obj = sect;
	c->msgs = msgs;
	for (unsigned k = 0; k < NELEM(known_roots); k++)
		if (present[k] != ROOT_PRESENT)
			chk_msg(c, CHK_WARNING, "Cisco's \"%s\" is missing%s: "
				"%s cannot be identified", known_roots[k].cn,
				present[k] == ROOT_IMITATION
					? " (only a root of that name from "
					  "elsewhere)" : "",
				known_roots[k].phones);
}

/* ---- the command -------------------------------------------------------- */

static void check_usage(FILE *f)
{
	fprintf(f, "Usage: spaprovctl [-c FILE] check [--json]\n"
		   "Validate the configuration without starting anything: "
		   "for each listener the\nserver certificate (subject CN, "
		   "issuer, dates, key, signature hash), the\nkey, DH size "
		   "and TLS priority; then the client-root bundle.\n"
		   "  --json  print one JSON document instead of text\n"
		   "Exit codes: 0 no errors (warnings allowed), 3 errors "
		   "found or the\nconfiguration does not parse, 4 the "
		   "configuration cannot be read.\nWhen the configuration "
		   "does not load, the reason goes to stderr, also\nwith "
		   "--json.\n");
}

static void check_run(struct chk *c)
{
	json_t *listeners = json_array();

	json_object_set_new(c->doc, "config", jstr(c->conf->path));
	json_object_set_new(c->doc, "listeners", listeners);
	for (size_t i = 0; i < c->conf->n_listeners; i++) {
		check_listener(c, &c->conf->listeners[i], listeners);
		if (!c->json)
			putchar('\n');
	}
	check_client_roots(c, c->doc);
	json_object_set_new(c->doc, "errors", json_integer(c->errors));
	json_object_set_new(c->doc, "warnings", json_integer(c->warnings));
	if (c->json) {
		json_dumpf(c->doc, stdout,
			   JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		printf("\n%u error%s, %u warning%s\n", c->errors,
		       c->errors == 1 ? "" : "s", c->warnings,
		       c->warnings == 1 ? "" : "s");
	}
}

int cmd_check(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct chk c = { .indent = "" };
	FILE *f;
	int ch;

	optind = 0;   /* re-initialise getopt: main() parsed with "+" */
	while ((ch = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': c.json = 1; break;
		case 'h': check_usage(stdout); return CTL_OK;
		default: check_usage(stderr); return CTL_USAGE;
		}
	}
	if (optind != argc) {
		check_usage(stderr);
		return CTL_USAGE;
	}
	/* A file we cannot open is a configuration error; anything
	 * conf_load() reports after that is an invalid value. */
	if ((f = fopen(ctl->conf_path, "r")) == NULL) {
		ctl_err("%s: cannot open: %s", ctl->conf_path, strerror(errno));
		return CTL_DBERROR;
	}
	fclose(f);
	if ((c.conf = ctl_conf(ctl)) == NULL)
		return CTL_INVALID;
	c.now = time(NULL);
	c.doc = json_object();
	if (c.doc == NULL) {
		ctl_err("out of memory");
		return CTL_DBERROR;
	}
	check_run(&c);
	json_decref(c.doc);
	return c.errors ? CTL_INVALID : CTL_OK;
}
