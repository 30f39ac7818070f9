/* The template variables spaprovd provides itself; devices cannot
 * override them. */
#ifndef SPAPROV_TMPL_BUILTINS_H
#define SPAPROV_TMPL_BUILTINS_H

#include <string.h>

static const char *const tmpl_builtin_names[] = {
	"mac", "mac_upper", "serial", "model", "firmware", "ca", "listener",
};

static inline int tmpl_is_builtin(const char *name)
{
	for (size_t i = 0; i < sizeof(tmpl_builtin_names) /
				       sizeof(tmpl_builtin_names[0]); i++)
		if (strcmp(name, tmpl_builtin_names[i]) == 0)
			return 1;
	return 0;
}

#endif
