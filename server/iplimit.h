/* iplimit: open connections per client address on one listener, across
 * all the worker threads that serve it (per_ip_connection_limit). */
#ifndef SPAPROV_IPLIMIT_H
#define SPAPROV_IPLIMIT_H

struct iplimit;

/* NULL when out of memory; `limit` > 0. */
struct iplimit *iplimit_new(unsigned limit);
void iplimit_free(struct iplimit *t);
/* May `addr` (numeric, as printed in the ledger) open another one?  Two
 * threads accepting from one address at the same instant may both be
 * told yes: the limit can be passed by one connection per thread. */
int iplimit_allowed(struct iplimit *t, const char *addr);
/* A connection of `addr` opened (+1) or closed (-1). */
void iplimit_count(struct iplimit *t, const char *addr, int delta);

#endif
