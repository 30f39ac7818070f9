/* Unit tests for ident/idcache: the cache must give exactly what
 * ident_from_der() + trust_verify() give.  A small PKI (root, two levels
 * of intermediates, device, generic, impostor, expired and future leaves)
 * is made in memory before the runner forks; GnuTLS and the cache read
 * one fake clock, so dates and ages are tested without sleeping.
 *
 * `test_idcache -v` prints the time of a check on a hit and on a miss. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ident/idcache.h"
#include "ident/ident.h"
#include "ident/trust.h"

#define T0 ((time_t)1700000000)     /* the fake "now" of most tests */
#define YEAR ((time_t)365 * 24 * 3600)
#define N_FLOOD 40                  /* distinct trusted device leaves */
#define MAX_CHAIN (TRUST_MAX_CHAIN + 1)
#define MAX_CASES 32
#define MAX_PATH 4096

/* ---- clocks ---------------------------------------------------------- */

static time_t fake_now = T0;   /* wall: GnuTLS and the cache */
static time_t fake_mono = 1000; /* monotonic: the cache */

static time_t fake_wall(time_t *t)
{
	if (t != NULL)
		*t = fake_now;
	return fake_now;
}

static time_t fake_mono_clock(void)
{
	return fake_mono;
}

/* ---- the PKI ---------------------------------------------------------- */

struct cert {
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;
};

struct spec {
	const char *ou, *l, *st, *cn; /* subject attributes; NULL: absent */
	int ca;
	time_t not_before, not_after;
	gnutls_x509_privkey_t key;         /* subject key */
	const struct cert *issuer;         /* NULL: self-signed */
	gnutls_x509_privkey_t issuer_key;
};

static gnutls_x509_privkey_t root_key, i1_key, i2_key, leaf_key, rogue_key;
static struct cert root, i1, i2, rogue_root;
static struct cert dev, dev_i1, dev_i2, generic, nomac, rogue_dev, expired,
	future;
static struct cert flood[N_FLOOD];
static char roots_pem[] = "/tmp/spaprov-test-idcache-XXXXXX";
static char rogue_pem[] = "/tmp/spaprov-test-idcache-XXXXXX";
static unsigned next_serial = 1;

static int make_key(gnutls_x509_privkey_t *key)
{
	if (gnutls_x509_privkey_init(key) < 0)
		return -1;
	return gnutls_x509_privkey_generate(*key, GNUTLS_PK_RSA, 2048, 0) < 0
		       ? -1 : 0;
}

static int set_attr(gnutls_x509_crt_t crt, const char *oid, const char *v)
{
	if (v == NULL)
		return 0;
	return gnutls_x509_crt_set_dn_by_oid(crt, oid, 0, v,
					     (unsigned)strlen(v));
}

static int make_cert(const struct spec *sp, struct cert *out)
{
	unsigned char serial[4];
	gnutls_x509_crt_t crt = NULL;
	unsigned usage = sp->ca ? GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN
				: GNUTLS_KEY_DIGITAL_SIGNATURE;
	int r = -1;

	serial[0] = (unsigned char)(next_serial >> 24);
	serial[1] = (unsigned char)(next_serial >> 16);
	serial[2] = (unsigned char)(next_serial >> 8);
	serial[3] = (unsigned char)next_serial;
	next_serial++;
	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if (gnutls_x509_crt_set_version(crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, sp->not_before) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, sp->not_after) < 0 ||
	    gnutls_x509_crt_set_key(crt, sp->key) < 0 ||
	    set_attr(crt, GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, sp->ou) < 0 ||
	    set_attr(crt, GNUTLS_OID_X520_LOCALITY_NAME, sp->l) < 0 ||
	    set_attr(crt, GNUTLS_OID_X520_STATE_OR_PROVINCE_NAME, sp->st) < 0 ||
	    set_attr(crt, GNUTLS_OID_X520_COMMON_NAME, sp->cn) < 0 ||
	    gnutls_x509_crt_set_basic_constraints(crt, sp->ca, -1) < 0 ||
	    gnutls_x509_crt_set_key_usage(crt, usage) < 0)
		goto out;
	if (gnutls_x509_crt_sign2(crt, sp->issuer ? sp->issuer->crt : crt,
				  sp->issuer ? sp->issuer_key : sp->key,
				  GNUTLS_DIG_SHA256, 0) < 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &out->der) < 0)
		goto out;
	out->crt = crt;
	crt = NULL;
	r = 0;
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return r;
}

static int write_pem(char *path, const struct cert *c)
{
	gnutls_datum_t pem = { NULL, 0 };
	int fd = mkstemp(path), r = -1;

	if (fd < 0)
		return -1;
	if (gnutls_x509_crt_export2(c->crt, GNUTLS_X509_FMT_PEM, &pem) == 0 &&
	    write(fd, pem.data, pem.size) == (ssize_t)pem.size)
		r = 0;
	gnutls_free(pem.data);
	close(fd);
	return r;
}

/* Root -> i1 -> i2; leaves under each; an impostor root with the same DN
 * as root but its own key.  Dates around T0; i2 ends first (T0 + 2000),
 * so a chain through it must leave the cache then. */
static int make_pki(void)
{
	const char *root_cn = "idcache test root";
	char mac[13], sn[16];

	if (make_key(&root_key) < 0 || make_key(&i1_key) < 0 ||
	    make_key(&i2_key) < 0 || make_key(&leaf_key) < 0 ||
	    make_key(&rogue_key) < 0)
		return -1;
	const struct {
		struct cert *out;
		struct spec sp;
	} plan[] = {
		{ &root, { "Test PKI", NULL, NULL, root_cn, 1, T0 - 10 * YEAR,
			   T0 + 10 * YEAR, root_key, NULL, NULL } },
		{ &rogue_root, { "Test PKI", NULL, NULL, root_cn, 1,
				 T0 - 10 * YEAR, T0 + 10 * YEAR, rogue_key,
				 NULL, NULL } },
		{ &i1, { "Test PKI", NULL, NULL, "idcache intermediate 1", 1,
			 T0 - 5 * YEAR, T0 + 5 * YEAR, i1_key, &root,
			 root_key } },
		{ &i2, { "Test PKI", NULL, NULL, "idcache intermediate 2", 1,
			 T0 - YEAR, T0 + 2000, i2_key, &i1, i1_key } },
		{ &dev, { "SPA504G", "CBT000001", "0022bd000001", NULL, 0,
			  T0 - 100, T0 + 1000, leaf_key, &root, root_key } },
		{ &dev_i1, { "SPA525G2", "CBT000002", "0022BD000002", NULL, 0,
			     T0 - YEAR, T0 + 20 * YEAR, leaf_key, &i1,
			     i1_key } },
		{ &dev_i2, { "CP-8841-3PCC", "FCH000003", "0022bd000003", NULL,
			     0, T0 - 100, T0 + YEAR, leaf_key, &i2, i2_key } },
		{ &generic, { "cisco.com", "ciscogeneric", "ciscogeneric", NULL,
			      0, T0 - YEAR, T0 + YEAR, leaf_key, &root,
			      root_key } },
		{ &nomac, { "SPA504G", "CBT000004", "California", NULL, 0,
			    T0 - YEAR, T0 + YEAR, leaf_key, &root, root_key } },
		{ &rogue_dev, { "SPA504G", "CBT000005", "0022bd000005", NULL, 0,
				T0 - YEAR, T0 + YEAR, leaf_key, &rogue_root,
				rogue_key } },
		{ &expired, { "SPA504G", "CBT000006", "0022bd000006", NULL, 0,
			      T0 - 2 * YEAR, T0 - YEAR, leaf_key, &root,
			      root_key } },
		{ &future, { "SPA504G", "CBT000007", "0022bd000007", NULL, 0,
			     T0 + YEAR, T0 + 2 * YEAR, leaf_key, &root,
			     root_key } },
	};

	for (size_t i = 0; i < sizeof(plan) / sizeof(plan[0]); i++)
		if (make_cert(&plan[i].sp, plan[i].out) < 0)
			return -1;
	for (unsigned i = 0; i < N_FLOOD; i++) {
		struct spec sp = { "SPA504G", sn, mac, NULL, 0, T0 - YEAR,
				   T0 + YEAR, leaf_key, &root, root_key };

		snprintf(mac, sizeof(mac), "0022bd01%04x", i);
		snprintf(sn, sizeof(sn), "CBT1%05u", i);
		if (make_cert(&sp, &flood[i]) < 0)
			return -1;
	}
	return write_pem(roots_pem, &root) < 0 ||
			       write_pem(rogue_pem, &rogue_root) < 0
		       ? -1 : 0;
}

static void free_cert(struct cert *c)
{
	gnutls_x509_crt_deinit(c->crt);
	gnutls_free(c->der.data);
}

static void free_pki(void)
{
	struct cert *all[] = { &root, &i1, &i2, &rogue_root, &dev, &dev_i1,
			       &dev_i2, &generic, &nomac, &rogue_dev, &expired,
			       &future };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free_cert(all[i]);
	for (unsigned i = 0; i < N_FLOOD; i++)
		free_cert(&flood[i]);
	gnutls_x509_privkey_deinit(root_key);
	gnutls_x509_privkey_deinit(i1_key);
	gnutls_x509_privkey_deinit(i2_key);
	gnutls_x509_privkey_deinit(leaf_key);
	gnutls_x509_privkey_deinit(rogue_key);
	unlink(roots_pem);
	unlink(rogue_pem);
}

/* ---- chains ----------------------------------------------------------- */

enum expect { BAD = 0, GOOD = 1, GOOD_UNLESS_TIME = 2 };

struct chain {
	const char *name;
	gnutls_datum_t d[MAX_CHAIN];
	size_t n;
	enum expect expect;
	enum ident_status st;
};

static unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
static unsigned char joined[2][16384];

static size_t add(struct chain *cs, size_t k, const char *name,
		  enum expect expect, enum ident_status st, size_t n, ...)
{
	va_list ap;

	ck_assert_uint_lt(k, MAX_CASES);
	cs[k].name = name;
	cs[k].n = n;
	cs[k].expect = expect;
	cs[k].st = st;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		cs[k].d[i] = va_arg(ap, gnutls_datum_t);
	va_end(ap);
	return k + 1;
}

/* Every kind of chain a phone (or anybody) may send. */
static size_t corpus(struct chain *cs)
{
	gnutls_datum_t j = { junk, sizeof(junk) }, none = { NULL, 0 };
	gnutls_datum_t cut = dev.der, cat, split0, split1;
	size_t k = 0;

	cut.size -= 10;
	/* dev_i1 + i1 as one datum, and cut one byte earlier */
	ck_assert_uint_le(dev_i1.der.size + i1.der.size, sizeof(joined[0]));
	memcpy(joined[0], dev_i1.der.data, dev_i1.der.size);
	memcpy(joined[0] + dev_i1.der.size, i1.der.data, i1.der.size);
	cat = (gnutls_datum_t){ joined[0], dev_i1.der.size + i1.der.size };
	memcpy(joined[1], joined[0], cat.size);
	split0 = (gnutls_datum_t){ joined[1], dev_i1.der.size - 1 };
	split1 = (gnutls_datum_t){ joined[1] + dev_i1.der.size - 1,
				   i1.der.size + 1 };

	k = add(cs, k, "device", GOOD, IDENT_OK, 1, dev.der);
	k = add(cs, k, "device+i1", GOOD, IDENT_OK, 2, dev_i1.der, i1.der);
	k = add(cs, k, "device+i2+i1", GOOD, IDENT_OK, 3, dev_i2.der, i2.der,
		i1.der);
	k = add(cs, k, "device+i2+i1+root", GOOD, IDENT_OK, 4, dev_i2.der,
		i2.der, i1.der, root.der);
	k = add(cs, k, "device+i1 unsorted", GOOD, IDENT_NO_MAC, 2, i1.der,
		dev_i1.der);
	k = add(cs, k, "device, i1 missing", BAD, IDENT_OK, 1, dev_i1.der);
	k = add(cs, k, "device+i2, i1 missing", BAD, IDENT_OK, 2, dev_i2.der,
		i2.der);
	k = add(cs, k, "generic", GOOD, IDENT_GENERIC, 1, generic.der);
	k = add(cs, k, "no mac", GOOD, IDENT_NO_MAC, 1, nomac.der);
	k = add(cs, k, "impostor", BAD, IDENT_OK, 1, rogue_dev.der);
	k = add(cs, k, "impostor+root", BAD, IDENT_OK, 2, rogue_dev.der,
		rogue_root.der);
	k = add(cs, k, "expired", GOOD_UNLESS_TIME, IDENT_OK, 1, expired.der);
	k = add(cs, k, "not yet valid", GOOD_UNLESS_TIME, IDENT_OK, 1,
		future.der);
	k = add(cs, k, "junk", BAD, IDENT_MALFORMED, 1, j);
	k = add(cs, k, "truncated", BAD, IDENT_MALFORMED, 1, cut);
	k = add(cs, k, "device+junk", BAD, IDENT_OK, 2, dev.der, j);
	k = add(cs, k, "device+unrelated", GOOD, IDENT_OK, 2, dev.der,
		rogue_root.der);
	k = add(cs, k, "device+empty", BAD, IDENT_OK, 2, dev.der, none);
	k = add(cs, k, "device||i1 joined", BAD, IDENT_MALFORMED, 1, cat);
	k = add(cs, k, "device||i1 split early", BAD, IDENT_MALFORMED, 2,
		split0, split1);
	k = add(cs, k, "too long", BAD, IDENT_OK, 9, dev.der, dev.der,
		dev.der, dev.der, dev.der, dev.der, dev.der, dev.der, dev.der);
	k = add(cs, k, "none", BAD, IDENT_MALFORMED, 0);
	return k;
}

/* What ident_from_der() + trust_verify() give. */
struct truth {
	int ret;
	enum ident_status st;
	const char *reason;
	struct ident id;
};

static void direct(const struct trust *t, const struct chain *ch,
		   struct truth *out)
{
	memset(out, 0, sizeof(*out));
	out->st = ident_from_der(ch->n > 0 ? ch->d[0].data : NULL,
				 ch->n > 0 ? ch->d[0].size : 0, &out->id, NULL);
	out->ret = trust_verify(t, ch->d, ch->n, &out->reason);
}

static int same(const struct truth *want, int ret, enum ident_status st,
		const char *reason, const struct ident *id)
{
	return ret == want->ret && st == want->st && reason == want->reason &&
	       memcmp(id, &want->id, sizeof(*id)) == 0;
}

/* The cache answers exactly as computing directly does, now; returns 1
 * if trusted. */
static int check_same(struct idcache *c, const struct trust *t,
		      const struct chain *ch)
{
	struct truth want;
	struct ident id;
	enum ident_status st = (enum ident_status)99;
	const char *reason = NULL;
	int ret;

	memset(&id, 0x5a, sizeof(id));
	ret = idcache_check(c, ch->d, ch->n, &id, &st, &reason);
	direct(t, ch, &want);
	ck_assert_msg(same(&want, ret, st, reason, &id),
		      "%s: cache %d %s %s, direct %d %s %s", ch->name, ret,
		      ident_status_name(st), reason ? reason : "(null)",
		      want.ret, ident_status_name(want.st), want.reason);
	return ret == 0;
}

static struct trust *load(const char *pem, int time_check)
{
	const char *files[] = { pem };
	struct trust *t = NULL;
	char *err = NULL;

	ck_assert_msg(trust_load(files, 1, time_check, &t, &err) == 0, "%s",
		      err ? err : "?");
	return t;
}

static struct idcache *cache(const struct trust *t, int time_check,
			     size_t max, unsigned age)
{
	struct idcache *c = NULL;
	char *err = NULL;

	ck_assert_msg(idcache_new(t, time_check, max, age, &c, &err) == 0,
		      "%s", err ? err : "?");
	ck_assert_ptr_nonnull(c);
	idcache_set_clocks(c, fake_wall, fake_mono_clock);
	return c;
}

static void stats(struct idcache *c, struct idcache_stats *s)
{
	idcache_stats(c, s);
	ck_assert_uint_le(s->entries, s->max_entries);
	ck_assert_uint_eq(s->stored - s->evicted - s->expired, s->entries);
}

static struct chain one(const struct cert *c, const char *name)
{
	struct chain ch = { .name = name, .n = 1 };

	ch.d[0] = c->der;
	return ch;
}

/* ---- equivalence ------------------------------------------------------ */

static void same_over_corpus(int time_check, size_t max, unsigned age)
{
	struct chain cs[MAX_CASES];
	size_t n = corpus(cs), good = 0;
	struct trust *t = load(roots_pem, time_check);
	struct idcache *c = cache(t, time_check, max, age);
	struct idcache_stats s;

	for (size_t i = 0; i < n; i++) {
		int want = cs[i].expect == GOOD ||
			   (cs[i].expect == GOOD_UNLESS_TIME && !time_check);
		int got = check_same(c, t, &cs[i]);
		struct truth d;

		ck_assert_msg(got == want, "%s: %d", cs[i].name, got);
		direct(t, &cs[i], &d);
		ck_assert_msg(d.st == cs[i].st, "%s: %s", cs[i].name,
			      ident_status_name(d.st));
		good += got;
	}
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < n; i++)
			check_same(c, t, &cs[i]);
	stats(c, &s);
	if (max > 0 && age > 0) {
		ck_assert_uint_eq(s.stored, good); /* refusals never stored */
		ck_assert_uint_eq(s.entries, good);
		ck_assert_uint_eq(s.hits, 3 * good);
	} else {
		ck_assert_uint_eq(s.stored, 0);
		ck_assert_uint_eq(s.hits, 0);
	}
	ck_assert_uint_eq(s.hits + s.misses, 4 * n);
	idcache_free(c);
	trust_free(t);
}

START_TEST(same_as_direct)
{
	same_over_corpus(0, 64, IDCACHE_DEFAULT_MAX_AGE);
}
END_TEST

START_TEST(same_as_direct_with_time_check)
{
	same_over_corpus(1, 64, IDCACHE_DEFAULT_MAX_AGE);
}
END_TEST

START_TEST(same_as_direct_sharded)
{
	same_over_corpus(_i, IDCACHE_DEFAULT_MAX_ENTRIES,
			 IDCACHE_DEFAULT_MAX_AGE);
}
END_TEST

START_TEST(disabled_cache_computes)
{
	same_over_corpus(_i, 0, IDCACHE_DEFAULT_MAX_AGE);
	same_over_corpus(_i, 16, 0);
}
END_TEST

/* Two chains with the same bytes, differing only in where the first
 * certificate ends: the key must tell them apart. */
START_TEST(moved_boundary_is_another_chain)
{
	static unsigned char buf[16384];
	size_t l0 = dev_i1.der.size, l1 = i1.der.size;
	struct trust *t = load(roots_pem, 0);
	struct idcache *c = cache(t, 0, 16, 60);
	struct chain a = { "device+i1", { { buf, l0 }, { buf + l0, l1 } }, 2,
			   GOOD, IDENT_OK };
	struct chain b = { "moved", { { buf, l0 - 1 }, { buf + l0 - 1, l1 + 1 } },
			   2, BAD, IDENT_MALFORMED };
	struct idcache_stats s;

	ck_assert_uint_le(l0 + l1, sizeof(buf));
	memcpy(buf, dev_i1.der.data, l0);
	memcpy(buf + l0, i1.der.data, l1);
	ck_assert_int_eq(check_same(c, t, &a), 1);
	ck_assert_int_eq(check_same(c, t, &b), 0);
	ck_assert_int_eq(check_same(c, t, &a), 1);
	ck_assert_int_eq(check_same(c, t, &b), 0);
	stats(c, &s);
	ck_assert_uint_eq(s.hits, 1); /* the second a; b is refused twice */
	ck_assert_uint_eq(s.entries, 1);
	idcache_free(c);
	trust_free(t);
}
END_TEST

/* ---- dates and age -------------------------------------------------- */

START_TEST(time_check_follows_the_earliest_dates)
{
	struct trust *t = load(roots_pem, 1);
	struct idcache *c = cache(t, 1, 16, IDCACHE_DEFAULT_MAX_AGE);
	struct chain ch = { "device+i2+i1", { dev_i2.der, i2.der, i1.der }, 3,
			    GOOD, 0 };
	struct idcache_stats s;

	fake_now = T0;
	ck_assert_int_eq(check_same(c, t, &ch), 1);
	fake_now = T0 + 2000; /* i2's notAfter: still valid */
	ck_assert_int_eq(check_same(c, t, &ch), 1);
	stats(c, &s);
	ck_assert_uint_eq(s.hits, 1);
	fake_now = T0 + 2001; /* i2 expired; the leaf is not */
	ck_assert_int_eq(check_same(c, t, &ch), 0);
	stats(c, &s);
	ck_assert_uint_eq(s.hits, 1);
	ck_assert_uint_eq(s.expired, 1);
	ck_assert_uint_eq(s.entries, 0);

	fake_now = T0; /* valid again: stored again */
	ck_assert_int_eq(check_same(c, t, &ch), 1);
	fake_now = T0 - 100; /* the leaf's notBefore */
	ck_assert_int_eq(check_same(c, t, &ch), 1);
	fake_now = T0 - 101; /* the clock went back before it */
	ck_assert_int_eq(check_same(c, t, &ch), 0);
	stats(c, &s);
	ck_assert_uint_eq(s.hits, 2);
	ck_assert_uint_eq(s.expired, 2);
	fake_now = T0;
	idcache_free(c);
	trust_free(t);
}
END_TEST

START_TEST(no_time_check_ignores_dates)
{
	struct trust *t = load(roots_pem, 0);
	struct idcache *c = cache(t, 0, 16, IDCACHE_DEFAULT_MAX_AGE);
	struct chain ch = { "device+i2+i1", { dev_i2.der, i2.der, i1.der }, 3,
			    GOOD, 0 };
	struct idcache_stats s;

	fake_now = T0;
	ck_assert_int_eq(check_same(c, t, &ch), 1);
	fake_now = T0 + 20 * YEAR;
	ck_assert_int_eq(check_same(c, t, &ch), 1);
	fake_now = T0 - 20 * YEAR;
	ck_assert_int_eq(check_same(c, t, &ch), 1);
	stats(c, &s);
	ck_assert_uint_eq(s.hits, 2);
	fake_now = T0;
	idcache_free(c);
	trust_free(t);
}
END_TEST

START_TEST(entries_age_out)
{
	struct trust *t = load(roots_pem, _i);
	struct idcache *c = cache(t, _i, 16, 10);
	struct chain ch = one(&dev, "device");
	struct idcache_stats s;

	fake_mono = 1000;
	check_same(c, t, &ch);
	fake_mono = 1009;
	check_same(c, t, &ch); /* hit: age 9 */
	stats(c, &s);
	ck_assert_uint_eq(s.hits, 1);
	fake_mono = 1010;
	check_same(c, t, &ch); /* age 10: gone, computed and stored anew */
	stats(c, &s);
	ck_assert_uint_eq(s.hits, 1);
	ck_assert_uint_eq(s.expired, 1);
	ck_assert_uint_eq(s.stored, 2);
	fake_mono = 1019;
	check_same(c, t, &ch); /* hits do not extend the age */
	fake_mono = 1020;
	check_same(c, t, &ch);
	stats(c, &s);
	ck_assert_uint_eq(s.hits, 2);
	ck_assert_uint_eq(s.expired, 2);
	idcache_free(c);
	trust_free(t);
}
END_TEST

/* ---- capacity and replacement ----------------------------------------- */

START_TEST(refusals_are_not_stored)
{
	struct trust *t = load(roots_pem, 0);
	struct idcache *c = cache(t, 0, 4, 60);
	struct chain bad = one(&rogue_dev, "impostor");
	struct idcache_stats s;

	for (unsigned i = 0; i < 4; i++) {
		struct chain ch = one(&flood[i], "device");

		check_same(c, t, &ch);
	}
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(check_same(c, t, &bad), 0);
	for (unsigned i = 0; i < 4; i++) {
		struct chain ch = one(&flood[i], "device");

		check_same(c, t, &ch);
	}
	stats(c, &s);
	ck_assert_uint_eq(s.stored, 4);
	ck_assert_uint_eq(s.hits, 4);
	ck_assert_uint_eq(s.misses, 54);
	ck_assert_uint_eq(s.evicted, 0);
	idcache_free(c);
	trust_free(t);
}
END_TEST

START_TEST(bounded_and_least_recent_out)
{
	struct trust *t = load(roots_pem, 0);
	struct idcache *c = cache(t, 0, 10, 60);
	struct idcache_stats s;

	for (unsigned i = 0; i < 25; i++) {
		struct chain ch = one(&flood[i], "device");

		check_same(c, t, &ch);
		stats(c, &s);
		ck_assert_uint_eq(s.entries, i < 10 ? i + 1 : 10);
	}
	ck_assert_uint_eq(s.evicted, 15);
	for (unsigned i = 15; i < 25; i++) { /* the 10 most recent stayed */
		struct chain ch = one(&flood[i], "device");

		check_same(c, t, &ch);
	}
	stats(c, &s);
	ck_assert_uint_eq(s.hits, 10);
	for (unsigned i = 0; i < 15; i++) {
		struct chain ch = one(&flood[i], "device");

		check_same(c, t, &ch);
	}
	stats(c, &s);
	ck_assert_uint_eq(s.hits, 10);
	ck_assert_uint_eq(s.entries, 10);
	idcache_free(c);
	trust_free(t);
}
END_TEST

/* Chains seen twice (phones resyncing) survive a flood of chains seen
 * once: only the probation share turns over. */
START_TEST(flood_spares_repeat_visitors)
{
	struct trust *t = load(roots_pem, 0);
	struct idcache *c = cache(t, 0, 10, 60);
	struct idcache_stats s;

	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < 5; i++) {
			struct chain ch = one(&flood[i], "regular");

			check_same(c, t, &ch);
		}
	for (unsigned i = 5; i < N_FLOOD; i++) {
		struct chain ch = one(&flood[i], "flood");

		check_same(c, t, &ch);
	}
	stats(c, &s);
	ck_assert_uint_eq(s.hits, 5);
	ck_assert_uint_eq(s.entries, 10);
	for (unsigned i = 0; i < 5; i++) {
		struct chain ch = one(&flood[i], "regular");

		check_same(c, t, &ch);
	}
	stats(c, &s);
	ck_assert_uint_eq(s.hits, 10);
	idcache_free(c);
	trust_free(t);
}
END_TEST

/* ---- generations, threads, arguments ------------------------------------- */

/* A reload makes a new trust and a new cache: the old verdicts stay with
 * the old generation. */
START_TEST(one_cache_per_trust)
{
	struct trust *a = load(roots_pem, 0), *b = load(rogue_pem, 0);
	struct idcache *ca = cache(a, 0, 16, 60), *cb = cache(b, 0, 16, 60);
	struct chain d = one(&dev, "device"), r = one(&rogue_dev, "impostor");

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(check_same(ca, a, &d), 1);
		ck_assert_int_eq(check_same(cb, b, &d), 0);
		ck_assert_int_eq(check_same(ca, a, &r), 0);
		ck_assert_int_eq(check_same(cb, b, &r), 1);
	}
	idcache_free(ca);
	idcache_free(cb);
	trust_free(a);
	trust_free(b);
}
END_TEST

struct worker {
	struct idcache *c;
	const struct chain *cs;
	const struct truth *want;
	size_t n;
	unsigned seed;
	int failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 3000; i++) {
		size_t k = (size_t)rand_r(&w->seed) % w->n;
		struct ident id;
		enum ident_status st;
		const char *reason;
		int ret = idcache_check(w->c, w->cs[k].d, w->cs[k].n, &id, &st,
					&reason);

		if (!same(&w->want[k], ret, st, reason, &id))
			w->failures++;
	}
	return NULL;
}

START_TEST(shared_by_threads)
{
	static struct chain cs[MAX_CASES + N_FLOOD];
	static struct truth want[MAX_CASES + N_FLOOD];
	size_t sizes[] = { 6, IDCACHE_DEFAULT_MAX_ENTRIES };
	size_t n = corpus(cs);
	struct trust *t = load(roots_pem, 0);

	for (unsigned i = 0; i < N_FLOOD; i++)
		cs[n++] = one(&flood[i], "device");
	for (size_t i = 0; i < n; i++)
		direct(t, &cs[i], &want[i]);
	for (size_t z = 0; z < 2; z++) {
		struct idcache *c = cache(t, 0, sizes[z], 60);
		struct worker w[8];
		pthread_t th[8];
		struct idcache_stats s;

		for (unsigned i = 0; i < 8; i++) {
			w[i] = (struct worker){ c, cs, want, n, i + 1, 0 };
			ck_assert_int_eq(pthread_create(&th[i], NULL,
							worker_run, &w[i]), 0);
		}
		for (unsigned i = 0; i < 8; i++) {
			pthread_join(th[i], NULL);
			ck_assert_int_eq(w[i].failures, 0);
		}
		stats(c, &s);
		ck_assert_uint_eq(s.hits + s.misses, 8 * 3000);
		ck_assert_uint_gt(s.hits, 0);
		idcache_free(c);
	}
	trust_free(t);
}
END_TEST

START_TEST(bad_arguments)
{
	struct trust *t = load(roots_pem, 0);
	struct idcache *c = (struct idcache *)t;
	char *err = NULL;

	ck_assert_int_eq(idcache_new(NULL, 0, 16, 60, &c, &err), -1);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "idcache: no trust");
	free(err);
	err = NULL;
	ck_assert_int_eq(idcache_new(t, 0, IDCACHE_MAX_ENTRIES + 1, 60, &c,
				     &err), -1);
	ck_assert_str_eq(err, "idcache: limit exceeded");
	free(err);
	err = NULL;
	ck_assert_int_eq(idcache_new(t, 0, 16, IDCACHE_MAX_AGE + 1, &c, &err),
			 -1);
	ck_assert_ptr_nonnull(err);
	free(err);
	ck_assert_int_eq(idcache_new(t, 0, IDCACHE_MAX_ENTRIES,
				     IDCACHE_MAX_AGE, &c, NULL), 0);
	idcache_free(c);
	idcache_free(NULL);
	trust_free(t);
}
END_TEST

/* ---- benchmark (-v) ------------------------------------------------------ */

/* Outside the runner: no ck_assert here (it reports to the runner). */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Microseconds per check of the chains in turn; -1 if one failed. */
static double timed(struct idcache *c, const struct chain *ch, size_t n_ch,
		    int rounds)
{
	struct ident id;
	enum ident_status st;
	const char *reason;
	double t0 = now_us();

	for (int i = 0; i < rounds; i++) {
		const struct chain *x = &ch[(size_t)i % n_ch];

		if (idcache_check(c, x->d, x->n, &id, &st, &reason) != 0)
			return -1;
	}
	return (now_us() - t0) / rounds;
}

/* Per check: direct calls (a disabled cache), misses (two chains through
 * a one-entry cache: each check computes, stores and evicts) and hits
 * (one chain again and again). */
static int bench(int time_check)
{
	const char *files[] = { roots_pem };
	struct chain ch[2] = {
		{ "device+i1", { dev_i1.der, i1.der }, 2, GOOD, 0 },
		{ "device+i2+i1", { dev_i2.der, i2.der, i1.der }, 3, GOOD, 0 },
	};
	struct idcache *c0 = NULL, *c1 = NULL, *c = NULL;
	struct trust *t = NULL;
	double dir = -1, miss = -1, hit = -1;
	char *err = NULL;
	int ret = -1;

	if (trust_load(files, 1, time_check, &t, &err) < 0 ||
	    idcache_new(t, time_check, 0, 3600, &c0, &err) < 0 ||
	    idcache_new(t, time_check, 1, 3600, &c1, &err) < 0 ||
	    idcache_new(t, time_check, 4096, 3600, &c, &err) < 0)
		goto out;
	idcache_set_clocks(c1, fake_wall, NULL);
	idcache_set_clocks(c, fake_wall, NULL);
	dir = timed(c0, ch, 2, 2000);
	miss = timed(c1, ch, 2, 2000);
	hit = timed(c, ch, 1, 200000);
	if (dir < 0 || miss < 0 || hit < 0)
		goto out;
	printf("idcache time_check=%d, RSA-2048 chains of 2 and 3: direct "
	       "%.1f us, miss %.1f us, hit %.2f us per check\n",
	       time_check, dir, miss, hit);
	ret = 0;
out:
	if (ret < 0)
		fprintf(stderr, "bench: %s\n", err ? err : "check failed");
	free(err);
	idcache_free(c);
	idcache_free(c1);
	idcache_free(c0);
	trust_free(t);
	return ret;
}

static Suite *idcache_suite(void)
{
	Suite *s = suite_create("idcache");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, same_as_direct);
	tcase_add_test(tc, same_as_direct_with_time_check);
	tcase_add_loop_test(tc, same_as_direct_sharded, 0, 2);
	tcase_add_loop_test(tc, disabled_cache_computes, 0, 2);
	tcase_add_test(tc, moved_boundary_is_another_chain);
	tcase_add_test(tc, time_check_follows_the_earliest_dates);
	tcase_add_test(tc, no_time_check_ignores_dates);
	tcase_add_loop_test(tc, entries_age_out, 0, 2);
	tcase_add_test(tc, refusals_are_not_stored);
	tcase_add_test(tc, bounded_and_least_recent_out);
	tcase_add_test(tc, flood_spares_repeat_visitors);
	tcase_add_test(tc, one_cache_per_trust);
	tcase_add_test(tc, shared_by_threads);
	tcase_add_test(tc, bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	/* made once, before the runner forks one process per test */
	gnutls_global_set_time_function(fake_wall);
	if (make_pki() != 0) {
		fprintf(stderr, "cannot make the test PKI\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(idcache_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (failed == 0 && argc > 1 && strcmp(argv[1], "-v") == 0 &&
	    (bench(0) < 0 || bench(1) < 0))
		failed = 1;
	free_pki();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
