/*
 * Shared by the libFuzzer targets in this directory.  Each target feeds
 * one of imgbake's own parsers and checks what it returns against the
 * parser's contract; a broken invariant aborts, so libFuzzer saves the
 * input exactly as it does for a crash.
 */
#ifndef IMGBAKE_FUZZ_H
#define IMGBAKE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Written to fd 2 directly: a target may point stderr at /dev/null to
 * silence the usage errors of the code under test. */
#define CHECK(cond) do { \
	if (!(cond)) \
		fuzz_fail(#cond, __FILE__, __LINE__); \
} while (0)

static inline void
fuzz_fail(const char *what, const char *file, int line)
{
	dprintf(2, "%s:%d: invariant violated: %s\n", file, line, what);
	abort();
}

/* The input as a C string, as it would arrive in argv: an embedded NUL
 * ends it.  The caller frees. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static inline int
fuzz_streq(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

#endif
