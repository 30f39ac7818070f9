#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl/tmpl.h"

/* Variables: a NULL-terminated array of name, value pairs. */
static const char *lookup(void *ctx, const char *name)
{
	const char *const *kv = ctx;

	for (; kv[0] != NULL; kv += 2)
		if (strcmp(kv[0], name) == 0)
			return kv[1];
	return NULL;
}

static const char *const vars[] = {
	"mac", "0011223344ab",
	"user", "alice",
	"pw", "a&b<c>d\"e'f",
	"braces", "{{mac}}",
	"empty", "",
	"x.y-z", "dotted",
	NULL, NULL,
};

static int lookup_calls;

static const char *counting_lookup(void *ctx, const char *name)
{
	lookup_calls++;
	return lookup(ctx, name);
}

/* Renders t; returns the output (caller frees) or NULL with *err set. */
static char *render(const char *t, char **err)
{
	char *out = NULL;
	size_t outlen = 12345;

	*err = NULL;
	if (tmpl_render(t, strlen(t), lookup, (void *)vars, &out, &outlen,
			err) < 0) {
		ck_assert_ptr_nonnull(*err);
		return NULL;
	}
	ck_assert_ptr_null(*err);
	ck_assert_uint_eq(outlen, strlen(out));
	return out;
}

static void expect_out(const char *t, const char *want)
{
	char *err, *out = render(t, &err);

	ck_assert_msg(out != NULL, "render failed: %s", err);
	ck_assert_str_eq(out, want);
	free(out);
}

static void expect_err(const char *t, const char *want)
{
	char *err, *out = render(t, &err);

	ck_assert_msg(out == NULL, "render succeeded: %s", out);
	ck_assert_str_eq(err, want);
	free(err);
}

START_TEST(escapes_all_five)
{
	expect_out("<Pw>{{pw}}</Pw>", "<Pw>a&amp;b&lt;c&gt;d&quot;e&apos;f</Pw>");
	expect_out("{{empty}}|{{ x.y-z }}", "|dotted");
}
END_TEST

START_TEST(literal_text_untouched)
{
	/* markup in the template itself is not escaped */
	expect_out("<a x=\"1\">&amp;'</a>", "<a x=\"1\">&amp;'</a>");
	expect_out("line1\nline2\n", "line1\nline2\n");
}
END_TEST

START_TEST(dollar_macros_untouched)
{
	expect_out("<Profile_Rule>https://p/spa$MA.xml</Profile_Rule>",
		   "<Profile_Rule>https://p/spa$MA.xml</Profile_Rule>");
	expect_out("/spa$MA.xml $$ $PSN $ {{mac}}$MAU",
		   "/spa$MA.xml $$ $PSN $ 0011223344ab$MAU");
	expect_out("$", "$");
	expect_out("${{user}}$", "$alice$");
}
END_TEST

START_TEST(whitespace_in_braces)
{
	expect_out("[{{mac}}][{{ mac }}][{{\tmac \t}}][{{   mac}}]",
		   "[0011223344ab][0011223344ab][0011223344ab][0011223344ab]");
}
END_TEST

START_TEST(lone_braces_literal)
{
	expect_out("{", "{");
	expect_out("}", "}");
	expect_out("a{b}c}}d", "a{b}c}}d");
	expect_out("{ {mac} }", "{ {mac} }");
	expect_out("{{{mac}}}", "{0011223344ab}");
	expect_out("{{{{mac}}", "{{0011223344ab");
	expect_out("{{mac}}}}", "0011223344ab}}");
}
END_TEST

START_TEST(missing_variables)
{
	expect_err("<U>{{user}}</U>\n<P>{{ sip_password }}</P>\n",
		   "line 2: missing variable 'sip_password'");
	/* every distinct missing name once, at its first use */
	expect_err("{{a}}\n\n{{mac}}{{a}}\n\n\n\n\n\n{{b}}\n{{a}}",
		   "line 1: missing variable 'a'; line 9: missing variable 'b'");
}
END_TEST

START_TEST(missing_variables_capped)
{
	expect_err("{{v1}}{{v2}}{{v3}}{{v4}}{{v5}}{{v6}}\n"
		   "{{v7}}{{v8}}{{v9}}{{v10}}{{v11}}{{v12}}",
		   "line 1: missing variable 'v1'; line 1: missing variable 'v2'; "
		   "line 1: missing variable 'v3'; line 1: missing variable 'v4'; "
		   "line 1: missing variable 'v5'; line 1: missing variable 'v6'; "
		   "line 2: missing variable 'v7'; line 2: missing variable 'v8'; "
		   "line 2: missing variable 'v9'; line 2: missing variable 'v10'; "
		   "and 2 more");
}
END_TEST

START_TEST(missing_gives_no_output)
{
	char *out = (char *)"untouched", *err = NULL;
	size_t outlen = 99;

	ck_assert_int_eq(tmpl_render("x{{nope}}y", 10, lookup, (void *)vars,
				     &out, &outlen, &err), -1);
	ck_assert_str_eq(out, "untouched");
	ck_assert_uint_eq(outlen, 99);
	ck_assert_str_eq(err, "line 1: missing variable 'nope'");
	free(err);
}
END_TEST

START_TEST(unterminated)
{
	expect_err("a\nb {{mac", "line 2: unterminated '{{'");
	expect_err("{{mac}", "line 1: unterminated '{{'");
	expect_err("{{", "line 1: unterminated '{{'");
	/* a variable does not span lines */
	expect_err("x\n\n{{ mac\n}}", "line 3: unterminated '{{'");
	/* a syntax error wins over an earlier missing variable */
	expect_err("{{nope}}\n{{mac", "line 2: unterminated '{{'");
}
END_TEST

START_TEST(invalid_names)
{
	expect_err("\n{{ 1abc }}", "line 2: invalid variable name '1abc'");
	expect_err("{{}}", "line 1: invalid variable name ''");
	expect_err("{{   }}", "line 1: invalid variable name ''");
	expect_err("{{a b}}", "line 1: invalid variable name 'a b'");
	expect_err("{{$MA}}", "line 1: invalid variable name '$MA'");
	expect_err("{{a}b}}", "line 1: invalid variable name 'a}b'");
	expect_err("{{a\001}}", "line 1: invalid variable name 'a?'");
}
END_TEST

START_TEST(name_length_limit)
{
	char t[TMPL_MAX_NAME + 8], want[256], *err, *out;
	const char *v[] = { NULL, "V", NULL, NULL };
	size_t outlen;

	memset(t, 'n', sizeof(t));
	memcpy(t, "{{", 2);
	memcpy(t + 2 + TMPL_MAX_NAME, "}}", 3);
	v[0] = strndup(t + 2, TMPL_MAX_NAME);
	ck_assert_int_eq(tmpl_render(t, strlen(t), lookup, v, &out, &outlen,
				     &err), 0);
	ck_assert_str_eq(out, "V");
	free(out);
	free((char *)v[0]);

	memset(t, 'n', sizeof(t));
	memcpy(t, "{{", 2);
	memcpy(t + 3 + TMPL_MAX_NAME, "}}", 3);
	snprintf(want, sizeof(want), "line 1: invalid variable name '%.64s...'",
		 t + 2);
	ck_assert_int_eq(tmpl_render(t, strlen(t), lookup, (void *)vars, &out,
				     &outlen, &err), -1);
	ck_assert_str_eq(err, want);
	free(err);
}
END_TEST

START_TEST(name_valid)
{
	ck_assert(tmpl_name_valid("a"));
	ck_assert(tmpl_name_valid("_"));
	ck_assert(tmpl_name_valid("sip_password"));
	ck_assert(tmpl_name_valid("Line1.User-ID_2"));
	ck_assert(!tmpl_name_valid(""));
	ck_assert(!tmpl_name_valid(NULL));
	ck_assert(!tmpl_name_valid("1a"));
	ck_assert(!tmpl_name_valid(".a"));
	ck_assert(!tmpl_name_valid("-a"));
	ck_assert(!tmpl_name_valid("a b"));
	ck_assert(!tmpl_name_valid("a$"));
	ck_assert(tmpl_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	ck_assert(!tmpl_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}
END_TEST

START_TEST(value_not_reexpanded)
{
	char *out, *err;
	size_t outlen;
	const char *t = "[{{braces}}]";

	lookup_calls = 0;
	ck_assert_int_eq(tmpl_render(t, strlen(t), counting_lookup,
				     (void *)vars, &out, &outlen, &err), 0);
	ck_assert_str_eq(out, "[{{mac}}]");
	ck_assert_int_eq(lookup_calls, 1);
	free(out);
}
END_TEST

START_TEST(empty_template)
{
	char *out = NULL, *err = NULL;
	size_t outlen = 7;

	ck_assert_int_eq(tmpl_render("", 0, lookup, (void *)vars, &out,
				     &outlen, &err), 0);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(outlen, 0);
	free(out);
	ck_assert_int_eq(tmpl_render(NULL, 0, lookup, (void *)vars, &out,
				     &outlen, &err), 0);
	ck_assert_str_eq(out, "");
	free(out);
}
END_TEST

START_TEST(embedded_nul_copied)
{
	const char t[] = "a\0b{{user}}\0";
	char *out, *err;
	size_t outlen;

	ck_assert_int_eq(tmpl_render(t, sizeof(t) - 1, lookup, (void *)vars,
				     &out, &outlen, &err), 0);
	ck_assert_uint_eq(outlen, 9);
	ck_assert_mem_eq(out, "a\0balice\0", 10);
	free(out);
}
END_TEST

START_TEST(size_limit_template)
{
	size_t len = TMPL_MAX_SIZE + 1;
	char *t = malloc(len), *out = NULL, *err = NULL, want[128];
	size_t outlen;

	ck_assert_ptr_nonnull(t);
	memset(t, 'x', len);
	snprintf(want, sizeof(want), "template too large (%zu bytes, limit %u)",
		 len, TMPL_MAX_SIZE);
	ck_assert_int_eq(tmpl_render(t, len, lookup, (void *)vars, &out,
				     &outlen, &err), -1);
	ck_assert_str_eq(err, want);
	free(err);
	ck_assert_int_eq(tmpl_names(t, len, NULL, NULL, &err), -1);
	ck_assert_str_eq(err, want);
	free(err);

	/* exactly the limit is fine */
	ck_assert_int_eq(tmpl_render(t, len - 1, lookup, (void *)vars, &out,
				     &outlen, &err), 0);
	ck_assert_uint_eq(outlen, TMPL_MAX_SIZE);
	ck_assert_uint_eq(strlen(out), TMPL_MAX_SIZE);
	free(out);
	free(t);
}
END_TEST

START_TEST(size_limit_output)
{
	/* many "{{pw}}" lines: each 7 bytes in, much more out */
	static const char line[] = "{{pw}}\n";
	static const char expanded[] = "a&amp;b&lt;c&gt;d&quot;e&apos;f\n";
	size_t in = strlen(line), grow = strlen(expanded);
	size_t n = TMPL_MAX_SIZE / grow + 1, len = n * in;
	char *t = malloc(len + 1), *out = NULL, *err = NULL, want[128];
	size_t outlen;

	ck_assert_ptr_nonnull(t);
	for (size_t i = 0; i < n; i++)
		memcpy(t + i * in, line, in);
	t[len] = '\0';
	snprintf(want, sizeof(want),
		 "rendered template too large (%zu bytes, limit %u)", n * grow,
		 TMPL_MAX_SIZE);
	ck_assert_int_eq(tmpl_render(t, len, lookup, (void *)vars, &out,
				     &outlen, &err), -1);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err, want);
	free(err);
	/* one line fewer fits */
	ck_assert_int_eq(tmpl_render(t, len - in, lookup, (void *)vars, &out,
				     &outlen, &err), 0);
	ck_assert_uint_eq(outlen, (n - 1) * grow);
	ck_assert_str_eq(out + outlen - grow, expanded);
	free(out);
	free(t);
}
END_TEST

/* tmpl_names collects into a '|'-separated string */
static void collect(void *ctx, const char *name)
{
	char *buf = ctx;

	strcat(buf, name);
	strcat(buf, "|");
}

START_TEST(names_in_order)
{
	char buf[256] = "", *err = NULL;
	const char *t = "{{b}} {{ a }}\n{{b}}{{c.d}}$MA{{a}}{{e-f}}";

	ck_assert_int_eq(tmpl_names(t, strlen(t), collect, buf, &err), 0);
	ck_assert_ptr_null(err);
	ck_assert_str_eq(buf, "b|a|c.d|e-f|");
}
END_TEST

START_TEST(names_many_distinct)
{
	/* enough names to make the set rehash several times */
	size_t n = 5000, len = 0;
	char *t = malloc(n * 24), *err = NULL;
	static char buf[5000 * 10];
	size_t bars = 0;

	ck_assert_ptr_nonnull(t);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(t + len, "{{v%zu}}{{v%zu}}", i, i / 2);
	buf[0] = '\0';
	ck_assert_int_eq(tmpl_names(t, len, collect, buf, &err), 0);
	ck_assert(strncmp(buf, "v0|v1|v2|v3|v4|", 15) == 0);
	ck_assert(strstr(buf, "|v4999|") != NULL);
	for (char *p = buf; *p; p++)
		bars += *p == '|';
	ck_assert_uint_eq(bars, n);
	free(err);
	free(t);
}
END_TEST

START_TEST(names_errors_no_callback)
{
	char buf[256] = "", *err = NULL;
	const char *t = "{{a}}\n{{b}}\n{{ c d }}";

	ck_assert_int_eq(tmpl_names(t, strlen(t), collect, buf, &err), -1);
	ck_assert_str_eq(err, "line 3: invalid variable name 'c d'");
	ck_assert_str_eq(buf, "");
	free(err);
	t = "{{a}}{{b";
	ck_assert_int_eq(tmpl_names(t, strlen(t), collect, buf, &err), -1);
	ck_assert_str_eq(err, "line 1: unterminated '{{'");
	free(err);
	ck_assert_int_eq(tmpl_names("", 0, collect, buf, &err), 0);
	ck_assert_str_eq(buf, "");
}
END_TEST

static Suite *tmpl_suite(void)
{
	Suite *s = suite_create("tmpl");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, escapes_all_five);
	tcase_add_test(tc, literal_text_untouched);
	tcase_add_test(tc, dollar_macros_untouched);
	tcase_add_test(tc, whitespace_in_braces);
	tcase_add_test(tc, lone_braces_literal);
	tcase_add_test(tc, missing_variables);
	tcase_add_test(tc, missing_variables_capped);
	tcase_add_test(tc, missing_gives_no_output);
	tcase_add_test(tc, unterminated);
	tcase_add_test(tc, invalid_names);
	tcase_add_test(tc, name_length_limit);
	tcase_add_test(tc, name_valid);
	tcase_add_test(tc, value_not_reexpanded);
	tcase_add_test(tc, empty_template);
	tcase_add_test(tc, embedded_nul_copied);
	tcase_add_test(tc, size_limit_template);
	tcase_add_test(tc, size_limit_output);
	tcase_add_test(tc, names_in_order);
	tcase_add_test(tc, names_many_distinct);
	tcase_add_test(tc, names_errors_no_callback);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tmpl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
