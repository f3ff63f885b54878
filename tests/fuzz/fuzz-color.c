/*
 * parse_color (--background): "#rrggbb", "#rgb" (each digit doubled),
 * "white", "black"; names and hex digits in either case.  Compared with an
 * independent reading of the same text.
 */
#include "fuzz.h"
#include "options.h"

static int
ref_hex(char c)
{
	const char *digits = "0123456789abcdef0123456789ABCDEF";
	const char *p = c ? strchr(digits, c) : NULL;

	return p ? (int)((p - digits) % 16) : -1;
}

/* s is name, lower-case, in any letter case: a letter and its other
 * case differ in bit 0x20 alone */
static int
ref_name(const char *s, const char *name)
{
	for (; *s && *name; s++, name++)
		if ((*s | 0x20) != *name)
			return 0;
	return !*s && !*name;
}

static int
ref_color(const char *s, unsigned char rgb[3])
{
	size_t len = strlen(s), i;
	int d[6];

	if (ref_name(s, "white") || ref_name(s, "black")) {
		rgb[0] = rgb[1] = rgb[2] = (s[0] | 0x20) == 'w' ? 255 : 0;
		return 0;
	}
	if (s[0] != '#' || (len != 4 && len != 7))
		return -1;
	for (i = 1; i < len; i++)
		if ((d[i - 1] = ref_hex(s[i])) < 0)
			return -1;
	for (i = 0; i < 3; i++)
		rgb[i] = (unsigned char)(len == 4 ? d[i] << 4 | d[i]
						  : d[2 * i] << 4 | d[2 * i + 1]);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char got[4] = { 1, 2, 3, 0xa5 }, want[3] = { 0, 0, 0 };
	char *s = fuzz_cstr(data, size);
	int rc = parse_color(s, got);

	CHECK(rc == 0 || rc == -1);
	CHECK(rc == ref_color(s, want));
	CHECK(got[3] == 0xa5);		/* nothing written past rgb[2] */
	if (rc == 0)
		CHECK(!memcmp(got, want, 3));
	free(s);
	return 0;
}
