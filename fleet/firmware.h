/* fleet/firmware: firmware images served from [server] firmware_dir, the
 * target version per model, and the Upgrade_Rule URL for a device.
 *
 * Files are requested as /firmware/NAME.  NAME is 1 to FLEET_FW_MAX_NAME
 * of [A-Za-z0-9._-] not starting with '.', and is opened with O_NOFOLLOW
 * relative to the directory, so no path can leave it. */
#ifndef SPAPROV_FLEET_FIRMWARE_H
#define SPAPROV_FLEET_FIRMWARE_H

#include <stddef.h>

#include "conf/conf.h"

struct db;

#define FLEET_FW_PREFIX "/firmware/"
#define FLEET_FW_PREFIX_LEN 10
#define FLEET_FW_MAX_NAME 128           /* bytes of a file name */
#define FLEET_FW_MAX_SIZE (1ull << 30)  /* bytes of an image we serve */
#define FLEET_FW_MAX_VERSION 48         /* bytes of a target version */
#define FLEET_FW_MAX_MODEL 48           /* bytes of a model name */
#define FLEET_FW_MAX_RULE 512           /* bytes of an Upgrade_Rule URL */
#define FLEET_FW_MAX_HOST 256           /* bytes of a host name */

/* 1 if name may be served. */
int fleet_fw_name_valid(const char *name);

/* Open `name` in `dir` for reading: a regular file of at most
 * FLEET_FW_MAX_SIZE bytes.  Returns the descriptor with *size, or -1
 * with *err; *missing is 1 when the file (or the directory) does not
 * exist. */
int fleet_fw_open(const char *dir, const char *name, unsigned long long *size,
		  int *missing, char **err);

/* 1 for the families that cannot upgrade over HTTPS (DOMAIN.md s.4):
 * the SPA9000 and Sipura-era units (SPA-1000/1001/2000/2002/3000, SPA-841)
 * by model, and any device that uses a sipura-CA listener. */
int fleet_fw_needs_plain(const char *model, const struct conf_listener *cl);

/* Where a device talks to us, for its Upgrade_Rule. */
struct fleet_fw_site {
	const struct conf *conf;
	const struct conf_listener *cl; /* the device's listener, or NULL */
	unsigned port;                  /* the port cl is bound to; 0: cl's */
	const char *cert_pem;           /* cl's certificate if loaded, NULL */
};

/* The template values {{firmware_target}} and {{upgrade_rule}}. */
struct fleet_fw_vars {
	char target[FLEET_FW_MAX_VERSION + 1];  /* "" when no target */
	char rule[FLEET_FW_MAX_RULE + 1];       /* "" when no target or no
						   listener can serve it */
};

/* The Upgrade_Rule URL of `file` for a device of `model` at site s:
 * https on its own listener when that is a mutual one and the family can
 * upgrade over HTTPS; else http on the first plain listener, with "?$MA"
 * so that the download is recorded against the device; "" if neither. */
void fleet_fw_upgrade_rule(const struct fleet_fw_site *s, const char *model,
			   const char *file, char *out, size_t size);

/* Look up the target of `model` (may be NULL: no target) and fill out.
 * 0, or -1 with *err (database error). */
int fleet_fw_vars(struct db *db, const struct fleet_fw_site *s,
		  const char *model, struct fleet_fw_vars *out, char **err);

/* The host name of a listener for URLs: [server] public_name, else the
 * subject CN of its certificate up to a '/' (of the device's listener or
 * the first listener with one, for a plain listener), else its address
 * (IPv6 in brackets). */
void fleet_fw_host(const struct fleet_fw_site *s,
		   const struct conf_listener *target, char *out, size_t size);

#endif
