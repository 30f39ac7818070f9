/* Unit tests for db/import.c: bulk writes in one transaction (all or
 * none, refusals reported by index, dry run, update semantics) and the
 * export walk (header of variable names, devices with their variables,
 * filters, stopping). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "db/import.h"

static char dir[64];
static char path[96];
static struct db *db;

static void setup(void)
{
	struct db_var vars[] = { { "sip_user", "1001" }, { "pin", "1234" } };
	char *err = NULL;

	snprintf(dir, sizeof(dir), "/tmp/test_import.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.db", dir);
	ck_assert_msg(db_open(path, 1000, &db, &err) == 0, "%s", err);
	ck_assert_int_eq(db_device_add(db, "0022bd010101", "office", "old",
				       vars, 2, &err), DB_OK);
}

static void teardown(void)
{
	char f[128];

	db_close(db);
	db = NULL;
	snprintf(f, sizeof(f), "%s/t.db-wal", dir);
	unlink(f);
	snprintf(f, sizeof(f), "%s/t.db-shm", dir);
	unlink(f);
	unlink(path);
	rmdir(dir);
}

/* Refusals as "index:why " in a string. */
struct refusals {
	char text[256];
};

static void on_refuse(void *ctx, size_t index, enum db_import_refusal why)
{
	struct refusals *r = ctx;
	size_t len = strlen(r->text);

	snprintf(r->text + len, sizeof(r->text) - len, "%zu:%d ", index,
		 (int)why);
}

static int count_devices(void)
{
	struct db_device *d = NULL;
	char mac[13], *err = NULL;
	int n = 0;

	for (int i = 0x0101; i <= 0x0110; i++) {
		snprintf(mac, sizeof(mac), "0022bd01%04x", i);
		if (db_device_get(db, mac, &d, &err) == DB_OK) {
			n++;
			db_device_free(d);
		}
	}
	return n;
}

START_TEST(import_all_or_none)
{
	struct db_var v[] = { { "sip_user", "2002" } };
	struct db_import_row rows[3] = {
		{ .mac = "0022bd010102", .vars = v, .n_vars = 1 },
		{ .mac = "0022bd010101" },        /* exists */
		{ .mac = "0022bd010103", .status = "pending" },
	};
	struct db_import_result res;
	struct refusals ref = { "" };
	char *err = NULL;

	ck_assert_int_eq(db_import_devices(db, rows, 3, 0, on_refuse, &ref,
					   &res, &err), 0);
	ck_assert_str_eq(ref.text, "1:0 2:1 ");
	ck_assert_uint_eq(res.refused, 2);
	ck_assert_int_eq(count_devices(), 1);

	/* without the refused rows: written */
	ref.text[0] = '\0';
	ck_assert_int_eq(db_import_devices(db, rows, 1, 0, on_refuse, &ref,
					   &res, &err), 0);
	ck_assert_str_eq(ref.text, "");
	ck_assert_uint_eq(res.added, 1);
	ck_assert_uint_eq(res.updated, 0);
	ck_assert_int_eq(count_devices(), 2);
}
END_TEST

START_TEST(import_dry_run)
{
	struct db_import_row rows[2] = {
		{ .mac = "0022bd010104" }, { .mac = "0022bd010101" },
	};
	struct db_import_result res;
	struct refusals ref = { "" };
	char *err = NULL;

	ck_assert_int_eq(db_import_devices(db, rows, 2,
					   DB_IMPORT_DRY_RUN | DB_IMPORT_UPDATE,
					   on_refuse, &ref, &res, &err), 0);
	ck_assert_str_eq(ref.text, "");
	ck_assert_uint_eq(res.added, 1);
	ck_assert_uint_eq(res.updated, 1);
	ck_assert_int_eq(count_devices(), 1);
}
END_TEST

START_TEST(import_update_keeps_what_is_not_given)
{
	struct db_var v[] = { { "pin", "9999" }, { "vlan", "20" } };
	struct db_import_row rows[1] = {
		{ .mac = "0022bd010101", .status = "disabled", .vars = v,
		  .n_vars = 2 },
	};
	struct db_import_result res;
	struct refusals ref = { "" };
	struct db_device *d = NULL;
	char *err = NULL;

	ck_assert_int_eq(db_import_devices(db, rows, 1, DB_IMPORT_UPDATE,
					   on_refuse, &ref, &res, &err), 0);
	ck_assert_uint_eq(res.updated, 1);
	ck_assert_int_eq(db_device_get(db, "0022bd010101", &d, &err), DB_OK);
	ck_assert_str_eq(d->status, "disabled");
	ck_assert_str_eq(d->profile, "office");
	ck_assert_str_eq(d->description, "old");
	ck_assert_uint_eq(d->n_vars, 3);
	ck_assert_str_eq(d->vars[0].name, "pin");
	ck_assert_str_eq(d->vars[0].value, "9999");
	ck_assert_str_eq(d->vars[1].value, "1001");
	ck_assert_str_eq(d->vars[2].value, "20");
	db_device_free(d);
}
END_TEST

START_TEST(import_too_many_vars)
{
	struct db_var v[DB_MAX_VARS + 1];
	char names[DB_MAX_VARS + 1][8];
	struct db_import_row rows[1] = {
		{ .mac = "0022bd010105", .vars = v, .n_vars = DB_MAX_VARS + 1 },
	};
	struct db_import_result res;
	struct refusals ref = { "" };
	char *err = NULL;

	for (int i = 0; i <= DB_MAX_VARS; i++) {
		snprintf(names[i], sizeof(names[i]), "v%d", i);
		v[i].name = names[i];
		v[i].value = "x";
	}
	ck_assert_int_eq(db_import_devices(db, rows, 1, 0, on_refuse, &ref,
					   &res, &err), 0);
	ck_assert_str_eq(ref.text, "0:2 ");
	ck_assert_int_eq(count_devices(), 1);
	rows[0].n_vars = DB_MAX_VARS;
	ck_assert_int_eq(db_import_devices(db, rows, 1, 0, on_refuse, &ref,
					   &res, &err), 0);
	ck_assert_uint_eq(res.added, 1);
}
END_TEST

/* The export as text: "H:names|" then "mac,status,profile,desc,n=v;...|" */
struct sink {
	char text[1024];
	int stop_after;  /* rows; 0 = never */
	int rows;
};

static void sink_add(struct sink *s, const char *str)
{
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s", str);
}

static int on_header(void *ctx, const char *const *names, size_t n)
{
	struct sink *s = ctx;

	sink_add(s, "H:");
	for (size_t i = 0; i < n; i++) {
		sink_add(s, names[i]);
		sink_add(s, i + 1 < n ? "," : "");
	}
	sink_add(s, "|");
	return 0;
}

static int on_row(void *ctx, const struct db_export_device *d)
{
	struct sink *s = ctx;

	sink_add(s, d->mac);
	sink_add(s, ",");
	sink_add(s, d->status);
	sink_add(s, ",");
	sink_add(s, d->profile != NULL ? d->profile : "NULL");
	sink_add(s, ",");
	sink_add(s, d->description);
	for (size_t i = 0; i < d->n_vars; i++) {
		sink_add(s, i == 0 ? "," : ";");
		sink_add(s, d->vars[i].name);
		sink_add(s, "=");
		sink_add(s, d->vars[i].value);
	}
	sink_add(s, "|");
	return ++s->rows == s->stop_after;
}

START_TEST(export_walk)
{
	struct db_var v[] = { { "vlan", "7" } };
	struct db_import_row rows[2] = {
		{ .mac = "0022bd010100", .status = "disabled", .vars = v,
		  .n_vars = 1 },
		{ .mac = "0022bd010102", .profile = "lab" },
	};
	struct db_export_filter f = { NULL, NULL };
	struct db_import_result res;
	struct refusals ref = { "" };
	struct sink s = { "", 0, 0 };
	char *err = NULL;

	ck_assert_int_eq(db_import_devices(db, rows, 2, 0, on_refuse, &ref,
					   &res, &err), 0);
	ck_assert_int_eq(db_export_devices(db, &f, on_header, on_row, &s,
					   &err), 0);
	ck_assert_str_eq(s.text, "H:pin,sip_user,vlan|"
				 "0022bd010100,disabled,NULL,,vlan=7|"
				 "0022bd010101,enabled,office,old,pin=1234;"
				 "sip_user=1001|"
				 "0022bd010102,enabled,lab,|");

	memset(&s, 0, sizeof(s));
	f.status = "disabled";
	ck_assert_int_eq(db_export_devices(db, &f, on_header, on_row, &s,
					   &err), 0);
	ck_assert_str_eq(s.text, "H:vlan|0022bd010100,disabled,NULL,,vlan=7|");

	memset(&s, 0, sizeof(s));
	f.status = NULL;
	f.profile = "lab";
	ck_assert_int_eq(db_export_devices(db, &f, on_header, on_row, &s,
					   &err), 0);
	ck_assert_str_eq(s.text, "H:|0022bd010102,enabled,lab,|");

	memset(&s, 0, sizeof(s));
	f.profile = NULL;
	s.stop_after = 1;
	ck_assert_int_eq(db_export_devices(db, &f, on_header, on_row, &s,
					   &err), 1);
	ck_assert_int_eq(s.rows, 1);
	/* the handle is usable afterwards: the snapshot was ended */
	ck_assert_int_eq(db_import_devices(db, rows, 0, 0, on_refuse, &ref,
					   &res, &err), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("import");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, import_all_or_none);
	tcase_add_test(tc, import_dry_run);
	tcase_add_test(tc, import_update_keeps_what_is_not_given);
	tcase_add_test(tc, import_too_many_vars);
	tcase_add_test(tc, export_walk);
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
