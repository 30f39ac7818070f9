/* labpki: make a complete lab PKI that imitates the field's quirks, for
 * tests, benchmarks and the README demo.  Never for production.
 *
 * Layout written under DIR (created if missing; keys mode 0600):
 *   provisioning/<ca>-root.crt            five provisioning roots, CN as
 *                                         Cisco's (DOMAIN.md s.1), O marks lab
 *   server/<ca>.crt, server/<ca>.key      one server certificate per CA,
 *                                         CN = SAN = fqdn; sipura/linksys
 *                                         1024-bit SHA-1, sb/sb2k 2048-bit
 *                                         SHA-1, mpp 2048-bit SHA-256
 *   client-roots.pem                      bundle of the lab client roots
 *   client-roots/<name>.crt               each lab client root:
 *       sipura-client-root-1  X.509 v1, MD5-signed
 *       sb-client-root-1      SHA-1, expired
 *       mpp-client-root       SHA-256
 *   client-roots/v1-intermediate.crt      X.509 v1 CA under sb-client-root-1
 *                                         (sent by the phone in its chain)
 *   phones/<mac>.crt, phones/<mac>.key    phone certificates (.crt holds the
 *                                         chain the phone sends, leaf first)
 *   phones/phones.csv                     mac,product,serial,layout,user_agent
 *   generic/generic.crt, .key             "ciscogeneric" certificate
 *   impostor/root.crt                     same DN as the real Cisco SB client
 *                                         root 2, other key
 *   impostor/phone.crt, .key              a phone signed by the impostor
 *   README.txt                            which file goes where
 * Provisioning <ca> names: sipura linksys sb sb2k mpp (conf_ca_name()). */
#ifndef SPAPROV_LABPKI_H
#define SPAPROV_LABPKI_H

struct labpki_opts {
	const char *fqdn;        /* server CN; default "prov.spaprov.test" */
	const char *cisco_root;  /* PEM of the real Cisco SB Client Root
				    Authority 2, whose DN the impostor copies */
};

/* Returns 0, or -1 with *err = malloc'd reason. */
int labpki_make(const char *dir, const struct labpki_opts *opts, char **err);

#endif
