/*
 * The output name template (--name): check_template in options.c
 * accepts it, path_expand in paths.c fills it in for every output
 * (plan_output_path), after path_split took the source's mirrored path
 * apart.  Input: one byte of flags (bits 0-1: number of widths, bits
 * 2-3: number of formats), then the template, the source's relative
 * path and the hash, separated by NUL bytes.
 *
 * Checked: check_template accepts exactly the templates made of known
 * fields that the run can use (an independent reading of the grammar);
 * path_split's parts put back together give the path; path_normalize is
 * idempotent; whatever the template, an expansion is NULL or a
 * normalised relative path with no "..", never ".", and no braces but
 * the values' own; with several widths (formats) an accepted template
 * gives every width (format) a different name, so outputs never
 * overwrite each other.
 */
#include "fuzz.h"
#include "options.h"
#include "paths.h"

static const char *const fields[] = { "dir", "stem", "w", "ext", "hash" };
#define N_FIELDS 5

/* Whether a template may be used: the grammar of path_expand (a known
 * field in braces, anything else literal) with no stray brace. */
static int
ref_template(const char *t, int n_widths, int n_formats)
{
	int used[N_FIELDS] = { 0 };
	size_t i;

	if (!*t || *t == '/')
		return -1;
	while (*t) {
		if (*t == '}')
			return -1;
		if (*t != '{') {
			t++;
			continue;
		}
		for (i = 0; i < N_FIELDS; i++) {
			size_t len = strlen(fields[i]);

			if (!strncmp(t + 1, fields[i], len) && t[1 + len] == '}')
				break;
		}
		if (i == N_FIELDS)
			return -1;
		used[i] = 1;
		t += strlen(fields[i]) + 2;
	}
	if (!used[1] && !used[4])
		return -1;
	if ((n_widths > 1 && !used[2]) || (n_formats > 1 && !used[3]))
		return -1;
	/* outputs are named before any header is read: {w} is a -w width */
	if (!n_widths && used[2])
		return -1;
	return 0;
}

/* A normalised path: no empty, "." component, no trailing slash. */
static void
check_normalized(const char *p)
{
	const char *s = p;

	CHECK(*p);
	if (!strcmp(p, ".") || !strcmp(p, "/"))
		return;
	if (*s == '/')
		s++;
	for (;;) {
		size_t seg = strcspn(s, "/");

		CHECK(seg > 0);
		CHECK(!(seg == 1 && s[0] == '.'));
		if (!s[seg])
			break;
		s += seg + 1;
	}
}

static int
has_dotdot(const char *p)
{
	for (;;) {
		size_t seg = strcspn(p, "/");

		if (seg == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		if (!p[seg])
			return 0;
		p += seg + 1;
	}
}

/* Every expansion, accepted template or not, is safe to join under the
 * output root. */
static void
check_expansion(const char *out, int values_have_braces)
{
	char *again;

	if (!out)
		return;
	check_normalized(out);
	CHECK(out[0] != '/');
	CHECK(strcmp(out, "."));
	CHECK(!has_dotdot(out));
	CHECK(!path_has_dotdot(out));
	again = path_normalize(out);
	CHECK(again && !strcmp(again, out));
	free(again);
	if (!values_have_braces)
		CHECK(!strpbrk(out, "{}"));
}

/* Several names from one source: all refused, or all different. */
static void
check_distinct(char **names, int n)
{
	int i, j;

	for (i = 0; i < n; i++) {
		CHECK(!names[i] == !names[0]);
		for (j = 0; names[i] && j < i; j++)
			CHECK(strcmp(names[i], names[j]));
	}
}

static void
check_split(const char *path, char **dir, char **stem)
{
	const char *ext = NULL, *base;
	char *joined;
	size_t len;

	CHECK(path_split(path, dir, stem, &ext) == 0);
	CHECK(*dir && *stem && ext);
	CHECK(!strchr(*stem, '/'));
	CHECK(ext >= path && ext <= path + strlen(path));
	CHECK(!strchr(ext, '/'));
	/* dir + "/" + stem ["." ext] gives the path back */
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	CHECK(!strncmp(path, *dir, strlen(*dir)));
	CHECK(base == path + strlen(*dir) + (**dir || base != path ? 1 : 0));
	CHECK(!strncmp(base, *stem, strlen(*stem)));
	len = strlen(*stem);
	if (*ext)
		CHECK(base[len] == '.' && !strcmp(base + len + 1, ext));
	else
		CHECK(!base[len] || (base[len] == '.' && !base[len + 1]));
	/* ".profile" has no extension: its stem is the whole name */
	if (base[0] == '.' && !strchr(base + 1, '.'))
		CHECK(!strcmp(*stem, base));
	joined = path_join(*dir, *stem);
	CHECK(joined);
	free(joined);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int widths[] = { 1, 9, 10, 480, 100000 };
	static const char *const exts[] = { "webp", "avif", "jpg", "png" };
	enum { NW = sizeof(widths) / sizeof(widths[0]), NE = 4 };
	char *names[NW][NE], *line[NW > NE ? NW : NE];
	char *buf, *tmpl, *rel, *hash, *dir = NULL, *stem = NULL, *norm;
	char err[128];
	int n_widths, n_formats, rc, braces, i, j;

	if (size < 1)
		return 0;
	n_widths = data[0] & 3;
	n_formats = (data[0] >> 2) & 3;
	/* three NUL-terminated fields, missing ones empty */
	buf = calloc(size + 3, 1);
	CHECK(buf);
	memcpy(buf, data + 1, size - 1);
	tmpl = buf;
	rel = tmpl + strlen(tmpl) + 1;
	hash = rel + strlen(rel) + 1;	/* at most buf + size + 1 */

	err[0] = 'x';
	err[1] = '\0';
	rc = check_template(tmpl, n_widths, n_formats, err, sizeof(err));
	CHECK(rc == 0 || rc == -1);
	CHECK(rc == ref_template(tmpl, n_widths, n_formats));
	CHECK(memchr(err, '\0', sizeof(err)));
	if (rc)
		CHECK(err[0] && strcmp(err, "x"));

	norm = path_normalize(rel);
	CHECK(norm);
	check_normalized(norm);
	CHECK(path_has_dotdot(norm) == has_dotdot(norm));
	{
		char *twice = path_normalize(norm);

		CHECK(twice && !strcmp(twice, norm));
		free(twice);
	}
	check_split(norm, &dir, &stem);
	braces = strpbrk(dir, "{}") || strpbrk(stem, "{}") || strpbrk(hash, "{}");

	for (i = 0; i < NW; i++)
		for (j = 0; j < NE; j++) {
			names[i][j] = path_expand(tmpl, dir, stem, widths[i], exts[j], hash);
			check_expansion(names[i][j], braces || rc);
		}
	/* one format, every width; one width, every format */
	for (j = 0; rc == 0 && n_widths > 1 && j < NE; j++) {
		for (i = 0; i < NW; i++)
			line[i] = names[i][j];
		check_distinct(line, NW);
	}
	for (i = 0; rc == 0 && n_formats > 1 && i < NW; i++)
		check_distinct(names[i], NE);
	for (i = 0; i < NW; i++)
		for (j = 0; j < NE; j++)
			free(names[i][j]);
	/* no width: {w} expands to nothing */
	line[0] = path_expand(tmpl, dir, stem, 0, "webp", hash);
	check_expansion(line[0], braces || rc);
	free(line[0]);

	free(dir);
	free(stem);
	free(norm);
	free(buf);
	return 0;
}
