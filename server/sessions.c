#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "util/str.h"
#include "ident/idcache.h"
#include "server/sessions.h"
#include "util/log.h"

#define SESSIONS_MAX_BUCKETS (1u << 20)

struct entry {
	struct entry *hnext;        /* hash chain */
	struct entry *older, *newer; /* LRU list */
	time_t expires;
	size_t id_len, len;
	unsigned char id[SESSIONS_MAX_ID];
	unsigned char data[];       /* packed session: holds its secrets */
};

struct sessions {
	pthread_mutex_t lock;
	struct entry **buckets;
	size_t n_buckets;           /* a power of two */
	uint64_t seed;              /* hash key, so chains stay unpredictable */
	struct entry *newest, *oldest;
	size_t max_entries, max_bytes;
	unsigned lifetime;
	struct sessions_stats st;
	time_t (*now)(void);
	const struct trust *trust;
	struct idcache *ids;        /* verdicts shared with the requests */
	gnutls_datum_t ticket_key;  /* empty: no tickets */
};

static time_t mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

/* --- the cache ---------------------------------------------------------- */

static size_t bucket_of(const struct sessions *s, const unsigned char *id,
			size_t len)
{
	uint64_t h = s->seed ^ 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= id[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 29;
	return (size_t)h & (s->n_buckets - 1);
}

static struct entry **find_slot(struct sessions *s, const unsigned char *id,
				size_t len)
{
	struct entry **pp = &s->buckets[bucket_of(s, id, len)];

	for (; *pp != NULL; pp = &(*pp)->hnext)
		if ((*pp)->id_len == len && memcmp((*pp)->id, id, len) == 0)
			return pp;
	return pp;
}

static void lru_unlink(struct sessions *s, struct entry *e)
{
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		s->oldest = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		s->newest = e->older;
	e->older = e->newer = NULL;
}

static void lru_push(struct sessions *s, struct entry *e)
{
	e->older = s->newest;
	e->newer = NULL;
	if (s->newest != NULL)
		s->newest->newer = e;
	else
		s->oldest = e;
	s->newest = e;
}

static void entry_free(struct entry *e)
{
	gnutls_memset(e, 0, sizeof(*e) + e->len);
	free(e);
}

/* Unlink *pp from its chain and the LRU list, and free it. */
static void drop(struct sessions *s, struct entry **pp)
{
	struct entry *e = *pp;

	*pp = e->hnext;
	lru_unlink(s, e);
	s->st.entries--;
	s->st.bytes -= e->len;
	entry_free(e);
}

static void drop_entry(struct sessions *s, struct entry *e)
{
	drop(s, find_slot(s, e->id, e->id_len));
}

/* Make room for one more entry of `len` bytes: expired ones at the old
 * end go first, then the least recently used. */
static void make_room(struct sessions *s, size_t len, time_t now)
{
	while (s->oldest != NULL && s->oldest->expires <= now) {
		drop_entry(s, s->oldest);
		s->st.expired++;
	}
	while (s->oldest != NULL && (s->st.entries >= s->max_entries ||
				     s->st.bytes + len > s->max_bytes)) {
		drop_entry(s, s->oldest);
		s->st.evicted++;
	}
}

int sessions_put(struct sessions *s, const unsigned char *id, size_t id_len,
		 const unsigned char *data, size_t len)
{
	struct entry *e, **pp;
	time_t now;

	if (id_len == 0 || id_len > SESSIONS_MAX_ID || len == 0 ||
	    len > SESSIONS_MAX_DATA || len > s->max_bytes) {
		pthread_mutex_lock(&s->lock);
		s->st.refused++;
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	e = malloc(sizeof(*e) + len);
	if (e == NULL)
		return -1;
	memset(e, 0, sizeof(*e));
	memcpy(e->id, id, id_len);
	e->id_len = id_len;
	memcpy(e->data, data, len);
	e->len = len;
	pthread_mutex_lock(&s->lock);
	now = s->now();
	e->expires = now + (time_t)s->lifetime;
	pp = find_slot(s, id, id_len);
	if (*pp != NULL)
		drop(s, pp);
	make_room(s, len, now);
	pp = find_slot(s, id, id_len);
	e->hnext = NULL;
	*pp = e;
	lru_push(s, e);
	s->st.entries++;
	s->st.bytes += len;
	s->st.stored++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int sessions_get(struct sessions *s, const unsigned char *id, size_t id_len,
		 gnutls_datum_t *out)
{
	struct entry **pp, *e;
	int rc = -1;

	out->data = NULL;
	out->size = 0;
	if (id_len == 0 || id_len > SESSIONS_MAX_ID)
		return -1;
	pthread_mutex_lock(&s->lock);
	pp = find_slot(s, id, id_len);
	e = *pp;
	if (e == NULL) {
		s->st.misses++;
		goto out;
	}
	if (e->expires <= s->now()) {
		drop(s, pp);
		s->st.expired++;
		s->st.misses++;
		goto out;
	}
	out->data = gnutls_malloc(e->len);
	if (out->data == NULL)
		goto out;
	memcpy(out->data, e->data, e->len);
	out->size = (unsigned)e->len;
	lru_unlink(s, e);
	lru_push(s, e);
	s->st.hits++;
	rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int sessions_del(struct sessions *s, const unsigned char *id, size_t id_len)
{
	struct entry **pp;
	int rc = -1;

	if (id_len == 0 || id_len > SESSIONS_MAX_ID)
		return -1;
	pthread_mutex_lock(&s->lock);
	pp = find_slot(s, id, id_len);
	if (*pp != NULL) {
		drop(s, pp);
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void sessions_get_stats(struct sessions *s, struct sessions_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	pthread_mutex_unlock(&s->lock);
}

void sessions_set_clock(struct sessions *s, time_t (*now)(void))
{
	pthread_mutex_lock(&s->lock);
	s->now = now;
	pthread_mutex_unlock(&s->lock);
}

struct sessions *sessions_new(size_t max_entries, unsigned lifetime,
			      const struct trust *trust, char **err)
{
	struct sessions *s = calloc(1, sizeof(*s));
	size_t n = 1;

	if (s == NULL)
		goto nomem;
	if (max_entries == 0 || max_entries > SESSIONS_MAX_ENTRIES ||
	    lifetime == 0) {
		*err = str_printf("TLS session cache: %zu entries, %u s: out of range",
			   max_entries, lifetime);
		free(s);
		return NULL;
	}
	while (n < max_entries && n < SESSIONS_MAX_BUCKETS)
		n <<= 1;
	s->buckets = calloc(n, sizeof(*s->buckets));
	if (s->buckets == NULL ||
	    pthread_mutex_init(&s->lock, NULL) != 0)
		goto nomem_free;
	s->n_buckets = n;
	s->max_entries = max_entries;
	s->max_bytes = max_entries * SESSIONS_BYTES_PER_ENTRY;
	s->lifetime = lifetime;
	s->now = mono_now;
	s->trust = trust;
	if (gnutls_rnd(GNUTLS_RND_NONCE, &s->seed, sizeof(s->seed)) < 0 ||
	    gnutls_session_ticket_key_generate(&s->ticket_key) < 0) {
		*err = str_printf("TLS session cache: cannot make a ticket key");
		pthread_mutex_destroy(&s->lock);
		free(s->buckets);
		free(s);
		return NULL;
	}
	return s;
nomem_free:
	free(s->buckets);
	free(s);
nomem:
	*err = str_printf("out of memory for the TLS session cache");
	return NULL;
}

void sessions_free(struct sessions *s)
{
	if (s == NULL)
		return;
	while (s->oldest != NULL)
		drop_entry(s, s->oldest);
	if (s->ticket_key.data != NULL) {
		gnutls_memset(s->ticket_key.data, 0, s->ticket_key.size);
		gnutls_free(s->ticket_key.data);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->buckets);
	free(s);
}

/* --- GnuTLS glue -------------------------------------------------------- */

/* On a listener with client certificates, only sessions that will
 * identify a phone are worth a place: GnuTLS reports the client chain
 * (not after an SSLv2-format hello) and the client roots trust it. */
static int cacheable(const struct sessions_link *link, const char **why)
{
	unsigned n = 0;
	const gnutls_datum_t *peers =
		gnutls_certificate_get_peers(link->tls, &n);
	const char *reason = NULL;

	if (link->cache->trust == NULL)
		return 1;
	if (peers == NULL || n == 0) {
		*why = "no client certificate in the session";
		return 0;
	}
	if (n > TRUST_MAX_CHAIN) {
		*why = "client chain too long";
		return 0;
	}
	if (link->cache->ids != NULL) { /* the request will find it there */
		struct ident id;
		enum ident_status st;

		if (idcache_check(link->cache->ids, peers, n, &id, &st,
				  &reason) < 0) {
			*why = reason != NULL ? reason : "untrusted client chain";
			return 0;
		}
		return 1;
	}
	if (trust_verify(link->cache->trust, peers, n, &reason) < 0) {
		*why = reason != NULL ? reason : "untrusted client chain";
		return 0;
	}
	return 1;
}

static int db_store(void *ptr, gnutls_datum_t key, gnutls_datum_t data)
{
	struct sessions_link *link = ptr;
	const char *why = NULL;

	if (link == NULL || link->cache == NULL)
		return -1;
	if (!cacheable(link, &why)) {
		pthread_mutex_lock(&link->cache->lock);
		link->cache->st.uncacheable++;
		pthread_mutex_unlock(&link->cache->lock);
		log_debug("msg=\"TLS session not cached\" reason=\"%s\"", why);
		return -1;
	}
	if (sessions_put(link->cache, key.data, key.size, data.data,
			 data.size) < 0) {
		log_debug("msg=\"TLS session not cached\" reason=\"%u bytes\"",
			  data.size);
		return -1;
	}
	return 0;
}

static gnutls_datum_t db_retrieve(void *ptr, gnutls_datum_t key)
{
	struct sessions_link *link = ptr;
	gnutls_datum_t out = { NULL, 0 };

	if (link != NULL && link->cache != NULL)
		sessions_get(link->cache, key.data, key.size, &out);
	return out;
}

static int db_remove(void *ptr, gnutls_datum_t key)
{
	struct sessions_link *link = ptr;

	if (link == NULL || link->cache == NULL)
		return -1;
	return sessions_del(link->cache, key.data, key.size);
}

int sessions_install(struct sessions *s, struct sessions_link *link,
		     gnutls_session_t tls)
{
	link->cache = s;
	link->tls = tls;
	if (s == NULL)
		return 0;
	gnutls_db_set_retrieve_function(tls, db_retrieve);
	gnutls_db_set_store_function(tls, db_store);
	gnutls_db_set_remove_function(tls, db_remove);
	gnutls_db_set_ptr(tls, link);
	gnutls_db_set_cache_expiration(tls, (int)s->lifetime);
	if (gnutls_session_ticket_enable_server(tls, &s->ticket_key) < 0)
		return -1;
	return 0;
}

void sessions_unlink(struct sessions_link *link)
{
	if (link->cache != NULL && link->tls != NULL)
		gnutls_db_set_ptr(link->tls, NULL);
	link->cache = NULL;
}

void sessions_use_idcache(struct sessions *s, struct idcache *ids)
{
	if (s != NULL)
		s->ids = ids;
}
