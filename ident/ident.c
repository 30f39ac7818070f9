#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ident/ident.h"
#include "util/mac.h"

/*
 * Attribute values are read with gnutls_x509_crt_get_dn_by_oid() in raw
 * mode (the DER of the DirectoryString) and decoded here: the text mode
 * escapes ',' and friends RFC 4514-style (the SPA525G2 CN holds commas) and
 * turns values with a NUL into "#hex".  Decoded text is cleaned: valid,
 * printable UTF-8 is kept, every other byte becomes '?'.
 *
 * Rules beyond the header:
 * - A certificate whose L or ST (any occurrence) is "ciscogeneric" (any
 *   case) is IDENT_GENERIC, whatever else it holds; mac and serial are "".
 * - Each MAC source (ST, surname, CN) is taken as a whole: all its
 *   occurrences must agree about the MAC (same MAC, or all without one).
 *   If they disagree the MAC is treated as absent (IDENT_NO_MAC) and the
 *   later sources are not consulted: a conflicting certificate does not
 *   get a second chance through a fallback.
 * - Values larger than IDENT_MAX_VALUE read as "" (never a MAC); fields
 *   are truncated on a UTF-8 character boundary.
 * - On IDENT_MALFORMED from ident_from_crt() the fields read before the
 *   failure (e.g. the fingerprint) stay filled; mac is always "".
 */

#define IDENT_MAX_VALUE (64 * 1024) /* larger attribute values read as "" */
#define IDENT_MAX_REPEAT 8          /* occurrences of one attribute read */
#define IDENT_MAX_TOKEN 64          /* "MAC: x" / "Serial: x" in CN */
#define IDENT_MAX_REASON 160

#define OID_CN "2.5.4.3"
#define OID_SURNAME "2.5.4.4"
#define OID_L "2.5.4.7"
#define OID_ST "2.5.4.8"
#define OID_OU "2.5.4.11"

#define GENERIC_NAME "ciscogeneric"
#define SPA525_OU "cisco.com"

/* ASN.1 universal tags of the string types found in names */
#define TAG_UTF8 0x0c
#define TAG_NUMERIC 0x12
#define TAG_PRINTABLE 0x13
#define TAG_T61 0x14
#define TAG_IA5 0x16
#define TAG_VISIBLE 0x1a
#define TAG_GENERAL 0x1b
#define TAG_UNIVERSAL 0x1c
#define TAG_BMP 0x1e

/* Record the first reason only; *err starts NULL (internal use only). */
static void set_err(char **err, const char *what, const char *detail)
{
	char buf[IDENT_MAX_REASON];

	if (*err != NULL)
		return;
	snprintf(buf, sizeof(buf), "%s%s%s", what, detail ? ": " : "",
		 detail ? detail : "");
	*err = strdup(buf);
}

/* --- text -------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s[0..n) encoding a printable
 * code point (no C1 controls, surrogates or overlongs); 0 if none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned long cp;
	size_t len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
		return 0;
	return len;
}

/* Clean s[0..n) in place and NUL-terminate it (s has room for n + 1). */
static void text_clean(char *s, size_t n)
{
	unsigned char *u = (unsigned char *)s;
	size_t i = 0, j = 0;

	while (i < n) {
		size_t len = u[i] >= 0x80 ? utf8_seq(u + i, n - i) : 0;

		if (len > 0) {
			memmove(u + j, u + i, len);
			j += len;
			i += len;
		} else {
			u[j++] = (u[i] >= 0x20 && u[i] < 0x7f) ? u[i] : '?';
			i++;
		}
	}
	s[j] = '\0';
}

/* Copy clean text into a fixed field, cutting on a character boundary. */
static void field_set(char *dst, size_t size, const char *src, size_t n)
{
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trimmed copy of s[0..n) into a fixed field. */
static void field_set_trim(char *dst, size_t size, const char *s, size_t n)
{
	while (n > 0 && is_blank(*s))
		s++, n--;
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	field_set(dst, size, s, n);
}

/* Append code point cp as UTF-8 at out[*j], or '?' if it is not one. */
static void put_cp(char *out, size_t *j, unsigned long cp)
{
	unsigned char *u = (unsigned char *)out + *j;

	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		u[0] = '?';
		*j += 1;
	} else if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		*j += 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		*j += 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		*j += 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		*j += 4;
	}
}

/* BMPString (unit 2) or UniversalString (unit 4), big endian, to UTF-8.
 * out has room for 2 * n + 1 bytes. */
static size_t wide_to_utf8(const unsigned char *c, size_t n, size_t unit,
			   char *out)
{
	size_t j = 0;

	for (size_t i = 0; i < n; i += unit) {
		unsigned long cp = 0;

		if (n - i < unit) {
			out[j++] = '?';
			break;
		}
		for (size_t k = 0; k < unit; k++)
			cp = (cp << 8) | c[i + k];
		put_cp(out, &j, cp);
	}
	return j;
}

/* Parse a DER TLV header: *hdr and *len so that hdr + len == n. */
static int der_header(const unsigned char *d, size_t n, size_t *hdr,
		      size_t *len)
{
	size_t k;

	if (n < 2)
		return -1;
	if (d[1] < 0x80) {
		*hdr = 2;
		*len = d[1];
	} else {
		k = d[1] & 0x7f;
		if (k == 0 || k > 4 || n < 2 + k)
			return -1;
		*len = 0;
		for (size_t i = 0; i < k; i++)
			*len = (*len << 8) | d[2 + i];
		*hdr = 2 + k;
	}
	return *hdr + *len == n ? 0 : -1;
}

/* Decode the DER of an attribute value into clean text (malloc'd).
 * Unknown value types become "#<hex of the DER>", as in RFC 4514. */
static int der_to_text(const unsigned char *d, size_t n, char **out)
{
	size_t hdr, len, j = 0;
	const unsigned char *c;
	char *t;

	if (der_header(d, n, &hdr, &len) < 0)
		return -1;
	c = d + hdr;
	t = malloc(2 * n + 2);
	if (t == NULL)
		return -1;
	switch (d[0]) {
	case TAG_UTF8: case TAG_NUMERIC: case TAG_PRINTABLE: case TAG_T61:
	case TAG_IA5: case TAG_VISIBLE: case TAG_GENERAL:
		memcpy(t, c, len);
		j = len;
		break;
	case TAG_BMP:
		j = wide_to_utf8(c, len, 2, t);
		break;
	case TAG_UNIVERSAL:
		j = wide_to_utf8(c, len, 4, t);
		break;
	default:
		t[j++] = '#';
		for (size_t i = 0; i < n; i++, j += 2)
			snprintf(t + j, 3, "%02x", d[i]);
		break;
	}
	text_clean(t, j);
	*out = t;
	return 0;
}

/* --- attributes ---------------------------------------------------------- */

/* Occurrence idx of subject attribute oid as clean text (malloc'd).
 * Returns 1, 0 if there is no such occurrence, -1 with *err. */
static int attr_get(gnutls_x509_crt_t crt, const char *oid, unsigned idx,
		    char **val, char **err)
{
	unsigned char *der = NULL;
	size_t size = 0;
	int rc = -1, r;

	*val = NULL;
	r = gnutls_x509_crt_get_dn_by_oid(crt, oid, idx, 1, NULL, &size);
	if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		rc = 0;
		goto out;
	}
	if (r != GNUTLS_E_SHORT_MEMORY_BUFFER && r < 0) {
		set_err(err, oid, gnutls_strerror(r));
		goto out;
	}
	if (size > IDENT_MAX_VALUE) {
		*val = strdup("");
		rc = *val ? 1 : -1;
		goto out;
	}
	der = malloc(size + 1);
	if (der == NULL)
		goto out;
	r = gnutls_x509_crt_get_dn_by_oid(crt, oid, idx, 1, der, &size);
	if (r < 0) {
		set_err(err, oid, gnutls_strerror(r));
		goto out;
	}
	if (der_to_text(der, size, val) < 0) {
		set_err(err, oid, "undecodable attribute value");
		goto out;
	}
	rc = 1;
out:
	free(der);
	return rc;
}

/* First occurrence of oid, trimmed, into a field; "" if absent. */
static int attr_field(gnutls_x509_crt_t crt, const char *oid, char *dst,
		      size_t size, char **err)
{
	char *v = NULL;
	int r = attr_get(crt, oid, 0, &v, err);

	if (r > 0)
		field_set_trim(dst, size, v, strlen(v));
	free(v);
	return r < 0 ? -1 : 0;
}

static int is_generic_value(const char *v)
{
	char tmp[sizeof(GENERIC_NAME)];
	size_t n = strlen(v);

	while (n > 0 && is_blank(*v))
		v++, n--;
	while (n > 0 && is_blank(v[n - 1]))
		n--;
	if (n != sizeof(GENERIC_NAME) - 1)
		return 0;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	return strcasecmp(tmp, GENERIC_NAME) == 0;
}

/* 1 if any L or ST occurrence is "ciscogeneric", 0 if none, -1 on error. */
static int cert_is_generic(gnutls_x509_crt_t crt, char **err)
{
	static const char *const oids[] = { OID_L, OID_ST };

	for (size_t i = 0; i < sizeof(oids) / sizeof(oids[0]); i++) {
		for (unsigned idx = 0; idx < IDENT_MAX_REPEAT; idx++) {
			char *v = NULL;
			int r = attr_get(crt, oids[i], idx, &v, err);
			int generic = r > 0 && is_generic_value(v);

			free(v);
			if (r < 0)
				return -1;
			if (generic)
				return 1;
			if (r == 0)
				break;
		}
	}
	return 0;
}

/* --- CN of the SPA525G2 layout: "SPA-525G2, MAC: <mac>, Serial: <sn>" --- */

/* The text after `label` (case-insensitive, at the start or after ' ' or
 * ','), up to the next ',' and trimmed.  Returns 0, or -1 if absent or
 * longer than size - 1. */
static int cn_label(const char *cn, const char *label, char *dst, size_t size)
{
	size_t ll = strlen(label), n;
	const char *p, *e;

	for (p = cn; *p != '\0'; p++) {
		if ((p == cn || p[-1] == ' ' || p[-1] == ',') &&
		    strncasecmp(p, label, ll) == 0)
			break;
	}
	if (*p == '\0')
		return -1;
	p += ll;
	while (is_blank(*p))
		p++;
	e = strchr(p, ',');
	n = e ? (size_t)(e - p) : strlen(p);
	while (n > 0 && is_blank(p[n - 1]))
		n--;
	if (n == 0 || n >= size)
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

static int pick_plain(const char *v, char mac[MAC_LEN + 1])
{
	return mac_normalize(v, mac);
}

static int pick_cn(const char *v, char mac[MAC_LEN + 1])
{
	char tok[IDENT_MAX_TOKEN];

	if (cn_label(v, "MAC:", tok, sizeof(tok)) < 0)
		return -1;
	return mac_normalize(tok, mac);
}

/* --- MAC ------------------------------------------------------------------ */

enum mac_src { SRC_NONE, SRC_FOUND, SRC_CONFLICT, SRC_ERROR };

/* The MAC held by every occurrence of oid (see the rules at the top). */
static enum mac_src mac_from(gnutls_x509_crt_t crt, const char *oid,
			     int (*pick)(const char *, char *),
			     char mac[MAC_LEN + 1], char **err)
{
	char first[MAC_LEN + 1] = "", cur[MAC_LEN + 1];
	int have_first = 0;

	for (unsigned idx = 0; idx <= IDENT_MAX_REPEAT; idx++) {
		char *v = NULL;
		int r = attr_get(crt, oid, idx, &v, err), got;

		if (r < 0)
			return SRC_ERROR;
		if (r == 0)
			break;
		got = pick(v, cur) == 0;
		free(v);
		if (idx == IDENT_MAX_REPEAT)
			return SRC_CONFLICT; /* too many to be honest */
		if (idx == 0) {
			have_first = got;
			if (got)
				memcpy(first, cur, sizeof(first));
		} else if (got != have_first ||
			   (got && strcmp(cur, first) != 0)) {
			return SRC_CONFLICT;
		}
	}
	if (!have_first)
		return SRC_NONE;
	memcpy(mac, first, sizeof(first));
	return SRC_FOUND;
}

static enum ident_status find_mac(gnutls_x509_crt_t crt, struct ident *out,
				  char **err)
{
	static const struct {
		const char *oid;
		int (*pick)(const char *, char *);
	} src[] = {
		{ OID_ST, pick_plain },
		{ OID_SURNAME, pick_plain },
		{ OID_CN, pick_cn },
	};
	int generic = cert_is_generic(crt, err);

	if (generic < 0)
		return IDENT_MALFORMED;
	if (generic) {
		out->serial[0] = '\0';
		return IDENT_GENERIC;
	}
	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
		switch (mac_from(crt, src[i].oid, src[i].pick, out->mac, err)) {
		case SRC_FOUND:
			return IDENT_OK;
		case SRC_CONFLICT:
			return IDENT_NO_MAC;
		case SRC_ERROR:
			return IDENT_MALFORMED;
		case SRC_NONE:
			break;
		}
	}
	return IDENT_NO_MAC;
}

/* --- product and serial ---------------------------------------------------- */

static int fill_names(gnutls_x509_crt_t crt, struct ident *out, char **err)
{
	char *cn = NULL;
	int rc = -1, r;

	if (attr_field(crt, OID_OU, out->product, sizeof(out->product), err) < 0 ||
	    attr_field(crt, OID_L, out->serial, sizeof(out->serial), err) < 0)
		goto out;
	r = attr_get(crt, OID_CN, 0, &cn, err);
	if (r < 0)
		goto out;
	if (r > 0 && strcasecmp(out->product, SPA525_OU) == 0) {
		const char *comma = strchr(cn, ',');

		field_set_trim(out->product, sizeof(out->product), cn,
			       comma ? (size_t)(comma - cn) : strlen(cn));
	}
	if (r > 0 && out->serial[0] == '\0')
		(void)cn_label(cn, "Serial:", out->serial, sizeof(out->serial));
	rc = 0;
out:
	free(cn);
	return rc;
}

/* --- certificate-wide fields ------------------------------------------------ */

static void dn_field(int (*get)(gnutls_x509_crt_t, gnutls_datum_t *, unsigned),
		     gnutls_x509_crt_t crt, char *dst, size_t size)
{
	gnutls_datum_t dn = { NULL, 0 };
	char *t = NULL;

	if (get(crt, &dn, 0) == 0 && dn.data != NULL &&
	    (t = malloc((size_t)dn.size + 1)) != NULL) {
		memcpy(t, dn.data, dn.size);
		text_clean(t, dn.size);
		field_set(dst, size, t, strlen(t));
	}
	free(t);
	gnutls_free(dn.data);
}

static void hex_field(char *dst, size_t size, const unsigned char *b, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n && j + 2 < size; i++, j += 2)
		snprintf(dst + j, 3, "%02x", b[i]);
	dst[j] = '\0';
}

static void serial_field(gnutls_x509_crt_t crt, struct ident *out)
{
	unsigned char *buf = NULL;
	size_t size = 0;

	if (gnutls_x509_crt_get_serial(crt, NULL, &size) !=
		    GNUTLS_E_SHORT_MEMORY_BUFFER || size == 0)
		return;
	buf = malloc(size);
	if (buf != NULL && gnutls_x509_crt_get_serial(crt, buf, &size) == 0)
		hex_field(out->cert_serial, sizeof(out->cert_serial), buf,
			  size);
	free(buf);
}

static int fill_cert_info(gnutls_x509_crt_t crt, struct ident *out,
			  char **err)
{
	unsigned char fp[32];
	gnutls_datum_t der = { NULL, 0 };
	int r;

	/* Hash the bytes as imported (export2 hands back GnuTLS's copy of
	 * them); gnutls_x509_crt_get_fingerprint() hashes a re-encoding,
	 * which differs for the non-DER input GnuTLS tolerates. */
	r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der);
	if (r == 0)
		r = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, fp);
	gnutls_free(der.data);
	if (r < 0) {
		set_err(err, "fingerprint", gnutls_strerror(r));
		return -1;
	}
	hex_field(out->fingerprint, sizeof(out->fingerprint), fp, sizeof(fp));
	dn_field(gnutls_x509_crt_get_dn3, crt, out->subject,
		 sizeof(out->subject));
	dn_field(gnutls_x509_crt_get_issuer_dn3, crt, out->issuer,
		 sizeof(out->issuer));
	serial_field(crt, out);
	return 0;
}

/* --- API ------------------------------------------------------------------- */

static enum ident_status from_crt(gnutls_x509_crt_t crt, struct ident *out,
				  char **reason)
{
	enum ident_status st = IDENT_MALFORMED;

	if (crt == NULL) {
		set_err(reason, "certificate", "none given");
		goto out;
	}
	if (fill_cert_info(crt, out, reason) < 0 ||
	    fill_names(crt, out, reason) < 0)
		goto out;
	st = find_mac(crt, out, reason);
out:
	if (st != IDENT_OK)
		out->mac[0] = '\0';
	return st;
}

/* Hand the reason up on IDENT_MALFORMED, free it otherwise. */
static enum ident_status hand_up(enum ident_status st, char *reason,
				 char **err)
{
	if (st == IDENT_MALFORMED && err != NULL) {
		if (reason == NULL)
			set_err(&reason, "certificate", "unreadable");
		*err = reason;
		reason = NULL;
	}
	free(reason);
	return st;
}

enum ident_status ident_from_crt(gnutls_x509_crt_t crt, struct ident *out,
				 char **err)
{
	enum ident_status st = IDENT_MALFORMED;
	char *reason = NULL;

	if (out == NULL) {
		set_err(&reason, "ident", "no output");
		goto out;
	}
	memset(out, 0, sizeof(*out));
	st = from_crt(crt, out, &reason);
out:
	return hand_up(st, reason, err);
}

enum ident_status ident_from_der(const unsigned char *der, size_t len,
				 struct ident *out, char **err)
{
	enum ident_status st = IDENT_MALFORMED;
	gnutls_x509_crt_t crt = NULL;
	char *reason = NULL;
	gnutls_datum_t d;
	int r;

	if (out == NULL) {
		set_err(&reason, "ident", "no output");
		goto out;
	}
	memset(out, 0, sizeof(*out));
	if (der == NULL || len == 0 || len > IDENT_MAX_DER) {
		set_err(&reason, "certificate",
			len > IDENT_MAX_DER ? "too large" : "empty");
		goto out;
	}
	r = gnutls_x509_crt_init(&crt);
	if (r < 0) {
		crt = NULL;
		set_err(&reason, "certificate", gnutls_strerror(r));
		goto out;
	}
	d.data = (unsigned char *)der;
	d.size = (unsigned int)len;
	r = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	if (r < 0) {
		set_err(&reason, "certificate", gnutls_strerror(r));
		goto out;
	}
	st = from_crt(crt, out, &reason);
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return hand_up(st, reason, err);
}

const char *ident_status_name(enum ident_status st)
{
	switch (st) {
	case IDENT_OK:
		return "ok";
	case IDENT_GENERIC:
		return "generic";
	case IDENT_NO_MAC:
		return "no-mac";
	case IDENT_MALFORMED:
		return "malformed";
	}
	return "unknown";
}
