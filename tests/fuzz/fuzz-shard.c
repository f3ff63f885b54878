/*
 * shard_parse (--shard K/N) and shard_of.  A parsed share has
 * 0 <= K < N <= 1000000 and equals an independent reading of the same
 * text (decimal digits only on both sides of the one slash); the share
 * of any name, here the rest of the input, is in 0..N-1 and the same
 * when asked twice.
 */
#include <ctype.h>

#include "fuzz.h"
#include "shard.h"

static int
ref_num(const char *s, size_t len, long *out)
{
	long v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (v <= 1000000)
			v = v * 10 + (s[i] - '0');
	}
	if (v > 1000000)
		return -1;
	*out = v;
	return 0;
}

static int
ref_shard(const char *s, int *k, int *n)
{
	const char *slash = strchr(s, '/');
	long kk, nn;

	if (!slash || ref_num(s, (size_t)(slash - s), &kk) ||
	    ref_num(slash + 1, strlen(slash + 1), &nn) || nn < 1 || kk >= nn)
		return -1;
	*k = (int)kk;
	*n = (int)nn;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), *name;
	size_t len = strlen(s);
	int k = -1, n = -1, want_k = -1, want_n = -1, rc, share;

	/* the name after the first NUL, if any */
	name = len < size ? fuzz_cstr(data + len + 1, size - len - 1) : fuzz_cstr(data, 0);
	rc = shard_parse(s, &k, &n);
	CHECK(rc == 0 || rc == -1);
	CHECK(rc == ref_shard(s, &want_k, &want_n));
	if (rc == 0) {
		CHECK(n >= 1 && n <= 1000000 && k >= 0 && k < n);
		CHECK(k == want_k && n == want_n);
		share = shard_of(name, n);
		CHECK(share >= 0 && share < n);
		CHECK(share == shard_of(name, n));
		CHECK(shard_of(name, 1) == 0);
	}
	free(name);
	free(s);
	return 0;
}
