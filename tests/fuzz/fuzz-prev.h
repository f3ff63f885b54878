/*
 * The checks shared by fuzz-manifest and fuzz-journal: what
 * manifest_load made of a manifest and a journal, compared with the
 * records read again here with the same jansson calls.
 *
 * The contract (manifest.h, manifest.c): a source record is kept when
 * it has string path, type, hash (shorter than 40 bytes) and status
 * ("converted" or "up-to-date"), an outputs array and a positive width
 * and height; of its outputs, those with a known format, a recipe
 * shorter than 17 bytes and a path that stays inside the output root.
 * Paths are read back to bytes: "\xNN" text (NN >= 80, or 5c) is the
 * byte; a relative one is then read from the directory the manifest's
 * "cwd" (or the journal's last "cwd" line) names, when that is not the
 * current one, unless its file is found as it is and not from there.  Of several records of one path the last read wins, the
 * journal's after the manifest's.  The result is sorted by path with no
 * repeats, manifest_find finds each, and the counts match the arrays.
 * A file that is not a manifest imgbake wrote is refused.
 */
#ifndef IMGBAKE_FUZZ_PREV_H
#define IMGBAKE_FUZZ_PREV_H

#include <glib.h>
#include <jansson.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "manifest.h"
#include "paths.h"

struct records {
	json_t **rec;		/* in load order, referenced */
	char **prefix;		/* of each: how to reach its "cwd", or NULL */
	size_t n, cap;
	size_t n_manifest;	/* the first n_manifest are the manifest's */
	json_t *stale;		/* the manifest's "stale", referenced */
	char *cur;		/* the prefix of the records read next */
};

/* The output root of the runs that wrote the fuzzed files. */
static char prev_dir[PATH_MAX], prev_manifest[PATH_MAX], prev_journal[PATH_MAX];

static inline void
records_add(struct records *r, json_t *j)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		if (!(r->rec = realloc(r->rec, r->cap * sizeof(*r->rec))) ||
		    !(r->prefix = realloc(r->prefix, r->cap * sizeof(*r->prefix))))
			abort();
	}
	r->prefix[r->n] = r->cur ? strdup(r->cur) : NULL;
	r->rec[r->n++] = json_incref(j);
}

static inline void
records_release(struct records *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		json_decref(r->rec[i]);
		free(r->prefix[i]);
	}
	json_decref(r->stale);
	free(r->cur);
	r->n = r->n_manifest = 0;
	r->stale = NULL;
	r->cur = NULL;
}

/* From here to the directory a "cwd" field names (relative to the
 * output root), when that is another one; else NULL. */
static inline char *
model_prefix(json_t *cwd)
{
	char *rel = manifest_path_value(cwd), *then = NULL, *real = NULL, *here = NULL;
	char *prefix = NULL;

	if (rel && *rel && rel[0] != '/' && (then = path_join(prev_dir, rel)) &&
	    (real = realpath(then, NULL)) && (here = realpath(".", NULL)) &&
	    strcmp(here, real))
		CHECK((prefix = path_between(here, real)));
	free(rel);
	free(then);
	free(real);
	free(here);
	return prefix;
}

/* Whether a file that did not parse opens as a manifest: "{", then
 * the "imgbake" or the "cwd" key first (up to a NUL byte; a UTF-8 byte
 * order mark skipped), or it is all NUL bytes (a crash). */
static inline int
opens_as_manifest(const char *path)
{
	char head[1024], *p = head;
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(head, 1, sizeof(head) - 1, f) : 0, k;
	int c = EOF;

	for (k = 0; k < n && !head[k]; k++)
		;
	/* all NUL: the rest of the file too */
	if (f && k == n)
		while ((c = getc(f)) == 0)
			;
	if (f)
		fclose(f);
	head[n] = '\0';
	if (!n || (k == n && c == EOF))
		return 1;
	if (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p++ != '{')
		return 0;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (!strncmp(p, "\"imgbake\"", 9))
		p += 9;
	else if (!strncmp(p, "\"cwd\"", 5))
		p += 5;
	else
		return 0;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return *p == ':';
}

/* Read the manifest as manifest_load does: 1 when its records are used,
 * 0 when it is ignored (with a warning), -1 when it is refused. */
static inline int
records_from_manifest(struct records *r, const char *path)
{
	json_error_t jerr;
	json_t *root = NULL, *src;
	unsigned char bom[3];
	FILE *f = fopen(path, "r");
	size_t i;

	/* a UTF-8 byte order mark in front is skipped */
	if (f) {
		if (fread(bom, 1, 3, f) != 3 || memcmp(bom, "\xef\xbb\xbf", 3))
			rewind(f);
		root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
		fclose(f);
	}

	if (root ? !json_is_object(root) || !json_is_string(json_object_get(root, "imgbake"))
		 : !opens_as_manifest(path)) {
		json_decref(root);
		return -1;
	}
	if (!root || !json_is_array(json_object_get(root, "sources"))) {
		json_decref(root);
		return 0;
	}
	free(r->cur);
	r->cur = model_prefix(json_object_get(root, "cwd"));
	json_array_foreach(json_object_get(root, "sources"), i, src)
		records_add(r, src);
	free(r->cur);
	r->cur = NULL;
	r->stale = json_incref(json_object_get(root, "stale"));
	r->n_manifest = r->n;
	json_decref(root);
	return 1;
}

/* Read the journal as manifest_load does: one JSON value per line; a
 * line with "cwd" and no "path" says where the next ones are from. */
static inline void
records_from_journal(struct records *r, const char *text, size_t len)
{
	const char *end = text + len;

	r->n_manifest = r->n;
	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = nl ? (size_t)(nl - text) + 1 : (size_t)(end - text);
		json_t *rec = json_loadb(text, n, 0, NULL);

		if (json_object_get(rec, "cwd") && !json_object_get(rec, "path")) {
			free(r->cur);
			r->cur = model_prefix(json_object_get(rec, "cwd"));
		} else if (rec) {
			records_add(r, rec);
		}
		json_decref(rec);
		text += n;
	}
	free(r->cur);
	r->cur = NULL;
}

static inline const char *
str_field(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static inline int
int_field(json_t *obj, const char *key)
{
	return (int)json_integer_value(json_object_get(obj, key));
}

static inline int
hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A stored path back to its bytes, read independently of
 * manifest_path_value, which must agree.  The caller frees. */
static inline char *
path_bytes(json_t *j)
{
	const char *s = json_string_value(j), *p;
	char *out, *o, *theirs;

	if (!s)
		return NULL;
	out = malloc(strlen(s) + 1);
	CHECK(out);
	for (p = s, o = out; *p; ) {
		int hi = p[0] == '\\' && p[1] == 'x' ? hex_digit(p[2]) : -1;
		int lo = hi >= 0 ? hex_digit(p[3]) : -1;

		if (lo >= 0 && (hi >= 8 || (hi == 5 && lo == 0xc))) {
			*o++ = (char)(hi << 4 | lo);
			p += 4;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	theirs = manifest_path_value(j);
	CHECK(theirs && !strcmp(theirs, out));
	free(theirs);
	return out;
}

/* The normalised path if it stays inside the output root; the caller
 * frees. */
static inline char *
safe_path(json_t *j)
{
	char *s = path_bytes(j), *norm;

	if (!s)
		return NULL;
	norm = path_normalize(s);
	free(s);
	if (!norm)
		return NULL;
	if (norm[0] == '/' || !strcmp(norm, ".") || path_has_dotdot(norm)) {
		free(norm);
		return NULL;
	}
	return norm;
}

/* The path of an output record that manifest_load keeps (a format it
 * knows, a recipe that fits, a path inside the root), else NULL; the
 * caller frees. */
static inline int
format_of(json_t *out)
{
	const char *fmt = str_field(out, "format");
	int f = -1, g;

	for (g = 0; fmt && g < FMT_COUNT; g++)
		if (!strcmp(fmt, format_name(g)))
			f = g;
	return f;
}

static inline char *
kept_output(json_t *out)
{
	const char *recipe = str_field(out, "recipe");

	if (format_of(out) < 0 || !recipe ||
	    strlen(recipe) >= sizeof(((struct out_record *)0)->recipe))
		return NULL;
	return safe_path(json_object_get(out, "path"));
}

static inline size_t
kept_outputs(json_t *src)
{
	json_t *out;
	size_t i, n = 0;
	char *path;

	json_array_foreach(json_object_get(src, "outputs"), i, out)
		if ((path = kept_output(out))) {
			n++;
			free(path);
		}
	return n;
}

/* A record of a failure with no output, or of a skipped file: read to
 * be carried as it is; a record of its path with outputs wins over it. */
static inline int
bare(json_t *src)
{
	const char *status = str_field(src, "status");

	return status && (!strcmp(status, "skipped") ||
			  (!strcmp(status, "failed") &&
			   !json_array_size(json_object_get(src, "outputs"))));
}

static inline int
usable(json_t *src)
{
	const char *status = str_field(src, "status"), *hash = str_field(src, "hash");

	if (bare(src))
		return str_field(src, "path") != NULL;

	/* a failure is kept for the outputs an earlier run left */
	if (status && !strcmp(status, "failed"))
		return str_field(src, "path") && json_is_array(json_object_get(src, "outputs")) &&
		       kept_outputs(src) > 0;
	return str_field(src, "path") && str_field(src, "type") && hash &&
	       strlen(hash) < 40 && status &&
	       (!strcmp(status, "converted") || !strcmp(status, "up-to-date")) &&
	       json_is_array(json_object_get(src, "outputs")) &&
	       int_field(src, "width") > 0 && int_field(src, "height") > 0;
}

/* Whether path is in the NULL-ended list taken. */
static inline int
listed_in(char *const *taken, const char *path)
{
	for (; taken && *taken; taken++)
		if (!strcmp(*taken, path))
			return 1;
	return 0;
}

/* ps's outputs as src lists them, but for those a journal record of
 * another source lists (taken): the journal is newer. */
static inline void
check_outputs(const struct prev_source *ps, json_t *src, char *const *taken)
{
	json_t *outs = json_object_get(src, "outputs"), *out;
	size_t i, k = 0;

	CHECK(ps->n_outputs <= json_array_size(outs));
	CHECK(!ps->n_outputs || ps->outputs);
	json_array_foreach(outs, i, out) {
		const char *recipe = str_field(out, "recipe");
		const struct out_record *r;
		char *path;

		if (!(path = kept_output(out)))
			continue;
		if (!ps->journal && listed_in(taken, path)) {
			free(path);
			continue;
		}
		CHECK(k < ps->n_outputs);
		r = &ps->outputs[k++];
		CHECK(r->path && !strcmp(r->path, path));
		CHECK((int)r->format == format_of(out));
		CHECK(memchr(r->recipe, '\0', sizeof(r->recipe)) && !strcmp(r->recipe, recipe));
		CHECK(r->width == int_field(out, "width"));
		CHECK(r->height == int_field(out, "height"));
		CHECK(r->bytes == (uint64_t)json_integer_value(json_object_get(out, "bytes")));
		free(path);
	}
	CHECK(k == ps->n_outputs);
}

/* The path record i is known by: its bytes, read from where its run
 * started.  The caller frees. */
static inline char *
record_key(const struct records *r, size_t i)
{
	char *path = path_bytes(json_object_get(r->rec[i], "path")), *rebased;
	struct stat st;

	if (!path || !r->prefix[i] || path[0] == '/')
		return path;
	CHECK((rebased = path_rebase(r->prefix[i], path)));
	/* read as it is when found so, and not through "cwd" */
	if (lstat(rebased, &st) && !lstat(path, &st)) {
		free(rebased);
		return path;
	}
	free(path);
	return rebased;
}

/* Whether another usable record of keys[i]'s path counts over record i:
 * the last one with outputs, else the last bare one. */
static inline int
beaten(const struct records *r, char *const *keys, size_t i)
{
	size_t j;

	for (j = 0; j < r->n; j++) {
		if (j == i || !keys[j] || strcmp(keys[j], keys[i]))
			continue;
		if (bare(r->rec[i]) ? !bare(r->rec[j]) || j > i : !bare(r->rec[j]) && j > i)
			return 1;
	}
	return 0;
}

static inline void
check_prev(const struct prev_manifest *pm, const struct records *r)
{
	size_t i, j, n_taken = 0, distinct = 0, replaced = 0;
	char **keys, *key, **taken;
	json_t *out;

	CHECK(pm->n <= r->n);
	CHECK(!pm->n || pm->sources);

	/* the outputs the journal's records list (the last of each path):
	 * no record of the manifest keeps them */
	keys = calloc(r->n + 1, sizeof(*keys));
	CHECK(keys);
	for (i = 0; i < r->n; i++)
		if (usable(r->rec[i]))
			keys[i] = record_key(r, i);
	taken = calloc(1, sizeof(*taken));
	CHECK(taken);
	for (i = r->n_manifest; i < r->n; i++) {
		if (!keys[i] || beaten(r, keys, i))
			continue;
		json_array_foreach(json_object_get(r->rec[i], "outputs"), j, out) {
			char *path = kept_output(out);

			if (!path)
				continue;
			CHECK((taken = realloc(taken, (n_taken + 2) * sizeof(*taken))));
			taken[n_taken++] = path;
			taken[n_taken] = NULL;
		}
	}

	for (i = 0; i < pm->n; i++) {
		const struct prev_source *ps = &pm->sources[i];
		const char *field;

		CHECK(ps->path && ps->mime);
		CHECK(i == 0 || strcmp(pm->sources[i - 1].path, ps->path) < 0);
		CHECK(manifest_find(pm, ps->path) == ps);
		CHECK(memchr(ps->hash, '\0', sizeof(ps->hash)));
		CHECK(ps->raw && json_is_object((json_t *)ps->raw));
		CHECK(ps->failed == (fuzz_streq(str_field(ps->raw, "status"), "failed") ||
				     fuzz_streq(str_field(ps->raw, "status"), "skipped")));
		CHECK(ps->bare == bare(ps->raw));
		CHECK(ps->failed || (ps->width > 0 && ps->height > 0));
		for (j = 0; j < r->n; j++) {
			key = record_key(r, j);
			if (key && !strcmp(key, ps->path) && json_equal(r->rec[j], ps->raw))
				break;
			free(key);
			key = NULL;
		}
		CHECK(j < r->n);
		free(key);
		field = str_field(ps->raw, "type");
		CHECK(fuzz_streq(field ? field : "", ps->mime));
		field = str_field(ps->raw, "hash");
		CHECK(fuzz_streq(field && strlen(field) < sizeof(ps->hash) ? field : "", ps->hash));
		CHECK(usable(ps->raw));
		check_outputs(ps, ps->raw, taken);
	}
	for (i = 0; i < n_taken; i++)
		free(taken[i]);
	free(taken);

	/* each path with a usable record is there, as its last record */
	for (i = 0; i < r->n; i++) {
		const struct prev_source *ps;

		if (!keys[i] || beaten(r, keys, i))
			continue;	/* another record of this path counts */
		distinct++;
		ps = manifest_find(pm, keys[i]);
		CHECK(ps);
		CHECK(json_equal(ps->raw, r->rec[i]));
	}
	CHECK(distinct == pm->n);
	for (i = 0; i < r->n; i++)
		free(keys[i]);
	free(keys);

	/* stale outputs: the safe ones, in order */
	j = 0;
	if (json_is_array(r->stale)) {
		json_t *st;

		json_array_foreach(r->stale, i, st) {
			char *path = safe_path(json_object_get(st, "path"));

			if (!path)
				continue;
			CHECK(j < pm->n_stale);
			CHECK(!strcmp(pm->stale[j].path, path));
			CHECK(pm->stale[j].bytes ==
			      (uint64_t)json_integer_value(json_object_get(st, "bytes")));
			CHECK(!pm->stale[j].deleted && !pm->stale[j].dropped);
			j++;
			free(path);
		}
	}
	/* then the outputs of each record that a later one of its path
	 * replaced, when the later one does not list them */
	for (i = 0; i < r->n; i++) {
		json_t *next = NULL;
		size_t k, m, n;
		char *p, *q;

		/* a bare record lists no output, and gives way to one that
		 * does before records replace one another */
		if (!usable(r->rec[i]) || bare(r->rec[i]))
			continue;
		key = record_key(r, i);
		for (n = i + 1; n < r->n && !next; n++)
			if (usable(r->rec[n]) && !bare(r->rec[n])) {
				char *other = record_key(r, n);

				if (!strcmp(other, key))
					next = r->rec[n];
				free(other);
			}
		free(key);
		if (!next)
			continue;
		json_array_foreach(json_object_get(r->rec[i], "outputs"), k, out) {
			int listed = 0;
			json_t *o2;

			if (!(p = kept_output(out)))
				continue;
			json_array_foreach(json_object_get(next, "outputs"), m, o2)
				if ((q = kept_output(o2))) {
					listed |= !strcmp(p, q);
					free(q);
				}
			if (!listed) {
				/* somewhere after the manifest's own stale list */
				for (m = j; m < pm->n_stale; m++)
					if (!strcmp(pm->stale[m].path, p) &&
					    pm->stale[m].bytes ==
					    (uint64_t)json_integer_value(json_object_get(out, "bytes")))
						break;
				CHECK(m < pm->n_stale);
				replaced++;
			}
			free(p);
		}
	}
	CHECK(j + replaced == pm->n_stale);
}

/* A scratch directory for the manifest and its journal: prev_dir. */

static inline void
prev_cleanup(void)
{
	unlink(prev_journal);
	unlink(prev_manifest);
	rmdir(prev_dir);
}

static inline void
prev_setup(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(prev_dir, sizeof(prev_dir), "%s/imgbake-fuzz-prev.XXXXXX", tmp);
	if (!mkdtemp(prev_dir))
		abort();
	snprintf(prev_manifest, sizeof(prev_manifest), "%s/imgbake-manifest.json", prev_dir);
	snprintf(prev_journal, sizeof(prev_journal), "%s.journal", prev_manifest);
	atexit(prev_cleanup);
}

static inline void
prev_write(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "w");

	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
}

#endif
