/*
 * --merge-manifests: the manifests of the N shards of one run, made one,
 * equal to the manifest the run would have written unsharded (bar the
 * measured memory, which is the largest of the shards').
 *
 * Refused: files that are not imgbake manifests, different imgbake or
 * libvips versions or options (anything that changes a recipe), runs
 * started from different directories (their source paths would not
 * read alike), shard
 * counts that differ, a shard given twice or missing, and a source
 * recorded by two shards.
 *
 * The record of a failed source lists the outputs an earlier run made
 * of it, left in place; where a source of another shard wrote one of
 * them, it is that source's, and the failed record gives it up, as in
 * one run.  An output two other records list is listed twice, with a
 * warning: which of the two made the file cannot be told here.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "output.h"
#include "shard.h"

#define MERGE_SLOT (OUTPUT_MAX_SLOTS - 1)

struct entry {
	char *key;	/* the path as bytes, for the plan's bytewise order */
	json_t *rec;	/* borrowed from its manifest */
	int from;	/* index of the input */
};

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : x->from - y->from;
}

/* Both absent, or equal. */
static int
json_equal_or_absent(json_t *a, json_t *b)
{
	return (!a && !b) || (a && b && json_equal(a, b));
}

/* The options that must agree: all but the shard and the budget. */
static json_t *
comparable_options(json_t *m)
{
	json_t *o = json_deep_copy(json_object_get(m, "options"));

	if (o) {
		json_object_del(o, "shard");
		json_object_del(o, "memory");
	}
	return o;
}

/* Whether two shards' records of one source say the same and list no
 * output (a failure, a file skipped): a task run again after the merge
 * (a retried job) reads only its own manifest and keeps such a record
 * of a source no task converts, which another keeps from the merge.
 * Records with outputs must be in one shard: two are shards that
 * overlap. */
static int
records_agree(json_t *a, json_t *b)
{
	return !json_array_size(json_object_get(a, "outputs")) && json_equal(a, b);
}

static int
collect(json_t *arr, int from, struct entry **all, size_t *n, size_t *cap)
{
	size_t i;
	json_t *rec;

	json_array_foreach(arr, i, rec) {
		char *key = manifest_path_value(json_object_get(rec, "path"));

		if (!key)
			return 1;
		if (*n == *cap) {
			size_t c = *cap ? 2 * *cap : 256;
			struct entry *grown = realloc(*all, c * sizeof(*grown));

			if (!grown) {
				free(key);
				return -1;
			}
			*all = grown;
			*cap = c;
		}
		(*all)[(*n)++] = (struct entry){ key, rec, from };
	}
	return 0;
}

static void
sum_field(json_t *to, json_t *from, const char *key)
{
	json_t *a = json_object_get(to, key), *b = json_object_get(from, key);

	if (json_is_integer(a) && json_is_integer(b))
		json_integer_set(a, json_integer_value(a) + json_integer_value(b));
}

static void
max_field(json_t *to, json_t *from, const char *key)
{
	json_t *a = json_object_get(to, key), *b = json_object_get(from, key);

	if (json_is_integer(a) && json_is_integer(b) &&
	    json_integer_value(b) > json_integer_value(a))
		json_integer_set(a, json_integer_value(b));
}

/* An output as a record of the merge lists it: the path as the
 * manifest writes it (one text for one name), borrowed. */
struct listing {
	const char *path;
	size_t src;	/* its record's index in the sorted records */
};

static int
cmp_listing(const void *a, const void *b)
{
	const struct listing *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x->src > y->src) - (x->src < y->src);
}

static int
cmp_listing_path(const void *a, const void *b)
{
	return strcmp(((const struct listing *)a)->path, ((const struct listing *)b)->path);
}

static int
is_failed(const struct entry *e)
{
	const char *status = json_string_value(json_object_get(e->rec, "status"));

	return status && !strcmp(status, "failed");
}

/* The outputs the records but failures list, sorted, into *out; in
 * *dups the number listed by two records, and the first in *dup.
 * 0 or -1 (out of memory). */
static int
made_outputs(const struct entry *src, size_t n_src, struct listing **out, size_t *n_out,
	size_t *dups, struct listing dup[2])
{
	struct listing *v = NULL, *grown;
	size_t n = 0, cap = 0, i, k;
	json_t *o;

	for (i = 0; i < n_src; i++) {
		if (is_failed(&src[i]))
			continue;
		json_array_foreach(json_object_get(src[i].rec, "outputs"), k, o) {
			const char *path = json_string_value(json_object_get(o, "path"));

			if (!path)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 256;
				if (!(grown = realloc(v, cap * sizeof(*v)))) {
					free(v);
					return -1;
				}
				v = grown;
			}
			v[n++] = (struct listing){ path, i };
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_listing);
	*dups = 0;
	for (i = 1; i < n; i++)
		if (!strcmp(v[i].path, v[i - 1].path) && v[i].src != v[i - 1].src &&
		    (*dups)++ == 0) {
			dup[0] = v[i - 1];
			dup[1] = v[i];
		}
	*out = v;
	*n_out = n;
	return 0;
}

/* A failed record without the outputs another record lists, which a
 * source of the run wrote.  A new reference, NULL if out of memory. */
static json_t *
failed_rec(json_t *rec, const struct listing *made, size_t n_made)
{
	json_t *copy = json_deep_copy(rec), *outs;
	size_t i;

	if (!copy)
		return NULL;
	outs = json_object_get(copy, "outputs");
	for (i = json_array_size(outs); i-- > 0;) {
		struct listing key = {
			json_string_value(json_object_get(json_array_get(outs, i), "path")), 0
		};

		if (key.path && n_made &&
		    bsearch(&key, made, n_made, sizeof(*made), cmp_listing_path))
			json_array_remove(outs, i);
	}
	return copy;
}

/* A shard that did not finish: stopped (its manifest counts what it
 * left), or killed or still running (its journal is there, locked by
 * the run or holding what it converted).  Its manifest still holds the
 * records of the run before, which the files on disk no longer match.
 * An empty journal no run holds is a run killed as it walked, before
 * it touched a file: its manifest is still true. */
static int
unfinished_shard(const char *path, json_t *m, char *err, size_t errlen)
{
	json_int_t left = json_integer_value(
		json_object_get(json_object_get(m, "summary"), "unfinished"));
	char *journal = NULL;
	struct stat st;
	int fd, held, killed = 0;

	if (left > 0) {
		snprintf(err, errlen, "'%s' is the manifest of a run stopped before it "
			 "finished (%" JSON_INTEGER_FORMAT " source%s): run that shard again",
			 path, left, left == 1 ? "" : "s");
		return -1;
	}
	if (asprintf(&journal, "%s.journal", path) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((fd = open(journal, O_RDONLY | O_CLOEXEC)) < 0 && errno == ENOENT) {
		free(journal);
		return 0;
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot read '%s' (%s), so cannot tell whether "
			 "the run writing '%s' finished", journal, strerror(errno), path);
		free(journal);
		return -1;
	}
	held = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	if (held)
		snprintf(err, errlen, "'%s' is there: the run writing '%s' is still "
			 "running; wait for it", journal, path);
	else if ((killed = fstat(fd, &st) || st.st_size > 0))
		snprintf(err, errlen, "'%s' is there: the run writing '%s' was killed; "
			 "run that shard again", journal, path);
	close(fd);
	free(journal);
	return held || killed ? -1 : 0;
}

int
manifest_merge(const char *out, char *const *in, int n_in, char *warn, size_t warnlen,
	char *err, size_t errlen)
{
	static const char *const counters[] = {
		"sources", "converted", "up_to_date", "pruned", "skipped", "failed",
		"unfinished", "outputs", "bytes_in", "bytes_out",
	};
	json_t **m = calloc((size_t)n_in, sizeof(*m)), *first_opts = NULL;
	json_t *root = NULL, *summary = NULL, *sources = NULL, *stale = NULL, *opts = NULL;
	struct entry *src = NULL, *st = NULL;
	struct listing *made = NULL, dup[2] = { { NULL, 0 }, { NULL, 0 } };
	size_t n_made = 0, dups = 0;
	size_t n_src = 0, cap_src = 0, n_st = 0, cap_st = 0, i, c;
	unsigned char *seen = NULL;
	int shards = 0, k, ret = -1, r;
	struct tempfile t;
	char *text = NULL;
	json_error_t jerr;

	*warn = '\0';
	if (!m)
		goto oom;
	if (manifest_replaceable(out, err, errlen))
		goto out;
	for (k = 0; k < n_in; k++)
		if (output_same_file(out, in[k])) {
			snprintf(err, errlen, "'%s' is one of the manifests to merge: "
				 "write the merge to another file", out);
			goto out;
		}
	for (k = 0; k < n_in; k++) {
		const char *shard;
		json_t *o;
		int si, sn;

		if (!(m[k] = json_load_file(in[k], 0, &jerr))) {
			snprintf(err, errlen, "cannot read manifest '%s': %s", in[k], jerr.text);
			goto out;
		}
		if (!json_is_string(json_object_get(m[k], "imgbake")) ||
		    !json_is_array(json_object_get(m[k], "sources"))) {
			snprintf(err, errlen, "'%s' is not an imgbake manifest", in[k]);
			goto out;
		}
		if (unfinished_shard(in[k], m[k], err, errlen))
			goto out;
		if (k && (!json_equal(json_object_get(m[k], "imgbake"), json_object_get(m[0], "imgbake")) ||
			  !json_equal(json_object_get(m[k], "libvips"), json_object_get(m[0], "libvips")))) {
			snprintf(err, errlen, "'%s' and '%s' were made by different imgbake or libvips versions",
				 in[0], in[k]);
			goto out;
		}
		if (k && !json_equal_or_absent(json_object_get(m[k], "cwd"),
					       json_object_get(m[0], "cwd"))) {
			snprintf(err, errlen, "'%s' and '%s' name their sources from different "
				 "directories (\"cwd\")", in[0], in[k]);
			goto out;
		}
		o = comparable_options(m[k]);
		if (!k) {
			first_opts = o;
		} else {
			r = json_equal(o, first_opts);
			json_decref(o);
			if (!r) {
				snprintf(err, errlen, "'%s' and '%s' were made with different options "
					 "(their outputs would not match)", in[0], in[k]);
				goto out;
			}
		}
		shard = json_string_value(json_object_get(json_object_get(m[k], "options"), "shard"));
		if (!shard ? n_in > 1 : shard_parse(shard, &si, &sn)) {
			snprintf(err, errlen, "'%s' is not the manifest of a shard (--shard K/N)", in[k]);
			goto out;
		}
		if (!shard)
			continue;
		if (!shards) {
			shards = sn;
			if (!(seen = calloc((size_t)sn, 1)))
				goto oom;
		} else if (sn != shards) {
			snprintf(err, errlen, "'%s' is shard %d of %d, '%s' one of %d",
				 in[k], si, sn, in[0], shards);
			goto out;
		}
		if (seen[si]) {
			snprintf(err, errlen, "shard %d/%d is given twice ('%s')", si, sn, in[k]);
			goto out;
		}
		seen[si] = 1;
	}
	for (k = 0; k < shards; k++)
		if (!seen[k]) {
			int len = 0;

			len += snprintf(err, errlen, "missing shards:");
			for (; k < shards && (size_t)len < errlen; k++)
				if (!seen[k])
					len += snprintf(err + len, errlen - (size_t)len, " %d/%d", k, shards);
			goto out;
		}

	for (k = 0; k < n_in; k++) {
		if ((r = collect(json_object_get(m[k], "sources"), k, &src, &n_src, &cap_src)) ||
		    (json_is_array(json_object_get(m[k], "stale")) &&
		     (r = collect(json_object_get(m[k], "stale"), k, &st, &n_st, &cap_st)))) {
			if (r < 0)
				goto oom;
			snprintf(err, errlen, "'%s' has a record without a path", in[k]);
			goto out;
		}
	}
	if (n_src)
		qsort(src, n_src, sizeof(*src), cmp_entry);
	if (n_st)
		qsort(st, n_st, sizeof(*st), cmp_entry);

	if (!(sources = json_array()) || !(stale = json_array()))
		goto oom;
	for (i = 0, c = 0; i < n_src; i++) {
		if (c && !strcmp(src[i].key, src[c - 1].key)) {
			if (!records_agree(src[c - 1].rec, src[i].rec)) {
				snprintf(err, errlen, "'%s' is in both '%s' and '%s': shards overlap",
					 json_string_value(json_object_get(src[i].rec, "path")),
					 in[src[c - 1].from], in[src[i].from]);
				/* whole again, for the keys to be freed */
				memmove(&src[c], &src[i], (n_src - i) * sizeof(*src));
				n_src = c + (n_src - i);
				goto out;
			}
			free(src[i].key);
			continue;
		}
		src[c++] = src[i];
	}
	n_src = c;
	if (made_outputs(src, n_src, &made, &n_made, &dups, dup))
		goto oom;
	if (dups)
		snprintf(warn, warnlen, "'%s' is listed under both '%s' ('%s') and '%s' "
			 "('%s')%s", dup[0].path,
			 json_string_value(json_object_get(src[dup[0].src].rec, "path")),
			 in[src[dup[0].src].from],
			 json_string_value(json_object_get(src[dup[1].src].rec, "path")),
			 in[src[dup[1].src].from],
			 dups > 1 ? ", and more outputs under two sources" : "");
	for (i = 0; i < n_src; i++) {
		json_t *rec;

		if (!is_failed(&src[i])) {
			json_array_append(sources, src[i].rec);
			continue;
		}
		if (!(rec = failed_rec(src[i].rec, made, n_made)))
			goto oom;
		json_array_append_new(sources, rec);
	}
	for (i = 0; i < n_st; i++)
		if (!i || strcmp(st[i].key, st[i - 1].key))
			json_array_append(stale, st[i].rec);

	summary = json_deep_copy(json_object_get(m[0], "summary"));
	opts = json_deep_copy(json_object_get(m[0], "options"));
	if (!summary || !opts)
		goto oom;
	json_object_del(opts, "shard");
	for (k = 1; k < n_in; k++) {
		json_t *s = json_object_get(m[k], "summary");

		for (c = 0; c < sizeof(counters) / sizeof(counters[0]); c++)
			sum_field(summary, s, counters[c]);
		max_field(json_object_get(summary, "memory"), json_object_get(s, "memory"), "budget");
		max_field(json_object_get(summary, "memory"), json_object_get(s, "memory"), "peak_rss");
		max_field(opts, json_object_get(m[k], "options"), "memory");
	}

	root = json_pack("{s:O, s:O}",
			 "imgbake", json_object_get(m[0], "imgbake"),
			 "libvips", json_object_get(m[0], "libvips"));
	if (root && json_object_get(m[0], "cwd"))
		json_object_set(root, "cwd", json_object_get(m[0], "cwd"));
	if (root && (json_object_set(root, "options", opts) ||
		     json_object_set(root, "summary", summary) ||
		     json_object_set(root, "sources", sources) ||
		     json_object_set(root, "stale", stale)))
		goto oom;
	if (!root || !(text = json_dumps(root, JSON_INDENT(2))))
		goto oom;
	if (output_open(&t, out, MERGE_SLOT, err, errlen))
		goto out;
	if (output_write_all(t.fd, text, strlen(text)) || output_write_all(t.fd, "\n", 1)) {
		snprintf(err, errlen, "cannot write '%s': %s", out, strerror(errno));
		output_discard(&t);
		goto out;
	}
	ret = output_commit(&t, err, errlen);
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	free(text);
	json_decref(root);
	json_decref(summary);
	json_decref(opts);
	json_decref(sources);
	json_decref(stale);
	json_decref(first_opts);
	for (i = 0; i < n_src; i++)
		free(src[i].key);
	for (i = 0; i < n_st; i++)
		free(st[i].key);
	free(src);
	free(st);
	free(made);
	free(seen);
	for (k = 0; m && k < n_in; k++)
		json_decref(m[k]);
	free(m);
	return ret;
}
