/* The template variables spaprov provides itself, and the one lookup that
 * both spaprovd (serving a phone) and `spaprovctl profile render` use, so
 * that the preview is what the phone gets.  Devices cannot override the
 * built-ins: they are looked up first. */
#ifndef SPAPROV_TMPL_BUILTINS_H
#define SPAPROV_TMPL_BUILTINS_H

#include <stddef.h>

#define TMPL_BUILTIN_MAX_MAC 16  /* longest mac the lookup upper-cases */

struct db_var;

/* One device's values.  serial, model and firmware may be NULL: they are
 * always defined and render as "" when the phone did not say.  mac, ca,
 * listener and profile_rule NULL mean "not known": the lookup fails for
 * them, so the render fails naming the variable.  profile_rule is the
 * Profile_Rule URL on the device's recommended listener, "$MA" left for
 * the phone (fleet/steer.h, steer_rule_for()). */
struct tmpl_builtins {
	const char *mac, *serial, *model, *firmware, *ca, *listener;
	const char *profile_rule;
	/* fleet/firmware.h: the model's target version and the Upgrade_Rule
	 * URL of its image; NULL renders as "" (no target) */
	const char *firmware_target, *upgrade_rule;
	const struct db_var *vars;   /* the device's variables, or NULL */
	size_t n_vars;
	char mac_upper[TMPL_BUILTIN_MAX_MAC + 1]; /* filled by the lookup */
};

/* 1 if name is one of mac, mac_upper, serial, model, firmware, ca,
 * listener, firmware_target, upgrade_rule, profile_rule. */
int tmpl_is_builtin(const char *name);

/* A tmpl_lookup_fn: ctx is a struct tmpl_builtins.  Built-ins first,
 * then the variables (first match); NULL if unknown. */
const char *tmpl_builtins_lookup(void *ctx, const char *name);

#endif
