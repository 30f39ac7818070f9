#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/fqdn.h"

static void expect_ok(const char *cn)
{
	const char *why = "unchanged";

	ck_assert_msg(ctl_fqdn_valid(cn, &why) == 1, "rejected '%s': %s", cn,
		      why ? why : "?");
	ck_assert_ptr_null(why);
}

/* Rejected, and the reason contains `part`. */
static void expect_bad(const char *cn, const char *part)
{
	const char *why = NULL;

	ck_assert_msg(ctl_fqdn_valid(cn, &why) == 0, "accepted '%s'",
		      cn ? cn : "(null)");
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, part) != NULL, "'%s': reason '%s' lacks "
		      "'%s'", cn ? cn : "(null)", why, part);
}

START_TEST(accepts_host_names)
{
	expect_ok("prov.example.com");
	expect_ok("prov.spaprov.test");
	expect_ok("a.b");
	expect_ok("PROV-1.Example.COM");
	expect_ok("123.example.com");     /* digits are fine below the top */
	expect_ok("xn--bcher-kva.example");
	ck_assert_int_eq(ctl_fqdn_valid("prov.example.com", NULL), 1);
}
END_TEST

START_TEST(rejects_wildcards_and_addresses)
{
	expect_bad("*.example.com", "wildcard");
	expect_bad("prov*.example.com", "wildcard");
	expect_bad("*", "wildcard");
	expect_bad("10.0.0.1", "IP address");
	expect_bad("192.168.1.254", "IP address");
	expect_bad("2001:db8::1", "IP address");
	expect_bad("::1", "IP address");
	expect_bad("10.0.0", "numeric");
	expect_bad("host.123", "numeric");
}
END_TEST

START_TEST(rejects_malformed_names)
{
	char label[64 + 1], longname[4 * 64 + 8];

	expect_bad(NULL, "empty");
	expect_bad("", "empty");
	expect_bad("provisioning", "no dot");
	expect_bad("localhost", "no dot");
	expect_bad("prov..example.com", "empty label");
	expect_bad(".example.com", "empty label");
	expect_bad("prov.example.com.", "empty label");
	expect_bad("-prov.example.com", "'-'");
	expect_bad("prov-.example.com", "'-'");
	expect_bad("prov_1.example.com", "letters, digits");
	expect_bad("prov.example.com/spa", "letters, digits");
	expect_bad("prov example.com", "letters, digits");
	expect_bad("pröv.example.com", "letters, digits");

	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(longname, sizeof(longname), "%s.example.com", label);
	expect_bad(longname, "longer than 63");
	label[63] = '\0';
	snprintf(longname, sizeof(longname), "%s.example.com", label);
	expect_ok(longname);

	/* 4 x 63 + 3 dots = 255 > 253 */
	snprintf(longname, sizeof(longname), "%s.%s.%s.%s", label, label,
		 label, label);
	expect_bad(longname, "longer than 253");
}
END_TEST

static Suite *fqdn_suite(void)
{
	Suite *s = suite_create("fqdn");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, accepts_host_names);
	tcase_add_test(tc, rejects_wildcards_and_addresses);
	tcase_add_test(tc, rejects_malformed_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fqdn_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
