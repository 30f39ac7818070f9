#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "db/db.h"
#include "tmpl/builtins.h"
#include "tmpl/tmpl.h"
#include "util/mac.h"

#define MAX_PROFILE_NAME 64
#define MAX_DESCRIPTION 1024

static void device_usage(FILE *f)
{
	fprintf(f, "Usage: spaprovctl device add MAC [--profile NAME] "
		   "[--description TEXT] [--var NAME=VALUE]...\n"
		   "MAC in any common notation (000E08ABCDEF, "
		   "00:0e:08:ab:cd:ef, 000e.08ab.cdef).\n");
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
	name = strndup(arg, (size_t)(eq - arg));
	if (name == NULL)
		return -1;
	if (!tmpl_name_valid(name) || tmpl_is_builtin(name)) {
		ctl_err("--var %s: %s '%s'", arg, tmpl_is_builtin(name)
			? "reserved built-in name" : "invalid variable name",
			name);
		free(name);
		return -1;
	}
	if (strlen(eq + 1) > DB_MAX_VALUE) {
		ctl_err("--var %s: value longer than %d bytes", name,
			DB_MAX_VALUE);
		free(name);
		return -1;
	}
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(vars[i].name, name) == 0) {
			ctl_err("--var %s: given twice", name);
			free(name);
			return -1;
		}
	}
	vars[*n].name = name;
	vars[*n].value = (char *)(eq + 1);
	(*n)++;
	return 0;
}

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
		case 'h': device_usage(stdout); rc = CTL_OK; goto out;
		default: device_usage(stderr); rc = CTL_USAGE; goto out;
		}
	}
	if (optind + 1 != argc) {
		device_usage(stderr);
		rc = CTL_USAGE;
		goto out;
	}
	if (mac_normalize(argv[optind], mac) < 0) {
		ctl_err("invalid MAC address '%s'", argv[optind]);
		goto out;
	}
	if (profile != NULL && (profile[0] == '\0' ||
				strlen(profile) > MAX_PROFILE_NAME)) {
		ctl_err("--profile: name must be 1 to %d characters",
			MAX_PROFILE_NAME);
		goto out;
	}
	if (strlen(description) > MAX_DESCRIPTION) {
		ctl_err("--description: longer than %d bytes", MAX_DESCRIPTION);
		goto out;
	}
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
		rc = CTL_OK;
		break;
	case DB_EXISTS:
		ctl_err("%s", err);
		rc = CTL_INVALID;
		break;
	default:
		ctl_err("%s", err ? err : "database error");
		rc = CTL_DBERROR;
	}
out:
	for (size_t i = 0; i < n_vars; i++)
		free(vars[i].name);
	free(err);
	return rc;
}

int cmd_device(struct ctl *ctl, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return device_add(ctl, argc - 1, argv + 1);
	device_usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout
								  : stderr);
	return argc >= 2 && strcmp(argv[1], "--help") == 0 ? CTL_OK
							   : CTL_USAGE;
}
