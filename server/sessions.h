/* sessions: TLS session resumption for one provisioning listener.
 *
 * A resumed handshake skips the server's private-key operation and the
 * client-certificate exchange (about 5x cheaper, DOMAIN.md s.6).  Two ways:
 *  - session IDs: a bounded, thread-safe in-memory cache (hash table keyed
 *    by session ID, least recently used evicted first, entries expire after
 *    the lifetime) behind GnuTLS's gnutls_db_* callbacks;
 *  - session tickets (RFC 5077, and TLS 1.3 tickets) for clients offering
 *    them, encrypted with a key made at start and kept only in memory.
 *
 * One instance per listener, so a session never crosses to a listener with
 * another certificate or other client roots (tickets neither: each listener
 * has its own key).
 *
 * Identity: a resumed session carries the client chain of the handshake
 * that made it (GnuTLS stores the peer certificates with the session), and
 * the request path verifies it again like any other.  Only sessions whose
 * client chain GnuTLS reports and the client roots trust are cached: not
 * those of SSLv2-format hellos (GnuTLS loses their chain, DOMAIN.md s.6),
 * not anonymous or untrusted clients (they could otherwise fill the cache).
 *
 * Cached sessions hold master secrets: entries and the ticket key are
 * zeroed when dropped. */
#ifndef SPAPROV_SESSIONS_H
#define SPAPROV_SESSIONS_H

#include <stddef.h>
#include <time.h>
#include <gnutls/gnutls.h>

#include "ident/trust.h"

#define SESSIONS_MAX_ID 32              /* bytes of a TLS session ID */
#define SESSIONS_MAX_DATA (16u * 1024)  /* bytes of one stored session */
#define SESSIONS_BYTES_PER_ENTRY 4096u  /* average budget: the cache holds
					   at most entries x this many bytes */
#define SESSIONS_MAX_ENTRIES 1000000u   /* largest tls_session_cache */

struct sessions;

struct sessions_stats {
	size_t entries, bytes;
	unsigned long long hits, misses, stored, evicted, expired;
	unsigned long long refused;     /* ID or data too large */
	unsigned long long uncacheable; /* no trusted client chain */
};

/* A cache of at most max_entries sessions (> 0), each usable for
 * lifetime seconds, and a fresh ticket key.  With `trust` (client
 * roots, must outlive the cache) only sessions with a client chain they
 * trust are cached; NULL (a listener that asks for no client
 * certificate) caches any session.  NULL with *err on failure. */
/* Verify client chains through this cache (of the same trust) instead of
 * trust_verify(): the request that follows the handshake then finds the
 * verdict there. */
struct idcache;
void sessions_use_idcache(struct sessions *s, struct idcache *ids);

struct sessions *sessions_new(size_t max_entries, unsigned lifetime,
			      const struct trust *trust, char **err);
/* Zero and free every entry and the ticket key. */
void sessions_free(struct sessions *s);

/* Per-connection link between a GnuTLS session and the cache; lives in
 * the connection's state for as long as the GnuTLS session. */
struct sessions_link {
	struct sessions *cache;
	gnutls_session_t tls;
};

/* Enable resumption on a new server session, before its first handshake
 * byte: cache callbacks, tickets, lifetime.  -1 if tickets could not be
 * enabled (session-ID resumption still works). */
int sessions_install(struct sessions *s, struct sessions_link *link,
		     gnutls_session_t tls);
/* Detach the link before the connection's state goes away. */
void sessions_unlink(struct sessions_link *link);

void sessions_get_stats(struct sessions *s, struct sessions_stats *out);

/* The cache itself (used by the GnuTLS callbacks, and by the tests). */
/* 0 stored; -1 refused (ID or data too long, or data over the budget). */
int sessions_put(struct sessions *s, const unsigned char *id, size_t id_len,
		 const unsigned char *data, size_t len);
/* 0 and a gnutls_malloc'd copy in *out; -1 if absent or expired. */
int sessions_get(struct sessions *s, const unsigned char *id, size_t id_len,
		 gnutls_datum_t *out);
/* 0 removed, -1 absent. */
int sessions_del(struct sessions *s, const unsigned char *id, size_t id_len);

/* Tests: replace the clock (seconds, monotonic). */
void sessions_set_clock(struct sessions *s, time_t (*now)(void));

#endif
