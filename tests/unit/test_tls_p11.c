#include "config.h"

/* PKCS#11 server keys (server/tls.c): the URL helpers, the errors found
 * before any token is touched, and, where SoftHSM2 is installed, keys in
 * a token made for the test: PIN handling, mismatch, the per-process
 * login. */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "server/tls.h"

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"

static char dir[64];
static char *cert_pem, *other_cert_pem; /* self-signed, ECDSA P-256 */
static char key_path[256], pin_path[256], wrong_pin_path[256],
	empty_pin_path[256];

/* ---- fixtures ------------------------------------------------------------ */

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* A self-signed certificate in PEM; the key as PKCS#8 PEM if key_out. */
static char *make_cert(const char *cn, const char *key_out)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_datum_t out = { NULL, 0 };
	unsigned char serial[] = { 0x01 };
	char *pem;

	ck_assert_int_ge(gnutls_x509_privkey_init(&key), 0);
	ck_assert_int_ge(gnutls_x509_privkey_generate(
				 key, GNUTLS_PK_ECDSA,
				 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
				 0),
			 0);
	ck_assert_int_ge(gnutls_x509_crt_init(&crt), 0);
	gnutls_x509_crt_set_version(crt, 3);
	gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	gnutls_x509_crt_set_activation_time(crt, time(NULL) - 60);
	gnutls_x509_crt_set_expiration_time(crt, time(NULL) + 86400);
	gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
				      (unsigned)strlen(cn));
	gnutls_x509_crt_set_key(crt, key);
	ck_assert_int_ge(gnutls_x509_crt_sign2(crt, crt, key,
					       GNUTLS_DIG_SHA256, 0),
			 0);
	ck_assert_int_ge(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM,
						 &out),
			 0);
	pem = strndup((const char *)out.data, out.size);
	gnutls_free(out.data);
	if (key_out != NULL) {
		ck_assert_int_ge(gnutls_x509_privkey_export2_pkcs8(
					 key, GNUTLS_X509_FMT_PEM, NULL,
					 GNUTLS_PKCS_PLAIN, &out),
				 0);
		write_file(key_out, out.data, out.size);
		gnutls_free(out.data);
	}
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return pem;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_tls_p11.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(key_path, sizeof(key_path), "%s/key.p8", dir);
	snprintf(pin_path, sizeof(pin_path), "%s/pin", dir);
	snprintf(wrong_pin_path, sizeof(wrong_pin_path), "%s/wrong-pin", dir);
	snprintf(empty_pin_path, sizeof(empty_pin_path), "%s/empty-pin", dir);
	write_file(pin_path, "1234\n", 5);
	write_file(wrong_pin_path, "9999", 4);
	write_file(empty_pin_path, "\n", 1);
	cert_pem = make_cert("prov.test", key_path);
	other_cert_pem = make_cert("other.test", NULL);
}

static void teardown(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cert_pem);
	free(other_cert_pem);
}

/* A SoftHSM2 token "spaprov" (PIN 1234) holding the key as "k1"; 0 if
 * SoftHSM2 is not installed. */
static int make_token(void)
{
	char conf[300], cmd[1024];
	FILE *f;

	if (access(SOFTHSM_MODULE, R_OK) != 0 ||
	    system("command -v softhsm2-util >/dev/null 2>&1") != 0) {
		fprintf(stderr, "# SoftHSM2 not installed: token tests "
				"skipped\n");
		return 0;
	}
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/tokens'", dir);
	ck_assert_int_eq(system(cmd), 0);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "directories.tokendir = %s/tokens\n"
		   "objectstore.backend = file\nlog.level = ERROR\n", dir);
	fclose(f);
	setenv("SOFTHSM2_CONF", conf, 1);
	snprintf(cmd, sizeof(cmd),
		 "softhsm2-util --init-token --free --label spaprov --pin 1234 "
		 "--so-pin 5678 >/dev/null && softhsm2-util --import '%s' "
		 "--token spaprov --label k1 --id 01 --pin 1234 >/dev/null",
		 key_path);
	ck_assert_int_eq(system(cmd), 0);
	return 1;
}

/* tls_p11_open() fails with *what and a message containing `part`. */
static void expect_open_error(const char *module, const char *url,
			      const char *pin_file, const char *pem,
			      enum tls_p11_what want, const char *part)
{
	struct tls_p11key *k = NULL;
	enum tls_p11_what what = TLS_P11_KEY;
	char *err = NULL;

	ck_assert_int_eq(tls_p11_open(module, url, pin_file, pem, "cert.pem",
				      1, &k, &what, &err),
			 -1);
	ck_assert_ptr_null(k);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, part) != NULL, "'%s' lacks '%s'", err, part);
	ck_assert_int_eq(what, want);
	ck_assert_msg(strstr(err, "1234") == NULL, "PIN in '%s'", err);
	free(err);
}

/* ---- URL helpers -------------------------------------------------------- */

START_TEST(recognises_urls)
{
	ck_assert_int_eq(tls_key_is_url("pkcs11:token=a;object=b"), 1);
	ck_assert_int_eq(tls_key_is_url("PKCS11:object=b"), 1);
	ck_assert_int_eq(tls_key_is_url("/etc/spaprov/sb.key"), 0);
	ck_assert_int_eq(tls_key_is_url("pkcs11"), 0);
	ck_assert_int_eq(tls_key_is_url(NULL), 0);
}
END_TEST

START_TEST(reads_attributes)
{
	const char *url = "pkcs11:model=SoftHSM%20v2;token=my%3Btoken;id=%01;"
			  "object=sb-key;type=private?pin-value=12%2534&"
			  "module-name=softhsm2";
	char buf[64], small[4];

	ck_assert_int_eq(tls_url_attr(url, "token", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "my;token");
	ck_assert_int_eq(tls_url_attr(url, "model", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "SoftHSM v2");
	ck_assert_int_eq(tls_url_attr(url, "id", buf, sizeof(buf)), 0);
	ck_assert_int_eq(buf[0], 1);
	ck_assert_int_eq(buf[1], 0);
	ck_assert_int_eq(tls_url_attr(url, "pin-value", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "12%34");
	ck_assert_int_eq(tls_url_attr(url, "module-name", buf, sizeof(buf)),
			 0);
	ck_assert_str_eq(buf, "softhsm2");
	ck_assert_int_eq(tls_url_attr(url, "serial", buf, sizeof(buf)), -1);
	ck_assert_int_eq(tls_url_attr(url, "object", small, sizeof(small)),
			 0);
	ck_assert_str_eq(small, "sb-");       /* cut, NUL-terminated */
	/* "obj" is not "object"; a bad escape stays as written */
	ck_assert_int_eq(tls_url_attr(url, "obj", buf, sizeof(buf)), -1);
	ck_assert_int_eq(tls_url_attr("pkcs11:object=a%zz%4", "object", buf,
				      sizeof(buf)),
			 0);
	ck_assert_str_eq(buf, "a%zz%4");
	ck_assert_int_eq(tls_url_attr("/a/file", "object", buf, sizeof(buf)),
			 -1);
}
END_TEST

START_TEST(redacts_the_pin)
{
	char *s;

	s = tls_url_redacted("pkcs11:token=t;pin-value=1234;object=k");
	ck_assert_str_eq(s, "pkcs11:token=t;pin-value=***;object=k");
	free(s);
	s = tls_url_redacted("pkcs11:token=t?pin-value=1234&x=y&pin-value=5");
	ck_assert_str_eq(s, "pkcs11:token=t?pin-value=***&x=y&pin-value=***");
	free(s);
	s = tls_url_redacted("pkcs11:token=t;object=k");
	ck_assert_str_eq(s, "pkcs11:token=t;object=k");
	free(s);
	s = tls_url_redacted("pkcs11:pin-value=");
	ck_assert_str_eq(s, "pkcs11:pin-value=***");
	free(s);
}
END_TEST

START_TEST(compares_pem_keys)
{
	struct tls_material a = { .key_pem = "A" }, b = { .key_pem = "A" },
			    c = { .key_pem = "B" };

	ck_assert_int_eq(tls_material_same_key(&a, &b), 1);
	ck_assert_int_eq(tls_material_same_key(&a, &c), 0);
}
END_TEST

/* ---- errors found before any token -------------------------------------- */

START_TEST(refuses_bad_input_early)
{
	const char *url = "pkcs11:token=spaprov;object=k1;type=private";

	expect_open_error(NULL, url, pin_path, "not a certificate",
			  TLS_P11_CERT, "cert.pem: not a PEM certificate");
	expect_open_error(NULL, "pkcs11:token=spaprov;object=k1;type=cert",
			  pin_path, cert_pem, TLS_P11_KEY,
			  "type=cert object: the key must be type=private");
	expect_open_error(NULL,
			  "pkcs11:token=spaprov;object=k1;pin-value=1234",
			  pin_path, cert_pem, TLS_P11_PIN_FILE,
			  "give the PIN once");
	expect_open_error(NULL, url, empty_pin_path, cert_pem,
			  TLS_P11_PIN_FILE, "holds no PIN");
	expect_open_error(NULL, url, "/nonexistent/pin", cert_pem,
			  TLS_P11_PIN_FILE, "cannot read /nonexistent/pin");
	expect_open_error("/nonexistent/module.so", url, pin_path, cert_pem,
			  TLS_P11_MODULE,
			  "cannot load the PKCS#11 module /nonexistent/module.so");
}
END_TEST

/* ---- a SoftHSM2 token ---------------------------------------------------- */

START_TEST(opens_the_key_and_checks_it)
{
	const char *url = "pkcs11:token=spaprov;object=k1;type=private";
	struct tls_p11key *k = NULL, *again = NULL;
	struct tls_material a = { 0 }, b = { 0 };
	enum tls_p11_what what;
	char *err = NULL;

	if (!make_token())
		return;
	ck_assert_msg(tls_p11_open(SOFTHSM_MODULE, url, pin_path, cert_pem,
				   "cert.pem", 3, &k, &what, &err) == 0,
		      "%s", err ? err : "?");
	ck_assert_str_eq(tls_p11_token(k), "spaprov");
	ck_assert_ptr_null(tls_p11_pin_note(k));
	ck_assert_int_eq(tls_p11_check_use(k, &err), 0);
	/* same key again (a reload): same key, PIN known to be right */
	ck_assert_int_eq(tls_p11_open(SOFTHSM_MODULE, url, pin_path, cert_pem,
				      "cert.pem", 1, &again, &what, &err),
			 0);
	ck_assert_ptr_null(tls_p11_pin_note(again));
	a.p11 = k;
	b.p11 = again;
	ck_assert_int_eq(tls_material_same_key(&a, &b), 1);
	tls_p11_free(again);
	again = NULL;
	/* another PIN while logged in: accepted, but said to be unchecked */
	ck_assert_int_eq(tls_p11_open(SOFTHSM_MODULE, url, wrong_pin_path,
				      cert_pem, "cert.pem", 1, &again, &what,
				      &err),
			 0);
	ck_assert_ptr_nonnull(tls_p11_pin_note(again));
	ck_assert_ptr_nonnull(strstr(tls_p11_pin_note(again),
				     "logged in with another PIN"));
	tls_p11_free(again);
	/* a PEM key is never the same as a token key */
	b.p11 = NULL;
	b.key_pem = "PEM";
	ck_assert_int_eq(tls_material_same_key(&a, &b), 0);
	/* the wrong certificate */
	expect_open_error(SOFTHSM_MODULE, url, pin_path, other_cert_pem,
			  TLS_P11_KEY, "mismatch: the key in token 'spaprov', "
				       "object 'k1' is not the one the "
				       "certificate cert.pem certifies");
	tls_p11_free(k);
}
END_TEST

START_TEST(says_what_is_wrong)
{
	const char *url = "pkcs11:token=spaprov;object=k1;type=private";

	if (!make_token())
		return;
	/* no session is open: every open logs in again */
	expect_open_error(SOFTHSM_MODULE, url, wrong_pin_path, cert_pem,
			  TLS_P11_KEY,
			  "wrong PIN for token 'spaprov' (from ");
	expect_open_error(SOFTHSM_MODULE,
			  "pkcs11:token=spaprov;object=k1;pin-value=4321",
			  NULL, cert_pem, TLS_P11_KEY,
			  "wrong PIN for token 'spaprov' (from the URL's "
			  "pin-value)");
	expect_open_error(SOFTHSM_MODULE, url, NULL, cert_pem, TLS_P11_KEY,
			  "token 'spaprov' needs a PIN: set key_pin_file");
	expect_open_error(SOFTHSM_MODULE,
			  "pkcs11:token=spaprov;object=k2;type=private",
			  pin_path, cert_pem, TLS_P11_KEY,
			  "no such object: no private key in token 'spaprov', "
			  "object 'k2'");
	expect_open_error(SOFTHSM_MODULE,
			  "pkcs11:token=other;object=k1;type=private",
			  pin_path, cert_pem, TLS_P11_KEY,
			  "token not found: no PKCS#11 token matches the "
			  "URL's token 'other', object 'k1' (tokens seen: "
			  "'spaprov')");
}
END_TEST

START_TEST(takes_the_pin_from_the_url)
{
	struct tls_p11key *k = NULL;
	enum tls_p11_what what;
	char *err = NULL;

	if (!make_token())
		return;
	ck_assert_msg(tls_p11_open(SOFTHSM_MODULE,
				   "pkcs11:token=spaprov;object=k1;"
				   "type=private?pin-value=1234",
				   NULL, cert_pem, "cert.pem", 2, &k, &what,
				   &err) == 0,
		      "%s", err ? err : "?");
	ck_assert_ptr_null(tls_p11_pin_note(k));
	ck_assert_int_eq(tls_p11_check_use(k, &err), 0);
	tls_p11_free(k);
}
END_TEST

static Suite *tls_p11_suite(void)
{
	Suite *s = suite_create("tls_p11");
	TCase *url = tcase_create("url");
	TCase *open = tcase_create("open");

	tcase_add_test(url, recognises_urls);
	tcase_add_test(url, reads_attributes);
	tcase_add_test(url, redacts_the_pin);
	tcase_add_test(url, compares_pem_keys);
	suite_add_tcase(s, url);
	tcase_add_checked_fixture(open, setup, teardown);
	tcase_set_timeout(open, 60);
	tcase_add_test(open, refuses_bad_input_early);
	tcase_add_test(open, opens_the_key_and_checks_it);
	tcase_add_test(open, says_what_is_wrong);
	tcase_add_test(open, takes_the_pin_from_the_url);
	suite_add_tcase(s, open);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tls_p11_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
