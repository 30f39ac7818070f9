/* trust: client-certificate chain verification (see trust.h).
 *
 * The roots live in one gnutls_x509_trust_list_t.  GnuTLS finds a
 * certificate's issuer by DN and then checks the signature with the
 * issuer's key, so a root that merely copies a Cisco DN is no help to a
 * forger: its children fail with "signer-not-found" or "signature-failure".
 * The verification flags admit what field chains look like (DOMAIN.md
 * s.2 and s.6): SHA-1 and MD5 signatures, X.509 v1 CA certificates and,
 * unless time checks are wanted, expired roots and leaves. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ident/trust.h"

#define TRUST_MAX_FILE (4 * 1024 * 1024) /* bytes in one PEM bundle */
#define TRUST_MAX_ROOTS 1024             /* certificates in one bundle */

struct trust {
	gnutls_x509_trust_list_t list;
	size_t count;
	unsigned flags; /* gnutls_certificate_verify_flags */
};

static void trust_fail(char **err, const char *file, const char *reason)
{
	size_t len = strlen(file) + strlen(reason) + 3;

	*err = malloc(len);
	if (*err != NULL)
		snprintf(*err, len, "%s: %s", file, reason);
}

/* Read FILE whole (at most TRUST_MAX_FILE bytes) into a malloc'd datum. */
static int trust_read(const char *file, gnutls_datum_t *out, char **err)
{
	unsigned char *buf = NULL;
	FILE *f = NULL;
	size_t len;
	int ret = -1;

	f = fopen(file, "rb");
	if (f == NULL) {
		trust_fail(err, file, strerror(errno));
		goto out;
	}
	buf = malloc(TRUST_MAX_FILE + 1);
	if (buf == NULL) {
		trust_fail(err, file, "out of memory");
		goto out;
	}
	len = fread(buf, 1, TRUST_MAX_FILE + 1, f);
	if (ferror(f) || len > TRUST_MAX_FILE) {
		trust_fail(err, file, ferror(f) ? "read error" : "file too large");
		goto out;
	}
	out->data = buf;
	out->size = (unsigned)len;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return ret;
}

/* Add every certificate of the PEM bundle FILE to T's list. */
static int trust_add_file(struct trust *t, const char *file, char **err)
{
	gnutls_x509_crt_t *crts = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	unsigned n = 0;
	int ret = -1, gret;

	if (trust_read(file, &pem, err) != 0)
		return -1;
	gret = gnutls_x509_crt_list_import2(&crts, &n, &pem,
					    GNUTLS_X509_FMT_PEM, 0);
	if (gret == GNUTLS_E_NO_CERTIFICATE_FOUND || (gret >= 0 && n == 0)) {
		trust_fail(err, file, "no certificate found");
		goto out;
	}
	if (gret < 0) {
		trust_fail(err, file, gnutls_strerror(gret));
		goto out;
	}
	if (n > TRUST_MAX_ROOTS) {
		trust_fail(err, file, "too many certificates");
		goto out;
	}
	/* The list owns the certificates from here on, even when it fails
	 * part way (then it may hold some): never free them here. */
	gret = gnutls_x509_trust_list_add_cas(t->list, crts, n, 0);
	n = 0;
	if (gret < 0) {
		trust_fail(err, file, gnutls_strerror(gret));
		goto out;
	}
	t->count += (size_t)gret;
	ret = 0;
out:
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	free(pem.data);
	return ret;
}

int trust_load(const char *const *files, size_t n_files, int time_check,
	       struct trust **out, char **err)
{
	struct trust *t;
	int ret = -1, gret;

	*out = NULL;
	*err = NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		trust_fail(err, "trust", "out of memory");
		return -1;
	}
	gret = gnutls_x509_trust_list_init(&t->list, 0);
	if (gret < 0) {
		trust_fail(err, "trust", gnutls_strerror(gret));
		goto out;
	}
	for (size_t i = 0; i < n_files; i++)
		if (trust_add_file(t, files[i], err) != 0)
			goto out;
	t->flags = GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 |
		   GNUTLS_VERIFY_ALLOW_SIGN_RSA_MD5 | GNUTLS_VERIFY_ALLOW_BROKEN |
		   GNUTLS_VERIFY_ALLOW_ANY_X509_V1_CA_CRT;
	if (!time_check)
		t->flags |= GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
			    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS;
	*out = t;
	t = NULL;
	ret = 0;
out:
	trust_free(t);
	return ret;
}

void trust_free(struct trust *t)
{
	if (t == NULL)
		return;
	if (t->list != NULL)
		gnutls_x509_trust_list_deinit(t->list, 1);
	free(t);
}

size_t trust_count(const struct trust *t)
{
	return t != NULL ? t->count : 0;
}

/* One reason for a failed verification, most telling first: a wrong or
 * missing signer matters more than dates. */
static const char *trust_reason(unsigned status)
{
	static const struct {
		unsigned bit;
		const char *reason;
	} map[] = {
		{ GNUTLS_CERT_SIGNER_NOT_FOUND, "signer-not-found" },
		{ GNUTLS_CERT_SIGNATURE_FAILURE, "signature-failure" },
		{ GNUTLS_CERT_INSECURE_ALGORITHM, "insecure-algorithm" },
		{ GNUTLS_CERT_SIGNER_NOT_CA, "signer-not-ca" },
		{ GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE, "signer-constraints" },
		{ GNUTLS_CERT_REVOKED, "revoked" },
		{ GNUTLS_CERT_EXPIRED, "expired" },
		{ GNUTLS_CERT_NOT_ACTIVATED, "not-activated" },
		{ GNUTLS_CERT_PURPOSE_MISMATCH, "purpose-mismatch" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (status & map[i].bit)
			return map[i].reason;
	return "invalid";
}

int trust_verify_crts(const struct trust *t, gnutls_x509_crt_t *crts,
		      size_t n, const char **reason)
{
	unsigned status = 0;

	*reason = "malformed";
	if (t == NULL || crts == NULL || n == 0)
		return -1;
	if (n > TRUST_MAX_CHAIN) {
		*reason = "chain-too-long";
		return -1;
	}
	if (gnutls_x509_trust_list_verify_crt2(t->list, crts, (unsigned)n,
					       NULL, 0, t->flags, &status,
					       NULL) < 0) {
		*reason = "invalid";
		return -1;
	}
	if (status != 0) {
		*reason = trust_reason(status);
		return -1;
	}
	*reason = "ok";
	return 0;
}

int trust_verify(const struct trust *t, const gnutls_datum_t *chain,
		 size_t n, const char **reason)
{
	gnutls_x509_crt_t crts[TRUST_MAX_CHAIN] = { NULL };
	size_t i;
	int ret = -1;

	*reason = "malformed";
	if (t == NULL || chain == NULL || n == 0)
		return -1;
	if (n > TRUST_MAX_CHAIN) {
		*reason = "chain-too-long";
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (gnutls_x509_crt_init(&crts[i]) < 0 ||
		    gnutls_x509_crt_import(crts[i], &chain[i],
					   GNUTLS_X509_FMT_DER) < 0)
			goto out;
	}
	ret = trust_verify_crts(t, crts, n, reason);
out:
	for (i = 0; i < n; i++)
		if (crts[i] != NULL)
			gnutls_x509_crt_deinit(crts[i]);
	return ret;
}
