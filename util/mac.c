#include "config.h"

#include <string.h>

#include "util/mac.h"

/* Dash or colon separated runs ("00:22:bd:01:02:03") of this many
 * two-digit groups are looked at in paths; like plain hex runs of 12..16
 * digits, longer ones are not MACs. */
#define MAC_GROUPS 6
#define MAC_MAX_GROUPS 8
#define MAC_MAX_RUN 16

static int is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static char lower_hex(unsigned char c)
{
	return (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : (char)c;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

int mac_is_hex12(const char *s, size_t len)
{
	if (s == NULL || len != MAC_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_hex((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Copy the hex digits of s[0..len) into out, checking that the characters
 * at every `step`-th position (1-based: step, 2*step+1, ...) are `sep` and
 * all others hex.  step == 0: no separators at all. */
static int collect(const char *s, size_t len, size_t step, char sep,
		   char out[MAC_LEN + 1])
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (step != 0 && i % (step + 1) == step) {
			if (c != (unsigned char)sep)
				return -1;
			continue;
		}
		if (!is_hex(c) || n >= MAC_LEN)
			return -1;
		out[n++] = lower_hex(c);
	}
	if (n != MAC_LEN)
		return -1;
	out[n] = '\0';
	return 0;
}

int mac_normalize(const char *in, char out[MAC_LEN + 1])
{
	char buf[MAC_LEN + 1];
	const char *s, *e;
	size_t len;
	int rc = -1;

	if (in == NULL || out == NULL)
		return -1;
	s = in;
	while (is_space((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_space((unsigned char)e[-1]))
		e--;
	len = (size_t)(e - s);

	if (len == MAC_LEN)
		rc = collect(s, len, 0, 0, buf);
	else if (len == 17 && (s[2] == ':' || s[2] == '-'))
		rc = collect(s, len, 2, s[2], buf);
	else if (len == 14)
		rc = collect(s, len, 4, '.', buf);
	if (rc == 0)
		memcpy(out, buf, sizeof(buf));
	return rc;
}

/* A MAC-like token of a path: its hex digits, lower case. */
struct mac_token {
	char digits[MAC_MAX_RUN + 1];
	size_t n; /* MAC_LEN..MAC_MAX_RUN */
};

/* Separated run starting at p[i] (a two-digit hex run followed by ':' or
 * '-').  Returns the end of the last complete group, and the number of
 * groups in *groups. */
static size_t scan_groups(const char *p, size_t i, size_t n, size_t *groups)
{
	char sep = p[i + 2];
	size_t end = i, pos = i;

	*groups = 0;
	for (;;) {
		if (pos + 2 > n || !is_hex((unsigned char)p[pos]) ||
		    !is_hex((unsigned char)p[pos + 1]) ||
		    (pos + 2 < n && is_hex((unsigned char)p[pos + 2])))
			break;
		(*groups)++;
		end = pos + 2;
		if (end + 1 < n && p[end] == sep)
			pos = end + 1;
		else
			break;
	}
	return end;
}

static void token_set(struct mac_token *tok, const char *p, size_t start,
		      size_t end)
{
	tok->n = 0;
	for (size_t k = start; k < end; k++)
		if (is_hex((unsigned char)p[k]))
			tok->digits[tok->n++] = lower_hex((unsigned char)p[k]);
	tok->digits[tok->n] = '\0';
}

/* Find the next MAC-like token in p[*pos..n).  `complete` is 0 when the
 * path goes on beyond n: a token reaching n is then ignored.  Returns 1
 * with *tok filled, or 0 when there is none left. */
static int next_token(const char *p, size_t n, int complete, size_t *pos,
		      struct mac_token *tok)
{
	size_t i = *pos;

	while (i < n) {
		size_t start = i, end, run, groups = 0;

		if (!is_hex((unsigned char)p[i])) {
			i++;
			continue;
		}
		end = i;
		while (end < n && is_hex((unsigned char)p[end]))
			end++;
		run = end - start;
		if (run == 2 && end + 1 < n && (p[end] == ':' || p[end] == '-'))
			end = scan_groups(p, start, n, &groups);
		i = end;
		/* cut by the scan limit?  (a separated run may go on after
		 * a separator or half a group) */
		if (!complete && end + 3 > n)
			break;
		if (groups >= 2) {
			if (groups < MAC_GROUPS || groups > MAC_MAX_GROUPS)
				continue;
		} else if (run < MAC_LEN || run > MAC_MAX_RUN) {
			continue;
		}
		token_set(tok, p, start, end);
		*pos = i;
		return 1;
	}
	*pos = n;
	return 0;
}

/* Does one of the token's candidates (first or last 12 digits) equal mac? */
static int token_matches(const struct mac_token *tok, const char *mac)
{
	if (mac == NULL)
		return 0;
	return memcmp(tok->digits, mac, MAC_LEN) == 0 ||
	       memcmp(tok->digits + tok->n - MAC_LEN, mac, MAC_LEN) == 0;
}

enum mac_path_result mac_path_check(const char *path, const char *mac,
				    char found[MAC_LEN + 1])
{
	enum mac_path_result res = MAC_PATH_NONE;
	struct mac_token tok;
	char want[MAC_LEN + 1];
	const char *m = NULL;
	size_t n, pos = 0;
	int complete;

	if (found != NULL)
		found[0] = '\0';
	if (path == NULL)
		return MAC_PATH_NONE;
	if (mac != NULL && mac_is_hex12(mac, strnlen(mac, MAC_LEN + 1))) {
		for (size_t k = 0; k < MAC_LEN; k++)
			want[k] = lower_hex((unsigned char)mac[k]);
		want[MAC_LEN] = '\0';
		m = want;
	}
	n = strnlen(path, MAC_PATH_MAX_SCAN + 1);
	complete = n <= MAC_PATH_MAX_SCAN;
	if (!complete)
		n = MAC_PATH_MAX_SCAN;

	while (next_token(path, n, complete, &pos, &tok)) {
		if (!token_matches(&tok, m)) {
			if (found != NULL)
				memcpy(found, tok.digits + tok.n - MAC_LEN,
				       MAC_LEN + 1);
			return MAC_PATH_MISMATCH;
		}
		res = MAC_PATH_MATCH;
	}
	return res;
}
