/* bench/pki.c: the bench PKI, made with the GnuTLS API and kept in
 * DIR/pki for the next run.
 *
 *   prov-root.crt            provisioning root (2048-bit, SHA-1), what the
 *                            phones would trust
 *   server.crt, server.key   2048-bit server key, SHA-1 chain, CN = SAN =
 *                            prov.spaprov.test: the legacy profile's key
 *   dh1024.pem               the 1024-bit group spaprovd uses by default
 *                            (taken from server/tls.c, so all servers
 *                            under test offer the same prime)
 *   client-root.crt/.key     bench client root (2048-bit, SHA-1): the lab
 *                            PKI of `spaprovctl lab-pki` keeps no client
 *                            root keys, so the bench has its own
 *   phone-key-NN.pem         BN_KEY_POOL 1024-bit phone keys
 *   phones.der               phone certificates: u32 length + DER each;
 *                            phone i: ST=<mac> L=<serial> OU=SPA504G,
 *                            key i % BN_KEY_POOL
 * Keys are shared by phones (RSA key generation would dominate setup);
 * every phone still has its own certificate, MAC and serial, which is
 * all the server looks at. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/x509.h>

#include "bench/bench.h"
#include "conf/conf.h"
#include "server/tls.h"

#define BN_PKI_GEN_THREADS 2
#define BN_MAX_DER 8192            /* one phone certificate */
#define BN_T_2045 ((time_t)2366841600)

struct bn_ca {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
};

void bn_phone_mac(size_t i, char mac[13])
{
	snprintf(mac, 13, BN_MAC_PREFIX "%06zx", i & 0xffffff);
}

const char *bn_phone_serial(size_t i, char buf[16])
{
	snprintf(buf, 16, "CBT%08u", (unsigned)(i % 100000000u));
	return buf;
}

static void ck(int rc, const char *what)
{
	if (rc < 0)
		bn_die("%s: %s", what, gnutls_strerror(rc));
}

static void set_serial(gnutls_x509_crt_t crt, uint64_t n)
{
	unsigned char s[9] = { 0x01 };

	for (int i = 0; i < 8; i++)
		s[8 - i] = (unsigned char)(n >> (8 * i));
	ck(gnutls_x509_crt_set_serial(crt, s, sizeof(s)), "serial");
}

static void key_ids(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer)
{
	unsigned char id[64];
	size_t len = sizeof(id);

	ck(gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &len),
	   "key id");
	ck(gnutls_x509_crt_set_subject_key_id(crt, id, len), "ski");
	if (issuer != NULL) {
		len = sizeof(id);
		if (gnutls_x509_crt_get_subject_key_id(issuer, id, &len,
						       NULL) >= 0)
			ck(gnutls_x509_crt_set_authority_key_id(crt, id, len),
			   "aki");
	}
}

/* A certificate for key with subject dn ("CN=..." style), signed by
 * issuer (or self-signed). */
static gnutls_x509_crt_t issue(gnutls_x509_privkey_t key, const char *dn,
			       int ca, const char *san,
			       const struct bn_ca *issuer, uint64_t serial)
{
	gnutls_x509_crt_t crt;
	const char *where = NULL;
	time_t now = time(NULL);

	ck(gnutls_x509_crt_init(&crt), "crt init");
	ck(gnutls_x509_crt_set_version(crt, 3), "version");
	ck(gnutls_x509_crt_set_key(crt, key), "set key");
	if (gnutls_x509_crt_set_dn(crt, dn, &where) < 0)
		bn_die("bad DN %s at %s", dn, where ? where : "?");
	set_serial(crt, serial);
	ck(gnutls_x509_crt_set_activation_time(crt, now - 86400), "time");
	ck(gnutls_x509_crt_set_expiration_time(
		   crt, sizeof(time_t) >= 8 ? BN_T_2045 : (time_t)0x7fffffff),
	   "time");
	if (ca) {
		ck(gnutls_x509_crt_set_basic_constraints(crt, 1, -1), "bc");
		ck(gnutls_x509_crt_set_key_usage(
			   crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN),
		   "ku");
	} else {
		ck(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "bc");
		ck(gnutls_x509_crt_set_key_usage(
			   crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
					GNUTLS_KEY_KEY_ENCIPHERMENT),
		   "ku");
		ck(gnutls_x509_crt_set_key_purpose_oid(
			   crt, san ? GNUTLS_KP_TLS_WWW_SERVER
				    : GNUTLS_KP_TLS_WWW_CLIENT, 0),
		   "eku");
	}
	if (san != NULL)
		ck(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
							san, strlen(san),
							GNUTLS_FSAN_SET),
		   "san");
	key_ids(crt, issuer ? issuer->crt : NULL);
	ck(gnutls_x509_crt_sign2(crt, issuer ? issuer->crt : crt,
				 issuer ? issuer->key : key, GNUTLS_DIG_SHA1,
				 0),
	   "sign");
	return crt;
}

static gnutls_x509_privkey_t new_key(unsigned bits)
{
	gnutls_x509_privkey_t key;

	ck(gnutls_x509_privkey_init(&key), "key init");
	ck(gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA, bits, 0),
	   "key generate");
	return key;
}

static void write_crt(const char *path, gnutls_x509_crt_t crt)
{
	gnutls_datum_t d;

	ck(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), "export");
	if (bn_write_file(path, d.data, d.size, 0644) < 0)
		bn_die("cannot write %s: %s", path, strerror(errno));
	gnutls_free(d.data);
}

static void write_key(const char *path, gnutls_x509_privkey_t key)
{
	gnutls_datum_t d;

	ck(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d),
	   "export key");
	if (bn_write_file(path, d.data, d.size, 0600) < 0)
		bn_die("cannot write %s: %s", path, strerror(errno));
	gnutls_free(d.data);
}

static int load_ca(const char *crt_path, const char *key_path,
		   struct bn_ca *ca)
{
	gnutls_datum_t c = { 0 }, k = { 0 };
	int rc = -1;

	if (gnutls_load_file(crt_path, &c) < 0 ||
	    gnutls_load_file(key_path, &k) < 0)
		goto out;
	ck(gnutls_x509_crt_init(&ca->crt), "crt init");
	ck(gnutls_x509_privkey_init(&ca->key), "key init");
	if (gnutls_x509_crt_import(ca->crt, &c, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_privkey_import(ca->key, &k, GNUTLS_X509_FMT_PEM) < 0)
		goto out;
	rc = 0;
out:
	gnutls_free(c.data);
	gnutls_free(k.data);
	return rc;
}

/* The 1024-bit DH group that spaprovd offers by default, as PKCS#3. */
static void write_dh(const struct bn_pki *pki)
{
	struct conf conf = { .path = (char *)"bench" };
	struct conf_listener cl = { .name = (char *)"bench",
				    .ca = CONF_CA_SB2K,
				    .certificate = (char *)pki->server_crt,
				    .key = (char *)pki->server_key,
				    .dh_bits = 1024 };
	struct tls_material m;
	char *err = NULL;

	if (tls_material_load(&conf, &cl, &m, &err) < 0)
		bn_die("server TLS material: %s", err ? err : "?");
	if (bn_write_file(pki->dh_pem, m.dh_pem, strlen(m.dh_pem), 0644) < 0)
		bn_die("cannot write %s", pki->dh_pem);
	tls_material_free(&m);
}

static void make_roots(struct bn_pki *pki, const char *d)
{
	char path[BN_MAX_PATH + 32];
	struct bn_ca prov, client;
	gnutls_x509_privkey_t skey;
	gnutls_x509_crt_t srv;

	fprintf(stderr, "spaprov-bench: making the bench PKI in %s\n", d);
	prov.key = new_key(2048);
	prov.crt = issue(prov.key, "O=spaprov bench (not Cisco),"
			 "CN=Bench Provisioning Root Authority", 1, NULL, NULL,
			 1);
	write_crt(pki->prov_root, prov.crt);
	skey = new_key(2048);
	srv = issue(skey, "O=spaprov bench (not Cisco),CN=" BN_FQDN, 0,
		    BN_FQDN, &prov, 2);
	write_crt(pki->server_crt, srv);
	write_key(pki->server_key, skey);
	client.key = new_key(2048);
	client.crt = issue(client.key, "O=spaprov bench (not Cisco),"
			   "CN=Bench Client Root Authority", 1, NULL, NULL, 3);
	write_crt(pki->client_root, client.crt);
	snprintf(path, sizeof(path), "%s/client-root.key", d);
	write_key(path, client.key);
	for (int i = 0; i < BN_KEY_POOL; i++) {
		gnutls_x509_privkey_t k = new_key(1024);

		snprintf(path, sizeof(path), "%s/phone-key-%02d.pem", d, i);
		write_key(path, k);
		gnutls_x509_privkey_deinit(k);
	}
	gnutls_x509_crt_deinit(srv);
	gnutls_x509_privkey_deinit(skey);
	gnutls_x509_crt_deinit(prov.crt);
	gnutls_x509_privkey_deinit(prov.key);
	gnutls_x509_crt_deinit(client.crt);
	gnutls_x509_privkey_deinit(client.key);
}

struct gen_job {
	struct bn_pki *pki;
	struct bn_ca *root;
	gnutls_x509_privkey_t *keys;
	size_t from, to, step;
};

static void *gen_phones(void *arg)
{
	struct gen_job *j = arg;

	for (size_t i = j->from; i < j->to; i += j->step) {
		char dn[256], mac[13], serial[16];
		gnutls_x509_crt_t crt;
		gnutls_datum_t der;

		bn_phone_mac(i, mac);
		snprintf(dn, sizeof(dn),
			 "O=spaprov bench (not Cisco),OU=" BN_PHONE_MODEL
			 ",L=%s,ST=%s", bn_phone_serial(i, serial), mac);
		crt = issue(j->keys[i % BN_KEY_POOL], dn, 0, NULL, j->root,
			    (uint64_t)i + 1000);
		ck(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der),
		   "export");
		j->pki->phone_der[i] = der;
		gnutls_x509_crt_deinit(crt);
	}
	return NULL;
}

static size_t load_phones(struct bn_pki *pki, const char *path, size_t want)
{
	char *buf = NULL;
	size_t len = 0, off = 0, n = 0;
	struct stat st;

	if (stat(path, &st) < 0 ||
	    (unsigned long long)st.st_size >
		    (unsigned long long)BN_MAX_PHONES * (BN_MAX_DER + 4) ||
	    bn_read_file(path, (size_t)st.st_size, &buf, &len) < 0)
		return 0;
	while (n < want && off + 4 <= len) {
		uint32_t l = (uint32_t)((unsigned char)buf[off] << 24 |
					(unsigned char)buf[off + 1] << 16 |
					(unsigned char)buf[off + 2] << 8 |
					(unsigned char)buf[off + 3]);

		if (l > BN_MAX_DER || off + 4 + l > len)
			break;
		pki->phone_der[n].data = gnutls_malloc(l);
		if (pki->phone_der[n].data == NULL)
			break;
		memcpy(pki->phone_der[n].data, buf + off + 4, l);
		pki->phone_der[n].size = l;
		off += 4 + l;
		n++;
	}
	free(buf);
	return n;
}

static void save_phones(const struct bn_pki *pki, const char *path)
{
	size_t total = 0, off = 0;
	unsigned char *buf;

	for (size_t i = 0; i < pki->n_phones; i++)
		total += 4 + pki->phone_der[i].size;
	buf = malloc(total ? total : 1);
	if (buf == NULL)
		bn_die("out of memory");
	for (size_t i = 0; i < pki->n_phones; i++) {
		uint32_t l = pki->phone_der[i].size;

		buf[off++] = (unsigned char)(l >> 24);
		buf[off++] = (unsigned char)(l >> 16);
		buf[off++] = (unsigned char)(l >> 8);
		buf[off++] = (unsigned char)l;
		memcpy(buf + off, pki->phone_der[i].data, l);
		off += l;
	}
	if (bn_write_file(path, buf, total, 0644) < 0)
		bn_die("cannot write %s", path);
	free(buf);
}

int bn_pki_load(const char *dir, size_t n, struct bn_pki *pki)
{
	char d[BN_MAX_PATH - 64], path[BN_MAX_PATH + 32];
	gnutls_x509_privkey_t keys[BN_KEY_POOL];
	struct bn_ca root;
	size_t have;

	memset(pki, 0, sizeof(*pki));
	if (n < 1 || n > BN_MAX_PHONES)
		bn_die("phones: 1..%d", BN_MAX_PHONES);
	snprintf(d, sizeof(d), "%s/pki", dir);
	if (bn_mkdirs(d) < 0)
		bn_die("cannot create %s: %s", d, strerror(errno));
	snprintf(pki->dir, sizeof(pki->dir), "%s", d);
#define P(field, name) snprintf(pki->field, sizeof(pki->field), "%s/%s", d, name)
	P(server_crt, "server.crt");
	P(server_key, "server.key");
	P(dh_pem, "dh1024.pem");
	P(client_root, "client-root.crt");
	P(prov_root, "prov-root.crt");
#undef P
	snprintf(path, sizeof(path), "%s/client-root.key", d);
	if (access(pki->server_key, R_OK) < 0 || access(path, R_OK) < 0)
		make_roots(pki, d);
	if (access(pki->dh_pem, R_OK) < 0)
		write_dh(pki);
	for (int i = 0; i < BN_KEY_POOL; i++) {
		snprintf(path, sizeof(path), "%s/phone-key-%02d.pem", d, i);
		if (gnutls_load_file(path, &pki->key_pem[i]) < 0)
			bn_die("cannot read %s", path);
	}
	pki->phone_der = calloc(n, sizeof(*pki->phone_der));
	if (pki->phone_der == NULL)
		bn_die("out of memory");
	snprintf(path, sizeof(path), "%s/phones.der", d);
	have = load_phones(pki, path, n);
	pki->n_phones = n;
	if (have >= n)
		return 0;
	fprintf(stderr, "spaprov-bench: issuing %zu phone certificates\n",
		n - have);
	snprintf(path, sizeof(path), "%s/client-root.crt", d);
	{
		char kp[BN_MAX_PATH + 32];

		snprintf(kp, sizeof(kp), "%s/client-root.key", d);
		if (load_ca(path, kp, &root) < 0)
			bn_die("cannot load the bench client root in %s", d);
	}
	for (int i = 0; i < BN_KEY_POOL; i++) {
		ck(gnutls_x509_privkey_init(&keys[i]), "key init");
		ck(gnutls_x509_privkey_import(keys[i], &pki->key_pem[i],
					      GNUTLS_X509_FMT_PEM),
		   "phone key");
	}
	{
		pthread_t th[BN_PKI_GEN_THREADS];
		struct gen_job jobs[BN_PKI_GEN_THREADS];

		for (int t = 0; t < BN_PKI_GEN_THREADS; t++) {
			jobs[t] = (struct gen_job){ pki, &root, keys,
						    have + (size_t)t, n,
						    BN_PKI_GEN_THREADS };
			if (pthread_create(&th[t], NULL, gen_phones,
					   &jobs[t]) != 0)
				bn_die("pthread_create");
		}
		for (int t = 0; t < BN_PKI_GEN_THREADS; t++)
			pthread_join(th[t], NULL);
	}
	snprintf(path, sizeof(path), "%s/phones.der", d);
	save_phones(pki, path);
	for (int i = 0; i < BN_KEY_POOL; i++)
		gnutls_x509_privkey_deinit(keys[i]);
	gnutls_x509_crt_deinit(root.crt);
	gnutls_x509_privkey_deinit(root.key);
	return 0;
}

void bn_pki_free(struct bn_pki *pki)
{
	for (size_t i = 0; pki->phone_der != NULL && i < pki->n_phones; i++)
		gnutls_free(pki->phone_der[i].data);
	free(pki->phone_der);
	for (int i = 0; i < BN_KEY_POOL; i++)
		gnutls_free(pki->key_pem[i].data);
	memset(pki, 0, sizeof(*pki));
}
