/* Unit tests for fleet/report.c (flat-profile parameters and their
 * differences), fleet/firmware.c (file names, opening in the directory,
 * the Upgrade_Rule URL), db/fleet.c (keys, targets, the firmware report,
 * reports) and the listener mode in conf/. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "db/db.h"
#include "db/fleet.h"
#include "fleet/firmware.h"
#include "fleet/report.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/spaprov-fleet.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *name, const char *text)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* --- flat-profile parameters ---------------------------------------------- */

static const char report_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<!-- report -->\n"
	"<flat-profile>\n"
	"  <Station_Name ua=\"rw\">A&amp;B &lt;1001&gt;</Station_Name>\n"
	"  <User_ID_1_ ua=\"na\"> 1001 </User_ID_1_>\n"
	"  <Password_1_ ua=\"na\"/>\n"
	"  <!-- a comment between parameters -->\n"
	"  <Display_Name_1_>caf&#233; &#x41;</Display_Name_1_>\n"
	"  <Profile_Rule>https://p/spa$MA.xml?a=1&amp;b=2</Profile_Rule>\n"
	"  <User_ID_1_>ignored second</User_ID_1_>\n"
	"  <Empty></Empty>\n"
	"</flat-profile>\n";

START_TEST(parse_report)
{
	struct fleet_params p;
	char *err = NULL;

	ck_assert_int_eq(fleet_params_parse(report_xml, strlen(report_xml),
					    &p, &err), 0);
	ck_assert_uint_eq(p.n, 6);
	ck_assert_str_eq(fleet_params_get(&p, "Station_Name"), "A&B <1001>");
	ck_assert_str_eq(fleet_params_get(&p, "User_ID_1_"), "1001");
	ck_assert_str_eq(fleet_params_get(&p, "Password_1_"), "");
	ck_assert_str_eq(fleet_params_get(&p, "Display_Name_1_"),
			 "caf\xc3\xa9 A");
	ck_assert_str_eq(fleet_params_get(&p, "Profile_Rule"),
			 "https://p/spa$MA.xml?a=1&b=2");
	ck_assert_str_eq(fleet_params_get(&p, "Empty"), "");
	ck_assert_ptr_null(fleet_params_get(&p, "Nope"));
	/* sorted by name */
	for (size_t i = 1; i < p.n; i++)
		ck_assert_int_lt(strcmp(p.p[i - 1].name, p.p[i].name), 0);
	fleet_params_free(&p);
}
END_TEST

START_TEST(parse_mpp_and_empty)
{
	static const char mpp[] =
		"<device><flat-profile><Line_Enable_1_>Yes</Line_Enable_1_>"
		"<![CDATA[ignored]]></flat-profile></device>";
	struct fleet_params p;
	char *err = NULL;

	ck_assert_int_eq(fleet_params_parse(mpp, strlen(mpp), &p, &err), 0);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_str_eq(fleet_params_get(&p, "Line_Enable_1_"), "Yes");
	fleet_params_free(&p);
	ck_assert_int_eq(fleet_params_parse("<flat-profile/>", 15, &p, &err),
			 0);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_ptr_null(fleet_params_get(&p, "x"));
	fleet_params_free(&p);
}
END_TEST

static void parse_fails(const char *xml, const char *want)
{
	struct fleet_params p;
	char *err = NULL;

	ck_assert_int_eq(fleet_params_parse(xml, strlen(xml), &p, &err), -1);
	ck_assert_ptr_nonnull(err);
	if (strstr(err, want) == NULL)
		ck_abort_msg("'%s' does not say '%s'", err, want);
	ck_assert_ptr_null(p.p);
	free(err);
}

START_TEST(parse_errors)
{
	parse_fails("<profile><a>1</a></profile>", "no <flat-profile>");
	parse_fails("<flat-profile><a>1</a>", "line 1: no </flat-profile>");
	parse_fails("<flat-profile>\n<a>1</b></flat-profile>",
		    "line 2: unexpected markup inside <a>");
	parse_fails("<flat-profile>\n\n<a><b>1</b></a></flat-profile>",
		    "line 3: unexpected markup inside <a>");
	parse_fails("<flat-profile><a x=\"1></flat-profile>",
		    "unterminated start tag");
	parse_fails("<flat-profile><!-- open</flat-profile>",
		    "unterminated <!--");
	parse_fails("<flat-profile></x></flat-profile>", "unexpected end tag");
	parse_fails("<flat-profile>< a>1</a></flat-profile>",
		    "expected an element name");
	parse_fails("<flat-profile><a>1</flat-profile>",
		    "unexpected markup inside <a>");
}
END_TEST

struct diffs {
	char text[1024];
};

static void on_diff(void *ctx, const char *name, const char *served,
		    const char *reported)
{
	struct diffs *d = ctx;
	size_t n = strlen(d->text);

	snprintf(d->text + n, sizeof(d->text) - n, "%s:%s:%s;", name, served,
		 reported ? reported : "(none)");
}

START_TEST(diff_served_against_report)
{
	static const char served_xml[] =
		"<flat-profile><Station_Name>A&amp;B &lt;1001&gt;</Station_Name>"
		"<User_ID_1_>1002</User_ID_1_><Proxy_1_>sip.example</Proxy_1_>"
		"<Empty/></flat-profile>";
	struct fleet_params served, reported;
	struct diffs d = { "" };
	char *err = NULL;

	ck_assert_int_eq(fleet_params_parse(served_xml, strlen(served_xml),
					    &served, &err), 0);
	ck_assert_int_eq(fleet_params_parse(report_xml, strlen(report_xml),
					    &reported, &err), 0);
	ck_assert_uint_eq(fleet_params_diff(&served, &reported, on_diff, &d),
			  2);
	ck_assert_str_eq(d.text, "Proxy_1_:sip.example:(none);"
				 "User_ID_1_:1002:1001;");
	fleet_params_free(&served);
	fleet_params_free(&reported);
}
END_TEST

/* --- firmware files -------------------------------------------------------- */

START_TEST(firmware_names)
{
	char longname[FLEET_FW_MAX_NAME + 2];

	ck_assert(fleet_fw_name_valid("spa9000-6-1-5a.bin"));
	ck_assert(fleet_fw_name_valid("SPA50x_30x-7.6.2e.bin"));
	ck_assert(!fleet_fw_name_valid(""));
	ck_assert(!fleet_fw_name_valid(".."));
	ck_assert(!fleet_fw_name_valid("."));
	ck_assert(!fleet_fw_name_valid(".hidden"));
	ck_assert(!fleet_fw_name_valid("../etc/passwd"));
	ck_assert(!fleet_fw_name_valid("a/b.bin"));
	ck_assert(!fleet_fw_name_valid("a%2fb.bin"));
	ck_assert(!fleet_fw_name_valid("a%00.bin"));
	ck_assert(!fleet_fw_name_valid("a b.bin"));
	ck_assert(!fleet_fw_name_valid("a\\b.bin"));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert(!fleet_fw_name_valid(longname));
	longname[FLEET_FW_MAX_NAME] = '\0';
	ck_assert(fleet_fw_name_valid(longname));
}
END_TEST

START_TEST(firmware_open)
{
	char sub[128], outside[128], link[128], err_dir[128];
	unsigned long long size = 0;
	int missing = 0, fd;
	char *err = NULL;

	write_file("fw.bin", "IMAGE-BYTES");
	snprintf(sub, sizeof(sub), "%s/fw", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(outside, sizeof(outside), "%s/secret", dir);
	write_file("secret", "SECRET");
	snprintf(link, sizeof(link), "%s/fw/link.bin", dir);
	ck_assert_int_eq(symlink(outside, link), 0);
	snprintf(err_dir, sizeof(err_dir), "%s/fw/dir.bin", dir);
	ck_assert_int_eq(mkdir(err_dir, 0700), 0);
	write_file("fw/real.bin", "IMAGE-BYTES");

	fd = fleet_fw_open(sub, "real.bin", &size, &missing, &err);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(size, 11);
	close(fd);

	ck_assert_int_eq(fleet_fw_open(sub, "link.bin", &size, &missing,
				       &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "symbolic link"));
	ck_assert_int_eq(missing, 0);
	free(err);
	ck_assert_int_eq(fleet_fw_open(sub, "dir.bin", &size, &missing, &err),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	free(err);
	ck_assert_int_eq(fleet_fw_open(sub, "none.bin", &size, &missing,
				       &err), -1);
	ck_assert_int_eq(missing, 1);
	free(err);
	ck_assert_int_eq(fleet_fw_open(sub, "../secret", &size, &missing,
				       &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a firmware file name"));
	free(err);
	ck_assert_int_eq(fleet_fw_open("/nonexistent-dir", "real.bin", &size,
				       &missing, &err), -1);
	ck_assert_int_eq(missing, 1);
	free(err);
}
END_TEST

START_TEST(needs_plain)
{
	struct conf_listener sip = { .ca = CONF_CA_SIPURA };
	struct conf_listener sb = { .ca = CONF_CA_SB };

	ck_assert(fleet_fw_needs_plain("SPA9000", &sb));
	ck_assert(fleet_fw_needs_plain("spa-9000", &sb));
	ck_assert(fleet_fw_needs_plain("SPA-2002", NULL));
	ck_assert(fleet_fw_needs_plain("SPA-962", &sip));
	ck_assert(!fleet_fw_needs_plain("SPA-962", &sb));
	ck_assert(!fleet_fw_needs_plain("CP-8841-3PCC", &sb));
	ck_assert(!fleet_fw_needs_plain(NULL, NULL));
}
END_TEST

/* --- the Upgrade_Rule ------------------------------------------------------ */

static struct conf rule_conf;

static void rule_setup(void)
{
	static char n1[] = "sb", n2[] = "http", n3[] = "v6plain";
	static char a1[] = "192.0.2.10", a2[] = "192.0.2.11", a3[] = "2001:db8::1";

	memset(&rule_conf, 0, sizeof(rule_conf));
	rule_conf.listeners[0] = (struct conf_listener){
		.name = n1, .ca = CONF_CA_SB, .mode = CONF_MODE_MUTUAL,
		.address = a1, .port = 8443 };
	rule_conf.listeners[1] = (struct conf_listener){
		.name = n2, .ca = CONF_CA_SIPURA, .mode = CONF_MODE_PLAIN,
		.address = a2, .port = 8080 };
	rule_conf.listeners[2] = (struct conf_listener){
		.name = n3, .ca = CONF_CA_SIPURA, .mode = CONF_MODE_PLAIN,
		.address = a3, .port = 8081 };
	rule_conf.n_listeners = 3;
}

START_TEST(upgrade_rules)
{
	struct fleet_fw_site s = { .conf = &rule_conf,
				   .cl = &rule_conf.listeners[0],
				   .port = 50001 };
	char out[FLEET_FW_MAX_RULE + 1];

	/* an HTTPS-capable family on a mutual listener: its own listener,
	 * the port it is bound to (no certificate here: the address) */
	fleet_fw_upgrade_rule(&s, "SPA-962", "spa962-7.6.2.bin", out,
			      sizeof(out));
	ck_assert_str_eq(out, "https://192.0.2.10:50001/firmware/"
			      "spa962-7.6.2.bin");
	/* SPA9000: the first plain listener, the MAC in the query */
	fleet_fw_upgrade_rule(&s, "SPA9000", "spa9000.bin", out, sizeof(out));
	ck_assert_str_eq(out, "http://192.0.2.11:8080/firmware/spa9000.bin?$MA");
	/* a device on a plain listener */
	s.cl = &rule_conf.listeners[1];
	fleet_fw_upgrade_rule(&s, "SPA-962", "x.bin", out, sizeof(out));
	ck_assert_str_eq(out, "http://192.0.2.11:50001/firmware/x.bin?$MA");
	/* an invalid file name never makes a URL */
	fleet_fw_upgrade_rule(&s, "SPA-962", "../x.bin", out, sizeof(out));
	ck_assert_str_eq(out, "");
	/* no plain listener, device on a server-auth one: nothing serves it */
	rule_conf.listeners[0].mode = CONF_MODE_SERVER_AUTH;
	rule_conf.n_listeners = 1;
	s.cl = &rule_conf.listeners[0];
	fleet_fw_upgrade_rule(&s, "SPA-962", "x.bin", out, sizeof(out));
	ck_assert_str_eq(out, "");
	/* IPv6 addresses go in brackets */
	rule_conf.listeners[0] = rule_conf.listeners[2];
	s.cl = NULL;
	fleet_fw_upgrade_rule(&s, "SPA9000", "x.bin", out, sizeof(out));
	ck_assert_str_eq(out, "http://[2001:db8::1]:8081/firmware/x.bin?$MA");
	/* [server] public_name names the host */
	rule_conf.public_name = (char *)"prov.example.com";
	fleet_fw_upgrade_rule(&s, "SPA9000", "x.bin", out, sizeof(out));
	ck_assert_str_eq(out, "http://prov.example.com:8081/firmware/x.bin?$MA");
}
END_TEST

/* --- db/fleet.c ------------------------------------------------------------ */

static struct db *open_db(void)
{
	char path[128], *err = NULL;
	struct db *db = NULL;

	snprintf(path, sizeof(path), "%s/t.db", dir);
	if (db_open(path, 5000, &db, &err) < 0)
		ck_abort_msg("db_open: %s", err);
	return db;
}

static void add_device(struct db *db, const char *mac)
{
	char *err = NULL;

	ck_assert_int_eq(db_device_add(db, mac, "office", "", NULL, 0, &err),
			 DB_OK);
}

static void add_download(struct db *db, const char *mac, const char *fw)
{
	struct db_resync r = {
		.listener = "sb", .ca = "sb", .remote_addr = "192.0.2.1",
		.mac = mac, .verify = "ok", .model = "SPA-962",
		.firmware = fw, .method = "GET", .path = "/firmware/x.bin",
		.status = 200, .outcome = "firmware",
	};
	struct db_resync *rows[1] = { &r };
	char *err = NULL;

	db_timestamp(r.ts);
	if (db_ledger_write(db, rows, 1, NULL, 0, &err) < 0)
		ck_abort_msg("ledger: %s", err);
}

static int collect(void *ctx, int ncols, const char *const *names,
		   const char *const *values)
{
	char *text = ctx;
	size_t n = strlen(text);

	(void)names;
	for (int i = 0; i < ncols; i++)
		n += (size_t)snprintf(text + n, 2048 - n, "%s%s",
				      values[i] ? values[i] : "NULL",
				      i + 1 < ncols ? "|" : ";");
	return 0;
}

START_TEST(db_keys_and_reports)
{
	struct db *db = open_db();
	char *key = NULL, *ts = NULL, *lst = NULL, *body = NULL, *err = NULL;

	add_device(db, "0022bd010201");
	ck_assert_int_eq(db_device_key_get(db, "0022bd010201", &key, &err),
			 DB_NOTFOUND);
	ck_assert_int_eq(db_device_key_set(db, "0022bd0102ff", "abcdefgh1",
					   &err), DB_NOTFOUND);
	ck_assert_int_eq(db_device_key_set(db, "0022bd010201", "abcdefgh1",
					   &err), DB_OK);
	ck_assert_int_eq(db_device_key_set(db, "0022bd010201", "abcdefgh2",
					   &err), DB_OK);
	ck_assert_int_eq(db_device_key_get(db, "0022bd010201", &key, &err),
			 DB_OK);
	ck_assert_str_eq(key, "abcdefgh2");
	free(key);
	ck_assert_int_eq(db_report_store(db, "0022bd0102ff", "t", "sb", "a",
					 "<x/>", &err), DB_NOTFOUND);
	ck_assert_int_eq(db_report_store(db, "0022bd010201", "t1", "sb", "a",
					 "<one/>", &err), DB_OK);
	ck_assert_int_eq(db_report_store(db, "0022bd010201", "t2", "sb", "a",
					 "<two/>", &err), DB_OK);
	ck_assert_int_eq(db_report_get(db, "0022bd010201", &ts, &lst, &body,
				       &err), DB_OK);
	ck_assert_str_eq(ts, "t2");
	ck_assert_str_eq(lst, "sb");
	ck_assert_str_eq(body, "<two/>");
	free(ts);
	free(lst);
	free(body);
	ck_assert_int_eq(db_device_key_remove(db, "0022bd010201", &err),
			 DB_OK);
	ck_assert_int_eq(db_device_key_remove(db, "0022bd010201", &err),
			 DB_NOTFOUND);
	db_close(db);
}
END_TEST

START_TEST(db_firmware_report)
{
	struct db *db = open_db();
	char text[2048] = "", *v = NULL, *f = NULL, *err = NULL;

	add_device(db, "0022bd010201");   /* on target */
	add_device(db, "0022bd010202");   /* behind, 3 downloads on 7.4.4 */
	add_device(db, "0022bd010203");   /* behind, downloads on older fw */
	add_device(db, "0022bd010204");   /* no model known */
	add_download(db, "0022bd010201", "7.6.2");
	for (int i = 0; i < 3; i++)
		add_download(db, "0022bd010202", "7.4.4");
	add_download(db, "0022bd010203", "7.4.0");
	add_download(db, "0022bd010203", "7.4.0");
	add_download(db, "0022bd010203", "7.5.1");
	ck_assert_int_eq(db_firmware_target_set(db, "spa-962", "7.6.2",
						"spa962-7.6.2.bin", &err),
			 DB_OK);
	ck_assert_int_eq(db_firmware_target_get(db, "SPA-962", &v, &f, &err),
			 DB_OK);
	ck_assert_str_eq(v, "7.6.2");
	ck_assert_str_eq(f, "spa962-7.6.2.bin");
	free(v);
	free(f);
	ck_assert_int_eq(db_firmware_census(db, collect, text, &err), 0);
	ck_assert_str_eq(text, "(unknown)|(unknown)|1|NULL;"
			       "SPA-962|7.4.4|1|7.6.2;SPA-962|7.5.1|1|7.6.2;"
			       "SPA-962|7.6.2|1|7.6.2;");
	text[0] = '\0';
	ck_assert_int_eq(db_firmware_behind(db, 0, collect, text, &err), 0);
	ck_assert_ptr_nonnull(strstr(text, "0022bd010202|SPA-962|7.4.4|7.6.2|3|"));
	ck_assert_ptr_nonnull(strstr(text, "0022bd010203|SPA-962|7.5.1|7.6.2|1|"));
	ck_assert_ptr_null(strstr(text, "0022bd010201"));
	text[0] = '\0';
	ck_assert_int_eq(db_firmware_behind(db, 3, collect, text, &err), 0);
	ck_assert_ptr_nonnull(strstr(text, "0022bd010202"));
	ck_assert_ptr_null(strstr(text, "0022bd010203"));
	ck_assert_int_eq(db_firmware_target_remove(db, "SPA-962", &err),
			 DB_OK);
	ck_assert_int_eq(db_firmware_target_get(db, "SPA-962", &v, &f, &err),
			 DB_NOTFOUND);
	db_close(db);
}
END_TEST

/* --- conf: mode and firmware_dir ------------------------------------------- */

static int parse_conf(const char *text, struct conf **out, char **err)
{
	char path[128];

	write_file("c.crt", "x");
	write_file("c.key", "x");
	snprintf(path, sizeof(path), "%s/spaprov.conf", dir);
	return conf_parse_buffer(path, text, strlen(text), out, err);
}

START_TEST(conf_modes)
{
	struct conf *c = NULL;
	char *err = NULL;

	ck_assert_int_eq(parse_conf("[server]\ndatabase = d.db\n"
				    "firmware_dir = fw\n"
				    "[listener a]\nca = sb\naddress = 127.0.0.1\n"
				    "port = 1\ncertificate = c.crt\nkey = c.key\n"
				    "[listener b]\nca = sipura\nmode = plain\n"
				    "address = 127.0.0.1\nport = 2\n"
				    "[listener c]\nca = sb\nmode = server-auth\n"
				    "address = 127.0.0.1\nport = 3\n"
				    "certificate = c.crt\nkey = c.key\n",
				    &c, &err), 0);
	ck_assert_int_eq(c->listeners[0].mode, CONF_MODE_MUTUAL);
	ck_assert_int_eq(c->listeners[1].mode, CONF_MODE_PLAIN);
	ck_assert_ptr_null(c->listeners[1].certificate);
	ck_assert_int_eq(c->listeners[2].mode, CONF_MODE_SERVER_AUTH);
	ck_assert_ptr_nonnull(strstr(c->firmware_dir, "/fw"));
	ck_assert_str_eq(conf_mode_name(CONF_MODE_SERVER_AUTH), "server-auth");
	conf_free(c);

	ck_assert_int_eq(parse_conf("[server]\ndatabase = d.db\n"
				    "[listener a]\nca = sb\nmode = strict\n",
				    &c, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, ":5: mode: expected mutual, "
					  "server-auth or plain"));
	free(err);
	ck_assert_int_eq(parse_conf("[server]\ndatabase = d.db\n"
				    "[listener a]\nca = sb\naddress = ::1\n"
				    "port = 1\nkey = c.key\n", &c, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, ":3: [listener a]: missing key "
					  "'certificate'"));
	free(err);
	ck_assert_int_eq(parse_conf("[server]\ndatabase = d.db\n"
				    "[listener a]\nca = sb\nmode = plain\n"
				    "address = ::1\nport = 1\n"
				    "certificate = c.crt\n", &c, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, ":8: certificate: not used with "
					  "mode = plain"));
	free(err);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fleet");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_checked_fixture(tc, rule_setup, NULL);
	tcase_add_test(tc, parse_report);
	tcase_add_test(tc, parse_mpp_and_empty);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, diff_served_against_report);
	tcase_add_test(tc, firmware_names);
	tcase_add_test(tc, firmware_open);
	tcase_add_test(tc, needs_plain);
	tcase_add_test(tc, upgrade_rules);
	tcase_add_test(tc, db_keys_and_reports);
	tcase_add_test(tc, db_firmware_report);
	tcase_add_test(tc, conf_modes);
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
	return failed == 0 ? 0 : 1;
}
