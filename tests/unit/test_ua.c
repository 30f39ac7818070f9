#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident/ua.h"

static void expect_ua(const char *s, const char *vendor, const char *model,
		      const char *firmware, const char *mac,
		      const char *serial)
{
	struct ua u;

	memset(&u, 0x5a, sizeof(u));
	ck_assert_msg(ua_parse(s, &u) == 0, "rejected: '%s'", s);
	ck_assert_str_eq(u.vendor, vendor);
	ck_assert_str_eq(u.model, model);
	ck_assert_str_eq(u.firmware, firmware);
	ck_assert_str_eq(u.mac, mac);
	ck_assert_str_eq(u.serial, serial);
}

static void expect_reject(const char *s)
{
	struct ua u;

	memset(&u, 0x5a, sizeof(u));
	ck_assert_msg(ua_parse(s, &u) == -1, "accepted: '%.80s'", s ? s : "NULL");
	ck_assert_str_eq(u.vendor, "");
	ck_assert_str_eq(u.model, "");
	ck_assert_str_eq(u.firmware, "");
	ck_assert_str_eq(u.mac, "");
	ck_assert_str_eq(u.serial, "");
}

START_TEST(header_examples)
{
	/* Linksys firmware sends its serial, which is 12 hex digits too
	 * (88012BA01234): never read as a MAC for that vendor */
	expect_ua("Linksys/SPA-2102-2.0.5 (88012BA01234)",
		  "Linksys", "SPA-2102", "2.0.5", "", "88012BA01234");
	expect_ua("Linksys/SPA-942-6.1.5(a) (88019FA42805)",
		  "Linksys", "SPA-942", "6.1.5(a)", "", "88019FA42805");
	expect_ua("Cisco/SPA501G-7.4.4 (8843E157DDCC)(CBT141100HR)",
		  "Cisco", "SPA501G", "7.4.4", "8843e157ddcc", "CBT141100HR");
	expect_ua("Cisco/SPA525G-7.4.7 (CBT141900G7)",
		  "Cisco", "SPA525G", "7.4.7", "", "CBT141900G7");
	expect_ua("Cisco-CP-8841-3PCC/11.0 (00562b043615)",
		  "Cisco", "CP-8841-3PCC", "11.0", "00562b043615", "");
	expect_ua("Sipura/SPA2002-3.1.2(a)",
		  "Sipura", "SPA2002", "3.1.2(a)", "", "");
}
END_TEST

START_TEST(version_shapes)
{
	expect_ua("Cisco/SPA504G-7.4.8a (0022BD010203)",
		  "Cisco", "SPA504G", "7.4.8a", "0022bd010203", "");
	expect_ua("Cisco/SPA112-1.4.1(SR5) (0022bd010203)(CCQ17190A1B)",
		  "Cisco", "SPA112", "1.4.1(SR5)", "0022bd010203", "CCQ17190A1B");
	expect_ua("Sipura/SPA-3102-3.3.6 (FM500F1A2B3C4)",
		  "Sipura", "SPA-3102", "3.3.6", "", "FM500F1A2B3C4");
	/* Sipura with MAC and serial, groups separated by a space */
	expect_ua("Sipura/SPA2000-3.1.5 (000E08ABCDEF) (FM500F123456X)",
		  "Sipura", "SPA2000", "3.1.5", "000e08abcdef", "FM500F123456X");
}
END_TEST

START_TEST(mpp)
{
	/* MPP with a serial-like group */
	expect_ua("Cisco-CP-8841-3PCC/11.0 (FCH2145ABCD)",
		  "Cisco", "CP-8841-3PCC", "11.0", "", "FCH2145ABCD");
	expect_ua("Cisco-CP-7841-3PCC/11.3.1 (00562B043615)(FCH2145ABCD)",
		  "Cisco", "CP-7841-3PCC", "11.3.1", "00562b043615", "FCH2145ABCD");
	expect_ua("Cisco-CP-6851-3PCC/11.2.3MPP0001-128",
		  "Cisco", "CP-6851-3PCC", "11.2.3MPP0001-128", "", "");
}
END_TEST

START_TEST(groups)
{
	/* first MAC and first serial win; other text and odd groups ignored */
	expect_ua("Cisco/SPA501G-7.4.4 (8843E157DDCC)(0022bd010203)(A1)(B2)",
		  "Cisco", "SPA501G", "7.4.4", "8843e157ddcc", "A1");
	expect_ua("Cisco/SPA501G-7.4.4 extra (X11; Linux) (CBT141100HR)",
		  "Cisco", "SPA501G", "7.4.4", "", "CBT141100HR");
	expect_ua("Cisco/SPA501G-7.4.4 () (CBT141100HR", "Cisco", "SPA501G",
		  "7.4.4", "", "");
	expect_ua("Cisco/SPA501G-7.4.4 (8843E157DDC)", /* 11 hex: a serial */
		  "Cisco", "SPA501G", "7.4.4", "", "8843E157DDC");
	expect_ua("Cisco/SPA501G-7.4.4 (8843E157DDCCA)",
		  "Cisco", "SPA501G", "7.4.4", "", "8843E157DDCCA");
}
END_TEST

START_TEST(not_devices)
{
	expect_reject("curl/7.88.1");
	expect_reject("Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0");
	expect_reject("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
		      "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36");
	expect_reject("Wget/1.21.3");
	expect_reject("python-requests/2.31.0");
	expect_reject("Go-http-client/1.1");
	expect_reject("Apache-HttpClient/4.5.13 (Java/17.0.8)");
	expect_reject("<script>alert(1)</script>");
	expect_reject("Cisco/<script>-1.0");
	expect_reject("Cisco/SPA501G-<b>1</b>");
}
END_TEST

START_TEST(malformed)
{
	struct ua u;

	ck_assert_int_eq(ua_parse(NULL, &u), -1);
	ck_assert_str_eq(u.vendor, "");
	ck_assert_int_eq(ua_parse("Cisco/SPA501G-7.4.4", NULL), -1);
	expect_reject(NULL);
	expect_reject("");
	expect_reject(" ");
	expect_reject("Cisco");
	expect_reject("SPA501G-7.4.4");     /* no '/' */
	expect_reject("/SPA501G-7.4.4");    /* empty vendor */
	expect_reject("Cisco/-7.4.4");      /* empty model */
	expect_reject("Cisco/SPA501G-");    /* empty version */
	expect_reject("Cisco/SPA501G");     /* no '-' */
	expect_reject("Cisco-/11.0");       /* empty MPP model */
	expect_reject("Cisco-CP-8841-3PCC/"); /* empty MPP version */
	expect_reject("Cisco-CP-8841-3PCC/ (00562b043615)");
	expect_reject(" Cisco/SPA501G-7.4.4");
	expect_reject("Cisco/SPA/501G-7.4.4");
	expect_reject("Cisco/SPA501G-v7.4.4"); /* version without a digit first */
	expect_reject("Cis co/SPA501G-7.4.4");
}
END_TEST

START_TEST(control_chars)
{
	expect_reject("Cisco/SPA501G-7.4.4\r\nX-Injected: 1");
	expect_reject("Cisco/SPA501G-7.4.4\t(8843E157DDCC)");
	expect_reject("Cisco/SPA501G-7.4.4 (8843E157DDCC)\x1b[31m");
	expect_reject("Cisco/SPA501G-7.4.4 (CBT\x7f)");
	expect_reject("\x01" "Cisco/SPA501G-7.4.4");
	expect_reject("Cisco/SPA501G-7.4.4 (CBT141100H\xc3\xa9)"); /* non-ASCII */
}
END_TEST

START_TEST(lengths)
{
	char buf[UA_MAX_LEN + 2];
	char field[UA_MAX_FIELD + 1];
	size_t base;

	/* exactly UA_MAX_LEN is parsed, one more is refused */
	strcpy(buf, "Cisco/SPA501G-7.4.4 (CBT141100HR) ");
	base = strlen(buf);
	memset(buf + base, 'x', UA_MAX_LEN - base);
	buf[UA_MAX_LEN] = '\0';
	expect_ua(buf, "Cisco", "SPA501G", "7.4.4", "", "CBT141100HR");
	buf[UA_MAX_LEN] = 'x';
	buf[UA_MAX_LEN + 1] = '\0';
	expect_reject(buf);

	/* a field of UA_MAX_FIELD - 1 fits, one more is refused */
	memset(field, 'A', UA_MAX_FIELD - 1);
	field[UA_MAX_FIELD - 1] = '\0';
	snprintf(buf, sizeof(buf), "Cisco/SPA501G-7.4.4 (%s)", field);
	expect_ua(buf, "Cisco", "SPA501G", "7.4.4", "", field);
	snprintf(buf, sizeof(buf), "%s/SPA501G-7.4.4", field);
	expect_ua(buf, field, "SPA501G", "7.4.4", "", "");
	field[UA_MAX_FIELD - 1] = 'A';
	field[UA_MAX_FIELD] = '\0';
	snprintf(buf, sizeof(buf), "Cisco/SPA501G-7.4.4 (%s)", field);
	expect_reject(buf);
	snprintf(buf, sizeof(buf), "%s/SPA501G-7.4.4", field);
	expect_reject(buf);
	snprintf(buf, sizeof(buf), "Cisco/SPA501G%s-7.4.4", field);
	expect_reject(buf);
	snprintf(buf, sizeof(buf), "Cisco/SPA501G-7.4.4%s", field);
	expect_reject(buf);
	snprintf(buf, sizeof(buf), "Cisco-CP-8841%s/11.0", field);
	expect_reject(buf);
}
END_TEST

static Suite *ua_suite(void)
{
	Suite *s = suite_create("ua");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, header_examples);
	tcase_add_test(tc, version_shapes);
	tcase_add_test(tc, mpp);
	tcase_add_test(tc, groups);
	tcase_add_test(tc, not_devices);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, control_chars);
	tcase_add_test(tc, lengths);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ua_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
