/*
 * parse_format_list (-f): "webp,avif,jpeg,png" ("jpg" is jpeg).  A
 * parsed list holds 1..FMT_COUNT distinct formats in the order first
 * named, and equals an independent reading of the same text.
 */
#include "fuzz.h"
#include "options.h"

static int
ref_format(const char *s, size_t len)
{
	static const struct { const char *name; int f; } names[] = {
		{ "webp", FMT_WEBP }, { "avif", FMT_AVIF }, { "jpeg", FMT_JPEG },
		{ "jpg", FMT_JPEG }, { "png", FMT_PNG },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len && !memcmp(s, names[i].name, len))
			return names[i].f;
	return -1;
}

static int
ref_formats(const char *s, int *out, int *n)
{
	int seen[FMT_COUNT] = { 0 };

	*n = 0;
	for (;;) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		int f = ref_format(s, len);

		if (f < 0)
			return -1;
		if (!seen[f]++)
			out[(*n)++] = f;
		if (!end)
			return 0;
		s = end + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* one slot more than allowed, to catch a write past FMT_COUNT */
	enum out_format got[FMT_COUNT + 1];
	int want[FMT_COUNT], seen[FMT_COUNT] = { 0 };
	char *s = fuzz_cstr(data, size);
	int n = -1, want_n = -1, rc, i;

	got[FMT_COUNT] = (enum out_format)-1;
	rc = parse_format_list(s, got, &n);
	CHECK(rc == 0 || rc == -1);
	CHECK(rc == ref_formats(s, want, &want_n));
	CHECK(got[FMT_COUNT] == (enum out_format)-1);
	if (rc == 0) {
		CHECK(n >= 1 && n <= FMT_COUNT && n == want_n);
		for (i = 0; i < n; i++) {
			CHECK((int)got[i] >= 0 && (int)got[i] < FMT_COUNT);
			CHECK(!seen[got[i]]++);
			CHECK((int)got[i] == want[i]);
		}
	}
	free(s);
	return 0;
}
