/*
 * libmagic decides what a file is; the file name never does.  The plan
 * stage reads the first bytes of each source and asks here, so a PNG
 * named x.jpg is decoded as a PNG and an SVG named x.jpg is refused.
 */
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sniff.h"

struct sniff {
	magic_t cookie;
};

struct sniff *
sniff_new(char *err, size_t errlen)
{
	struct sniff *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* images only: skip the costly archive, executable and text tests */
	s->cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS |
			       MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_ELF |
			       MAGIC_NO_CHECK_CDF | MAGIC_NO_CHECK_ENCODING);
	if (!s->cookie || magic_load(s->cookie, NULL)) {
		snprintf(err, errlen, "cannot load the libmagic database: %s",
			 s->cookie ? magic_error(s->cookie) : "out of memory");
		sniff_free(s);
		return NULL;
	}
	return s;
}

void
sniff_free(struct sniff *s)
{
	if (!s)
		return;
	if (s->cookie)
		magic_close(s->cookie);
	free(s);
}

const char *
sniff_buffer(struct sniff *s, const void *buf, size_t len)
{
	const char *mime = magic_buffer(s->cookie, buf, len);

	return mime ? mime : "application/octet-stream";
}

static const struct {
	const char *mime;
	enum src_type type;
	const char *exts;	/* space-separated */
} type_table[] = {
	{ "image/jpeg", SRC_JPEG, "jpg jpeg jpe jfif" },
	{ "image/png", SRC_PNG, "png" },
	{ "image/webp", SRC_WEBP, "webp" },
	{ "image/gif", SRC_GIF, "gif" },
	{ "image/tiff", SRC_TIFF, "tif tiff" },
	{ "image/avif", SRC_HEIF, "avif" },
	{ "image/heic", SRC_HEIF, "heic heif" },
	{ "image/heif", SRC_HEIF, "heif heic" },
	{ "image/heic-sequence", SRC_HEIF, "heic heif" },
	{ "image/heif-sequence", SRC_HEIF, "heif heic" },
};

enum src_type
sniff_type(const char *mime)
{
	size_t i;

	for (i = 0; i < sizeof(type_table) / sizeof(type_table[0]); i++)
		if (!strcmp(mime, type_table[i].mime))
			return type_table[i].type;
	return strncmp(mime, "image/", 6) ? SRC_NONE : SRC_OTHER;
}

int
sniff_ext_matches(enum src_type type, const char *ext)
{
	size_t i, elen = strlen(ext);

	/* a type of no decoder of ours: wrong only if the name claims one */
	if (type == SRC_OTHER) {
		for (i = SRC_JPEG; i <= SRC_HEIF; i++)
			if (sniff_ext_matches((enum src_type)i, ext))
				return 0;
		return 1;
	}
	for (i = 0; i < sizeof(type_table) / sizeof(type_table[0]); i++) {
		const char *p = type_table[i].exts;

		if (type_table[i].type != type)
			continue;
		while (*p) {
			size_t len = strcspn(p, " ");

			if (len == elen && !strncasecmp(p, ext, len))
				return 1;
			p += len;
			while (*p == ' ')
				p++;
		}
	}
	return 0;
}
