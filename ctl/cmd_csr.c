#include "config.h"

/* spaprovctl csr: a private key and a PKCS#10 request for a provisioning
 * server certificate, to be signed by Cisco (ca/README.md).  The subject
 * CN must be the exact host name the phones use (DOMAIN.md s.1). */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ctl/ctl.h"
#include "ctl/fqdn.h"

#define CSR_MAX_CN 64       /* X.520 upper bound of a common name */
#define CSR_MAX_ORG 64      /* X.520 upper bound of an organization name */
#define CSR_MAX_PATH 4096   /* DIR/FQDN.key */
#define CSR_DEFAULT_BITS 2048

struct csr_opts {
	const char *cn, *dir, *org;
	char country[3];
	unsigned bits;
};

static void csr_usage(FILE *f)
{
	fprintf(f, "Usage: spaprovctl csr --cn FQDN [--bits 1024|2048] "
		   "[--out DIR] [--org O]\n                      "
		   "[--country CC]\n"
		   "Make a private key and a certificate signing request "
		   "(PKCS#10) for a\nprovisioning server: DIR/FQDN.key (mode "
		   "0600, never overwritten) and\nDIR/FQDN.csr.\n"
		   "  --cn FQDN       the exact host name phones use (no "
		   "wildcard, no IP address)\n"
		   "  --bits N        RSA key size, 1024 (what the guides "
		   "use) or 2048 (default;\n                  fine on "
		   "current firmware)\n"
		   "  --out DIR       where to write (default: the current "
		   "directory)\n"
		   "  --org O         organization in the subject\n"
		   "  --country CC    two-letter country code in the subject\n"
		   "The request is signed with SHA-256; that only proves you "
		   "hold the key.\nCisco's signing portal signs the "
		   "certificate with whatever hash it is\nasked for: ask for "
		   "SHA-1 for listeners that old firmware (7.5.x) uses.\n");
}

static int csr_parse_opts(int argc, char **argv, struct csr_opts *o,
			  int *help)
{
	static const struct option opts[] = {
		{ "cn", required_argument, NULL, 'n' },
		{ "bits", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "org", required_argument, NULL, 'O' },
		{ "country", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *country = NULL;
	int ch;

	optind = 0;   /* re-initialise getopt: main() parsed with "+" */
	while ((ch = getopt_long(argc, argv, "n:b:o:O:C:h", opts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'n': o->cn = optarg; break;
		case 'o': o->dir = optarg; break;
		case 'O': o->org = optarg; break;
		case 'C': country = optarg; break;
		case 'b':
			if (strcmp(optarg, "1024") != 0 &&
			    strcmp(optarg, "2048") != 0) {
				ctl_err("csr: --bits must be 1024 or 2048");
				return CTL_INVALID;
			}
			o->bits = (unsigned)atoi(optarg);
			break;
		case 'h': csr_usage(stdout); *help = 1; return CTL_OK;
		default: csr_usage(stderr); return CTL_USAGE;
		}
	}
	if (optind != argc || o->cn == NULL) {
		csr_usage(stderr);
		return CTL_USAGE;
	}
	if (country != NULL) {
		if (strlen(country) != 2 || strspn(country,
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
			!= 2) {
			ctl_err("csr: --country must be two letters (ISO "
				"3166), not '%s'", country);
			return CTL_INVALID;
		}
		o->country[0] = (char)(country[0] & ~0x20);
		o->country[1] = (char)(country[1] & ~0x20);
	}
	return CTL_OK;
}

static int csr_check_names(const struct csr_opts *o)
{
	const char *why = NULL;

	if (!ctl_fqdn_valid(o->cn, &why)) {
		ctl_err("csr: --cn '%s' %s", o->cn, why);
		return CTL_INVALID;
	}
	if (strlen(o->cn) > CSR_MAX_CN) {
		ctl_err("csr: --cn '%s' is longer than %d characters, the "
			"limit of a certificate CN", o->cn, CSR_MAX_CN);
		return CTL_INVALID;
	}
	if (o->org != NULL) {
		size_t len = strlen(o->org);

		for (size_t i = 0; i < len; i++) {
			if ((unsigned char)o->org[i] < 0x20 ||
			    o->org[i] == 0x7f) {
				ctl_err("csr: --org contains a control "
					"character");
				return CTL_INVALID;
			}
		}
		if (len == 0 || len > CSR_MAX_ORG) {
			ctl_err("csr: --org must be 1 to %d characters",
				CSR_MAX_ORG);
			return CTL_INVALID;
		}
	}
	return CTL_OK;
}

/* Key and signed request, both PEM. */
static int csr_make(const struct csr_opts *o, gnutls_datum_t *key_pem,
		    gnutls_datum_t *csr_pem, char **err)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crq_t crq = NULL;
	const char *step = "key generation";
	int rc;

	if ((rc = gnutls_x509_privkey_init(&key)) < 0 ||
	    (rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA, o->bits,
					       0)) < 0)
		goto out;
	step = "request";
	if ((rc = gnutls_x509_crq_init(&crq)) < 0 ||
	    (rc = gnutls_x509_crq_set_version(crq, 1)) < 0 ||
	    (o->country[0] && (rc = gnutls_x509_crq_set_dn_by_oid(crq,
			GNUTLS_OID_X520_COUNTRY_NAME, 0, o->country, 2)) < 0) ||
	    (o->org && (rc = gnutls_x509_crq_set_dn_by_oid(crq,
			GNUTLS_OID_X520_ORGANIZATION_NAME, 0, o->org,
			(unsigned)strlen(o->org))) < 0) ||
	    (rc = gnutls_x509_crq_set_dn_by_oid(crq,
			GNUTLS_OID_X520_COMMON_NAME, 0, o->cn,
			(unsigned)strlen(o->cn))) < 0 ||
	    (rc = gnutls_x509_crq_set_subject_alt_name(crq, GNUTLS_SAN_DNSNAME,
			o->cn, (unsigned)strlen(o->cn), GNUTLS_FSAN_SET)) < 0 ||
	    (rc = gnutls_x509_crq_set_key(crq, key)) < 0)
		goto out;
	step = "signing";
	if ((rc = gnutls_x509_crq_sign2(crq, key, GNUTLS_DIG_SHA256, 0)) < 0)
		goto out;
	step = "export";
	if ((rc = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_PEM,
					  csr_pem)) < 0 ||
	    (rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM,
					      key_pem)) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0 && asprintf(err, "%s failed: %s", step,
			       gnutls_strerror(rc)) < 0)
		*err = NULL;
	gnutls_x509_crq_deinit(crq);
	gnutls_x509_privkey_deinit(key);
	return rc < 0 ? -1 : 0;
}

static int write_all(int fd, const gnutls_datum_t *d)
{
	size_t off = 0;
	ssize_t w;

	while (off < d->size) {
		w = write(fd, d->data + off, d->size - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* Write a whole file with exactly `mode`; with `excl` never replace one.
 * On failure the file is removed and errno tells why. */
static int write_file(const char *path, const gnutls_datum_t *d, mode_t mode,
		      int excl)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
				    (excl ? O_EXCL : O_TRUNC), mode);
	int saved;

	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) < 0 || write_all(fd, d) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		return -1;
	}
	if (close(fd) < 0) {
		saved = errno;
		unlink(path);
		errno = saved;
		return -1;
	}
	return 0;
}

static void csr_next_steps(const struct csr_opts *o, const char *key_path,
			   const char *csr_path)
{
	printf("private key: %s (mode 0600; keep it on this host)\n"
	       "request:     %s (CN=%s, RSA %u bits, signed SHA-256)\n\n"
	       "Next steps:\n"
	       "  1. Submit %s to Cisco's certificate signing portal for "
	       "the\n     provisioning CA your phones need (sipura, linksys, "
	       "sb, sb2k or mpp;\n     see ca/README.md). Ask for a SHA-1 "
	       "signature for listeners that\n     old firmware uses "
	       "(sipura, linksys, sb).\n"
	       "  2. Install the signed certificate as `certificate` of a "
	       "[listener] with\n     that `ca`, and `key = %s`.\n"
	       "  3. Run `spaprovctl check`.\n",
	       key_path, csr_path, o->cn, o->bits, csr_path, key_path);
}

int cmd_csr(struct ctl *ctl, int argc, char **argv)
{
	struct csr_opts o = { .dir = ".", .bits = CSR_DEFAULT_BITS };
	gnutls_datum_t key = { 0 }, req = { 0 };
	char key_path[CSR_MAX_PATH], csr_path[CSR_MAX_PATH], *err = NULL;
	int rc, help = 0, n1, n2;

	(void)ctl;
	if ((rc = csr_parse_opts(argc, argv, &o, &help)) != CTL_OK || help)
		return rc;
	if ((rc = csr_check_names(&o)) != CTL_OK)
		return rc;
	rc = CTL_INVALID;
	n1 = snprintf(key_path, sizeof(key_path), "%s/%s.key", o.dir, o.cn);
	n2 = snprintf(csr_path, sizeof(csr_path), "%s/%s.csr", o.dir, o.cn);
	if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof(key_path) ||
	    (size_t)n2 >= sizeof(csr_path)) {
		ctl_err("csr: --out: path too long");
		goto out;
	}
	/* Checked again by O_EXCL; this only spares the key generation. */
	if (access(key_path, F_OK) == 0) {
		ctl_err("csr: %s exists: refusing to overwrite a key",
			key_path);
		goto out;
	}
	if (csr_make(&o, &key, &req, &err) < 0) {
		ctl_err("csr: %s", err ? err : "failed");
		goto out;
	}
	if (write_file(key_path, &key, 0600, 1) < 0) {
		if (errno == EEXIST)
			ctl_err("csr: %s exists: refusing to overwrite a key",
				key_path);
		else
			ctl_err("csr: %s: %s", key_path, strerror(errno));
		goto out;
	}
	if (write_file(csr_path, &req, 0644, 0) < 0) {
		ctl_err("csr: %s: %s", csr_path, strerror(errno));
		unlink(key_path);
		goto out;
	}
	csr_next_steps(&o, key_path, csr_path);
	rc = CTL_OK;
out:
	if (key.data != NULL)
		gnutls_memset(key.data, 0, key.size);
	gnutls_free(key.data);
	gnutls_free(req.data);
	free(err);
	return rc;
}
