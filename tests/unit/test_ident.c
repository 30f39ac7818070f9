#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "ident/ident.h"

#define OID_C "2.5.4.6"
#define OID_CN "2.5.4.3"
#define OID_SN "2.5.4.4"
#define OID_L "2.5.4.7"
#define OID_ST "2.5.4.8"
#define OID_O "2.5.4.10"
#define OID_OU "2.5.4.11"

#define BIG 10240

static const char *const DEV = "0022bd010203";
static const unsigned char CERT_SERIAL[] = { 0x01, 0xab, 0xcd, 0xef };

/* One key for every certificate of this process (RSA generation is slow). */
static gnutls_x509_privkey_t key;

struct rdn {
	const char *oid;
	const void *val;
	size_t len;
	int raw; /* val is the DER of the value */
};

#define RDN(oid, s) { oid, s, sizeof(s) - 1, 0 }
#define RAW(oid, s) { oid, s, sizeof(s) - 1, 1 }
#define N(a) (sizeof(a) / sizeof((a)[0]))

static gnutls_x509_crt_t crt_new(const struct rdn *rdns, size_t n,
				 gnutls_x509_crt_t issuer)
{
	gnutls_x509_crt_t crt;

	ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_version(crt, 3), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_serial(crt, CERT_SERIAL,
						    sizeof(CERT_SERIAL)), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_activation_time(crt, 1136073600), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(crt, 2051222400), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key(crt, key), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(gnutls_x509_crt_set_dn_by_oid(crt, rdns[i].oid,
				 rdns[i].raw, rdns[i].val, (unsigned)rdns[i].len), 0);
	ck_assert_int_eq(gnutls_x509_crt_sign2(crt, issuer ? issuer : crt, key,
					       GNUTLS_DIG_SHA256, 0), 0);
	return crt;
}

static gnutls_datum_t der_of(gnutls_x509_crt_t crt)
{
	gnutls_datum_t d = { NULL, 0 };

	ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &d), 0);
	return d;
}

/* Identify a certificate (self-signed, or signed by `issuer`) both from
 * DER and from the parsed object, check that both agree, and return the
 * result in *id. */
static enum ident_status ident_of_signed(const struct rdn *rdns, size_t n,
					 gnutls_x509_crt_t issuer,
					 struct ident *id)
{
	gnutls_x509_crt_t crt = crt_new(rdns, n, issuer);
	gnutls_datum_t d = der_of(crt);
	struct ident id2;
	char *err = NULL;
	enum ident_status st, st2;

	memset(id, 0x5a, sizeof(*id));
	st = ident_from_der(d.data, d.size, id, &err);
	ck_assert_ptr_null(err);
	st2 = ident_from_crt(crt, &id2, &err);
	ck_assert_ptr_null(err);
	ck_assert_int_eq(st, st2);
	ck_assert_int_eq(memcmp(id, &id2, sizeof(id2)), 0);
	gnutls_free(d.data);
	gnutls_x509_crt_deinit(crt);
	return st;
}

static enum ident_status ident_of(const struct rdn *rdns, size_t n,
				  struct ident *id)
{
	return ident_of_signed(rdns, n, NULL, id);
}

static void assert_printable(const char *s, size_t size)
{
	ck_assert_uint_lt(strnlen(s, size), size);
	for (; *s != '\0'; s++)
		ck_assert_msg((unsigned char)*s >= 0x20 && *s != 0x7f,
			      "control byte 0x%02x", (unsigned char)*s);
}

/* --- layouts ------------------------------------------------------------- */

START_TEST(standard_layout)
{
	const struct rdn r[] = {
		RDN(OID_OU, "SPA-962"),
		RDN(OID_L, "88012BA01234"),
		RDN(OID_ST, "0022bd010203"),
	};
	struct ident id;

	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_OK);
	ck_assert_str_eq(id.mac, DEV);
	ck_assert_str_eq(id.serial, "88012BA01234");
	ck_assert_str_eq(id.product, "SPA-962");
	ck_assert_str_eq(id.subject, "ST=0022bd010203,L=88012BA01234,OU=SPA-962");
	ck_assert_str_eq(id.issuer, id.subject); /* self-signed */
	ck_assert_str_eq(id.cert_serial, "01abcdef");
}
END_TEST

START_TEST(mac_upper_case)
{
	const struct rdn r[] = {
		RDN(OID_OU, "CP-8841-3PCC"),
		RDN(OID_L, "FCH2145ABCD"),
		RDN(OID_ST, "0022BD010203"),
	};
	struct ident id;

	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_OK);
	ck_assert_str_eq(id.mac, DEV);
	ck_assert_str_eq(id.product, "CP-8841-3PCC");
	ck_assert_str_eq(id.serial, "FCH2145ABCD");
}
END_TEST

START_TEST(mac_with_colons)
{
	const struct rdn r[] = {
		RDN(OID_OU, "SPA-962"),
		RDN(OID_ST, "00:22:BD:01:02:03"),
	};
	struct ident id;

	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_OK);
	ck_assert_str_eq(id.mac, DEV);
	ck_assert_str_eq(id.serial, "");
}
END_TEST

START_TEST(spa525g2_layout)
{
	const struct rdn r[] = {
		RDN(OID_C, "US"),
		RDN(OID_ST, "0022bd010203"),
		RDN(OID_L, "CBT141900G7"),
		RDN(OID_O, "Cisco Systems, Inc."),
		RDN(OID_OU, "cisco.com"),
		RDN(OID_CN, "SPA-525G2, MAC: 0022bd010203, Serial: CBT141900G7"),
	};
	struct ident id;

	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_OK);
	ck_assert_str_eq(id.mac, DEV);
	ck_assert_str_eq(id.product, "SPA-525G2");
	ck_assert_str_eq(id.serial, "CBT141900G7");
	ck_assert_str_eq(id.subject,
			 "CN=SPA-525G2\\, MAC: 0022bd010203\\, Serial: CBT141900G7,"
			 "OU=cisco.com,O=Cisco Systems\\, Inc.,L=CBT141900G7,"
			 "ST=0022bd010203,C=US");
}
END_TEST

START_TEST(spa525g2_serial_from_cn)
{
	const struct rdn r[] = {
		RDN(OID_ST, "0022bd010203"),
		RDN(OID_OU, "Cisco.com"),
		RDN(OID_CN, "SPA-525G2, MAC: 0022bd010203, Serial: CBT141900G7"),
	};
	struct ident id;

	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_OK);
	ck_assert_str_eq(id.product, "SPA-525G2");
	ck_assert_str_eq(id.serial, "CBT141900G7");
}
END_TEST

START_TEST(surname_fallback)
{
	const struct rdn r[] = {
		RDN(OID_OU, "SPA-962"),
		RDN(OID_L, "88012BA01234"),
		RDN(OID_ST, "California"),
		RDN(OID_SN, "0022BD010203"),
		RDN(OID_CN, "X, MAC: 0022bd0a0b0c"),
	};
	const struct rdn r2[] = {
		RDN(OID_OU, "SPA-962"),
		RDN(OID_SN, " 00-22-bd-01-02-03 "),
	};
	struct ident id;

	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_OK);
	ck_assert_str_eq(id.mac, DEV);
	ck_assert_int_eq(ident_of(r2, N(r2), &id), IDENT_OK);
	ck_assert_str_eq(id.mac, DEV);
}
END_TEST

START_TEST(cn_fallback)
{
	const struct rdn r[] = {
		RDN(OID_OU, "cisco.com"),
		RDN(OID_L, "CBT141900G7"),
		RDN(OID_ST, "Texas"),
		RDN(OID_CN, "SPA-525G2, MAC: 00:22:BD:01:02:03, Serial: CBT141900G7"),
	};
	const struct rdn r2[] = {
		RDN(OID_CN, "SPA-525G2,mac:0022bd010203"),
	};
	const struct rdn bad[] = {
		RDN(OID_CN, "SPA-525G2, MAC: 0022bd010203X, Serial: 1"),
		RDN(OID_SN, "Smith"),
	};
	struct ident id;

	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_OK);
	ck_assert_str_eq(id.mac, DEV);
	ck_assert_str_eq(id.product, "SPA-525G2");
	ck_assert_int_eq(ident_of(r2, N(r2), &id), IDENT_OK);
	ck_assert_str_eq(id.mac, DEV);
	ck_assert_str_eq(id.product, "");
	ck_assert_int_eq(ident_of(bad, N(bad), &id), IDENT_NO_MAC);
	ck_assert_str_eq(id.mac, "");
}
END_TEST

/* --- generic and missing ------------------------------------------------- */

START_TEST(generic_cert)
{
	const struct rdn r[] = {
		RDN(OID_OU, "cisco.com"),
		RDN(OID_L, "ciscogeneric"),
		RDN(OID_ST, "ciscogeneric"),
	};
	struct ident id;

	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_GENERIC);
	ck_assert_str_eq(id.mac, "");
	ck_assert_str_eq(id.serial, "");
	ck_assert_str_eq(id.product, "cisco.com");
	ck_assert_str_ne(id.fingerprint, "");
}
END_TEST

START_TEST(generic_with_mac_elsewhere)
{
	const struct rdn r[] = {
		RDN(OID_OU, "cisco.com"),
		RDN(OID_L, "CiscoGeneric"),
		RDN(OID_ST, "0022bd010203"),
	};
	const struct rdn r2[] = {
		RDN(OID_ST, "CISCOGENERIC"),
		RDN(OID_SN, "0022bd010203"),
		RDN(OID_CN, "SPA-525G2, MAC: 0022bd010203"),
	};
	const struct rdn r3[] = { /* second ST occurrence is generic */
		RDN(OID_ST, "0022bd010203"),
		RDN(OID_ST, "ciscogeneric"),
	};
	struct ident id;

	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_GENERIC);
	ck_assert_str_eq(id.mac, "");
	ck_assert_int_eq(ident_of(r2, N(r2), &id), IDENT_GENERIC);
	ck_assert_str_eq(id.mac, "");
	ck_assert_int_eq(ident_of(r3, N(r3), &id), IDENT_GENERIC);
	ck_assert_str_eq(id.mac, "");
}
END_TEST

START_TEST(no_mac)
{
	const struct rdn r[] = {
		RDN(OID_OU, "SPA-962"),
		RDN(OID_L, "88012BA01234"),
		RDN(OID_ST, "California"),
		RDN(OID_CN, "phone.example.com"),
	};
	const struct rdn r2[] = {
		RDN(OID_ST, "0022bd01020"), /* 11 digits */
		RDN(OID_SN, "0022bd0102030"), /* 13 digits */
	};
	const struct rdn r3[] = { RDN(OID_O, "Nobody") };
	struct ident id;

	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_NO_MAC);
	ck_assert_str_eq(id.mac, "");
	ck_assert_str_eq(id.product, "SPA-962");
	ck_assert_str_eq(id.serial, "88012BA01234");
	ck_assert_int_eq(ident_of(r2, N(r2), &id), IDENT_NO_MAC);
	ck_assert_int_eq(ident_of(r3, N(r3), &id), IDENT_NO_MAC);
	ck_assert_str_eq(id.product, "");
	ck_assert_str_eq(id.serial, "");
}
END_TEST

/* --- duplicates --------------------------------------------------------- */

START_TEST(duplicate_st_agree)
{
	const struct rdn r[] = {
		RDN(OID_ST, "0022bd010203"),
		RDN(OID_ST, "00:22:BD:01:02:03"),
	};
	struct ident id;

	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_OK);
	ck_assert_str_eq(id.mac, DEV);
}
END_TEST

START_TEST(duplicate_st_disagree)
{
	const struct rdn r[] = {
		RDN(OID_ST, "0022bd010203"),
		RDN(OID_ST, "0022bd0a0b0c"),
		RDN(OID_SN, "0022bd010203"), /* no second chance */
	};
	const struct rdn r2[] = {
		RDN(OID_ST, "California"),
		RDN(OID_ST, "0022bd010203"),
	};
	const struct rdn r3[] = { /* neither has a MAC: fall back */
		RDN(OID_ST, "California"),
		RDN(OID_ST, "Texas"),
		RDN(OID_SN, "0022bd010203"),
	};
	struct ident id;

	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_NO_MAC);
	ck_assert_str_eq(id.mac, "");
	ck_assert_int_eq(ident_of(r2, N(r2), &id), IDENT_NO_MAC);
	ck_assert_str_eq(id.mac, "");
	ck_assert_int_eq(ident_of(r3, N(r3), &id), IDENT_OK);
	ck_assert_str_eq(id.mac, DEV);
}
END_TEST

START_TEST(too_many_duplicates)
{
	struct rdn r[12];
	struct ident id;

	for (size_t i = 0; i < N(r); i++)
		r[i] = (struct rdn)RDN(OID_ST, "0022bd010203");
	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_NO_MAC);
	ck_assert_int_eq(ident_of(r, 4, &id), IDENT_OK);
}
END_TEST

/* --- hostile values ------------------------------------------------------ */

START_TEST(huge_values)
{
	const struct rdn ca_r[] = { RDN(OID_CN, "Test Root") };
	gnutls_x509_crt_t ca = crt_new(ca_r, N(ca_r), NULL);
	char *big = malloc(BIG), *padded = malloc(BIG);
	struct ident id;

	ck_assert_ptr_nonnull(big);
	ck_assert_ptr_nonnull(padded);
	memset(big, 'A', BIG);
	/* a MAC followed by 10 KB of blanks and a letter is not a MAC */
	memset(padded, ' ', BIG);
	memcpy(padded, DEV, 12);
	padded[BIG - 1] = 'x';
	{
		const struct rdn r[] = {
			{ OID_OU, big, BIG, 0 },
			{ OID_L, big, BIG, 0 },
			{ OID_ST, padded, BIG, 0 },
			{ OID_CN, big, BIG, 0 },
		};

		ck_assert_int_eq(ident_of_signed(r, N(r), ca, &id),
				 IDENT_NO_MAC);
		ck_assert_uint_eq(strlen(id.product), IDENT_MAX_FIELD - 1);
		ck_assert_uint_eq(strspn(id.product, "A"), IDENT_MAX_FIELD - 1);
		ck_assert_uint_eq(strlen(id.serial), IDENT_MAX_FIELD - 1);
		ck_assert_uint_eq(strlen(id.subject), IDENT_MAX_DN - 1);
		ck_assert_str_eq(id.issuer, "CN=Test Root");
	}
	/* the same with only trailing blanks is the MAC */
	padded[BIG - 1] = ' ';
	{
		const struct rdn r[] = {
			{ OID_OU, big, BIG, 0 },
			{ OID_ST, padded, BIG, 0 },
		};

		ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_OK);
		ck_assert_str_eq(id.mac, DEV);
	}
	free(big);
	free(padded);
	gnutls_x509_crt_deinit(ca);
}
END_TEST

START_TEST(utf8_truncation)
{
	/* 40 x "é" (80 bytes): the cut must not split a character */
	char v[81];
	struct ident id;

	for (int i = 0; i < 40; i++)
		memcpy(v + 2 * i, "\xc3\xa9", 2);
	v[80] = '\0';
	{
		const struct rdn r[] = { { OID_OU, v, 80, 0 } };

		ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_NO_MAC);
		ck_assert_uint_eq(strlen(id.product), 62);
		ck_assert_int_eq(memcmp(id.product, v, 62), 0);
	}
}
END_TEST

START_TEST(control_and_invalid_utf8)
{
	/* UTF8String holding controls, DEL, a stray 0xff, a truncated
	 * sequence, a C1 control and a valid "é" */
	const struct rdn r[] = {
		RAW(OID_OU, "\x0c\x0f" "AB\x01\x7f" "C\xff" "D\xc3(" "E\xc2\x85"
			    "\xc3\xa9" "Z"),
		RAW(OID_L, "\x0c\x0d" "0022bd010203\x00"),
		RAW(OID_ST, "\x0c\x0e" "0022bd010203\r\n"),
		RAW(OID_SN, "\x0c\x0d" "0022bd010203\x1b"),
	};
	struct ident id;

	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_NO_MAC);
	ck_assert_str_eq(id.product, "AB??C?D?(E??\xc3\xa9Z");
	ck_assert_str_eq(id.serial, "0022bd010203?");
	ck_assert_str_eq(id.mac, "");
	assert_printable(id.subject, sizeof(id.subject));
	assert_printable(id.issuer, sizeof(id.issuer));
	assert_printable(id.product, sizeof(id.product));
}
END_TEST

START_TEST(other_string_types)
{
	/* BMPString "0022BD010203" in ST; an INTEGER in OU; an odd-length
	 * BMPString in L */
	const struct rdn r[] = {
		RAW(OID_ST, "\x1e\x18" "\x00" "0\x00" "0\x00" "2\x00" "2\x00"
			    "B\x00" "D\x00" "0\x00" "1\x00" "0\x00" "2\x00"
			    "0\x00" "3"),
		RAW(OID_OU, "\x02\x01\x05"),
		RAW(OID_L, "\x1e\x03\x00" "A\x00"),
	};
	struct ident id;

	ck_assert_int_eq(ident_of(r, N(r), &id), IDENT_OK);
	ck_assert_str_eq(id.mac, DEV);
	ck_assert_str_eq(id.product, "#020105");
	ck_assert_str_eq(id.serial, "A?");
}
END_TEST

/* --- certificate-wide fields --------------------------------------------- */

START_TEST(issuer_fingerprint_serial)
{
	const struct rdn ca_r[] = { RDN(OID_CN, "Test Client Root Authority 2") };
	const struct rdn r[] = {
		RDN(OID_OU, "SPA-962"),
		RDN(OID_L, "88012BA01234"),
		RDN(OID_ST, "0022bd010203"),
	};
	gnutls_x509_crt_t ca = crt_new(ca_r, N(ca_r), NULL);
	gnutls_x509_crt_t crt = crt_new(r, N(r), ca);
	gnutls_datum_t d = der_of(crt);
	unsigned char digest[32];
	char hex[65];
	struct ident id;
	char *err = NULL;

	ck_assert_int_eq(ident_from_der(d.data, d.size, &id, &err), IDENT_OK);
	ck_assert_ptr_null(err);
	ck_assert_str_eq(id.issuer, "CN=Test Client Root Authority 2");
	ck_assert_str_eq(id.subject, "ST=0022bd010203,L=88012BA01234,OU=SPA-962");
	ck_assert_str_eq(id.cert_serial, "01abcdef");
	/* the fingerprint is SHA-256 over the DER, lower-case hex */
	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, d.data, d.size,
					  digest), 0);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	ck_assert_str_eq(id.fingerprint, hex);
	gnutls_free(d.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(ca);
}
END_TEST

/* --- malformed input ------------------------------------------------------ */

static void expect_malformed(const unsigned char *der, size_t len)
{
	struct ident id;
	char *err = NULL;

	memset(&id, 0x5a, sizeof(id));
	ck_assert_int_eq(ident_from_der(der, len, &id, &err), IDENT_MALFORMED);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strncmp(err, "certificate: ", 13) == 0, "reason '%s'", err);
	ck_assert_str_eq(id.mac, "");
	ck_assert_str_eq(id.fingerprint, "");
	free(err);
	/* err may be NULL */
	ck_assert_int_eq(ident_from_der(der, len, &id, NULL), IDENT_MALFORMED);
}

START_TEST(garbage_der)
{
	static const unsigned char junk[] = "this is not a certificate";
	static const unsigned char seq[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	unsigned char noise[512];

	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (unsigned char)(i * 37 + 11);
	expect_malformed(junk, sizeof(junk) - 1);
	expect_malformed(seq, sizeof(seq));
	expect_malformed(noise, sizeof(noise));
	expect_malformed(junk, 0);
	expect_malformed(NULL, 10);
}
END_TEST

START_TEST(truncated_der)
{
	const struct rdn r[] = { RDN(OID_ST, "0022bd010203") };
	gnutls_x509_crt_t crt = crt_new(r, N(r), NULL);
	gnutls_datum_t d = der_of(crt);

	expect_malformed(d.data, d.size / 2);
	expect_malformed(d.data, d.size - 1);
	expect_malformed(d.data, 1);
	gnutls_free(d.data);
	gnutls_x509_crt_deinit(crt);
}
END_TEST

START_TEST(oversized_der)
{
	unsigned char *p = calloc(1, IDENT_MAX_DER + 1);
	struct ident id;
	char *err = NULL;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(ident_from_der(p, IDENT_MAX_DER + 1, &id, &err),
			 IDENT_MALFORMED);
	ck_assert_str_eq(err, "certificate: too large");
	free(err);
	free(p);
}
END_TEST

START_TEST(bad_arguments)
{
	struct ident id;
	char *err = NULL;

	ck_assert_int_eq(ident_from_crt(NULL, &id, &err), IDENT_MALFORMED);
	ck_assert_ptr_nonnull(err);
	free(err);
	err = NULL;
	ck_assert_int_eq(ident_from_der((const unsigned char *)"x", 1, NULL, &err),
			 IDENT_MALFORMED);
	ck_assert_ptr_nonnull(err);
	free(err);
}
END_TEST

START_TEST(status_names)
{
	ck_assert_str_eq(ident_status_name(IDENT_OK), "ok");
	ck_assert_str_eq(ident_status_name(IDENT_GENERIC), "generic");
	ck_assert_str_eq(ident_status_name(IDENT_NO_MAC), "no-mac");
	ck_assert_str_eq(ident_status_name(IDENT_MALFORMED), "malformed");
	ck_assert_str_eq(ident_status_name((enum ident_status)42), "unknown");
}
END_TEST

static Suite *ident_suite(void)
{
	Suite *s = suite_create("ident");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, standard_layout);
	tcase_add_test(tc, mac_upper_case);
	tcase_add_test(tc, mac_with_colons);
	tcase_add_test(tc, spa525g2_layout);
	tcase_add_test(tc, spa525g2_serial_from_cn);
	tcase_add_test(tc, surname_fallback);
	tcase_add_test(tc, cn_fallback);
	tcase_add_test(tc, generic_cert);
	tcase_add_test(tc, generic_with_mac_elsewhere);
	tcase_add_test(tc, no_mac);
	tcase_add_test(tc, duplicate_st_agree);
	tcase_add_test(tc, duplicate_st_disagree);
	tcase_add_test(tc, too_many_duplicates);
	tcase_add_test(tc, huge_values);
	tcase_add_test(tc, utf8_truncation);
	tcase_add_test(tc, control_and_invalid_utf8);
	tcase_add_test(tc, other_string_types);
	tcase_add_test(tc, issuer_fingerprint_serial);
	tcase_add_test(tc, garbage_der);
	tcase_add_test(tc, truncated_der);
	tcase_add_test(tc, oversized_der);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, status_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed, r;

	/* made once, before the runner forks one process per test */
	if (gnutls_x509_privkey_init(&key) < 0)
		return EXIT_FAILURE;
	r = gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA, 1024, 0);
	if (r < 0) {
		fprintf(stderr, "key generation: %s\n", gnutls_strerror(r));
		return EXIT_FAILURE;
	}
	sr = srunner_create(ident_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	gnutls_x509_privkey_deinit(key);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
