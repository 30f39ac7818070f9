#include "config.h"

/* fuzz_ua: ua_parse() on arbitrary User-Agent strings.
 *
 * The input, cut at its first NUL, is the User-Agent.  Invariants:
 *  - the result is 0 or -1; on -1 every field is "";
 *  - every field is NUL-terminated inside its array;
 *  - on 0, vendor, model and firmware are non-empty, the input is at most
 *    UA_MAX_LEN printable ASCII bytes, and its first token (up to the first
 *    space) is exactly vendor '/' model '-' firmware or vendor '-' model
 *    '/' firmware; mac is "" or 12 lower-case hex digits found in the input
 *    (any case); serial is "" or a substring of the input;
 *  - a second parse into a dirty struct gives the same fields. */

#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "ident/ua.h"

static int ua_empty(const struct ua *u)
{
	return u->vendor[0] == '\0' && u->model[0] == '\0' &&
	       u->firmware[0] == '\0' && u->mac[0] == '\0' &&
	       u->serial[0] == '\0';
}

static int ua_terminated(const struct ua *u)
{
	return fuzz_terminated(u->vendor, sizeof(u->vendor)) &&
	       fuzz_terminated(u->model, sizeof(u->model)) &&
	       fuzz_terminated(u->firmware, sizeof(u->firmware)) &&
	       fuzz_terminated(u->mac, sizeof(u->mac)) &&
	       fuzz_terminated(u->serial, sizeof(u->serial));
}

static int ua_same(const struct ua *a, const struct ua *b)
{
	return strcmp(a->vendor, b->vendor) == 0 &&
	       strcmp(a->model, b->model) == 0 &&
	       strcmp(a->firmware, b->firmware) == 0 &&
	       strcmp(a->mac, b->mac) == 0 && strcmp(a->serial, b->serial) == 0;
}

static int all_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* Is the product token (s[0..n)) vendor SEP1 model SEP2 firmware? */
static int token_rebuilt(const char *s, size_t n, const struct ua *u)
{
	size_t v = strlen(u->vendor), m = strlen(u->model),
	       f = strlen(u->firmware);
	char sep1, sep2;

	if (n != v + m + f + 2)
		return 0;
	sep1 = s[v];
	sep2 = s[v + 1 + m];
	if (!((sep1 == '/' && sep2 == '-') || (sep1 == '-' && sep2 == '/')))
		return 0;
	return memcmp(s, u->vendor, v) == 0 &&
	       memcmp(s + v + 1, u->model, m) == 0 &&
	       memcmp(s + v + 2 + m, u->firmware, f) == 0;
}

static void check_success(const char *s, const struct ua *u)
{
	size_t len = strlen(s), tok = strcspn(s, " ");
	char *lower;

	FUZZ_CHECK(len > 0 && len <= UA_MAX_LEN);
	FUZZ_CHECK(all_printable(s));
	FUZZ_CHECK(u->vendor[0] != '\0' && u->model[0] != '\0' &&
		   u->firmware[0] != '\0');
	FUZZ_CHECK(token_rebuilt(s, tok, u));
	FUZZ_CHECK(u->serial[0] == '\0' || strstr(s + tok, u->serial) != NULL);
	FUZZ_CHECK(strchr(u->serial, ' ') == NULL);
	if (u->mac[0] != '\0') {
		FUZZ_CHECK(fuzz_is_mac(u->mac));
		lower = strdup(s);
		if (lower == NULL)
			abort();
		for (char *p = lower; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		FUZZ_CHECK(strstr(lower + tok, u->mac) != NULL);
		free(lower);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size);
	struct ua u, again;
	int r, r2;

	memset(&u, 'x', sizeof(u));
	r = ua_parse(s, &u);
	FUZZ_CHECK(r == 0 || r == -1);
	FUZZ_CHECK(ua_terminated(&u));
	if (r < 0)
		FUZZ_CHECK(ua_empty(&u));
	else
		check_success(s, &u);

	memset(&again, 0x7f, sizeof(again));
	r2 = ua_parse(s, &again);
	FUZZ_CHECK(r2 == r);
	FUZZ_CHECK(ua_terminated(&again) && ua_same(&u, &again));
	free(s);
	return 0;
}
