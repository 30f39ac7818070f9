/* db profile: listing and removing profiles (spaprovctl).  Reading and
 * storing one profile are db_profile_get() / db_profile_set() in db.h. */
#ifndef SPAPROV_DB_PROFILE_H
#define SPAPROV_DB_PROFILE_H

#include "db/db.h"

/* One profile, valid during the callback only. */
struct db_profile_info {
	const char *name, *body, *updated;
	long long devices;       /* devices whose profile is this name */
};

/* Calls each() for every profile, by name; each() returns 0 to go on.
 * Returns 0 or -1 with *err. */
int db_profile_list(struct db *db,
		    int (*each)(void *ctx, const struct db_profile_info *p),
		    void *ctx, char **err);

/* Delete profile NAME in one transaction.  *devices gets the number of
 * devices naming it.  If some do and !force: DB_EXISTS, nothing deleted;
 * with force they keep the name (and get 404 until a profile of that name
 * is stored again).  DB_OK, DB_NOTFOUND, DB_EXISTS or DB_ERROR with *err. */
int db_profile_rm(struct db *db, const char *name, int force,
		  long long *devices, char **err);

#endif
