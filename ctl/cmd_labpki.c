#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/labpki.h"
#include "ctl/ctl.h"

#define DEFAULT_CISCO_ROOT SPAPROV_PKGDATADIR "/cisco-sb-client-root-2.pem"

static void lab_usage(FILE *f)
{
	fprintf(f, "Usage: spaprovctl lab-pki DIR [--fqdn NAME] "
		   "[--cisco-root FILE]\n"
		   "Write a complete lab PKI imitating the field's "
		   "certificates into DIR:\nprovisioning roots, one server "
		   "certificate per CA, quirky client roots,\nphone "
		   "certificates, a generic and an impostor certificate. "
		   "For tests and\ndemos only. See DIR/README.txt.\n"
		   "  --fqdn NAME        server certificate CN (default "
		   "prov.spaprov.test)\n"
		   "  --cisco-root FILE  the real Cisco SB Client Root "
		   "Authority 2, whose DN the\n                     impostor "
		   "copies (default %s)\n", DEFAULT_CISCO_ROOT);
}

int cmd_lab_pki(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fqdn", required_argument, NULL, 'f' },
		{ "cisco-root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct labpki_opts lo = { .fqdn = "prov.spaprov.test",
				  .cisco_root = DEFAULT_CISCO_ROOT };
	char *err = NULL;
	int ch;

	(void)ctl;
	optind = 0; /* glibc: fully reset getopt, including the "+" mode */
	while ((ch = getopt_long(argc, argv, "f:r:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': lo.fqdn = optarg; break;
		case 'r': lo.cisco_root = optarg; break;
		case 'h': lab_usage(stdout); return CTL_OK;
		default: lab_usage(stderr); return CTL_USAGE;
		}
	}
	if (optind + 1 != argc) {
		lab_usage(stderr);
		return CTL_USAGE;
	}
	if (labpki_make(argv[optind], &lo, &err) < 0) {
		ctl_err("lab-pki: %s", err ? err : "failed");
		free(err);
		return CTL_INVALID;
	}
	printf("lab PKI written to %s (see %s/README.txt)\n", argv[optind],
	       argv[optind]);
	return CTL_OK;
}
