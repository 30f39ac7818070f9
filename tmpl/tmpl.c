#include "config.h"

/* tmpl: "{{ name }}" substitution for profile templates.
 *
 * One pass over the template.  A scanner hands out, in turn, a run of
 * literal bytes and the variable that follows it; the renderer copies the
 * literal, looks the variable up and appends its value XML-escaped.  There
 * is no state outside the call, so the functions are safe to call from
 * several threads and to feed from a fuzzer.
 *
 * Syntax:
 *   - "{{" opens a variable, "}}" closes it; spaces and tabs around the
 *     name are ignored.  A variable cannot span lines: a newline (or the end
 *     of the template) before "}}" is an unterminated "{{".
 *   - A lone '{' or '}' is literal, and so is "}}" outside a variable.
 *   - A run of three or more '{' opens the variable at its last two braces;
 *     the braces before them are literal.  So "{{{a}}}" renders as "{",
 *     the value of a, "}" (the first "}}" closes the variable, the third
 *     '}' is literal).
 *   - '$' is an ordinary byte: "$MA", "$$", "$PSN" reach the phone as
 *     written, since the phone expands them itself.
 *   - A value is inserted escaped and never scanned again, so a value
 *     containing "{{x}}" comes out as the text "{{x}}".
 *
 * Errors stop the render at once, except missing variables: those are
 * collected (each distinct name once, with the line of its first use) so
 * that one message lists them all, up to TMPL_MAX_MISSING of them. */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "tmpl/tmpl.h"

#define TMPL_MAX_MISSING 10      /* missing variables named in one message */
#define TMPL_SHOW_INVALID 64     /* bytes of an invalid name shown back */

/* --- small helpers ------------------------------------------------------ */

static int name_first(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int name_rest(unsigned char c)
{
	return name_first(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static int name_valid_n(const char *name, size_t n)
{
	if (n == 0 || n > TMPL_MAX_NAME || !name_first((unsigned char)name[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!name_rest((unsigned char)name[i]))
			return 0;
	return 1;
}

int tmpl_name_valid(const char *name)
{
	if (name == NULL)
		return 0;
	return name_valid_n(name, strnlen(name, TMPL_MAX_NAME + 1));
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* --- a set of names, in order of insertion ------------------------------ */

struct nameset {
	char **names;        /* in order of first insertion */
	unsigned *lines;     /* line of first use, parallel to names */
	size_t n, cap;
	size_t *slots;       /* open addressing: index + 1, 0 = empty */
	size_t nslots;       /* power of two */
};

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static size_t *nameset_slot(struct nameset *set, const char *name)
{
	size_t mask = set->nslots - 1;
	size_t i = (size_t)name_hash(name) & mask;

	while (set->slots[i] != 0 &&
	       strcmp(set->names[set->slots[i] - 1], name) != 0)
		i = (i + 1) & mask;
	return &set->slots[i];
}

static int nameset_rehash(struct nameset *set)
{
	size_t nslots = set->nslots ? set->nslots * 2 : 64;
	size_t *slots = calloc(nslots, sizeof(*slots));

	if (slots == NULL)
		return -1;
	free(set->slots);
	set->slots = slots;
	set->nslots = nslots;
	for (size_t k = 0; k < set->n; k++)
		*nameset_slot(set, set->names[k]) = k + 1;
	return 0;
}

static int nameset_grow(struct nameset *set)
{
	size_t cap = set->cap ? set->cap * 2 : 16;
	char **names = realloc(set->names, cap * sizeof(*names));
	unsigned *lines;

	if (names == NULL)
		return -1;
	set->names = names;
	lines = realloc(set->lines, cap * sizeof(*lines));
	if (lines == NULL)
		return -1;
	set->lines = lines;
	set->cap = cap;
	return 0;
}

/* Adds name unless present.  Returns 1 if added, 0 if present, -1 on ENOMEM. */
static int nameset_add(struct nameset *set, const char *name, unsigned line)
{
	size_t *slot;

	if ((set->n + 1) * 2 > set->nslots && nameset_rehash(set) < 0)
		return -1;
	slot = nameset_slot(set, name);
	if (*slot != 0)
		return 0;
	if (set->n == set->cap && nameset_grow(set) < 0)
		return -1;
	set->names[set->n] = strdup(name);
	if (set->names[set->n] == NULL)
		return -1;
	set->lines[set->n] = line;
	*slot = ++set->n;
	return 1;
}

static void nameset_free(struct nameset *set)
{
	for (size_t k = 0; k < set->n; k++)
		free(set->names[k]);
	free(set->names);
	free(set->lines);
	free(set->slots);
}

/* --- the scanner -------------------------------------------------------- */

struct scanner {
	const char *t;
	size_t len;
	size_t pos;          /* next byte to scan */
	size_t line_pos;     /* newlines counted up to here ... */
	unsigned line;       /* ... giving this line number */
};

/* One step: literal bytes, then a variable unless the template ended. */
struct token {
	const char *lit;
	size_t litlen;
	int has_var;
	char name[TMPL_MAX_NAME + 1];
	unsigned line;       /* line of the variable's "{{" */
};

/* Line number of offset `at`; offsets asked for never go backwards, so the
 * newlines of the whole template are counted once in all. */
static unsigned scan_line(struct scanner *s, size_t at)
{
	const char *p = s->t + s->line_pos, *end = s->t + at;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		s->line++;
		p++;
	}
	s->line_pos = at;
	return s->line;
}

/* Offset of the "{{" that opens the next variable at or after s->pos, or
 * s->len if there is none. */
static size_t scan_open(const struct scanner *s)
{
	size_t i = s->pos;
	const char *p;

	while (i + 1 < s->len) {
		p = memchr(s->t + i, '{', s->len - i - 1);
		if (p == NULL)
			break;
		i = (size_t)(p - s->t);
		if (s->t[i + 1] == '{') {
			while (i + 2 < s->len && s->t[i + 2] == '{')
				i++;
			return i;
		}
		i++;
	}
	return s->len;
}

/* Writes a printable rendition of an invalid name into buf. */
static void show_name(const char *p, size_t n, char *buf, size_t size)
{
	size_t k = 0, i;

	for (i = 0; i < n && i < TMPL_SHOW_INVALID && k + 1 < size; i++) {
		unsigned char c = (unsigned char)p[i];
		buf[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (i < n && k + 3 < size) {
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	buf[k] = '\0';
}

/* The variable whose "{{" is at `open`; on success s->pos moves past "}}". */
static int scan_var(struct scanner *s, size_t open, struct token *tok,
		    char **err)
{
	size_t a = open + 2, b, end = a;
	char shown[TMPL_SHOW_INVALID + 4];

	tok->line = scan_line(s, open);
	while (end + 1 < s->len && s->t[end] != '\n' &&
	       !(s->t[end] == '}' && s->t[end + 1] == '}'))
		end++;
	if (end + 1 >= s->len || s->t[end] == '\n') {
		*err = str_printf("line %u: unterminated '{{'", tok->line);
		return -1;
	}
	b = end;
	while (a < b && is_blank(s->t[a]))
		a++;
	while (b > a && is_blank(s->t[b - 1]))
		b--;
	if (!name_valid_n(s->t + a, b - a)) {
		show_name(s->t + a, b - a, shown, sizeof(shown));
		*err = str_printf("line %u: invalid variable name '%s'", tok->line,
				shown);
		return -1;
	}
	memcpy(tok->name, s->t + a, b - a);
	tok->name[b - a] = '\0';
	tok->has_var = 1;
	s->pos = end + 2;
	return 0;
}

/* Returns 1 with a token, 0 at the end, -1 with *err on a syntax error. */
static int scan_next(struct scanner *s, struct token *tok, char **err)
{
	size_t open;

	if (s->pos >= s->len)
		return 0;
	open = scan_open(s);
	tok->lit = s->t + s->pos;
	tok->litlen = open - s->pos;
	tok->has_var = 0;
	s->pos = open;
	if (open == s->len)
		return 1;
	return scan_var(s, open, tok, err) < 0 ? -1 : 1;
}

static int check_size(size_t len, char **err)
{
	if (len <= TMPL_MAX_SIZE)
		return 0;
	*err = str_printf("template too large (%zu bytes, limit %u)", len,
			TMPL_MAX_SIZE);
	return -1;
}

/* --- rendering ---------------------------------------------------------- */

struct outbuf {
	char *p;
	size_t len, cap;
	size_t total;        /* bytes the output would have, may exceed cap */
};

/* Makes room for n more bytes plus a NUL, doubling; the caller has checked
 * that len + n <= TMPL_MAX_SIZE. */
static int out_reserve(struct outbuf *o, size_t n)
{
	size_t cap = o->cap ? o->cap : 256;
	char *p;

	if (o->len + n + 1 <= o->cap)
		return 0;
	while (cap < o->len + n + 1)
		cap *= 2;
	if (cap > (size_t)TMPL_MAX_SIZE + 1)
		cap = (size_t)TMPL_MAX_SIZE + 1;
	p = realloc(o->p, cap);
	if (p == NULL)
		return -1;
	o->p = p;
	o->cap = cap;
	return 0;
}

/* Accounts for n output bytes; returns 1 if they are to be written, 0 if
 * the output is already past the limit or a variable is missing (only the
 * size is kept then), -1 on ENOMEM. */
static int out_room(struct outbuf *o, size_t n, int writing)
{
	o->total = (o->total > SIZE_MAX - n) ? SIZE_MAX : o->total + n;
	if (!writing || o->total > TMPL_MAX_SIZE)
		return 0;
	return out_reserve(o, n) < 0 ? -1 : 1;
}

static size_t escaped_len(const char *v)
{
	size_t n = 0;

	for (; *v != '\0'; v++) {
		switch (*v) {
		case '&': n += 5; break;                 /* &amp; */
		case '<': case '>': n += 4; break;       /* &lt; &gt; */
		case '"': case '\'': n += 6; break;      /* &quot; &apos; */
		default: n++;
		}
	}
	return n;
}

static void escape_into(char *dst, const char *v)
{
	const char *rep;

	for (; *v != '\0'; v++) {
		switch (*v) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default:
			*dst++ = *v;
			continue;
		}
		while (*rep != '\0')
			*dst++ = *rep++;
	}
}

static int put_bytes(struct outbuf *o, const char *p, size_t n, int writing)
{
	int r = out_room(o, n, writing);

	if (r == 1) {
		memcpy(o->p + o->len, p, n);
		o->len += n;
	}
	return r < 0 ? -1 : 0;
}

static int put_value(struct outbuf *o, const char *v, int writing)
{
	size_t n = escaped_len(v);
	int r = out_room(o, n, writing);

	if (r == 1) {
		escape_into(o->p + o->len, v);
		o->len += n;
	}
	return r < 0 ? -1 : 0;
}

/* "line 3: missing variable 'a'; line 9: missing variable 'b'; and 2 more" */
static char *missing_message(const struct nameset *missing)
{
	size_t shown = missing->n < TMPL_MAX_MISSING ? missing->n
						      : TMPL_MAX_MISSING;
	size_t cap = shown * (TMPL_MAX_NAME + 48) + 48, len = 0;
	char *msg = malloc(cap);

	if (msg == NULL)
		return NULL;
	msg[0] = '\0';
	for (size_t k = 0; k < shown; k++)
		len += (size_t)snprintf(msg + len, cap - len,
					"%sline %u: missing variable '%s'",
					k ? "; " : "", missing->lines[k],
					missing->names[k]);
	if (missing->n > shown)
		snprintf(msg + len, cap - len, "; and %zu more",
			 missing->n - shown);
	return msg;
}

int tmpl_render(const char *tmpl, size_t len, tmpl_lookup_fn lookup,
		void *ctx, char **out, size_t *outlen, char **err)
{
	struct scanner s = { .t = tmpl, .len = len, .line = 1 };
	struct outbuf o = { 0 };
	struct nameset missing = { 0 };
	struct token tok;
	const char *v;
	int r, ret = -1;

	*err = NULL;
	if (check_size(len, err) < 0)
		goto out;
	if (out_reserve(&o, len < 256 ? len : len + len / 8) < 0)
		goto nomem;
	while ((r = scan_next(&s, &tok, err)) == 1) {
		if (put_bytes(&o, tok.lit, tok.litlen, missing.n == 0) < 0)
			goto nomem;
		if (!tok.has_var)
			continue;
		v = lookup(ctx, tok.name);
		if (v == NULL) {
			if (nameset_add(&missing, tok.name, tok.line) < 0)
				goto nomem;
		} else if (put_value(&o, v, missing.n == 0) < 0) {
			goto nomem;
		}
	}
	if (r < 0)
		goto out;
	if (missing.n > 0) {
		*err = missing_message(&missing);
		goto out;
	}
	if (o.total > TMPL_MAX_SIZE) {
		*err = str_printf("rendered template too large (%zu bytes, limit %u)",
				o.total, TMPL_MAX_SIZE);
		goto out;
	}
	o.p[o.len] = '\0';
	*out = o.p;
	*outlen = o.len;
	o.p = NULL;
	ret = 0;
	goto out;
nomem:
	free(*err);
	*err = strdup("out of memory");
out:
	free(o.p);
	nameset_free(&missing);
	return ret;
}

int tmpl_names(const char *tmpl, size_t len,
	       void (*each)(void *ctx, const char *name), void *ctx,
	       char **err)
{
	struct scanner s = { .t = tmpl, .len = len, .line = 1 };
	struct nameset names = { 0 };
	struct token tok;
	int r, ret = -1;

	*err = NULL;
	if (check_size(len, err) < 0)
		goto out;
	while ((r = scan_next(&s, &tok, err)) == 1) {
		if (tok.has_var && nameset_add(&names, tok.name, tok.line) < 0) {
			*err = strdup("out of memory");
			goto out;
		}
	}
	if (r < 0)
		goto out;
	/* Only a template without errors is reported. */
	for (size_t k = 0; k < names.n; k++)
		each(ctx, names.names[k]);
	ret = 0;
out:
	nameset_free(&names);
	return ret;
}
