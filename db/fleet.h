/* db/fleet: encrypted-profile keys, firmware targets and the firmware
 * report, device reports (schema/0003-fleet.sql).
 *
 * Results are the db_rc values; strings handed out are malloc'd. */
#ifndef SPAPROV_DB_FLEET_H
#define SPAPROV_DB_FLEET_H

#include <stddef.h>

#include "db/db.h"
#include "db/history.h"

/* --- device keys ---------------------------------------------------------- */
/* DB_OK with *key, DB_NOTFOUND (no key), DB_ERROR. */
int db_device_key_get(struct db *db, const char *mac, char **key,
		      char **err);
/* Set or replace; DB_NOTFOUND if no such device. */
int db_device_key_set(struct db *db, const char *mac, const char *key,
		      char **err);
/* DB_NOTFOUND if the device had no key. */
int db_device_key_remove(struct db *db, const char *mac, char **err);

/* --- firmware targets ----------------------------------------------------- */
/* Model compared case-insensitively.  DB_OK, DB_NOTFOUND, DB_ERROR. */
int db_firmware_target_get(struct db *db, const char *model, char **version,
			   char **file, char **err);
int db_firmware_target_set(struct db *db, const char *model,
			   const char *version, const char *file, char **err);
int db_firmware_target_remove(struct db *db, const char *model, char **err);
/* Columns: model, version, file, updated.  0 or -1 with *err. */
int db_firmware_targets(struct db *db, db_row_fn row, void *ctx, char **err);

/* The firmware report looks at enabled devices; a device's model and
 * firmware are those of the inventory (verified certificate, User-Agent
 * of the last verified resync), else those of its newest ledger row that
 * has them (a device only ever seen through url-mac listeners). */

/* Version histogram.  Columns: model, firmware, devices, target
 * (target NULL: no target for the model). */
int db_firmware_census(struct db *db, db_row_fn row, void *ctx, char **err);

/* Devices of a model with a target that do not run it, and have at least
 * min_downloads firmware downloads (outcome 'firmware') recorded while
 * on the firmware they still run.  Columns: mac, model, firmware, target,
 * downloads, last_download. */
int db_firmware_behind(struct db *db, long long min_downloads, db_row_fn row,
		       void *ctx, char **err);

/* --- device reports ------------------------------------------------------- */
/* Keep `body` as the device's latest report.  DB_NOTFOUND if no such
 * device. */
int db_report_store(struct db *db, const char *mac, const char *ts,
		    const char *listener, const char *remote_addr,
		    const char *body, char **err);
/* DB_OK with *ts, *listener (it came on) and *body, DB_NOTFOUND,
 * DB_ERROR. */
int db_report_get(struct db *db, const char *mac, char **ts, char **listener,
		  char **body, char **err);

#endif
