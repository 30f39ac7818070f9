/* str: small string helpers shared by every module. */
#ifndef SPAPROV_STR_H
#define SPAPROV_STR_H

/* A malloc'd string formatted like printf, or NULL when out of memory.
 * The usual way to build an `err` reason to hand up. */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
