/*
 * Option parsing.  One table describes every option; getopt_long's
 * arrays and the --help text are built from it, and a test compares
 * --help with the man page, so an option cannot exist in one place only.
 * Everything here is pure (no libvips) so the unit tests can link it.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "options.h"
#include "paths.h"
#include "shard.h"

enum {
	OPT_BASE = 256,
	OPT_NAME,
	OPT_KEEP_METADATA,
	OPT_BACKGROUND,
	OPT_MAX_PIXELS,
	OPT_FORCE,
	OPT_PRUNE,
	OPT_LINK_DUPLICATES,
	OPT_FSYNC,
	OPT_ALLOW_OUTSIDE,
	OPT_ALLOW_LOADER,
	OPT_MAX_FRAMES,
	OPT_MAX_FILE_SIZE,
	OPT_LENIENT,
	OPT_TIMEOUT,
	OPT_REPORT,
	OPT_PROGRESS,
	OPT_JSON,
	OPT_PRINT0,
	OPT_LIST_FORMATS,
	OPT_SHARD,
	OPT_SHARDS,
	OPT_MERGE
};

struct opt_desc {
	const char *long_name;
	int val;		/* short letter, or OPT_* */
	const char *arg;	/* NULL: takes no argument */
	const char *help;
};

static const struct opt_desc opt_table[] = {
	{ "output", 'o', "DIR", "output root (required); the source tree is mirrored under it" },
	{ "format", 'f', "LIST", "output formats: webp,avif,jpeg,png (default webp)" },
	{ "width", 'w', "LIST", "output widths, e.g. 480,960,1920; never upscales" },
	{ "quality", 'Q', "SPEC", "quality, e.g. 80 or webp=80,avif=50,jpeg=82" },
	{ "jobs", 'j', "N", "parallel jobs at most (default: CPUs available)" },
	{ "memory", 'M', "SIZE", "memory budget, e.g. 512M (default: 1/4 of RAM or cgroup limit, at most 1G)" },
	{ "manifest", 'm', "FILE", "manifest path ({shard}: K-of-N; default DIR/imgbake-manifest.json)" },
	{ "files-from", 'T', "FILE", "read source paths from FILE, one per line" },
	{ "null", '0', NULL, "lists from -T and - are NUL-separated" },
	{ "base", OPT_BASE, "DIR", "mirror named files relative to DIR (default .)" },
	{ "name", OPT_NAME, "TEMPLATE", "output name: {dir} {stem} {w} {ext} {hash}" },
	{ "report", OPT_REPORT, "FILE", "also write an HTML report of the run to FILE ({shard}: K-of-N)" },
	{ "keep-metadata", OPT_KEEP_METADATA, NULL, "keep EXIF, XMP and ICC metadata" },
	{ "background", OPT_BACKGROUND, "COLOR", "flatten alpha onto COLOR for JPEG (default #ffffff)" },
	{ "max-pixels", OPT_MAX_PIXELS, "N", "refuse sources over N pixels (default 256M)" },
	{ "max-frames", OPT_MAX_FRAMES, "N", "refuse sources of more than N frames or pages (default 1000)" },
	{ "max-file-size", OPT_MAX_FILE_SIZE, "SIZE", "refuse sources larger than SIZE (default 2G)" },
	{ "timeout", OPT_TIMEOUT, "SECONDS", "give up on an image after SECONDS (default 300, 0: never)" },
	{ "lenient", OPT_LENIENT, NULL, "convert what libvips can recover from damaged files" },
	{ "follow-symlinks", 'L', NULL, "follow symbolic links met while walking" },
	{ "allow-outside", OPT_ALLOW_OUTSIDE, NULL, "with -L, follow links that leave the source directories" },
	{ "allow-loader", OPT_ALLOW_LOADER, "NAME", "let one libvips loader blocked as unsafe run, e.g. svgload (repeatable)" },
	{ "force", OPT_FORCE, NULL, "convert everything, even what is up to date" },
	{ "prune", OPT_PRUNE, NULL, "delete outputs of earlier runs that this run no longer makes" },
	{ "link-duplicates", OPT_LINK_DUPLICATES, NULL, "hard-link the outputs of identical sources instead of copying" },
	{ "fsync", OPT_FSYNC, NULL, "flush each output to disk before renaming it into place" },
	{ "shard", OPT_SHARD, "K/N", "convert only share K of N (0 <= K < N), or 'auto' from a job array" },
	{ "shards", OPT_SHARDS, "N", "with --shard auto: the number of tasks, where the engine does not say" },
	{ "merge-manifests", OPT_MERGE, NULL, "merge shard manifests: imgbake --merge-manifests OUT IN..." },
	{ "progress", OPT_PROGRESS, "MODE", "progress on stderr: auto, bar, plain or none (default auto)" },
	{ "json", OPT_JSON, NULL, "print a JSON line per finished source, then the summary, on stdout" },
	{ "print0", OPT_PRINT0, NULL, "print the outputs written (with -n: to be written) on stdout, NUL-terminated" },
	{ "list-formats", OPT_LIST_FORMATS, NULL, "list the formats this build reads and writes, and exit" },
	{ "dry-run", 'n', NULL, "print what would be written, write nothing" },
	{ "verbose", 'v', NULL, "one line per source" },
	{ "quiet", 'q', NULL, "print errors only" },
	{ "help", 'h', NULL, "print this help and exit" },
	{ "version", 'V', NULL, "print the imgbake and libvips versions and exit" },
};
#define N_OPTS (sizeof(opt_table) / sizeof(opt_table[0]))

static const char *const format_names[FMT_COUNT] = { "webp", "avif", "jpeg", "png" };
static const char *const format_exts[FMT_COUNT] = { "webp", "avif", "jpg", "png" };
static const int default_quality[FMT_COUNT] = { 80, 50, 80, 0 };

const char *
format_name(enum out_format f)
{
	return format_names[f];
}

const char *
format_ext(enum out_format f)
{
	return format_exts[f];
}

void
options_usage(void)
{
	fputs("usage: imgbake [options] -o DIR SOURCE...\n"
	      "       imgbake [options] -o DIR [-0] -T FILE | -\n"
	      "Try 'imgbake --help' for the options.\n", stderr);
}

void
options_help(void)
{
	size_t i;

	fputs("usage: imgbake [options] -o DIR SOURCE...\n\n"
	      "Convert a tree of images with libvips: every SOURCE file, and every\n"
	      "file under every SOURCE directory, to each format and width, under DIR.\n"
	      "A SOURCE of - reads a list of paths from standard input.\n\n"
	      "Options:\n", stdout);
	for (i = 0; i < N_OPTS; i++) {
		const struct opt_desc *d = &opt_table[i];
		char left[64];

		if (d->val < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", d->val,
				 d->long_name, d->arg ? " " : "", d->arg ? d->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", d->long_name,
				 d->arg ? " " : "", d->arg ? d->arg : "");
		printf("  %-26s %s\n", left, d->help);
	}
	fputs("\nExit status: 0 all converted or skipped, 1 one or more failed,\n"
	      "2 usage or fatal error, 129/130/143 stopped by SIGHUP/SIGINT/SIGTERM.\n"
	      "See imgbake(1) for the manifest format and output names.\n", stdout);
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one line, whatever an argument quoted in it holds */
	fputs("imgbake: ", stderr);
	text_write_safe(stderr, line);
	fputc('\n', stderr);
	options_usage();
	return -1;
}

/* Strict decimal integer in [lo, hi]. */
/* --allow-loader NAME: a libvips loader nickname, checked against
 * libvips later; the option may be repeated. */
static int
add_loaders(struct options *o, const char *name)
{
	const char *p;

	if (!*name || o->n_allow_loaders >= OPT_MAX_LOADERS)
		return -1;
	for (p = name; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
			return -1;
	o->allow_loaders[o->n_allow_loaders++] = name;
	return 0;
}

static int
parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

int
parse_count(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'm': case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'g': case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	default:
		return -1;
	}
	/* at most INT64_MAX: the manifest stores it as a JSON integer */
	if (*end || v == 0 || v > (uint64_t)INT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

static int
format_from_name(const char *s, size_t len)
{
	int f;

	if (len == 3 && !strncmp(s, "jpg", 3))
		return FMT_JPEG;
	for (f = 0; f < FMT_COUNT; f++)
		if (strlen(format_names[f]) == len && !strncmp(s, format_names[f], len))
			return f;
	return -1;
}

int
parse_format_list(const char *s, enum out_format *out, int *n)
{
	int seen[FMT_COUNT] = { 0 };

	*n = 0;
	for (;;) {
		size_t len = strcspn(s, ",");
		int f = format_from_name(s, len);

		if (f < 0)
			return -1;
		if (!seen[f]) {
			seen[f] = 1;
			out[(*n)++] = f;
		}
		if (!s[len])
			return 0;
		s += len + 1;
	}
}

int
parse_quality(const char *s, int quality[FMT_COUNT])
{
	int f, q;

	if (isdigit((unsigned char)*s)) {
		if (parse_int(s, 1, 100, &q))
			return -1;
		for (f = 0; f < FMT_COUNT; f++)
			if (f != FMT_PNG)
				quality[f] = q;
		return 0;
	}
	for (;;) {
		size_t len = strcspn(s, ",");
		const char *eq = memchr(s, '=', len);
		char num[8];
		size_t nlen;

		if (!eq)
			return -1;
		f = format_from_name(s, (size_t)(eq - s));
		nlen = len - (size_t)(eq - s) - 1;
		if (f < 0 || f == FMT_PNG || nlen == 0 || nlen >= sizeof(num))
			return -1;
		memcpy(num, eq + 1, nlen);
		num[nlen] = '\0';
		if (parse_int(num, 1, 100, &quality[f]))
			return -1;
		if (!s[len])
			return 0;
		s += len + 1;
	}
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int
parse_width_list(const char *s, int **widths, int *n)
{
	int *w = NULL;
	int count = 0, i, j;

	for (;;) {
		size_t len = strcspn(s, ",");
		char num[16];
		int *grown;

		if (len == 0 || len >= sizeof(num))
			goto fail;
		memcpy(num, s, len);
		num[len] = '\0';
		if (!(grown = realloc(w, (size_t)(count + 1) * sizeof(*w))))
			goto fail;
		w = grown;
		if (parse_int(num, 1, 100000, &w[count]))
			goto fail;
		count++;
		if (!s[len])
			break;
		s += len + 1;
	}
	qsort(w, (size_t)count, sizeof(*w), cmp_int);
	for (i = j = 0; i < count; i++)
		if (j == 0 || w[j - 1] != w[i])
			w[j++] = w[i];
	*widths = w;
	*n = j;
	return 0;
fail:
	free(w);
	return -1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
parse_color(const char *s, unsigned char rgb[3])
{
	size_t len = strlen(s), i;
	int digits[6];

	if (!strcasecmp(s, "white")) {
		rgb[0] = rgb[1] = rgb[2] = 255;
		return 0;
	}
	if (!strcasecmp(s, "black")) {
		rgb[0] = rgb[1] = rgb[2] = 0;
		return 0;
	}
	if (s[0] != '#' || (len != 4 && len != 7))
		return -1;
	for (i = 1; i < len; i++)
		if ((digits[i - 1] = hexval((unsigned char)s[i])) < 0)
			return -1;
	for (i = 0; i < 3; i++)
		rgb[i] = len == 4 ? (unsigned char)(digits[i] * 17)
				  : (unsigned char)(digits[2 * i] * 16 + digits[2 * i + 1]);
	return 0;
}

int
check_template(const char *tmpl, int n_widths, int n_formats,
	char *err, size_t errlen)
{
	static const char *const fields[] = { "dir", "stem", "w", "ext", "hash" };
	int used[5] = { 0 };
	const char *p;
	size_t i;

	if (!*tmpl || tmpl[0] == '/') {
		snprintf(err, errlen, "name template must be a relative path");
		return -1;
	}
	for (p = tmpl; *p; p++) {
		const char *close;

		if (*p == '}') {
			snprintf(err, errlen, "unmatched '}' in name template");
			return -1;
		}
		if (*p != '{')
			continue;
		if (!(close = strchr(p, '}'))) {
			snprintf(err, errlen, "unmatched '{' in name template");
			return -1;
		}
		for (i = 0; i < 5; i++)
			if ((size_t)(close - p - 1) == strlen(fields[i]) &&
			    !strncmp(p + 1, fields[i], strlen(fields[i])))
				break;
		if (i == 5) {
			snprintf(err, errlen, "unknown field '%.*s' in name template",
				 (int)(close - p + 1), p);
			return -1;
		}
		used[i] = 1;
		p = close;
	}
	if (!used[1] && !used[4]) {
		snprintf(err, errlen, "name template needs {stem} or {hash}");
		return -1;
	}
	/* without -w, outputs are named before any header is read */
	if (!n_widths && used[2]) {
		snprintf(err, errlen, "name template uses {w}, which needs -w");
		return -1;
	}
	if (n_widths > 1 && !used[2]) {
		snprintf(err, errlen, "name template needs {w} with several widths");
		return -1;
	}
	if (n_formats > 1 && !used[3]) {
		snprintf(err, errlen, "name template needs {ext} with several formats");
		return -1;
	}
	return 0;
}

int
check_template_ext(const char *tmpl, const enum out_format *f, int n, char *err,
	size_t errlen)
{
	static const char *const image_exts[] = {
		"webp", "avif", "jpg", "jpeg", "jpe", "jfif", "png", "gif", "tif",
		"tiff", "heic", "heif", "jxl", "bmp",
	};
	const char *base = strrchr(tmpl, '/'), *dot;
	size_t i;
	int k;

	/* the file name's own: {ext} in a directory's name is no help */
	base = base ? base + 1 : tmpl;
	if (strstr(base, "{ext}") || !(dot = strrchr(base, '.')) || strchr(dot, '}'))
		return 0;
	for (i = 0; i < sizeof(image_exts) / sizeof(image_exts[0]); i++)
		if (!strcasecmp(dot + 1, image_exts[i]))
			break;
	if (i == sizeof(image_exts) / sizeof(image_exts[0]))
		return 0;
	for (k = 0; k < n; k++)
		if (strcasecmp(dot + 1, format_exts[f[k]]) &&
		    !(f[k] == FMT_JPEG && (!strcasecmp(dot + 1, "jpeg") ||
					   !strcasecmp(dot + 1, "jpe") ||
					   !strcasecmp(dot + 1, "jfif")))) {
			snprintf(err, errlen, "name template ends in '%s', but an output is %s: "
				 "use {ext}", dot, format_names[f[k]]);
			return -1;
		}
	return 0;
}

const char *
options_template(const struct options *o)
{
	if (o->name_template)
		return o->name_template;
	return o->n_widths ? "{dir}/{stem}-{w}.{ext}" : "{dir}/{stem}.{ext}";
}

int
options_width_ambiguous(const char *tmpl)
{
	const char *w = strstr(tmpl, "{w}");

	return w && ((w > tmpl && (w[-1] == '}' || isdigit((unsigned char)w[-1]))) ||
		     w[3] == '{' || isdigit((unsigned char)w[3]));
}

int
options_names_late(const struct options *o)
{
	return (o->n_widths && options_width_ambiguous(options_template(o))) ||
	       o->n_allow_loaders;
}

static void
options_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->formats[0] = FMT_WEBP;
	o->n_formats = 1;
	memcpy(o->quality, default_quality, sizeof(o->quality));
	o->background[0] = o->background[1] = o->background[2] = 255;
	o->max_pixels = 256ULL << 20;
	o->max_file_size = 2ULL << 30;
	o->max_frames = 1000;
	o->timeout = 300;
}

/* Replace each "{shard}" in *path (owned, may be NULL) with this task's
 * share, "K-of-N" ("0-of-1" without --shard): one command line then
 * gives every task of a job array a manifest or report of its own.
 * 0, or -1 when out of memory. */
static int
expand_shard(char **path, int index, int count)
{
	static const char key[] = "{shard}";
	char share[32], *out, *w;
	const char *p, *hit;
	size_t n = 0;

	if (!*path || !strstr(*path, key))
		return 0;
	snprintf(share, sizeof(share), "%d-of-%d", count > 1 ? index : 0, count > 1 ? count : 1);
	for (p = *path; (hit = strstr(p, key)); p = hit + sizeof(key) - 1)
		n++;
	if (!(out = malloc(strlen(*path) + n * strlen(share) + 1)))
		return -1;
	for (p = *path, w = out; (hit = strstr(p, key)); p = hit + sizeof(key) - 1) {
		memcpy(w, p, hit - p);
		w += hit - p;
		w = stpcpy(w, share);
	}
	strcpy(w, p);
	free(*path);
	*path = out;
	return 0;
}

/* The usage error for what getopt_long refused in arg: c is ':' for a
 * missing argument, '?' for the rest.  A long option may be unknown,
 * an ambiguous abbreviation, or given an argument it does not take. */
static int
bad_option(int c, const char *arg, char *buf, size_t len)
{
	const char *name = arg + 2, *eq;
	size_t n, i, hits = 0, at = 0;

	if (strncmp(arg, "--", 2)) {
		char s[3] = { '-', (char)optopt, '\0' };

		return usage_error(c == ':' ? "option '%s' needs an argument" :
				   "unknown option '%s'", s);
	}
	if (c == ':')
		return usage_error("option '%s' needs an argument", arg);
	n = (eq = strchr(name, '=')) ? (size_t)(eq - name) : strlen(name);
	buf[0] = '\0';
	for (i = 0; i < N_OPTS; i++) {
		if (strncmp(opt_table[i].long_name, name, n))
			continue;
		if (strlen(opt_table[i].long_name) == n) {
			hits = 1;
			buf[0] = '\0';
			at = i;
			break;
		}
		at = i;
		if (hits++ < 4)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s--%s",
				 hits > 1 ? ", " : "", opt_table[i].long_name);
	}
	if (hits > 1)
		return usage_error("ambiguous option '--%.*s' (%s%s)", (int)n, name, buf,
				   hits > 4 ? ", ..." : "");
	if (hits && eq && !opt_table[at].arg)
		return usage_error("option '--%s' takes no argument", opt_table[at].long_name);
	return usage_error("unknown option '--%.*s'", (int)n, name);
}

/* Whether arg, a source, is one of imgbake's options that no file is
 * named after: '-w', '-j4', '--base', '--base=x', or a long option cut
 * short as getopt_long takes it ('--bas').  An option after the first
 * source would be a source, its argument another: '... src --base /'
 * would convert every picture under /. */
static int
stray_option(const char *arg)
{
	size_t i, n;

	if (arg[0] != '-' || !arg[1] || !access(arg, F_OK) || errno != ENOENT)
		return 0;
	if (arg[1] != '-') {
		for (i = 0; i < N_OPTS; i++)
			if (opt_table[i].val == (unsigned char)arg[1])
				return 1;
		return 0;
	}
	n = strcspn(arg + 2, "=");
	for (i = 0; n && i < N_OPTS; i++)
		if (strlen(opt_table[i].long_name) >= n &&
		    !strncmp(opt_table[i].long_name, arg + 2, n))
			return 1;
	return 0;
}

int
options_parse(struct options *o, int argc, char **argv)
{
	struct option longopts[N_OPTS + 1];
	char shortopts[2 * N_OPTS + 3];
	char *sp = shortopts;
	char err[128];
	size_t i;
	int c, j, before;
	const char *last_arg = NULL;	/* the argument of the last option */

	options_defaults(o);
	*sp++ = '+';	/* stop at the first non-option, as POSIX asks */
	*sp++ = ':';	/* a missing argument is ':', not '?' */
	for (i = 0; i < N_OPTS; i++) {
		longopts[i].name = opt_table[i].long_name;
		longopts[i].has_arg = opt_table[i].arg ? required_argument : no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = opt_table[i].val;
		if (opt_table[i].val < 256) {
			*sp++ = (char)opt_table[i].val;
			if (opt_table[i].arg)
				*sp++ = ':';
		}
	}
	memset(&longopts[N_OPTS], 0, sizeof(longopts[N_OPTS]));
	*sp = '\0';

	opterr = 0;
	optind = 1;
	before = optind;	/* the argument getopt_long works on */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		last_arg = optarg;
		switch (c) {
		case 'o':
			o->output_dir = optarg;
			break;
		case 'f':
			if (parse_format_list(optarg, o->formats, &o->n_formats))
				return usage_error("invalid format list '%s' (webp, avif, jpeg, png)", optarg);
			break;
		case 'w':
			free(o->widths);
			o->widths = NULL;
			if (parse_width_list(optarg, &o->widths, &o->n_widths))
				return usage_error("invalid width list '%s' (1-100000, as 480,960,1920)", optarg);
			break;
		case 'Q':
			if (parse_quality(optarg, o->quality))
				return usage_error("invalid quality '%s' (1-100, or webp=80,avif=50,jpeg=80)", optarg);
			break;
		case 'j':
			if (parse_int(optarg, 1, 1024, &o->jobs))
				return usage_error("invalid job count '%s'", optarg);
			break;
		case 'M':
			if (parse_count(optarg, &o->memory_budget))
				return usage_error("invalid memory size '%s' (e.g. 512M, 2G)", optarg);
			/* bytes meant as MB: a number no budget would be in
			 * bytes (1024), not one over 64G as MB (500000) */
			if (o->memory_budget < (16u << 20) &&
			    (optarg[strspn(optarg, "0123456789")] || o->memory_budget > 65536))
				return usage_error("memory budget '%s' is under 16M", optarg);
			if (o->memory_budget < (16u << 20))
				return usage_error("memory budget '%s' is under 16M (did you mean %sM?)",
						   optarg, optarg);
			break;
		case 'm':
			if (!*optarg)
				return usage_error("%s", "empty manifest path");
			free(o->manifest_path);
			if (!(o->manifest_path = strdup(optarg)))
				return usage_error("%s", "out of memory");
			break;
		case 'T':
			if (o->files_from)
				return usage_error("%s", "-T given twice: give one list "
						   "(cat them into -T -)");
			o->files_from = optarg;
			break;
		case '0':
			o->null_separated = 1;
			break;
		case OPT_BASE:
			o->base_dir = optarg;
			break;
		case OPT_NAME:
			o->name_template = optarg;
			break;
		case OPT_KEEP_METADATA:
			o->keep_metadata = 1;
			break;
		case OPT_FSYNC:
			o->fsync = 1;
			break;
		case OPT_BACKGROUND:
			if (parse_color(optarg, o->background))
				return usage_error("invalid colour '%s' (#rrggbb, #rgb, white or black)", optarg);
			break;
		case OPT_MAX_PIXELS:
			if (parse_count(optarg, &o->max_pixels))
				return usage_error("invalid pixel count '%s'", optarg);
			break;
		case OPT_MAX_FRAMES:
			if (parse_int(optarg, 0, INT_MAX, &o->max_frames))
				return usage_error("invalid frame count '%s'", optarg);
			break;
		case OPT_MAX_FILE_SIZE:
			if (!strcmp(optarg, "0"))
				o->max_file_size = 0;	/* no limit */
			else if (parse_count(optarg, &o->max_file_size))
				return usage_error("invalid file size '%s'", optarg);
			break;
		case OPT_TIMEOUT:
			if (parse_int(optarg, 0, 1000000, &o->timeout))
				return usage_error("invalid timeout '%s' (seconds)", optarg);
			break;
		case OPT_PROGRESS:
			if (!strcmp(optarg, "auto"))
				o->progress = PROGRESS_AUTO;
			else if (!strcmp(optarg, "bar"))
				o->progress = PROGRESS_BAR;
			else if (!strcmp(optarg, "plain"))
				o->progress = PROGRESS_PLAIN;
			else if (!strcmp(optarg, "none"))
				o->progress = PROGRESS_NONE;
			else
				return usage_error("invalid progress mode '%s' (auto, bar, plain, none)", optarg);
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_PRINT0:
			o->print0 = 1;
			break;
		case OPT_LIST_FORMATS:
			o->list_formats = 1;
			break;
		case OPT_SHARD:
			/* the last --shard counts */
			o->shard_auto = !strcmp(optarg, "auto");
			if (!o->shard_auto &&
			    shard_parse(optarg, &o->shard_index, &o->shard_count))
				return usage_error("invalid shard '%s' (K/N with 0 <= K < N, or auto)", optarg);
			break;
		case OPT_SHARDS:
			if (parse_int(optarg, 1, 1000000, &o->shards))
				return usage_error("invalid shard count '%s'", optarg);
			break;
		case OPT_MERGE:
			o->merge = 1;
			break;
		case OPT_REPORT:
			if (!*optarg)
				return usage_error("%s", "empty report path");
			free(o->report_path);
			if (!(o->report_path = strdup(optarg)))
				return usage_error("%s", "out of memory");
			break;
		case OPT_LENIENT:
			o->lenient = 1;
			break;
		case 'L':
			o->follow_symlinks = 1;
			break;
		case OPT_ALLOW_OUTSIDE:
			o->allow_outside = 1;
			break;
		case OPT_ALLOW_LOADER:
			if (add_loaders(o, optarg))
				return usage_error("invalid loader list '%s' (e.g. svgload)", optarg);
			break;
		case OPT_FORCE:
			o->force = 1;
			break;
		case OPT_PRUNE:
			o->prune = 1;
			break;
		case OPT_LINK_DUPLICATES:
			o->link_duplicates = 1;
			break;
		case 'n':
			o->dry_run = 1;
			break;
		case 'v':
			o->verbose = 1;
			o->quiet = 0;
			break;
		case 'q':
			o->quiet = 1;
			o->verbose = 0;
			break;
		case 'h':
			options_help();
			return 1;
		case 'V':
			/* main prints it: it knows the libvips version */
			o->show_version = 1;
			return 1;
		default:
			return bad_option(c, argv[before], err, sizeof(err));
		}
		before = optind;
	}

	/* main lists them, after the other options: it starts libvips */
	if (o->list_formats)
		return 1;
	/* --merge-manifests OUT IN...: nothing else applies */
	if (o->merge) {
		o->sources = argv + optind;
		o->n_sources = argc - optind;
		if (o->n_sources < 2)
			return usage_error("%s", "--merge-manifests needs OUT and at least one IN");
		if (o->dry_run || o->json || o->print0)
			return usage_error("%s", "--merge-manifests writes OUT: "
					   "-n, --json and --print0 do not go with it");
		return 0;
	}
	if (o->shard_auto) {
		if (shard_from_env(o->shards, &o->shard_index, &o->shard_count,
				   &o->shard_from, err, sizeof(err)))
			return usage_error("%s", err);
	} else if (o->shards && o->shards != o->shard_count) {
		return usage_error("%s", "--shards goes with --shard auto");
	}
	/* -n --print0: the dry run's list, each name ended by a NUL */
	if (o->json + (o->print0 || o->dry_run) > 1)
		return usage_error("%s", "--json goes with neither --print0 nor -n: each writes on stdout");
	if (!o->output_dir)
		return usage_error("%s", "no output directory (-o DIR)");
	if (!*o->output_dir)
		return usage_error("%s", "empty output directory");
	o->sources = argv + optind;
	o->n_sources = 0;
	for (j = optind; j < argc; j++) {
		/* after '--' (not an option's argument), a name is a name */
		if (!(optind > 1 && !strcmp(argv[optind - 1], "--") &&
		      argv[optind - 1] != last_arg) && stray_option(argv[j]))
			return usage_error("option '%s' after the first source: options go "
					   "before it (a file so named goes after '--')", argv[j]);
		if (strcmp(argv[j], "-"))
			o->sources[o->n_sources++] = argv[j];
		else if (o->read_stdin++)
			return usage_error("%s", "standard input given twice");
	}
	if (o->read_stdin && o->files_from && !strcmp(o->files_from, "-"))
		return usage_error("%s", "standard input given twice");
	if (o->allow_outside && !o->follow_symlinks)
		return usage_error("%s", "--allow-outside needs -L: without it no link is followed");
	if (!o->n_sources && !o->read_stdin && !o->files_from)
		return usage_error("%s", "no SOURCE given");
	if (check_template(options_template(o), o->n_widths, o->n_formats, err, sizeof(err)) ||
	    check_template_ext(options_template(o), o->formats, o->n_formats, err, sizeof(err)))
		return usage_error("%s", err);
	/* a task of -m 'dir/{shard}.json' reads, as its shared manifest,
	 * what an unsharded run with the same -m writes, or else the
	 * output root's (a merge's, as the default names it) */
	if (o->shard_count > 1 && o->manifest_path && strstr(o->manifest_path, "{shard}")) {
		if (!(o->shared_manifest = strdup(o->manifest_path)) ||
		    expand_shard(&o->shared_manifest, 0, 1))
			return usage_error("%s", "out of memory");
		if (asprintf(&o->shared_manifest_alt, "%s/imgbake-manifest.json",
			     o->output_dir) < 0) {
			o->shared_manifest_alt = NULL;
			return usage_error("%s", "out of memory");
		}
	}
	if (expand_shard(&o->manifest_path, o->shard_index, o->shard_count) ||
	    expand_shard(&o->report_path, o->shard_index, o->shard_count))
		return usage_error("%s", "out of memory");
	if (!o->manifest_path && o->shard_count > 1) {
		/* one manifest per shard, side by side */
		if (asprintf(&o->manifest_path, "%s/imgbake-manifest.%d-of-%d.json",
			     o->output_dir, o->shard_index, o->shard_count) < 0) {
			o->manifest_path = NULL;
			return usage_error("%s", "out of memory");
		}
		if (asprintf(&o->shared_manifest, "%s/imgbake-manifest.json", o->output_dir) < 0) {
			o->shared_manifest = NULL;
	o->shared_manifest_alt = NULL;
			return usage_error("%s", "out of memory");
		}
	}
	if (!o->manifest_path) {
		size_t len = strlen(o->output_dir) + sizeof("/imgbake-manifest.json");

		if (!(o->manifest_path = malloc(len)))
			return usage_error("%s", "out of memory");
		snprintf(o->manifest_path, len, "%s/imgbake-manifest.json", o->output_dir);
	}
	return 0;
}

void
options_release(struct options *o)
{
	free(o->widths);
	free(o->manifest_path);
	free(o->shared_manifest);
	free(o->shared_manifest_alt);
	free(o->report_path);
	o->widths = NULL;
	o->manifest_path = NULL;
	o->shared_manifest = NULL;
	o->shared_manifest_alt = NULL;
	o->report_path = NULL;
}
