#include "config.h"

/* The web admin's secrets (web-admin/secret.c) and its tables and page
 * queries (db/admin.c, db/admin_views.c), on a fresh database. */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "db/admin.h"
#include "db/db.h"
#include "web-admin/secret.h"

static char dbpath[] = "/tmp/test_admin.XXXXXX";
static struct db *db;

static void setup(void)
{
	char *err = NULL;
	int fd = mkstemp(dbpath);

	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(dbpath);
	ck_assert_msg(db_open(dbpath, 1000, &db, &err) == 0, "%s", err);
}

static void teardown(void)
{
	char wal[64];

	db_close(db);
	unlink(dbpath);
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", dbpath);
	unlink(wal);
	strcpy(dbpath, "/tmp/test_admin.XXXXXX");
}

/* --- secrets ---------------------------------------------------------- */

START_TEST(password_hash_and_verify)
{
	char *hash = NULL, *hash2 = NULL, *err = NULL;

	ck_assert_int_eq(admin_password_hash("correct horse battery", &hash,
					     &err), 0);
	ck_assert_msg(strncmp(hash, "$y$", 3) == 0, "not yescrypt: %s", hash);
	ck_assert_int_eq(admin_password_verify("correct horse battery", hash),
			 1);
	ck_assert_int_eq(admin_password_verify("correct horse batterY", hash),
			 0);
	ck_assert_int_eq(admin_password_verify("", hash), 0);
	/* no account: the dummy hash never matches */
	ck_assert_int_eq(admin_password_verify("correct horse battery", NULL),
			 0);
	/* a new salt each time */
	ck_assert_int_eq(admin_password_hash("correct horse battery", &hash2,
					     &err), 0);
	ck_assert_str_ne(hash, hash2);
	ck_assert_int_eq(admin_password_verify("x", "garbage"), 0);
	free(hash);
	free(hash2);
}
END_TEST

START_TEST(password_rules)
{
	char long_pw[ADMIN_PASSWORD_MAX + 2];

	ck_assert_ptr_nonnull(admin_password_problem("123456789"));
	ck_assert_ptr_null(admin_password_problem("1234567890"));
	ck_assert_ptr_nonnull(admin_password_problem("tab\there-long"));
	memset(long_pw, 'a', sizeof(long_pw) - 1);
	long_pw[sizeof(long_pw) - 1] = '\0';
	ck_assert_ptr_nonnull(admin_password_problem(long_pw));
	long_pw[ADMIN_PASSWORD_MAX] = '\0';
	ck_assert_ptr_null(admin_password_problem(long_pw));
}
END_TEST

START_TEST(account_names)
{
	char n65[66];

	ck_assert(admin_name_valid("alice"));
	ck_assert(admin_name_valid("ops.team-1@site_a"));
	ck_assert(!admin_name_valid(""));
	ck_assert(!admin_name_valid("a b"));
	ck_assert(!admin_name_valid("a/b"));
	ck_assert(!admin_name_valid("<script>"));
	memset(n65, 'a', 65);
	n65[65] = '\0';
	ck_assert(!admin_name_valid(n65));
	n65[64] = '\0';
	ck_assert(admin_name_valid(n65));
}
END_TEST

START_TEST(equal_and_digests)
{
	char a[ADMIN_HEX_LEN + 1], b[ADMIN_HEX_LEN + 1], d[ADMIN_HEX_LEN + 1];

	ck_assert(admin_equal("abc", "abc"));
	ck_assert(!admin_equal("abc", "abd"));
	ck_assert(!admin_equal("abc", "ab"));
	ck_assert(!admin_equal("", "a"));
	ck_assert(admin_equal("", ""));
	ck_assert_int_eq(admin_random_hex(a), 0);
	ck_assert_int_eq(admin_random_hex(b), 0);
	ck_assert_uint_eq(strlen(a), ADMIN_HEX_LEN);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), ADMIN_HEX_LEN);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(admin_sha256_hex("abc", 3, d), 0);
	ck_assert_str_eq(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb4"
			    "10ff61f20015ad");
}
END_TEST

/* --- accounts, tokens, sessions ----------------------------------------- */

static int count_rows(void *ctx, int ncols, const char *const *names,
		      const char *const *values)
{
	(void)ncols;
	(void)names;
	(void)values;
	(*(int *)ctx)++;
	return 0;
}

START_TEST(accounts)
{
	char *err = NULL, *hash = NULL;
	int n = 0;

	ck_assert_int_eq(db_admin_account_add(db, "alice", "$y$h1", &err),
			 DB_OK);
	ck_assert_int_eq(db_admin_account_add(db, "alice", "$y$h2", &err),
			 DB_EXISTS);
	free(err);
	err = NULL;
	ck_assert_int_eq(db_admin_account_hash(db, "alice", &hash, &err),
			 DB_OK);
	ck_assert_str_eq(hash, "$y$h1");
	free(hash);
	ck_assert_int_eq(db_admin_account_hash(db, "bob", &hash, &err),
			 DB_NOTFOUND);
	/* a new password ends the sessions */
	ck_assert_int_eq(db_admin_session_add(db, "h1", "alice", "c1",
					      "2026-01-01T00:00:00.000Z",
					      "2099-01-01T00:00:00.000Z",
					      "127.0.0.1", &err), DB_OK);
	ck_assert_int_eq(db_admin_account_passwd(db, "alice", "$y$h3", &err),
			 DB_OK);
	{
		struct db_admin_session s;

		ck_assert_int_eq(db_admin_session_get(db, "h1",
						      "2026-06-01T00:00:00.000Z",
						      &s, &err), DB_NOTFOUND);
	}
	ck_assert_int_eq(db_admin_account_passwd(db, "bob", "$y$h3", &err),
			 DB_NOTFOUND);
	ck_assert_int_eq(db_admin_account_list(db, count_rows, &n, &err), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(db_admin_account_rm(db, "alice", &err), DB_OK);
	ck_assert_int_eq(db_admin_account_rm(db, "alice", &err), DB_NOTFOUND);
}
END_TEST

START_TEST(tokens)
{
	char acct[DB_ADMIN_MAX_NAME + 1] = "", *err = NULL;

	ck_assert_int_eq(db_admin_token_add(db, "nobody", "aa", &err),
			 DB_NOTFOUND);
	ck_assert_int_eq(db_admin_account_add(db, "alice", "$y$h", &err), DB_OK);
	ck_assert_int_eq(db_admin_token_add(db, "alice", "aa", &err), DB_OK);
	ck_assert_int_eq(db_admin_token_find(db, "aa", "2026-01-01T00:00:00.000Z",
					     acct, &err), DB_OK);
	ck_assert_str_eq(acct, "alice");
	ck_assert_int_eq(db_admin_token_find(db, "ab", "2026-01-01T00:00:00.000Z",
					     acct, &err), DB_NOTFOUND);
	/* removing the account removes its tokens */
	ck_assert_int_eq(db_admin_account_rm(db, "alice", &err), DB_OK);
	ck_assert_int_eq(db_admin_token_find(db, "aa", "2026-01-01T00:00:00.000Z",
					     acct, &err), DB_NOTFOUND);
}
END_TEST

START_TEST(sessions_expire)
{
	struct db_admin_session s;
	char *err = NULL;

	ck_assert_int_eq(db_admin_account_add(db, "alice", "$y$h", &err), DB_OK);
	ck_assert_int_eq(db_admin_session_add(db, "hash1", "alice", "csrf1",
					      "2026-01-01T00:00:00.000Z",
					      "2026-01-01T08:00:00.000Z",
					      "::1", &err), DB_OK);
	ck_assert_int_eq(db_admin_session_get(db, "hash1",
					      "2026-01-01T07:59:59.999Z", &s,
					      &err), DB_OK);
	ck_assert_str_eq(s.account, "alice");
	ck_assert_str_eq(s.csrf, "csrf1");
	ck_assert_int_eq(db_admin_session_get(db, "hash1",
					      "2026-01-01T08:00:00.000Z", &s,
					      &err), DB_NOTFOUND);
	ck_assert_int_eq(db_admin_prune(db, "2026-01-02T00:00:00.000Z",
					"2026-01-01T00:00:00.000Z", &err),
			 DB_OK);
	ck_assert_int_eq(db_admin_session_rm(db, "hash1", &err), DB_NOTFOUND);
}
END_TEST

START_TEST(throttle)
{
	char until[32] = "", *err = NULL;
	long long n = 0;

	ck_assert_int_eq(db_admin_throttle_check(db, "account:a",
						 "2026-01-01T00:00:00.000Z",
						 until, &err), DB_OK);
	for (int i = 1; i <= 3; i++) {
		ck_assert_int_eq(db_admin_throttle_fail(
					 db, "account:a",
					 "2026-01-01T00:00:00.000Z", &n, &err),
				 DB_OK);
		ck_assert_int_eq(n, i);
	}
	ck_assert_int_eq(db_admin_throttle_lock(db, "account:a",
						"2026-01-01T00:00:30.000Z",
						&err), DB_OK);
	ck_assert_int_eq(db_admin_throttle_check(db, "account:a",
						 "2026-01-01T00:00:10.000Z",
						 until, &err), DB_EXISTS);
	ck_assert_str_eq(until, "2026-01-01T00:00:30.000Z");
	ck_assert_int_eq(db_admin_throttle_check(db, "account:a",
						 "2026-01-01T00:00:30.000Z",
						 until, &err), DB_OK);
	ck_assert_int_eq(db_admin_throttle_check(db, "account:b",
						 "2026-01-01T00:00:10.000Z",
						 until, &err), DB_OK);
	ck_assert_int_eq(db_admin_throttle_clear(db, "account:a", &err), DB_OK);
	ck_assert_int_eq(db_admin_throttle_fail(db, "account:a",
						"2026-01-01T00:01:00.000Z", &n,
						&err), DB_OK);
	ck_assert_int_eq(n, 1);
	/* forgive: one failure taken back, never below 0, a lock stays */
	ck_assert_int_eq(db_admin_throttle_fail(db, "account:a",
						"2026-01-01T00:01:00.000Z", &n,
						&err), DB_OK);
	ck_assert_int_eq(db_admin_throttle_lock(db, "account:a",
						"2026-01-01T00:02:00.000Z",
						&err), DB_OK);
	ck_assert_int_eq(db_admin_throttle_forgive(db, "account:a", &err),
			 DB_OK);
	ck_assert_int_eq(db_admin_throttle_forgive(db, "account:a", &err),
			 DB_OK);
	ck_assert_int_eq(db_admin_throttle_forgive(db, "account:a", &err),
			 DB_OK);
	ck_assert_int_eq(db_admin_throttle_check(db, "account:a",
						 "2026-01-01T00:01:30.000Z",
						 until, &err), DB_EXISTS);
	ck_assert_int_eq(db_admin_throttle_fail(db, "account:a",
						"2026-01-01T00:03:00.000Z", &n,
						&err), DB_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(db_admin_throttle_forgive(db, "account:none", &err),
			 DB_NOTFOUND);
}
END_TEST

struct collected {
	char rows[64][64];
	int n;
	int col;
};

static int collect(void *ctx, int ncols, const char *const *names,
		   const char *const *values)
{
	struct collected *c = ctx;

	(void)names;
	ck_assert_int_gt(ncols, c->col);
	if (c->n < 64)
		snprintf(c->rows[c->n++], 64, "%s",
			 values[c->col] ? values[c->col] : "(null)");
	return 0;
}

START_TEST(audit_trail)
{
	struct collected c = { .col = 4 };
	char *err = NULL;

	ck_assert_int_eq(db_admin_audit(db, "alice", "127.0.0.1", "device-add",
					"000e08abcdef", NULL, &err), DB_OK);
	ck_assert_int_eq(db_admin_audit(db, NULL, "127.0.0.1", "login-failure",
					"bob", "locked", &err), DB_OK);
	ck_assert_int_eq(db_admin_audit_list(db, 0, 10, collect, &c, &err), 0);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_eq(c.rows[0], "login-failure"); /* newest first */
	ck_assert_str_eq(c.rows[1], "device-add");
	c.n = 0;
	ck_assert_int_eq(db_admin_audit_list(db, 2, 10, collect, &c, &err), 0);
	ck_assert_int_eq(c.n, 1);
	ck_assert_str_eq(c.rows[0], "device-add");
}
END_TEST

/* --- the page queries ------------------------------------------------------ */

static void add_devices(void)
{
	static const struct {
		const char *mac, *desc, *var;
	} d[] = {
		{ "000e08000003", "Reception", "2001" },
		{ "000e08000001", "Kitchen", "2002" },
		{ "0022bd010205", "Lab bench", "reception-line" },
		{ "000e08000002", "Warehouse", "2003" },
	};
	char *err = NULL;

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		struct db_var v = { (char *)"sip_user", (char *)d[i].var };

		ck_assert_int_eq(db_device_add(db, d[i].mac, "desk", d[i].desc,
					       &v, 1, &err), DB_OK);
	}
}

START_TEST(device_page)
{
	struct db_admin_device_query q = { .limit = 10 };
	struct collected c = { .col = 0 };
	long long total = 0;
	char *err = NULL;

	add_devices();
	ck_assert_int_eq(db_admin_device_page(db, &q, collect, &c, &total,
					      &err), 0);
	ck_assert_int_eq(total, 4);
	ck_assert_str_eq(c.rows[0], "000e08000001");
	ck_assert_str_eq(c.rows[3], "0022bd010205");
	/* sort by description, descending, second page of 2 */
	c.n = 0;
	q.sort = DB_ADMIN_SORT_DESCRIPTION;
	q.descending = 1;
	q.limit = 2;
	q.offset = 2;
	ck_assert_int_eq(db_admin_device_page(db, &q, collect, &c, &total,
					      &err), 0);
	ck_assert_int_eq(total, 4);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_eq(c.rows[0], "0022bd010205"); /* Lab bench */
	ck_assert_str_eq(c.rows[1], "000e08000001"); /* Kitchen */
	/* text: description or a variable value, any case */
	memset(&q, 0, sizeof(q));
	q.limit = 10;
	q.text = "RECEPTION";
	c.n = 0;
	ck_assert_int_eq(db_admin_device_page(db, &q, collect, &c, &total,
					      &err), 0);
	ck_assert_int_eq(total, 2);
	ck_assert_str_eq(c.rows[0], "000e08000003");
	ck_assert_str_eq(c.rows[1], "0022bd010205");
	/* a part of the MAC, or the exact MAC */
	q.text = NULL;
	q.mac_part = "bd0102";
	c.n = 0;
	ck_assert_int_eq(db_admin_device_page(db, &q, collect, &c, &total,
					      &err), 0);
	ck_assert_int_eq(total, 1);
	q.mac_part = NULL;
	q.mac = "000e08000002";
	ck_assert_int_eq(db_admin_device_page(db, &q, collect, &c, &total,
					      &err), 0);
	ck_assert_int_eq(total, 1);
	/* status filter and never seen */
	q.mac = NULL;
	q.status = "pending";
	ck_assert_int_eq(db_admin_device_page(db, &q, collect, &c, &total,
					      &err), 0);
	ck_assert_int_eq(total, 0);
	q.status = NULL;
	q.not_seen_since = "2026-01-01T00:00:00.000Z";
	ck_assert_int_eq(db_admin_device_page(db, &q, collect, &c, &total,
					      &err), 0);
	ck_assert_int_eq(total, 4);
}
END_TEST

static void add_resync(const char *mac, const char *ts, const char *outcome,
		       int status, const char *ua)
{
	struct db_resync r = {
		.listener = "mpp", .ca = "mpp", .remote_addr = "127.0.0.1",
		.mac = mac, .verify = "ok", .method = "GET",
		.path = "/spa.xml", .status = status, .outcome = outcome,
		.user_agent = ua, .seen = 1,
	};
	struct db_resync *rows[] = { &r };
	char *err = NULL;

	snprintf(r.ts, sizeof(r.ts), "%s", ts);
	ck_assert_msg(db_ledger_write(db, rows, 1, NULL, 0, &err) == 0, "%s",
		      err);
}

START_TEST(history_and_dashboard)
{
	struct db_admin_history_query q = { .limit = 2 };
	struct collected c = { .col = 14 };  /* user_agent */
	char *err = NULL;
	long long n = -1;

	add_devices();
	add_resync("0022bd010205", "2026-11-23T10:00:00.000Z", "ok", 200, "a");
	add_resync("0022bd010205", "2026-11-23T10:30:00.000Z", "spoof", 403,
		   "<script>alert(1)</script>");
	add_resync("000e08000001", "2026-11-23T11:00:00.000Z", "ok", 200, "c");
	ck_assert_int_eq(db_admin_history(db, &q, collect, &c, &err), 0);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_eq(c.rows[0], "c");
	ck_assert_str_eq(c.rows[1], "<script>alert(1)</script>");
	/* the next page: below id 2 */
	c.n = 0;
	q.before_id = 2;
	ck_assert_int_eq(db_admin_history(db, &q, collect, &c, &err), 0);
	ck_assert_int_eq(c.n, 1);
	ck_assert_str_eq(c.rows[0], "a");
	/* by MAC and outcome */
	memset(&q, 0, sizeof(q));
	q.mac = "0022bd010205";
	q.outcome = "spoof";
	c.n = 0;
	ck_assert_int_eq(db_admin_history(db, &q, collect, &c, &err), 0);
	ck_assert_int_eq(c.n, 1);
	/* since / until */
	q.outcome = NULL;
	q.since = "2026-11-23T10:15:00.000Z";
	c.n = 0;
	ck_assert_int_eq(db_admin_history(db, &q, collect, &c, &err), 0);
	ck_assert_int_eq(c.n, 1);
	/* dashboard: hourly buckets by outcome */
	c.n = 0;
	c.col = 0;
	ck_assert_int_eq(db_admin_dashboard(db, DB_ADMIN_DASH_HOURLY,
					    "2026-11-23T00:00:00.000Z", collect,
					    &c, &err), 0);
	ck_assert_int_eq(c.n, 3);
	ck_assert_str_eq(c.rows[0], "2026-11-23T10");
	ck_assert_str_eq(c.rows[2], "2026-11-23T11");
	c.n = 0;
	c.col = 4;
	ck_assert_int_eq(db_admin_dashboard(db, DB_ADMIN_DASH_SPOOFS,
					    "2026-11-23T00:00:00.000Z", collect,
					    &c, &err), 0);
	ck_assert_int_eq(c.n, 1);
	c.n = 0;
	c.col = 1;
	ck_assert_int_eq(db_admin_dashboard(db, DB_ADMIN_DASH_STATUS, NULL,
					    collect, &c, &err), 0);
	ck_assert_int_eq(c.n, 1);
	ck_assert_str_eq(c.rows[0], "4");
	/* stale: seen devices count as seen */
	ck_assert_int_eq(db_admin_stale_count(db, "2026-11-23T10:45:00.000Z",
					      &n, &err), 0);
	ck_assert_int_eq(n, 3);
}
END_TEST

static Suite *admin_suite(void)
{
	Suite *s = suite_create("admin");
	TCase *sec = tcase_create("secret");
	TCase *tab = tcase_create("db");

	tcase_add_test(sec, password_hash_and_verify);
	tcase_add_test(sec, password_rules);
	tcase_add_test(sec, account_names);
	tcase_add_test(sec, equal_and_digests);
	tcase_add_checked_fixture(tab, setup, teardown);
	tcase_add_test(tab, accounts);
	tcase_add_test(tab, tokens);
	tcase_add_test(tab, sessions_expire);
	tcase_add_test(tab, throttle);
	tcase_add_test(tab, audit_trail);
	tcase_add_test(tab, device_page);
	tcase_add_test(tab, history_and_dashboard);
	suite_add_tcase(s, sec);
	suite_add_tcase(s, tab);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(admin_suite());
	int failed;

	gnutls_global_init();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	gnutls_global_deinit();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
