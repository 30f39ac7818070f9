/* fuzz: the libFuzzer entry point every target in this folder defines.
 *
 * Each fuzz_<target>.c is linked either with libFuzzer (fuzz_<target>,
 * clang, --enable-fuzzing) or with replay.c (replay_<target>, any
 * compiler, run by `make check` over fuzz/corpus/<target>/).  A target
 * checks invariants of the parser's output and calls abort() when one
 * does not hold, so that both drivers report it. */
#ifndef SPAPROV_FUZZ_H
#define SPAPROV_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run one input; always returns 0 (libFuzzer reserves other values). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with a message on stderr naming the broken invariant. */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(__FILE__, __LINE__, #cond);                  \
	} while (0)

static inline __attribute__((noreturn)) void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

/* 1 if the field of `size` bytes holds a NUL, i.e. is a C string. */
static inline int fuzz_terminated(const char *field, size_t size)
{
	return memchr(field, '\0', size) != NULL;
}

/* 1 if s is exactly 12 lower-case hex digits. */
static inline int fuzz_is_mac(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 12;
}

/* A NUL-terminated copy of data[0..size) (aborts when out of memory). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
