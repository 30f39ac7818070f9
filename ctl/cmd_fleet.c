/* spaprovctl device key, device report, firmware target|report:
 * encrypted-profile keys, device reports and firmware (fleet/). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "ctl/ctl.h"
#include "ctl/out.h"
#include "db/db.h"
#include "db/fleet.h"
#include "fleet/key.h"
#include "fleet/firmware.h"
#include "fleet/report.h"
#include "tmpl/builtins.h"
#include "tmpl/tmpl.h"
#include "util/mac.h"

#define FLEET_SECRET_MASK "********"
#define FLEET_STUCK_DEFAULT 3        /* downloads before "stuck" */
#define FLEET_STUCK_MAX 1000000
#define FLEET_MAX_COLS 6             /* columns of the widest table */

static int parse_mac(const char *arg, char mac[MAC_LEN + 1])
{
	if (mac_normalize(arg, mac) == 0)
		return 0;
	ctl_err("invalid MAC address '%s'", arg);
	return -1;
}

static int db_failed(char *err)
{
	ctl_err("%s", err ? err : "database error");
	free(err);
	return CTL_DBERROR;
}

/* --- device key ----------------------------------------------------------- */

static int key_usage(int help)
{
	fprintf(help ? stdout : stderr,
		"Usage: spaprovctl device key MAC [--generate | --set KEY | "
		"--remove]\n"
		"The key of the device's encrypted profile, served on "
		"listeners with\nmode = server-auth or plain (the firmware "
		"decrypts it "
		"with Profile_Rule's\n--key option; so does `openssl enc -d "
		"-aes-256-cbc -md md5 -k KEY`).\nWithout an option: print the "
		"key (exit 2 if none).\n"
		"  --generate   a new random key of %d characters, printed\n"
		"  --set KEY    %d to %d of A-Z a-z 0-9 . _ ~ + = / -\n"
		"  --remove     no key: the device gets 404 no-key there\n",
		FLEET_KEY_GEN_LEN, FLEET_KEY_MIN, FLEET_KEY_MAX);
	return help ? CTL_OK : CTL_USAGE;
}

/* DB_NOTFOUND from a key query: no device, or no key? */
static int key_missing(struct db *db, const char *mac, const char *what)
{
	struct db_device *dev = NULL;
	char *err = NULL;
	int rc = db_device_get(db, mac, &dev, &err);

	db_device_free(dev);
	if (rc == DB_ERROR)
		return db_failed(err);
	if (rc == DB_NOTFOUND)
		ctl_err("no device %s", mac);
	else
		ctl_err("device %s has no key%s", mac, what);
	return CTL_NOTFOUND;
}

static int key_store(struct db *db, const char *mac, const char *key,
		     int print)
{
	char *err = NULL;
	int rc = db_device_key_set(db, mac, key, &err);

	if (rc == DB_NOTFOUND) {
		ctl_err("no device %s", mac);
		return CTL_NOTFOUND;
	}
	if (rc != DB_OK)
		return db_failed(err);
	if (print)
		printf("%s\n", key);
	return CTL_OK;
}

int cmd_device_key(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "generate", no_argument, NULL, 'g' },
		{ "set", required_argument, NULL, 's' },
		{ "remove", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char mac[MAC_LEN + 1], gen[FLEET_KEY_GEN_LEN + 1], *key = NULL,
	     *err = NULL;
	const char *set = NULL;
	int ch, generate = 0, remove = 0, rc;
	struct db *db;

	optind = 0; /* glibc: fully reset getopt, including the "+" mode */
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'g': generate = 1; break;
		case 's': set = optarg; break;
		case 'r': remove = 1; break;
		case 'h': return key_usage(1);
		default: return key_usage(0);
		}
	}
	if (optind + 1 != argc || generate + remove + (set != NULL) > 1)
		return key_usage(0);
	if (parse_mac(argv[optind], mac) < 0)
		return CTL_INVALID;
	if (set != NULL && !fleet_key_valid(set)) {
		ctl_err("--set: a key is %d to %d of A-Z a-z 0-9 . _ ~ + = / -",
			FLEET_KEY_MIN, FLEET_KEY_MAX);
		return CTL_INVALID;
	}
	if ((db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	if (set != NULL)
		return key_store(db, mac, set, 0);
	if (generate) {
		if (fleet_key_generate(gen, &err) < 0) {
			ctl_err("%s", err ? err : "no random key");
			free(err);
			return CTL_DBERROR;
		}
		return key_store(db, mac, gen, 1);
	}
	rc = remove ? db_device_key_remove(db, mac, &err)
		    : db_device_key_get(db, mac, &key, &err);
	if (rc == DB_NOTFOUND)
		return key_missing(db, mac, remove ? "" : " (give it one with "
					     "--generate)");
	if (rc != DB_OK)
		return db_failed(err);
	if (key != NULL)
		printf("%s\n", key);
	free(key);
	return CTL_OK;
}

/* --- device report -------------------------------------------------------- */

static int report_usage(int help)
{
	fprintf(help ? stdout : stderr,
		"Usage: spaprovctl device report MAC [--diff [--reveal] "
		"[--json]]\n"
		"The latest report the device POSTed (Report_Rule, e.g.\n"
		"https://prov.example.com:8444/report/$MA), as received.\n"
		"  --diff     the parameters of the profile rendered now that "
		"differ from\n             the report (\"(not reported)\" when "
		"missing from it)\n"
		"  --reveal   show values of parameters named *pass*, "
		"*secret*, *key*, *pin*,\n             *token* (else "
		FLEET_SECRET_MASK ")\n");
	return help ? CTL_OK : CTL_USAGE;
}

static int is_secret_name(const char *name)
{
	static const char *const words[] = { "pass", "secret", "key", "pin",
					     "token" };
	char lower[FLEET_REPORT_MAX_NAME + 1];
	size_t i;

	for (i = 0; name[i] != '\0' && i < FLEET_REPORT_MAX_NAME; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[i] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(lower, words[i]) != NULL)
			return 1;
	return 0;
}

/* The device's profile as spaprovd would render it on `listener`. */
static int render_served(struct ctl *ctl, struct db *db,
			 const struct db_device *dev, const char *listener,
			 char **out, size_t *len)
{
	struct conf *conf = ctl_conf(ctl);
	const struct conf_listener *cl;
	struct tmpl_builtins b = {
		.mac = dev->mac, .serial = dev->serial, .model = dev->model,
		.firmware = dev->firmware, .listener = listener,
		.vars = dev->vars, .n_vars = dev->n_vars,
	};
	struct fleet_fw_site site = { .conf = conf };
	struct fleet_fw_vars fw;
	char *body = NULL, *err = NULL;
	int rc = CTL_DBERROR;

	if (conf == NULL)
		return CTL_DBERROR;
	if (dev->profile == NULL) {
		ctl_err("device %s has no profile: nothing to compare",
			dev->mac);
		return CTL_NOTFOUND;
	}
	site.cl = cl = conf_listener_find(conf, listener);
	b.ca = cl != NULL ? conf_ca_name(cl->ca) : NULL;
	if (db_profile_get(db, dev->profile, &body, &err) != DB_OK ||
	    fleet_fw_vars(db, &site, dev->model, &fw, &err) < 0) {
		ctl_err("profile '%s': %s", dev->profile,
			err ? err : "not found");
		rc = err != NULL ? CTL_DBERROR : CTL_NOTFOUND;
		goto out;
	}
	b.firmware_target = fw.target;
	b.upgrade_rule = fw.rule;
	if (tmpl_render(body, strlen(body), tmpl_builtins_lookup, &b, out,
			len, &err) < 0) {
		ctl_err("profile '%s': %s", dev->profile, err ? err : "?");
		rc = CTL_INVALID;
		goto out;
	}
	rc = CTL_OK;
out:
	free(body);
	free(err);
	return rc;
}

struct diff_out {
	struct out *o;
	int reveal;
};

static void diff_row(void *ctx, const char *name, const char *served,
		     const char *reported)
{
	struct diff_out *d = ctx;
	int hide = !d->reveal && is_secret_name(name);
	const char *v[3] = {
		name, hide ? FLEET_SECRET_MASK : served,
		reported == NULL ? "(not reported)"
		: hide		 ? FLEET_SECRET_MASK
				 : reported,
	};

	out_row(d->o, v);
}

/* Parse both and print the differences. */
static int print_diff(const char *served, size_t slen, const char *report,
		      const char *ts, int json, int reveal)
{
	static const struct out_col cols[] = {
		{ "parameter", OUT_TEXT }, { "served", OUT_TEXT },
		{ "reported", OUT_TEXT },
	};
	struct fleet_params sp = { 0 }, rp = { 0 };
	struct diff_out d = { .reveal = reveal };
	size_t n;
	char *err = NULL;
	int rc = CTL_INVALID;

	if (fleet_params_parse(served, slen, &sp, &err) < 0) {
		ctl_err("the profile rendered now: %s", err ? err : "?");
		goto out;
	}
	free(err);
	err = NULL;
	if (fleet_params_parse(report, strlen(report), &rp, &err) < 0) {
		ctl_err("the report: %s", err ? err : "?");
		goto out;
	}
	d.o = out_new(json, cols, 3);
	if (d.o == NULL) {
		ctl_err("out of memory");
		goto out;
	}
	n = fleet_params_diff(&sp, &rp, diff_row, &d);
	out_finish(d.o);
	fprintf(stderr, "%zu of %zu parameters served differ from the report "
		"of %s\n", n, sp.n, ts);
	rc = CTL_OK;
out:
	fleet_params_free(&sp);
	fleet_params_free(&rp);
	free(err);
	return rc;
}

static int report_show(struct ctl *ctl, struct db *db, const char *mac,
		       int diff, int json, int reveal)
{
	struct db_device *dev = NULL;
	char *ts = NULL, *listener = NULL, *body = NULL, *served = NULL,
	     *err = NULL;
	size_t slen = 0;
	int rc = db_device_get(db, mac, &dev, &err);

	if (rc == DB_NOTFOUND) {
		ctl_err("no device %s", mac);
		return CTL_NOTFOUND;
	}
	if (rc != DB_OK)
		return db_failed(err);
	rc = db_report_get(db, mac, &ts, &listener, &body, &err);
	if (rc == DB_NOTFOUND) {
		ctl_err("no report from %s yet (its Report_Rule, e.g. "
			"https://HOST:PORT/report/$MA, and a SIP NOTIFY "
			"Event: report)", mac);
		rc = CTL_NOTFOUND;
		goto out;
	}
	if (rc != DB_OK) {
		rc = db_failed(err);
		err = NULL;
		goto out;
	}
	if (!diff) {
		fprintf(stderr, "report of %s received %s on listener %s\n",
			mac, ts, listener);
		fputs(body, stdout);
		rc = CTL_OK;
		goto out;
	}
	rc = render_served(ctl, db, dev, listener, &served, &slen);
	if (rc == CTL_OK)
		rc = print_diff(served, slen, body, ts, json, reveal);
out:
	db_device_free(dev);
	free(ts);
	free(listener);
	free(body);
	free(served);
	free(err);
	return rc;
}

int cmd_device_report(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "diff", no_argument, NULL, 'd' },
		{ "reveal", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char mac[MAC_LEN + 1];
	int ch, diff = 0, json = 0, reveal = 0;
	struct db *db;

	optind = 0; /* glibc: fully reset getopt, including the "+" mode */
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': diff = 1; break;
		case 'r': reveal = 1; break;
		case 'j': json = 1; break;
		case 'h': return report_usage(1);
		default: return report_usage(0);
		}
	}
	if (optind + 1 != argc || ((json || reveal) && !diff))
		return report_usage(0);
	if (parse_mac(argv[optind], mac) < 0)
		return CTL_INVALID;
	if ((db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	return report_show(ctl, db, mac, diff, json, reveal);
}

/* --- firmware ------------------------------------------------------------- */

static int firmware_usage(int help)
{
	fprintf(help ? stdout : stderr,
		"Usage: spaprovctl firmware target [--json]\n"
		"       spaprovctl firmware target MODEL VERSION FILE\n"
		"       spaprovctl firmware target MODEL --remove\n"
		"       spaprovctl firmware report [--stuck-after N] [--json]\n"
		"target: the firmware each model should run; FILE is an "
		"image in [server]\nfirmware_dir, served as /firmware/FILE.  "
		"Profiles get it as {{firmware_target}}\n(VERSION) and "
		"{{upgrade_rule}} "
		"(the URL for Upgrade_Rule).  MODEL as in\n`device list` "
		"(compared without regard to case).\n"
		"report: versions per model, devices not on their target, and "
		"devices stuck:\nstill on the same firmware after N firmware "
		"downloads (default %d).\n", FLEET_STUCK_DEFAULT);
	return help ? CTL_OK : CTL_USAGE;
}

/* 1..max printable ASCII characters without blanks. */
static int word_ok(const char *what, const char *s, size_t max)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		if (s[i] <= ' ' || s[i] > '~') {
			ctl_err("%s '%s': no blanks or control characters",
				what, s);
			return 0;
		}
	}
	if (n == 0 || n > max) {
		ctl_err("%s: 1 to %zu characters", what, max);
		return 0;
	}
	return 1;
}

struct table {
	struct out *o;
	size_t ncols;
};

static int table_row(void *ctx, int ncols, const char *const *names,
		     const char *const *values)
{
	struct table *t = ctx;

	(void)names;
	if ((size_t)ncols != t->ncols)
		return -1;
	out_row(t->o, values);
	return 0;
}

/* Warn when spaprovd could not serve FILE. */
static void check_file(struct conf *conf, const char *file)
{
	unsigned long long size;
	char *err = NULL;
	int missing = 0, fd;

	if (conf->firmware_dir == NULL) {
		ctl_err("warning: no firmware_dir in [server] of %s: "
			"/firmware/%s answers 404", conf->path, file);
		return;
	}
	fd = fleet_fw_open(conf->firmware_dir, file, &size, &missing, &err);
	if (fd < 0)
		ctl_err("warning: spaprovd cannot serve it yet: %s",
			err ? err : "?");
	else
		close(fd);
	free(err);
}

static int target_list(struct db *db, int json)
{
	static const struct out_col cols[] = {
		{ "model", OUT_TEXT }, { "version", OUT_TEXT },
		{ "file", OUT_TEXT }, { "updated", OUT_TEXT },
	};
	struct table t = { .ncols = 4 };
	char *err = NULL;

	t.o = out_new(json, cols, 4);
	if (t.o == NULL)
		return db_failed(strdup("out of memory"));
	if (db_firmware_targets(db, table_row, &t, &err) < 0) {
		out_finish(t.o);
		return db_failed(err);
	}
	if (out_finish(t.o) == 0 && !json)
		fprintf(stderr, "(no targets)\n");
	return CTL_OK;
}

static int firmware_target(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "remove", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, remove = 0, json = 0, n, rc;
	struct conf *conf;
	struct db *db;
	char *err = NULL;

	optind = 0; /* glibc: fully reset getopt, including the "+" mode */
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': remove = 1; break;
		case 'j': json = 1; break;
		case 'h': return firmware_usage(1);
		default: return firmware_usage(0);
		}
	}
	n = argc - optind;
	if (!(n == 0 && !remove) && !(n == 1 && remove && !json) &&
	    !(n == 3 && !remove && !json))
		return firmware_usage(0);
	if ((conf = ctl_conf(ctl)) == NULL || (db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	if (n == 0)
		return target_list(db, json);
	if (!word_ok("MODEL", argv[optind], FLEET_FW_MAX_MODEL))
		return CTL_INVALID;
	if (remove) {
		rc = db_firmware_target_remove(db, argv[optind], &err);
		if (rc == DB_NOTFOUND)
			ctl_err("no target for model %s", argv[optind]);
		return rc == DB_OK ? CTL_OK : rc == DB_NOTFOUND
				   ? CTL_NOTFOUND : db_failed(err);
	}
	if (!word_ok("VERSION", argv[optind + 1], FLEET_FW_MAX_VERSION))
		return CTL_INVALID;
	if (!fleet_fw_name_valid(argv[optind + 2])) {
		ctl_err("FILE '%s': a name in firmware_dir, 1 to %d of "
			"A-Z a-z 0-9 . _ - not starting with '.'",
			argv[optind + 2], FLEET_FW_MAX_NAME);
		return CTL_INVALID;
	}
	if (db_firmware_target_set(db, argv[optind], argv[optind + 1],
				   argv[optind + 2], &err) != DB_OK)
		return db_failed(err);
	check_file(conf, argv[optind + 2]);
	return CTL_OK;
}

/* One section of the report, as in `spaprovctl stats`. */
static int report_section(struct db *db, int which, long long stuck,
			  const char *key, const char *title,
			  const struct out_col *cols, size_t ncols, int json,
			  int first)
{
	struct table t = { .ncols = ncols };
	char *err = NULL;
	int rc;

	t.o = out_new(json, cols, ncols);
	if (t.o == NULL)
		return db_failed(strdup("out of memory"));
	rc = which == 0 ? db_firmware_census(db, table_row, &t, &err)
			: db_firmware_behind(db, stuck, table_row, &t, &err);
	if (rc < 0) {
		out_finish(t.o);
		return db_failed(err);
	}
	if (json) {
		printf("%s\"%s\": ", first ? "" : ",\n", key);
		out_finish(t.o);
	} else {
		printf("%s%s\n", first ? "" : "\n", title);
		if (out_finish(t.o) == 0)
			printf("(none)\n");
	}
	return CTL_OK;
}

static int firmware_report(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stuck-after", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct out_col census[] = {
		{ "model", OUT_TEXT }, { "firmware", OUT_TEXT },
		{ "devices", OUT_INT }, { "target", OUT_TEXT },
	};
	static const struct out_col behind[] = {
		{ "mac", OUT_TEXT }, { "model", OUT_TEXT },
		{ "firmware", OUT_TEXT }, { "target", OUT_TEXT },
		{ "downloads", OUT_INT }, { "last_download", OUT_TEXT },
	};
	long long stuck = FLEET_STUCK_DEFAULT;
	char title[96], *end = NULL;
	int ch, json = 0, rc;
	struct db *db;

	optind = 0; /* glibc: fully reset getopt, including the "+" mode */
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			errno = 0;
			stuck = strtoll(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || stuck < 1 ||
			    stuck > FLEET_STUCK_MAX) {
				ctl_err("--stuck-after: a number from 1 to %d",
					FLEET_STUCK_MAX);
				return CTL_INVALID;
			}
			break;
		case 'j': json = 1; break;
		case 'h': return firmware_usage(1);
		default: return firmware_usage(0);
		}
	}
	if (optind != argc)
		return firmware_usage(0);
	if ((db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	snprintf(title, sizeof(title), "Stuck: same firmware after %lld or "
		 "more downloads", stuck);
	if (json)
		printf("{\n");
	rc = report_section(db, 0, 0, "versions", "Firmware per model "
			    "(enabled devices)", census, 4, json, 1);
	if (rc == CTL_OK)
		rc = report_section(db, 1, 0, "behind", "Not on their model's "
				    "target", behind, 6, json, 0);
	if (rc == CTL_OK)
		rc = report_section(db, 1, stuck, "stuck", title, behind, 6,
				    json, 0);
	if (json && rc == CTL_OK)
		printf("}\n");
	return rc;
}

int cmd_firmware(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2)
		return firmware_usage(0);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return firmware_usage(1);
	if (strcmp(argv[1], "target") == 0)
		return firmware_target(ctl, argc - 1, argv + 1);
	if (strcmp(argv[1], "report") == 0)
		return firmware_report(ctl, argc - 1, argv + 1);
	ctl_err("unknown firmware command '%s' (see spaprovctl firmware "
		"--help)", argv[1]);
	return CTL_USAGE;
}
