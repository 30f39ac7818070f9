#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/report.h"

#define ROOT "flat-profile"
#define ROOT_LEN (sizeof(ROOT) - 1)

/* The scanner's state: the document and where we are. */
struct scan {
	const char *start, *s, *end;
	struct fleet_params *out;
	size_t cap;
	char **err;
};

/* Text being built: a value, decoded. */
struct text {
	char *buf;
	size_t len, cap;
};

static int fail(struct scan *sc, const char *at, const char *f, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct scan *sc, const char *at, const char *f, ...)
{
	char *reason = NULL;
	unsigned line = 1;
	va_list ap;

	for (const char *p = sc->start; p < at && p < sc->end; p++)
		line += *p == '\n';
	va_start(ap, f);
	if (vasprintf(&reason, f, ap) < 0)
		reason = NULL;
	va_end(ap);
	if (reason == NULL || asprintf(sc->err, "line %u: %s", line,
				       reason) < 0)
		*sc->err = NULL;
	free(reason);
	return -1;
}

static int starts(const struct scan *sc, const char *p, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(sc->end - p) >= n && memcmp(p, lit, n) == 0;
}

/* The first `lit` at or after p, or NULL. */
static const char *find(const struct scan *sc, const char *p, const char *lit)
{
	size_t n = strlen(lit);

	for (; p != NULL && (size_t)(sc->end - p) >= n; p++)
		if (memcmp(p, lit, n) == 0)
			return p;
	return NULL;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
	       c == ':';
}

static int text_add(struct text *t, const char *p, size_t n)
{
	char *nb;

	if (t->len + n > FLEET_REPORT_MAX_VALUE)
		return -1;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;

		while (cap < t->len + n + 1)
			cap *= 2;
		nb = realloc(t->buf, cap);
		if (nb == NULL)
			return -1;
		t->buf = nb;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
	t->buf[t->len] = '\0';
	return 0;
}

/* Code point as UTF-8 into out; its length, 0 if invalid. */
static size_t utf8(unsigned long cp, char out[4])
{
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decode the entity at p ('&'); *used gets its length, 0 if it is not
 * one we know (the '&' is then taken literally). */
static size_t entity(const char *p, const char *end, char out[4],
		     size_t *used)
{
	static const struct { const char *name; char c; } named[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	const char *semi = memchr(p, ';', (size_t)(end - p) < 12
						  ? (size_t)(end - p) : 12);
	unsigned long cp = 0;
	char *stop = NULL;
	size_t n;

	*used = 0;
	if (semi == NULL)
		return 0;
	n = (size_t)(semi - p) + 1;
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (strlen(named[i].name) == n &&
		    memcmp(p, named[i].name, n) == 0) {
			out[0] = named[i].c;
			*used = n;
			return 1;
		}
	}
	if (n < 4 || p[1] != '#')
		return 0;
	if (p[2] == 'x' || p[2] == 'X')
		cp = strtoul(p + 3, &stop, 16);
	else if (p[2] >= '0' && p[2] <= '9')
		cp = strtoul(p + 2, &stop, 10);
	if (stop != semi)
		return 0;
	n = utf8(cp, out);
	if (n > 0)
		*used = (size_t)(semi - p) + 1;
	return n;
}

/* Append text p..q decoded. */
static int text_decode(struct text *t, const char *p, const char *q)
{
	char buf[4];
	size_t used, n;

	while (p < q) {
		const char *amp = memchr(p, '&', (size_t)(q - p));

		if (amp == NULL)
			return text_add(t, p, (size_t)(q - p));
		if (text_add(t, p, (size_t)(amp - p)) < 0)
			return -1;
		n = entity(amp, q, buf, &used);
		if (used == 0) {
			if (text_add(t, "&", 1) < 0)
				return -1;
			p = amp + 1;
			continue;
		}
		if (text_add(t, buf, n) < 0)
			return -1;
		p = amp + used;
	}
	return 0;
}

/* Skip a comment, processing instruction or declaration at sc->s. 1 if
 * one was skipped, 0 if none is there, -1 if unterminated. */
static int skip_markup(struct scan *sc)
{
	static const struct { const char *open, *close; } kinds[] = {
		{ "<!--", "-->" }, { "<?", "?>" }, { "<![CDATA[", "]]>" },
		{ "<!", ">" },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *e;

		if (!starts(sc, sc->s, kinds[i].open))
			continue;
		e = find(sc, sc->s + strlen(kinds[i].open), kinds[i].close);
		if (e == NULL)
			return fail(sc, sc->s, "unterminated %s",
				    kinds[i].open);
		sc->s = e + strlen(kinds[i].close);
		return 1;
	}
	return 0;
}

/* sc->s is after "<name": skip attributes up to '>'.  *empty is 1 for
 * "/>".  0 or -1. */
static int skip_attrs(struct scan *sc, const char *tag, int *empty)
{
	char quote = 0;

	for (; sc->s < sc->end; sc->s++) {
		char c = *sc->s;

		if (quote != 0) {
			if (c == quote)
				quote = 0;
		} else if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '>') {
			*empty = sc->s[-1] == '/';
			sc->s++;
			return 0;
		} else if (c == '<') {
			break;
		}
	}
	return fail(sc, tag, "unterminated start tag");
}

static void trim(struct text *t)
{
	size_t a = 0;

	if (t->buf == NULL)
		return;
	while (a < t->len && is_blank(t->buf[a]))
		a++;
	while (t->len > a && is_blank(t->buf[t->len - 1]))
		t->len--;
	memmove(t->buf, t->buf + a, t->len - a);
	t->len -= a;
	t->buf[t->len] = '\0';
}

static int add_param(struct scan *sc, const char *name, size_t nlen,
		     struct text *value, const char *at)
{
	struct fleet_params *o = sc->out;
	struct fleet_param *np;

	if (o->n == FLEET_REPORT_MAX_PARAMS)
		return fail(sc, at, "more than %d parameters",
			    FLEET_REPORT_MAX_PARAMS);
	if (o->n == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 64;

		np = realloc(o->p, cap * sizeof(*np));
		if (np == NULL)
			return fail(sc, at, "out of memory");
		o->p = np;
		sc->cap = cap;
	}
	if (value->buf == NULL && text_add(value, "", 0) < 0)
		return fail(sc, at, "out of memory");
	trim(value);
	np = &o->p[o->n];
	np->name = strndup(name, nlen);
	if (np->name == NULL)
		return fail(sc, at, "out of memory");
	np->value = value->buf;
	np->pos = o->n;
	value->buf = NULL;
	o->n++;
	return 0;
}

/* The value of an element, from after its start tag to its end tag. */
static int element_value(struct scan *sc, const char *name, size_t nlen,
			 struct text *v)
{
	const char *tag = sc->s;

	for (;;) {
		const char *lt = memchr(sc->s, '<', (size_t)(sc->end - sc->s));
		const char *e;

		if (lt == NULL)
			return fail(sc, tag, "no end tag for <%.*s>",
				    (int)nlen, name);
		if (text_decode(v, sc->s, lt) < 0)
			return fail(sc, lt, "value of <%.*s> over %d bytes",
				    (int)nlen, name, FLEET_REPORT_MAX_VALUE);
		sc->s = lt;
		if (starts(sc, lt, "<![CDATA[")) {
			e = find(sc, lt + 9, "]]>");
			if (e == NULL || text_add(v, lt + 9,
						  (size_t)(e - lt - 9)) < 0)
				return fail(sc, lt, "bad CDATA section");
			sc->s = e + 3;
			continue;
		}
		if (starts(sc, lt, "<!--")) {
			if (skip_markup(sc) < 0)
				return -1;
			continue;
		}
		if (lt + 2 + nlen <= sc->end && lt[1] == '/' &&
		    memcmp(lt + 2, name, nlen) == 0) {
			sc->s = lt + 2 + nlen;
			while (sc->s < sc->end && is_blank(*sc->s))
				sc->s++;
			if (sc->s < sc->end && *sc->s == '>') {
				sc->s++;
				return 0;
			}
		}
		return fail(sc, lt, "unexpected markup inside <%.*s>",
			    (int)nlen, name);
	}
}

/* One element at sc->s ('<' followed by a name). */
static int element(struct scan *sc)
{
	const char *tag = sc->s, *name = sc->s + 1;
	struct text v = { 0 };
	size_t nlen = 0;
	int empty = 0, ret = -1;

	while (name + nlen < sc->end && name_char(name[nlen]))
		nlen++;
	if (nlen == 0)
		return fail(sc, tag, "expected an element name after '<'");
	if (nlen > FLEET_REPORT_MAX_NAME)
		return fail(sc, tag, "element name over %d bytes",
			    FLEET_REPORT_MAX_NAME);
	sc->s = name + nlen;
	if (skip_attrs(sc, tag, &empty) < 0)
		goto out;
	if (!empty && element_value(sc, name, nlen, &v) < 0)
		goto out;
	ret = add_param(sc, name, nlen, &v, tag);
out:
	free(v.buf);
	return ret;
}

/* Move sc->s after the start tag of <flat-profile>; 1 if it was "<.../>",
 * 0 otherwise, -1 if there is none. */
static int find_root(struct scan *sc)
{
	const char *p = sc->start;
	int empty = 0;

	while ((p = find(sc, p, "<" ROOT)) != NULL) {
		const char *after = p + 1 + ROOT_LEN;

		if (after < sc->end && (is_blank(*after) || *after == '>' ||
					*after == '/')) {
			sc->s = after;
			if (skip_attrs(sc, p, &empty) < 0)
				return -1;
			return empty;
		}
		p++;
	}
	return fail(sc, sc->start, "no <" ROOT "> element");
}

static int by_name(const void *a, const void *b)
{
	const struct fleet_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Sort by name; of repeated names keep the first. */
static void sort_unique(struct fleet_params *o)
{
	size_t k = 0;

	if (o->n == 0)
		return;
	qsort(o->p, o->n, sizeof(*o->p), by_name);
	for (size_t i = 1; i < o->n; i++) {
		if (strcmp(o->p[i].name, o->p[k].name) == 0) {
			free(o->p[i].name);
			free(o->p[i].value);
			continue;
		}
		o->p[++k] = o->p[i];
	}
	o->n = k + 1;
}

static int scan_body(struct scan *sc)
{
	for (;;) {
		int r;

		while (sc->s < sc->end && *sc->s != '<')
			sc->s++;
		if (sc->s >= sc->end)
			return fail(sc, sc->end, "no </" ROOT ">");
		if ((r = skip_markup(sc)) != 0) {
			if (r < 0)
				return -1;
			continue;
		}
		if (starts(sc, sc->s, "</" ROOT))
			return 0;
		if (starts(sc, sc->s, "</"))
			return fail(sc, sc->s, "unexpected end tag");
		if (element(sc) < 0)
			return -1;
	}
}

int fleet_params_parse(const char *xml, size_t len, struct fleet_params *out,
		       char **err)
{
	struct scan sc = { .start = xml, .s = xml, .end = xml + len,
			   .out = out, .err = err };
	int r;

	*err = NULL;
	out->p = NULL;
	out->n = 0;
	r = find_root(&sc);
	if (r == 0)
		r = scan_body(&sc);
	else if (r == 1)
		r = 0;   /* <flat-profile/>: no parameters */
	if (r < 0) {
		if (*err == NULL)
			*err = strdup("out of memory");
		fleet_params_free(out);
		return -1;
	}
	sort_unique(out);
	return 0;
}

void fleet_params_free(struct fleet_params *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->p[i].name);
		free(p->p[i].value);
	}
	free(p->p);
	p->p = NULL;
	p->n = 0;
}

static int name_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct fleet_param *)elem)->name);
}

const char *fleet_params_get(const struct fleet_params *p, const char *name)
{
	const struct fleet_param *f;

	if (p->n == 0)
		return NULL;
	f = bsearch(name, p->p, p->n, sizeof(*p->p), name_cmp);
	return f != NULL ? f->value : NULL;
}

size_t fleet_params_diff(const struct fleet_params *served,
			 const struct fleet_params *reported,
			 void (*diff)(void *ctx, const char *name,
				      const char *served,
				      const char *reported),
			 void *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < served->n; i++) {
		const struct fleet_param *s = &served->p[i];
		const char *r = fleet_params_get(reported, s->name);

		if (r != NULL && strcmp(r, s->value) == 0)
			continue;
		diff(ctx, s->name, s->value, r);
		n++;
	}
	return n;
}
