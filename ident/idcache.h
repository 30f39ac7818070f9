/* idcache: remember verified client-certificate chains, so that a phone
 * presenting the same chain again costs a hash and a lookup instead of
 * ident_from_der() + trust_verify().
 *
 * A cache belongs to one trust handle (one generation of client roots):
 * make a new cache whenever a new trust is loaded and free it before (or
 * with) that trust.  It is a pure speed-up: idcache_check() gives exactly
 * what ident_from_der(chain[0]) and trust_verify(chain) give, with one
 * stated exception under time checks (below).
 *
 * What is kept: only chains that trust_verify() accepted, keyed by SHA-256
 * over the whole chain (each certificate's length and DER).  Refused
 * chains are recomputed every time, so junk cannot displace anything.
 * Every entry lives at most max_age seconds from when it was stored (hits
 * do not extend it).  With time_check set an entry is also used only
 * while the clock lies within every presented certificate's
 * notBefore..notAfter, compared as GnuTLS does; outside that window the
 * chain is verified afresh.  The root from the bundle that anchors the
 * chain is not visible through trust.h, so its own dates are re-checked
 * only when the entry is recomputed: a root that expires (or a clock that
 * moves before its notBefore) is honoured for at most max_age seconds
 * longer.  Without time_check verification does not depend on the clock.
 *
 * Memory is allocated at creation (max_entries entries of about 1.4 KiB,
 * touched only as they fill) and never after.  Replacement is a
 * segmented LRU: new entries go to a probation segment and only a chain
 * seen again moves to the protected one (80 %), so a flood of chains
 * seen once evicts only other chains seen once.  (Whoever holds one
 * trusted key, such as the shared generic one, can make any number of
 * distinct accepted chains: GnuTLS ignores extra unrelated certificates.)
 * All operations are O(1); the cache is split into shards, each with its
 * own mutex, and a hit neither allocates nor holds a lock while hashing. */
#ifndef SPAPROV_IDCACHE_H
#define SPAPROV_IDCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "ident/ident.h"
#include "ident/trust.h"

#define IDCACHE_DEFAULT_MAX_ENTRIES 4096
#define IDCACHE_DEFAULT_MAX_AGE 3600        /* seconds */
#define IDCACHE_MAX_ENTRIES (1024 * 1024)   /* idcache_new() refuses more */
#define IDCACHE_MAX_AGE (7 * 24 * 3600)     /* seconds; refuses more */

struct idcache;

struct idcache_stats {
	uint64_t hits;      /* answered from the cache */
	uint64_t misses;    /* computed (refused chains and uncacheable
			       input included) */
	uint64_t stored;    /* entries added */
	uint64_t evicted;   /* entries dropped to make room */
	uint64_t expired;   /* entries dropped for age or validity dates */
	size_t entries;     /* entries held now */
	size_t max_entries;
};

/* A cache for chains verified by `t`; time_check must be the value given
 * to trust_load() for `t`.  max_entries == 0 or max_age == 0 gives a
 * cache that stores nothing (every check computes).  Returns 0, or -1
 * with *err = malloc'd reason. */
int idcache_new(const struct trust *t, int time_check, size_t max_entries,
		unsigned max_age, struct idcache **out, char **err);
void idcache_free(struct idcache *c);

/* Identify chain[0] and verify chain[0..n) as trust_verify() does.
 * Returns 0 if trusted, else -1; always sets *id, *st (the result of
 * ident_from_der() on chain[0]) and *reason (trust_verify()'s static
 * string).  Safe to call from several threads at once. */
int idcache_check(struct idcache *c, const gnutls_datum_t *chain, size_t n,
		  struct ident *id, enum ident_status *st,
		  const char **reason);

/* Counters summed over the shards (each shard read under its lock). */
void idcache_stats(struct idcache *c, struct idcache_stats *out);

/* For tests: replace the wall clock (same contract as time(), as given to
 * gnutls_global_set_time_function()) and the monotonic clock (seconds,
 * never going back).  NULL restores the default.  Call before the cache
 * is shared between threads. */
void idcache_set_clocks(struct idcache *c, time_t (*wall)(time_t *),
			time_t (*mono)(void));

#endif
