#include "config.h"

/* fuzz_tmpl: tmpl_render() and tmpl_names() on arbitrary templates.
 *
 * The lookup knows a few names; their values are non-empty, hold XML
 * specials and no '$' (most are exactly "<&>"; one is "{{a}}", which must
 * come out as text).  Invariants:
 *  - tmpl_names() reports valid, distinct names; every name the renderer
 *    looks up is valid;
 *  - a template tmpl_names() refuses is refused by tmpl_render() too; one
 *    it accepts renders when every name is known and fails naming the
 *    first unknown name otherwise;
 *  - a rendered output is NUL-terminated at outlen; it holds exactly as
 *    many '<', '>', '"', '\'' and '$' as the template (values add none,
 *    and none of these can sit inside a valid "{{ name }}"), and it holds
 *    "<&>" only if the template itself does (a value is never raw). */

#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "tmpl/tmpl.h"

#define RAW "<&>"
#define MAX_DISTINCT_CHECK 64 /* names compared pairwise */
/* No rendered output can reach TMPL_MAX_SIZE below this input size: every
 * value escapes to less than 32 bytes, and a reference takes 5 or more. */
#define MAX_EXPANDABLE (TMPL_MAX_SIZE / 32)

static const struct {
	const char *name, *value;
} known[] = {
    {"a", RAW},
    {"name", RAW},
    {"x.y-z", RAW},
    {"sip_password", "p&w<rd>\"'"},
    {"mac", "0022bd010203"},
    {"_", "{{a}}"},
};

#define N_KNOWN (sizeof(known) / sizeof(known[0]))

static const char *lookup(void *ctx, const char *name)
{
	unsigned *calls = ctx;

	FUZZ_CHECK(tmpl_name_valid(name));
	(*calls)++;
	for (size_t i = 0; i < N_KNOWN; i++)
		if (strcmp(name, known[i].name) == 0)
			return known[i].value;
	return NULL;
}

struct names {
	char *list[MAX_DISTINCT_CHECK];
	size_t n;	     /* names reported */
	char *first_unknown; /* malloc'd */
};

static void each(void *ctx, const char *name)
{
	struct names *ns = ctx;
	int is_known = 0;

	FUZZ_CHECK(tmpl_name_valid(name));
	if (ns->n < MAX_DISTINCT_CHECK) {
		for (size_t i = 0; i < ns->n; i++)
			FUZZ_CHECK(strcmp(ns->list[i], name) != 0);
		ns->list[ns->n] = strdup(name);
		if (ns->list[ns->n] == NULL)
			abort();
	}
	ns->n++;
	for (size_t i = 0; i < N_KNOWN; i++)
		if (strcmp(name, known[i].name) == 0)
			is_known = 1;
	if (!is_known && ns->first_unknown == NULL &&
	    (ns->first_unknown = strdup(name)) == NULL)
		abort();
}

static size_t count(const char *s, size_t len, char c)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == c;
	return n;
}

static void check_output(const char *t, size_t len, const char *out,
			 size_t outlen)
{
	static const char specials[] = "<>\"'$";

	FUZZ_CHECK(out != NULL && out[outlen] == '\0');
	for (size_t i = 0; specials[i] != '\0'; i++)
		FUZZ_CHECK(count(out, outlen, specials[i]) ==
			   count(t, len, specials[i]));
	if (memmem(out, outlen, RAW, strlen(RAW)) != NULL)
		FUZZ_CHECK(memmem(t, len, RAW, strlen(RAW)) != NULL);
}

static void check_missing(const char *err, const char *name)
{
	char want[TMPL_MAX_NAME + 32];

	snprintf(want, sizeof(want), "missing variable '%s'", name);
	FUZZ_CHECK(strstr(err, want) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	struct names ns = {.n = 0};
	char *out = NULL, *err = NULL, *nerr = NULL;
	size_t outlen = 0;
	unsigned calls = 0;
	int rn, rr;

	rn = tmpl_names(t, size, each, &ns, &nerr);
	FUZZ_CHECK(rn == 0 || rn == -1);
	FUZZ_CHECK((rn == 0) == (nerr == NULL));
	if (rn < 0)
		FUZZ_CHECK(ns.n == 0); /* names only for a valid template */

	rr = tmpl_render(t, size, lookup, &calls, &out, &outlen, &err);
	FUZZ_CHECK(rr == 0 || rr == -1);
	FUZZ_CHECK((rr == 0) == (err == NULL));
	if (rr == 0)
		check_output(t, size, out, outlen);

	if (rn < 0)
		FUZZ_CHECK(rr < 0);
	else if (ns.first_unknown != NULL) {
		FUZZ_CHECK(rr < 0);
		check_missing(err, ns.first_unknown);
	} else if (size <= MAX_EXPANDABLE) {
		FUZZ_CHECK(rr == 0);
	}
	if (rr == 0)
		FUZZ_CHECK(calls >= ns.n);

	for (size_t i = 0; i < ns.n && i < MAX_DISTINCT_CHECK; i++)
		free(ns.list[i]);
	free(ns.first_unknown);
	free(out);
	free(err);
	free(nerr);
	return 0;
}
