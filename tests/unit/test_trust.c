/* Unit tests for ca/labpki (the lab PKI) and ident/trust (client chain
 * verification).  One lab PKI is made in a private temporary directory
 * before the suite runs; every test reads it. */
#include "config.h"

#include <check.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ca/labpki.h"
#include "ident/trust.h"

#define FQDN "prov.lab.example"
#define MAX_PATH 4096
#define MAX_CERTS 16

static char pki[] = "/tmp/spaprov-test-trust-XXXXXX";
static char cisco_root[MAX_PATH];
static double make_seconds;

/* The lab phones: MAC, where the subject carries the MAC, issued under
 * the expired sb-client-root-1 or not. */
enum where { IN_ST, IN_ST_UPPER_AND_CN, IN_SURNAME };

static const struct phone {
	const char *mac;
	enum where where;
	int under_expired_root;
	size_t chain_len;
} phones[] = {
	{ "0022bd010201", IN_ST, 0, 1 },
	{ "0022bd010202", IN_ST, 0, 1 },
	{ "0022bd010203", IN_ST, 1, 1 },
	{ "0022bd010204", IN_ST_UPPER_AND_CN, 1, 2 },
	{ "0022bd010205", IN_ST, 0, 1 },
	{ "0022bd010206", IN_SURNAME, 1, 1 },
	{ "0022bd010207", IN_ST, 1, 1 },
	{ "0022bd010208", IN_ST, 1, 1 },
};
#define N_PHONES (sizeof(phones) / sizeof(phones[0]))

/* ---- helpers ---------------------------------------------------------- */

static const char *pki_path(char *buf, const char *rel)
{
	int n = snprintf(buf, MAX_PATH, "%s/%s", pki, rel);

	ck_assert(n > 0 && n < MAX_PATH);
	return buf;
}

/* Read a PEM file's certificates into crts[] (caller deinits). */
static size_t load_crts(const char *rel, gnutls_x509_crt_t *crts)
{
	char path[MAX_PATH];
	gnutls_datum_t pem = { NULL, 0 };
	unsigned n = MAX_CERTS;
	int ret;

	ret = gnutls_load_file(pki_path(path, rel), &pem);
	ck_assert_msg(ret >= 0, "%s: %s", path, gnutls_strerror(ret));
	ret = gnutls_x509_crt_list_import(crts, &n, &pem, GNUTLS_X509_FMT_PEM,
					  0);
	gnutls_free(pem.data);
	ck_assert_msg(ret > 0, "%s: %s", path, gnutls_strerror(ret));
	return n;
}

static gnutls_x509_crt_t load_crt(const char *rel)
{
	gnutls_x509_crt_t crts[MAX_CERTS];
	size_t n = load_crts(rel, crts);

	for (size_t i = 1; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	return crts[0];
}

/* A PEM chain as the DER datums trust_verify() takes. */
static size_t load_chain(const char *rel, gnutls_datum_t *der)
{
	gnutls_x509_crt_t crts[MAX_CERTS];
	size_t n = load_crts(rel, crts);

	for (size_t i = 0; i < n; i++) {
		ck_assert_int_ge(gnutls_x509_crt_export2(
					 crts[i], GNUTLS_X509_FMT_DER, &der[i]),
				 0);
		gnutls_x509_crt_deinit(crts[i]);
	}
	return n;
}

static void free_chain(gnutls_datum_t *der, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gnutls_free(der[i].data);
}

static struct trust *load_trust(const char *const *rel, size_t n,
				int time_check)
{
	char paths[4][MAX_PATH];
	const char *files[4];
	struct trust *t = NULL;
	char *err = NULL;

	ck_assert_uint_le(n, 4);
	for (size_t i = 0; i < n; i++)
		files[i] = rel[i][0] == '/' ? rel[i] : pki_path(paths[i], rel[i]);
	ck_assert_msg(trust_load(files, n, time_check, &t, &err) == 0, "%s",
		      err ? err : "?");
	ck_assert_ptr_nonnull(t);
	return t;
}

static struct trust *lab_trust(int time_check)
{
	const char *f[] = { "client-roots.pem" };

	return load_trust(f, 1, time_check);
}

/* Verify a chain file; returns the reason (NULL when trusted). */
static const char *verify_file(const struct trust *t, const char *rel)
{
	gnutls_datum_t der[MAX_CERTS];
	size_t n = load_chain(rel, der);
	const char *reason = NULL;
	int ret = trust_verify(t, der, n, &reason);

	free_chain(der, n);
	ck_assert_ptr_nonnull(reason);
	return ret == 0 ? NULL : reason;
}

static const char *phone_file(char *buf, const char *mac, const char *ext)
{
	snprintf(buf, MAX_PATH, "phones/%s.%s", mac, ext);
	return buf;
}

static char *dn_get(gnutls_x509_crt_t crt, const char *oid, char *buf,
		    size_t size)
{
	size_t len = size;

	if (gnutls_x509_crt_get_dn_by_oid(crt, oid, 0, 0, buf, &len) < 0)
		return NULL;
	return buf;
}

static unsigned key_bits(gnutls_x509_crt_t crt)
{
	unsigned bits = 0;

	ck_assert_int_eq(gnutls_x509_crt_get_pk_algorithm(crt, &bits),
			 GNUTLS_PK_RSA);
	return bits;
}

/* ---- trust: lab phones ------------------------------------------------ */

START_TEST(every_phone_verifies_without_time_check)
{
	struct trust *t = lab_trust(0);
	char rel[MAX_PATH];

	ck_assert_uint_eq(trust_count(t), 3);
	for (size_t i = 0; i < N_PHONES; i++) {
		const char *r = verify_file(t, phone_file(rel, phones[i].mac,
							  "crt"));
		ck_assert_msg(r == NULL, "%s: %s", phones[i].mac, r);
	}
	trust_free(t);
}
END_TEST

START_TEST(time_check_refuses_expired_chains)
{
	struct trust *t = lab_trust(1);
	char rel[MAX_PATH];

	for (size_t i = 0; i < N_PHONES; i++) {
		const char *r = verify_file(t, phone_file(rel, phones[i].mac,
							  "crt"));
		if (phones[i].under_expired_root)
			ck_assert_msg(r != NULL && strcmp(r, "expired") == 0,
				      "%s: %s", phones[i].mac, r ? r : "ok");
		else
			ck_assert_msg(r == NULL, "%s: %s", phones[i].mac, r);
	}
	ck_assert_str_eq(verify_file(t, "generic/generic.crt"), "expired");
	trust_free(t);
}
END_TEST

START_TEST(v1_intermediate_phone_needs_its_intermediate)
{
	struct trust *t = lab_trust(0);
	gnutls_datum_t der[MAX_CERTS];
	const char *reason = NULL;
	size_t n = load_chain("phones/0022bd010204.crt", der);

	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(trust_verify(t, der, 2, &reason), 0);
	ck_assert_int_eq(trust_verify(t, der, 1, &reason), -1);
	ck_assert_str_eq(reason, "signer-not-found");
	free_chain(der, n);
	trust_free(t);
}
END_TEST

START_TEST(generic_verifies)
{
	struct trust *t = lab_trust(0);
	gnutls_x509_crt_t crt = load_crt("generic/generic.crt");
	char buf[256];

	ck_assert_ptr_null(verify_file(t, "generic/generic.crt"));
	ck_assert_str_eq(dn_get(crt, GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME,
				buf, sizeof(buf)),
			 "cisco.com");
	ck_assert_str_eq(dn_get(crt, GNUTLS_OID_X520_LOCALITY_NAME, buf,
				sizeof(buf)),
			 "ciscogeneric");
	ck_assert_str_eq(dn_get(crt, GNUTLS_OID_X520_STATE_OR_PROVINCE_NAME,
				buf, sizeof(buf)),
			 "ciscogeneric");
	gnutls_x509_crt_deinit(crt);
	trust_free(t);
}
END_TEST

/* ---- trust: impostor ------------------------------------------------- */

START_TEST(impostor_copies_the_dn_but_fails)
{
	const char *bundle[] = { "client-roots.pem", cisco_root };
	const char *own[] = { "impostor/root.crt" };
	gnutls_x509_crt_t fake = load_crt("impostor/root.crt");
	gnutls_x509_crt_t real = NULL;
	gnutls_datum_t rf, rr, pem, der[MAX_CERTS];
	struct trust *t = load_trust(bundle, 2, 0), *mine;
	const char *reason = NULL;
	size_t n;

	/* same DER subject and issuer as the real root, other key */
	ck_assert_int_ge(gnutls_load_file(cisco_root, &pem), 0);
	ck_assert_int_ge(gnutls_x509_crt_init(&real), 0);
	ck_assert_int_ge(gnutls_x509_crt_import(real, &pem, GNUTLS_X509_FMT_PEM),
			 0);
	ck_assert_int_ge(gnutls_x509_crt_get_raw_dn(fake, &rf), 0);
	ck_assert_int_ge(gnutls_x509_crt_get_raw_dn(real, &rr), 0);
	ck_assert_uint_eq(rf.size, rr.size);
	ck_assert_mem_eq(rf.data, rr.data, rr.size);
	ck_assert_int_ne(gnutls_x509_crt_equals(fake, real), 1);
	ck_assert_uint_eq(trust_count(t), 4);

	/* the phone sends leaf + fake root; try both that and the leaf alone */
	n = load_chain("impostor/phone.crt", der);
	ck_assert_uint_eq(n, 2);
	for (size_t len = 1; len <= n; len++) {
		ck_assert_int_eq(trust_verify(t, der, len, &reason), -1);
		ck_assert_msg(strcmp(reason, "signer-not-found") == 0 ||
				      strcmp(reason, "signature-failure") == 0,
			      "chain of %zu: %s", len, reason);
	}
	/* ... while the certificate itself is sound under its own root */
	mine = load_trust(own, 1, 0);
	ck_assert_int_eq(trust_verify(mine, der, 1, &reason), 0);

	free_chain(der, n);
	gnutls_free(rf.data);
	gnutls_free(rr.data);
	gnutls_free(pem.data);
	gnutls_x509_crt_deinit(fake);
	gnutls_x509_crt_deinit(real);
	trust_free(mine);
	trust_free(t);
}
END_TEST

/* ---- trust: limits and errors ----------------------------------------- */

START_TEST(chain_too_long_and_malformed)
{
	struct trust *t = lab_trust(0);
	gnutls_datum_t der[MAX_CERTS], nine[TRUST_MAX_CHAIN + 1];
	unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	gnutls_datum_t bad = { junk, sizeof(junk) };
	const char *reason = NULL;
	size_t n = load_chain("phones/0022bd010202.crt", der);

	for (size_t i = 0; i < TRUST_MAX_CHAIN + 1; i++)
		nine[i] = der[0];
	ck_assert_int_eq(trust_verify(t, nine, TRUST_MAX_CHAIN + 1, &reason),
			 -1);
	ck_assert_str_eq(reason, "chain-too-long");
	ck_assert_int_eq(trust_verify(t, &bad, 1, &reason), -1);
	ck_assert_str_eq(reason, "malformed");
	ck_assert_int_eq(trust_verify(t, der, 0, &reason), -1);
	ck_assert_str_eq(reason, "malformed");
	ck_assert_int_eq(trust_verify(t, der, n, &reason), 0);
	free_chain(der, n);
	trust_free(t);
}
END_TEST

START_TEST(load_errors)
{
	char path[MAX_PATH], expect[MAX_PATH + 64];
	const char *files[2];
	struct trust *t = NULL;
	char *err = NULL;
	FILE *f;

	pki_path(path, "empty.pem");
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("no certificate in here\n", f);
	fclose(f);
	files[0] = cisco_root;
	files[1] = path;
	ck_assert_int_eq(trust_load(files, 2, 0, &t, &err), -1);
	ck_assert_ptr_null(t);
	snprintf(expect, sizeof(expect), "%s: no certificate found", path);
	ck_assert_str_eq(err, expect);
	free(err);
	unlink(path);

	files[0] = pki_path(path, "does-not-exist.pem");
	ck_assert_int_eq(trust_load(files, 1, 0, &t, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "does-not-exist.pem: "));
	free(err);
}
END_TEST

struct worker {
	const struct trust *t;
	gnutls_datum_t good[MAX_CERTS], bad[MAX_CERTS];
	size_t n_good, n_bad;
	int failures;
};

static void *verify_worker(void *arg)
{
	struct worker *w = arg;
	const char *reason;

	for (int i = 0; i < 200; i++) {
		if (trust_verify(w->t, w->good, w->n_good, &reason) != 0)
			w->failures++;
		if (trust_verify(w->t, w->bad, w->n_bad, &reason) == 0)
			w->failures++;
	}
	return NULL;
}

START_TEST(shared_by_threads)
{
	const char *bundle[] = { "client-roots.pem", cisco_root };
	struct trust *t = load_trust(bundle, 2, 0);
	struct worker w[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		w[i].t = t;
		w[i].failures = 0;
		w[i].n_good = load_chain("phones/0022bd010204.crt", w[i].good);
		w[i].n_bad = load_chain("impostor/phone.crt", w[i].bad);
		ck_assert_int_eq(pthread_create(&th[i], NULL, verify_worker,
						&w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(w[i].failures, 0);
		free_chain(w[i].good, w[i].n_good);
		free_chain(w[i].bad, w[i].n_bad);
	}
	trust_free(t);
}
END_TEST

/* ---- labpki: what it wrote -------------------------------------------- */

START_TEST(key_files_are_private)
{
	static const char *const ca[] = { "sipura", "linksys", "sb", "sb2k",
					  "mpp" };
	char rel[MAX_PATH], path[MAX_PATH];
	struct stat st;

	for (size_t i = 0; i < N_PHONES + 5 + 2; i++) {
		if (i < N_PHONES)
			phone_file(rel, phones[i].mac, "key");
		else if (i < N_PHONES + 5)
			snprintf(rel, sizeof(rel), "server/%s.key",
				 ca[i - N_PHONES]);
		else
			snprintf(rel, sizeof(rel), "%s",
				 i == N_PHONES + 5 ? "generic/generic.key"
						   : "impostor/phone.key");
		ck_assert_msg(stat(pki_path(path, rel), &st) == 0, "%s", rel);
		ck_assert_msg((st.st_mode & 07777) == 0600, "%s: %o", rel,
			      (unsigned)(st.st_mode & 07777));
	}
}
END_TEST

START_TEST(server_certificates)
{
	static const struct {
		const char *ca;
		unsigned bits;
		gnutls_sign_algorithm_t sign;
		const char *root_cn;
	} srv[] = {
		{ "sipura", 1024, GNUTLS_SIGN_RSA_SHA1,
		  "Sipura Technology Provisioning Root Authority 1" },
		{ "linksys", 1024, GNUTLS_SIGN_RSA_SHA1,
		  "Cisco Linksys Provisioning Root Authority 1" },
		{ "sb", 2048, GNUTLS_SIGN_RSA_SHA1,
		  "Cisco Small Business Provisioning Root Authority 1" },
		{ "sb2k", 2048, GNUTLS_SIGN_RSA_SHA1,
		  "Cisco Small Business Provisioning Root Authority 2" },
		{ "mpp", 2048, GNUTLS_SIGN_RSA_SHA256,
		  "Cisco Multiplatform Provisioning Root Authority (lab)" },
	};
	char rel[MAX_PATH], buf[256];

	for (size_t i = 0; i < sizeof(srv) / sizeof(srv[0]); i++) {
		gnutls_x509_crt_t crts[MAX_CERTS], root;
		unsigned status = 0;
		size_t n;

		snprintf(rel, sizeof(rel), "server/%s.crt", srv[i].ca);
		n = load_crts(rel, crts);
		ck_assert_uint_eq(n, 1); /* the leaf only */
		ck_assert_str_eq(dn_get(crts[0], GNUTLS_OID_X520_COMMON_NAME,
					buf, sizeof(buf)),
				 FQDN);
		ck_assert_uint_eq(key_bits(crts[0]), srv[i].bits);
		ck_assert_int_eq(gnutls_x509_crt_get_signature_algorithm(crts[0]),
				 srv[i].sign);
		ck_assert(gnutls_x509_crt_check_hostname(crts[0], FQDN));
		ck_assert(gnutls_x509_crt_check_hostname(crts[0], "localhost"));
		ck_assert(gnutls_x509_crt_check_ip(
			crts[0], (const unsigned char *)"\x7f\0\0\x01", 4, 0));

		snprintf(rel, sizeof(rel), "provisioning/%s-root.crt",
			 srv[i].ca);
		root = load_crt(rel);
		ck_assert_str_eq(dn_get(root, GNUTLS_OID_X520_COMMON_NAME, buf,
					sizeof(buf)),
				 srv[i].root_cn);
		ck_assert_int_ge(gnutls_x509_crt_verify(
					 crts[0], &root, 1,
					 GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1,
					 &status),
				 0);
		ck_assert_uint_eq(status, 0);
		gnutls_x509_crt_deinit(root);
		gnutls_x509_crt_deinit(crts[0]);
	}
}
END_TEST

START_TEST(old_algorithms_and_versions)
{
	gnutls_x509_crt_t md5 = load_crt("phones/0022bd010201.crt");
	gnutls_x509_crt_t sip = load_crt("client-roots/sipura-client-root-1.crt");
	gnutls_x509_crt_t v1 = load_crt("client-roots/v1-intermediate.crt");
	gnutls_x509_crt_t sb = load_crt("client-roots/sb-client-root-1.crt");
	gnutls_x509_crt_t cp = load_crt("phones/0022bd010205.crt");
	gnutls_x509_crt_t e = load_crt("phones/0022bd010203.crt");
	time_t now = time(NULL);

	ck_assert_int_eq(gnutls_x509_crt_get_signature_algorithm(md5),
			 GNUTLS_SIGN_RSA_MD5);
	ck_assert_uint_eq(key_bits(md5), 1024);
	ck_assert_int_eq(gnutls_x509_crt_get_version(sip), 1);
	ck_assert_int_eq(gnutls_x509_crt_get_signature_algorithm(sip),
			 GNUTLS_SIGN_RSA_MD5);
	ck_assert_int_eq(gnutls_x509_crt_get_version(v1), 1);
	ck_assert_int_eq(gnutls_x509_crt_get_signature_algorithm(v1),
			 GNUTLS_SIGN_RSA_SHA1);
	ck_assert_int_eq(gnutls_x509_crt_get_version(sb), 3);
	ck_assert(gnutls_x509_crt_get_expiration_time(sb) < now);
	ck_assert(gnutls_x509_crt_get_expiration_time(e) < now);
	ck_assert_int_eq(gnutls_x509_crt_get_signature_algorithm(cp),
			 GNUTLS_SIGN_RSA_SHA256);
	ck_assert_uint_eq(key_bits(cp), 2048);
	gnutls_x509_crt_deinit(md5);
	gnutls_x509_crt_deinit(sip);
	gnutls_x509_crt_deinit(v1);
	gnutls_x509_crt_deinit(sb);
	gnutls_x509_crt_deinit(cp);
	gnutls_x509_crt_deinit(e);
}
END_TEST

static void check_mac_place(const struct phone *p, gnutls_x509_crt_t crt)
{
	char buf[256], upper[16], cn[128];
	const char *st = dn_get(crt, GNUTLS_OID_X520_STATE_OR_PROVINCE_NAME,
				buf, sizeof(buf));

	switch (p->where) {
	case IN_ST:
		ck_assert_msg(st && strcmp(st, p->mac) == 0, "%s", p->mac);
		break;
	case IN_ST_UPPER_AND_CN:
		for (size_t i = 0; i < 13; i++)
			upper[i] = (char)((p->mac[i] >= 'a' && p->mac[i] <= 'f')
						  ? p->mac[i] - 'a' + 'A'
						  : p->mac[i]);
		ck_assert_str_eq(st, upper);
		ck_assert_ptr_nonnull(dn_get(crt, GNUTLS_OID_X520_COMMON_NAME,
					     cn, sizeof(cn)));
		ck_assert_ptr_nonnull(strstr(cn, p->mac));
		/* get_dn_by_oid escapes the commas (RFC 4514) */
		ck_assert_str_eq(cn, "SPA-525G2\\, MAC: 0022bd010204\\, "
				     "Serial: CBT141900G7");
		break;
	case IN_SURNAME:
		ck_assert_ptr_null(st);
		ck_assert_str_eq(dn_get(crt, GNUTLS_OID_X520_SURNAME, buf,
					sizeof(buf)),
				 p->mac);
		break;
	}
}

START_TEST(phones_carry_their_mac)
{
	char rel[MAX_PATH];

	for (size_t i = 0; i < N_PHONES; i++) {
		gnutls_x509_crt_t crts[MAX_CERTS];
		size_t n = load_crts(phone_file(rel, phones[i].mac, "crt"),
				     crts);

		ck_assert_uint_eq(n, phones[i].chain_len);
		check_mac_place(&phones[i], crts[0]);
		for (size_t j = 0; j < n; j++)
			gnutls_x509_crt_deinit(crts[j]);
	}
}
END_TEST

START_TEST(phones_csv_lists_every_phone)
{
	char path[MAX_PATH], line[512];
	FILE *f = fopen(pki_path(path, "phones/phones.csv"), "r");
	size_t rows = 0;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_str_eq(line, "mac,product,serial,layout,user_agent\n");
	while (fgets(line, sizeof(line), f) != NULL) {
		ck_assert_uint_lt(rows, N_PHONES);
		ck_assert_msg(strncmp(line, phones[rows].mac, 12) == 0 &&
				      line[12] == ',',
			      "%s", line);
		rows++;
	}
	fclose(f);
	ck_assert_uint_eq(rows, N_PHONES);
}
END_TEST

START_TEST(cisco_root_is_required)
{
	char dir[MAX_PATH], path[MAX_PATH];
	struct labpki_opts o = { NULL, NULL };
	char *err = NULL;

	snprintf(dir, sizeof(dir), "%s/never", pki);
	ck_assert_int_eq(labpki_make(dir, &o, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "Cisco"));
	free(err);
	o.cisco_root = pki_path(path, "no-such-root.pem");
	ck_assert_int_eq(labpki_make(dir, &o, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "no-such-root.pem"));
	free(err);
	o.cisco_root = pki_path(path, "phones/phones.csv");
	ck_assert_int_eq(labpki_make(dir, &o, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a PEM certificate"));
	free(err);
	ck_assert_int_ne(access(dir, F_OK), 0); /* nothing was made */
}
END_TEST

/* ---- setup ------------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static int make_pki(void)
{
	const char *top = getenv("top_srcdir");
	struct labpki_opts o = { FQDN, cisco_root };
	struct timespec a, b;
	char *err = NULL;

	snprintf(cisco_root, sizeof(cisco_root),
		 "%s/ca/cisco-sb-client-root-2.pem", top ? top : ".");
	if (mkdtemp(pki) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (labpki_make(pki, &o, &err) != 0) {
		fprintf(stderr, "labpki_make: %s\n", err);
		free(err);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	make_seconds = (double)(b.tv_sec - a.tv_sec) +
		       (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("labpki_make: %.3f s\n", make_seconds);
	return 0;
}

static Suite *trust_suite(void)
{
	Suite *s = suite_create("trust");
	TCase *tc = tcase_create("lab");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_phone_verifies_without_time_check);
	tcase_add_test(tc, time_check_refuses_expired_chains);
	tcase_add_test(tc, v1_intermediate_phone_needs_its_intermediate);
	tcase_add_test(tc, generic_verifies);
	tcase_add_test(tc, impostor_copies_the_dn_but_fails);
	tcase_add_test(tc, chain_too_long_and_malformed);
	tcase_add_test(tc, load_errors);
	tcase_add_test(tc, shared_by_threads);
	tcase_add_test(tc, key_files_are_private);
	tcase_add_test(tc, server_certificates);
	tcase_add_test(tc, old_algorithms_and_versions);
	tcase_add_test(tc, phones_carry_their_mac);
	tcase_add_test(tc, phones_csv_lists_every_phone);
	tcase_add_test(tc, cisco_root_is_required);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (make_pki() != 0)
		return EXIT_FAILURE;
	sr = srunner_create(trust_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(pki, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	/* the whole PKI is meant to take well under 5 s (not asserted: a
	 * sanitizer build or a loaded machine is slower) */
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
