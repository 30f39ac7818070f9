/* spaprovctl device: the inventory.  add, set, show, list, rm, enable,
 * disable, approve.  MACs in any common notation; values are checked
 * here, the rules that need the database (exists, status) in db/device. */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "ctl/ctl.h"
#include "util/str.h"
#include "ctl/out.h"
#include "db/db.h"
#include "db/device.h"
#include "db/pin.h"
#include "fleet/steer.h"
#include "tmpl/builtins.h"
#include "tmpl/tmpl.h"
#include "util/mac.h"

#define MAX_PROFILE_NAME 64
#define MAX_DESCRIPTION 1024
#define MAX_FILTER 128              /* --model, --firmware */
#define MAX_SEARCH 256              /* --search */
#define LIST_DEFAULT_LIMIT 100
#define LIST_MAX_LIMIT 1000000
#define LIST_MAX_OFFSET 1000000000LL
#define MAX_NOT_SEEN_DAYS 36500
#define SECRET_MASK "********"

struct subcmd {
	const char *name;
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *usage;
	const char *help;
};

static const struct subcmd *find_subcmd(const char *name);

static const char mac_help[] =
	"MAC in any common notation (000E08ABCDEF, 00:0e:08:ab:cd:ef, "
	"000e.08ab.cdef).\n";

/* Usage of one subcommand: to stdout for --help (exit 0), else stderr. */
static int sub_usage(const char *name, int help)
{
	const struct subcmd *s = find_subcmd(name);
	FILE *f = help ? stdout : stderr;

	fprintf(f, "Usage: spaprovctl device %s\n%s%s", s->usage, s->help,
		mac_help);
	return help ? CTL_OK : CTL_USAGE;
}

/* --- argument checks ----------------------------------------------------- */

static int parse_mac(const char *arg, char mac[MAC_LEN + 1])
{
	if (mac_normalize(arg, mac) == 0)
		return 0;
	ctl_err("invalid MAC address '%s' (expected 12 hex digits, e.g. "
		"00:0e:08:ab:cd:ef)", arg);
	return -1;
}

static int check_profile(const char *opt, const char *name)
{
	if (name[0] != '\0' && strlen(name) <= MAX_PROFILE_NAME)
		return 0;
	ctl_err("%s: profile name must be 1 to %d characters", opt,
		MAX_PROFILE_NAME);
	return -1;
}

static int check_description(const char *text)
{
	if (strlen(text) <= MAX_DESCRIPTION)
		return 0;
	ctl_err("--description: longer than %d bytes", MAX_DESCRIPTION);
	return -1;
}

/* A decimal number in [min, max] for option opt. */
static int parse_number(const char *opt, const char *arg, long long min,
			long long max, long long *out)
{
	char *end;
	long long v;

	v = strtoll(arg, &end, 10);
	if (arg[0] == '\0' || *end != '\0' || !isdigit((unsigned char)arg[0])
	    || v < min || v > max) {
		ctl_err("%s: expected a number from %lld to %lld, got '%s'",
			opt, min, max, arg);
		return -1;
	}
	*out = v;
	return 0;
}

/* A variable name for --var or --unset-var: valid, not a built-in. */
static int check_var_name(const char *opt, const char *arg, const char *name)
{
	if (tmpl_name_valid(name) && !tmpl_is_builtin(name))
		return 0;
	ctl_err("%s %s: %s '%s'", opt, arg, tmpl_is_builtin(name)
		? "reserved built-in name" : "invalid variable name", name);
	return -1;
}

/* Split "NAME=VALUE" into vars[*n]; report what is wrong. */
static int parse_var(const char *arg, struct db_var *vars, size_t *n)
{
	const char *eq = strchr(arg, '=');
	char *name;

	if (eq == NULL || eq == arg) {
		ctl_err("--var %s: expected NAME=VALUE", arg);
		return -1;
	}
	if ((name = strndup(arg, (size_t)(eq - arg))) == NULL)
		return -1;
	if (check_var_name("--var", name, name) < 0) /* never echo the value */
		goto fail;
	if (strlen(eq + 1) > DB_MAX_VALUE) {
		ctl_err("--var %s: value longer than %d bytes", name,
			DB_MAX_VALUE);
		goto fail;
	}
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(vars[i].name, name) == 0) {
			ctl_err("--var %s: given twice", name);
			goto fail;
		}
	}
	vars[*n].name = name;
	vars[*n].value = (char *)(eq + 1);
	(*n)++;
	return 0;
fail:
	free(name);
	return -1;
}

static void free_var_names(struct db_var *vars, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(vars[i].name);
}

/* Variables whose values are never shown without --reveal: the name
 * contains one of these words, any case. */
static int is_secret_name(const char *name)
{
	static const char *const words[] = { "pass", "secret", "key", "pin",
					     "token" };
	char lower[TMPL_MAX_NAME + 1];
	size_t i;

	if (strlen(name) > TMPL_MAX_NAME)
		return 1; /* not a valid name anyway: hide it */
	for (i = 0; name[i] != '\0'; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[i] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(lower, words[i]) != NULL)
			return 1;
	return 0;
}

static int db_failed(const char *err)
{
	ctl_err("%s", err != NULL ? err : "database error");
	return CTL_DBERROR;
}

/* After a device got profile `profile` (NULL: none): say when the phone
 * will get 404 because of it.  Warnings only. */
static void warn_profile(struct db *db, const char *mac, const char *profile)
{
	char *body = NULL, *err = NULL;

	if (profile == NULL) {
		fprintf(stderr, "spaprovctl: warning: device %s has no "
			"profile: it gets 404 until it has one\n", mac);
		return;
	}
	if (db_profile_get(db, profile, &body, &err) == DB_NOTFOUND)
		fprintf(stderr, "spaprovctl: warning: profile '%s' does not "
			"exist yet: device %s gets 404 until it does\n",
			profile, mac);
	free(body);
	free(err);
}

/* --- device add ----------------------------------------------------------- */

static int device_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "description", required_argument, NULL, 'd' },
		{ "var", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct db_var vars[DB_MAX_VARS];
	const char *profile = NULL, *description = "";
	char mac[MAC_LEN + 1], *err = NULL;
	size_t n_vars = 0;
	struct db *db;
	int ch, rc = CTL_INVALID;

	optind = 0; /* glibc: fully reset getopt, including the "+" mode */
	while ((ch = getopt_long(argc, argv, "p:d:v:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': profile = optarg; break;
		case 'd': description = optarg; break;
		case 'v':
			if (n_vars == DB_MAX_VARS) {
				ctl_err("more than %d variables", DB_MAX_VARS);
				goto out;
			}
			if (parse_var(optarg, vars, &n_vars) < 0)
				goto out;
			break;
		case 'h': rc = sub_usage("add", 1); goto out;
		default: rc = sub_usage("add", 0); goto out;
		}
	}
	if (optind + 1 != argc) {
		rc = sub_usage("add", 0);
		goto out;
	}
	if (parse_mac(argv[optind], mac) < 0 ||
	    (profile != NULL && check_profile("--profile", profile) < 0) ||
	    check_description(description) < 0)
		goto out;
	if ((db = ctl_db(ctl)) == NULL) {
		rc = CTL_DBERROR;
		goto out;
	}
	switch (db_device_add(db, mac, profile, description, vars, n_vars,
			      &err)) {
	case DB_OK:
		printf("added device %s (profile %s, %zu variable%s)\n", mac,
		       profile ? profile : "none", n_vars,
		       n_vars == 1 ? "" : "s");
		warn_profile(db, mac, profile);
		rc = CTL_OK;
		break;
	case DB_EXISTS:
		ctl_err("%s", err);
		rc = CTL_INVALID;
		break;
	default:
		rc = db_failed(err);
	}
out:
	free_var_names(vars, n_vars);
	free(err);
	return rc;
}

/* --- device set ----------------------------------------------------------- */

struct set_args {
	struct db_var vars[DB_MAX_VARS];
	size_t n_vars;
	const char *unset[DB_MAX_VARS];
	size_t n_unset;
	struct db_device_change change;
};

static int add_unset(struct set_args *a, const char *name)
{
	if (a->n_unset == DB_MAX_VARS) {
		ctl_err("more than %d --unset-var", DB_MAX_VARS);
		return -1;
	}
	if (check_var_name("--unset-var", name, name) < 0)
		return -1;
	for (size_t i = 0; i < a->n_unset; i++) {
		if (strcmp(a->unset[i], name) == 0) {
			ctl_err("--unset-var %s: given twice", name);
			return -1;
		}
	}
	a->unset[a->n_unset++] = name;
	return 0;
}

/* Options that exclude each other, and "nothing to change". */
static int set_conflicts(const struct set_args *a)
{
	const struct db_device_change *c = &a->change;

	if (c->profile != NULL && c->clear_profile) {
		ctl_err("--profile and --no-profile exclude each other");
		return -1;
	}
	for (size_t i = 0; i < a->n_unset; i++)
		for (size_t j = 0; j < a->n_vars; j++)
			if (strcmp(a->unset[i], a->vars[j].name) == 0) {
				ctl_err("variable '%s' given to both --var and "
					"--unset-var", a->unset[i]);
				return -1;
			}
	if (c->profile == NULL && !c->clear_profile &&
	    c->description == NULL && a->n_vars == 0 && a->n_unset == 0) {
		ctl_err("nothing to change: give --profile, --no-profile, "
			"--description, --var or --unset-var");
		return -1;
	}
	return 0;
}

/* Parse the options of `device set` into a; returns -1 or the exit code
 * to return at once (--help, errors), else 0. */
static int set_parse(struct set_args *a, int argc, char **argv, int *rc)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "no-profile", no_argument, NULL, 'P' },
		{ "description", required_argument, NULL, 'd' },
		{ "var", required_argument, NULL, 'v' },
		{ "unset-var", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct db_device_change *c = &a->change;
	int ch;

	*rc = CTL_INVALID;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "p:Pd:v:u:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (check_profile("--profile", optarg) < 0)
				return -1;
			c->profile = optarg;
			break;
		case 'P': c->clear_profile = 1; break;
		case 'd':
			if (check_description(optarg) < 0)
				return -1;
			c->description = optarg;
			break;
		case 'v':
			if (a->n_vars == DB_MAX_VARS) {
				ctl_err("more than %d variables", DB_MAX_VARS);
				return -1;
			}
			if (parse_var(optarg, a->vars, &a->n_vars) < 0)
				return -1;
			break;
		case 'u':
			if (add_unset(a, optarg) < 0)
				return -1;
			break;
		case 'h': *rc = sub_usage("set", 1); return -1;
		default: *rc = sub_usage("set", 0); return -1;
		}
	}
	if (optind + 1 != argc) {
		*rc = sub_usage("set", 0);
		return -1;
	}
	if (set_conflicts(a) < 0) {
		*rc = CTL_USAGE;
		return -1;
	}
	return 0;
}

static int device_set(struct ctl *ctl, int argc, char **argv)
{
	struct set_args *a = calloc(1, sizeof(*a));
	char mac[MAC_LEN + 1], *err = NULL;
	struct db *db;
	int rc = CTL_DBERROR;

	if (a == NULL)
		return CTL_DBERROR;
	if (set_parse(a, argc, argv, &rc) < 0)
		goto out;
	rc = CTL_INVALID;
	if (parse_mac(argv[optind], mac) < 0)
		goto out;
	if ((db = ctl_db(ctl)) == NULL) {
		rc = CTL_DBERROR;
		goto out;
	}
	a->change.set = a->vars;
	a->change.n_set = a->n_vars;
	a->change.unset = a->unset;
	a->change.n_unset = a->n_unset;
	switch (db_device_update(db, mac, &a->change, &err)) {
	case DB_OK:
		printf("updated device %s\n", mac);
		if (a->change.profile != NULL)
			warn_profile(db, mac, a->change.profile);
		rc = CTL_OK;
		break;
	case DB_NOTFOUND: ctl_err("%s", err); rc = CTL_NOTFOUND; break;
	case DB_INVALID: ctl_err("%s", err); rc = CTL_INVALID; break;
	default: rc = db_failed(err);
	}
out:
	free_var_names(a->vars, a->n_vars);
	free(a);
	free(err);
	return rc;
}

/* --- device show ---------------------------------------------------------- */

/* A record being built: columns, values, and the strings it owns. */
struct record {
	struct out_col *cols;
	const char **vals;
	char **owned;
	size_t n, cap, n_owned;
};

static void rec_add(struct record *r, const char *name, enum out_type type,
		    const char *value)
{
	if (r->n == r->cap)
		return;
	r->cols[r->n].name = name;
	r->cols[r->n].type = type;
	r->vals[r->n] = value;
	r->n++;
}

/* Keep s (malloc'd, may be NULL) until the record is freed. */
static char *rec_own(struct record *r, char *s)
{
	if (s != NULL && r->n_owned < r->cap)
		r->owned[r->n_owned++] = s;
	else if (s != NULL) {
		free(s);
		s = NULL;
	}
	return s;
}

static int rec_init(struct record *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->cols = calloc(cap, sizeof(*r->cols));
	r->vals = calloc(cap, sizeof(*r->vals));
	r->owned = calloc(cap, sizeof(*r->owned));
	r->cap = cap;
	return r->cols && r->vals && r->owned ? 0 : -1;
}

static void rec_free(struct record *r)
{
	for (size_t i = 0; i < r->n_owned; i++)
		free(r->owned[i]);
	free(r->owned);
	free(r->cols);
	free(r->vals);
}

struct recommendation {
	const char *listener;              /* name, NULL if none */
	const struct conf_listener *conf;  /* NULL if not configured */
	char *reason;                      /* malloc'd */
};

/* Which listener the phone's Profile_Rule should point at: the one the CA
 * table gives its model and firmware (fleet/steer.h), else the one it
 * last used. */
static void recommend(const struct conf *conf, const struct db_device *dev,
		      const char *last_listener, struct recommendation *out)
{
	struct steer_advice a;

	memset(out, 0, sizeof(*out));
	steer_recommend(conf, dev->model, dev->firmware, &a);
	if (a.listener != NULL) {
		out->conf = a.listener;
		out->listener = a.listener->name;
		out->reason = str_printf("%s", a.reason);
	} else if (last_listener != NULL) {
		out->listener = last_listener;
		out->conf = conf_listener_find(conf, last_listener);
		out->reason = str_printf("%s; the listener it last used%s", a.reason,
				  out->conf ? "" : " (not configured any more)");
	} else {
		out->reason = str_printf("%s, and it never resynced", a.reason);
	}
}

static void show_identity(struct record *r, const struct db_device *dev)
{
	rec_add(r, "mac", OUT_TEXT, dev->mac);
	rec_add(r, "status", OUT_TEXT, dev->status);
	rec_add(r, "model", OUT_TEXT, dev->model);
	rec_add(r, "serial", OUT_TEXT, dev->serial);
	rec_add(r, "firmware", OUT_TEXT, dev->firmware);
	rec_add(r, "profile", OUT_TEXT, dev->profile);
	rec_add(r, "description", OUT_TEXT, dev->description);
	rec_add(r, "cert_subject", OUT_TEXT, dev->cert_subject);
	rec_add(r, "cert_issuer", OUT_TEXT, dev->cert_issuer);
	rec_add(r, "created", OUT_TEXT, dev->created);
	rec_add(r, "updated", OUT_TEXT, dev->updated);
	rec_add(r, "last_seen", OUT_TEXT, dev->last_seen);
}

/* Variables as "var:NAME" fields (the CSV export's column names). */
static void show_vars(struct record *r, const struct db_device *dev,
		      int reveal)
{
	for (size_t i = 0; i < dev->n_vars; i++) {
		const char *v = dev->vars[i].value;
		char *name = rec_own(r, str_printf("var:%s", dev->vars[i].name));

		if (name == NULL)
			continue;
		if (!reveal && is_secret_name(dev->vars[i].name))
			v = SECRET_MASK;
		rec_add(r, name, OUT_TEXT, v);
	}
}

static void show_last(struct record *r, const struct db_last_resync *l)
{
	rec_add(r, "last_resync_time", OUT_TEXT, l->ts);
	rec_add(r, "last_resync_listener", OUT_TEXT, l->listener);
	rec_add(r, "last_resync_ca", OUT_TEXT, l->ca);
	rec_add(r, "last_resync_status", OUT_INT,
		l->ts ? rec_own(r, str_printf("%d", l->status)) : NULL);
	rec_add(r, "last_resync_outcome", OUT_TEXT, l->outcome);
	rec_add(r, "last_resync_detail", OUT_TEXT, l->detail);
	rec_add(r, "last_resync_tls_version", OUT_TEXT, l->tls_version);
	rec_add(r, "last_resync_cipher", OUT_TEXT, l->cipher);
	rec_add(r, "last_resync_remote_addr", OUT_TEXT, l->remote_addr);
}

static void show_recommended(struct record *r, const struct recommendation *c)
{
	rec_add(r, "recommended_listener", OUT_TEXT, c->listener);
	rec_add(r, "recommended_ca", OUT_TEXT,
		c->conf ? conf_ca_name(c->conf->ca) : NULL);
	rec_add(r, "recommended_address", OUT_TEXT,
		c->conf ? c->conf->address : NULL);
	rec_add(r, "recommended_port", OUT_INT, c->conf ?
		rec_own(r, str_printf("%u", c->conf->port)) : NULL);
	rec_add(r, "recommended_reason", OUT_TEXT, c->reason);
}

/* {{profile_rule}} on the recommended listener, as spaprovd renders it
 * (NULL when unknown: no listener, port 0, no host name). */
static char *profile_rule(const struct conf *conf, const char *listener)
{
	struct steer_hosts *h = NULL;
	char buf[STEER_MAX_RULE], *err = NULL, *rule = NULL;
	const char *why = NULL;

	if (listener == NULL || steer_hosts_load(conf, &h, &err) < 0) {
		free(err);
		return NULL;
	}
	if (steer_profile_rule(h, listener, buf, sizeof(buf), &why) != NULL)
		rule = strdup(buf);
	steer_hosts_free(h);
	return rule;
}

/* The pinned client certificate (NULL fields: none pinned). */
static void show_pin(struct record *r, const struct db_pin *p)
{
	rec_add(r, "pin_fingerprint", OUT_TEXT, p->fingerprint);
	rec_add(r, "pin_cert_serial", OUT_TEXT, p->cert_serial);
	rec_add(r, "pin_issuer", OUT_TEXT, p->issuer);
	rec_add(r, "pin_first_seen", OUT_TEXT, p->first_seen);
	rec_add(r, "pin_pinned_by", OUT_TEXT, p->pinned_by);
}

#define SHOW_FIXED_FIELDS 40  /* fields of `device show` besides variables */

static int show_print(struct ctl *ctl, const struct db_device *dev,
		      const struct db_last_resync *last,
		      const struct db_pin *pin, int json, int reveal)
{
	struct conf *conf = ctl_conf(ctl);
	struct recommendation rec;
	struct record r;

	if (conf == NULL)
		return CTL_DBERROR;
	if (rec_init(&r, SHOW_FIXED_FIELDS + dev->n_vars) < 0) {
		rec_free(&r);
		return CTL_DBERROR;
	}
	recommend(conf, dev, last->listener, &rec);
	show_identity(&r, dev);
	show_vars(&r, dev, reveal);
	show_last(&r, last);
	show_pin(&r, pin);
	show_recommended(&r, &rec);
	rec_add(&r, "recommended_profile_rule", OUT_TEXT,
		rec_own(&r, profile_rule(conf, rec.conf ? rec.listener : NULL)));
	out_record(json, r.cols, r.n, r.vals);
	free(rec.reason);
	rec_free(&r);
	return CTL_OK;
}

static int device_show(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "reveal", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct db_last_resync last = { 0 };
	struct db_device *dev = NULL;
	struct db_pin pin = { 0 };
	char mac[MAC_LEN + 1], *err = NULL;
	int ch, json = 0, reveal = 0, rc = CTL_DBERROR;
	struct db *db;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "jrh", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'r': reveal = 1; break;
		case 'h': return sub_usage("show", 1);
		default: return sub_usage("show", 0);
		}
	}
	if (optind + 1 != argc)
		return sub_usage("show", 0);
	if (parse_mac(argv[optind], mac) < 0)
		return CTL_INVALID;
	if ((db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	switch (db_device_get(db, mac, &dev, &err)) {
	case DB_OK: break;
	case DB_NOTFOUND:
		ctl_err("no device %s", mac);
		rc = CTL_NOTFOUND;
		goto out;
	default: rc = db_failed(err); goto out;
	}
	if (db_device_last_resync(db, mac, &last, &err) == DB_ERROR ||
	    db_pin_get(db, mac, &pin, &err) == DB_ERROR) {
		rc = db_failed(err);
		goto out;
	}
	rc = show_print(ctl, dev, &last, &pin, json, reveal);
out:
	db_pin_clear(&pin);
	db_last_resync_clear(&last);
	db_device_free(dev);
	free(err);
	return rc;
}

/* --- device list ---------------------------------------------------------- */

static const struct out_col list_cols[] = {
	{ "mac", OUT_TEXT }, { "status", OUT_TEXT }, { "model", OUT_TEXT },
	{ "serial", OUT_TEXT }, { "firmware", OUT_TEXT },
	{ "profile", OUT_TEXT }, { "last_seen", OUT_TEXT },
	{ "listener", OUT_TEXT }, { "ca", OUT_TEXT },
	{ "description", OUT_TEXT },
};
#define LIST_NCOLS (sizeof(list_cols) / sizeof(list_cols[0]))

static int list_row(void *ctx, const struct db_device_row *d)
{
	const char *v[LIST_NCOLS] = { d->mac, d->status, d->model, d->serial,
				      d->firmware, d->profile, d->last_seen,
				      d->listener, d->ca, d->description };

	out_row(ctx, v);
	return 0;
}

static int check_filter_text(const char *opt, const char *v, size_t max)
{
	if (v[0] != '\0' && strlen(v) <= max)
		return 0;
	ctl_err("%s: must be 1 to %zu characters", opt, max);
	return -1;
}

/* The MAC part of --search: the normalised MAC when it parses; else, for
 * hex digits with separators, the digits in lower case; else the text. */
static void search_mac(const char *text, char *out, size_t size)
{
	size_t n = 0;
	int hexish = 1;

	if (size > MAC_LEN && mac_normalize(text, out) == 0)
		return;
	for (const char *p = text; *p != '\0'; p++)
		if (!isxdigit((unsigned char)*p) && strchr(":-.", *p) == NULL)
			hexish = 0;
	for (const char *p = text; *p != '\0' && n + 1 < size; p++)
		if (!hexish || isxdigit((unsigned char)*p))
			out[n++] = (char)tolower((unsigned char)*p);
	out[n] = '\0';
}

static int list_option(int ch, const char *arg, struct db_device_filter *f)
{
	long long n;

	switch (ch) {
	case 's':
		if (strcmp(arg, "enabled") && strcmp(arg, "disabled") &&
		    strcmp(arg, "pending")) {
			ctl_err("--status: expected enabled, disabled or "
				"pending, got '%s'", arg);
			return -1;
		}
		f->status = arg;
		return 0;
	case 'm': f->model = arg; return check_filter_text("--model", arg,
							    MAX_FILTER);
	case 'f': f->firmware = arg;
		return check_filter_text("--firmware", arg, MAX_FILTER);
	case 'p': f->profile = arg; return check_profile("--profile", arg);
	case 'q': f->search_text = arg;
		return check_filter_text("--search", arg, MAX_SEARCH);
	case 'c': {
		enum conf_ca ca;

		f->ca = arg;
		if (conf_ca_parse(arg, &ca) == 0)
			return 0;
		ctl_err("--ca: expected sipura, linksys, sb, sb2k or mpp, "
			"got '%s'", arg);
		return -1;
	}
	case 'n':
		if (parse_number("--not-seen-days", arg, 0, MAX_NOT_SEEN_DAYS,
				 &n) < 0)
			return -1;
		f->not_seen_days = (int)n;
		return 0;
	case 'l':
		return parse_number("--limit", arg, 1, LIST_MAX_LIMIT,
				    &f->limit);
	case 'o':
		return parse_number("--offset", arg, 0, LIST_MAX_OFFSET,
				    &f->offset);
	}
	return -1;
}

/* --misplaced: devices whose last request came in on a listener of
 * another CA than the table recommends (fleet/steer.h).  The table is in
 * C, so the filter, the page and the count are applied here. */
static const struct out_col misplaced_cols[] = {
	{ "mac", OUT_TEXT }, { "model", OUT_TEXT }, { "firmware", OUT_TEXT },
	{ "listener", OUT_TEXT }, { "ca", OUT_TEXT },
	{ "recommended_ca", OUT_TEXT }, { "recommended_listener", OUT_TEXT },
	{ "description", OUT_TEXT },
};
#define MISPLACED_NCOLS (sizeof(misplaced_cols) / sizeof(misplaced_cols[0]))

struct misplaced {
	struct out *o;
	const struct conf *conf;
	long long offset, limit, total;
};

static int misplaced_row(void *ctx, const struct db_device_row *d)
{
	struct misplaced *m = ctx;
	struct steer_advice a;

	if (!steer_misplaced(m->conf, d->model, d->firmware, d->ca, &a))
		return 0;
	if (m->total++ >= m->offset && m->total <= m->offset + m->limit) {
		const char *v[MISPLACED_NCOLS] = {
			d->mac, d->model, d->firmware, d->listener, d->ca,
			conf_ca_name(a.ca),
			a.listener ? a.listener->name : NULL, d->description
		};

		out_row(m->o, v);
	}
	return 0;
}

static int list_misplaced(struct ctl *ctl, struct db *db,
			  const struct db_device_filter *f, int json)
{
	struct db_device_filter all = *f;
	struct misplaced m = { .offset = f->offset, .limit = f->limit };
	long long matching = 0;
	char *err = NULL;
	size_t shown;
	int rc;

	if ((m.conf = ctl_conf(ctl)) == NULL)
		return CTL_DBERROR;
	all.offset = 0;
	all.limit = -1; /* SQLite: no limit */
	if ((m.o = out_new(json, misplaced_cols, MISPLACED_NCOLS)) == NULL)
		return db_failed("out of memory");
	rc = db_device_list(db, &all, misplaced_row, &m, &matching, &err);
	shown = out_finish(m.o);
	if (rc != DB_OK) {
		rc = db_failed(err);
		free(err);
		return rc;
	}
	if (!json)
		fprintf(stderr, "(%zu of %lld misplaced devices)\n", shown,
			m.total);
	return CTL_OK;
}

static int device_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "model", required_argument, NULL, 'm' },
		{ "profile", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'c' },
		{ "firmware", required_argument, NULL, 'f' },
		{ "not-seen-days", required_argument, NULL, 'n' },
		{ "search", required_argument, NULL, 'q' },
		{ "limit", required_argument, NULL, 'l' },
		{ "offset", required_argument, NULL, 'o' },
		{ "misplaced", no_argument, NULL, 'M' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct db_device_filter f = { .not_seen_days = -1,
				      .limit = LIST_DEFAULT_LIMIT };
	int misplaced = 0;
	char mac_part[MAX_SEARCH + 1], *err = NULL;
	long long total = 0;
	struct out *o;
	struct db *db;
	int ch, json = 0, rc;
	size_t shown;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "s:m:p:c:f:n:q:l:o:Mjh", opts,
				 NULL)) != -1) {
		if (ch == 'j')
			json = 1;
		else if (ch == 'M')
			misplaced = 1;
		else if (ch == 'h')
			return sub_usage("list", 1);
		else if (ch == '?' || ch == ':')
			return sub_usage("list", 0);
		else if (list_option(ch, optarg, &f) < 0)
			return CTL_INVALID;
	}
	if (optind != argc)
		return sub_usage("list", 0);
	if (f.search_text != NULL) {
		search_mac(f.search_text, mac_part, sizeof(mac_part));
		f.search_mac = mac_part;
	}
	if ((db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	if (misplaced)
		return list_misplaced(ctl, db, &f, json);
	if ((o = out_new(json, list_cols, LIST_NCOLS)) == NULL)
		return db_failed("out of memory");
	rc = db_device_list(db, &f, list_row, o, &total, &err);
	shown = out_finish(o);
	if (rc != DB_OK) {
		rc = db_failed(err);
		free(err);
		return rc;
	}
	if (!json)
		fprintf(stderr, "(%zu of %lld devices)\n", shown, total);
	return CTL_OK;
}

/* --- device rm ------------------------------------------------------------ */

static int device_rm(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char mac[MAC_LEN + 1], *err = NULL;
	int ch, yes = 0, rc;
	size_t n_vars = 0;
	struct db *db;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "yh", opts, NULL)) != -1) {
		switch (ch) {
		case 'y': yes = 1; break;
		case 'h': return sub_usage("rm", 1);
		default: return sub_usage("rm", 0);
		}
	}
	if (optind + 1 != argc)
		return sub_usage("rm", 0);
	if (parse_mac(argv[optind], mac) < 0)
		return CTL_INVALID;
	if (!yes) {
		ctl_err("device rm deletes device %s and its variables: add "
			"--yes to confirm", mac);
		return CTL_USAGE;
	}
	if ((db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	switch (db_device_remove(db, mac, &n_vars, &err)) {
	case DB_OK:
		printf("removed device %s and its %zu variable%s (its resyncs "
		       "stay in the ledger)\n", mac, n_vars,
		       n_vars == 1 ? "" : "s");
		rc = CTL_OK;
		break;
	case DB_NOTFOUND: ctl_err("%s", err); rc = CTL_NOTFOUND; break;
	default: rc = db_failed(err);
	}
	free(err);
	return rc;
}

/* --- device repin --------------------------------------------------------- */

static int device_repin(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char mac[MAC_LEN + 1], *err = NULL;
	int ch, had = 0, rc;
	struct db *db;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		return sub_usage("repin", ch == 'h');
	if (optind + 1 != argc)
		return sub_usage("repin", 0);
	if (parse_mac(argv[optind], mac) < 0)
		return CTL_INVALID;
	if ((db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	switch (db_pin_remove(db, mac, &had, &err)) {
	case DB_OK:
		printf("device %s: %s; its next verified certificate is "
		       "pinned\n", mac, had ? "pin removed" : "had no pin");
		rc = CTL_OK;
		break;
	case DB_NOTFOUND: ctl_err("%s", err); rc = CTL_NOTFOUND; break;
	default: rc = db_failed(err);
	}
	free(err);
	return rc;
}

/* --- device enable, disable, approve -------------------------------------- */

/* What each status command does. */
struct status_cmd {
	const char *name, *status;
	unsigned from;
};

static const struct status_cmd status_cmds[] = {
	{ "enable", "enabled", DB_STATUS_ENABLED | DB_STATUS_DISABLED },
	{ "disable", "disabled", DB_STATUS_ANY },
	{ "approve", "enabled", DB_STATUS_PENDING },
};

static int status_refused(const struct status_cmd *sc, const char *mac,
			  const char *prev)
{
	if (strcmp(sc->name, "approve") == 0)
		ctl_err("device %s is not pending (it is %s): only a pending "
			"device can be approved", mac, prev);
	else
		ctl_err("device %s is %s: use 'spaprovctl device approve %s'",
			mac, prev, mac);
	return CTL_INVALID;
}

static void status_done(struct db *db, const struct status_cmd *sc,
			const char *mac, const char *prev)
{
	struct db_device *dev = NULL;
	char *err = NULL;

	if (strcmp(prev, sc->status) == 0 && strcmp(sc->name, "approve")) {
		printf("device %s is already %s\n", mac, prev);
		return;
	}
	if (db_device_get(db, mac, &dev, &err) != DB_OK) {
		free(err);
		printf("device %s is now %s (was %s)\n", mac, sc->status, prev);
		return;
	}
	printf("device %s is now %s (was %s), profile %s\n", mac, dev->status,
	       prev, dev->profile ? dev->profile : "none");
	if (strcmp(dev->status, "enabled") == 0)
		warn_profile(db, mac, dev->profile);
	db_device_free(dev);
}

static int status_change(struct ctl *ctl, const struct status_cmd *sc,
			 int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int approve = strcmp(sc->name, "approve") == 0, ch, rc;
	char mac[MAC_LEN + 1], prev[DB_STATUS_LEN] = "", *err = NULL;
	const char *profile = NULL;
	struct db *db;

	optind = 0;
	while ((ch = getopt_long(argc, argv, approve ? "p:h" : "h", opts,
				 NULL)) != -1) {
		if (ch == 'p' && approve) {
			if (check_profile("--profile", optarg) < 0)
				return CTL_INVALID;
			profile = optarg;
		} else {
			return sub_usage(sc->name, ch == 'h');
		}
	}
	if (optind + 1 != argc)
		return sub_usage(sc->name, 0);
	if (parse_mac(argv[optind], mac) < 0)
		return CTL_INVALID;
	if ((db = ctl_db(ctl)) == NULL)
		return CTL_DBERROR;
	switch (db_device_set_status(db, mac, sc->status, sc->from, profile,
				     prev, &err)) {
	case DB_OK: status_done(db, sc, mac, prev); rc = CTL_OK; break;
	case DB_NOTFOUND: ctl_err("%s", err); rc = CTL_NOTFOUND; break;
	case DB_INVALID: rc = status_refused(sc, mac, prev); break;
	default: rc = db_failed(err);
	}
	free(err);
	return rc;
}

static int device_enable(struct ctl *ctl, int argc, char **argv)
{
	return status_change(ctl, &status_cmds[0], argc, argv);
}

static int device_disable(struct ctl *ctl, int argc, char **argv)
{
	return status_change(ctl, &status_cmds[1], argc, argv);
}

static int device_approve(struct ctl *ctl, int argc, char **argv)
{
	return status_change(ctl, &status_cmds[2], argc, argv);
}

/* --- dispatch ------------------------------------------------------------- */

static const struct subcmd subcmds[] = {
	{ "add", device_add,
	  "add MAC [--profile NAME] [--description TEXT] [--var NAME=VALUE]...",
	  "Register an enabled device.  The profile may be stored later.\n" },
	{ "set", device_set,
	  "set MAC [--profile NAME | --no-profile] [--description TEXT]\n"
	  "        [--var NAME=VALUE]... [--unset-var NAME]...",
	  "Change a device, all in one transaction.  Exit 2 if the device or "
	  "a variable\nto unset does not exist.\n" },
	{ "show", device_show, "show MAC [--json] [--reveal]",
	  "Identity, variables, certificate seen, last resync and the "
	  "listener its\nProfile_Rule should use.  Values of variables named "
	  "*pass*, *secret*, *key*,\n*pin* or *token* show as " SECRET_MASK
	  " unless --reveal.\n" },
	{ "list", device_list,
	  "list [--status enabled|disabled|pending] [--model M] [--profile P]"
	  "\n        [--ca sipura|linksys|sb|sb2k|mpp] [--firmware F] "
	  "[--not-seen-days N]\n        [--search TEXT] [--limit N] "
	  "[--offset N] [--misplaced] [--json]",
	  "Devices in MAC order, 100 by default; \"(N of TOTAL devices)\" on "
	  "stderr.\n--ca: CA of the last resync.  --not-seen-days: includes "
	  "devices never seen.\n--search: MAC (any notation, or part of one), "
	  "description or a variable value.\n--misplaced: only devices whose "
	  "last resync was on a listener of another CA than\nthe one their "
	  "model and firmware should use (see device show).\n" },
	{ "rm", device_rm, "rm MAC --yes",
	  "Delete a device and its variables (its resyncs stay in the "
	  "ledger).\n" },
	{ "enable", device_enable, "enable MAC",
	  "Serve a disabled device again (a pending one needs approve).\n" },
	{ "disable", device_disable, "disable MAC",
	  "Refuse the device (403) until enabled.\n" },
	{ "approve", device_approve, "approve MAC [--profile NAME]",
	  "Enable a pending device recorded by spaprovd (exit 3 if it is not "
	  "pending).\n" },
	{ "repin", device_repin, "repin MAC",
	  "Forget the device's pinned client certificate: spaprovd pins the "
	  "next verified\none it presents.  (Another certificate than the "
	  "pinned one is served with a\nwarning or refused, by the listener's "
	  "pin_policy.)\n" },
	{ "import", cmd_device_import, "import FILE.csv [--dry-run] [--update]",
	  "Add or update devices from CSV, all or none (see --help).\n" },
	{ "export", cmd_device_export,
	  "export [--status S] [--profile P] [--reveal]",
	  "The devices as CSV on stdout; secrets withheld unless --reveal.\n" },
	{ "key", cmd_device_key, "key MAC [--generate | --set KEY | --remove]",
	  "The key of the device's encrypted profile (listeners with mode =\n"
	  "server-auth or plain); printed without an option.\n" },
	{ "report", cmd_device_report, "report MAC [--diff [--reveal] [--json]]",
	  "The device's latest POSTed report; --diff: what differs from the\n"
	  "profile rendered now.\n" },
};
#define N_SUBCMDS (sizeof(subcmds) / sizeof(subcmds[0]))

static const struct subcmd *find_subcmd(const char *name)
{
	for (size_t i = 0; i < N_SUBCMDS; i++)
		if (strcmp(subcmds[i].name, name) == 0)
			return &subcmds[i];
	return NULL;
}

static int device_usage(int help)
{
	FILE *f = help ? stdout : stderr;

	fprintf(f, "Usage: spaprovctl device COMMAND [ARGS]\n");
	for (size_t i = 0; i < N_SUBCMDS; i++)
		fprintf(f, "  %s\n", subcmds[i].usage);
	fprintf(f, "%s'spaprovctl device COMMAND --help' describes each.\n",
		mac_help);
	return help ? CTL_OK : CTL_USAGE;
}

int cmd_device(struct ctl *ctl, int argc, char **argv)
{
	const struct subcmd *s;

	if (argc < 2)
		return device_usage(0);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return device_usage(1);
	if ((s = find_subcmd(argv[1])) == NULL) {
		ctl_err("unknown device command '%s' (see spaprovctl device "
			"--help)", argv[1]);
		return CTL_USAGE;
	}
	return s->run(ctl, argc - 1, argv + 1);
}
