/* spaprovctl: the operator's command-line tool. */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "conf/conf.h"
#include "ctl/ctl.h"
#include "db/db.h"

#define DEFAULT_CONF SPAPROV_SYSCONFDIR "/spaprov.conf"

static const struct {
	const char *name;
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "device", cmd_device, "device add|set|show|rm|enable|disable|approve"
	  "|repin MAC [OPTIONS] (device --help)" },
	{ "device", cmd_device, "device list [--status S] [--model M] "
	  "[--profile P] [--ca CA] [--firmware F]\n    [--not-seen-days N] "
	  "[--search TEXT] [--misplaced] [--limit N] [--offset N] [--json]" },
	{ "profile", cmd_profile, "profile set|get|list|rm|render ... "
	  "(profile --help)" },
	{ "history", cmd_history, "history [MAC] [--since T] [--until T] "
	  "[--status N] [--outcome NAME]\n    [--listener NAME] [--limit N] "
	  "[--json]" },
	{ "stats", cmd_stats, "stats [--since T] [--json]" },
	{ "firmware", cmd_firmware, "firmware target [MODEL VERSION FILE | "
	  "MODEL --remove] | firmware report\n    [--stuck-after N] [--json]" },
	{ "admin", cmd_admin, "admin add|passwd|rm|token NAME, admin list "
	  "[--json] (web admin accounts)" },
	{ "db", cmd_db, "db backup FILE | db check" },
	{ "lab-pki", cmd_lab_pki, "lab-pki DIR [--fqdn NAME] "
	  "[--cisco-root FILE]" },
	{ "check", cmd_check, "check [--json]" },
	{ "csr", cmd_csr, "csr --cn FQDN [--bits 1024|2048] [--out DIR] "
	  "[--org O] [--country CC]" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: spaprovctl [-c FILE] COMMAND [ARGS]\n"
		   "Manage the spaprov device inventory, profiles and "
		   "history.\n\n  -c, --config FILE  configuration (default "
		   "%s)\n\nCommands:\n", DEFAULT_CONF);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].summary);
	fprintf(f, "\nExit codes: 0 ok, 1 usage, 2 not found, 3 invalid "
		   "input, 4 database or configuration error.\n");
}

void ctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("spaprovctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct conf *ctl_conf(struct ctl *ctl)
{
	char *err = NULL;

	if (ctl->conf == NULL && conf_load(ctl->conf_path, &ctl->conf,
					   &err) < 0) {
		ctl_err("%s", err ? err : "cannot load configuration");
		free(err);
		return NULL;
	}
	return ctl->conf;
}

struct db *ctl_db(struct ctl *ctl)
{
	struct conf *conf = ctl_conf(ctl);
	char *err = NULL;

	if (conf == NULL)
		return NULL;
	if (ctl->db == NULL && db_open(conf->database, conf->busy_timeout_ms,
				       &ctl->db, &err) < 0) {
		ctl_err("%s", err ? err : "cannot open database");
		free(err);
		return NULL;
	}
	return ctl->db;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = { .conf_path = DEFAULT_CONF };
	int ch, rc = CTL_USAGE;

	/* "+": stop at the command name; its options are its own. */
	while ((ch = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': ctl.conf_path = optarg; break;
		case 'h': usage(stdout); return CTL_OK;
		case 'V': printf("spaprovctl %s\n", PACKAGE_VERSION);
			return CTL_OK;
		default: usage(stderr); return CTL_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CTL_USAGE;
	}
	gnutls_global_init();
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			rc = commands[i].run(&ctl, argc - optind,
					     argv + optind);
			goto out;
		}
	}
	ctl_err("unknown command '%s' (see spaprovctl --help)", argv[optind]);
out:
	db_close(ctl.db);
	conf_free(ctl.conf);
	gnutls_global_deinit();
	return rc;
}
