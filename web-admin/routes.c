#include "config.h"

/* web-admin/routes: the API, one line per method and path.  '*' stands
 * for one path segment (a MAC or a profile name), handed to the handler
 * in r->param.  Routes are tried in order: literal paths first. */

#include <stdio.h>
#include <string.h>

#include "web-admin/internal.h"

static const struct admin_route routes[] = {
	{ "GET", "/healthz", api_healthz, ROUTE_PUBLIC | ROUTE_NO_DB },
	{ "GET", "/metrics", api_metrics, ROUTE_PUBLIC | ROUTE_NO_DB },

	{ "GET", "/api/v1/session", api_session_get, ROUTE_PUBLIC },
	{ "POST", "/api/v1/session", api_login, ROUTE_PUBLIC },
	{ "DELETE", "/api/v1/session", api_logout, 0 },

	{ "GET", "/api/v1/dashboard", api_dashboard, 0 },
	{ "GET", "/api/v1/fleet/misplaced", api_fleet_misplaced, 0 },
	{ "GET", "/api/v1/fleet/firmware", api_fleet_firmware, 0 },
	{ "GET", "/api/v1/fleet/pins", api_fleet_pins, 0 },

	{ "GET", "/api/v1/devices", api_devices_list, 0 },
	{ "POST", "/api/v1/devices", api_device_add, 0 },
	{ "GET", "/api/v1/devices/export.csv", api_devices_export, 0 },
	{ "POST", "/api/v1/devices/import", api_devices_import, 0 },
	{ "GET", "/api/v1/devices/*", api_device_get, 0 },
	{ "PATCH", "/api/v1/devices/*", api_device_edit, 0 },
	{ "DELETE", "/api/v1/devices/*", api_device_delete, 0 },
	{ "POST", "/api/v1/devices/*/enable", api_device_enable, 0 },
	{ "POST", "/api/v1/devices/*/disable", api_device_disable, 0 },
	{ "POST", "/api/v1/devices/*/approve", api_device_approve, 0 },
	{ "POST", "/api/v1/devices/*/repin", api_device_repin, 0 },
	{ "GET", "/api/v1/devices/*/profile", api_device_profile, 0 },

	{ "GET", "/api/v1/history", api_history, 0 },
	{ "GET", "/api/v1/audit", api_audit, 0 },

	{ "GET", "/api/v1/profiles", api_profiles_list, 0 },
	{ "POST", "/api/v1/profiles/preview", api_profile_preview, 0 },
	{ "GET", "/api/v1/profiles/*", api_profile_get, 0 },
	{ "PUT", "/api/v1/profiles/*", api_profile_put, 0 },
	{ "DELETE", "/api/v1/profiles/*", api_profile_delete, 0 },
};

/* Does path match pattern?  The '*' segment is copied into param. */
static int match(const char *pattern, const char *path, char *param)
{
	const char *p = pattern, *u = path;

	while (*p != '\0' && *u != '\0') {
		if (*p == '*') {
			size_t n = strcspn(u, "/");

			if (n == 0 || n > ADMIN_MAX_PARAM)
				return 0;
			memcpy(param, u, n);
			param[n] = '\0';
			p++;
			u += n;
			continue;
		}
		if (*p++ != *u++)
			return 0;
	}
	return *p == '\0' && *u == '\0';
}

const struct admin_route *admin_route_find(const char *method,
					   const char *path, char *param,
					   int *wrong_method)
{
	char scratch[ADMIN_MAX_PARAM + 1];
	int head;

	*wrong_method = 0;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, path, scratch))
			continue;
		head = strcmp(method, "HEAD") == 0 &&
		       strcmp(routes[i].method, "GET") == 0;
		if (strcmp(routes[i].method, method) != 0 && !head) {
			*wrong_method = 1;
			continue;
		}
		memcpy(param, scratch, sizeof(scratch));
		return &routes[i];
	}
	return NULL;
}
