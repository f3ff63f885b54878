/*
 * parse_width_list (-w): "480,960,1920".  A parsed list is non-empty,
 * strictly ascending (sorted, repeats dropped), every width 1..100000,
 * and equals what an independent reading of the same text gives.
 */
#include <ctype.h>

#include "fuzz.h"
#include "options.h"

#define MAX_WIDTHS 4096

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Items of 1..15 decimal digits (leading zeros allowed), 1..100000. */
static int
ref_widths(const char *s, int *w, int *n)
{
	int count = 0, i, j;

	for (;;) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s), k;
		long v = 0;

		if (len == 0 || len > 15 || count == MAX_WIDTHS)
			return -1;
		for (k = 0; k < len; k++) {
			if (!isdigit((unsigned char)s[k]))
				return -1;
			if (v <= 100000)
				v = v * 10 + (s[k] - '0');
		}
		if (v < 1 || v > 100000)
			return -1;
		w[count++] = (int)v;
		if (!end)
			break;
		s = end + 1;
	}
	qsort(w, (size_t)count, sizeof(*w), cmp_int);
	for (i = j = 0; i < count; i++)
		if (j == 0 || w[j - 1] != w[i])
			w[j++] = w[i];
	*n = j;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int want[MAX_WIDTHS];
	char *s = fuzz_cstr(data, size);
	int *got = NULL, n = -1, want_n = -1, rc, want_rc, i;

	rc = parse_width_list(s, &got, &n);
	want_rc = ref_widths(s, want, &want_n);
	CHECK(rc == 0 || rc == -1);
	CHECK(rc == want_rc);
	if (rc == 0) {
		CHECK(got != NULL);
		CHECK(n >= 1 && n == want_n);
		for (i = 0; i < n; i++) {
			CHECK(got[i] >= 1 && got[i] <= 100000);
			CHECK(i == 0 || got[i - 1] < got[i]);
			CHECK(got[i] == want[i]);
		}
		free(got);
	}
	free(s);
	return 0;
}
