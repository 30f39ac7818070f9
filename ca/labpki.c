/* labpki: build the lab PKI described in labpki.h with GnuTLS alone.
 *
 * Every certificate comes out of one routine, lp_issue(), driven by a
 * small spec (kind, key size, digest, validity, subject).  The quirks the
 * field shows (X.509 v1 roots and intermediates, MD5 and SHA-1 signatures,
 * an expired client root, subject layouts that hide the MAC in different
 * attributes, a root that copies Cisco's DN) are all expressed in the tables
 * below, so a reader can check them against DOMAIN.md sections 1 and 2. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ca/labpki.h"

#define LP_DEFAULT_FQDN "prov.spaprov.test"
#define LP_ORG "spaprov lab PKI (not Cisco)"
#define LP_MAX_PATH 4096         /* any path we build */
#define LP_MAX_FQDN 253          /* DNS name length */
#define LP_MAX_ROOT_PEM 65536    /* opts->cisco_root file size */
#define LP_MAX_RDN 8             /* attributes in a subject we build */
#define LP_MAX_AVA 1024          /* one attribute value copied from a DN */
#define LP_MAX_OID 128           /* dotted OID text */
#define LP_MAX_KEY_ID 64         /* subject key identifier bytes */
#define LP_MAX_CERTS 4           /* certificates in one PEM file we write */
#define LP_MAX_CN 128            /* a CN we compose */
#define LP_MAX_CSV 4096          /* phones.csv */
#define LP_SERIAL_LEN 16
#define LP_DAY ((time_t)86400)

/* Fixed dates, UTC. */
#define LP_T_2005 ((time_t)1104537600)       /* 2005-01-01 00:00:00 */
#define LP_T_2010 ((time_t)1262304000)       /* 2010-01-01 00:00:00 */
#define LP_T_2015 ((time_t)1420070400)       /* 2015-01-01 00:00:00 */
#define LP_T_2015_06_30 ((time_t)1435708799) /* 2015-06-30 23:59:59 */
#define LP_T_2045 ((time_t)2366841600)       /* 2045-01-01 00:00:00 */
/* "far future": 2045, or the last second a 32-bit time_t can hold */
#define LP_T_FAR (sizeof(time_t) >= 8 ? LP_T_2045 : (time_t)0x7fffffff)

enum lp_kind {
	LP_ROOT,    /* X.509 v3 CA */
	LP_CA_V1,   /* X.509 v1 CA: no extensions at all */
	LP_SERVER,  /* TLS server leaf */
	LP_CLIENT,  /* TLS client leaf (phone) */
};

struct lp_rdn {
	const char *oid;
	const char *val;
};

struct lp_spec {
	const char *name;             /* for error messages */
	enum lp_kind kind;
	unsigned bits;                /* RSA modulus size */
	gnutls_digest_algorithm_t dig;
	time_t not_before, not_after; /* 0 = now - 1 day, 2045 */
	struct lp_rdn dn[LP_MAX_RDN]; /* ends at the first NULL oid */
	gnutls_x509_crt_t dn_from;    /* copy this subject DN instead */
	const char *fqdn;             /* LP_SERVER: subjectAltName */
};

struct lp_ent {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
};

/* Client-side issuers; the first LP_N_BUNDLE go into client-roots.pem. */
enum lp_issuer {
	LP_I_SIPURA = 0,
	LP_I_SB,
	LP_I_MPP,
	LP_N_BUNDLE,
	LP_I_V1 = LP_N_BUNDLE,
	LP_N_ISSUER
};

enum lp_layout { LP_STANDARD, LP_SPA525G2, LP_SURNAME };

struct lp_ctx {
	const char *dir;
	const char *fqdn;
	time_t now;
	char **err;
	gnutls_x509_crt_t cisco;          /* real root the impostor copies */
	struct lp_ent issuer[LP_N_ISSUER];
};

/* ---- provisioning CAs (DOMAIN.md s.1) ----------------------------- */

static const struct lp_prov {
	const char *ca;
	const char *cn;
	unsigned root_bits, server_bits;
	gnutls_digest_algorithm_t dig;
} lp_provs[] = {
	{ "sipura", "Sipura Technology Provisioning Root Authority 1",
	  1024, 1024, GNUTLS_DIG_SHA1 },
	{ "linksys", "Cisco Linksys Provisioning Root Authority 1",
	  1024, 1024, GNUTLS_DIG_SHA1 },
	{ "sb", "Cisco Small Business Provisioning Root Authority 1",
	  2048, 2048, GNUTLS_DIG_SHA1 },
	{ "sb2k", "Cisco Small Business Provisioning Root Authority 2",
	  2048, 2048, GNUTLS_DIG_SHA1 },
	{ "mpp", "Cisco Multiplatform Provisioning Root Authority (lab)",
	  2048, 2048, GNUTLS_DIG_SHA256 },
};

/* ---- client roots and the v1 intermediate (DOMAIN.md s.2) ---------- */

static const struct lp_croot {
	const char *name;
	const char *cn;
	enum lp_kind kind;
	unsigned bits;
	gnutls_digest_algorithm_t dig;
	time_t not_before, not_after;
} lp_croots[LP_N_ISSUER] = {
	[LP_I_SIPURA] = { "sipura-client-root-1",
			  "Sipura Technology Client Root Authority 1",
			  LP_CA_V1, 1024, GNUTLS_DIG_MD5, 0, 0 },
	[LP_I_SB] = { "sb-client-root-1",
		      "Cisco Small Business Client Root Authority 1",
		      LP_ROOT, 2048, GNUTLS_DIG_SHA1, LP_T_2005,
		      LP_T_2015_06_30 },
	[LP_I_MPP] = { "mpp-client-root", "Multiplatform Phone CA Client Root",
		       LP_ROOT, 2048, GNUTLS_DIG_SHA256, 0, 0 },
	[LP_I_V1] = { "v1-intermediate",
		      "Cisco Small Business Client Sub-Authority (lab, X.509 v1)",
		      LP_CA_V1, 1024, GNUTLS_DIG_SHA1, 0, 0 },
};

/* ---- phones --------------------------------------------------------- */

static const struct lp_phone {
	const char *mac;
	const char *product;
	const char *serial;
	enum lp_layout layout;
	enum lp_issuer issuer;
	gnutls_digest_algorithm_t dig;
	unsigned bits;
	int expired;
	const char *ua;
} lp_phones[] = {
	{ "0022bd010201", "SPA-962", "88019FA42805", LP_STANDARD, LP_I_SIPURA,
	  GNUTLS_DIG_MD5, 1024, 0, "Linksys/SPA-962-6.1.5(a) (88019FA42805)" },
	{ "0022bd010202", "SPA-2102", "88012BA01234", LP_STANDARD, LP_I_SIPURA,
	  GNUTLS_DIG_SHA1, 1024, 0, "Linksys/SPA-2102-2.0.5 (88012BA01234)" },
	{ "0022bd010203", "SPA504G", "CBT141100HR", LP_STANDARD, LP_I_SB,
	  GNUTLS_DIG_SHA1, 1024, 1,
	  "Cisco/SPA504G-7.4.4 (0022BD010203)(CBT141100HR)" },
	{ "0022bd010204", "SPA525G2", "CBT141900G7", LP_SPA525G2, LP_I_V1,
	  GNUTLS_DIG_SHA1, 1024, 0, "Cisco/SPA525G2-7.5.7 (CBT141900G7)" },
	{ "0022bd010205", "CP-8841-3PCC", "FCH2001ABCD", LP_STANDARD, LP_I_MPP,
	  GNUTLS_DIG_SHA256, 2048, 0,
	  "Cisco-CP-8841-3PCC/11.0 (0022bd010205)" },
	{ "0022bd010206", "SPA-942", "88019FA40000", LP_SURNAME, LP_I_SB,
	  GNUTLS_DIG_SHA1, 1024, 0, "Linksys/SPA-942-6.1.5(a) (88019FA40000)" },
	{ "0022bd010207", "SPA112", "CCQ17040001", LP_STANDARD, LP_I_SB,
	  GNUTLS_DIG_SHA1, 1024, 0, "Cisco/SPA112-1.3.3 (CCQ17040001)" },
	{ "0022bd010208", "SPA508G", "CBT150200AA", LP_STANDARD, LP_I_SB,
	  GNUTLS_DIG_SHA1, 1024, 0,
	  "Cisco/SPA508G-7.5.5 (0022BD010208)(CBT150200AA)" },
};

static const char *const lp_layout_names[] = {
	[LP_STANDARD] = "standard",
	[LP_SPA525G2] = "spa525g2",
	[LP_SURNAME] = "surname",
};

#define LP_IMPOSTOR_MAC "0022bd0102ff"

/* A phone under a root that only copies Cisco's DN. */
static const struct lp_phone lp_impostor_phone = {
	LP_IMPOSTOR_MAC, "SPA504G", "CBT141199ZZ", LP_STANDARD, LP_I_SB,
	GNUTLS_DIG_SHA1, 1024, 0, "Cisco/SPA504G-7.4.4 (0022BD0102FF)(CBT141199ZZ)"
};

/* The shared certificate of pre-2.0 units: in the standard layout its
 * "product", "serial" and "MAC" are cisco.com, ciscogeneric, ciscogeneric. */
static const struct lp_phone lp_generic = {
	"ciscogeneric", "cisco.com", "ciscogeneric", LP_STANDARD, LP_I_SB,
	GNUTLS_DIG_SHA1, 1024, 0, NULL
};

#define LP_NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char lp_readme[] =
	"spaprov lab PKI -- for tests and demos only, never for production.\n"
	"Every key here is a throw-away lab key; nothing is signed by Cisco.\n"
	"\n"
	"Server side (spaprovd):\n"
	"  server/<ca>.crt, server/<ca>.key\n"
	"      certificate and key of the listener for provisioning CA <ca>\n"
	"      (sipura, linksys, sb, sb2k, mpp): set them as `certificate` and\n"
	"      `key` of a [listener] with `ca = <ca>`.  The .crt holds only the\n"
	"      leaf: a phone has the root built into its firmware.\n"
	"  client-roots.pem\n"
	"      the lab client roots, one bundle: use it as `client_roots`.\n"
	"      sb-client-root-1 in it is expired on purpose (like field units),\n"
	"      so chains under it fail when client_cert_time_check is on.\n"
	"\n"
	"Phone side (emulators, curl, gnutls-cli):\n"
	"  provisioning/<ca>-root.crt\n"
	"      the root a phone of that family trusts; pass it as the CA file.\n"
	"  phones/<mac>.crt, phones/<mac>.key\n"
	"      a phone's client certificate chain (leaf first, as the phone\n"
	"      sends it) and its key.  phones/phones.csv lists MAC, product,\n"
	"      serial, subject layout and a realistic User-Agent.  Layouts:\n"
	"      standard = OU=product, L=serial, ST=mac; spa525g2 = ST=MAC in\n"
	"      upper case plus \"MAC: ...\" in CN; surname = no ST, the MAC is\n"
	"      in surname (2.5.4.4).\n"
	"  generic/generic.crt, .key\n"
	"      the shared \"ciscogeneric\" certificate of pre-2.0 units: it\n"
	"      verifies but identifies no device.\n"
	"  impostor/root.crt, impostor/phone.crt, .key\n"
	"      a self-signed root with exactly the DN of the real Cisco Small\n"
	"      Business Client Root Authority 2 but another key, and a phone\n"
	"      (MAC " LP_IMPOSTOR_MAC ") whose chain is leaf + that root: it must\n"
	"      be refused.\n"
	"\n"
	"Client roots (client-roots/):\n"
	"  sipura-client-root-1.crt  X.509 v1, self-signed with MD5\n"
	"  sb-client-root-1.crt      SHA-1, expired 2015-06-30\n"
	"  mpp-client-root.crt       SHA-256\n"
	"  v1-intermediate.crt       X.509 v1 CA under sb-client-root-1; the\n"
	"                            SPA525G2 phone sends it in its chain\n";

/* ---- errors and files ------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static void
lp_fail(struct lp_ctx *c, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (*c->err != NULL)
		return; /* keep the first, most specific reason */
	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	*c->err = malloc((size_t)len + 1);
	if (*c->err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(*c->err, (size_t)len + 1, fmt, ap);
	va_end(ap);
}

static int lp_path(struct lp_ctx *c, char *buf, const char *rel)
{
	int n = snprintf(buf, LP_MAX_PATH, "%s/%s", c->dir, rel);

	if (n < 0 || n >= LP_MAX_PATH) {
		lp_fail(c, "%s/%s: path too long", c->dir, rel);
		return -1;
	}
	return 0;
}

/* mkdir -p */
static int lp_mkdirs(struct lp_ctx *c, const char *path)
{
	char buf[LP_MAX_PATH];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		lp_fail(c, "%s: bad directory name", path);
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char save = *p;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
			lp_fail(c, "%s: %s", buf, strerror(errno));
			return -1;
		}
		*p = save;
		if (save == '\0')
			return 0;
	}
}

/* Write (replace) DIR/REL with exactly MODE, even if it existed. */
static int lp_write(struct lp_ctx *c, const char *rel, const void *data,
		    size_t len, mode_t mode)
{
	char path[LP_MAX_PATH];
	const char *p = data;
	int fd, ret = -1;

	if (lp_path(c, path, rel) != 0)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0 || fchmod(fd, mode) != 0)
		goto out;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		p += n;
		len -= (size_t)n;
	}
	ret = 0;
out:
	if (ret != 0)
		lp_fail(c, "%s: %s", path, strerror(errno));
	if (fd >= 0 && close(fd) != 0 && ret == 0) {
		lp_fail(c, "%s: %s", path, strerror(errno));
		ret = -1;
	}
	return ret;
}

static int lp_write_key(struct lp_ctx *c, const char *rel,
			gnutls_x509_privkey_t key)
{
	gnutls_datum_t pem = { NULL, 0 };
	int ret;

	ret = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &pem);
	if (ret < 0) {
		lp_fail(c, "%s: %s", rel, gnutls_strerror(ret));
		return -1;
	}
	ret = lp_write(c, rel, pem.data, pem.size, 0600);
	gnutls_free(pem.data);
	return ret;
}

/* Write the PEM of crts[0..n) one after the other into DIR/REL. */
static int lp_write_crts(struct lp_ctx *c, const char *rel,
			 const gnutls_x509_crt_t *crts, size_t n)
{
	gnutls_datum_t pem[LP_MAX_CERTS] = { { NULL, 0 } };
	char *all = NULL;
	size_t len = 0, i;
	int ret = -1, gret = 0;

	if (n > LP_MAX_CERTS) {
		lp_fail(c, "%s: too many certificates", rel);
		return -1;
	}
	for (i = 0; i < n && gret >= 0; i++) {
		gret = gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_PEM,
					       &pem[i]);
		len += pem[i].size;
	}
	if (gret < 0) {
		lp_fail(c, "%s: %s", rel, gnutls_strerror(gret));
		goto out;
	}
	all = malloc(len + 1);
	if (all == NULL) {
		lp_fail(c, "%s: out of memory", rel);
		goto out;
	}
	for (i = 0, len = 0; i < n; i++) {
		memcpy(all + len, pem[i].data, pem[i].size);
		len += pem[i].size;
	}
	ret = lp_write(c, rel, all, len, 0644);
out:
	for (i = 0; i < LP_MAX_CERTS; i++)
		gnutls_free(pem[i].data);
	free(all);
	return ret;
}

/* ---- certificate building -------------------------------------------- */

static void lp_ent_free(struct lp_ent *e)
{
	if (e->crt != NULL)
		gnutls_x509_crt_deinit(e->crt);
	if (e->key != NULL)
		gnutls_x509_privkey_deinit(e->key);
	e->crt = NULL;
	e->key = NULL;
}

static int lp_set_dn(gnutls_x509_crt_t crt, const struct lp_rdn *dn)
{
	int ret = 0;

	for (size_t i = 0; i < LP_MAX_RDN && dn[i].oid != NULL; i++) {
		ret = gnutls_x509_crt_set_dn_by_oid(crt, dn[i].oid, 0,
						    dn[i].val,
						    strlen(dn[i].val));
		if (ret < 0)
			break;
	}
	return ret;
}

/* DER tag-length-value of one attribute value, for the raw setter. */
static int lp_ava_der(const gnutls_x509_ava_st *ava, unsigned char *out,
		      size_t *out_len)
{
	size_t vlen = ava->value.size, hdr;

	if (vlen > LP_MAX_AVA || ava->value_tag > 30)
		return GNUTLS_E_UNIMPLEMENTED_FEATURE;
	out[0] = (unsigned char)ava->value_tag; /* universal, primitive */
	if (vlen < 0x80) {
		out[1] = (unsigned char)vlen;
		hdr = 2;
	} else {
		out[1] = 0x82;
		out[2] = (unsigned char)(vlen >> 8);
		out[3] = (unsigned char)(vlen & 0xff);
		hdr = 4;
	}
	memcpy(out + hdr, ava->value.data, vlen);
	*out_len = hdr + vlen;
	return 0;
}

/* Copy SRC's subject into CRT attribute by attribute, keeping each value's
 * string type, so the DER of the two names is identical (checked by the
 * caller once the certificate is signed). */
static int lp_copy_dn(gnutls_x509_crt_t crt, gnutls_x509_crt_t src)
{
	unsigned char der[LP_MAX_AVA + 4];
	char oid[LP_MAX_OID];
	gnutls_x509_ava_st ava;
	gnutls_x509_dn_t dn;
	size_t len;
	int ret;

	ret = gnutls_x509_crt_get_subject(src, &dn);
	for (int i = 0; ret >= 0; i++) {
		ret = gnutls_x509_dn_get_rdn_ava(dn, i, 0, &ava);
		if (ret == GNUTLS_E_ASN1_ELEMENT_NOT_FOUND)
			return 0;
		if (ret < 0)
			break;
		if (ava.oid.size == 0 || ava.oid.size >= sizeof(oid))
			return GNUTLS_E_UNIMPLEMENTED_FEATURE;
		memcpy(oid, ava.oid.data, ava.oid.size);
		oid[ava.oid.size] = '\0';
		ret = lp_ava_der(&ava, der, &len);
		if (ret >= 0)
			ret = gnutls_x509_crt_set_dn_by_oid(crt, oid, 1, der,
							    (unsigned)len);
	}
	return ret;
}

static int lp_fill(struct lp_ctx *c, const struct lp_spec *s, struct lp_ent *e)
{
	unsigned char serial[LP_SERIAL_LEN];
	time_t nb = s->not_before ? s->not_before : c->now - LP_DAY;
	time_t na = s->not_after ? s->not_after : LP_T_FAR;
	int ret;

	ret = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40); /* positive */
	if (ret >= 0)
		ret = gnutls_x509_crt_set_version(e->crt,
						  s->kind == LP_CA_V1 ? 1 : 3);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_serial(e->crt, serial,
						 sizeof(serial));
	if (ret >= 0)
		ret = gnutls_x509_crt_set_activation_time(e->crt, nb);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_expiration_time(e->crt, na);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_key(e->crt, e->key);
	if (ret >= 0)
		ret = s->dn_from != NULL ? lp_copy_dn(e->crt, s->dn_from)
					 : lp_set_dn(e->crt, s->dn);
	return ret;
}

static int lp_key_ids(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer)
{
	unsigned char id[LP_MAX_KEY_ID];
	size_t len = sizeof(id);
	unsigned critical;
	int ret;

	ret = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &len);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_subject_key_id(crt, id, len);
	if (ret < 0 || issuer == NULL)
		return ret;
	len = sizeof(id);
	/* An X.509 v1 issuer has no key identifier: then no AKI either. */
	if (gnutls_x509_crt_get_subject_key_id(issuer, id, &len, &critical) < 0)
		return 0;
	return gnutls_x509_crt_set_authority_key_id(crt, id, len);
}

static int lp_server_ext(gnutls_x509_crt_t crt, const char *fqdn)
{
	static const unsigned char loopback[4] = { 127, 0, 0, 1 };
	int ret;

	ret = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER,
						  0);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_subject_alt_name(
			crt, GNUTLS_SAN_DNSNAME, fqdn, strlen(fqdn),
			GNUTLS_FSAN_APPEND);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_subject_alt_name(
			crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
			GNUTLS_FSAN_APPEND);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_subject_alt_name(
			crt, GNUTLS_SAN_IPADDRESS, loopback, sizeof(loopback),
			GNUTLS_FSAN_APPEND);
	return ret;
}

static int lp_extensions(const struct lp_spec *s, gnutls_x509_crt_t crt,
			 gnutls_x509_crt_t issuer)
{
	const unsigned leaf_usage = GNUTLS_KEY_DIGITAL_SIGNATURE |
				    GNUTLS_KEY_KEY_ENCIPHERMENT;
	int ret;

	switch (s->kind) {
	case LP_CA_V1:
		return 0;
	case LP_ROOT:
		ret = gnutls_x509_crt_set_basic_constraints(crt, 1, -1);
		if (ret >= 0)
			ret = gnutls_x509_crt_set_key_usage(
				crt, GNUTLS_KEY_KEY_CERT_SIGN |
					     GNUTLS_KEY_CRL_SIGN);
		break;
	case LP_SERVER:
	case LP_CLIENT:
		ret = gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
		if (ret >= 0)
			ret = gnutls_x509_crt_set_key_usage(crt, leaf_usage);
		if (ret >= 0 && s->kind == LP_SERVER)
			ret = lp_server_ext(crt, s->fqdn);
		if (ret >= 0 && s->kind == LP_CLIENT)
			ret = gnutls_x509_crt_set_key_purpose_oid(
				crt, GNUTLS_KP_TLS_WWW_CLIENT, 0);
		break;
	default:
		return GNUTLS_E_INTERNAL_ERROR;
	}
	if (ret >= 0)
		ret = lp_key_ids(crt, issuer);
	return ret;
}

/* Generate a key and a certificate per S, signed by ISSUER or, when ISSUER
 * is NULL, by itself.  OUT must be zeroed; the caller frees it. */
static int lp_issue(struct lp_ctx *c, const struct lp_spec *s,
		    const struct lp_ent *issuer, struct lp_ent *out)
{
	int ret;

	ret = gnutls_x509_privkey_init(&out->key);
	if (ret >= 0)
		ret = gnutls_x509_privkey_generate(out->key, GNUTLS_PK_RSA,
						   s->bits, 0);
	if (ret >= 0)
		ret = gnutls_x509_crt_init(&out->crt);
	if (ret >= 0)
		ret = lp_fill(c, s, out);
	if (ret >= 0)
		ret = lp_extensions(s, out->crt,
				    issuer != NULL ? issuer->crt : NULL);
	if (ret >= 0)
		ret = gnutls_x509_crt_sign2(
			out->crt, issuer != NULL ? issuer->crt : out->crt,
			issuer != NULL ? issuer->key : out->key, s->dig, 0);
	if (ret < 0) {
		lp_fail(c, "%s: %s", s->name, gnutls_strerror(ret));
		return -1;
	}
	return 0;
}

/* ---- the parts of the PKI ------------------------------------------- */

static int lp_make_prov(struct lp_ctx *c, const struct lp_prov *p)
{
	struct lp_ent root = { NULL, NULL }, srv = { NULL, NULL };
	struct lp_spec rs = {
		.name = p->ca, .kind = LP_ROOT, .bits = p->root_bits,
		.dig = p->dig,
		.dn = { { GNUTLS_OID_X520_COUNTRY_NAME, "US" },
			{ GNUTLS_OID_X520_ORGANIZATION_NAME, LP_ORG },
			{ GNUTLS_OID_X520_COMMON_NAME, p->cn } },
	};
	struct lp_spec ss = {
		.name = c->fqdn, .kind = LP_SERVER, .bits = p->server_bits,
		.dig = p->dig, .fqdn = c->fqdn,
		.dn = { { GNUTLS_OID_X520_ORGANIZATION_NAME, LP_ORG },
			{ GNUTLS_OID_X520_COMMON_NAME, c->fqdn } },
	};
	char rel[LP_MAX_PATH];
	int ret = -1;

	if (lp_issue(c, &rs, NULL, &root) != 0 ||
	    lp_issue(c, &ss, &root, &srv) != 0)
		goto out;
	snprintf(rel, sizeof(rel), "provisioning/%s-root.crt", p->ca);
	if (lp_write_crts(c, rel, &root.crt, 1) != 0)
		goto out;
	snprintf(rel, sizeof(rel), "server/%s.crt", p->ca);
	if (lp_write_crts(c, rel, &srv.crt, 1) != 0)
		goto out;
	snprintf(rel, sizeof(rel), "server/%s.key", p->ca);
	ret = lp_write_key(c, rel, srv.key);
out:
	lp_ent_free(&root);
	lp_ent_free(&srv);
	return ret;
}

static int lp_make_client_roots(struct lp_ctx *c)
{
	gnutls_x509_crt_t bundle[LP_N_BUNDLE];
	char rel[LP_MAX_PATH];

	for (size_t i = 0; i < LP_N_ISSUER; i++) {
		const struct lp_croot *r = &lp_croots[i];
		struct lp_spec s = {
			.name = r->name, .kind = r->kind, .bits = r->bits,
			.dig = r->dig, .not_before = r->not_before,
			.not_after = r->not_after,
			.dn = { { GNUTLS_OID_X520_COUNTRY_NAME, "US" },
				{ GNUTLS_OID_X520_ORGANIZATION_NAME, LP_ORG },
				{ GNUTLS_OID_X520_COMMON_NAME, r->cn } },
		};
		const struct lp_ent *signer =
			i == LP_I_V1 ? &c->issuer[LP_I_SB] : NULL;

		if (lp_issue(c, &s, signer, &c->issuer[i]) != 0)
			return -1;
		snprintf(rel, sizeof(rel), "client-roots/%s.crt", r->name);
		if (lp_write_crts(c, rel, &c->issuer[i].crt, 1) != 0)
			return -1;
		if (i < LP_N_BUNDLE)
			bundle[i] = c->issuer[i].crt;
	}
	return lp_write_crts(c, "client-roots.pem", bundle, LP_N_BUNDLE);
}

/* Subject of a device certificate in the layout PH asks for.  MAC_UP and
 * CN are storage for the values that must be computed. */
static void lp_device_dn(const struct lp_phone *ph, char *mac_up,
			 char *cn, size_t cn_size, struct lp_rdn *dn)
{
	size_t i, n = 0;

	for (i = 0; ph->mac[i] != '\0' && i < 12; i++)
		mac_up[i] = (char)toupper((unsigned char)ph->mac[i]);
	mac_up[i] = '\0';
	dn[n++] = (struct lp_rdn){ GNUTLS_OID_X520_COUNTRY_NAME, "US" };
	switch (ph->layout) {
	case LP_SPA525G2:
		/* CN spells the model with a dash: SPA525G2 -> SPA-525G2 */
		snprintf(cn, cn_size, "%.3s-%s, MAC: %s, Serial: %s",
			 ph->product, ph->product + 3, ph->mac, ph->serial);
		dn[n++] = (struct lp_rdn){ GNUTLS_OID_X520_STATE_OR_PROVINCE_NAME,
					   mac_up };
		dn[n++] = (struct lp_rdn){ GNUTLS_OID_X520_LOCALITY_NAME,
					   ph->serial };
		dn[n++] = (struct lp_rdn){ GNUTLS_OID_X520_ORGANIZATION_NAME,
					   "Cisco Systems, Inc." };
		dn[n++] = (struct lp_rdn){
			GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, "cisco.com" };
		dn[n++] = (struct lp_rdn){ GNUTLS_OID_X520_COMMON_NAME, cn };
		break;
	case LP_STANDARD:
	case LP_SURNAME:
		if (ph->layout == LP_STANDARD)
			dn[n++] = (struct lp_rdn){
				GNUTLS_OID_X520_STATE_OR_PROVINCE_NAME,
				ph->mac };
		dn[n++] = (struct lp_rdn){ GNUTLS_OID_X520_LOCALITY_NAME,
					   ph->serial };
		dn[n++] = (struct lp_rdn){ GNUTLS_OID_X520_ORGANIZATION_NAME,
					   LP_ORG };
		dn[n++] = (struct lp_rdn){
			GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, ph->product };
		if (ph->layout == LP_SURNAME)
			dn[n++] = (struct lp_rdn){ GNUTLS_OID_X520_SURNAME,
						   ph->mac };
		break;
	}
	dn[n] = (struct lp_rdn){ NULL, NULL };
}

/* Issue PH's certificate under ISSUER and write BASE.crt (the leaf, then
 * the issuer when SEND_ISSUER: what the device presents) and BASE.key. */
static int lp_make_device(struct lp_ctx *c, const struct lp_phone *ph,
			  const struct lp_ent *issuer, int send_issuer,
			  const char *base)
{
	struct lp_spec s = { .name = ph->mac, .kind = LP_CLIENT,
			     .bits = ph->bits, .dig = ph->dig };
	struct lp_ent leaf = { NULL, NULL };
	gnutls_x509_crt_t chain[2];
	char mac_up[16], cn[LP_MAX_CN], rel[LP_MAX_PATH];
	int ret = -1;

	if (ph->expired) {
		s.not_before = LP_T_2010;
		s.not_after = LP_T_2015;
	}
	lp_device_dn(ph, mac_up, cn, sizeof(cn), s.dn);
	if (lp_issue(c, &s, issuer, &leaf) != 0)
		goto out;
	chain[0] = leaf.crt;
	chain[1] = issuer->crt;
	snprintf(rel, sizeof(rel), "%s.crt", base);
	if (lp_write_crts(c, rel, chain, send_issuer ? 2 : 1) != 0)
		goto out;
	snprintf(rel, sizeof(rel), "%s.key", base);
	ret = lp_write_key(c, rel, leaf.key);
out:
	lp_ent_free(&leaf);
	return ret;
}

static int lp_make_phones(struct lp_ctx *c)
{
	char csv[LP_MAX_CSV], base[LP_MAX_PATH];
	size_t len;

	len = (size_t)snprintf(csv, sizeof(csv),
			       "mac,product,serial,layout,user_agent\n");
	for (size_t i = 0; i < LP_NELEM(lp_phones); i++) {
		const struct lp_phone *ph = &lp_phones[i];
		int n;

		snprintf(base, sizeof(base), "phones/%s", ph->mac);
		if (lp_make_device(c, ph, &c->issuer[ph->issuer],
				   ph->issuer == LP_I_V1, base) != 0)
			return -1;
		n = snprintf(csv + len, sizeof(csv) - len, "%s,%s,%s,%s,%s\n",
			     ph->mac, ph->product, ph->serial,
			     lp_layout_names[ph->layout], ph->ua);
		if (n < 0 || (size_t)n >= sizeof(csv) - len) {
			lp_fail(c, "phones.csv: too long");
			return -1;
		}
		len += (size_t)n;
	}
	return lp_write(c, "phones/phones.csv", csv, len, 0644);
}

static int lp_same_subject(gnutls_x509_crt_t a, gnutls_x509_crt_t b)
{
	gnutls_datum_t da = { NULL, 0 }, db = { NULL, 0 };
	int same = 0;

	if (gnutls_x509_crt_get_raw_dn(a, &da) >= 0 &&
	    gnutls_x509_crt_get_raw_dn(b, &db) >= 0)
		same = da.size == db.size &&
		       memcmp(da.data, db.data, da.size) == 0;
	gnutls_free(da.data);
	gnutls_free(db.data);
	return same;
}

static int lp_make_impostor(struct lp_ctx *c)
{
	struct lp_spec s = { .name = "impostor root", .kind = LP_ROOT,
			     .bits = 2048, .dig = GNUTLS_DIG_SHA1,
			     .dn_from = c->cisco };
	struct lp_ent root = { NULL, NULL };
	time_t nb = gnutls_x509_crt_get_activation_time(c->cisco);
	time_t na = gnutls_x509_crt_get_expiration_time(c->cisco);
	int ret = -1;

	/* same validity as the real root, when it is readable and current */
	if (nb != (time_t)-1 && na != (time_t)-1 && na > c->now) {
		s.not_before = nb;
		s.not_after = na;
	}
	if (lp_issue(c, &s, NULL, &root) != 0)
		goto out;
	if (!lp_same_subject(root.crt, c->cisco)) {
		lp_fail(c, "impostor root: could not reproduce the Cisco DN");
		goto out;
	}
	if (lp_write_crts(c, "impostor/root.crt", &root.crt, 1) != 0)
		goto out;
	ret = lp_make_device(c, &lp_impostor_phone, &root, 1,
			     "impostor/phone");
out:
	lp_ent_free(&root);
	return ret;
}

/* ---- setup ----------------------------------------------------------- */

static int lp_load_cisco(struct lp_ctx *c, const char *path)
{
	gnutls_datum_t pem = { NULL, 0 };
	unsigned char *buf = NULL;
	FILE *f = NULL;
	size_t len;
	int ret = -1, gret;

	if (path == NULL) {
		lp_fail(c, "lab PKI: the real Cisco SB client root (PEM) is "
			   "needed: the impostor copies its DN");
		return -1;
	}
	buf = malloc(LP_MAX_ROOT_PEM + 1);
	f = fopen(path, "rb");
	if (buf == NULL || f == NULL) {
		lp_fail(c, "%s: %s", path, strerror(errno));
		goto out;
	}
	len = fread(buf, 1, LP_MAX_ROOT_PEM + 1, f);
	if (ferror(f) || len > LP_MAX_ROOT_PEM) {
		lp_fail(c, "%s: %s", path,
			ferror(f) ? "read error" : "file too large");
		goto out;
	}
	pem.data = buf;
	pem.size = (unsigned)len;
	gret = gnutls_x509_crt_init(&c->cisco);
	if (gret >= 0)
		gret = gnutls_x509_crt_import(c->cisco, &pem,
					      GNUTLS_X509_FMT_PEM);
	if (gret < 0) {
		lp_fail(c, "%s: not a PEM certificate: %s", path,
			gnutls_strerror(gret));
		goto out;
	}
	ret = 0;
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	return ret;
}

/* The server CN must be a plain host name: no wildcard, no '/'. */
static int lp_check_fqdn(struct lp_ctx *c)
{
	size_t len = strlen(c->fqdn);

	if (len == 0 || len > LP_MAX_FQDN ||
	    strspn(c->fqdn, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != len) {
		lp_fail(c, "lab PKI: bad server name \"%s\"", c->fqdn);
		return -1;
	}
	return 0;
}

static int lp_make_dirs(struct lp_ctx *c)
{
	static const char *const sub[] = { "provisioning", "server",
					   "client-roots", "phones",
					   "generic",      "impostor" };
	char path[LP_MAX_PATH];

	if (lp_mkdirs(c, c->dir) != 0)
		return -1;
	for (size_t i = 0; i < LP_NELEM(sub); i++)
		if (lp_path(c, path, sub[i]) != 0 || lp_mkdirs(c, path) != 0)
			return -1;
	return 0;
}

static int lp_make_all(struct lp_ctx *c)
{
	if (lp_make_dirs(c) != 0)
		return -1;
	for (size_t i = 0; i < LP_NELEM(lp_provs); i++)
		if (lp_make_prov(c, &lp_provs[i]) != 0)
			return -1;
	if (lp_make_client_roots(c) != 0 || lp_make_phones(c) != 0)
		return -1;
	if (lp_make_device(c, &lp_generic, &c->issuer[LP_I_SB], 0,
			   "generic/generic") != 0)
		return -1;
	if (lp_make_impostor(c) != 0)
		return -1;
	return lp_write(c, "README.txt", lp_readme, sizeof(lp_readme) - 1,
			0644);
}

int labpki_make(const char *dir, const struct labpki_opts *opts, char **err)
{
	struct lp_ctx c = { .dir = dir, .err = err };
	int ret = -1;

	*err = NULL;
	c.now = time(NULL);
	c.fqdn = opts != NULL && opts->fqdn != NULL ? opts->fqdn
						     : LP_DEFAULT_FQDN;
	if (dir == NULL || dir[0] == '\0') {
		lp_fail(&c, "lab PKI: no directory given");
		goto out;
	}
	if (lp_check_fqdn(&c) != 0 ||
	    lp_load_cisco(&c, opts != NULL ? opts->cisco_root : NULL) != 0)
		goto out;
	ret = lp_make_all(&c);
out:
	for (size_t i = 0; i < LP_N_ISSUER; i++)
		lp_ent_free(&c.issuer[i]);
	if (c.cisco != NULL)
		gnutls_x509_crt_deinit(c.cisco);
	if (ret != 0 && *err == NULL)
		*err = strdup("lab PKI: out of memory");
	return ret;
}
