#include "config.h"

#include <stdio.h>
#include <strings.h>

#include "fleet/identity.h"

enum fleet_pin fleet_pin_compare(const char *pinned, const char *presented)
{
	if (pinned == NULL || pinned[0] == '\0')
		return FLEET_PIN_NEW;
	if (presented != NULL && strcasecmp(pinned, presented) == 0)
		return FLEET_PIN_SAME;
	return FLEET_PIN_CHANGED;
}

void fleet_pin_detail(char *buf, size_t size, const char *pinned,
		      const char *presented)
{
	snprintf(buf, size, "certificate changed: pinned %.64s, presented "
		 "%.64s", pinned != NULL ? pinned : "-",
		 presented != NULL && presented[0] ? presented : "-");
}

int fleet_url_mac(const char *path, char mac[MAC_LEN + 1])
{
	char again[MAC_LEN + 1];

	/* with no device, every MAC-like token is "foreign": the first is
	 * the candidate, and then every token must be that one */
	mac[0] = '\0';
	if (path == NULL ||
	    mac_path_check(path, NULL, mac) != MAC_PATH_MISMATCH ||
	    mac[0] == '\0')
		return -1;
	if (mac_path_check(path, mac, again) != MAC_PATH_MATCH) {
		mac[0] = '\0';
		return -1;
	}
	return 0;
}
