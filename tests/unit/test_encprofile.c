/* Unit tests for fleet/encprofile.c: the openssl enc format (compared
 * with what the openssl command line makes from the same salt), gzip,
 * padding, device keys. */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <zlib.h>

#include "fleet/encprofile.h"
#include "fleet/key.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/spaprov-enc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *name, const void *data, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* The whole file; *len its size. */
static unsigned char *read_file(const char *name, size_t *len)
{
	char path[128];
	unsigned char *buf = malloc(1 << 20);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

/* Run a shell command in the test directory; its exit status. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	snprintf(cmd, sizeof(cmd), "cd '%s' && ", dir);
	va_start(ap, fmt);
	vsnprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static const char profile[] =
	"<flat-profile>\n"
	"  <User_ID_1_>1001</User_ID_1_>\n"
	"  <Password_1_>pw-1001-secret</Password_1_>\n"
	"  <Profile_Rule>[--key $B] http://prov.example.com/spa$MAU.cfg"
	"</Profile_Rule>\n"
	"</flat-profile>\n";

/* Our ciphertext equals openssl's for the same password and salt. */
static void same_as_openssl(const char *password, const void *in, size_t len)
{
	static const unsigned char salt[FLEET_ENC_SALT_LEN] = {
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef
	};
	unsigned char *ours = NULL, *theirs;
	size_t n = 0, m = 0;
	char *err = NULL;

	ck_assert_int_eq(fleet_enc_encrypt(password, salt, in, len, &ours, &n,
					   &err), 0);
	ck_assert_mem_eq(ours, "Salted__", 8);
	ck_assert_mem_eq(ours + 8, salt, 8);
	write_file("plain", in, len);
	/* OpenSSL 3 writes no "Salted__" header when -S is given */
	ck_assert_int_eq(run("openssl enc -aes-256-cbc -md md5 -k '%s' "
			     "-S 0123456789abcdef -in plain -out theirs%s",
			     password, " 2>/dev/null"), 0);
	theirs = read_file("theirs", &m);
	ck_assert_uint_eq(n, m + 16);
	ck_assert_mem_eq(ours + 16, theirs, m);
	free(ours);
	free(theirs);
}

START_TEST(encrypt_matches_openssl)
{
	same_as_openssl("known-key-123", profile, strlen(profile));
	/* a multiple of the block size gets a whole block of padding */
	same_as_openssl("0123456789abcdef0123456789ABCDEF", "0123456789abcdef",
			16);
	same_as_openssl("short-pw", "", 0);
}
END_TEST

START_TEST(padding_lengths)
{
	unsigned char *out = NULL;
	size_t n = 0;
	char *err = NULL;
	char buf[40] = { 0 };

	for (size_t len = 0; len <= 33; len++) {
		ck_assert_int_eq(fleet_enc_encrypt("password", NULL, buf, len,
						   &out, &n, &err), 0);
		ck_assert_uint_eq(n, 16 + (len / 16 + 1) * 16);
		free(out);
	}
}
END_TEST

START_TEST(random_salt_differs)
{
	unsigned char *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	char *err = NULL;

	ck_assert_int_eq(fleet_enc_encrypt("password", NULL, "x", 1, &a, &na,
					   &err), 0);
	ck_assert_int_eq(fleet_enc_encrypt("password", NULL, "x", 1, &b, &nb,
					   &err), 0);
	ck_assert_uint_eq(na, nb);
	ck_assert_mem_ne(a + 8, b + 8, 8);
	free(a);
	free(b);
}
END_TEST

START_TEST(gzip_round_trip)
{
	unsigned char *gz = NULL, back[1024];
	size_t n = 0;
	uLongf blen = sizeof(back);
	char *err = NULL;
	z_stream zs;

	ck_assert_int_eq(fleet_enc_gzip(profile, strlen(profile), &gz, &n,
					&err), 0);
	ck_assert_uint_eq(gz[0], 0x1f);
	ck_assert_uint_eq(gz[1], 0x8b);
	memset(&zs, 0, sizeof(zs));
	ck_assert_int_eq(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = gz;
	zs.avail_in = (uInt)n;
	zs.next_out = back;
	zs.avail_out = (uInt)blen;
	ck_assert_int_eq(inflate(&zs, Z_FINISH), Z_STREAM_END);
	ck_assert_uint_eq(zs.total_out, strlen(profile));
	ck_assert_mem_eq(back, profile, strlen(profile));
	inflateEnd(&zs);
	free(gz);
}
END_TEST

/* What a device gets decrypts and gunzips with the command line. */
START_TEST(seal_opens_with_openssl_and_gunzip)
{
	unsigned char *sealed = NULL, *back;
	size_t n = 0, m = 0;
	char *err = NULL;

	ck_assert_int_eq(fleet_enc_seal("Kx9_f-3Qz0aB", profile,
					strlen(profile), &sealed, &n, &err),
			 0);
	write_file("sealed", sealed, n);
	ck_assert_int_eq(run("openssl enc -d -aes-256-cbc -md md5 -k '%s' "
			     "-in sealed 2>/dev/null | gunzip >%s",
			     "Kx9_f-3Qz0aB", "back"), 0);
	back = read_file("back", &m);
	ck_assert_uint_eq(m, strlen(profile));
	ck_assert_mem_eq(back, profile, m);
	/* and the wrong key does not */
	ck_assert_int_ne(run("openssl enc -d -aes-256-cbc -md md5 -k '%s' "
			     "-in sealed 2>/dev/null | gunzip >%s 2>/dev/null",
			     "Kx9_f-3Qz0aC", "wrong"), 0);
	free(back);
	free(sealed);
}
END_TEST

START_TEST(too_large_refused)
{
	unsigned char *out = NULL;
	size_t n = 0;
	char *err = NULL;

	ck_assert_int_eq(fleet_enc_encrypt("password", NULL, "",
					   FLEET_ENC_MAX_INPUT + 1, &out, &n,
					   &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "more than"));
	free(err);
}
END_TEST

START_TEST(keys)
{
	char a[FLEET_KEY_GEN_LEN + 1], b[FLEET_KEY_GEN_LEN + 1];
	char *err = NULL;

	ck_assert_int_eq(fleet_key_generate(a, &err), 0);
	ck_assert_int_eq(fleet_key_generate(b, &err), 0);
	ck_assert_uint_eq(strlen(a), 32);
	ck_assert_str_ne(a, b);
	ck_assert_uint_eq(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno"
				    "pqrstuvwxyz0123456789-_"), 32);
	ck_assert(fleet_key_valid(a));
	ck_assert(fleet_key_valid("abcd.EFG~+=/-_9"));
	ck_assert(!fleet_key_valid("short"));
	ck_assert(!fleet_key_valid("has a blank"));
	ck_assert(!fleet_key_valid("dollar$MAkey"));
	ck_assert(!fleet_key_valid("quote'key'1"));
	ck_assert(!fleet_key_valid(NULL));
	ck_assert(!fleet_key_valid("0123456789012345678901234567890123456789"
				   "01234567890123456789012345"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("encprofile");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, encrypt_matches_openssl);
	tcase_add_test(tc, padding_lengths);
	tcase_add_test(tc, random_salt_differs);
	tcase_add_test(tc, gzip_round_trip);
	tcase_add_test(tc, seal_opens_with_openssl_and_gunzip);
	tcase_add_test(tc, too_large_refused);
	tcase_add_test(tc, keys);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	gnutls_global_init();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	gnutls_global_deinit();
	return failed == 0 ? 0 : 1;
}
