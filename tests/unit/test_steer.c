/* Unit tests for fleet/steer (the CA table, versions, the Profile_Rule
 * URL) and fleet/identity (pins, url-mac). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "conf/conf.h"
#include "fleet/identity.h"
#include "fleet/steer.h"

/* --- versions ------------------------------------------------------------ */

START_TEST(version_order)
{
	/* each is older than the next */
	static const char *const chain[] = {
		"1.3.1", "1.3.3", "1.3.3(SR5)", "1.4.1", "6.1.5", "6.1.5(a)",
		"6.1.5b", "7.4.4", "7.4.8a", "7.5.2", "7.5.2b", "7.5.6",
		"7.5.6a", "7.5.7", "7.6.2", "7.6.10", "11.0",
	};
	size_t n = sizeof(chain) / sizeof(chain[0]);

	for (size_t i = 0; i + 1 < n; i++) {
		ck_assert_msg(steer_version_cmp(chain[i], chain[i + 1]) < 0,
			      "%s < %s", chain[i], chain[i + 1]);
		ck_assert_msg(steer_version_cmp(chain[i + 1], chain[i]) > 0,
			      "%s > %s", chain[i + 1], chain[i]);
	}
}
END_TEST

START_TEST(version_equal)
{
	ck_assert_int_eq(steer_version_cmp("7.5.6", "7.5.6"), 0);
	ck_assert_int_eq(steer_version_cmp("6.1.5(a)", "6.1.5a"), 0);
	ck_assert_int_eq(steer_version_cmp("1.3.3(SR5)", "1.3.3sr5"), 0);
	ck_assert_int_eq(steer_version_cmp("7.05.6", "7.5.6"), 0);
	ck_assert_int_eq(steer_version_cmp("", ""), 0);
}
END_TEST

START_TEST(version_edges)
{
	/* numbers compare as numbers, however long */
	ck_assert_int_lt(steer_version_cmp("7.5.9", "7.5.10"), 0);
	ck_assert_int_gt(steer_version_cmp("99999999999999999999.1",
					   "99999999999999999998.9"), 0);
	/* a number after the common part is newer than a letter */
	ck_assert_int_gt(steer_version_cmp("7.5.6.1", "7.5.6a"), 0);
	/* shorter is older */
	ck_assert_int_lt(steer_version_cmp("7.5", "7.5.0"), 0);
	ck_assert(steer_version_valid("7.5.6a"));
	ck_assert(!steer_version_valid("abc"));
	ck_assert(!steer_version_valid(""));
	ck_assert(!steer_version_valid(NULL));
}
END_TEST

/* --- the table ----------------------------------------------------------- */

static const char *first_ca(const char *model, const char *fw)
{
	struct steer_advice a;

	if (steer_lookup(model, fw, &a) < 0)
		return "unknown";
	ck_assert_uint_gt(a.n_cas, 0);
	return conf_ca_name(a.cas[0]);
}

START_TEST(table_families)
{
	static const struct {
		const char *model, *fw, *ca;
	} cases[] = {
		{ "SPA504G", "7.5.6", "sb2k" },
		{ "SPA504G", "7.5.6a", "sb2k" },
		{ "SPA504G", "7.5.5", "sb" },
		{ "SPA504G", "7.4.4", "sb" },
		{ "SPA504G", NULL, "sb" },
		{ "SPA-525G2", "7.5.7", "sb2k" },
		{ "spa525g2", "7.6.2", "sb2k" },
		{ "SPA501G", "7.6.2", "sb2k" },
		{ "SPA512G", "7.5.5", "sb" },
		{ "SPA112", "1.3.3", "sb2k" },
		{ "SPA112", "1.3.3(SR5)", "sb2k" },
		{ "SPA-122", "1.4.1", "sb2k" },
		{ "SPA112", "1.3.1", "sb" },
		{ "SPA232D", "1.3.3", "sb2k" },
		{ "SPA232D", "1.3.2", "sb" },
		{ "SPA232D", NULL, "sb" },
		{ "SPA301", "7.4.4", "sb" },
		{ "SPA303", NULL, "sb" },
		{ "SRP521W", NULL, "sb" },
		{ "SRP-541W", NULL, "sb" },
		{ "PAP2", "5.1.6", "linksys" },
		{ "PAP2-NA", NULL, "linksys" },
		{ "WRTP54G", NULL, "linksys" },
		{ "RTP300", NULL, "linksys" },
		{ "PAP2T", "5.1.6", "sipura" },
		{ "PAP2T-NA", NULL, "sipura" },
		{ "WRP400", NULL, "sipura" },
		{ "SPA-2102", "5.2.12", "sipura" },
		{ "SPA2000", NULL, "sipura" },
		{ "SPA3102", NULL, "sipura" },
		{ "SPA-962", "6.1.5(a)", "sipura" },
		{ "SPA942", NULL, "sipura" },
		{ "CP-8841-3PCC", "11.0", "mpp" },
		{ "CP-7841-3PCC", NULL, "mpp" },
		{ "ATA191", NULL, "unknown" },
		{ "SPA9000", NULL, "unknown" },
		{ "SPA8000", NULL, "unknown" },
		{ "CP-8841", NULL, "unknown" },
		{ "", NULL, "unknown" },
		{ "---", NULL, "unknown" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(strcmp(first_ca(cases[i].model, cases[i].fw),
				     cases[i].ca) == 0, "%s %s: %s, want %s",
			      cases[i].model, cases[i].fw ? cases[i].fw : "-",
			      first_ca(cases[i].model, cases[i].fw),
			      cases[i].ca);
	ck_assert_int_eq(steer_lookup(NULL, NULL,
				      &(struct steer_advice){ 0 }), -1);
}
END_TEST

/* The Linksys CA expired in 2015 and SPA50x firmware 7.6.2+ enforces
 * dates: no SPA5xx, whatever its firmware, is ever sent there. */
START_TEST(table_never_linksys_for_spa5xx)
{
	static const char *const models[] = { "SPA501G", "SPA502G", "SPA504G",
					      "SPA508G", "SPA509G", "SPA512G",
					      "SPA514G", "SPA525G", "SPA525G2" };
	static const char *const fws[] = { NULL, "7.1.3", "7.4.4", "7.5.5",
					   "7.5.6", "7.6.2", "7.6.2e" };
	struct steer_advice a;

	for (size_t m = 0; m < sizeof(models) / sizeof(models[0]); m++)
		for (size_t f = 0; f < sizeof(fws) / sizeof(fws[0]); f++) {
			ck_assert_int_eq(steer_lookup(models[m], fws[f], &a), 0);
			for (size_t i = 0; i < a.n_cas; i++)
				ck_assert_msg(a.cas[i] != CONF_CA_LINKSYS,
					      "%s %s", models[m],
					      fws[f] ? fws[f] : "-");
		}
}
END_TEST

START_TEST(table_firmware_known)
{
	struct steer_advice a;

	ck_assert_int_eq(steer_lookup("SPA504G", "7.5.7", &a), 0);
	ck_assert(a.firmware_known);
	ck_assert_str_eq(a.family, "SPA5xx");
	ck_assert_int_eq(steer_lookup("SPA504G", "garbage", &a), 0);
	ck_assert(!a.firmware_known);
	ck_assert_int_eq(steer_lookup("PAP2", "5.1.6", &a), 0);
	ck_assert(!a.firmware_known);
}
END_TEST

/* --- recommendations against a configuration ------------------------------ */

/* A configuration with listeners "name:ca" (no files: steer needs none). */
static struct conf *make_conf(const char *const *spec, size_t n)
{
	struct conf *c = calloc(1, sizeof(*c));

	ck_assert_ptr_nonnull(c);
	for (size_t i = 0; i < n; i++) {
		struct conf_listener *l = &c->listeners[c->n_listeners++];
		const char *colon = strchr(spec[i], ':');

		l->name = strndup(spec[i], (size_t)(colon - spec[i]));
		ck_assert_int_eq(conf_ca_parse(colon + 1, &l->ca), 0);
		l->address = strdup("192.0.2.1");
		l->port = 8440 + (unsigned)i;
	}
	return c;
}

static const char *const all_five[] = { "s:sipura", "l:linksys", "b:sb",
					"k:sb2k", "m:mpp" };

START_TEST(recommend_listener)
{
	struct conf *c = make_conf(all_five, 5);
	struct steer_advice a;

	steer_recommend(c, "SPA504G", "7.5.7", &a);
	ck_assert_ptr_nonnull(a.listener);
	ck_assert_str_eq(a.listener->name, "k");
	ck_assert_str_eq(a.reason, "model SPA504G firmware 7.5.7 trusts the "
				   "sb2k CA (SPA5xx firmware from 7.5.6)");
	steer_recommend(c, "SPA504G", "7.4.4", &a);
	ck_assert_str_eq(a.listener->name, "b");
	steer_recommend(c, "SPA504G", NULL, &a);
	ck_assert_str_eq(a.listener->name, "b");
	ck_assert_str_eq(a.reason, "model SPA504G trusts the sb CA (SPA5xx "
				   "firmware unknown: as before 7.5.6)");
	steer_recommend(c, "CP-8841-3PCC", "11.0", &a);
	ck_assert_str_eq(a.listener->name, "m");
	steer_recommend(c, "ATA191", NULL, &a);
	ck_assert_ptr_null(a.listener);
	ck_assert(!a.have_ca);
	ck_assert_str_eq(a.reason, "no CA known for model ATA191");
	steer_recommend(c, NULL, NULL, &a);
	ck_assert_str_eq(a.reason, "model unknown");
	conf_free(c);
}
END_TEST

START_TEST(recommend_fallbacks)
{
	static const char *const no_mpp_no_sb2k[] = { "s:sipura", "b:sb",
						      "k2:sb2k", "b2:sb" };
	struct conf *c = make_conf(no_mpp_no_sb2k, 2);
	struct steer_advice a;

	/* CP-*-3PCC: mpp if such a listener exists, else sb2k */
	steer_recommend(c, "CP-8841-3PCC", NULL, &a);
	ck_assert_ptr_null(a.listener);
	ck_assert_int_eq(a.ca, CONF_CA_MPP);
	ck_assert_ptr_nonnull(strstr(a.reason, "which no listener has"));
	/* SPA5xx 7.5.6+ without sb2k: sb */
	steer_recommend(c, "SPA525G2", "7.6.2", &a);
	ck_assert_str_eq(a.listener->name, "b");
	ck_assert_ptr_nonnull(strstr(a.reason, "; no sb2k listener"));
	conf_free(c);
	c = make_conf(no_mpp_no_sb2k, 4);
	steer_recommend(c, "CP-7841-3PCC", NULL, &a);
	ck_assert_str_eq(a.listener->name, "k2");
	ck_assert_int_eq(a.ca, CONF_CA_SB2K);
	ck_assert_ptr_nonnull(strstr(a.reason, "; no mpp listener"));
	/* the first listener of a CA */
	steer_recommend(c, "SPA303", NULL, &a);
	ck_assert_str_eq(a.listener->name, "b");
	conf_free(c);
}
END_TEST

START_TEST(misplaced)
{
	struct conf *c = make_conf(all_five, 5);
	struct steer_advice a;

	ck_assert(steer_misplaced(c, "SPA504G", "7.5.7", "sb", &a));
	ck_assert(!steer_misplaced(c, "SPA504G", "7.5.7", "sb2k", &a));
	ck_assert(!steer_misplaced(c, "SPA504G", "7.4.4", "sb", &a));
	ck_assert(steer_misplaced(c, "SPA504G", "7.4.4", "linksys", &a));
	ck_assert(!steer_misplaced(c, "ATA191", NULL, "sb", &a));
	ck_assert(!steer_misplaced(c, "SPA504G", "7.5.7", NULL, &a));
	conf_free(c);
}
END_TEST

/* --- hosts and the Profile_Rule ------------------------------------------ */

START_TEST(rule_public_name)
{
	struct conf *c = make_conf(all_five, 5);
	struct steer_hosts *h = NULL, *h2 = NULL;
	const char *why = NULL;
	char buf[STEER_MAX_RULE], *err = NULL;

	c->public_name = strdup("prov.example.com");
	ck_assert_int_eq(steer_hosts_load(c, &h, &err), 0);
	ck_assert_str_eq(steer_profile_rule(h, "k", buf, sizeof(buf), &why),
			 "https://prov.example.com:8443/spa$MA.xml");
	ck_assert_str_eq(steer_rule_for(c, h, NULL, "SPA-962", "6.1.5(a)", buf,
					sizeof(buf), &why),
			 "https://prov.example.com:8440/spa$MA.xml");
	/* unknown model: the listener in use */
	ck_assert_str_eq(steer_rule_for(c, h, &c->listeners[2], "ATA191",
					NULL, buf, sizeof(buf), &why),
			 "https://prov.example.com:8442/spa$MA.xml");
	ck_assert_ptr_null(steer_rule_for(c, h, NULL, "ATA191", NULL, buf,
					  sizeof(buf), &why));
	ck_assert_ptr_null(steer_profile_rule(h, "nope", buf, sizeof(buf),
					      &why));
	ck_assert_ptr_null(steer_profile_rule(h, "k", buf, 10, &why));
	ck_assert_str_eq(why, "the URL is too long");
	/* the same configuration gives the same hosts; a path does not */
	ck_assert_int_eq(steer_hosts_load(c, &h2, &err), 0);
	ck_assert(steer_hosts_same(h, h2));
	steer_hosts_free(h2);
	c->profile_path = strdup("/cfg/$MA/profile.xml");
	ck_assert_int_eq(steer_hosts_load(c, &h2, &err), 0);
	ck_assert(!steer_hosts_same(h, h2));
	ck_assert_str_eq(steer_profile_rule(h2, "m", buf, sizeof(buf), &why),
			 "https://prov.example.com:8444/cfg/$MA/profile.xml");
	steer_hosts_free(h2);
	steer_hosts_free(h);
	conf_free(c);
}
END_TEST

START_TEST(rule_port_zero)
{
	struct conf *c = make_conf(all_five, 5);
	struct steer_hosts *h = NULL;
	const char *why = NULL;
	char buf[STEER_MAX_RULE], *err = NULL;

	c->public_name = strdup("prov.example.com");
	c->listeners[3].port = 0;
	ck_assert_int_eq(steer_hosts_load(c, &h, &err), 0);
	ck_assert_ptr_null(steer_profile_rule(h, "k", buf, sizeof(buf), &why));
	ck_assert_ptr_nonnull(strstr(why, "port 0"));
	steer_hosts_bound(h, "k", 40123);
	ck_assert_str_eq(steer_profile_rule(h, "k", buf, sizeof(buf), &why),
			 "https://prov.example.com:40123/spa$MA.xml");
	steer_hosts_free(h);
	conf_free(c);
}
END_TEST

/* A self-signed certificate with subject CN `cn` (none if NULL), in a
 * temp file whose name is returned. */
static char *write_cert(const char *cn)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_datum_t pem;
	char *path = strdup("/tmp/test_steer.XXXXXX");
	int fd = mkstemp(path);
	unsigned char serial[1] = { 1 };

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(gnutls_x509_privkey_init(&key), 0);
	ck_assert_int_eq(gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA, 1024,
						      0), 0);
	ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
	gnutls_x509_crt_set_version(crt, 3);
	gnutls_x509_crt_set_serial(crt, serial, 1);
	gnutls_x509_crt_set_activation_time(crt, time(NULL) - 60);
	gnutls_x509_crt_set_expiration_time(crt, time(NULL) + 86400);
	if (cn != NULL)
		ck_assert_int_eq(gnutls_x509_crt_set_dn_by_oid(
			crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn)), 0);
	else
		ck_assert_int_eq(gnutls_x509_crt_set_dn_by_oid(
			crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "Lab", 3), 0);
	gnutls_x509_crt_set_key(crt, key);
	ck_assert_int_eq(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256,
					       0), 0);
	ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM,
						 &pem), 0);
	ck_assert_int_eq(write(fd, pem.data, pem.size), (ssize_t)pem.size);
	close(fd);
	gnutls_free(pem.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return path;
}

START_TEST(rule_certificate_cn)
{
	static const char *const two[] = { "k:sb2k", "b:sb" };
	struct conf *c = make_conf(two, 2);
	struct steer_hosts *h = NULL;
	const char *why = NULL;
	char buf[STEER_MAX_RULE], *err = NULL;

	c->listeners[0].certificate = write_cert("prov.example.net/ignored");
	c->listeners[1].certificate = write_cert(NULL);
	ck_assert_int_eq(steer_hosts_load(c, &h, &err), 0);
	ck_assert_str_eq(steer_profile_rule(h, "k", buf, sizeof(buf), &why),
			 "https://prov.example.net:8440/spa$MA.xml");
	/* no CN: no host, and the reason says what to do */
	ck_assert_ptr_null(steer_profile_rule(h, "b", buf, sizeof(buf), &why));
	ck_assert_ptr_nonnull(strstr(why, "public_name"));
	steer_hosts_free(h);
	/* an unreadable file: no host either (the TLS setup reports it) */
	unlink(c->listeners[0].certificate);
	ck_assert_int_eq(steer_hosts_load(c, &h, &err), 0);
	ck_assert_ptr_null(steer_profile_rule(h, "k", buf, sizeof(buf), &why));
	steer_hosts_free(h);
	unlink(c->listeners[1].certificate);
	conf_free(c);
}
END_TEST

/* --- identity ------------------------------------------------------------ */

START_TEST(pin_compare)
{
	const char *a = "9f86d081884c7d659a2feaa0c55ad015"
			"a3bf4f1b2b0b822cd15d6c15b0f00a08";
	const char *b = "60303ae22b998861bce3b28f33eec1be"
			"758a213c86c93c076dbe9f558c11c752";
	char detail[FLEET_PIN_DETAIL];

	ck_assert_int_eq(fleet_pin_compare(NULL, a), FLEET_PIN_NEW);
	ck_assert_int_eq(fleet_pin_compare("", a), FLEET_PIN_NEW);
	ck_assert_int_eq(fleet_pin_compare(a, a), FLEET_PIN_SAME);
	ck_assert_int_eq(fleet_pin_compare(a, b), FLEET_PIN_CHANGED);
	ck_assert_int_eq(fleet_pin_compare(a, NULL), FLEET_PIN_CHANGED);
	fleet_pin_detail(detail, sizeof(detail), a, b);
	ck_assert_str_eq(detail, "certificate changed: pinned 9f86d081884c7d659"
				 "a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00"
				 "a08, presented 60303ae22b998861bce3b28f33eec1"
				 "be758a213c86c93c076dbe9f558c11c752");
}
END_TEST

START_TEST(url_mac)
{
	char mac[MAC_LEN + 1];

	ck_assert_int_eq(fleet_url_mac("/config?Linksys0022BD010203", mac), 0);
	ck_assert_str_eq(mac, "0022bd010203");
	ck_assert_int_eq(fleet_url_mac("/spa0022bd010203.xml", mac), 0);
	ck_assert_str_eq(mac, "0022bd010203");
	ck_assert_int_eq(fleet_url_mac("/cfg/00:22:BD:01:02:03/"
				       "spa0022bd010203.xml", mac), 0);
	ck_assert_str_eq(mac, "0022bd010203");
	ck_assert_int_eq(fleet_url_mac("/config?", mac), -1);
	ck_assert_int_eq(fleet_url_mac("/spa.xml", mac), -1);
	ck_assert_int_eq(fleet_url_mac("/a/0022bd010203/0022bd010204", mac),
			 -1);
	ck_assert_str_eq(mac, "");
	ck_assert_int_eq(fleet_url_mac(NULL, mac), -1);
}
END_TEST

static Suite *steer_suite(void)
{
	Suite *s = suite_create("steer");
	TCase *t = tcase_create("core");

	tcase_set_timeout(t, 30);
	tcase_add_test(t, version_order);
	tcase_add_test(t, version_equal);
	tcase_add_test(t, version_edges);
	tcase_add_test(t, table_families);
	tcase_add_test(t, table_never_linksys_for_spa5xx);
	tcase_add_test(t, table_firmware_known);
	tcase_add_test(t, recommend_listener);
	tcase_add_test(t, recommend_fallbacks);
	tcase_add_test(t, misplaced);
	tcase_add_test(t, rule_public_name);
	tcase_add_test(t, rule_port_zero);
	tcase_add_test(t, rule_certificate_cn);
	tcase_add_test(t, pin_compare);
	tcase_add_test(t, url_mac);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(steer_suite());
	int failed;

	gnutls_global_init();
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	gnutls_global_deinit();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
