/*
 * Lexical path handling for the mirrored output tree.  Nothing here
 * touches the file system, so every rule about where an output may
 * land is a pure function with a unit test.
 */
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"

/* Past the slashes at *p to the next component: its length, 0 at the
 * end. */
static size_t
next_component(const char **p)
{
	while (**p == '/')
		(*p)++;
	return strcspn(*p, "/");
}

char *
path_normalize(const char *path)
{
	size_t len = strlen(path);
	char *out = malloc(len + 2);
	const char *p = path;
	char *o = out;
	size_t seg;

	if (!out)
		return NULL;
	if (*p == '/')
		*o++ = '/';
	while ((seg = next_component(&p))) {
		if (!(seg == 1 && p[0] == '.')) {
			if (o > out && o[-1] != '/')
				*o++ = '/';
			memcpy(o, p, seg);
			o += seg;
		}
		p += seg;
	}
	if (o == out)
		*o++ = '.';
	*o = '\0';
	return out;
}

char *
path_absolute(const char *path, const char *cwd)
{
	char *joined = path[0] == '/' ? strdup(path) : path_join(cwd, path);
	char *out, *o;
	const char *p;
	size_t seg;

	if (!joined)
		return NULL;
	if (!(out = malloc(strlen(joined) + 2))) {
		free(joined);
		return NULL;
	}
	o = out;
	for (p = joined; (seg = next_component(&p)); ) {
		if (seg == 2 && p[0] == '.' && p[1] == '.') {
			/* back to the slash before the last component; "/.." is "/" */
			while (o > out && *--o != '/')
				;
		} else if (!(seg == 1 && p[0] == '.')) {
			*o++ = '/';
			memcpy(o, p, seg);
			o += seg;
		}
		p += seg;
	}
	if (o == out)
		*o++ = '/';
	*o = '\0';
	free(joined);
	return out;
}

int
path_has_dotdot(const char *path)
{
	const char *p = path;

	while (*p) {
		size_t seg = strcspn(p, "/");

		if (seg == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		p += seg;
		while (*p == '/')
			p++;
	}
	return 0;
}

char *
path_relative_to(const char *path, const char *base)
{
	size_t blen = strlen(base);

	if (blen == 1 && base[0] == '/')
		return path[0] == '/' && path[1] ? strdup(path + 1) : NULL;
	if (strncmp(path, base, blen) || path[blen] != '/' || !path[blen + 1])
		return NULL;
	return strdup(path + blen + 1);
}

char *
path_between(const char *from, const char *to)
{
	size_t k = 0, cut, ups = 0, len;
	const char *p, *rest;
	char *out, *o;

	while (from[k] && from[k] == to[k])
		k++;
	if (!from[k] && !to[k])
		return strdup(".");
	/* back to the last whole component both share */
	cut = k;
	if (!((!from[k] || from[k] == '/') && (!to[k] || to[k] == '/')))
		while (cut > 0 && from[cut - 1] != '/')
			cut--;
	for (p = from + cut; *p; ) {
		while (*p == '/')
			p++;
		if (*p)
			ups++;
		p += strcspn(p, "/");
	}
	for (rest = to + cut; *rest == '/'; rest++)
		;
	len = 3 * ups + strlen(rest) + 1;
	if (!(out = malloc(len)))
		return NULL;
	for (o = out; ups; ups--, o += 3)
		memcpy(o, "../", 3);
	if (*rest)
		strcpy(o, rest);
	else
		o[-1] = '\0';
	return out;
}

char *
path_rebase(const char *prefix, const char *path)
{
	char *norm = path_normalize(path), *out;
	const char *rest;
	size_t plen = strlen(prefix);

	if (!norm || norm[0] == '/')
		return norm;
	rest = strcmp(norm, ".") ? norm : "";
	/* the path's leading ".." climbs out of the prefix's last name */
	while ((!strncmp(rest, "../", 3) || !strcmp(rest, "..")) && plen) {
		size_t s = plen;

		while (s > 0 && prefix[s - 1] != '/')
			s--;
		if (plen - s == 2 && !strncmp(prefix + s, "..", 2))
			break;
		plen = s ? s - 1 : 0;
		rest += rest[2] ? 3 : 2;
	}
	if (!(out = malloc(plen + strlen(rest) + 3))) {
		free(norm);
		return NULL;
	}
	memcpy(out, prefix, plen);
	out[plen] = '\0';
	if (plen && *rest)
		strcat(out, "/");
	strcat(out, rest);
	if (!*out)
		strcpy(out, ".");
	free(norm);
	return out;
}

int
path_cmp_ptrs(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *
path_join(const char *a, const char *b)
{
	size_t alen = strlen(a), blen = strlen(b);
	char *out = malloc(alen + blen + 2);

	if (!out)
		return NULL;
	memcpy(out, a, alen);
	if (alen && blen && a[alen - 1] != '/')
		out[alen++] = '/';
	memcpy(out + alen, b, blen + 1);
	return out;
}

int
path_split(const char *path, char **dir, char **stem, const char **ext)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	size_t slen;

	/* ".profile" has no extension; "a." has an empty one */
	if (!dot || dot == base)
		dot = base + strlen(base);
	slen = (size_t)(dot - base);
	*dir = strndup(path, dlen);
	*stem = strndup(base, slen);
	*ext = *dot ? dot + 1 : dot;
	if (!*dir || !*stem) {
		free(*dir);
		free(*stem);
		return -1;
	}
	return 0;
}

char *
path_expand(const char *tmpl, const char *dir, const char *stem,
	int w, const char *ext, const char *hash)
{
	char wbuf[16] = "";
	size_t cap = 64, len = 0;
	char *out = malloc(cap), *norm;
	const char *p;

	if (!out)
		return NULL;
	if (w > 0)
		snprintf(wbuf, sizeof(wbuf), "%d", w);
	for (p = tmpl; *p; ) {
		const char *val = NULL;
		size_t vlen, skip = 1;

		if (!strncmp(p, "{dir}", 5))
			val = dir, skip = 5;
		else if (!strncmp(p, "{stem}", 6))
			val = stem, skip = 6;
		else if (!strncmp(p, "{w}", 3))
			val = wbuf, skip = 3;
		else if (!strncmp(p, "{ext}", 5))
			val = ext, skip = 5;
		else if (!strncmp(p, "{hash}", 6))
			val = hash, skip = 6;
		if (!val) {
			val = p;
			vlen = 1;
		} else {
			vlen = strlen(val);
		}
		if (len + vlen + 1 > cap) {
			char *grown;

			while (len + vlen + 1 > cap)
				cap *= 2;
			if (!(grown = realloc(out, cap))) {
				free(out);
				return NULL;
			}
			out = grown;
		}
		memcpy(out + len, val, vlen);
		len += vlen;
		p += skip;
	}
	out[len] = '\0';

	/* "{dir}/x" (or "{dir}//x") with an empty dir gives "/x": it means
	 * "x"; a name that starts with "/" itself leads out, below */
	for (p = out; *tmpl != '/' && *p == '/'; p++)
		;
	norm = path_normalize(p);
	free(out);
	if (norm && (!strcmp(norm, ".") || norm[0] == '/' || path_has_dotdot(norm))) {
		free(norm);
		errno = EINVAL;
		return NULL;
	}
	return norm;
}

/* The length of the UTF-8 sequence at s (2 to 4), or 0 if it is none:
 * a stray byte, an overlong form, a surrogate, or past U+10FFFF. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/* The escaped form of the character at s into out (9 bytes at the
 * most, NUL-terminated); *used: how many bytes of s it took.  With
 * `backslash`, a backslash is doubled. */
static void
quote_one(const char *s, char out[10], size_t *used, int backslash)
{
	unsigned char c = (unsigned char)*s;
	size_t n;

	*used = 1;
	if (c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f) {
		/* a C1 control in UTF-8: CSI, U+009B, is an escape sequence
		 * to many terminals */
		snprintf(out, 10, "\\xc2\\x%02x", (unsigned char)s[1]);
		*used = 2;
	} else if (c >= 0x80 && (n = utf8_len((const unsigned char *)s))) {
		memcpy(out, s, n);
		out[n] = '\0';
		*used = n;
	} else if (c >= 0x80) {
		/* as the manifest writes it (0x9b alone is CSI to an 8-bit
		 * terminal) */
		snprintf(out, 10, "\\x%02x", c);
	} else if (c == '\\' && backslash) {
		/* so that the name "a\\n" reads apart from "a<LF>" */
		snprintf(out, 10, "\\\\");
	} else if (c == '\n') {
		snprintf(out, 10, "\\n");
	} else if (c == '\t') {
		snprintf(out, 10, "\\t");
	} else if (c < 0x20 || c == 0x7f) {
		snprintf(out, 10, "\\x%02x", c);
	} else {
		out[0] = (char)c;
		out[1] = '\0';
	}
}

char *
path_quote(const char *s, char *buf, size_t len)
{
	size_t o = 0, used, n;
	char one[10];

	if (!len)
		return buf;
	for (; *s && o + 9 < len; s += used) {
		quote_one(s, one, &used, 1);
		n = strlen(one);
		memcpy(buf + o, one, n);
		o += n;
	}
	if (*s && o + 4 <= len)
		o += (size_t)snprintf(buf + o, len - o, "...");
	buf[o < len ? o : len - 1] = '\0';
	return buf;
}

void
text_write_safe(FILE *f, const char *s)
{
	size_t used;
	char one[10];

	for (; *s; s += used) {
		quote_one(s, one, &used, 0);
		fputs(one, f);
	}
}
