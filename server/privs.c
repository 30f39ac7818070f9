#include "config.h"

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/str.h"
#include "server/privs.h"
#include "util/log.h"

/* May uid/gid write into directory `dir` (ignoring ACLs)? */
static int dir_writable_by(const char *dir, uid_t uid, gid_t gid)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return 0;
	if (st.st_uid == uid)
		return (st.st_mode & S_IWUSR) && (st.st_mode & S_IXUSR);
	if (st.st_gid == gid)
		return (st.st_mode & S_IWGRP) && (st.st_mode & S_IXGRP);
	return (st.st_mode & S_IWOTH) && (st.st_mode & S_IXOTH);
}

/* The database and its WAL files belong to the service user. */
static int own_database(const char *db_path, uid_t uid, gid_t gid,
			char **err)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char path[4096], *copy, *dir;

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", db_path, suffix[i]);
		if (chown(path, uid, gid) < 0 && errno != ENOENT) {
			*err = str_printf("%s: cannot give it to the service user: %s",
				   path, strerror(errno));
			return -1;
		}
	}
	copy = strdup(db_path);
	if (copy == NULL)
		return -1;
	dir = dirname(copy);
	if (!dir_writable_by(dir, uid, gid)) {
		*err = str_printf("directory %s must be writable by the service user "
			   "(SQLite creates its journal files there)", dir);
		free(copy);
		return -1;
	}
	free(copy);
	return 0;
}

static int lookup_ids(const struct conf *conf, uid_t *uid, gid_t *gid,
		      char **err)
{
	struct passwd *pw = getpwnam(conf->user);
	struct group *gr;

	if (pw == NULL) {
		*err = str_printf("%s: user: no such user '%s'", conf->path,
			   conf->user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (conf->group != NULL) {
		gr = getgrnam(conf->group);
		if (gr == NULL) {
			*err = str_printf("%s: group: no such group '%s'", conf->path,
				   conf->group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

int privs_drop(const struct conf *conf, const char *db_path, char **err)
{
	uid_t uid;
	gid_t gid;

	if (conf->user == NULL) {
		if (geteuid() == 0 && !conf->run_as_root) {
			*err = str_printf("%s: refusing to serve as root: set user "
				   "(and group) in [server], or run_as_root = "
				   "yes", conf->path);
			return -1;
		}
		return 0;
	}
	if (geteuid() != 0) {
		log_warn("msg=\"not root: user and group ignored\" user=%s",
			 conf->user);
		return 0;
	}
	if (lookup_ids(conf, &uid, &gid, err) < 0 ||
	    own_database(db_path, uid, gid, err) < 0)
		return -1;
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		*err = str_printf("cannot switch to user %s: %s", conf->user,
			   strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		*err = str_printf("still able to regain root after switching to %s",
			   conf->user);
		return -1;
	}
	log_info("msg=\"privileges dropped\" user=%s uid=%u gid=%u",
		 conf->user, (unsigned)uid, (unsigned)gid);
	return 0;
}
