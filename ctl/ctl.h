/* ctl: spaprovctl subcommands.  Each command gets the arguments after its
 * name and returns an exit code from enum ctl_exit. */
#ifndef SPAPROV_CTL_H
#define SPAPROV_CTL_H

#include <stdio.h>

enum ctl_exit {
	CTL_OK = 0,
	CTL_USAGE = 1,       /* bad command line */
	CTL_NOTFOUND = 2,    /* no such device, profile, ... */
	CTL_INVALID = 3,     /* invalid input (value, file, CSV row) */
	CTL_DBERROR = 4,     /* database or configuration error */
};

struct conf;
struct db;

struct ctl {
	const char *conf_path;
	struct conf *conf;   /* loaded on first use */
	struct db *db;       /* opened on first use */
};

/* Load the configuration / open the database once; print the reason and
 * return NULL on failure. */
struct conf *ctl_conf(struct ctl *ctl);
struct db *ctl_db(struct ctl *ctl);

/* Print "spaprovctl: " + message to stderr. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_device(struct ctl *ctl, int argc, char **argv);
int cmd_device_import(struct ctl *ctl, int argc, char **argv);
int cmd_device_export(struct ctl *ctl, int argc, char **argv);
int cmd_device_key(struct ctl *ctl, int argc, char **argv);
int cmd_device_report(struct ctl *ctl, int argc, char **argv);
int cmd_firmware(struct ctl *ctl, int argc, char **argv);
int cmd_profile(struct ctl *ctl, int argc, char **argv);
int cmd_history(struct ctl *ctl, int argc, char **argv);
int cmd_admin(struct ctl *ctl, int argc, char **argv);
int cmd_stats(struct ctl *ctl, int argc, char **argv);
int cmd_db(struct ctl *ctl, int argc, char **argv);
int cmd_lab_pki(struct ctl *ctl, int argc, char **argv);
int cmd_check(struct ctl *ctl, int argc, char **argv);
int cmd_csr(struct ctl *ctl, int argc, char **argv);

#endif
