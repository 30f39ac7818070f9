#include "config.h"

/* fuzz_ident: ident_from_der() on arbitrary bytes (meant to be DER X.509
 * certificates; the seeds are real ones in every subject layout).
 *
 * Invariants:
 *  - the status is one of the four, with a name;
 *  - every field is NUL-terminated inside its array and is well-formed
 *    UTF-8 without control characters (C0, DEL, C1): attribute values are
 *    cleaned before they are copied;
 *  - mac is 12 lower-case hex digits for IDENT_OK and "" otherwise; a
 *    generic certificate has no serial either;
 *  - IDENT_MALFORMED comes with a reason in *err;
 *  - for a parsed certificate, fingerprint is the SHA-256 of exactly the
 *    bytes given (GnuTLS keeps the DER it imported). */

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "fuzz/fuzz.h"
#include "ident/ident.h"

/* 1 if s is well-formed UTF-8 with no code point below U+0020, U+007F
 * or U+0080..U+009F. */
static int clean_utf8(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned long cp, min;
	size_t len;

	while (*s != '\0') {
		if (*s < 0x80) {
			if (*s < 0x20 || *s == 0x7f)
				return 0;
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf)
			len = 2, cp = *s & 0x1f, min = 0x80;
		else if (*s >= 0xe0 && *s <= 0xef)
			len = 3, cp = *s & 0x0f, min = 0x800;
		else if (*s >= 0xf0 && *s <= 0xf4)
			len = 4, cp = *s & 0x07, min = 0x10000;
		else
			return 0;
		for (size_t i = 1; i < len; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0; /* also stops at the NUL */
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
			return 0;
		s += len;
	}
	return 1;
}

static int field_ok(const char *f, size_t size)
{
	return fuzz_terminated(f, size) && clean_utf8(f);
}

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

static void check_fingerprint(const uint8_t *data, size_t size, const char *fp)
{
	unsigned char md[32];
	char hex[65];

	FUZZ_CHECK(is_hex64(fp));
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, size, md) < 0)
		abort();
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	FUZZ_CHECK(strcmp(hex, fp) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ident id;
	enum ident_status st;
	char *err = NULL;

	memset(&id, 'x', sizeof(id));
	st = ident_from_der(data, size, &id, &err);
	FUZZ_CHECK(st == IDENT_OK || st == IDENT_GENERIC ||
		   st == IDENT_NO_MAC || st == IDENT_MALFORMED);
	FUZZ_CHECK(strcmp(ident_status_name(st), "unknown") != 0);

	FUZZ_CHECK(fuzz_terminated(id.mac, sizeof(id.mac)));
	FUZZ_CHECK(field_ok(id.serial, sizeof(id.serial)));
	FUZZ_CHECK(field_ok(id.product, sizeof(id.product)));
	FUZZ_CHECK(field_ok(id.subject, sizeof(id.subject)));
	FUZZ_CHECK(field_ok(id.issuer, sizeof(id.issuer)));
	FUZZ_CHECK(field_ok(id.cert_serial, sizeof(id.cert_serial)));
	FUZZ_CHECK(fuzz_terminated(id.fingerprint, sizeof(id.fingerprint)));

	if (st == IDENT_OK)
		FUZZ_CHECK(fuzz_is_mac(id.mac));
	else
		FUZZ_CHECK(id.mac[0] == '\0');
	if (st == IDENT_GENERIC)
		FUZZ_CHECK(id.serial[0] == '\0');
	if (st == IDENT_MALFORMED)
		FUZZ_CHECK(err != NULL && err[0] != '\0');
	else
		check_fingerprint(data, size, id.fingerprint);
	free(err);
	return 0;
}
