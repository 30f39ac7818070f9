#include "config.h"

#include <string.h>

#include "db/db.h"
#include "tmpl/builtins.h"

enum builtin {
	B_MAC,
	B_MAC_UPPER,
	B_SERIAL,
	B_MODEL,
	B_FIRMWARE,
	B_CA,
	B_LISTENER,
	B_PROFILE_RULE,
	B_FIRMWARE_TARGET,
	B_UPGRADE_RULE,
	B__COUNT
};

static const char *const builtin_names[B__COUNT] = {
	[B_MAC] = "mac",
	[B_MAC_UPPER] = "mac_upper",
	[B_SERIAL] = "serial",
	[B_MODEL] = "model",
	[B_FIRMWARE] = "firmware",
	[B_CA] = "ca",
	[B_LISTENER] = "listener",
	[B_PROFILE_RULE] = "profile_rule",
	[B_FIRMWARE_TARGET] = "firmware_target",
	[B_UPGRADE_RULE] = "upgrade_rule",
};

static int builtin_find(const char *name)
{
	for (int i = 0; i < B__COUNT; i++)
		if (strcmp(name, builtin_names[i]) == 0)
			return i;
	return -1;
}

int tmpl_is_builtin(const char *name)
{
	return builtin_find(name) >= 0;
}

static const char *upper(struct tmpl_builtins *b)
{
	size_t i;

	if (b->mac == NULL || strlen(b->mac) > TMPL_BUILTIN_MAX_MAC)
		return NULL;
	for (i = 0; b->mac[i] != '\0'; i++)
		b->mac_upper[i] = (char)(b->mac[i] >= 'a' && b->mac[i] <= 'z'
					 ? b->mac[i] - 'a' + 'A' : b->mac[i]);
	b->mac_upper[i] = '\0';
	return b->mac_upper;
}

const char *tmpl_builtins_lookup(void *ctx, const char *name)
{
	struct tmpl_builtins *b = ctx;

	switch (builtin_find(name)) {
	case B_MAC: return b->mac;
	case B_MAC_UPPER: return upper(b);
	case B_SERIAL: return b->serial != NULL ? b->serial : "";
	case B_MODEL: return b->model != NULL ? b->model : "";
	case B_FIRMWARE: return b->firmware != NULL ? b->firmware : "";
	case B_CA: return b->ca;
	case B_LISTENER: return b->listener;
	case B_PROFILE_RULE: return b->profile_rule;
	case B_FIRMWARE_TARGET:
		return b->firmware_target != NULL ? b->firmware_target : "";
	case B_UPGRADE_RULE:
		return b->upgrade_rule != NULL ? b->upgrade_rule : "";
	default: break;
	}
	for (size_t i = 0; i < b->n_vars; i++)
		if (strcmp(b->vars[i].name, name) == 0)
			return b->vars[i].value;
	return NULL;
}
