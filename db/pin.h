/* db/pin: pinned client certificates and generic-safe profiles (schema
 * 0005-pinning.sql).
 *
 * spaprovd reads a device's pin with the device row (db_device_get fills
 * struct db_device.pin_fingerprint: one primary-key lookup) and pins the
 * first verified certificate in the ledger transaction (db_pin_first,
 * called by db_ledger_write).  Results are the db_rc values. */
#ifndef SPAPROV_DB_PIN_H
#define SPAPROV_DB_PIN_H

#include "db/db.h"

#define DB_PIN_BY_DAEMON "spaprovd"   /* pinned_by of automatic pins */

/* One pin; strings malloc'd (cert_serial and issuer may be NULL). */
struct db_pin {
	char *fingerprint, *cert_serial, *issuer, *first_seen, *pinned_by;
};

/* DB_OK with *out filled, DB_NOTFOUND (no pin: *out zeroed), DB_ERROR. */
int db_pin_get(struct db *db, const char *mac, struct db_pin *out,
	       char **err);
void db_pin_clear(struct db_pin *p);

/* Forget the pin of device mac, so that its next verified certificate is
 * pinned.  DB_OK (*had_pin 1 or 0), DB_NOTFOUND (no such device),
 * DB_ERROR. */
int db_pin_remove(struct db *db, const char *mac, int *had_pin, char **err);

/* In the open ledger transaction: pin r->fingerprint (with r->cert_serial,
 * r->cert_issuer, r->ts) for r->mac unless the device has a pin already
 * or is gone.  0 or -1 with *err. */
int db_pin_first(struct db *db, const struct db_resync *r, char **err);

/* Whether profile `name` may be served to a device identified with low
 * trust.  DB_OK with *safe 0 or 1, DB_NOTFOUND, DB_ERROR. */
int db_profile_generic_safe(struct db *db, const char *name, int *safe,
			    char **err);

/* Store profile `name` with its body and generic_safe flag (0 or 1), as
 * db_profile_set() does for the body alone.  DB_OK or DB_ERROR. */
int db_profile_set_flagged(struct db *db, const char *name, const char *body,
			   int generic_safe, char **err);

#endif
