/*
 * The planner.  Everything that can be decided without decoding is
 * decided here, on the main thread, before the workers start: the
 * order of the jobs, each source's real type (libmagic, from its
 * first bytes), and which sources would write the same output.  A
 * collision fails every source involved: picking a winner would make
 * the result depend on the order of the arguments.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "hash.h"
#include "manifest.h"
#include "paths.h"
#include "plan.h"
#include "shard.h"

#define SNIFF_BYTES 16384

static const char *const reason_names[] = {
	[REASON_NONE] = "",
	[REASON_NOT_AN_IMAGE] = "not-an-image",
	[REASON_UNSUPPORTED] = "unsupported",
	[REASON_SYMLINK] = "symlink",
	[REASON_NOT_REGULAR] = "not-regular",
	[REASON_COLLISION] = "collision",
	[REASON_UNSAFE_PATH] = "unsafe-path",
	[REASON_IO] = "io",
	[REASON_CORRUPT] = "corrupt",
	[REASON_ENCODE] = "encode",
	[REASON_LIMIT] = "limit",
	[REASON_TIMEOUT] = "timeout",
	[REASON_INTERRUPTED] = "interrupted",
};

const char *
reason_name(enum job_reason r)
{
	return reason_names[r];
}

const char *
status_name(enum job_status s)
{
	static const char *const names[] = {
		"pending", "converted", "skipped", "failed", "up-to-date"
	};

	return names[s];
}

void
result_release(struct result *res)
{
	size_t i;

	for (i = 0; i < res->n_outputs; i++)
		free(res->outputs[i].path);
	free(res->outputs);
	free(res->error);
	free(res->warning);
	memset(res, 0, sizeof(*res));
}

int
plan_add(struct plan *p, const char *path, const char *rel, int named,
	enum job_status status, enum job_reason reason, const char *error)
{
	struct job *j;
	const char *ext = "";

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 256;
		struct job *grown = realloc(p->jobs, cap * sizeof(*grown));

		if (!grown)
			return -1;
		p->jobs = grown;
		p->cap = cap;
	}
	j = &p->jobs[p->n];
	memset(j, 0, sizeof(*j));
	j->dup_of = -1;
	j->first_copy = j->next_copy = -1;
	j->named = named;
	j->pre_status = status;
	j->pre_reason = reason;
	/* what lies below it is unknown: nothing may be taken as gone */
	if (status == JOB_FAILED && reason == REASON_IO)
		p->incomplete = 1;
	if (!(j->src_path = strdup(path)))
		return -1;
	if (error && !(j->pre_error = strdup(error)))
		goto fail;
	if (rel && path_split(rel, &j->rel_dir, &j->stem, &ext))
		goto fail;
	if (!rel && (!(j->rel_dir = strdup("")) || !(j->stem = strdup(""))))
		goto fail;
	/* remember the extension in the mime slot until the sniff replaces it */
	if (!(j->mime = strdup(ext)))
		goto fail;
	p->n++;
	return 0;
fail:
	free(j->src_path);
	free(j->pre_error);
	free(j->rel_dir);
	free(j->stem);
	free(j->mime);
	return -1;
}

static void
job_release(struct job *j)
{
	size_t i;

	for (i = 0; i < j->n_reuse; i++)
		free(j->reuse[i].path);
	free(j->reuse);
	free(j->src_path);
	free(j->rel_dir);
	free(j->stem);
	free(j->mime);
	free(j->pre_error);
}

/* s with fnmatch(3)'s special characters escaped; malloc'd. */
static char *
glob_escape(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *q = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (strchr("*?[]\\", *s))
			*q++ = '\\';
		*q++ = *s;
	}
	*q = '\0';
	return out;
}

/* tmpl with {w} and {hash} made "*", or cut at the first of them. */
static char *
template_wild(const char *tmpl, int cut)
{
	char *out = malloc(strlen(tmpl) + 1), *q = out;

	if (!out)
		return NULL;
	while (*tmpl) {
		size_t skip = !strncmp(tmpl, "{w}", 3) ? 3 : !strncmp(tmpl, "{hash}", 6) ? 6 : 0;

		if (skip && cut)
			break;
		if (skip) {
			*q++ = '*';
			tmpl += skip;
		} else {
			*q++ = *tmpl++;
		}
	}
	*q = '\0';
	return out;
}

/* The literal end of a pattern (after its last '*', unescaped), reversed:
 * a name it matches ends so. */
static char *
pattern_rsuffix(const char *pattern)
{
	const char *p, *start = pattern;
	char *out, *q;
	size_t n;

	for (p = pattern; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '*')
			start = p + 1;
	}
	if (!(out = malloc(strlen(start) + 1)))
		return NULL;
	for (p = start, q = out; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		*q++ = *p;
	}
	*q = '\0';
	for (n = (size_t)(q - out), q = out; n > 1; n -= 2, q++) {
		char t = *q;

		*q = q[n - 1];
		q[n - 1] = t;
	}
	return out;
}

/* With {w} or {hash} in the template, a source may write names no list
 * holds: one of a width it is narrower than (named by its own), or of
 * its content hash.  A pattern of them per format. */
static int
index_add_patterns(struct name_index *ix, const struct options *o, const struct job *job,
	int share)
{
	const char *tmpl = options_template(o);
	char *wild = template_wild(tmpl, 0), *cut = template_wild(tmpl, 1);
	char *dir = glob_escape(job->rel_dir), *stem = glob_escape(job->stem), *prefix;
	struct other_pattern *grown;
	int f, ret = -1;

	if (!wild || !cut || !dir || !stem ||
	    !(grown = realloc(ix->patterns, (ix->n_patterns + (size_t)o->n_formats) *
			      sizeof(*grown))))
		goto out;
	ix->patterns = grown;
	prefix = path_expand(cut, job->rel_dir, job->stem, 0, "", "");
	for (f = 0; f < o->n_formats; f++) {
		struct other_pattern *op = &ix->patterns[ix->n_patterns];

		errno = 0;
		op->pattern = path_expand(wild, dir, stem, 0, format_ext(o->formats[f]), "");
		if (!op->pattern && errno == EINVAL)
			continue;	/* names outside the root: none */
		op->prefix = strdup(prefix ? prefix : "");
		op->rsuffix = op->pattern ? pattern_rsuffix(op->pattern) : NULL;
		op->share = share;
		if (!op->pattern || !op->prefix || !op->rsuffix) {
			free(op->pattern);
			free(op->prefix);
			free(op->rsuffix);
			free(prefix);
			goto out;
		}
		ix->n_patterns++;
	}
	free(prefix);
	ret = 0;
out:
	free(wild);
	free(cut);
	free(dir);
	free(stem);
	return ret;
}

/* The outputs job, of task `share`, would write.  0 or -1. */
static int
index_add(struct name_index *ix, const struct options *o, const struct job *job, int share)
{
	int f, w, n_w = o->n_widths ? o->n_widths : 1;
	const char *tmpl = options_template(o);
	struct other_output *grown;

	if (!job->rel_dir || !job->stem)
		return 0;
	if ((strstr(tmpl, "{w}") || strstr(tmpl, "{hash}")) &&
	    index_add_patterns(ix, o, job, share))
		return -1;
	if (!(grown = realloc(ix->outputs, (ix->n_outputs +
			(size_t)(o->n_formats * n_w)) * sizeof(*grown))))
		return -1;
	ix->outputs = grown;
	for (f = 0; f < o->n_formats; f++)
		for (w = 0; w < n_w; w++) {
			char *path;

			errno = 0;
			path = plan_output_path(o, job, o->formats[f],
						o->n_widths ? o->widths[w] : 0);
			if (!path && errno != EINVAL)
				return -1;
			if (path)	/* else a name outside the root: none */
				ix->outputs[ix->n_outputs++] = (struct other_output){ path, share };
		}
	return 0;
}

static int
cmp_by_prefix(const void *a, const void *b)
{
	return strcmp((*(struct other_pattern *const *)a)->prefix,
		      (*(struct other_pattern *const *)b)->prefix);
}

static int
cmp_by_suffix(const void *a, const void *b)
{
	return strcmp((*(struct other_pattern *const *)a)->rsuffix,
		      (*(struct other_pattern *const *)b)->rsuffix);
}

/* Sorted for index_lookup.  0 or -1 (out of memory). */
static int
index_sort(struct name_index *ix)
{
	size_t i;

	if (ix->n_outputs)
		qsort(ix->outputs, ix->n_outputs, sizeof(*ix->outputs), path_cmp_ptrs);
	if (!ix->n_patterns)
		return 0;
	if (!(ix->by_prefix = malloc(ix->n_patterns * sizeof(*ix->by_prefix))) ||
	    !(ix->by_suffix = malloc(ix->n_patterns * sizeof(*ix->by_suffix))))
		return -1;
	for (i = 0; i < ix->n_patterns; i++)
		ix->by_prefix[i] = ix->by_suffix[i] = &ix->patterns[i];
	qsort(ix->by_prefix, ix->n_patterns, sizeof(*ix->by_prefix), cmp_by_prefix);
	qsort(ix->by_suffix, ix->n_patterns, sizeof(*ix->by_suffix), cmp_by_suffix);
	return 0;
}

static void
index_release(struct name_index *ix)
{
	size_t i;

	for (i = 0; i < ix->n_outputs; i++)
		free(ix->outputs[i].path);
	free(ix->outputs);
	for (i = 0; i < ix->n_patterns; i++) {
		free(ix->patterns[i].prefix);
		free(ix->patterns[i].pattern);
		free(ix->patterns[i].rsuffix);
	}
	free(ix->patterns);
	free(ix->by_prefix);
	free(ix->by_suffix);
	memset(ix, 0, sizeof(*ix));
}

/* Of v (n patterns sorted by prefix, or by reversed suffix), the first
 * whose key is exactly s's first k bytes; their number in *count. */
static size_t
key_range(struct other_pattern *const *v, size_t n, int suffix, const char *s, size_t k,
	size_t *count)
{
	size_t lo = 0, hi = n, mid, first;

	/* the first key not below s[0..k), then the first above it */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strncmp(suffix ? v[mid]->rsuffix : v[mid]->prefix, s, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	for (hi = n; lo < hi; ) {
		const char *key;
		int c;

		mid = lo + (hi - lo) / 2;
		key = suffix ? v[mid]->rsuffix : v[mid]->prefix;
		c = strncmp(key, s, k);

		if (c < 0 || (c == 0 && key[k] == '\0'))
			lo = mid + 1;
		else
			hi = mid;
	}
	*count = lo - first;
	return first;
}

/* Whether a source of ix plans an output at rel by name (1), or may (2:
 * a pattern's match), or neither (0); in *exact the lowest task that
 * plans it by name, in *may the lowest whose pattern matches (-1:
 * none).  A pattern can match only if its literal start begins rel and
 * its literal end ends it: of the two sets, the smaller is tried. */
static int
index_lookup(const struct name_index *ix, const char *rel, int *exact, int *may)
{
	struct other_output key = { (char *)rel, 0 }, *hit;
	size_t len = strlen(rel), k, m, first, count, by_pre = 0, by_suf = 0;
	char *rrel;
	int suffix;

	*exact = *may = -1;
	if (ix->n_outputs &&
	    (hit = bsearch(&key, ix->outputs, ix->n_outputs, sizeof(key), path_cmp_ptrs))) {
		const struct other_output *end = ix->outputs + ix->n_outputs;

		while (hit > ix->outputs && !strcmp(hit[-1].path, rel))
			hit--;
		for (; hit < end && !strcmp(hit->path, rel); hit++)
			if (*exact < 0 || hit->share < *exact)
				*exact = hit->share;
	}
	if (!ix->n_patterns || !(rrel = malloc(len + 1)))
		return *exact >= 0 ? 1 : 0;
	for (k = 0; k < len; k++)
		rrel[k] = rel[len - 1 - k];
	rrel[len] = '\0';
	for (k = 0; k <= len; k++) {
		key_range(ix->by_prefix, ix->n_patterns, 0, rel, k, &count);
		by_pre += count;
		key_range(ix->by_suffix, ix->n_patterns, 1, rrel, k, &count);
		by_suf += count;
	}
	suffix = by_suf < by_pre;
	for (k = 0; k <= len; k++) {
		first = key_range(suffix ? ix->by_suffix : ix->by_prefix, ix->n_patterns, suffix,
				  suffix ? rrel : rel, k, &count);
		for (m = first; m < first + count; m++) {
			const struct other_pattern *op = (suffix ? ix->by_suffix : ix->by_prefix)[m];

			if ((*may < 0 || op->share < *may) && !fnmatch(op->pattern, rel, FNM_PATHNAME))
				*may = op->share;
		}
	}
	free(rrel);
	return *exact >= 0 ? 1 : *may >= 0 ? 2 : 0;
}

/* The names of the other tasks' sources into ix.  0 or -1. */
static int
index_add_others(struct name_index *ix, const struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n_other_names; i++) {
		struct job j = { .rel_dir = p->other_names[i].rel_dir,
				 .stem = p->other_names[i].stem };

		if (index_add(ix, p->other_o, &j, p->other_names[i].share))
			return -1;
	}
	return 0;
}

/* p->others: made only when a record calls an output stale (most runs
 * have none), not for every source of every other task at the start.
 * 0 or -1. */
static int
build_others(struct plan *p)
{
	return index_add_others(&p->others, p) ? -1 : index_sort(&p->others);
}

int
plan_other_makes(struct plan *p, const char *rel)
{
	int exact, may, found;

	if (!p->others.built && p->n_other_names)
		p->others.built = build_others(p) ? -1 : 1;
	if (p->others.built < 0)
		return 1;	/* out of memory: keep what may be another's */
	found = index_lookup(&p->others, rel, &exact, &may);
	/* a name of a width as given is not made by a source narrower */
	if (found == 1 && p->other_o->n_widths && strstr(options_template(p->other_o), "{w}"))
		found = 2;
	return found;
}

/* p->all: the names of every task's sources, this one's too, so that
 * every task finds the same owner for a record.  0 or -1. */
static int
build_all(struct plan *p, const struct options *o)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		/* by name only, as the others' are known: not by {hash} */
		struct job j = { .rel_dir = p->jobs[i].rel_dir, .stem = p->jobs[i].stem };

		if (index_add(&p->all, o, &j, o->shard_index))
			return -1;
	}
	return index_add_others(&p->all, p) ? -1 : index_sort(&p->all);
}

void
plan_release(struct plan *p)
{
	size_t i;

	free(p->src_ids);
	free(p->job_ids);
	free(p->by_entry);
	if (p->dirs_given)
		g_hash_table_destroy(p->dirs_given);
	if (p->dirs_resolved)
		g_hash_table_destroy(p->dirs_resolved);
	for (i = 0; i < p->n_other_share; i++)
		free((char *)p->other_share[i].path);
	free(p->other_share);
	for (i = 0; i < p->n_other_names; i++) {
		free(p->other_names[i].rel_dir);
		free(p->other_names[i].stem);
	}
	free(p->other_names);
	index_release(&p->others);
	index_release(&p->all);
	for (i = 0; i < p->n; i++)
		job_release(&p->jobs[i]);
	free(p->jobs);
	memset(p, 0, sizeof(*p));
}

static int
cmp_job(const void *a, const void *b)
{
	return strcmp(((const struct job *)a)->src_path,
		      ((const struct job *)b)->src_path);
}

static void job_refuse(struct job *j, enum job_status status,
	enum job_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
job_refuse(struct job *j, enum job_status status, enum job_reason reason,
	const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(j->pre_error);
	j->pre_status = status;
	j->pre_reason = reason;
	j->pre_error = strdup(msg);
}

static int
loader_allowed(const struct options *o, const char *name)
{
	int i;

	for (i = 0; i < o->n_allow_loaders; i++)
		if (!strcmp(o->allow_loaders[i], name))
			return 1;
	return 0;
}

/* A file that is no image imgbake converts: skipped when met during a
 * walk, failed when named or listed.  It fails too where an earlier run
 * made outputs of it (a file being written, empty or not yet an image),
 * so that they are kept, not pruned. */
static enum job_status
refused_status(const struct job *j)
{
	return j->named || (j->prev && j->prev->n_outputs) ? JOB_FAILED : JOB_SKIPPED;
}

/* Read the first bytes, decide the type, note the size; the content
 * hash too when output names need it. */
static int
sniff_job(const struct options *o, struct job *j, struct sniff *s, int need_hash)
{
	unsigned char buf[SNIFF_BYTES];
	char *ext = j->mime;
	struct stat st;
	ssize_t n;
	int fd;

	j->mime = NULL;
	j->may_skip = refused_status(j) == JOB_SKIPPED;
	/* O_NONBLOCK: a FIFO swapped in since the walk must not block us */
	fd = open(j->src_path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
		  (j->named || o->follow_symlinks ? 0 : O_NOFOLLOW));
	if (fd < 0 || fstat(fd, &st)) {
		job_refuse(j, JOB_FAILED, REASON_IO, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		job_refuse(j, refused_status(j), REASON_NOT_REGULAR,
			   "%s", "not a regular file");
		goto out;
	}
	if (o->max_file_size && (uint64_t)st.st_size > o->max_file_size) {
		char size[32], limit[32];

		j->bytes = st.st_size;	/* recorded: how far over the limit */
		/* in bytes where MB would show both as one number, or 0.0 */
		snprintf(size, sizeof(size), "%.1f", st.st_size / 1e6);
		snprintf(limit, sizeof(limit), "%.1f", o->max_file_size / 1e6);
		if (o->max_file_size < 100000 || !strcmp(size, limit))
			job_refuse(j, JOB_FAILED, REASON_LIMIT,
				   "limit: %jd bytes, over the %ju byte limit (--max-file-size)",
				   (intmax_t)st.st_size, (uintmax_t)o->max_file_size);
		else
			job_refuse(j, JOB_FAILED, REASON_LIMIT,
				   "limit: %s MB, over the %s MB limit (--max-file-size)",
				   size, limit);
		goto out;
	}
	j->bytes = st.st_size;
	j->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	j->inode = (uint64_t)st.st_ino;
	while ((n = read(fd, buf, sizeof(buf))) < 0 && errno == EINTR)
		;
	if (n < 0) {
		job_refuse(j, JOB_FAILED, REASON_IO, "%s", strerror(errno));
		goto out;
	}
	if (!(j->mime = strdup(sniff_buffer(s, buf, (size_t)n))))
		goto oom;
	j->type = sniff_type(j->mime);
	if (j->type == SRC_NONE && loader_allowed(o, "pdfload") &&
	    !strcmp(j->mime, "application/pdf"))
		j->type = SRC_OTHER;
	if (j->type == SRC_NONE) {
		job_refuse(j, refused_status(j), REASON_NOT_AN_IMAGE,
			   "not an image (%s)", j->mime);
		goto out;
	}
	if (j->type == SRC_OTHER && !o->n_allow_loaders) {
		job_refuse(j, refused_status(j), REASON_UNSUPPORTED,
			   "unsupported image type %s", j->mime);
		goto out;
	}
	j->ext_mismatch = !sniff_ext_matches(j->type, ext);
	if (need_hash && (lseek(fd, 0, SEEK_SET) || hash_fd(fd, j->hash)))
		job_refuse(j, JOB_FAILED, REASON_IO, "%s", strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	free(ext);
	return 0;
oom:
	close(fd);
	free(ext);
	return -1;
}

/* Part of a template, expanded for job as text (no path: a part may be
 * empty, or "." alone), width, format and hash left out. */
static char *
expand_part(const char *part, const struct job *job)
{
	GString *out = g_string_new(NULL);

	while (*part) {
		if (!strncmp(part, "{dir}", 5)) {
			g_string_append(out, job->rel_dir);
			part += 5;
		} else if (!strncmp(part, "{stem}", 6)) {
			g_string_append(out, job->stem);
			part += 6;
		} else if (!strncmp(part, "{ext}", 5) || !strncmp(part, "{hash}", 6) ||
			   !strncmp(part, "{w}", 3)) {
			part = strchr(part, '}') + 1;
		} else {
			g_string_append_c(out, *part++);
		}
	}
	return g_string_free(out, FALSE);
}

/* What sources whose outputs may share a name have in common: the name
 * with width and format left out.  Where {w} is ambiguous
 * (options_width_ambiguous), a source narrower than every width, named
 * by its own, may take the name of another whose stem ends (or, with
 * {w}{stem}, starts) in digits of the width: a4.jpg, 80 px, and a.jpg
 * give a480.webp under {stem}{w}.{ext}.  The digits next to {w} are
 * then left out too: the two share "a". */
static char *
shard_key(const char *tmpl, const struct job *job)
{
	const char *w = strstr(tmpl, "{w}");
	char *cut, *left, *right, *r, *key;
	size_t len;

	if (!w || !options_width_ambiguous(tmpl))
		return path_expand(tmpl, job->rel_dir, job->stem, 0, "", "");
	if (!(cut = strndup(tmpl, (size_t)(w - tmpl))))
		return NULL;
	left = expand_part(cut, job);
	free(cut);
	right = expand_part(w + 3, job);
	for (len = strlen(left); len > 0 && isdigit((unsigned char)left[len - 1]); len--)
		left[len - 1] = '\0';
	for (r = right; isdigit((unsigned char)*r); r++)
		;
	if (asprintf(&key, "%s{w}%s", left, r) < 0)
		key = NULL;
	free(left);
	free(right);
	return key;
}

const void *
plan_name_owner(const struct job *j)
{
	return j->prev ? (const void *)j->prev : (const void *)j;
}

int
plan_shard_of(const struct options *o, const struct job *job)
{
	char *key;
	int share;

	/* refused before its name was known (a named file missing, a
	 * directory that cannot be read): one task reports it */
	if (!job->rel_dir || !job->stem || !*job->stem)
		return shard_of(job->src_path, o->shard_count);
	/* the output name without what varies per output: sources that
	 * could collide share it; one whose name leads outside the output
	 * root, refused once read, goes by its path */
	errno = 0;
	if (!(key = shard_key(options_template(o), job)))
		return errno == EINVAL ? shard_of(job->src_path, o->shard_count) : -1;
	share = shard_of(key, o->shard_count);
	free(key);
	return share;
}

char *
plan_output_path(const struct options *o, const struct job *job,
	enum out_format f, int width)
{
	/* {hash}: the first 10 hex digits, enough to bust caches */
	char short_hash[11] = "";

	if (job->hash[0])
		snprintf(short_hash, sizeof(short_hash), "%s", job->hash + 7);
	return path_expand(options_template(o), job->rel_dir, job->stem, width,
			   format_ext(f), short_hash);
}

int
plan_widths(const struct options *o, int src_width, int *targets, int *name_width)
{
	int i, n = 0;

	*name_width = 0;
	for (i = 0; i < o->n_widths; i++)
		if (o->widths[i] <= src_width)
			targets[n++] = o->widths[i];
	if (n == 0) {
		targets[n++] = src_width;
		if (o->n_widths)
			*name_width = src_width;
	}
	return n;
}

/* The fixed encoder settings of each format (convert.h), in the
 * recipe so that changing one re-makes the outputs it shapes. */
#define STR(x) #x
#define XSTR(x) STR(x)
static const char *const encoder_settings[FMT_COUNT] = {
	[FMT_WEBP] = "effort" XSTR(WEBP_EFFORT),
	[FMT_AVIF] = "effort" XSTR(AVIF_EFFORT) ",intrabc" XSTR(AVIF_INTRA_BLOCK_COPY),
	[FMT_JPEG] = "optimize" XSTR(JPEG_OPTIMIZE_CODING),
	[FMT_PNG] = "compression" XSTR(PNG_COMPRESSION),
};

void
plan_recipe(const struct options *o, enum out_format f, int width, char out[17])
{
	/* the background shapes only formats without alpha */
	const unsigned char *bg = f == FMT_JPEG ? o->background : (const unsigned char *)"\0\0";
	char text[256];
	int len;

	/* everything that shapes the bytes of one output */
	len = snprintf(text, sizeof(text),
		       "imgbake %s|libvips %s|%s|q%d|w%d|meta%d|bg%02x%02x%02x|%s",
		       IMGBAKE_VERSION, o->libvips_version ? o->libvips_version : "",
		       format_name(f), f == FMT_PNG ? 0 : o->quality[f], width,
		       o->keep_metadata, bg[0], bg[1], bg[2], encoder_settings[f]);
	snprintf(out, 17, "%016llx",
		 (unsigned long long)XXH3_64bits(text, (size_t)len));
}

/* Whether the source is, without reading it, the one the last run
 * saw: same size, mtime and inode.  If so, take the type and hash from
 * the record: no open, no sniff, no hash.  -1 when out of memory. */
static int
stat_unchanged(struct job *j, const struct prev_source *prev)
{
	char *ext = j->mime;	/* the extension, until typed */
	struct stat st;

	if (stat(j->src_path, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != prev->bytes ||
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != prev->mtime_ns ||
	    (uint64_t)st.st_ino != prev->inode)
		return 0;
	if (!(j->mime = strdup(prev->mime))) {
		j->mime = ext;
		return -1;
	}
	j->type = sniff_type(j->mime);
	j->ext_mismatch = !sniff_ext_matches(j->type, ext);
	j->bytes = st.st_size;
	j->mtime_ns = prev->mtime_ns;
	j->inode = prev->inode;
	memcpy(j->hash, prev->hash, sizeof(j->hash));
	free(ext);
	return 1;
}

/* Keep, in j->reuse, the outputs of the last run that are still what
 * this run would write; all of them: the job is up to date. */
static int
find_reusable(struct job *j, const struct prev_source *prev,
	const struct options *o)
{
	int *widths = malloc(sizeof(int) * (size_t)(o->n_widths + 1));
	int n, name_width, w, f, wanted = 0;
	size_t k;

	if (!widths || !(j->reuse = calloc((size_t)(o->n_widths + 1) * (size_t)o->n_formats,
					   sizeof(*j->reuse)))) {
		free(widths);
		return -1;
	}
	j->width = prev->width;
	j->height = prev->height;
	n = plan_widths(o, prev->width, widths, &name_width);
	for (w = n - 1; w >= 0; w--)
		for (f = 0; f < o->n_formats; f++) {
			int name_w = !o->n_widths ? 0 : name_width ? name_width : widths[w];
			char *rel = plan_output_path(o, j, o->formats[f], name_w);
			char recipe[17];

			wanted++;
			plan_recipe(o, o->formats[f], widths[w], recipe);
			for (k = 0; rel && k < prev->n_outputs; k++) {
				const struct out_record *r = &prev->outputs[k];
				char *full;
				struct stat st;
				int ok;

				if (strcmp(r->path, rel) || strcmp(r->recipe, recipe))
					continue;
				if (!(full = path_join(o->output_dir, rel)))
					break;
				ok = stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
				     (uint64_t)st.st_size == r->bytes;
				free(full);
				if (ok) {
					j->reuse[j->n_reuse] = *r;
					j->reuse[j->n_reuse].path = rel;
					j->n_reuse++;
					rel = NULL;
				}
				break;
			}
			free(rel);
		}
	free(widths);
	if (wanted && (size_t)wanted == j->n_reuse)
		j->pre_status = JOB_UP_TO_DATE;
	return 0;
}

static int
cmp_by_hash(const void *a, const void *b)
{
	const struct job *x = *(struct job *const *)a, *y = *(struct job *const *)b;
	int c = strcmp(x->hash, y->hash);

	return c ? c : (x > y) - (x < y);
}

/* Identical sources (copies, hard links) are converted once: the first
 * in plan order converts (or is up to date), the others copy from it. */
static int
cmp_by_bytes(const void *a, const void *b)
{
	const struct job *x = *(struct job *const *)a, *y = *(struct job *const *)b;

	return (x->bytes > y->bytes) - (x->bytes < y->bytes);
}

/* Hash a pending job not hashed yet; one that cannot be read fails. */
static void
hash_job(struct job *j, const struct options *o)
{
	struct stat st;
	int fd;

	if (j->hash[0] || j->pre_status != JOB_PENDING)
		return;
	fd = open(j->src_path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
		  (j->named || o->follow_symlinks ? 0 : O_NOFOLLOW));
	if (fd < 0 || fstat(fd, &st) || (S_ISREG(st.st_mode) && hash_fd(fd, j->hash))) {
		j->hash[0] = '\0';
		job_refuse(j, JOB_FAILED, REASON_IO, "%s", strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		job_refuse(j, JOB_FAILED, REASON_NOT_REGULAR, "%s", "not a regular file");
	}
	if (fd >= 0)
		close(fd);
}

/* Only sources of the same size can be identical: hash those, now, so
 * that duplicates are found before anything is converted.  The others
 * are hashed by their worker, from the page cache, just before their
 * decode: a cold run has no serial pass reading every file. */
static int
hash_same_sizes(struct plan *p, const struct options *o)
{
	struct job **v = malloc((p->n + 1) * sizeof(*v));
	size_t n = 0, i, k, m;

	if (!v)
		return -1;
	for (i = 0; i < p->n; i++)
		if (p->jobs[i].pre_status == JOB_PENDING ||
		    p->jobs[i].pre_status == JOB_UP_TO_DATE)
			v[n++] = &p->jobs[i];
	if (n)
		qsort(v, n, sizeof(*v), cmp_by_bytes);
	for (i = 0; i < n; i = k) {
		for (k = i + 1; k < n && v[k]->bytes == v[i]->bytes; k++)
			;
		for (m = i; k - i > 1 && m < k; m++)
			hash_job(v[m], o);
	}
	free(v);
	return 0;
}

static int
find_duplicates(struct plan *p)
{
	struct job **v = malloc((p->n + 1) * sizeof(*v));
	size_t n = 0, i, k;

	if (!v)
		return -1;
	for (i = 0; i < p->n; i++)
		if ((p->jobs[i].pre_status == JOB_PENDING ||
		     p->jobs[i].pre_status == JOB_UP_TO_DATE) && p->jobs[i].hash[0])
			v[n++] = &p->jobs[i];
	qsort(v, n, sizeof(*v), cmp_by_hash);
	for (i = 0; i < n; i = k) {
		struct job *last = v[i];

		for (k = i + 1; k < n && !strcmp(v[k]->hash, v[i]->hash); k++)
			if (v[k]->pre_status == JOB_PENDING) {
				v[k]->dup_of = v[i] - p->jobs;
				*(last == v[i] ? &last->first_copy : &last->next_copy) =
					v[k] - p->jobs;
				last = v[k];
			}
	}
	free(v);
	return 0;
}

/* An output path a job of this plan would write. */
struct planned_output {
	char *path;
	size_t job;
};

struct outputs {
	struct planned_output *v;
	size_t n, cap;
};

static int
cmp_path_only(const void *a, const void *b)
{
	return strcmp(((const struct planned_output *)a)->path,
		      ((const struct planned_output *)b)->path);
}

static int
cmp_job_path(const void *key, const void *job)
{
	return strcmp(key, ((const struct job *)job)->src_path);
}

static int
cmp_output(const void *a, const void *b)
{
	const struct planned_output *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c)
		return c;
	return (x->job > y->job) - (x->job < y->job);
}

/* Add path (taken over, freed on failure) to outs.  0 or -1 (ENOMEM). */
static int
claim(struct outputs *outs, char *path, size_t job)
{
	if (outs->n == outs->cap) {
		size_t cap = outs->cap ? 2 * outs->cap : 256;
		struct planned_output *grown = realloc(outs->v, cap * sizeof(*grown));

		if (!grown) {
			free(path);
			return -1;
		}
		outs->v = grown;
		outs->cap = cap;
	}
	outs->v[outs->n++] = (struct planned_output){ path, job };
	return 0;
}

/* Claim every output of job i, or refuse the job when one would leave
 * the output root or replace its own source.  0 or -1 (ENOMEM). */
static int
claim_job(struct outputs *outs, struct plan *p, size_t i, const struct options *o)
{
	struct job *j = &p->jobs[i];
	int nw = o->n_widths ? o->n_widths : 1, f, w;
	struct stat src_st;
	int have_src = stat(j->src_path, &src_st) == 0;

	for (f = 0; f < o->n_formats; f++) {
		for (w = 0; w < nw; w++) {
			char *path = plan_output_path(o, j, o->formats[f],
						      o->n_widths ? o->widths[w] : 0);
			char *full;
			struct stat out_st;

			if (!path) {
				job_refuse(j, JOB_FAILED, REASON_UNSAFE_PATH, "%s",
					   "output name leads outside the output directory");
				return 0;
			}
			if (!(full = path_join(o->output_dir, path))) {
				free(path);
				return -1;
			}
			if (have_src && stat(full, &out_st) == 0 &&
			    out_st.st_dev == src_st.st_dev &&
			    out_st.st_ino == src_st.st_ino) {
				job_refuse(j, JOB_FAILED, REASON_COLLISION,
					   "output '%s' would replace its own source", full);
				free(full);
				free(path);
				return 0;
			}
			free(full);
			if (claim(outs, path, i))
				return -1;
		}
	}
	return 0;
}

/* Whether the earlier record of job j lists path: then the output is
 * j's, whatever another record says (a manifest of an older imgbake may
 * list one output under two sources). */
static int
listed_by_own_record(const struct job *j, const char *path)
{
	size_t k;

	for (k = 0; j->prev && k < j->prev->n_outputs; k++)
		if (!strcmp(j->prev->outputs[k].path, path))
			return 1;
	return 0;
}

/* The jobs of outs (sorted) that would write path: the first in *first,
 * their count returned. */
static size_t
writers_of(const struct outputs *outs, const char *path, size_t *first)
{
	struct planned_output key = { (char *)path, 0 };
	const struct planned_output *hit;
	size_t m, n;

	*first = 0;
	if (!(hit = bsearch(&key, outs->v, outs->n, sizeof(*outs->v), cmp_path_only)))
		return 0;
	for (m = (size_t)(hit - outs->v); m > 0 && !strcmp(outs->v[m - 1].path, path); m--)
		;
	for (n = m; n < outs->n && !strcmp(outs->v[n].path, path); n++)
		;
	*first = m;
	return n - m;
}

/* Whether path is below the directory dir. */
static int
is_under(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return !strncmp(path, dir, len) && path[len] == '/';
}

/* The first of outs (sorted) below the directory dir, or outs->n. */
static size_t
writers_under(const struct outputs *outs, const char *dir)
{
	size_t lo = 0, hi = outs->n, len = strlen(dir);

	/* "dir/..." sorts after "dir" and whatever starts "dir" and a
	 * byte below '/' ("dir-2", "dir.x"), before the rest */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *path = outs->v[mid].path;
		int c = strncmp(path, dir, len);

		if (c < 0 || (c == 0 && (unsigned char)path[len] < '/'))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether job j is converted or skipped is known only as it starts: a
 * type only an --allow-loader loader may take.  Its names are claimed
 * then (output_claim), when a walked one no allowed loader takes is
 * skipped and takes no name from another; the plan only notes what it
 * would take over. */
static int
loader_decides(const struct job *j)
{
	return j->type == SRC_OTHER;
}

static int
may_write(const struct job *j)
{
	return j->pre_status == JOB_PENDING || j->pre_status == JOB_UP_TO_DATE;
}

static int
may_collide(const struct job *j)
{
	return may_write(j) || j->pre_reason == REASON_COLLISION;
}

/* The outputs of ps, the record of a source this run (or, --shard,
 * another task) keeps but does not convert, that a job of this run
 * writes: the job takes them over, and says so, unless its own record
 * listed them too (a manifest of an older imgbake could list an output
 * under two sources).  Once written, the record stops listing them
 * (manifest_write; for another task's, --merge-manifests). */
static void
take_over(struct plan *p, const struct outputs *outs, const struct prev_source *ps)
{
	size_t k, m, n, first;

	for (k = 0; k < ps->n_outputs; k++) {
		const struct out_record *r = &ps->outputs[k];

		n = writers_of(outs, r->path, &first);
		for (m = first; m < first + n; m++) {
			struct job *j = &p->jobs[outs->v[m].job];

			if (!may_write(j))
				continue;
			if (!listed_by_own_record(j, r->path) && !j->took_from) {
				j->took_output = r->path;
				j->took_from = ps->path;
			}
		}
	}
}

/* --shard: which task keeps ps, the record of a source no task converts
 * but that is still there.  One read from the shared manifest (every
 * task reads it) goes to the lowest task with a source that plans one
 * of its outputs by name (a new source of the same name, say), or else
 * whose source's pattern of names ({w}, {hash}) matches one: that
 * task's job takes the output over, says so, and the record keeps the
 * rest, as in one run.  Every task looks in the same index of every
 * task's names, its own too, so all find the same owner; one none
 * plans an output of stays where manifest_carry put it.  One read from
 * a task's own manifest, which no other task sees, stays with it.  Of a
 * record kept here, the outputs another task plans by name are given
 * up to it.  0 or -1 (out of memory). */
static int
shard_owner(struct plan *p, const struct options *o, struct prev_source *ps)
{
	int owner = -1, exact, may, kept = ps->carried || ps->carried_elsewhere;
	size_t k;

	if (!p->all.built)
		p->all.built = build_all(p, o) ? -1 : 1;
	if (p->all.built < 0)
		return -1;
	for (k = 0; ps->from_shared && k < ps->n_outputs; k++) {
		int share;

		index_lookup(&p->all, ps->outputs[k].path, &exact, &may);
		share = exact >= 0 ? exact : may;
		if (share >= 0 && (owner < 0 || share < owner))
			owner = share;
	}
	if (owner >= 0) {
		ps->foreign = owner != o->shard_index;
		ps->carried = kept && !ps->foreign;
		ps->carried_elsewhere = kept && ps->foreign;
	}
	for (k = 0; ps->carried && k < ps->n_outputs; k++) {
		index_lookup(&p->all, ps->outputs[k].path, &exact, &may);
		ps->outputs[k].given_up = exact >= 0 && exact != o->shard_index;
	}
	return 0;
}

/* Refuse the jobs that would write an output of ps, the record of j, a
 * source of this run refused before it was read, which keeps what it
 * had: as two sources of one run writing one output, it is a collision.
 * The same source under another name, with that record, may write. */
static int
refuse_claimed(struct plan *p, const struct outputs *outs, const struct job *owner)
{
	const struct prev_source *ps = owner->prev;
	size_t k, m, n, first;

	for (k = 0; k < ps->n_outputs; k++) {
		const char *kept = ps->outputs[k].path, *slash;

		/* a file where its directory would be, or the other way */
		for (m = writers_under(outs, kept); m < outs->n &&
		     is_under(outs->v[m].path, kept); m++) {
			struct job *j = &p->jobs[outs->v[m].job];

			if (may_collide(j) && !loader_decides(j))
				job_refuse(j, JOB_FAILED, REASON_COLLISION, "'%s', where this "
					   "output's directory would be, is the output of '%s', "
					   "which keeps it", kept, owner->src_path);
		}
		for (slash = strchr(kept, '/'); slash; slash = strchr(slash + 1, '/')) {
			char *dir = strndup(kept, (size_t)(slash - kept));

			if (!dir)
				return -1;
			n = writers_of(outs, dir, &first);
			for (m = first; m < first + n; m++) {
				struct job *j = &p->jobs[outs->v[m].job];

				if (may_collide(j) && !loader_decides(j))
					job_refuse(j, JOB_FAILED, REASON_COLLISION, "'%s' would "
						   "be a directory too: '%s', which keeps it, has "
						   "'%s'", dir, owner->src_path, kept);
			}
			free(dir);
		}
		n = writers_of(outs, kept, &first);
		for (m = first; m < first + n; m++) {
			struct job *j = &p->jobs[outs->v[m].job];

			if ((!may_write(j) && j->pre_reason != REASON_COLLISION) ||
			    listed_by_own_record(j, ps->outputs[k].path) || loader_decides(j))
				continue;
			job_refuse(j, JOB_FAILED, REASON_COLLISION,
				   "'%s' is the output of '%s', which keeps it",
				   ps->outputs[k].path, owner->src_path);
		}
	}
	return 0;
}

/* An output where another's directory would be (a.webp, and
 * a.webp/b.webp from a directory named a.webp): whichever job wrote
 * first would win, so both fail.  outs is sorted.  0, or -1 out of
 * memory. */
static int
find_file_dir_collisions(struct plan *p, const struct outputs *outs)
{
	size_t i, m, n, first;

	for (i = 0; i < outs->n; i++) {
		const char *path = outs->v[i].path, *slash;
		struct job *inner = &p->jobs[outs->v[i].job];

		if (loader_decides(inner))
			continue;
		for (slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
			char *dir = strndup(path, (size_t)(slash - path));

			if (!dir)
				return -1;
			n = writers_of(outs, dir, &first);
			for (m = first; m < first + n; m++) {
				struct job *j = &p->jobs[outs->v[m].job];

				if (loader_decides(j))
					continue;
				if (may_collide(j))
					job_refuse(j, JOB_FAILED, REASON_COLLISION, "'%s' would be "
						   "a directory too: another source writes '%s'",
						   dir, path);
				if (may_collide(inner))
					job_refuse(inner, JOB_FAILED, REASON_COLLISION, "another "
						   "source writes '%s', a file where this output's "
						   "directory would be", dir);
			}
			free(dir);
		}
	}
	return 0;
}

/* Fail every job that shares an output path with another, whose output
 * would replace its own source, or that would write an output a source
 * refused before it was read keeps.  A job that writes an output an
 * earlier run recorded for a source this run carries over takes it
 * over. */
static int
find_collisions(struct plan *p, const struct options *o,
	struct prev_manifest *pm)
{
	struct outputs outs = { 0 };
	size_t i, k, m;
	int ret = -1;

	for (i = 0; i < p->n; i++)
		if ((p->jobs[i].pre_status == JOB_PENDING ||
		     p->jobs[i].pre_status == JOB_UP_TO_DATE) &&
		    claim_job(&outs, p, i, o))
			goto out;
	if (outs.n)
		qsort(outs.v, outs.n, sizeof(*outs.v), cmp_output);
	for (i = 0; i < outs.n; i = k) {
		size_t sure = 0;

		for (k = i; k < outs.n && !strcmp(outs.v[k].path, outs.v[i].path); k++)
			sure += !loader_decides(&p->jobs[outs.v[k].job]);
		for (m = i; sure > 1 && m < k; m++) {
			struct job *j = &p->jobs[outs.v[m].job];

			if (loader_decides(j))
				continue;
			if (may_collide(j))
				job_refuse(j, JOB_FAILED, REASON_COLLISION,
					   "another source also writes '%s'", outs.v[i].path);
		}
	}
	if (find_file_dir_collisions(p, &outs))
		goto out;
	if (!pm)
		goto done;
	/* a source of this run refused before it was read keeps its
	 * outputs: no other may write them */
	for (i = 0; outs.n && i < p->n; i++) {
		const struct job *j = &p->jobs[i];

		if (j->prev && j->pre_status == JOB_FAILED && j->pre_reason != REASON_COLLISION &&
		    refuse_claimed(p, &outs, j))
			goto out;
	}
	/* one this run does not convert gives them up, with a warning */
	for (i = 0; i < pm->n; i++) {
		struct prev_source *ps = &pm->sources[i];

		if (o->shard_count > 1 && ps->n_outputs && (ps->carried || ps->carried_elsewhere) &&
		    shard_owner(p, o, ps))
			goto out;
		if (outs.n && (ps->carried || ps->carried_elsewhere))
			take_over(p, &outs, ps);
	}
done:
	ret = 0;
out:
	for (i = 0; i < outs.n; i++)
		free(outs.v[i].path);
	free(outs.v);
	return ret;
}

/*
 * Sources are known by their directory entry: the directory resolved
 * (realpath(3), once per directory, interned so that one directory is
 * one pointer) and the last component as it is.  ./img/a.png, img/a.png
 * and $PWD/img/a.png are one entry; two hard links, or a symbolic link
 * and its target, are two.  A directory that cannot be resolved gives
 * NULL: an entry equal to none.
 */
static const char *
entry_dir(struct plan *p, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real;
	gpointer hit;

	if (!p->dirs_given) {
		p->dirs_given = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
		p->dirs_resolved = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	}
	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return NULL;
	if (g_hash_table_lookup_extended(p->dirs_given, dir, NULL, &hit)) {
		free(dir);
		return hit;
	}
	if ((real = realpath(dir, NULL))) {
		char *known = g_hash_table_lookup(p->dirs_resolved, real);

		if (known) {
			free(real);
			real = known;
		} else {
			g_hash_table_add(p->dirs_resolved, real);
		}
	}
	g_hash_table_insert(p->dirs_given, dir, real);
	return real;
}

static const char *
base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int
cmp_entry(const char *dir_a, const char *path_a, const char *dir_b, const char *path_b)
{
	if (dir_a != dir_b)
		return (uintptr_t)dir_a < (uintptr_t)dir_b ? -1 : 1;
	return strcmp(base_of(path_a), base_of(path_b));
}

/* qsort_r context: the plan, for sorting job indices by entry */
static int
cmp_job_entry(const void *a, const void *b, void *arg)
{
	const struct job *jobs = arg;
	const struct job *x = &jobs[*(const size_t *)a], *y = &jobs[*(const size_t *)b];
	int c = cmp_entry(x->entry_dir, x->src_path, y->entry_dir, y->src_path);

	return c ? c : (*(const size_t *)a > *(const size_t *)b) -
		       (*(const size_t *)a < *(const size_t *)b);
}

static int
cmp_job_id(const void *a, const void *b)
{
	const struct job_id *x = a, *y = b;
	int c = file_id_cmp(&x->id, &y->id);

	return c ? c : (x->job > y->job) - (x->job < y->job);
}

/* p->job_ids and p->by_entry from the jobs.  0 or -1 (ENOMEM). */
static int
index_jobs(struct plan *p)
{
	size_t i;

	free(p->job_ids);
	free(p->by_entry);
	p->n_job_ids = 0;
	p->job_ids = malloc((p->n ? p->n : 1) * sizeof(*p->job_ids));
	p->by_entry = malloc((p->n ? p->n : 1) * sizeof(*p->by_entry));
	if (!p->job_ids || !p->by_entry)
		return -1;
	for (i = 0; i < p->n; i++) {
		p->by_entry[i] = i;
		if (p->jobs[i].have_id)
			p->job_ids[p->n_job_ids++] = (struct job_id){
				{ p->jobs[i].dev, p->jobs[i].ino }, i };
	}
	if (p->n_job_ids)
		qsort(p->job_ids, p->n_job_ids, sizeof(*p->job_ids), cmp_job_id);
	if (p->n)
		qsort_r(p->by_entry, p->n, sizeof(*p->by_entry), cmp_job_entry, p->jobs);
	return 0;
}

/* Whether two jobs write the same outputs: the same place in the
 * mirrored tree. */
static int
same_outputs(const struct job *x, const struct job *y)
{
	return !strcmp(x->rel_dir, y->rel_dir) && !strcmp(x->stem, y->stem);
}

/* Of two jobs for one conversion, the one to keep: one that may
 * convert, then one named rather than walked, then the first. */
static int
better_job(const struct job *x, size_t xi, const struct job *y, size_t yi)
{
	if ((x->pre_status == JOB_PENDING) != (y->pre_status == JOB_PENDING))
		return x->pre_status == JOB_PENDING;
	if (x->named != y->named)
		return x->named;
	return xi < yi;
}

/* Take each source's identity and entry, once, and keep one job per
 * conversion: `imgbake a ./a` names every file twice, to the same
 * outputs.  Two names of one file that mirror to different places (a
 * root and a directory inside it, a directory and a link to it) stay
 * two jobs, as two files would.  0 or -1 (ENOMEM). */
static int
identify_jobs(struct plan *p)
{
	unsigned char *drop = NULL;
	size_t i, k, m, n_drop = 0;

	for (i = 0; i < p->n; i++) {
		struct job *j = &p->jobs[i];
		struct stat st;

		if ((j->have_id = stat(j->src_path, &st) == 0)) {
			j->dev = st.st_dev;
			j->ino = st.st_ino;
		}
		j->entry_dir = entry_dir(p, j->src_path);
	}
	if (index_jobs(p))
		return -1;
	for (i = 0; i < p->n; i = k) {
		const struct job *first = &p->jobs[p->by_entry[i]];

		for (k = i + 1; k < p->n && first->entry_dir &&
		     !cmp_entry(first->entry_dir, first->src_path,
				p->jobs[p->by_entry[k]].entry_dir,
				p->jobs[p->by_entry[k]].src_path); k++)
			;
		for (m = i; m + 1 < k; m++) {
			size_t x = p->by_entry[m], y, n;

			for (n = m + 1; n < k; n++) {
				y = p->by_entry[n];
				if ((drop && (drop[x] || drop[y])) ||
				    !same_outputs(&p->jobs[x], &p->jobs[y]))
					continue;
				if (!drop && !(drop = calloc(p->n, 1)))
					return -1;
				if (better_job(&p->jobs[x], x, &p->jobs[y], y)) {
					drop[y] = 1;
				} else {
					drop[x] = 1;
					x = y;
				}
				n_drop++;
			}
		}
	}
	if (!n_drop)
		return 0;
	for (i = k = 0; i < p->n; i++) {
		if (drop[i])
			job_release(&p->jobs[i]);
		else
			p->jobs[k++] = p->jobs[i];
	}
	p->n = k;
	free(drop);
	return index_jobs(p);
}

/* The jobs whose source is the entry of path: the first in *first
 * (by_entry order), their count returned. */
static size_t
jobs_of_entry(struct plan *p, const char *path, size_t *first)
{
	const char *dir = entry_dir(p, path);
	size_t lo = 0, hi = p->n, i;

	*first = 0;
	if (!dir)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct job *j = &p->jobs[p->by_entry[mid]];

		if (cmp_entry(j->entry_dir, j->src_path, dir, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < p->n; i++) {
		const struct job *j = &p->jobs[p->by_entry[i]];

		if (cmp_entry(j->entry_dir, j->src_path, dir, path))
			break;
	}
	*first = lo;
	return i - lo;
}

static int
cmp_entry_key(const void *a, const void *b)
{
	const struct entry_key *x = a, *y = b;

	return cmp_entry(x->dir, x->path, y->dir, y->path);
}

/* Whether path is, by any name, a source --shard gave another task. */
static int
other_share(struct plan *p, const char *path)
{
	struct entry_key key = { entry_dir(p, path), path };

	return key.dir && p->n_other_share &&
	       bsearch(&key, p->other_share, p->n_other_share, sizeof(key),
		       cmp_entry_key) != NULL;
}

/* Whether record a is a better record of job j's source than b (may be
 * NULL): one from the journal of a killed run is newer than any of the
 * manifest, then one under j's own path, then the later one read. */
static int
better_record(const struct job *j, const struct prev_source *a, const struct prev_source *b)
{
	int own_a, own_b;

	if (!b)
		return 1;
	if (a->journal != b->journal)
		return a->journal;
	own_a = !strcmp(a->path, j->src_path);
	own_b = !strcmp(b->path, j->src_path);
	if (own_a != own_b)
		return own_a;
	return a->seq > b->seq;
}

/* Give each job its record in pm: the best of its entry's, under its
 * path or another name of it (./img after img).  Every job of the entry
 * takes it: one file mirrored to two places has one history.  Records
 * of a job's entry under another name, and those of another task's
 * sources, are marked renamed: that run records them, and they are not
 * carried. */
static void
find_own_records(struct plan *p, struct prev_manifest *pm)
{
	size_t i, m, n, first;

	for (i = 0; i < pm->n; i++) {
		struct prev_source *ps = &pm->sources[i];
		struct job *own = p->n ? bsearch(ps->path, p->jobs, p->n, sizeof(*p->jobs),
						 cmp_job_path) : NULL;

		if (!own && other_share(p, ps->path)) {
			ps->renamed = ps->other_share = 1;
			continue;
		}
		n = jobs_of_entry(p, ps->path, &first);
		if (ps->bare) {
			/* recorded anew by this run, under either name */
			ps->renamed = n && !own;
			continue;
		}
		if (!n && own) {
			/* an entry unknown (the directory cannot be
			 * resolved): its own path only */
			if (better_record(own, ps, own->prev))
				own->prev = ps;
			continue;
		}
		if (n && !own)
			ps->renamed = 1;
		for (m = first; m < first + n; m++) {
			struct job *j = &p->jobs[p->by_entry[m]];

			if (better_record(j, ps, j->prev))
				j->prev = ps;
		}
	}
}

static void
kill_mark(struct job *j, uint64_t budget)
{
	j->killed = 1;
	if (j->killed_budget < budget)
		j->killed_budget = budget;
}

/* j was started alone by a run killed since: blamed for it, or killed
 * by hand (its next start says "again"). */
static void
killed_job(struct job *j, const struct killed_mark *mark, int blamed)
{
	if (blamed)
		kill_mark(j, mark->budget);
	else
		j->hand_killed = 1;
}

/* Mark the jobs a killed run was converting alone (pm->killed, then
 * pm->hand_killed, the tail of the same array): under the path it named
 * or another name of the same entry, as records. */
static void
find_killed_jobs(struct plan *p, const struct prev_manifest *pm)
{
	size_t i, m, n, first;

	for (i = 0; i < pm->n_killed + pm->n_hand_killed; i++) {
		const struct killed_mark *mark = &pm->killed[i];
		int blamed = i < pm->n_killed;
		struct job *own = p->n ? bsearch(mark->path, p->jobs, p->n, sizeof(*p->jobs),
						 cmp_job_path) : NULL;

		if (own)
			killed_job(own, mark, blamed);
		n = jobs_of_entry(p, mark->path, &first);
		for (m = first; m < first + n; m++)
			killed_job(&p->jobs[p->by_entry[m]], mark, blamed);
	}
}

/* A budget as -M takes it: "16M" for 16 MiB. */
static void
budget_text(char *buf, size_t len, uint64_t b)
{
	static const char units[] = "GMK";
	int i;

	for (i = 0; i < 3; i++) {
		uint64_t unit = 1ULL << (10 * (3 - i));

		if (b >= unit && b % unit == 0) {
			snprintf(buf, len, "%" PRIu64 "%c", b / unit, units[i]);
			return;
		}
	}
	snprintf(buf, len, "%" PRIu64 " bytes", b);
}

/* The run before died while a source ran alone, over the budget (see
 * find_killed_jobs), or an earlier one did and the source has failed
 * for it since, unchanged: converting it again would most likely kill
 * this run too, and every other run after it.  Its copies (the same
 * bytes, hashed as files of one size are) would do the same.  Those
 * still to convert fail, until the file changes, the budget grows past
 * that run's, or --force; up to date, they stay so. */
static void
refuse_killed(struct plan *p, const struct options *o)
{
	size_t i, k;

	for (i = 0; i < p->n; i++) {
		struct job *j = &p->jobs[i];
		char budget[32];

		if (!j->killed || j->pre_status != JOB_PENDING)
			continue;
		/* a budget not known: an older journal's, taken as this one */
		if (!j->killed_budget)
			j->killed_budget = o->memory_budget;
		if (o->force || o->memory_budget > j->killed_budget) {
			j->killed = 0;
			j->killed_budget = 0;
			continue;
		}
		budget_text(budget, sizeof(budget), j->killed_budget);
		for (k = 0; j->hash[0] && k < p->n; k++) {
			struct job *copy = &p->jobs[k];

			if (k != i && copy->pre_status == JOB_PENDING && !copy->killed &&
			    !strcmp(copy->hash, j->hash)) {
				copy->killed_budget = j->killed_budget;
				job_refuse(copy, JOB_FAILED, REASON_LIMIT, "a copy of '%s', which "
					   "a run with a memory budget of %s was killed converting "
					   "alone: out of memory? (--force, or a larger -M, tries "
					   "it again)", j->src_path, budget);
			}
		}
		job_refuse(j, JOB_FAILED, REASON_LIMIT, "a run with a memory budget of %s "
			   "was killed while converting this picture alone: out of memory? (--force, "
			   "or a larger -M, tries it again)", budget);
	}
}

/* The records of sources failed for a killed run (killed_budget), in
 * an array; NULL only when out of memory. */
static const struct prev_source **
killed_records(const struct prev_manifest *pm, size_t *n)
{
	const struct prev_source **v = malloc(sizeof(*v));
	size_t i;

	*n = 0;
	for (i = 0; v && i < pm->n; i++) {
		const struct prev_source **grown;

		if (!pm->sources[i].killed_budget || !pm->sources[i].hash[0])
			continue;
		if (!(grown = realloc(v, (*n + 1) * sizeof(*v)))) {
			free(v);
			return NULL;
		}
		v = grown;
		v[(*n)++] = &pm->sources[i];
	}
	return v;
}

static int
killed_size(const struct prev_source **v, size_t n, off_t bytes)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i]->bytes == (uint64_t)bytes)
			return 1;
	return 0;
}

/* The record j matches by content, the newest.  (One converted since
 * under another name of j is gone: a run drops the record of a source
 * it converts under another name.) */
static const struct prev_source *
killed_match(const struct prev_source **v, size_t n, const struct job *j)
{
	const struct prev_source *best = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i]->bytes == (uint64_t)j->bytes && !strcmp(v[i]->hash, j->hash) &&
		    (!best || best->seq < v[i]->seq))
			best = v[i];
	return best;
}

static int collect_source_ids(struct plan *p);

int
plan_finish(struct plan *p, const struct options *o, struct sniff *s,
	struct prev_manifest *pm)
{
	/* a new source is hashed here when its name needs it, or when its
	 * stat changed since the manifest recorded it (the content decides
	 * then); the others only if they may be duplicates, below */
	int need_hash = strstr(options_template(o), "{hash}") != NULL;
	const struct prev_source *prev, *rec, **killed_recs = NULL;
	size_t i, k, n_killed_recs = 0;
	int same, err = 0;

	if (p->n)
		qsort(p->jobs, p->n, sizeof(*p->jobs), cmp_job);
	/* the same path named twice is one source */
	for (i = k = 0; i < p->n; i++) {
		if (k && !strcmp(p->jobs[k - 1].src_path, p->jobs[i].src_path)) {
			job_release(&p->jobs[i]);
			continue;
		}
		p->jobs[k++] = p->jobs[i];
	}
	p->n = k;

	/* --shard K/N: this run's share only, before anything is read;
	 * the others' paths are kept, for their records */
	if (o->shard_count > 1) {
		if (!(p->other_share = calloc(p->n ? p->n : 1, sizeof(*p->other_share))) ||
		    !(p->other_names = calloc(p->n ? p->n : 1, sizeof(*p->other_names))))
			return -1;
		p->other_o = o;
		for (i = k = 0; i < p->n; i++) {
			int share = plan_shard_of(o, &p->jobs[i]);

			if (share >= 0 && share != o->shard_index) {
				struct entry_key *e = &p->other_share[p->n_other_share];

				if ((e->dir = entry_dir(p, p->jobs[i].src_path))) {
					e->path = p->jobs[i].src_path;
					p->jobs[i].src_path = NULL;
					p->n_other_share++;
				}
				if (p->jobs[i].rel_dir && p->jobs[i].stem) {
					/* for plan_other_makes, should a record
					 * call one of its outputs stale */
					struct other_name *n = &p->other_names[p->n_other_names++];

					n->rel_dir = p->jobs[i].rel_dir;
					n->stem = p->jobs[i].stem;
					n->share = share;
					p->jobs[i].rel_dir = p->jobs[i].stem = NULL;
				}
				job_release(&p->jobs[i]);
				continue;
			}
			err |= share < 0;
			p->jobs[k++] = p->jobs[i];
		}
		p->n = k;
		if (err)
			return -1;
		if (p->n_other_share)
			qsort(p->other_share, p->n_other_share, sizeof(*p->other_share),
			      cmp_entry_key);

	}
	if (identify_jobs(p))
		return -1;
	if (pm) {
		find_own_records(p, pm);
		find_killed_jobs(p, pm);
		if (!(killed_recs = killed_records(pm, &n_killed_recs)))
			goto fail;
	}

	for (i = 0; i < p->n; i++) {
		struct job *j = &p->jobs[i];

		if (j->pre_status != JOB_PENDING) {
			free(j->mime);
			j->mime = NULL;
			continue;
		}
		/* the record of a failure: only its kept outputs count; a
		 * source --lenient recovered is damaged, and fails again in
		 * a strict run (its outputs stay, as for any failure) */
		prev = o->force || !j->prev || j->prev->failed ||
		       (j->prev->warning && !o->lenient) ? NULL : j->prev;
		if ((same = prev ? stat_unchanged(j, prev) : 0) < 0)
			goto fail;
		if (!same) {
			/* touched or freshly cloned: the content decides */
			if (sniff_job(o, j, s, need_hash || prev || j->killed))
				goto fail;
			same = prev && j->pre_status == JOB_PENDING && j->hash[0] &&
			       !strcmp(j->hash, prev->hash);
		}
		if (same && find_reusable(j, prev, o))
			goto fail;
	}
	/* which records of sources not in this run are kept */
	if (pm)
		manifest_carry(pm, p);
	/* a source refused for a collision is no one's original */
	if (hash_same_sizes(p, o))
		goto fail;
	/* a picture failed for a killed run, under this name or another,
	 * unchanged: see refuse_killed */
	for (i = 0; !o->force && n_killed_recs && i < p->n; i++) {
		struct job *j = &p->jobs[i];

		if (j->pre_status != JOB_PENDING ||
		    !killed_size(killed_recs, n_killed_recs, j->bytes))
			continue;
		hash_job(j, o);
		if (j->hash[0] && (rec = killed_match(killed_recs, n_killed_recs, j)))
			kill_mark(j, rec->killed_budget);
	}
	free(killed_recs);
	killed_recs = NULL;
	refuse_killed(p, o);
	if (find_collisions(p, o, pm) || find_duplicates(p))
		return -1;
	return collect_source_ids(p);
fail:
	free(killed_recs);
	return -1;
}

/* The identity of every source that stays: outputs are named after
 * widths only known once a header is read, so whether one would land
 * on a source is checked again when it is written. */
static int
collect_source_ids(struct plan *p)
{
	size_t i;

	free(p->src_ids);
	p->n_src_ids = 0;
	if (!(p->src_ids = malloc((p->n_job_ids ? p->n_job_ids : 1) * sizeof(*p->src_ids))))
		return -1;
	/* job_ids is in identity order: so is this */
	for (i = 0; i < p->n_job_ids; i++) {
		const struct job *j = &p->jobs[p->job_ids[i].job];

		if (j->pre_status == JOB_PENDING || j->pre_status == JOB_UP_TO_DATE)
			p->src_ids[p->n_src_ids++] = p->job_ids[i].id;
	}
	return 0;
}

int
plan_is_source(const struct plan *p, const struct stat *st)
{
	struct file_id key = { st->st_dev, st->st_ino };

	return p->n_src_ids &&
	       bsearch(&key, p->src_ids, p->n_src_ids, sizeof(key), file_id_cmp) != NULL;
}
