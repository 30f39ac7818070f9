/* Unit tests for db/history.c (filtered history, statistics, time
 * arguments), db/profile.c (list, rm) and tmpl/builtins.c (the lookup
 * spaprovd and `spaprovctl profile render` share). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "db/history.h"
#include "db/profile.h"
#include "tmpl/builtins.h"
#include "tmpl/tmpl.h"

static char dir[64];
static char path[96];
static struct db *db;

/* --- fixtures ------------------------------------------------------------- */

static void add_resync(const char *ts, const char *listener, const char *mac,
		       int status, const char *outcome, const char *cipher,
		       const char *issuer, const char *remote)
{
	struct db_resync r = {
		.listener = listener, .ca = listener, .remote_addr = remote,
		.mac = mac, .cert_issuer = issuer, .verify = "ok",
		.tls_version = "TLS1.0", .cipher = cipher, .method = "GET",
		.path = "/spa.xml", .status = status, .outcome = outcome,
	};
	struct db_resync *rows[1] = { &r };
	char *err = NULL;

	snprintf(r.ts, sizeof(r.ts), "%s", ts);
	if (strcmp(outcome, "untrusted-certificate") == 0)
		r.verify = "signer-not-found";
	ck_assert_msg(db_ledger_write(db, rows, 1, NULL, 0, &err) == 0, "%s",
		      err);
}

static void add_hsfail(const char *ts, const char *listener,
		       const char *error, const char *remote)
{
	struct db_hsfail f = { .listener = listener, .ca = listener,
			       .remote_addr = remote, .error = error };
	struct db_hsfail *fails[1] = { &f };
	char *err = NULL;

	snprintf(f.ts, sizeof(f.ts), "%s", ts);
	ck_assert_msg(db_ledger_write(db, NULL, 0, fails, 1, &err) == 0, "%s",
		      err);
}

static void setup(void)
{
	char *err = NULL;

	snprintf(dir, sizeof(dir), "/tmp/test_history.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.db", dir);
	ck_assert_msg(db_open(path, 1000, &db, &err) == 0, "%s", err);

	add_resync("2026-11-20T09:00:00.000Z", "sb", "0022bd010201", 200,
		   "ok", "RC4", NULL, "10.0.0.1");
	add_resync("2026-11-21T09:00:00.000Z", "sb", "0022bd010201", 403,
		   "spoof", "RC4", NULL, "10.0.0.1");
	add_resync("2026-11-21T10:00:00.000Z", "mpp", "0022bd010205", 200,
		   "ok", "GCM", NULL, "10.0.0.5");
	add_resync("2026-11-22T10:00:00.000Z", "sb", NULL, 403,
		   "untrusted-certificate", "RC4", "CN=Evil", "10.0.0.9");
	add_resync("2026-11-22T11:00:00.000Z", "sb", NULL, 403,
		   "untrusted-certificate", "RC4", "CN=Evil", "10.0.0.8");
	add_resync("2026-11-22T12:00:00.000Z", "sb", "0022bd010207", 404,
		   "unknown-device", "RC4", NULL, "10.0.0.7");
	/* inserted last but older: order is by time, not by id */
	add_resync("2026-01-01T00:00:00.000Z", "sipura", "0022bd010201", 200,
		   "ok", "AES", NULL, "10.0.0.1");
	add_hsfail("2026-11-22T08:00:00.000Z", "sb", "no common cipher",
		   "10.0.0.3");
	add_hsfail("2026-11-22T08:01:00.000Z", "sb", "no common cipher",
		   "10.0.0.4");
	add_hsfail("2026-11-22T08:02:00.000Z", "mpp", "bad version",
		   "10.0.0.4");
}

static void teardown(void)
{
	char p[128];

	db_close(db);
	db = NULL;
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	rmdir(dir);
}

/* Collects rows as "v1|v2|...;" (NULL as "-"). */
struct collect {
	char text[2048];
	int rows;
	char names[256];
};

static int collect(void *ctx, int ncols, const char *const *names,
		   const char *const *values)
{
	struct collect *c = ctx;
	size_t len = strlen(c->text);

	if (c->rows++ == 0)
		for (int i = 0; i < ncols; i++)
			snprintf(c->names + strlen(c->names),
				 sizeof(c->names) - strlen(c->names), "%s%s",
				 i ? "," : "", names[i]);
	for (int i = 0; i < ncols; i++) {
		snprintf(c->text + len, sizeof(c->text) - len, "%s%s",
			 i ? "|" : "", values[i] ? values[i] : "-");
		len = strlen(c->text);
	}
	snprintf(c->text + len, sizeof(c->text) - len, ";");
	return 0;
}

/* The history's ts column (1) of every row, joined. */
static int collect_ts(void *ctx, int ncols, const char *const *names,
		      const char *const *values)
{
	struct collect *c = ctx;
	size_t len = strlen(c->text);

	ck_assert_int_eq(ncols, 14);
	ck_assert_str_eq(names[1], "ts");
	snprintf(c->text + len, sizeof(c->text) - len, "%.10s/%s/%s;",
		 values[1], values[4], values[6]);
	c->rows++;
	return 0;
}

static struct collect history(struct db_history_query q)
{
	struct collect c = { .rows = 0 };
	char *err = NULL;

	ck_assert_msg(db_history_find(db, &q, collect_ts, &c, &err) == 0,
		      "%s", err);
	return c;
}

/* --- history -------------------------------------------------------------- */

START_TEST(history_all_newest_first)
{
	struct collect c = history((struct db_history_query){ .limit = 0 });

	ck_assert_int_eq(c.rows, 7);
	ck_assert_str_eq(c.text,
		"2026-11-22/sb/unknown-device;2026-11-22/sb/untrusted-certificate;"
		"2026-11-22/sb/untrusted-certificate;2026-11-21/mpp/ok;"
		"2026-11-21/sb/spoof;2026-11-20/sb/ok;2026-01-01/sipura/ok;");
}
END_TEST

START_TEST(history_filters)
{
	ck_assert_str_eq(history((struct db_history_query){
		.mac = "0022bd010201" }).text,
		"2026-11-21/sb/spoof;2026-11-20/sb/ok;2026-01-01/sipura/ok;");
	ck_assert_str_eq(history((struct db_history_query){
		.mac = "0022bd010201", .since = "2026-11-01" }).text,
		"2026-11-21/sb/spoof;2026-11-20/sb/ok;");
	ck_assert_str_eq(history((struct db_history_query){
		.since = "2026-11-21T00:00:00.000Z",
		.until = "2026-11-22T00:00:00.000Z" }).text,
		"2026-11-21/mpp/ok;2026-11-21/sb/spoof;");
	ck_assert_int_eq(history((struct db_history_query){
		.status = 403 }).rows, 3);
	ck_assert_str_eq(history((struct db_history_query){
		.outcome = "spoof" }).text, "2026-11-21/sb/spoof;");
	ck_assert_str_eq(history((struct db_history_query){
		.listener = "mpp" }).text, "2026-11-21/mpp/ok;");
	ck_assert_str_eq(history((struct db_history_query){
		.listener = "sb", .status = 200 }).text, "2026-11-20/sb/ok;");
	ck_assert_str_eq(history((struct db_history_query){
		.limit = 2, .status = 200 }).text,
		"2026-11-21/mpp/ok;2026-11-20/sb/ok;");
	ck_assert_int_eq(history((struct db_history_query){
		.mac = "0022bd0102ff" }).rows, 0);
}
END_TEST

START_TEST(history_seen_and_last_listener)
{
	char *listener = NULL, *ca = NULL, *err = NULL;

	ck_assert_int_eq(db_history_seen(db, "0022bd010205", &err), DB_OK);
	ck_assert_int_eq(db_history_seen(db, "0022bd0102ff", &err),
			 DB_NOTFOUND);
	/* the newest by time, not the last inserted (sipura, 2026-01-01) */
	ck_assert_int_eq(db_history_last_listener(db, "0022bd010201",
						  &listener, &ca, &err),
			 DB_OK);
	ck_assert_str_eq(listener, "sb");
	ck_assert_str_eq(ca, "sb");
	free(listener);
	free(ca);
	ck_assert_int_eq(db_history_last_listener(db, "0022bd0102ff",
						  &listener, &ca, &err),
			 DB_NOTFOUND);
}
END_TEST

/* --- statistics ----------------------------------------------------------- */

static struct collect stats(enum db_stats which, const char *since)
{
	struct collect c = { .rows = 0 };
	char *err = NULL;

	ck_assert_msg(db_stats(db, which, since, collect, &c, &err) == 0,
		      "%s", err);
	return c;
}

START_TEST(stats_sections)
{
	struct collect c;
	char *err = NULL;

	c = stats(DB_STATS_TLS, NULL);
	ck_assert_str_eq(c.names, "listener,tls_version,cipher,resyncs,devices");
	ck_assert_str_eq(c.text, "mpp|TLS1.0|GCM|1|1;sb|TLS1.0|RC4|5|2;"
				 "sipura|TLS1.0|AES|1|1;");
	c = stats(DB_STATS_TLS, "2026-11-21T00:00:00.000Z");
	ck_assert_str_eq(c.text, "mpp|TLS1.0|GCM|1|1;sb|TLS1.0|RC4|4|2;");

	c = stats(DB_STATS_FAILURES, NULL);
	ck_assert_str_eq(c.names, "day,requests,failures,spoofs");
	ck_assert_str_eq(c.text, "2026-11-21|2|1|1;2026-11-22|3|3|0;");

	c = stats(DB_STATS_ISSUERS, NULL);
	ck_assert_str_eq(c.names, "issuer,requests,addresses,verify,first,last");
	ck_assert_str_eq(c.text, "CN=Evil|2|2|signer-not-found|"
		"2026-11-22T10:00:00.000Z|2026-11-22T11:00:00.000Z;");

	c = stats(DB_STATS_HANDSHAKES, NULL);
	ck_assert_str_eq(c.names, "listener,error,failures,addresses,last");
	ck_assert_str_eq(c.text,
		"mpp|bad version|1|1|2026-11-22T08:02:00.000Z;"
		"sb|no common cipher|2|2|2026-11-22T08:01:00.000Z;");
	ck_assert_int_eq(stats(DB_STATS_HANDSHAKES,
			       "2026-11-23T00:00:00.000Z").rows, 0);

	/* devices: one added, one touched by no resync (never seen) */
	ck_assert_int_eq(db_device_add(db, "0022bd010201", "p", "", NULL, 0,
				       &err), DB_OK);
	c = stats(DB_STATS_FIRMWARE, NULL);
	ck_assert_str_eq(c.names, "model,firmware,devices,last_seen");
	ck_assert_str_eq(c.text, "-|-|1|-;");
	ck_assert_int_eq(stats(DB_STATS_FIRMWARE,
			       "2026-11-01T00:00:00.000Z").rows, 0);
	ck_assert_int_eq(db_stats(db, DB_STATS__COUNT, NULL, collect, &c,
				  &err), -1);
	free(err);
}
END_TEST

/* --- time arguments ------------------------------------------------------- */

START_TEST(time_args)
{
	/* 2026-11-23T12:00:00Z */
	const time_t now = 1795435200;
	char out[32], *err = NULL;
	static const char *const bad[] = {
		"", "2026-11", "2026-13-01", "2026-02-30", "2026-11-23T25:00",
		"2026-11-23T10", "2026-11-23x", "1969-12-31", "7", "d", "7x",
		"-7d", "2h ", "99999999999999999999d", "36501d",
		"2026-11-23T10:00:00:00",
	};

	ck_assert_int_eq(db_time_arg("2026-11-23", now, out, &err), 0);
	ck_assert_str_eq(out, "2026-11-23T00:00:00.000Z");
	ck_assert_int_eq(db_time_arg("2026-11-23T10:00", now, out, &err), 0);
	ck_assert_str_eq(out, "2026-11-23T10:00:00.000Z");
	ck_assert_int_eq(db_time_arg("2026-11-23 10:00:30Z", now, out, &err),
			 0);
	ck_assert_str_eq(out, "2026-11-23T10:00:30.000Z");
	ck_assert_int_eq(db_time_arg("2024-02-29", now, out, &err), 0);
	ck_assert_int_eq(db_time_arg("2h", now, out, &err), 0);
	ck_assert_str_eq(out, "2026-11-23T10:00:00.000Z");
	ck_assert_int_eq(db_time_arg("7d", now, out, &err), 0);
	ck_assert_str_eq(out, "2026-11-16T12:00:00.000Z");
	ck_assert_int_eq(db_time_arg("2w", now, out, &err), 0);
	ck_assert_str_eq(out, "2026-11-09T12:00:00.000Z");
	ck_assert_int_eq(db_time_arg("90s", now, out, &err), 0);
	ck_assert_str_eq(out, "2026-11-23T11:58:30.000Z");
	ck_assert_int_eq(db_time_arg("30m", now, out, &err), 0);
	ck_assert_str_eq(out, "2026-11-23T11:30:00.000Z");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		ck_assert_msg(db_time_arg(bad[i], now, out, &err) == -1,
			      "accepted '%s'", bad[i]);
		ck_assert_ptr_nonnull(err);
		ck_assert_ptr_nonnull(strstr(err, "expected"));
		free(err);
	}
}
END_TEST

/* --- profiles ------------------------------------------------------------- */

static int list_cb(void *ctx, const struct db_profile_info *p)
{
	struct collect *c = ctx;
	size_t len = strlen(c->text);

	snprintf(c->text + len, sizeof(c->text) - len, "%s:%zu:%lld;",
		 p->name, strlen(p->body), p->devices);
	c->rows++;
	return 0;
}

START_TEST(profile_list_rm)
{
	struct collect c = { .rows = 0 };
	long long devices = -1;
	char *err = NULL, *body = NULL;

	ck_assert_int_eq(db_profile_set(db, "b", "{{x}}", &err), DB_OK);
	ck_assert_int_eq(db_profile_set(db, "a", "hello", &err), DB_OK);
	ck_assert_int_eq(db_device_add(db, "0022bd010201", "b", "", NULL, 0,
				       &err), DB_OK);
	ck_assert_int_eq(db_device_add(db, "0022bd010202", "b", "", NULL, 0,
				       &err), DB_OK);
	ck_assert_int_eq(db_profile_list(db, list_cb, &c, &err), 0);
	ck_assert_str_eq(c.text, "a:5:0;b:5:2;");

	ck_assert_int_eq(db_profile_rm(db, "b", 0, &devices, &err), DB_EXISTS);
	ck_assert_int_eq(devices, 2);
	ck_assert_int_eq(db_profile_get(db, "b", &body, &err), DB_OK);
	free(body);
	ck_assert_int_eq(db_profile_rm(db, "nope", 1, &devices, &err),
			 DB_NOTFOUND);
	ck_assert_int_eq(db_profile_rm(db, "a", 0, &devices, &err), DB_OK);
	ck_assert_int_eq(devices, 0);
	ck_assert_int_eq(db_profile_rm(db, "b", 1, &devices, &err), DB_OK);
	ck_assert_int_eq(devices, 2);
	ck_assert_int_eq(db_profile_get(db, "b", &body, &err), DB_NOTFOUND);
	c.text[0] = '\0';
	ck_assert_int_eq(db_profile_list(db, list_cb, &c, &err), 0);
	ck_assert_str_eq(c.text, "");
	/* the transaction was closed every time: a write still works */
	ck_assert_int_eq(db_profile_set(db, "c", "x", &err), DB_OK);
}
END_TEST

/* --- built-ins ------------------------------------------------------------ */

START_TEST(builtins_lookup)
{
	struct db_var vars[] = { { "sip_user", "1001" }, { "mac", "evil" } };
	struct tmpl_builtins b = {
		.mac = "0022bd0102ab", .serial = NULL, .model = "SPA504G",
		.firmware = "7.4.4", .ca = "sb", .listener = "office",
		.vars = vars, .n_vars = 2,
	};
	const char tmpl[] = "{{mac}} {{mac_upper}} [{{serial}}] {{model}} "
			    "{{firmware}} {{ca}} {{listener}} {{sip_user}}";
	char *out = NULL, *err = NULL;
	size_t len = 0;

	ck_assert_int_eq(tmpl_render(tmpl, strlen(tmpl), tmpl_builtins_lookup,
				     &b, &out, &len, &err), 0);
	ck_assert_str_eq(out, "0022bd0102ab 0022BD0102AB [] SPA504G 7.4.4 "
			      "sb office 1001");
	free(out);
	/* a device variable cannot shadow a built-in */
	ck_assert_str_eq(tmpl_builtins_lookup(&b, "mac"), "0022bd0102ab");
	ck_assert_ptr_null(tmpl_builtins_lookup(&b, "vlan"));
	/* unknown site: ca and listener are missing, not empty */
	b.ca = b.listener = NULL;
	ck_assert_int_eq(tmpl_render("{{ca}}", 6, tmpl_builtins_lookup, &b,
				     &out, &len, &err), -1);
	ck_assert_str_eq(err, "line 1: missing variable 'ca'");
	free(err);
	ck_assert(tmpl_is_builtin("mac_upper"));
	ck_assert(tmpl_is_builtin("listener"));
	ck_assert(!tmpl_is_builtin("sip_user"));
	ck_assert(!tmpl_is_builtin("MAC"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("history");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, history_all_newest_first);
	tcase_add_test(tc, history_filters);
	tcase_add_test(tc, history_seen_and_last_listener);
	tcase_add_test(tc, stats_sections);
	tcase_add_test(tc, time_args);
	tcase_add_test(tc, profile_list_rm);
	tcase_add_test(tc, builtins_lookup);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
