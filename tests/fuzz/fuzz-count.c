/*
 * parse_count: the sizes and counts of -M, --max-pixels and the like:
 * "1000", "64k", "512M", "2G" (binary multiples).  A parsed value is
 * 1..INT64_MAX (the manifest stores it as a JSON integer), a multiple of
 * its suffix, and equals what exact arithmetic on the same text gives:
 * no overflow may wrap around.
 */
#include <ctype.h>

#include "fuzz.h"
#include "options.h"

/* Digits, then at most one of kKmMgG; nothing else, no sign. */
static int
ref_count(const char *s, uint64_t *out, uint64_t *unit)
{
	uint64_t v = 0, mult = 1;
	int overflow = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++)
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			overflow = 1;
	switch (*s) {
	case 'k': case 'K':
		mult = 1ULL << 10;
		s++;
		break;
	case 'm': case 'M':
		mult = 1ULL << 20;
		s++;
		break;
	case 'g': case 'G':
		mult = 1ULL << 30;
		s++;
		break;
	}
	if (*s || overflow || v == 0 || __builtin_mul_overflow(v, mult, &v) ||
	    v > (uint64_t)INT64_MAX)
		return -1;
	*out = v;
	*unit = mult;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	uint64_t got = 0, want = 0, unit = 1;
	int rc = parse_count(s, &got), want_rc = ref_count(s, &want, &unit);

	CHECK(rc == 0 || rc == -1);
	CHECK(rc == want_rc);
	if (rc == 0) {
		CHECK(got >= 1 && got <= (uint64_t)INT64_MAX);
		CHECK(got % unit == 0);
		CHECK(got == want);
	}
	free(s);
	return 0;
}
