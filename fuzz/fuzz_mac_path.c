#include "config.h"

/* fuzz_mac_path: mac_path_check() and mac_normalize() on arbitrary text.
 *
 * The input is split at its first NUL or newline: the bytes before are the
 * path, the bytes after (up to a further NUL) the device MAC; without a
 * split the MAC is NULL.  Both strings also go through mac_normalize().
 * Invariants:
 *  - mac_path_check() returns one of its three results; `found` is 12
 *    lower-case hex digits on MAC_PATH_MISMATCH and "" otherwise; the
 *    result does not depend on `found` being given, nor on the case of
 *    `mac`; a `mac` that is not 12 hex digits acts as NULL;
 *  - with a NULL mac no path matches, and a path has a MAC-like token
 *    for NULL exactly when it has one for any mac;
 *  - a MATCH or foreign MAC is made of digits of the path: it appears in
 *    the path once lowered and stripped of ':' and '-';
 *  - mac_normalize() gives 12 lower-case hex digits or leaves its output
 *    untouched; its result normalises to itself, is found by
 *    mac_path_check() as a path of its own, and so is the trimmed input
 *    in plain, colon or dash notation between '/' and ".cfg". */

#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "util/mac.h"

#define UNTOUCHED "ZZZZZZZZZZZZ"

static int any_hex12(const char *s)
{
	size_t n = strlen(s);

	if (n != MAC_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return 0;
	return 1;
}

static char *lower_dup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		abort();
	for (char *p = d; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

/* path lowered, without ':' and '-' */
static char *digits_view(const char *path)
{
	char *d = lower_dup(path), *w = d;

	for (const char *r = d; *r != '\0'; r++)
		if (*r != ':' && *r != '-')
			*w++ = *r;
	*w = '\0';
	return d;
}

static enum mac_path_result check_path(const char *path, const char *mac)
{
	enum mac_path_result r;
	char found[MAC_LEN + 1], found2[MAC_LEN + 1];
	char *view, *want, *upper;

	memset(found, 'x', sizeof(found));
	r = mac_path_check(path, mac, found);
	FUZZ_CHECK(r == MAC_PATH_NONE || r == MAC_PATH_MATCH ||
		   r == MAC_PATH_MISMATCH);
	FUZZ_CHECK(fuzz_terminated(found, sizeof(found)));
	if (r == MAC_PATH_MISMATCH)
		FUZZ_CHECK(fuzz_is_mac(found));
	else
		FUZZ_CHECK(found[0] == '\0');
	FUZZ_CHECK(mac_path_check(path, mac, NULL) == r);
	if (mac == NULL)
		FUZZ_CHECK(r != MAC_PATH_MATCH);

	if (r != MAC_PATH_NONE) {
		view = digits_view(path);
		if (r == MAC_PATH_MISMATCH) {
			FUZZ_CHECK(strstr(view, found) != NULL);
		} else {
			want = lower_dup(mac);
			FUZZ_CHECK(strstr(view, want) != NULL);
			free(want);
		}
		free(view);
	}

	if (mac != NULL && any_hex12(mac)) {
		upper = strdup(mac);
		if (upper == NULL)
			abort();
		for (char *p = upper; *p != '\0'; p++)
			if (*p >= 'a' && *p <= 'f')
				*p = (char)(*p - 'a' + 'A');
		FUZZ_CHECK(mac_path_check(path, upper, found2) == r);
		FUZZ_CHECK(strcmp(found, found2) == 0);
		free(upper);
	} else if (mac != NULL) {
		FUZZ_CHECK(mac_path_check(path, NULL, found2) == r);
		FUZZ_CHECK(strcmp(found, found2) == 0);
	}
	return r;
}

static int is_space(char c)
{
	return c != '\0' && strchr(" \t\n\r\v\f", c) != NULL;
}

static void check_normalize(const char *in)
{
	char out[MAC_LEN + 1] = UNTOUCHED, again[MAC_LEN + 1], *path;
	const char *s = in;
	size_t n;
	int r;

	r = mac_normalize(in, out);
	FUZZ_CHECK(r == 0 || r == -1);
	if (r < 0) {
		FUZZ_CHECK(strcmp(out, UNTOUCHED) == 0);
		return;
	}
	FUZZ_CHECK(fuzz_is_mac(out));
	FUZZ_CHECK(mac_normalize(out, again) == 0 && strcmp(out, again) == 0);
	FUZZ_CHECK(check_path(out, out) == MAC_PATH_MATCH);

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		n--;
	if (n != 12 && n != 17)
		return; /* dotted notation: not a path token */
	if (asprintf(&path, "/%.*s.cfg", (int)n, s) < 0)
		abort();
	FUZZ_CHECK(check_path(path, out) == MAC_PATH_MATCH);
	FUZZ_CHECK(check_path(path, NULL) == MAC_PATH_MISMATCH);
	FUZZ_CHECK(mac_path_check(path, NULL, again) == MAC_PATH_MISMATCH &&
		   strcmp(again, out) == 0);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_strndup(data, size), *mac = NULL;
	size_t cut = strcspn(buf, "\n");
	enum mac_path_result r, rnull;

	if (cut < size) { /* a NUL or newline at cut */
		buf[cut] = '\0';
		mac = buf + cut + 1;
	}
	r = check_path(buf, mac);
	rnull = check_path(buf, NULL);
	FUZZ_CHECK((r == MAC_PATH_NONE) == (rnull == MAC_PATH_NONE));

	check_normalize(buf);
	if (mac != NULL)
		check_normalize(mac);
	free(buf);
	return 0;
}
