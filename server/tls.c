#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "server/tls.h"

#define TLS_MAX_PEM (256u * 1024) /* certificate, key or DH file */

/* Legacy listeners admit what old firmware speaks (DOMAIN.md s.3, s.6):
 * TLS 1.0-1.2, RSA and DHE-RSA, AES-CBC-SHA1, 3DES, RC4 with SHA1 and MD5.
 * -GROUP-DH-ALL stops GnuTLS from replacing our 1024-bit DH parameters by
 * the RFC 7919 2048-bit group; %COMPAT tolerates old clients' quirks.
 * Safe renegotiation is not required (clients without RFC 5746 connect);
 * the server never renegotiates. */
static const char *const default_priority[CONF_CA__COUNT] = {
	[CONF_CA_SIPURA] = "NORMAL:-GROUP-DH-ALL:+VERS-TLS1.0:+VERS-TLS1.1:"
			   "+ARCFOUR-128:+3DES-CBC:+MD5:+SHA1:%COMPAT",
	[CONF_CA_LINKSYS] = "NORMAL:-GROUP-DH-ALL:+VERS-TLS1.0:+VERS-TLS1.1:"
			    "+ARCFOUR-128:+3DES-CBC:+MD5:+SHA1:%COMPAT",
	[CONF_CA_SB] = "NORMAL:-GROUP-DH-ALL:+VERS-TLS1.0:+VERS-TLS1.1:"
		       "+ARCFOUR-128:+3DES-CBC:+MD5:+SHA1:%COMPAT",
	/* SPA5xx >= 7.5.6 and SPA1xx >= 1.3.3 still speak TLS 1.0 with
	 * AES-CBC-SHA1, but no longer need RC4 or 3DES. */
	[CONF_CA_SB2K] = "NORMAL:-GROUP-DH-ALL:+VERS-TLS1.0:+VERS-TLS1.1:"
			 "+SHA1:%COMPAT",
	/* Multiplatform phones speak TLS 1.2. */
	[CONF_CA_MPP] = "NORMAL:-GROUP-DH-ALL:-VERS-TLS1.0:-VERS-TLS1.1",
};

/* RFC 2409 group 2: the 1024-bit MODP group (a safe prime, generator 2). */
static const unsigned char modp1024_prime[] = {
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2,
	0x21, 0x68, 0xC2, 0x34, 0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1,
	0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74, 0x02, 0x0B, 0xBE, 0xA6,
	0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD,
	0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D,
	0xF2, 0x5F, 0x14, 0x37, 0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45,
	0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6, 0xF4, 0x4C, 0x42, 0xE9,
	0xA6, 0x37, 0xED, 0x6B, 0x0B, 0xFF, 0x5C, 0xB6, 0xF4, 0x06, 0xB7, 0xED,
	0xEE, 0x38, 0x6B, 0xFB, 0x5A, 0x89, 0x9F, 0xA5, 0xAE, 0x9F, 0x24, 0x11,
	0x7C, 0x4B, 0x1F, 0xE6, 0x49, 0x28, 0x66, 0x51, 0xEC, 0xE6, 0x53, 0x81,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};
static const unsigned char generator2[] = { 0x02 };

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

const char *tls_default_priority(enum conf_ca ca)
{
	return default_priority[ca];
}

int tls_read_file(const char *path, size_t limit, char **out, size_t *len,
		  char **err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (f == NULL) {
		*err = fmt("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(limit + 1);
	if (buf == NULL) {
		fclose(f);
		*err = fmt("out of memory");
		return -1;
	}
	n = fread(buf, 1, limit + 1, f);
	if (ferror(f) || n > limit) {
		*err = ferror(f) ? fmt("cannot read %s: %s", path,
				       strerror(errno))
				 : fmt("%s is larger than %u bytes", path,
				       (unsigned)limit);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	if (len != NULL)
		*len = n;
	return 0;
}

/* PEM PKCS#3 of the DH group with a prime of `bits`: well-known groups
 * where they exist, generated ones otherwise. */
static int dh_for_bits(unsigned bits, char **pem, char **err)
{
	gnutls_dh_params_t dh = NULL;
	gnutls_datum_t p = { 0 }, g = { (unsigned char *)generator2, 1 };
	gnutls_datum_t out = { 0 };
	int rc, result = -1;

	gnutls_dh_params_init(&dh);
	if (bits == 1024) {
		p.data = (unsigned char *)modp1024_prime;
		p.size = sizeof(modp1024_prime);
	} else if (bits == 2048) {
		p = gnutls_ffdhe_2048_group_prime;
		g = gnutls_ffdhe_2048_group_generator;
	} else if (bits == 3072) {
		p = gnutls_ffdhe_3072_group_prime;
		g = gnutls_ffdhe_3072_group_generator;
	} else if (bits == 4096) {
		p = gnutls_ffdhe_4096_group_prime;
		g = gnutls_ffdhe_4096_group_generator;
	}
	if (p.data != NULL)
		rc = gnutls_dh_params_import_raw(dh, &p, &g);
	else
		rc = gnutls_dh_params_generate2(dh, bits);
	if (rc < 0 || (rc = gnutls_dh_params_export2_pkcs3(
			       dh, GNUTLS_X509_FMT_PEM, &out)) < 0) {
		*err = fmt("cannot make %u-bit DH parameters: %s", bits,
			   gnutls_strerror(rc));
		goto out;
	}
	*pem = strndup((const char *)out.data, out.size);
	result = *pem != NULL ? 0 : -1;
out:
	gnutls_free(out.data);
	gnutls_dh_params_deinit(dh);
	return result;
}

/* Bits of a big-endian integer (the export's third value is the private
 * exponent size, not the prime's). */
static unsigned prime_bits(const gnutls_datum_t *p)
{
	unsigned i = 0, bits;

	while (i < p->size && p->data[i] == 0)
		i++;
	if (i == p->size)
		return 0;
	bits = (p->size - i) * 8;
	for (unsigned char top = p->data[i]; !(top & 0x80); top <<= 1)
		bits--;
	return bits;
}

static int dh_file(const char *path, char **pem, unsigned *bits, char **err)
{
	gnutls_dh_params_t dh = NULL;
	gnutls_datum_t d, p = { 0 }, g = { 0 };
	unsigned pbits = 0;
	int rc;

	if (tls_read_file(path, TLS_MAX_PEM, pem, NULL, err) < 0)
		return -1;
	d.data = (unsigned char *)*pem;
	d.size = (unsigned)strlen(*pem);
	gnutls_dh_params_init(&dh);
	rc = gnutls_dh_params_import_pkcs3(dh, &d, GNUTLS_X509_FMT_PEM);
	if (rc >= 0)
		rc = gnutls_dh_params_export_raw(dh, &p, &g, NULL);
	if (rc >= 0)
		pbits = prime_bits(&p);
	gnutls_free(p.data);
	gnutls_free(g.data);
	gnutls_dh_params_deinit(dh);
	if (rc < 0) {
		*err = fmt("%s: not PKCS#3 DH parameters: %s", path,
			   gnutls_strerror(rc));
		free(*pem);
		*pem = NULL;
		return -1;
	}
	*bits = pbits;
	return 0;
}

/* The certificate parses and the key is the one it certifies. */
static int check_cert_key(const struct tls_material *m, const char *cert_path,
			  const char *key_path, char **err, int *which)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t d;
	unsigned char id_crt[64], id_key[64];
	size_t n_crt = sizeof(id_crt), n_key = sizeof(id_key);
	int rc, result = -1;

	gnutls_x509_crt_init(&crt);
	gnutls_x509_privkey_init(&key);
	d.data = (unsigned char *)m->cert_pem;
	d.size = (unsigned)strlen(m->cert_pem);
	*which = 0;
	if ((rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM)) < 0) {
		*err = fmt("%s: not a PEM certificate: %s", cert_path,
			   gnutls_strerror(rc));
		goto out;
	}
	*which = 1;
	d.data = (unsigned char *)m->key_pem;
	d.size = (unsigned)strlen(m->key_pem);
	if ((rc = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM,
					      NULL, 0)) < 0) {
		*err = fmt("%s: not a PEM private key (or encrypted): %s",
			   key_path, gnutls_strerror(rc));
		goto out;
	}
	if (gnutls_x509_crt_get_key_id(crt, 0, id_crt, &n_crt) < 0 ||
	    gnutls_x509_privkey_get_key_id(key, 0, id_key, &n_key) < 0 ||
	    n_crt != n_key || memcmp(id_crt, id_key, n_crt) != 0) {
		*err = fmt("%s does not match the certificate %s", key_path,
			   cert_path);
		goto out;
	}
	result = 0;
out:
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return result;
}

static int check_priority(const char *prio, char **err)
{
	gnutls_priority_t p = NULL;
	const char *where = NULL;
	int rc = gnutls_priority_init(&p, prio, &where);

	if (rc < 0) {
		*err = fmt("invalid GnuTLS priority string at \"%.40s\": %s",
			   where ? where : prio, gnutls_strerror(rc));
		return -1;
	}
	gnutls_priority_deinit(p);
	return 0;
}

static int located(const struct conf *conf, int line, const char *key,
		   char **err)
{
	char *inner = *err;

	*err = fmt("%s:%d: %s: %s", conf->path, line, key, inner);
	free(inner);
	return -1;
}

int tls_material_load(const struct conf *conf, const struct conf_listener *l,
		      struct tls_material *m, char **err)
{
	int which = 0;

	memset(m, 0, sizeof(*m));
	m->priority = strdup(l->tls_priority ? l->tls_priority
					     : default_priority[l->ca]);
	if (m->priority == NULL)
		goto nomem;
	if (check_priority(m->priority, err) < 0) {
		located(conf, l->line_priority ? l->line_priority
					       : l->line_section,
			"tls_priority", err);
		goto fail;
	}
	if (tls_read_file(l->certificate, TLS_MAX_PEM, &m->cert_pem, NULL,
			  err) < 0) {
		located(conf, l->line_certificate, "certificate", err);
		goto fail;
	}
	if (tls_read_file(l->key, TLS_MAX_PEM, &m->key_pem, NULL, err) < 0) {
		located(conf, l->line_key, "key", err);
		goto fail;
	}
	if (check_cert_key(m, l->certificate, l->key, err, &which) < 0) {
		located(conf, which ? l->line_key : l->line_certificate,
			which ? "key" : "certificate", err);
		goto fail;
	}
	if (l->dh_params != NULL) {
		if (dh_file(l->dh_params, &m->dh_pem, &m->dh_bits, err) < 0) {
			located(conf, l->line_dh, "dh_params", err);
			goto fail;
		}
	} else {
		m->dh_bits = l->dh_bits ? l->dh_bits : 1024;
		if (dh_for_bits(m->dh_bits, &m->dh_pem, err) < 0) {
			located(conf, l->line_dh ? l->line_dh : l->line_section,
				"dh_bits", err);
			goto fail;
		}
	}
	return 0;
nomem:
	*err = fmt("out of memory");
fail:
	tls_material_free(m);
	return -1;
}

void tls_material_free(struct tls_material *m)
{
	free(m->cert_pem);
	free(m->key_pem);
	free(m->dh_pem);
	free(m->priority);
	memset(m, 0, sizeof(*m));
}
