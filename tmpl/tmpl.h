/* tmpl: render a profile template for one device.
 *
 * "{{name}}" is replaced by the value that `lookup` returns for name,
 * XML-escaped (& < > " ').  Whitespace inside the braces is ignored.
 * Everything else, "$MA", "$$" and any other '$' macro included, is copied
 * byte for byte: the phone expands those itself.  A name the lookup does
 * not know is an error: a profile is never rendered with an empty secret. */
#ifndef SPAPROV_TMPL_H
#define SPAPROV_TMPL_H

#include <stddef.h>

#define TMPL_MAX_SIZE (4u << 20)   /* template and rendered output, bytes */
#define TMPL_MAX_NAME 64           /* variable name length */

/* Returns the value of `name` (NUL-terminated), or NULL if unknown. */
typedef const char *(*tmpl_lookup_fn)(void *ctx, const char *name);

/* Render. Returns 0 with *out (malloc'd, NUL-terminated) and *outlen, or -1
 * with *err (malloc'd), e.g. "line 12: missing variable 'sip_password'" or
 * "line 3: unterminated '{{'". */
int tmpl_render(const char *tmpl, size_t len, tmpl_lookup_fn lookup,
		void *ctx, char **out, size_t *outlen, char **err);

/* Check syntax and variable names without values: calls `each` for every
 * distinct variable name in order of first use.  Returns 0 or -1 with *err. */
int tmpl_names(const char *tmpl, size_t len,
	       void (*each)(void *ctx, const char *name), void *ctx,
	       char **err);

/* A valid variable name: [A-Za-z_][A-Za-z0-9_.-]{0,63}. */
int tmpl_name_valid(const char *name);

#endif
