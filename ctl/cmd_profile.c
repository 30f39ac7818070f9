#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "ctl/ctl.h"
#include "ctl/out.h"
#include "db/db.h"
#include "db/history.h"
#include "db/pin.h"
#include "db/profile.h"
#include "fleet/steer.h"
#include "fleet/firmware.h"
#include "tmpl/builtins.h"
#include "tmpl/tmpl.h"
#include "util/mac.h"

#define MAX_PROFILE_NAME 64
#define MAX_VARS_SHOWN 1024   /* bytes of the variable list in `list` */

static void profile_usage(FILE *f)
{
	fprintf(f,
		"Usage: spaprovctl profile set NAME FILE|- [--generic-safe | "
		"--no-generic-safe]\n"
		"       spaprovctl profile get NAME\n"
		"       spaprovctl profile list [--json]\n"
		"       spaprovctl profile rm NAME [--force]\n"
		"       spaprovctl profile render MAC [--profile NAME] "
		"[--listener NAME]\n"
		"set stores the template FILE (\"-\" for standard input) as "
		"profile NAME.\n{{name}} takes a device variable or a "
		"built-in (mac, mac_upper, serial, model,\nfirmware, ca, "
		"listener, profile_rule), XML-escaped; $ macros are left for "
		"the\nphone.  --generic-safe lets spaprovd serve the profile to "
		"devices identified\nonly by the MAC in the URL (generic_policy "
		"= url-mac); without either option\nthe flag stays as it was "
		"(off for a new profile).\n"
		"get prints the template as stored.  rm refuses a profile "
		"that devices use,\nunless --force.  render prints what the "
		"phone would be served now: its\nvariables, serial, model "
		"and firmware as last seen, and the listener of its\nlast "
		"request (or --listener).\n");
}

static int name_ok(const char *name)
{
	if (name[0] == '\0' || strlen(name) > MAX_PROFILE_NAME) {
		ctl_err("profile name must be 1 to %d characters",
			MAX_PROFILE_NAME);
		return 0;
	}
	return 1;
}

/* Read FILE (or stdin) up to TMPL_MAX_SIZE bytes. */
static char *read_template(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		ctl_err("%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(TMPL_MAX_SIZE + 1);
	n = buf != NULL ? fread(buf, 1, TMPL_MAX_SIZE + 1, f) : 0;
	if (buf != NULL && (ferror(f) || n > TMPL_MAX_SIZE ||
			    memchr(buf, '\0', n) != NULL)) {
		ctl_err("%s: %s", path, ferror(f) ? strerror(errno) :
			n > TMPL_MAX_SIZE ? "larger than the template limit"
					  : "contains NUL bytes");
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	if (buf != NULL) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

static void count_name(void *ctx, const char *name)
{
	(void)name;
	(*(size_t *)ctx)++;
}

/* safe: 1 or 0 sets the generic_safe flag, -1 leaves it as it is. */
static int profile_set(struct ctl *ctl, const char *name, const char *path,
		       int safe)
{
	char *body, *err = NULL;
	size_t len = 0, n_names = 0;
	struct db *db;
	int rc = CTL_INVALID;

	if (!name_ok(name))
		return CTL_INVALID;
	if ((body = read_template(path, &len)) == NULL)
		return CTL_INVALID;
	if (tmpl_names(body, len, count_name, &n_names, &err) < 0) {
		ctl_err("%s: %s", path, err);
		goto out;
	}
	if ((db = ctl_db(ctl)) == NULL) {
		rc = CTL_DBERROR;
		goto out;
	}
	if ((safe < 0 ? db_profile_set(db, name, body, &err)
		      : db_profile_set_flagged(db, name, body, safe, &err)) !=
	    DB_OK) {
		ctl_err("%s", err ? err : "database error");
		rc = CTL_DBERROR;
		goto out;
	}
	printf("stored profile %s (%zu bytes, %zu variable%s%s)\n", name, len,
	       n_names, n_names == 1 ? "" : "s", safe == 1 ? ", generic-safe"
	       : safe == 0 ? ", not generic-safe" : "");
	rc = CTL_OK;
out:
	free(err);
	free(body);
	return rc;
}

/* set NAME FILE [--generic-safe | --no-generic-safe] */
static int profile_set_cmd(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "generic-safe", no_argument, NULL, 'g' },
		{ "no-generic-safe", no_argument, NULL, 'G' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, safe = -1;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((ch != 'g' && ch != 'G') || safe >= 0) {
			profile_usage(stderr);
			return CTL_USAGE;
		}
		safe = ch == 'g';
	}
	if (argc - optind != 2) {
		profile_usage(stderr);
		return CTL_USAGE;
	}
	return profile_set(ctl, argv[optind], argv[optind + 1], safe);
}

/* The stored body of profile NAME: CTL_OK with *body, or the exit code
 * after saying why. */
static int load_profile(struct db *db, const char *name, char **body)
{
	char *err = NULL;
	int rc = db_profile_get(db, name, body, &err);

	if (rc == DB_NOTFOUND)
		ctl_err("no profile '%s'", name);
	else if (rc != DB_OK)
		ctl_err("%s", err ? err : "database error");
	free(err);
	return rc == DB_OK ? CTL_OK : rc == DB_NOTFOUND ? CTL_NOTFOUND
							: CTL_DBERROR;
}

static int profile_get(struct ctl *ctl, const char *name)
{
	struct db *db = ctl_db(ctl);
	char *body = NULL;
	int rc;

	if (db == NULL)
		return CTL_DBERROR;
	if ((rc = load_profile(db, name, &body)) != CTL_OK)
		return rc;
	if (fwrite(body, 1, strlen(body), stdout) != strlen(body) ||
	    fflush(stdout) != 0) {
		ctl_err("writing the profile: %s", strerror(errno));
		rc = CTL_INVALID;
	}
	free(body);
	return rc;
}

/* --- list ----------------------------------------------------------------- */

static const struct out_col list_cols[] = {
	{ "name", OUT_TEXT }, { "bytes", OUT_INT }, { "variables", OUT_TEXT },
	{ "devices", OUT_INT }, { "updated", OUT_TEXT },
};

struct name_list {
	char buf[MAX_VARS_SHOWN];
	size_t len;
};

static void add_name(void *ctx, const char *name)
{
	struct name_list *l = ctx;
	int n = snprintf(l->buf + l->len, sizeof(l->buf) - l->len, "%s%s",
			 l->len > 0 ? "," : "", name);

	if (n > 0 && (size_t)n < sizeof(l->buf) - l->len)
		l->len += (size_t)n;
	else
		l->buf[l->len] = '\0'; /* keep the names that fit */
}

static int list_row(void *ctx, const struct db_profile_info *p)
{
	struct name_list names = { .len = 0 };
	char bytes[24], devices[24], *err = NULL;
	const char *values[5];

	names.buf[0] = '\0';
	if (tmpl_names(p->body, strlen(p->body), add_name, &names, &err) < 0)
		snprintf(names.buf, sizeof(names.buf), "invalid: %s",
			 err ? err : "?");
	free(err);
	snprintf(bytes, sizeof(bytes), "%zu", strlen(p->body));
	snprintf(devices, sizeof(devices), "%lld", p->devices);
	values[0] = p->name;
	values[1] = bytes;
	values[2] = names.buf;
	values[3] = devices;
	values[4] = p->updated;
	out_row(ctx, values);
	return 0;
}

static int profile_list(struct ctl *ctl, int json)
{
	struct db *db = ctl_db(ctl);
	struct out *o;
	char *err = NULL;

	if (db == NULL)
		return CTL_DBERROR;
	o = out_new(json, list_cols, sizeof(list_cols) / sizeof(list_cols[0]));
	if (o == NULL || db_profile_list(db, list_row, o, &err) < 0) {
		ctl_err("%s", err ? err : "out of memory");
		free(err);
		out_finish(o);
		return CTL_DBERROR;
	}
	out_finish(o);
	return CTL_OK;
}

/* --- rm ------------------------------------------------------------------- */

static int profile_rm(struct ctl *ctl, const char *name, int force)
{
	struct db *db = ctl_db(ctl);
	long long devices = 0;
	char *err = NULL;
	int rc;

	if (db == NULL)
		return CTL_DBERROR;
	switch (db_profile_rm(db, name, force, &devices, &err)) {
	case DB_OK:
		printf("removed profile %s\n", name);
		if (devices > 0)
			ctl_err("warning: %lld device%s still name '%s' and "
				"get 404 until it is stored again", devices,
				devices == 1 ? "" : "s", name);
		rc = CTL_OK;
		break;
	case DB_NOTFOUND:
		ctl_err("no profile '%s'", name);
		rc = CTL_NOTFOUND;
		break;
	case DB_EXISTS:
		ctl_err("profile '%s' is used by %lld device%s (--force "
			"removes it anyway)", name, devices,
			devices == 1 ? "" : "s");
		rc = CTL_INVALID;
		break;
	default:
		ctl_err("%s", err ? err : "database error");
		rc = CTL_DBERROR;
		break;
	}
	free(err);
	return rc;
}

/* --- render --------------------------------------------------------------- */

struct render_args {
	const char *profile;         /* --profile, else the device's */
	const char *listener;        /* --listener, else the last used */
};

static void find_site_names(void *ctx, const char *name)
{
	if (strcmp(name, "ca") == 0 || strcmp(name, "listener") == 0)
		*(int *)ctx = 1;
}

/* ca and listener into b: from --listener, else the listener of the
 * device's last request (its CA from the configuration, or as recorded
 * if the listener is gone).  *lname and *lca keep the strings. */
static int pick_listener(struct ctl *ctl, struct db *db,
			 const struct render_args *a, const char *mac,
			 struct tmpl_builtins *b, char **lname, char **lca)
{
	struct conf *conf = ctl_conf(ctl);
	const struct conf_listener *cl;
	char *err = NULL;
	int rc;

	if (conf == NULL)
		return CTL_DBERROR;
	if (a->listener != NULL) {
		if ((cl = conf_listener_find(conf, a->listener)) == NULL) {
			ctl_err("no listener '%s' in %s", a->listener,
				conf->path);
			return CTL_NOTFOUND;
		}
		b->listener = cl->name;
		b->ca = conf_ca_name(cl->ca);
		return CTL_OK;
	}
	rc = db_history_last_listener(db, mac, lname, lca, &err);
	if (rc == DB_ERROR) {
		ctl_err("%s", err ? err : "database error");
		free(err);
		return CTL_DBERROR;
	}
	if (rc == DB_NOTFOUND)
		return CTL_OK; /* unknown: ca and listener stay NULL */
	b->listener = *lname;
	if ((cl = conf_listener_find(conf, *lname)) != NULL) {
		b->ca = conf_ca_name(cl->ca);
	} else {
		b->ca = *lca;
		ctl_err("warning: listener '%s' of the last request is not "
			"in %s; CA '%s' as recorded", *lname, conf->path,
			*lca);
	}
	return CTL_OK;
}

/* {{profile_rule}} as spaprovd renders it: on the listener the CA table
 * recommends for the device, else on b->listener.  NULL with *why. */
static const char *render_rule(struct ctl *ctl, const struct db_device *dev,
			       const struct tmpl_builtins *b, char *buf,
			       size_t size, const char **why)
{
	struct conf *conf = ctl_conf(ctl);
	struct steer_hosts *h = NULL;
	const char *rule;
	char *err = NULL;

	*why = "cannot load the configuration";
	if (conf == NULL || steer_hosts_load(conf, &h, &err) < 0) {
		free(err);
		return NULL;
	}
	rule = steer_rule_for(conf, h, b->listener != NULL
			      ? conf_listener_find(conf, b->listener) : NULL,
			      dev->model, dev->firmware, buf, size, why);
	steer_hosts_free(h);
	return rule;
}

static int render_device(struct ctl *ctl, struct db *db,
			 const struct render_args *a, struct db_device *dev)
{
	struct tmpl_builtins b = {
		.mac = dev->mac, .serial = dev->serial, .model = dev->model,
		.firmware = dev->firmware, .vars = dev->vars,
		.n_vars = dev->n_vars,
	};
	const char *pname = a->profile != NULL ? a->profile : dev->profile;
	struct fleet_fw_site site = { .conf = ctl->conf };
	struct fleet_fw_vars fw;
	char *body = NULL, *out = NULL, *err = NULL, *lname = NULL,
	     *lca = NULL, rule[STEER_MAX_RULE];
	const char *why = NULL;
	size_t outlen = 0;
	int uses_site = 0, rc;

	if (pname == NULL) {
		ctl_err("device %s has no profile (spaprovd answers 404)",
			dev->mac);
		return CTL_NOTFOUND;
	}
	if ((rc = load_profile(db, pname, &body)) != CTL_OK)
		goto out;
	if ((rc = pick_listener(ctl, db, a, dev->mac, &b, &lname, &lca)) !=
	    CTL_OK)
		goto out;
	rc = CTL_INVALID;
	/* a syntax error is reported by tmpl_render below, as spaprovd does */
	if (b.listener == NULL &&
	    tmpl_names(body, strlen(body), find_site_names, &uses_site,
		       &err) == 0 && uses_site) {
		ctl_err("device %s has never connected: give --listener NAME "
			"for {{ca}} and {{listener}}", dev->mac);
		goto out;
	}
	free(err);
	err = NULL;
	/* {{firmware_target}}, {{upgrade_rule}}: as spaprovd on that listener */
	if (b.listener != NULL)
		site.cl = conf_listener_find(ctl->conf, b.listener);
	if (fleet_fw_vars(db, &site, dev->model, &fw, &err) < 0) {
		ctl_err("%s", err ? err : "database error");
		rc = CTL_DBERROR;
		goto out;
	}
	b.firmware_target = fw.target;
	b.upgrade_rule = fw.rule;
	b.profile_rule = render_rule(ctl, dev, &b, rule, sizeof(rule), &why);
	if (tmpl_render(body, strlen(body), tmpl_builtins_lookup, &b, &out,
			&outlen, &err) < 0) {
		int no_rule = b.profile_rule == NULL && err != NULL &&
			      strstr(err, "'profile_rule'") != NULL;

		/* the ledger's detail for this render-error, word for word */
		ctl_err("profile '%s': %s%s%s%s", pname, err ? err : "?",
			no_rule ? " (" : "", no_rule ? why : "",
			no_rule ? ")" : "");
		goto out;
	}
	if (strcmp(dev->status, "enabled") != 0)
		ctl_err("warning: device %s is %s: spaprovd answers 403",
			dev->mac, dev->status);
	rc = CTL_OK;
	if (fwrite(out, 1, outlen, stdout) != outlen || fflush(stdout) != 0) {
		ctl_err("writing the profile: %s", strerror(errno));
		rc = CTL_INVALID;
	}
out:
	free(body);
	free(out);
	free(err);
	free(lname);
	free(lca);
	return rc;
}

static int profile_render(struct ctl *ctl, const char *mac_arg,
			  const struct render_args *a)
{
	struct db_device *dev = NULL;
	char mac[MAC_LEN + 1], *err = NULL;
	struct db *db;
	int rc;

	if (mac_normalize(mac_arg, mac) < 0) {
		ctl_err("invalid MAC address '%s'", mac_arg);
		return CTL_INVALID;
	}
	if (a->profile != NULL && !name_ok(a->profile))
		return CTL_INVALID;
	if ((db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	rc = db_device_get(db, mac, &dev, &err);
	if (rc == DB_NOTFOUND) {
		ctl_err("no device %s", mac);
		return CTL_NOTFOUND;
	}
	if (rc != DB_OK) {
		ctl_err("%s", err ? err : "database error");
		free(err);
		return CTL_DBERROR;
	}
	rc = render_device(ctl, db, a, dev);
	db_device_free(dev);
	return rc;
}

/* --- the command ---------------------------------------------------------- */

/* Options of list, rm and render; returns -1 after a usage message. */
static int parse_opts(int argc, char **argv, int *json, int *force,
		      struct render_args *a)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "profile", required_argument, NULL, 'p' },
		{ "listener", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 0; /* glibc: fully reset getopt, including the "+" mode */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': *json = 1; break;
		case 'f': *force = 1; break;
		case 'p': a->profile = optarg; break;
		case 'l': a->listener = optarg; break;
		default: return -1;
		}
	}
	return 0;
}

int cmd_profile(struct ctl *ctl, int argc, char **argv)
{
	struct render_args a = { 0 };
	const char *sub = argc >= 2 ? argv[1] : "";
	int json = 0, force = 0, nargs;

	if (argc == 2 && strcmp(sub, "--help") == 0) {
		profile_usage(stdout);
		return CTL_OK;
	}
	if (strcmp(sub, "set") == 0)
		return profile_set_cmd(ctl, argc - 1, argv + 1);
	if (argc < 2 || parse_opts(argc - 1, argv + 1, &json, &force, &a) < 0)
		goto usage;
	nargs = argc - 1 - optind;   /* operands after the subcommand */
	if (strcmp(sub, "get") == 0 && nargs == 1 && !json && !force &&
	    !a.profile && !a.listener)
		return profile_get(ctl, argv[1 + optind]);
	if (strcmp(sub, "list") == 0 && nargs == 0 && !force && !a.profile &&
	    !a.listener)
		return profile_list(ctl, json);
	if (strcmp(sub, "rm") == 0 && nargs == 1 && !json && !a.profile &&
	    !a.listener)
		return profile_rm(ctl, argv[1 + optind], force);
	if (strcmp(sub, "render") == 0 && nargs == 1 && !json && !force)
		return profile_render(ctl, argv[1 + optind], &a);
usage:
	profile_usage(stderr);
	return CTL_USAGE;
}
