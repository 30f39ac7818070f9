#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util/mac.h"

static const char *const DEV = "0022bd010203";

/* --- mac_normalize ----------------------------------------------------- */

static void expect_norm(const char *in, const char *want)
{
	char out[MAC_LEN + 1] = "unchanged!!";

	ck_assert_msg(mac_normalize(in, out) == 0, "rejected: '%s'", in);
	ck_assert_str_eq(out, want);
}

static void expect_bad(const char *in)
{
	char out[MAC_LEN + 1] = "unchanged!!";

	ck_assert_msg(mac_normalize(in, out) == -1, "accepted: '%s'", in);
	ck_assert_str_eq(out, "unchanged!!");
}

START_TEST(normalize_forms)
{
	expect_norm("000E08ABCDEF", "000e08abcdef");
	expect_norm("000e08abcdef", "000e08abcdef");
	expect_norm("00:0e:08:ab:cd:ef", "000e08abcdef");
	expect_norm("00:0E:08:AB:CD:EF", "000e08abcdef");
	expect_norm("00-0E-08-AB-CD-EF", "000e08abcdef");
	expect_norm("000e.08ab.cdef", "000e08abcdef");
	expect_norm("000E.08AB.CDEF", "000e08abcdef");
}
END_TEST

START_TEST(normalize_whitespace)
{
	expect_norm("  000E08ABCDEF", "000e08abcdef");
	expect_norm("000E08ABCDEF\r\n", "000e08abcdef");
	expect_norm("\t 00:0e:08:ab:cd:ef \t", "000e08abcdef");
	expect_bad("000E08 ABCDEF");
	expect_bad("00: 0e:08:ab:cd:ef");
}
END_TEST

START_TEST(normalize_garbage)
{
	char out[MAC_LEN + 1];

	ck_assert_int_eq(mac_normalize(NULL, out), -1);
	expect_bad("");
	expect_bad("   ");
	expect_bad("000E08ABCDE");       /* 11 digits */
	expect_bad("000E08ABCDEF0");     /* 13 digits */
	expect_bad("000E08ABCDEG");      /* not hex */
	expect_bad("00:0e:08-ab:cd:ef"); /* mixed separators */
	expect_bad("00:0e:08:ab:cd:ef:"); /* trailing separator */
	expect_bad("0:0e:08:ab:cd:eff");  /* groups misplaced */
	expect_bad("00.0e.08.ab.cd.ef");
	expect_bad("000e:08ab:cdef");
	expect_bad("000e.08ab-cdef");
	expect_bad("000e08.abcdef");
	expect_bad("ciscogeneric");
	expect_bad("0x0e08abcdef");
	expect_bad("000E08ABCDEF\x01");
	expect_bad("\xc3\xa9\xc3\xa9" "0E08ABCDEF");
}
END_TEST

START_TEST(is_hex12)
{
	ck_assert_int_eq(mac_is_hex12("0022bd010203", 12), 1);
	ck_assert_int_eq(mac_is_hex12("0022BD010203", 12), 1);
	ck_assert_int_eq(mac_is_hex12("0022bd010203", 11), 0);
	ck_assert_int_eq(mac_is_hex12("0022bd0102034", 13), 0);
	ck_assert_int_eq(mac_is_hex12("0022bd01020g", 12), 0);
	ck_assert_int_eq(mac_is_hex12("0022bd01020\0", 12), 0);
	ck_assert_int_eq(mac_is_hex12("0022bd010203xyz", 12), 1);
	ck_assert_int_eq(mac_is_hex12(NULL, 12), 0);
	ck_assert_int_eq(mac_is_hex12("", 0), 0);
}
END_TEST

/* --- mac_path_check ----------------------------------------------------- */

static void expect_path(const char *path, const char *mac,
			enum mac_path_result want, const char *want_found)
{
	char found[MAC_LEN + 1] = "xxxxxxxxxxxx";
	enum mac_path_result r = mac_path_check(path, mac, found);

	ck_assert_msg(r == want, "path '%.60s' mac %s: got %d, want %d", path,
		      mac ? mac : "NULL", (int)r, (int)want);
	ck_assert_str_eq(found, want_found);
}

START_TEST(path_match)
{
	expect_path("/spa0022bd010203.xml", DEV, MAC_PATH_MATCH, "");
	expect_path("/spa0022BD010203.cfg", DEV, MAC_PATH_MATCH, "");
	expect_path("/profile0022BD010203", DEV, MAC_PATH_MATCH, "");
	expect_path("/config?Linksys0022BD010203", DEV, MAC_PATH_MATCH, "");
	expect_path("/0022bd010203/spa.xml", DEV, MAC_PATH_MATCH, "");
	expect_path("/cfg/00:22:bd:01:02:03.xml", DEV, MAC_PATH_MATCH, "");
	expect_path("/cfg/00:22:BD:01:02:03", DEV, MAC_PATH_MATCH, "");
	expect_path("/cfg/00-22-bd-01-02-03.xml", DEV, MAC_PATH_MATCH, "");
	expect_path("/spa-00-22-bd-01-02-03.xml", DEV, MAC_PATH_MATCH, "");
	expect_path("0022bd010203", DEV, MAC_PATH_MATCH, "");
	/* the same MAC twice, in both notations */
	expect_path("/0022bd010203/00:22:bd:01:02:03.xml", DEV, MAC_PATH_MATCH,
		    "");
	/* upper-case `mac` is accepted too */
	expect_path("/spa0022bd010203.xml", "0022BD010203", MAC_PATH_MATCH, "");
}
END_TEST

START_TEST(path_prefix_hex)
{
	/* 16-digit run "abcd0022bd010203": the last 12 are the MAC */
	expect_path("/abcd0022bd010203.xml", DEV, MAC_PATH_MATCH, "");
	/* 16-digit run with the MAC first: first 12 */
	expect_path("/0022bd010203abcd.xml", DEV, MAC_PATH_MATCH, "");
	/* 13 digits, neither end is the device */
	expect_path("/spa0022bd010204.xml", DEV, MAC_PATH_MISMATCH,
		    "0022bd010204");
	/* 7 or 8 groups: first or last six */
	expect_path("/fe-00-22-bd-01-02-03.xml", DEV, MAC_PATH_MATCH, "");
	expect_path("/00:22:bd:01:02:03:fe:ed", DEV, MAC_PATH_MATCH, "");
	expect_path("/00:22:bd:01:02:09:fe:ed", DEV, MAC_PATH_MISMATCH,
		    "bd010209feed");
}
END_TEST

START_TEST(path_mismatch)
{
	expect_path("/spa0022bd0a0b0c.xml", DEV, MAC_PATH_MISMATCH,
		    "0022bd0a0b0c");
	expect_path("/config?Linksys0022BD0A0B0C", DEV, MAC_PATH_MISMATCH,
		    "0022bd0a0b0c");
	expect_path("/cfg/00:22:BD:0A:0B:0C.xml", DEV, MAC_PATH_MISMATCH,
		    "0022bd0a0b0c");
	expect_path("/cfg/00-22-bd-0a-0b-0c", DEV, MAC_PATH_MISMATCH,
		    "0022bd0a0b0c");
	/* one good and one foreign MAC: mismatch, whatever the order */
	expect_path("/0022bd010203/0022bd0a0b0c.xml", DEV, MAC_PATH_MISMATCH,
		    "0022bd0a0b0c");
	expect_path("/0022bd0a0b0c/0022bd010203.xml", DEV, MAC_PATH_MISMATCH,
		    "0022bd0a0b0c");
	expect_path("/0022bd010203?x=00:22:bd:0a:0b:0c", DEV,
		    MAC_PATH_MISMATCH, "0022bd0a0b0c");
}
END_TEST

START_TEST(path_null_mac)
{
	expect_path("/spa0022bd010203.xml", NULL, MAC_PATH_MISMATCH,
		    "0022bd010203");
	expect_path("/profile0022BD010203", NULL, MAC_PATH_MISMATCH,
		    "0022bd010203");
	expect_path("/cfg/00:22:bd:01:02:03.xml", NULL, MAC_PATH_MISMATCH,
		    "0022bd010203");
	expect_path("/firmware/spa-7.5.7.bin", NULL, MAC_PATH_NONE, "");
	/* an invalid `mac` behaves like NULL */
	expect_path("/spa0022bd010203.xml", "ciscogeneric", MAC_PATH_MISMATCH,
		    "0022bd010203");
	expect_path("/spa0022bd010203.xml", "0022bd01020", MAC_PATH_MISMATCH,
		    "0022bd010203");
}
END_TEST

START_TEST(path_none)
{
	static const char *const none[] = {
		"/",
		"",
		"/firmware/spa-7.5.7.bin",
		"/spa.cfg",
		"/spa$PSN.cfg",
		"/x/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"/x/0022bd0102030405a",   /* 17 digits */
		"/0022bd01020",           /* 11 digits */
		"/00:22:bd:01:02",        /* 5 groups */
		"/00:22:bd:01:02:03:04:05:06", /* 9 groups */
		"/00:22-bd:01:02:03",     /* mixed separators */
		"/00::22:bd:01:02:03",
		"/0:22:bd:01:02:03",
		"/00:22:bd:01:02:03a",    /* last group is not two digits */
		"/deadbeef/cafe/babe",
		"/000e.08ab.cdef",        /* dot notation is not looked for */
		"/%00%22%bd%01%02%03",
	};

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		expect_path(none[i], DEV, MAC_PATH_NONE, "");
		expect_path(none[i], NULL, MAC_PATH_NONE, "");
	}
	expect_path(NULL, DEV, MAC_PATH_NONE, "");
	ck_assert_int_eq(mac_path_check("/spa0022bd010203.xml", DEV, NULL),
			 MAC_PATH_MATCH);
	ck_assert_int_eq(mac_path_check("/spa0022bd0a0b0c.xml", DEV, NULL),
			 MAC_PATH_MISMATCH);
}
END_TEST

START_TEST(path_hash_next_to_mac)
{
	/* a 64-digit hash is ignored, the MAC after it still counts */
	expect_path("/x/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c"
		    "d15d6c15b0f00a08/0022bd0a0b0c",
		    DEV, MAC_PATH_MISMATCH, "0022bd0a0b0c");
	expect_path("/x/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c"
		    "d15d6c15b0f00a08/0022bd010203",
		    DEV, MAC_PATH_MATCH, "");
}
END_TEST

START_TEST(path_garbage)
{
	char buf[256];

	/* every byte value, including high ones, in a row: no crash */
	for (int i = 1; i < 256; i++)
		buf[i - 1] = (char)i;
	buf[255] = '\0';
	ck_assert_int_eq(mac_path_check(buf, DEV, NULL), MAC_PATH_NONE);
	expect_path("\xff\xfe" "0022bd010203\x80", DEV, MAC_PATH_MATCH, "");
	expect_path(":::---:::", DEV, MAC_PATH_NONE, "");
	expect_path("00:", DEV, MAC_PATH_NONE, "");
	expect_path("00-", DEV, MAC_PATH_NONE, "");
	expect_path("0", DEV, MAC_PATH_NONE, "");
}
END_TEST

START_TEST(path_scan_limit)
{
	size_t len = MAC_PATH_MAX_SCAN + 64;
	char *p = malloc(len + 1);

	ck_assert_ptr_nonnull(p);
	/* MAC entirely inside the limit: found */
	memset(p, 'x', len);
	p[len] = '\0';
	memcpy(p + MAC_PATH_MAX_SCAN - 20, "0022bd0a0b0c", 12);
	expect_path(p, DEV, MAC_PATH_MISMATCH, "0022bd0a0b0c");

	/* MAC beyond the limit: ignored */
	memset(p, 'x', len);
	memcpy(p + MAC_PATH_MAX_SCAN + 10, "0022bd0a0b0c", 12);
	expect_path(p, DEV, MAC_PATH_NONE, "");

	/* a run cut by the limit does not count, even if 12 digits fit */
	memset(p, 'x', len);
	memcpy(p + MAC_PATH_MAX_SCAN - 12, "0022bd0a0b0c1234", 16);
	expect_path(p, DEV, MAC_PATH_NONE, "");

	/* a separated run cut by the limit after a separator, too */
	memset(p, 'x', len);
	memcpy(p + MAC_PATH_MAX_SCAN - 18, "00:22:bd:0a:0b:0c:0d:0e:0f:10", 29);
	expect_path(p, DEV, MAC_PATH_NONE, "");

	/* a path of exactly MAC_PATH_MAX_SCAN bytes is scanned to its end */
	p[MAC_PATH_MAX_SCAN] = '\0';
	memcpy(p + MAC_PATH_MAX_SCAN - 12, "0022bd0a0b0c", 12);
	expect_path(p, DEV, MAC_PATH_MISMATCH, "0022bd0a0b0c");
	free(p);
}
END_TEST

static Suite *mac_suite(void)
{
	Suite *s = suite_create("mac");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, normalize_forms);
	tcase_add_test(tc, normalize_whitespace);
	tcase_add_test(tc, normalize_garbage);
	tcase_add_test(tc, is_hex12);
	tcase_add_test(tc, path_match);
	tcase_add_test(tc, path_prefix_hex);
	tcase_add_test(tc, path_mismatch);
	tcase_add_test(tc, path_null_mac);
	tcase_add_test(tc, path_none);
	tcase_add_test(tc, path_hash_next_to_mac);
	tcase_add_test(tc, path_garbage);
	tcase_add_test(tc, path_scan_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mac_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
