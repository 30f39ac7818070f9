/* privs: run as the configured user after the ports are bound. */
#ifndef SPAPROV_PRIVS_H
#define SPAPROV_PRIVS_H

#include "conf/conf.h"

/* With `user` set: make the database files that user's, check that it can
 * write the database directory, then switch group and user for good.
 * Without it: refuse to go on as root unless run_as_root = yes.
 * Returns 0 or -1 with *err. */
int privs_drop(const struct conf *conf, const char *db_path, char **err);

#endif
