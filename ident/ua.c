#include "config.h"

#include <string.h>

#include "ident/ua.h"
#include "util/mac.h"

/*
 * Grammar (see DOMAIN.md section 4), the product token being the text
 * before the first space:
 *   Vendor/MODEL-VERSION [groups]     Linksys/SPA-942-6.1.5(a) (88019FA42805)
 *   Vendor-MODEL/VERSION [groups]     Cisco-CP-8841-3PCC/11.0 (00562b043615)
 * In the first form MODEL and VERSION split at the last '-'.  After the
 * product token, each "(...)" group of 12 hex digits is a MAC (the first
 * one counts), any other group made of serial characters is the serial
 * (the first one counts); other text and groups with other characters are
 * ignored.
 *
 * Refused (-1, every field ""): NULL, empty, longer than UA_MAX_LEN,
 * control or non-ASCII bytes, no '/', an empty or overlong field (nothing
 * is truncated), a field with characters outside its set, a model without
 * a digit or a version not starting with one (device models always carry
 * a number; this turns away "curl/7.88.1", "Mozilla/5.0 (...)",
 * "python-requests/2.31.0", "Go-http-client/1.1" and the like).
 */

#define VENDOR_CHARS "._"
#define MODEL_CHARS "-._"
#define FIRMWARE_CHARS "-._()+"
#define SERIAL_CHARS "-._"

static int is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1 if s[0..n) is non-empty and made of letters, digits and `extra`. */
static int token_ok(const char *s, size_t n, const char *extra)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && strchr(extra, s[i]) == NULL)
			return 0;
	return 1;
}

/* Copy a field, refusing bad characters and anything that does not fit. */
static int field_copy(char dst[UA_MAX_FIELD], const char *s, size_t n,
		      const char *extra)
{
	if (!token_ok(s, n, extra) || n >= UA_MAX_FIELD)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int parse_product(const char *p, size_t len, struct ua *u)
{
	const char *slash = memchr(p, '/', len), *dash, *model, *ver;
	size_t head, model_len, ver_len;

	if (slash == NULL)
		return -1;
	head = (size_t)(slash - p);
	dash = memchr(p, '-', head);
	if (dash != NULL) { /* Vendor-MODEL/VERSION */
		model = dash + 1;
		model_len = (size_t)(slash - model);
		ver = slash + 1;
		ver_len = len - head - 1;
		head = (size_t)(dash - p);
	} else { /* Vendor/MODEL-VERSION */
		model = slash + 1;
		dash = NULL;
		for (const char *q = model; q < p + len; q++)
			if (*q == '-')
				dash = q;
		if (dash == NULL)
			return -1;
		model_len = (size_t)(dash - model);
		ver = dash + 1;
		ver_len = (size_t)(p + len - ver);
	}
	if (field_copy(u->vendor, p, head, VENDOR_CHARS) < 0 ||
	    field_copy(u->model, model, model_len, MODEL_CHARS) < 0 ||
	    field_copy(u->firmware, ver, ver_len, FIRMWARE_CHARS) < 0)
		return -1;
	if (strpbrk(u->model, "0123456789") == NULL || !is_digit(u->firmware[0]))
		return -1;
	return 0;
}

/* Linksys- and Sipura-branded firmware with one group sends its serial
 * there, and their serials (88012BA01234) are 12 hex digits too: reading
 * them as MACs would flag every such phone as a mismatch. */
static int serial_only(const struct ua *u, int groups)
{
	return groups == 1 && (strcmp(u->vendor, "Linksys") == 0 ||
			       strcmp(u->vendor, "Sipura") == 0);
}

static int parse_group(const char *g, size_t n, struct ua *u, int groups)
{
	if (mac_is_hex12(g, n) && !serial_only(u, groups)) {
		if (u->mac[0] == '\0') {
			for (size_t i = 0; i < n; i++)
				u->mac[i] = (g[i] >= 'A' && g[i] <= 'F') ?
					(char)(g[i] - 'A' + 'a') : g[i];
			u->mac[n] = '\0';
		}
		return 0;
	}
	if (u->serial[0] != '\0' || !token_ok(g, n, SERIAL_CHARS))
		return 0;
	return field_copy(u->serial, g, n, SERIAL_CHARS);
}

/* The parenthesised groups after the product token. */
static int parse_groups(const char *p, struct ua *u)
{
	int groups = 0;

	for (const char *q = p; (q = strchr(q, '(')) != NULL; q++)
		groups++;
	while ((p = strchr(p, '(')) != NULL) {
		const char *end = strchr(p + 1, ')');

		if (end == NULL)
			break; /* unterminated: ignored */
		if (parse_group(p + 1, (size_t)(end - p - 1), u, groups) < 0)
			return -1;
		p = end + 1;
	}
	return 0;
}

int ua_parse(const char *s, struct ua *out)
{
	struct ua u;
	const char *sp;
	size_t n;
	int rc = -1;

	memset(&u, 0, sizeof(u));
	if (s == NULL || out == NULL)
		goto out;
	n = strnlen(s, UA_MAX_LEN + 1);
	if (n == 0 || n > UA_MAX_LEN)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			goto out;
	sp = memchr(s, ' ', n);
	if (parse_product(s, sp ? (size_t)(sp - s) : n, &u) < 0)
		goto out;
	if (sp != NULL && parse_groups(sp, &u) < 0)
		goto out;
	rc = 0;
out:
	if (out != NULL) {
		if (rc < 0)
			memset(&u, 0, sizeof(u));
		*out = u;
	}
	return rc;
}
