/*
 * File names through the manifest and back: manifest.c writes a name
 * that is not UTF-8 with its bytes >= 0x80 as "\xNN" text (JSON strings
 * must be UTF-8), and manifest_path_value reads that back to the bytes.
 * Input: a file name (up to the first NUL).  Checked: the name written
 * as manifest.c writes it reads back unchanged, save for the case the
 * format cannot tell apart, a name that already holds "\xNN" text; and
 * any stored string reads back to something, never longer.
 */
#include <jansson.h>

#include "fuzz.h"
#include "manifest.h"

/* As manifest.c's writer stores a path. */
static json_t *
stored(const char *s)
{
	json_t *j = json_string(s);
	char *buf, *o;
	const unsigned char *p;

	if (j)
		return j;
	buf = malloc(4 * strlen(s) + 1);
	CHECK(buf);
	for (o = buf, p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80)
			*o++ = (char)*p;
		else
			o += sprintf(o, "\\x%02x", *p);
	}
	*o = '\0';
	j = json_string(buf);
	free(buf);
	return j;
}

/* Whether s holds "\xNN" text with NN >= 80, which reads as a byte. */
static int
has_escape_text(const char *s)
{
	for (; *s; s++)
		if (s[0] == '\\' && s[1] == 'x' && strchr("89abcdefABCDEF", s[2]) && s[2] &&
		    s[3] && strchr("0123456789abcdefABCDEF", s[3]))
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_cstr(data, size), *back;
	json_t *j = stored(name);

	CHECK(j);
	back = manifest_path_value(j);
	CHECK(back);
	CHECK(strlen(back) <= strlen(json_string_value(j)));
	if (!has_escape_text(name))
		CHECK(!strcmp(back, name));
	free(back);
	json_decref(j);

	/* the name as stored text, whatever it holds */
	if ((j = json_string(name))) {
		back = manifest_path_value(j);
		CHECK(back && strlen(back) <= strlen(name));
		free(back);
		json_decref(j);
	}
	free(name);
	return 0;
}
