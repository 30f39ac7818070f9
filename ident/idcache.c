/* idcache: a cache of verified client-certificate chains (see idcache.h).
 *
 * Layout: the cache is split into 1..IDCACHE_MAX_SHARDS shards by the
 * first bits of the key; each shard has its own mutex, a fixed array of
 * entries, a chained hash table of entry indexes and two LRU lists
 * (probation, protected).  Links are 32-bit indexes into the array, so
 * nothing is allocated after idcache_new().
 *
 * The key is SHA-256 over: a random per-cache salt, the number of
 * certificates, then for each certificate its length and the SHA-256 of
 * its DER.  The lengths and count make the encoding of a chain unique
 * (no two chains share it by moving bytes between certificates); the
 * salt keeps a client from choosing chains that pile into one bucket.
 * Hashing each certificate with gnutls_hash_fast() and then a short
 * fixed-size block avoids both a copy of the chain and a hash context
 * (gnutls_hash_init() allocates).
 *
 * Refused chains are never stored: with them a client holding no trusted
 * key could fill the cache, while a refusal costs it a full TLS handshake
 * per request anyway, which dwarfs the 0.2 ms of verification. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ident/idcache.h"

#define IDCACHE_MAX_SHARDS 16    /* power of two */
#define IDCACHE_MIN_SHARD 256    /* entries per shard before splitting */
#define IDCACHE_SALT 16          /* bytes of per-cache salt in the key */
#define IDCACHE_KEY 32           /* SHA-256 */
#define IDCACHE_PROTECTED_PCT 80 /* share of a shard for chains seen twice */
#define IDCACHE_MAX_REASON 128

#define NIL UINT32_MAX

enum seg { SEG_FREE = 0, SEG_PROBATION = 1, SEG_PROTECTED = 2 };

struct entry {
	unsigned char key[IDCACHE_KEY];
	uint32_t hnext;       /* next in the bucket, or in the free list */
	uint32_t prev, next;  /* in the list of its segment */
	unsigned char seg;    /* enum seg */
	time_t deadline;      /* monotonic: usable while now < deadline */
	time_t not_before;    /* wall: usable while not_before <= now */
	time_t not_after;     /*   and now <= not_after (time_check only) */
	enum ident_status st;
	const char *reason;   /* trust_verify()'s (static) */
	struct ident id;
};

struct list {
	uint32_t head, tail;
	uint32_t count;
};

struct shard {
	pthread_mutex_t lock;
	struct entry *e;      /* cap entries */
	uint32_t *bucket;     /* mask + 1 heads */
	uint32_t mask;
	uint32_t cap;
	uint32_t prot_max;    /* most entries in SEG_PROTECTED */
	uint32_t used;        /* entries [0, used) were ever taken */
	uint32_t free;        /* free list through hnext (dropped entries) */
	struct list seg[3];   /* indexed by enum seg; [SEG_FREE] unused */
	uint64_t hits, misses, stored, evicted, expired;
};

struct idcache {
	const struct trust *t;
	int time_check;
	unsigned max_age;
	size_t max_entries;
	unsigned char salt[IDCACHE_SALT];
	time_t (*wall)(time_t *);
	time_t (*mono)(void);
	atomic_uint_least64_t uncached; /* checks that never reached a shard */
	unsigned n_shards;
	struct shard shard[];
};

/* What one check found or computed, moved in and out of a shard. */
struct result {
	time_t deadline, not_before, not_after;
	enum ident_status st;
	const char *reason;
	struct ident *id;
};

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

/* --- lists and buckets (shard lock held) -------------------------------- */

static void list_unlink(struct shard *s, uint32_t i)
{
	struct entry *e = &s->e[i];
	struct list *l = &s->seg[e->seg];

	if (e->prev != NIL)
		s->e[e->prev].next = e->next;
	else
		l->head = e->next;
	if (e->next != NIL)
		s->e[e->next].prev = e->prev;
	else
		l->tail = e->prev;
	l->count--;
	e->seg = SEG_FREE;
}

static void list_push(struct shard *s, uint32_t i, enum seg seg)
{
	struct entry *e = &s->e[i];
	struct list *l = &s->seg[seg];

	e->seg = (unsigned char)seg;
	e->prev = NIL;
	e->next = l->head;
	if (l->head != NIL)
		s->e[l->head].prev = i;
	else
		l->tail = i;
	l->head = i;
	l->count++;
}

static uint32_t *bucket_of(struct shard *s, const unsigned char *key)
{
	return &s->bucket[get32(key + 4) & s->mask];
}

static uint32_t bucket_find(struct shard *s, const unsigned char *key)
{
	uint32_t i = *bucket_of(s, key);

	while (i != NIL && memcmp(s->e[i].key, key, IDCACHE_KEY) != 0)
		i = s->e[i].hnext;
	return i;
}

static void bucket_unlink(struct shard *s, uint32_t i)
{
	uint32_t *p = bucket_of(s, s->e[i].key);

	while (*p != i)
		p = &s->e[*p].hnext;
	*p = s->e[i].hnext;
}

/* Drop entry i (in a list and a bucket) to the free list. */
static void entry_drop(struct shard *s, uint32_t i)
{
	bucket_unlink(s, i);
	list_unlink(s, i);
	s->e[i].hnext = s->free;
	s->free = i;
}

/* A hit: probation moves to protected, whose overflow goes back to the
 * head of probation; protected moves to its head. */
static void entry_touch(struct shard *s, uint32_t i)
{
	list_unlink(s, i);
	list_push(s, i, SEG_PROTECTED);
	while (s->seg[SEG_PROTECTED].count > s->prot_max) {
		uint32_t t = s->seg[SEG_PROTECTED].tail;

		list_unlink(s, t);
		list_push(s, t, SEG_PROBATION);
	}
}

/* --- lookup and store (shard lock held) --------------------------------- */

static int entry_usable(const struct idcache *c, const struct entry *e,
			time_t mono, time_t wall)
{
	if (mono >= e->deadline)
		return 0;
	return !c->time_check || (wall >= e->not_before &&
				  wall <= e->not_after);
}

static int shard_lookup(const struct idcache *c, struct shard *s,
			const unsigned char *key, time_t mono, time_t wall,
			struct result *r)
{
	uint32_t i = bucket_find(s, key);

	if (i == NIL) {
		s->misses++;
		return 0;
	}
	if (!entry_usable(c, &s->e[i], mono, wall)) {
		entry_drop(s, i);
		s->expired++;
		s->misses++;
		return 0;
	}
	entry_touch(s, i);
	memcpy(r->id, &s->e[i].id, sizeof(*r->id));
	r->st = s->e[i].st;
	r->reason = s->e[i].reason;
	s->hits++;
	return 1;
}

/* A free entry, evicting the least recently used one (probation first)
 * when there is none.  Entries never used are taken last, so that the
 * memory of a large cache is touched only as it fills. */
static uint32_t shard_take(struct shard *s)
{
	uint32_t i = s->free;

	if (i != NIL) {
		s->free = s->e[i].hnext;
		return i;
	}
	if (s->used < s->cap)
		return s->used++;
	i = s->seg[SEG_PROBATION].count > 0 ? s->seg[SEG_PROBATION].tail
					    : s->seg[SEG_PROTECTED].tail;
	bucket_unlink(s, i);
	list_unlink(s, i);
	s->evicted++;
	return i;
}

static void shard_store(struct shard *s, const unsigned char *key,
			const struct result *r)
{
	uint32_t i, *b;
	struct entry *e;

	if (s->cap == 0 || bucket_find(s, key) != NIL)
		return; /* another thread stored it meanwhile */
	i = shard_take(s);
	e = &s->e[i];
	memcpy(e->key, key, IDCACHE_KEY);
	e->deadline = r->deadline;
	e->not_before = r->not_before;
	e->not_after = r->not_after;
	e->st = r->st;
	e->reason = r->reason;
	memcpy(&e->id, r->id, sizeof(e->id));
	b = bucket_of(s, key);
	e->hnext = *b;
	*b = i;
	list_push(s, i, SEG_PROBATION);
	s->stored++;
}

/* --- keys, dates, computing --------------------------------------------- */

/* Chains the cache takes: what trust_verify() could accept. */
static int chain_cacheable(const gnutls_datum_t *chain, size_t n)
{
	if (chain == NULL || n == 0 || n > TRUST_MAX_CHAIN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (chain[i].data == NULL || chain[i].size == 0)
			return 0;
	return 1;
}

static int chain_key(const struct idcache *c, const gnutls_datum_t *chain,
		     size_t n, unsigned char key[IDCACHE_KEY])
{
	unsigned char buf[IDCACHE_SALT + 4 + TRUST_MAX_CHAIN * (4 + 32)];
	size_t off = IDCACHE_SALT + 4;

	memcpy(buf, c->salt, IDCACHE_SALT);
	put32(buf + IDCACHE_SALT, (uint32_t)n);
	for (size_t i = 0; i < n; i++, off += 4 + 32) {
		put32(buf + off, chain[i].size);
		if (gnutls_hash_fast(GNUTLS_DIG_SHA256, chain[i].data,
				     chain[i].size, buf + off + 4) < 0)
			return -1;
	}
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, off, key) < 0 ? -1 : 0;
}

/* The wall-clock window in which every certificate of the chain is
 * within its validity dates (GnuTLS's test: notBefore <= now <=
 * notAfter); -1 if a date cannot be read. */
static int chain_window(const gnutls_datum_t *chain, size_t n,
			time_t *not_before, time_t *not_after)
{
	gnutls_x509_crt_t crt = NULL;
	int ret = -1;

	for (size_t i = 0; i < n; i++) {
		time_t a, b;

		if (gnutls_x509_crt_init(&crt) < 0) {
			crt = NULL;
			goto out;
		}
		if (gnutls_x509_crt_import(crt, &chain[i],
					   GNUTLS_X509_FMT_DER) < 0)
			goto out;
		a = gnutls_x509_crt_get_activation_time(crt);
		b = gnutls_x509_crt_get_expiration_time(crt);
		gnutls_x509_crt_deinit(crt);
		crt = NULL;
		if (a == (time_t)-1 || b == (time_t)-1)
			goto out;
		if (i == 0 || a > *not_before)
			*not_before = a;
		if (i == 0 || b < *not_after)
			*not_after = b;
	}
	ret = 0;
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return ret;
}

/* What idcache_check() stands for. */
static int compute(const struct idcache *c, const gnutls_datum_t *chain,
		   size_t n, struct ident *id, enum ident_status *st,
		   const char **reason)
{
	gnutls_x509_crt_t crts[TRUST_MAX_CHAIN] = { NULL };
	int have = chain != NULL && n > 0, parsed = 0, ret;
	size_t i;

	/* parse the chain once for both (a new phone costs a verification
	 * anyway; three parses of its leaf were a quarter of it) */
	if (have && n <= TRUST_MAX_CHAIN && chain[0].size <= IDENT_MAX_DER) {
		for (i = 0; i < n; i++)
			if (gnutls_x509_crt_init(&crts[i]) < 0 ||
			    gnutls_x509_crt_import(crts[i], &chain[i],
						   GNUTLS_X509_FMT_DER) < 0)
				break;
		parsed = i == n;
	}
	if (parsed) {
		*st = ident_from_crt(crts[0], id, NULL);
		ret = trust_verify_crts(c->t, crts, n, reason);
	} else { /* what does not parse: the calls say why */
		*st = ident_from_der(have ? chain[0].data : NULL,
				     have ? chain[0].size : 0, id, NULL);
		ret = trust_verify(c->t, chain, n, reason);
	}
	for (i = 0; i < n && i < TRUST_MAX_CHAIN; i++)
		if (crts[i] != NULL)
			gnutls_x509_crt_deinit(crts[i]);
	return ret;
}

/* --- API ---------------------------------------------------------------- */

/* Allocate and link shard s for cap entries (its lock is made already). */
static int shard_init(struct shard *s, uint32_t cap)
{
	uint32_t nb = 1;

	while (nb < cap)
		nb <<= 1;
	s->e = calloc(cap > 0 ? cap : 1, sizeof(*s->e));
	s->bucket = calloc(nb, sizeof(*s->bucket));
	if (s->e == NULL || s->bucket == NULL)
		return -1;
	s->cap = cap;
	s->mask = nb - 1;
	s->prot_max = (uint32_t)((uint64_t)cap * IDCACHE_PROTECTED_PCT / 100);
	s->free = NIL;
	for (uint32_t i = 0; i < nb; i++)
		s->bucket[i] = NIL;
	for (int k = 0; k < 3; k++)
		s->seg[k].head = s->seg[k].tail = NIL;
	return 0;
}

static unsigned shard_count(size_t max_entries)
{
	unsigned n = 1;

	while (n < IDCACHE_MAX_SHARDS &&
	       max_entries / (2 * n) >= IDCACHE_MIN_SHARD)
		n *= 2;
	return n;
}

static void set_err(char **err, const char *reason)
{
	char buf[IDCACHE_MAX_REASON];

	if (err == NULL)
		return;
	snprintf(buf, sizeof(buf), "idcache: %s", reason);
	*err = strdup(buf);
}

int idcache_new(const struct trust *t, int time_check, size_t max_entries,
		unsigned max_age, struct idcache **out, char **err)
{
	struct idcache *c = NULL;
	unsigned n;
	int ret = -1;

	*out = NULL;
	if (t == NULL || max_entries > IDCACHE_MAX_ENTRIES ||
	    max_age > IDCACHE_MAX_AGE) {
		set_err(err, t == NULL ? "no trust" : "limit exceeded");
		goto out;
	}
	if (max_age == 0)
		max_entries = 0;
	n = shard_count(max_entries);
	c = calloc(1, sizeof(*c) + n * sizeof(c->shard[0]));
	if (c == NULL) {
		set_err(err, "out of memory");
		goto out;
	}
	c->t = t;
	c->time_check = time_check != 0;
	c->max_age = max_age;
	c->max_entries = max_entries;
	c->wall = time;
	c->mono = mono_now;
	atomic_init(&c->uncached, 0);
	if (gnutls_rnd(GNUTLS_RND_NONCE, c->salt, sizeof(c->salt)) < 0) {
		set_err(err, "no random salt");
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t cap = (uint32_t)(max_entries / n +
					  (i < max_entries % n ? 1 : 0));

		if (pthread_mutex_init(&c->shard[i].lock, NULL) != 0) {
			set_err(err, "cannot make a mutex");
			goto out;
		}
		c->n_shards++;
		if (shard_init(&c->shard[i], cap) < 0) {
			set_err(err, "out of memory");
			goto out;
		}
	}
	*out = c;
	c = NULL;
	ret = 0;
out:
	idcache_free(c);
	return ret;
}

void idcache_free(struct idcache *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->n_shards; i++) {
		pthread_mutex_destroy(&c->shard[i].lock);
		free(c->shard[i].e);
		free(c->shard[i].bucket);
	}
	free(c);
}

/* Store a chain just verified, if its dates allow (a certificate GnuTLS
 * left out of the path may be outside its dates: then nothing is kept). */
static void store(struct idcache *c, struct shard *s,
		  const unsigned char *key, const gnutls_datum_t *chain,
		  size_t n, time_t mono, time_t wall, struct result *r)
{
	r->deadline = mono + (time_t)c->max_age;
	r->not_before = r->not_after = 0;
	if (c->time_check &&
	    (chain_window(chain, n, &r->not_before, &r->not_after) < 0 ||
	     wall < r->not_before || wall > r->not_after))
		return;
	pthread_mutex_lock(&s->lock);
	shard_store(s, key, r);
	pthread_mutex_unlock(&s->lock);
}

int idcache_check(struct idcache *c, const gnutls_datum_t *chain, size_t n,
		  struct ident *id, enum ident_status *st,
		  const char **reason)
{
	unsigned char key[IDCACHE_KEY];
	struct result r = { .id = id };
	struct shard *s;
	time_t mono, wall;
	int ret;

	if (c->max_entries == 0 || !chain_cacheable(chain, n) ||
	    chain_key(c, chain, n, key) < 0) {
		atomic_fetch_add_explicit(&c->uncached, 1,
					  memory_order_relaxed);
		return compute(c, chain, n, id, st, reason);
	}
	mono = c->mono();
	wall = c->time_check ? c->wall(NULL) : 0;
	s = &c->shard[get32(key) & (c->n_shards - 1)];
	pthread_mutex_lock(&s->lock);
	ret = shard_lookup(c, s, key, mono, wall, &r);
	pthread_mutex_unlock(&s->lock);
	if (ret) {
		*st = r.st;
		*reason = r.reason;
		return 0;
	}
	ret = compute(c, chain, n, id, st, reason);
	if (ret == 0) {
		r.st = *st;
		r.reason = *reason;
		store(c, s, key, chain, n, mono, wall, &r);
	}
	return ret;
}

void idcache_stats(struct idcache *c, struct idcache_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->max_entries = c->max_entries;
	out->misses = atomic_load_explicit(&c->uncached, memory_order_relaxed);
	for (unsigned i = 0; i < c->n_shards; i++) {
		struct shard *s = &c->shard[i];

		pthread_mutex_lock(&s->lock);
		out->hits += s->hits;
		out->misses += s->misses;
		out->stored += s->stored;
		out->evicted += s->evicted;
		out->expired += s->expired;
		out->entries += s->seg[SEG_PROBATION].count +
				s->seg[SEG_PROTECTED].count;
		pthread_mutex_unlock(&s->lock);
	}
}

void idcache_set_clocks(struct idcache *c, time_t (*wall)(time_t *),
			time_t (*mono)(void))
{
	c->wall = wall != NULL ? wall : time;
	c->mono = mono != NULL ? mono : mono_now;
}
