/*
 * parse_quality (-Q): "80", or "webp=80,avif=50,jpeg=82".  Checked
 * against a second, independent reading of the grammar: both must
 * agree on accepting the spec and on every value it sets, a value is
 * always 1..100, and the PNG entry (lossless, no quality) is never
 * written.
 */
#include <ctype.h>

#include "fuzz.h"
#include "options.h"

/* Decimal digits only, value 1..100; leading zeros are allowed. */
static int
ref_number(const char *s, size_t len, int *out)
{
	long v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (v <= 100)
			v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 100)
		return -1;
	*out = (int)v;
	return 0;
}

static int
ref_format(const char *s, size_t len)
{
	if (len == 4 && !memcmp(s, "webp", 4))
		return FMT_WEBP;
	if (len == 4 && !memcmp(s, "avif", 4))
		return FMT_AVIF;
	if ((len == 4 && !memcmp(s, "jpeg", 4)) || (len == 3 && !memcmp(s, "jpg", 3)))
		return FMT_JPEG;
	return -1;	/* PNG has no quality */
}

static int
ref_quality(const char *s, int q[FMT_COUNT])
{
	const char *item = s;
	int f, v;

	if (isdigit((unsigned char)*s)) {
		if (ref_number(s, strlen(s), &v))
			return -1;
		q[FMT_WEBP] = q[FMT_AVIF] = q[FMT_JPEG] = v;
		return 0;
	}
	for (;;) {
		const char *end = strchr(item, ',');
		size_t len = end ? (size_t)(end - item) : strlen(item);
		const char *eq = memchr(item, '=', len);
		size_t nlen;

		if (!eq || (f = ref_format(item, (size_t)(eq - item))) < 0)
			return -1;
		nlen = len - (size_t)(eq - item) - 1;
		/* the parser copies the number into a char[8] */
		if (nlen > 7 || ref_number(eq + 1, nlen, &v))
			return -1;
		q[f] = v;
		if (!end)
			return 0;
		item = end + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the defaults, and a PNG entry no spec may touch */
	int got[FMT_COUNT] = { 80, 50, 80, -7 };
	int want[FMT_COUNT] = { 80, 50, 80, -7 };
	char *s = fuzz_cstr(data, size);
	int rc = parse_quality(s, got), f;

	CHECK(rc == 0 || rc == -1);
	CHECK(rc == ref_quality(s, want));
	if (rc == 0) {
		for (f = 0; f < FMT_COUNT; f++) {
			if (f == FMT_PNG)
				CHECK(got[f] == -7);
			else
				CHECK(got[f] >= 1 && got[f] <= 100);
			CHECK(got[f] == want[f]);
		}
	}
	free(s);
	return 0;
}
