#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "db/db.h"
#include "tmpl/tmpl.h"

#define MAX_PROFILE_NAME 64

static void profile_usage(FILE *f)
{
	fprintf(f, "Usage: spaprovctl profile set NAME FILE\n"
		   "Store the template FILE (\"-\" for standard input) as "
		   "profile NAME.\n{{name}} takes a device variable or a "
		   "built-in (mac, mac_upper, serial, model,\nfirmware, ca, "
		   "listener), XML-escaped; $ macros are left for the "
		   "phone.\n");
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

static int profile_set(struct ctl *ctl, const char *name, const char *path)
{
	char *body, *err = NULL;
	size_t len = 0, n_names = 0;
	struct db *db;
	int rc = CTL_INVALID;

	if (name[0] == '\0' || strlen(name) > MAX_PROFILE_NAME) {
		ctl_err("profile name must be 1 to %d characters",
			MAX_PROFILE_NAME);
		return CTL_INVALID;
	}
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
	if (db_profile_set(db, name, body, &err) != DB_OK) {
		ctl_err("%s", err ? err : "database error");
		rc = CTL_DBERROR;
		goto out;
	}
	printf("stored profile %s (%zu bytes, %zu variable%s)\n", name, len,
	       n_names, n_names == 1 ? "" : "s");
	rc = CTL_OK;
out:
	free(err);
	free(body);
	return rc;
}

int cmd_profile(struct ctl *ctl, int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "set") == 0)
		return profile_set(ctl, argv[2], argv[3]);
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		profile_usage(stdout);
		return CTL_OK;
	}
	profile_usage(stderr);
	return CTL_USAGE;
}
