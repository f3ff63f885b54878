/*
 * The manifest, written and read with jansson.  Its shape is the
 * contract scripts rely on:
 *
 *   { "imgbake", "libvips", "cwd", "options": {...}, "summary": {...},
 *     "sources": [ { "path", "type", "bytes", "mtime_ns", "inode",
 *                    "width", "height", "hash", "status", "reason",
 *                    "error", "warnings" (strings),
 *                    "outputs": [ { "path", "format", "width", "height",
 *                                   "bytes", "recipe" } ] } ],
 *     "stale": [ { "path", "bytes" } of outputs recorded earlier and
 *                no longer produced ] }
 *
 * "cwd" is the directory the run was started in, relative to the output
 * root, since source paths are as that run was given them: a run started
 * elsewhere reads them from there (rebase_new).  "root", written when
 * a source was named by its full path, is where the output root was.
 *
 * Fields that are unknown for a source are left out rather than null.
 * The next run reads it back: size, mtime and inode say a source is
 * unchanged without reading it, the hash says so after a fresh clone,
 * and an output's recipe says it was made the way it would be now.
 *
 * The journal beside it holds the same source records, one JSON line
 * each, appended as sources finish; it exists only while a run is in
 * progress or after one was killed.  Each run that appends to it first
 * writes a line with its "cwd" alone.
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
#include <vips/vips.h>

#include "cgroup.h"
#include "convert.h"
#include "manifest.h"
#include "output.h"
#include "paths.h"
#include "shard.h"

/* The main thread's temp-file slot: workers use 0..jobs-1. */
#define MANIFEST_SLOT (OUTPUT_MAX_SLOTS - 1)

/* The current directory relative to the output root, as "cwd" records
 * it, or NULL when either cannot be resolved. */
static char *
journal_path(const struct options *o)
{
	char *path = NULL;

	return asprintf(&path, "%s.journal", o->manifest_path) < 0 ? NULL : path;
}

static char *
run_dir(const struct options *o)
{
	char *root = realpath(o->output_dir, NULL), *cwd = realpath(".", NULL);
	char *rel = root && cwd ? path_between(root, cwd) : NULL;

	free(root);
	free(cwd);
	return rel;
}

/* How a run reads the paths an earlier one recorded: relative ones,
 * named from its "cwd", through prefix, the way from this directory to
 * that one (NULL: this one, or it cannot be found); absolute ones, for
 * a project moved with its output root, from old_root, the output root
 * then (its "root"), to new_root, the output root now (NULL: the same,
 * or not known). */
struct rebase {
	char *prefix;
	char *old_root, *new_root;
};

static void
rebase_release(struct rebase *rb)
{
	if (rb) {
		free(rb->prefix);
		free(rb->old_root);
		free(rb->new_root);
		free(rb);
	}
}

/* The rebase of a manifest or journal whose "cwd" and "root" are given
 * (either may be NULL); NULL when paths are read as they are, or out of
 * memory (then too: a record not found is converted again). */
static struct rebase *
rebase_new(const struct options *o, json_t *cwd, json_t *root)
{
	char *cwd_rel = manifest_path_value(cwd), *then = NULL, *real_then = NULL;
	char *here = NULL, *prefix = NULL, *old_root = NULL, *new_root = NULL;
	struct rebase *rb = NULL;

	if (cwd_rel && *cwd_rel && cwd_rel[0] != '/' &&
	    (then = path_join(o->output_dir, cwd_rel)) &&
	    (real_then = realpath(then, NULL)) && (here = realpath(".", NULL)) &&
	    strcmp(here, real_then))
		prefix = path_between(here, real_then);
	if ((old_root = manifest_path_value(root)) &&
	    (old_root[0] != '/' || !(new_root = realpath(o->output_dir, NULL)) ||
	     !strcmp(old_root, new_root))) {
		free(old_root);
		free(new_root);
		old_root = new_root = NULL;
	}
	if ((prefix || old_root) && (rb = malloc(sizeof(*rb)))) {
		rb->prefix = prefix;
		rb->old_root = old_root;
		rb->new_root = new_root;
		prefix = old_root = new_root = NULL;
	}
	free(prefix);
	free(old_root);
	free(new_root);
	free(cwd_rel);
	free(then);
	free(real_then);
	free(here);
	return rb;
}

/* Whether s has "\xNN" text in it, which manifest_path_json must escape. */
static int
has_hex_text(const char *s)
{
	for (; (s = strstr(s, "\\x")); s++)
		if (g_ascii_isxdigit(s[2]) && g_ascii_isxdigit(s[3]))
			return 1;
	return 0;
}

/* JSON strings must be UTF-8; a file name need not be.  The bytes of a
 * name that is not are written as "\xNN" text (from 0x80), so the
 * manifest stays valid JSON; a backslash that starts such text in any
 * name is written "\x5c", so that manifest_path_value reads every
 * name back as it was. */
json_t *
manifest_path_json(const char *s)
{
	int utf8 = g_utf8_validate(s, -1, NULL);
	char *buf, *o;
	const unsigned char *p;
	json_t *j;

	if (utf8 && !has_hex_text(s))
		return json_string(s);
	if (!(buf = malloc(4 * strlen(s) + 1)))
		return NULL;
	for (o = buf, p = (const unsigned char *)s; *p; p++) {
		if (p[0] == '\\' && p[1] == 'x' && g_ascii_isxdigit(p[2]) &&
		    g_ascii_isxdigit(p[3]))
			o = stpcpy(o, "\\x5c");
		else if (*p >= 0x80 && !utf8)
			o += sprintf(o, "\\x%02x", *p);
		else
			*o++ = (char)*p;
	}
	*o = '\0';
	j = json_string(buf);
	free(buf);
	return j;
}

static json_t *
options_json(const struct options *o)
{
	json_t *formats = json_array(), *widths = json_array(), *quality = json_object();
	json_t *j;
	char bg[8];
	int i;

	for (i = 0; i < o->n_formats; i++)
		json_array_append_new(formats, json_string(format_name(o->formats[i])));
	for (i = 0; i < o->n_widths; i++)
		json_array_append_new(widths, json_integer(o->widths[i]));
	for (i = 0; i < FMT_COUNT; i++)
		if (i != FMT_PNG)
			json_object_set_new(quality, format_name(i), json_integer(o->quality[i]));
	snprintf(bg, sizeof(bg), "#%02x%02x%02x", o->background[0],
		 o->background[1], o->background[2]);
	j = json_pack("{s:o, s:o, s:o, s:s, s:b, s:s, s:I, s:I, s:i, s:I, s:i, s:b, s:o}",
			 "formats", formats, "widths", widths, "quality", quality,
			 "name", options_template(o), "keep_metadata", o->keep_metadata,
			 "background", bg, "max_pixels", (json_int_t)o->max_pixels,
			 "memory", (json_int_t)o->memory_budget,
			 "max_frames", o->max_frames,
			 "max_file_size", (json_int_t)o->max_file_size,
			 "timeout", o->timeout, "lenient", o->lenient,
			 "encoders", json_pack("{s:{s:i}, s:{s:s, s:i, s:b}, s:{s:b}, s:{s:i}}",
					       "webp", "effort", WEBP_EFFORT,
					       "avif", "codec", "av1", "effort", AVIF_EFFORT,
					       "intra_block_copy", AVIF_INTRA_BLOCK_COPY,
					       "jpeg", "optimize_coding", JPEG_OPTIMIZE_CODING,
					       "png", "compression", PNG_COMPRESSION));
	if (j && o->shard_count > 1) {
		char shard[32];

		snprintf(shard, sizeof(shard), "%d/%d", o->shard_index, o->shard_count);
		json_object_set_new(j, "shard", json_string(shard));
	}
	return j;
}

/* Which outputs another source took in this run: the outputs written,
 * sorted (the manifest), or, while the run goes, the names claimed
 * (output_claim) for another than owner. */
struct taken {
	char *const *written;
	size_t n_written;
	const void *owner;
};

static int
is_taken(const struct taken *t, const char *path)
{
	if (!t)
		return 0;
	if (t->owner)
		return output_claimed_by_other(path, t->owner);
	return t->n_written && bsearch(&path, t->written, t->n_written,
				       sizeof(*t->written), path_cmp_ptrs);
}

/* The records of outputs, but those taken (NULL: none). */
static json_t *
outputs_json(const struct out_record *outputs, size_t n, const struct taken *taken)
{
	json_t *outs = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		const struct out_record *r = &outputs[i];

		if (is_taken(taken, r->path))
			continue;
		json_array_append_new(outs, json_pack("{s:o, s:s, s:i, s:i, s:I, s:s}",
			"path", manifest_path_json(r->path), "format", format_name(r->format),
			"width", r->width, "height", r->height,
			"bytes", (json_int_t)r->bytes, "recipe", r->recipe));
	}
	return outs;
}

/* The record of one source.  `kept`: for a failure, the earlier record
 * of the source, whose outputs are still in place (NULL: none), but
 * those another source took in this run. */
static json_t *
source_json(const struct job *job, const struct result *res,
	const struct prev_source *kept, const struct taken *taken)
{
	json_t *src = json_object();

	json_object_set_new(src, "path", manifest_path_json(job->src_path));
	if (job->mime)
		json_object_set_new(src, "type", json_string(job->mime));
	if (job->mime || job->bytes)
		json_object_set_new(src, "bytes", json_integer((json_int_t)job->bytes));
	if (res->status == JOB_CONVERTED || res->status == JOB_UP_TO_DATE) {
		json_object_set_new(src, "mtime_ns", json_integer((json_int_t)job->mtime_ns));
		json_object_set_new(src, "inode", json_integer((json_int_t)job->inode));
	}
	if (res->width) {
		json_object_set_new(src, "width", json_integer(res->width));
		json_object_set_new(src, "height", json_integer(res->height));
	}
	if (res->hash[0])
		json_object_set_new(src, "hash", json_string(res->hash));
	json_object_set_new(src, "status", json_string(status_name(res->status)));
	if (res->reason != REASON_NONE)
		json_object_set_new(src, "reason", json_string(reason_name(res->reason)));
	if (res->error && res->status == JOB_FAILED)
		json_object_set_new(src, "error", manifest_path_json(res->error));
	/* refused for it: refused again while the budget is no larger */
	if (res->status == JOB_FAILED && res->reason == REASON_LIMIT && job->killed_budget)
		json_object_set_new(src, "killed_budget", json_integer((json_int_t)job->killed_budget));
	if ((job->ext_mismatch && job->type >= SRC_OTHER) || res->warning) {
		json_t *w = json_array();

		if (job->ext_mismatch && job->type >= SRC_OTHER)
			json_array_append_new(w, json_string("extension-mismatch"));
		if (res->warning)
			json_array_append_new(w, manifest_path_json(res->warning));
		json_object_set_new(src, "warnings", w);
	}
	if (res->status == JOB_CONVERTED || res->status == JOB_UP_TO_DATE)
		json_object_set_new(src, "outputs", outputs_json(res->outputs, res->n_outputs, NULL));
	else if (res->status == JOB_FAILED && kept && kept->n_outputs)
		json_object_set_new(src, "outputs", outputs_json(kept->outputs, kept->n_outputs, taken));
	return src;
}

static json_t *
summary_json(const struct summary *sum)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I}}",
		"sources", (json_int_t)sum->sources,
		"converted", (json_int_t)sum->converted,
		"up_to_date", (json_int_t)sum->up_to_date,
		"pruned", (json_int_t)sum->pruned,
		"skipped", (json_int_t)sum->skipped, "failed", (json_int_t)sum->failed,
		"unfinished", (json_int_t)sum->unfinished,
		"outputs", (json_int_t)sum->outputs, "bytes_in", (json_int_t)sum->bytes_in,
		"bytes_out", (json_int_t)sum->bytes_out,
		"memory", "budget", (json_int_t)sum->budget,
		"peak_rss", (json_int_t)sum->peak_rss);
}

/* One compact JSON line on f, flushed: a reader sees it at once. */
static int
print_line(FILE *f, json_t *j)
{
	int ret = -1;

	if (j && json_dumpf(j, f, JSON_COMPACT) == 0 && fputc('\n', f) != EOF &&
	    fflush(f) == 0)
		ret = 0;
	json_decref(j);
	return ret;
}

int
manifest_print_source(FILE *f, const struct job *job, const struct result *res)
{
	/* the record the manifest gets: a failure's with the outputs it
	 * left in place */
	struct taken claimed = { .owner = plan_name_owner(job) };

	return print_line(f, source_json(job, res,
		res->status == JOB_FAILED ? job->prev : NULL, &claimed));
}

int
manifest_print_summary(FILE *f, const struct summary *sum)
{
	return print_line(f, json_pack("{s:o}", "summary", summary_json(sum)));
}

/* A carried record as read, with only the outputs that are still its
 * own: not written by a source of this run (which took them over, see
 * find_collisions in plan.c), nor by one of the journal (journal_owns).
 * One record lists each output; taken holds those written in this
 * run.  A new reference; the record as read if out of memory; NULL when every output of a
 * conversion was taken over: a record of one with nothing to show for
 * it would mislead, and the source is new to the next run anyway.  A
 * failure's record stays, without them.  With --shard, neither are
 * those another task plans (given_up). */
static json_t *
carried_json(const struct prev_source *ps, const struct taken *taken)
{
	json_t *rec, *outs;
	size_t i, k, listed;

	if (!(rec = json_deep_copy(ps->raw)))
		return json_incref(ps->raw);
	/* as this run names it: rebased when an earlier one started elsewhere */
	json_object_set_new(rec, "path", manifest_path_json(ps->path));
	outs = json_object_get(rec, "outputs");
	listed = json_array_size(outs);
	for (i = listed; i-- > 0;) {
		char *path = manifest_path_value(json_object_get(json_array_get(outs, i), "path"));
		int own = 0;

		for (k = 0; path && k < ps->n_outputs; k++)
			own |= !strcmp(ps->outputs[k].path, path) && !ps->outputs[k].given_up;
		if (!own || is_taken(taken, path))
			json_array_remove(outs, i);
		free(path);
	}
	if (listed && !json_array_size(outs) && !ps->failed) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/* An earlier record of a source this run did not finish, under the name
 * it has now, so that the manifest stays in path order.  A new
 * reference; the record as read if out of memory. */
static json_t *
renamed_json(json_t *raw, const char *path)
{
	json_t *rec = json_deep_copy(raw);

	if (!rec)
		return json_incref(raw);
	json_object_set_new(rec, "path", manifest_path_json(path));
	return rec;
}

/* The outputs this run wrote or kept for its sources, sorted, in *out
 * (paths borrowed from results).  0 or -1 (ENOMEM). */
static int
written_outputs(const struct plan *p, const struct result *results,
	const unsigned char *include, char ***out, size_t *n_out)
{
	size_t i, k, n = 0;
	char **v;

	for (i = 0; i < p->n; i++)
		if (include[i])
			n += results[i].n_outputs;
	if (!(v = malloc((n ? n : 1) * sizeof(*v))))
		return -1;
	for (i = 0, n = 0; i < p->n; i++)
		for (k = 0; include[i] && k < results[i].n_outputs; k++)
			v[n++] = results[i].outputs[k].path;
	if (n)
		qsort(v, n, sizeof(*v), path_cmp_ptrs);
	*out = v;
	*n_out = n;
	return 0;
}

/* Whether a record of sources names its source by its full path. */
static int
names_absolute(json_t *sources)
{
	size_t i;
	json_t *rec;

	json_array_foreach(sources, i, rec) {
		const char *path = json_string_value(json_object_get(rec, "path"));

		if (path && path[0] == '/')
			return 1;
	}
	return 0;
}

/* Whether a and b (lengths na, nb) are the same text but for the
 * number after their one "peak_rss". */
static int
same_but_peak(const char *a, size_t na, const char *b, size_t nb)
{
	static const char key[] = "\"peak_rss\": ";
	const char *ka = memmem(a, na, key, sizeof(key) - 1);
	const char *kb = memmem(b, nb, key, sizeof(key) - 1);
	size_t pa, pb;

	if (!ka || !kb || ka - a != kb - b || memcmp(a, b, (size_t)(ka - a)))
		return 0;
	pa = (size_t)(ka - a) + sizeof(key) - 1;
	pb = pa;
	while (pa < na && a[pa] >= '0' && a[pa] <= '9')
		pa++;
	while (pb < nb && b[pb] >= '0' && b[pb] <= '9')
		pb++;
	return na - pa == nb - pb && !memcmp(a + pa, b + pb, na - pa) &&
	       !memmem(a + pa, na - pa, key, sizeof(key) - 1);
}

/* Whether the manifest at path says what text (to be written with a
 * newline after it) says, but for the peak memory. */
static int
says_the_same(const char *path, const char *text)
{
	size_t len = strlen(text) + 1, got = 0;
	struct stat st;
	char *old;
	ssize_t n;
	int fd, same = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	/* the peak in bytes: at most 20 digits either way */
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size + 20 >= len && (size_t)st.st_size <= len + 20 &&
	    (old = malloc((size_t)st.st_size + 1))) {
		while (got < (size_t)st.st_size &&
		       ((n = read(fd, old + got, (size_t)st.st_size - got)) > 0 ||
			(n < 0 && errno == EINTR)))
			got += n > 0 ? (size_t)n : 0;
		same = got == (size_t)st.st_size && got && old[got - 1] == '\n' &&
		       same_but_peak(old, got - 1, text, len - 1);
		free(old);
	}
	close(fd);
	return same;
}

int
manifest_write(
const struct options *o, const struct plan *p,
	const struct result *results, const unsigned char *include,
	const struct prev_manifest *pm, const struct stale *stale, size_t n_stale,
	const struct summary *sum, char *err, size_t errlen)
{
	const struct prev_source *prev;
	json_t *root, *sources = json_array(), *stale_arr = json_array(), *rec;
	struct tempfile t;
	char *text = NULL, **written = NULL, *cwd = NULL, *real = NULL;
	size_t i, c, n_written = 0;
	struct taken taken;
	int ret = -1;

	if (written_outputs(p, results, include, &written, &n_written)) {
		json_decref(sources);
		json_decref(stale_arr);
		snprintf(err, errlen, "cannot write manifest '%s': out of memory",
			 o->manifest_path);
		return -1;
	}
	taken = (struct taken){ .written = written, .n_written = n_written };
	for (i = 0, c = 0; i <= p->n; i++) {
		/* records carried over that sort before this job */
		while (pm && c < pm->n &&
		       (i == p->n || strcmp(pm->sources[c].path, p->jobs[i].src_path) < 0)) {
			if (pm->sources[c].carried &&
			    (rec = carried_json(&pm->sources[c], &taken)))
				json_array_append_new(sources, rec);
			c++;
		}
		if (i == p->n)
			break;
		prev = pm ? p->jobs[i].prev : NULL;
		if (include[i])
			json_array_append_new(sources, source_json(&p->jobs[i], &results[i],
				results[i].status == JOB_FAILED ? prev : NULL, &taken));
		else if (prev && prev->raw)
			json_array_append_new(sources, renamed_json(prev->raw,
							    p->jobs[i].src_path));
	}
	for (i = 0; i < n_stale; i++)
		if (!stale[i].dropped)
			json_array_append_new(stale_arr, json_pack("{s:o, s:I}",
				"path", manifest_path_json(stale[i].path),
				"bytes", (json_int_t)stale[i].bytes));
	/* "memory" is the one part that varies between identical runs */
	root = json_pack("{s:s, s:s}",
		"imgbake", IMGBAKE_VERSION, "libvips", vips_version_string());
	if (root && (cwd = run_dir(o)))
		json_object_set_new(root, "cwd", manifest_path_json(cwd));
	/* sources named by their full paths: where the output root was,
	 * for a project moved with it (see rebase_new) */
	if (root && names_absolute(sources) && (real = realpath(o->output_dir, NULL)))
		json_object_set_new(root, "root", manifest_path_json(real));
	free(real);
	if (root && (json_object_set_new(root, "options", options_json(o)) ||
		     json_object_set_new(root, "summary", summary_json(sum)) ||
		     json_object_set_new(root, "sources", sources) ||
		     json_object_set_new(root, "stale", stale_arr))) {
		json_decref(root);
		root = NULL;
	}
	if (!root || !(text = json_dumps(root, JSON_INDENT(2)))) {
		snprintf(err, errlen, "cannot write manifest '%s': out of memory",
			 o->manifest_path);
		goto out;
	}
	/* what the last run wrote, but for its peak memory: the file, its
	 * inode and mtime stay as they are for make, rsync and caches, and
	 * a cron job over a big tree writes nothing */
	if (says_the_same(o->manifest_path, text)) {
		ret = 0;
		goto out;
	}
	if (output_open(&t, o->manifest_path, MANIFEST_SLOT, err, errlen))
		goto out;
	if (output_write_all(t.fd, text, strlen(text)) ||
	    output_write_all(t.fd, "\n", 1)) {
		snprintf(err, errlen, "cannot write manifest '%s': %s",
			 o->manifest_path, strerror(errno));
		output_discard(&t);
		goto out;
	}
	ret = output_commit(&t, err, errlen);
out:
	free(text);
	free(written);
	free(cwd);
	json_decref(root);
	return ret;
}

static int
exclude_output(const struct options *o, struct walk_exclude *ex, const char *rel)
{
	char *full = path_join(o->output_dir, rel);
	int r = !full || walk_exclude_add(ex, full) ? -1 : 0;

	free(full);
	return r;
}

int
manifest_exclude_outputs(const struct options *o, const struct prev_manifest *pm,
	struct walk_exclude *ex)
{
	char *journal = journal_path(o);
	size_t i, k;
	int r;

	/* the journal too, which the run holds from the start */
	r = journal ? walk_exclude_add(ex, journal) : -1;
	free(journal);
	if (r)
		return -1;
	for (i = 0; i < pm->n; i++)
		for (k = 0; k < pm->sources[i].n_outputs; k++)
			if (exclude_output(o, ex, pm->sources[i].outputs[k].path))
				return -1;
	/* stale outputs still on disk are imgbake's too, not sources */
	for (i = 0; i < pm->n_stale; i++)
		if (exclude_output(o, ex, pm->stale[i].path))
			return -1;
	return 0;
}

/* The inverse of manifest_path_json: a path read back, its "\xNN" text of bytes
 * from 0x80 and its "\x5c" turned into bytes again.  (Before "\x5c",
 * a UTF-8 name with such text in it read back as other bytes; it is
 * converted again once.)  malloc'd. */
char *
manifest_path_value(json_t *j)
{
	const char *s = json_string_value(j), *p;
	char *out, *o;
	unsigned v;

	if (!s || !(out = malloc(strlen(s) + 1)))
		return NULL;
	for (p = s, o = out; *p; ) {
		if (p[0] == '\\' && p[1] == 'x' && g_ascii_isxdigit(p[2]) &&
		    g_ascii_isxdigit(p[3]) && sscanf(p + 2, "%2x", &v) == 1 &&
		    (v >= 0x80 || v == 0x5c)) {
			*o++ = (char)v;
			p += 4;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/* A relative path that stays inside the output root, or NULL: a
 * tampered manifest must not make us touch files outside it. */
static char *
safe_rel(json_t *j)
{
	char *s = manifest_path_value(j);
	char *norm = s ? path_normalize(s) : NULL;

	free(s);

	if (norm && (norm[0] == '/' || !strcmp(norm, ".") || path_has_dotdot(norm))) {
		free(norm);
		return NULL;
	}
	return norm;
}

static void
prev_source_release(struct prev_source *ps)
{
	size_t k;

	for (k = 0; k < ps->n_outputs; k++)
		free(ps->outputs[k].path);
	free(ps->outputs);
	free(ps->path);
	free(ps->mime);
	free(ps->warning);
	json_decref(ps->raw);
	memset(ps, 0, sizeof(*ps));
}

static int
format_from_json(json_t *j)
{
	const char *s = json_string_value(j);
	int f;

	for (f = 0; s && f < FMT_COUNT; f++)
		if (!strcmp(s, format_name(f)))
			return f;
	return -1;
}

/* *path as this run names it, through rb (NULL: as it is): a record's
 * or a journal mark's.  0 or -1 (out of memory). */
static int
rebase_path(char **path, const struct rebase *rb)
{
	char *rebased, *rel;
	struct stat st;

	if (!rb)
		return 0;
	if ((*path)[0] != '/') {
		if (!rb->prefix)
			return 0;
		if (!(rebased = path_rebase(rb->prefix, *path)))
			return -1;
	} else {
		/* named by its full path: where it is from the output
		 * root then, from the output root now */
		char *dir, *resolved;
		const char *base = strrchr(*path, '/') + 1;

		if (!rb->old_root)
			return 0;
		/* "root" is resolved: so is what exists of the path's
		 * directory (a link on the way, as to a home directory),
		 * not the file, which may be a link itself */
		if (!(dir = strndup(*path, (size_t)(base - *path))))
			return -1;
		resolved = output_resolved(dir);
		free(dir);
		if (!resolved)
			return -1;
		dir = resolved;
		resolved = path_join(dir, base);
		free(dir);
		if (!resolved)
			return -1;
		rel = path_between(rb->old_root, resolved);
		free(resolved);
		if (!rel)
			return -1;
		rebased = path_join(rb->new_root, rel);
		free(rel);
		if (!rebased)
			return -1;
	}
	/* "cwd" and "root" go with the output root: an output root moved
	 * away from its sources makes them name a directory that is not
	 * where the run started.  A path whose file is found as it is,
	 * and not through them, is read as it is. */
	if (!lstat(rebased, &st) || lstat(*path, &st)) {
		free(*path);
		*path = rebased;
	} else {
		free(rebased);
	}
	return 0;
}

/* A failed record's "killed_budget" (see source_json), or 0. */
static uint64_t
killed_budget(json_t *src)
{
	const char *reason = json_string_value(json_object_get(src, "reason"));
	json_int_t b = json_integer_value(json_object_get(src, "killed_budget"));

	return reason && !strcmp(reason, "limit") && b > 0 ? (uint64_t)b : 0;
}

/* Read one source record, its path rebased through rb (if not NULL);
 * 1 when it is not usable, -1 out of memory. */
static int
prev_source_read(json_t *src, const struct rebase *rb, struct prev_source *ps)
{
	const char *path = json_string_value(json_object_get(src, "path"));
	const char *status = json_string_value(json_object_get(src, "status"));
	const char *hash = json_string_value(json_object_get(src, "hash"));
	const char *mime = json_string_value(json_object_get(src, "type"));
	json_t *outs = json_object_get(src, "outputs"), *out;
	size_t k;

	memset(ps, 0, sizeof(*ps));
	if (!path || !status)
		return 1;
	/* a failure with no output, or a skipped file: nothing to reuse,
	 * but its record stays while its source does, as others do */
	if ((!strcmp(status, "failed") && !json_array_size(outs)) || !strcmp(status, "skipped")) {
		if (!(ps->path = manifest_path_value(json_object_get(src, "path"))) ||
		    !(ps->mime = strdup(mime ? mime : ""))) {
			prev_source_release(ps);
			return -1;
		}
		if (hash && strlen(hash) < sizeof(ps->hash))
			memcpy(ps->hash, hash, strlen(hash) + 1);
		ps->failed = ps->bare = 1;
		ps->killed_budget = killed_budget(src);
		ps->bytes = (uint64_t)json_integer_value(json_object_get(src, "bytes"));
		ps->raw = json_incref(src);
		if (rebase_path(&ps->path, rb)) {
			prev_source_release(ps);
			return -1;
		}
		return 0;
	}
	if (!json_is_array(outs))
		return 1;
	/* a failure is kept for the outputs an earlier run left in place */
	ps->failed = !strcmp(status, "failed");
	ps->killed_budget = ps->failed ? killed_budget(src) : 0;
	if (!ps->failed &&
	    (!hash || !mime || strlen(hash) >= sizeof(ps->hash) ||
	     (strcmp(status, "converted") && strcmp(status, "up-to-date"))))
		return 1;
	if (!(ps->path = manifest_path_value(json_object_get(src, "path"))) ||
	    !(ps->mime = strdup(mime ? mime : "")))
		goto oom;
	/* the complaint a --lenient conversion recorded: an up-to-date
	 * record keeps it (extension-mismatch is found again each run) */
	json_array_foreach(json_object_get(src, "warnings"), k, out) {
		if (json_is_string(out) && strcmp(json_string_value(out), "extension-mismatch")) {
			if (!(ps->warning = manifest_path_value(out)))
				goto oom;
			break;
		}
	}
	if (rebase_path(&ps->path, rb))
		goto oom;
	if (hash && strlen(hash) < sizeof(ps->hash))
		memcpy(ps->hash, hash, strlen(hash) + 1);
	ps->bytes = (uint64_t)json_integer_value(json_object_get(src, "bytes"));
	ps->inode = (uint64_t)json_integer_value(json_object_get(src, "inode"));
	ps->mtime_ns = json_integer_value(json_object_get(src, "mtime_ns"));
	ps->width = (int)json_integer_value(json_object_get(src, "width"));
	ps->height = (int)json_integer_value(json_object_get(src, "height"));
	if (!ps->failed && (ps->width <= 0 || ps->height <= 0))
		goto unusable;
	if (!(ps->outputs = calloc(json_array_size(outs) + 1, sizeof(*ps->outputs))))
		goto oom;
	json_array_foreach(outs, k, out) {
		struct out_record *r = &ps->outputs[ps->n_outputs];
		const char *recipe = json_string_value(json_object_get(out, "recipe"));
		int f = format_from_json(json_object_get(out, "format"));

		if (f < 0 || !recipe || strlen(recipe) >= sizeof(r->recipe) ||
		    !(r->path = safe_rel(json_object_get(out, "path"))))
			continue;
		r->format = f;
		r->width = (int)json_integer_value(json_object_get(out, "width"));
		r->height = (int)json_integer_value(json_object_get(out, "height"));
		r->bytes = (uint64_t)json_integer_value(json_object_get(out, "bytes"));
		memcpy(r->recipe, recipe, strlen(recipe) + 1);
		ps->n_outputs++;
	}
	if (ps->failed && !ps->n_outputs)
		goto unusable;
	ps->raw = json_incref(src);
	return 0;
unusable:
	prev_source_release(ps);
	return 1;
oom:
	prev_source_release(ps);
	return -1;
}

static int
cmp_prev(const void *a, const void *b)
{
	const struct prev_source *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* A journal record replaces the manifest's record of the same source:
 * the outputs of the old one that the new one does not list are still
 * on disk, and become stale.  The paths move over.  0 or -1 (ENOMEM). */
static int
stale_replaced(struct prev_manifest *pm, struct prev_source *old,
	const struct prev_source *new)
{
	size_t k, m;

	for (k = 0; k < old->n_outputs; k++) {
		struct stale *grown;

		for (m = 0; m < new->n_outputs; m++)
			if (!strcmp(old->outputs[k].path, new->outputs[m].path))
				break;
		if (m < new->n_outputs)
			continue;
		if (!(grown = realloc(pm->stale, (pm->n_stale + 1) * sizeof(*grown))))
			return -1;
		pm->stale = grown;
		memset(&grown[pm->n_stale], 0, sizeof(*grown));
		grown[pm->n_stale].path = old->outputs[k].path;
		grown[pm->n_stale].bytes = old->outputs[k].bytes;
		pm->n_stale++;
		old->outputs[k].path = NULL;
	}
	return 0;
}

/* A killed run may have written, for a source of its journal, an output
 * the manifest lists under another source (it took it over): the
 * journal is newer, so that output is no longer the other's.  0 or -1
 * (ENOMEM). */
static int
journal_owns(struct prev_manifest *pm)
{
	char **taken;
	size_t i, k, m, n = 0;

	for (i = 0; i < pm->n; i++)
		if (pm->sources[i].journal)
			n += pm->sources[i].n_outputs;
	if (!n)
		return 0;
	if (!(taken = malloc(n * sizeof(*taken))))
		return -1;
	for (i = 0, n = 0; i < pm->n; i++)
		for (k = 0; pm->sources[i].journal && k < pm->sources[i].n_outputs; k++)
			taken[n++] = pm->sources[i].outputs[k].path;
	qsort(taken, n, sizeof(*taken), path_cmp_ptrs);
	for (i = 0; i < pm->n; i++) {
		struct prev_source *ps = &pm->sources[i];

		if (ps->journal)
			continue;
		for (k = m = 0; k < ps->n_outputs; k++) {
			if (bsearch(&ps->outputs[k].path, taken, n, sizeof(*taken), path_cmp_ptrs)) {
				free(ps->outputs[k].path);
				continue;
			}
			ps->outputs[m++] = ps->outputs[k];
		}
		ps->n_outputs = m;
	}
	free(taken);
	return 0;
}

/* Add or replace (journal over manifest) one record. */
static int
prev_add(struct prev_manifest *pm, size_t *cap, json_t *src, const struct rebase *rb,
	int journal)
{
	struct prev_source ps;
	int r = prev_source_read(src, rb, &ps);

	if (r)
		return r < 0 ? -1 : 0;
	if (pm->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 256;
		struct prev_source *grown = realloc(pm->sources, ncap * sizeof(*grown));

		if (!grown) {
			prev_source_release(&ps);
			return -1;
		}
		pm->sources = grown;
		*cap = ncap;
	}
	ps.seq = pm->n;
	ps.journal = journal;
	pm->sources[pm->n++] = ps;
	return 0;
}

/* Whether text (NUL-ended) opens as a manifest does: "{", then the
 * "imgbake" key first, or "cwd" first as when the keys were sorted
 * (jq -S).  A UTF-8 byte order mark an editor put in front is skipped. */
static int
opens_as_manifest(const char *text)
{
	static const char ws[] = " \t\r\n";
	const char *p = text;

	if (!strncmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	p += strspn(p, ws);
	if (*p++ != '{')
		return 0;
	p += strspn(p, ws);
	if (!strncmp(p, "\"imgbake\"", 9))
		p += 9;
	else if (!strncmp(p, "\"cwd\"", 5))
		p += 5;
	else
		return 0;
	return p[strspn(p, ws)] == ':';
}

/* Larger than any manifest a crash leaves NUL bytes in (a few hundred
 * bytes a source), and read in a moment. */
#define NUL_MANIFEST_MAX (256 << 20)

/* Whether the file open as fd holds NUL bytes and nothing else, and
 * no more than a manifest would: a manifest whose size reached the
 * disk before its data did (a crash without --fsync), not a disk
 * image that starts with zeros or a fresh one of gigabytes. */
static int
all_nul(int fd)
{
	char buf[65536];
	off_t at = 0;
	ssize_t n, i;
	struct stat st;

	if (fstat(fd, &st) || st.st_size > NUL_MANIFEST_MAX)
		return 0;
	while ((n = pread(fd, buf, sizeof(buf), at)) > 0) {
		for (i = 0; i < n; i++)
			if (buf[i])
				return 0;
		at += n;
	}
	return n == 0 && at > 0;
}

/* Read the file at path, where a manifest is to be written: *root is
 * it parsed, or NULL (missing, or it did not parse: jerr says why).  0
 * when a manifest may be written over it: missing, empty, a manifest,
 * or one cut short (see opens_as_manifest).  Else -1 with a message in
 * err: a photo or a package.json named by mistake with -m, a file that
 * cannot be read (the rename would replace it all the same), or one
 * that is not a regular file (a FIFO would hang the read). */
static int
read_own(const char *path, json_t **root, json_error_t *jerr, char *err, size_t errlen)
{
	char head[1024];
	ssize_t n;
	FILE *f;
	int fd;

	*root = NULL;
	memset(jerr, 0, sizeof(*jerr));
	if (output_open_existing(path, "a manifest", &fd, err, errlen))
		return -1;
	if (fd < 0)
		return 0;
	n = pread(fd, head, sizeof(head) - 1, 0);
	head[n > 0 ? n : 0] = '\0';
	if (n <= 0)
		snprintf(jerr->text, sizeof(jerr->text), "%s",
			 n ? strerror(errno) : "empty file");
	if (n > 0 && !head[0] && all_nul(fd)) {
		snprintf(jerr->text, sizeof(jerr->text), "NUL bytes, as a crash leaves");
		close(fd);
		return 0;
	}
	/* through stdio: json_loadfd reads a byte a system call */
	if (n > 0 && (f = fdopen(fd, "r"))) {
		/* a UTF-8 byte order mark an editor put in front */
		if (n >= 3 && !memcmp(head, "\xef\xbb\xbf", 3) && fseek(f, 3, SEEK_SET))
			rewind(f);
		*root = json_loadf(f, JSON_REJECT_DUPLICATES, jerr);
		fclose(f);
	} else {
		close(fd);
	}
	if (n <= 0 || (*root ? json_is_object(*root) &&
			       json_is_string(json_object_get(*root, "imgbake"))
			     : opens_as_manifest(head)))
		return 0;
	json_decref(*root);
	*root = NULL;
	snprintf(err, errlen, "'%s' is not a manifest imgbake wrote: not writing over it",
		 path);
	return -1;
}

int
manifest_replaceable(const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int r = read_own(path, &root, &jerr, err, errlen);

	json_decref(root);
	return r;
}

/* A task's own manifest (-m names one file for every task) that another
 * task wrote: its records are that task's, which this one would take for
 * stale and prune.  Refused, with a message. */
static int
other_task(const struct options *o, json_t *root, const char *path, char *err, size_t errlen)
{
	const char *shard = json_string_value(json_object_get(json_object_get(root, "options"),
							      "shard"));
	char mine[32];

	snprintf(mine, sizeof(mine), "%d/%d", o->shard_index, o->shard_count);
	if (shard && strcmp(shard, mine)) {
		snprintf(err, errlen, "'%s' is the manifest of task %s, not of %s: give each task "
			 "its own (-m with {shard})", path, shard, mine);
		return -1;
	}
	return 0;
}

/* A task of --shard K/N reads the shared manifest, unsharded or merged,
 * on top of its own when it is the newer (or the task has none): after an
 * unsharded run, or the merge of another number of tasks, it knows what
 * was made, to keep and to prune; after an unsharded run over other
 * sources, its own records are still there beneath.  The older, it is
 * read beneath its own. */
/* Of the shared manifests a task may read (see shared_manifest in
 * options.h), the newer: an unsharded run's or a merge's. */
static const char *
shared_path(const struct options *o)
{
	struct stat a, b;

	if (!o->shared_manifest || stat(o->shared_manifest, &a) || !S_ISREG(a.st_mode))
		return o->shared_manifest_alt;
	if (!o->shared_manifest_alt || stat(o->shared_manifest_alt, &b) || !S_ISREG(b.st_mode))
		return o->shared_manifest;
	return b.st_mtim.tv_sec > a.st_mtim.tv_sec ||
	       (b.st_mtim.tv_sec == a.st_mtim.tv_sec && b.st_mtim.tv_nsec > a.st_mtim.tv_nsec) ?
	       o->shared_manifest_alt : o->shared_manifest;
}

static int
shared_is_newer(const struct options *o, const char *path)
{
	struct stat own, shared;

	if (!path || stat(path, &shared) || !S_ISREG(shared.st_mode))
		return 0;
	if (stat(o->manifest_path, &own))
		return errno == ENOENT;
	return shared.st_mtim.tv_sec > own.st_mtim.tv_sec ||
	       (shared.st_mtim.tv_sec == own.st_mtim.tv_sec &&
		shared.st_mtim.tv_nsec > own.st_mtim.tv_nsec);
}

/* The records and stale entries of the manifest root, read as named from
 * its "cwd"; `shared`: another's than this task's, whose stale entries
 * are taken only in this task's share.  0 or -1. */
static int
load_records(const struct options *o, struct prev_manifest *pm, size_t *cap, json_t *root,
	int shared)
{
	json_t *src, *stale = json_object_get(root, "stale");
	struct rebase *rb = rebase_new(o, json_object_get(root, "cwd"),
				       json_object_get(root, "root"));
	size_t i, first = pm->n;
	struct stale *grown;

	json_array_foreach(json_object_get(root, "sources"), i, src)
		if (prev_add(pm, cap, src, rb, 0)) {
			rebase_release(rb);
			return -1;
		}
	rebase_release(rb);
	for (i = first; i < pm->n; i++)
		pm->sources[i].from_shared = shared;
	if (!json_is_array(stale) || !json_array_size(stale))
		return 0;
	if (!(grown = realloc(pm->stale, (pm->n_stale + json_array_size(stale)) * sizeof(*grown))))
		return -1;
	pm->stale = grown;
	json_array_foreach(stale, i, src) {
		struct stale *st = &pm->stale[pm->n_stale];

		memset(st, 0, sizeof(*st));
		if (!(st->path = safe_rel(json_object_get(src, "path"))))
			continue;
		if (shared && shard_of(st->path, o->shard_count) != o->shard_index) {
			/* another task's to prune */
			free(st->path);
			continue;
		}
		st->bytes = (uint64_t)json_integer_value(json_object_get(src, "bytes"));
		pm->n_stale++;
	}
	return 0;
}

/* A start or end mark of the journal (manifest_journal_mark), its path
 * rebased as a record's: added to *v.  0, 1 when rec is no mark, -1
 * out of memory. */
static int
add_mark(json_t *rec, const char *key, const struct rebase *rb,
	struct killed_mark **v, size_t *n)
{
	json_t *val = json_object_get(rec, key);
	json_int_t budget = json_integer_value(json_object_get(rec, "budget"));
	json_int_t kills = json_integer_value(json_object_get(rec, "oom_kills"));
	const char *boot = json_string_value(json_object_get(rec, "boot"));
	struct killed_mark *grown;
	char *path;

	if (!val || json_object_get(rec, "path"))
		return 1;
	if (!(path = manifest_path_value(val)))
		return json_is_string(val) ? -1 : 0;
	if (rebase_path(&path, rb)) {
		free(path);
		return -1;
	}
	if (!(grown = realloc(*v, (*n + 1) * sizeof(*grown)))) {
		free(path);
		return -1;
	}
	*v = grown;
	(*v)[*n].path = path;
	(*v)[*n].budget = budget > 0 ? (uint64_t)budget : 0;
	(*v)[*n].oom_kills = kills > 0 ? (uint64_t)kills : 0;
	(*v)[*n].again = json_is_true(json_object_get(rec, "again"));
	snprintf((*v)[*n].boot, sizeof((*v)[*n].boot), "%s",
		 boot && json_is_integer(json_object_get(rec, "oom_kills")) &&
		 strlen(boot) < sizeof((*v)[*n].boot) ? boot : "");
	(*n)++;
	return 0;
}

static void
marks_release(struct killed_mark *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* Whether the out-of-memory killer has killed nothing since mark
 * started, in this boot: the run was killed by another hand (kill -9,
 * a CI job cancelled), and the picture is not to blame. */
static int
killed_by_hand(const struct killed_mark *mark, const struct oom_count *now, int known)
{
	return known && !mark->again && *mark->boot && !strcmp(mark->boot, now->boot) &&
	       now->kills == mark->oom_kills;
}

/* pm->killed: the paths started and not ended, once each, with the
 * largest budget they were started under, but for those no
 * out-of-memory kill can be blamed for.  Takes both lists over. */
static void
find_killed(struct prev_manifest *pm, struct killed_mark *started, size_t n_started,
	struct killed_mark *ended, size_t n_ended)
{
	struct oom_count now;
	int known = !oom_count_read(NULL, &now);
	size_t i, k;

	if (n_started)
		qsort(started, n_started, sizeof(*started), path_cmp_ptrs);
	if (n_ended)
		qsort(ended, n_ended, sizeof(*ended), path_cmp_ptrs);
	for (i = k = 0; i < n_started; i++) {
		if (k && !strcmp(started[k - 1].path, started[i].path)) {
			struct killed_mark *first = &started[k - 1];

			if (first->budget < started[i].budget)
				first->budget = started[i].budget;
			first->again |= started[i].again;
			/* killed twice: by hand only if both were */
			if (strcmp(first->boot, started[i].boot))
				*first->boot = '\0';
			else if (first->oom_kills > started[i].oom_kills)
				first->oom_kills = started[i].oom_kills;
			free(started[i].path);
			continue;
		}
		if (n_ended && bsearch(&started[i], ended, n_ended, sizeof(*ended),
				       path_cmp_ptrs)) {
			free(started[i].path);
			continue;
		}
		started[k++] = started[i];
	}
	/* by hand: kept apart, in the array's tail, to mark a second start */
	for (i = n_started = 0; i < k; i++) {
		if (!killed_by_hand(&started[i], &now, known)) {
			struct killed_mark blamed = started[i];

			memmove(&started[n_started + 1], &started[n_started],
				(i - n_started) * sizeof(*started));
			started[n_started++] = blamed;
		}
	}
	marks_release(ended, n_ended);
	pm->killed = started;
	pm->n_killed = n_started;
	pm->hand_killed = started ? started + n_started : NULL;
	pm->n_hand_killed = k - n_started;
}

int
manifest_load(const struct options *o, struct prev_manifest *pm,
	char *warn, size_t warnlen)
{
	json_error_t jerr;
	json_t *root = NULL, *shared = NULL;
	char *jpath = journal_path(o), *line = NULL;
	struct rebase *rb = NULL;
	const char *path = o->manifest_path, *shared_name = NULL;
	size_t cap = 0, i, k, d, m, linecap = 0;
	char scratch[PATH_MSG_MAX];
	struct killed_mark *started = NULL, *ended = NULL;	/* the journal's marks */
	size_t n_started = 0, n_ended = 0;
	int own_shared = 0, shared_newer, r;
	FILE *f;

	memset(pm, 0, sizeof(*pm));
	*warn = '\0';
	pm->share = o->shard_index;
	pm->shares = o->shard_count;
	if (!jpath)
		return -1;
	if (read_own(path, &root, &jerr, warn, warnlen)) {
		free(jpath);
		return -2;
	}
	if (!root && access(path, F_OK) == 0)
		snprintf(warn, warnlen, jerr.line > 0 ?
			 "ignoring unreadable manifest '%s': %s (line %d)" :
			 "ignoring unreadable manifest '%s': %s",
			 path, jerr.text, jerr.line);
	if (root && (!json_is_object(root) ||
		     !json_is_array(json_object_get(root, "sources")))) {
		snprintf(warn, warnlen, "ignoring manifest '%s': not an imgbake manifest",
			 path);
		json_decref(root);
		root = NULL;
	}
	if (root && o->shard_count > 1) {
		if (other_task(o, root, path, warn, warnlen)) {
			json_decref(root);
			free(jpath);
			return -2;
		}
		/* one no task wrote: an unsharded run's, with the same -m */
		own_shared = !json_object_get(json_object_get(root, "options"), "shard");
	}
	/* the shared manifest: its records win when it is the newer; the
	 * older, its records still decide which task keeps a record (see
	 * manifest_carry), for every task reads them, whether its own
	 * manifest is the newer (a task retried after a merge) or not */
	if (o->shard_count > 1 && (shared_name = shared_path(o)) &&
	    !read_own(shared_name, &shared, &jerr, scratch, sizeof(scratch)) && shared &&
	    (!json_is_object(shared) || !json_is_array(json_object_get(shared, "sources")))) {
		json_decref(shared);
		shared = NULL;
	}
	shared_newer = shared && shared_is_newer(o, shared_name);
	if (shared && !shared_newer && load_records(o, pm, &cap, shared, 1))
		goto oom;
	if (root) {
		if (load_records(o, pm, &cap, root, own_shared))
			goto oom;
		json_decref(root);
		root = NULL;
	}
	if (shared && shared_newer && load_records(o, pm, &cap, shared, 1))
		goto oom;
	json_decref(shared);
	shared = NULL;

	/* a killed run's journal: later lines describe later work */
	if ((f = fopen(jpath, "r"))) {
		ssize_t len;

		/* empty: the run that holds it now made it */
		while ((len = getline(&line, &linecap, f)) > 0) {
			pm->resumed = 1;
			json_t *rec = json_loadb(line, (size_t)len, 0, NULL);
			json_t *cwd = json_object_get(rec, "cwd");

			/* where the run that wrote the next lines started */
			if (cwd && !json_object_get(rec, "path")) {
				rebase_release(rb);
				rb = rebase_new(o, cwd, json_object_get(rec, "root"));
				json_decref(rec);
				continue;
			}
			/* stopped at once by a second signal: what ran then
			 * was the user's doing, no picture's */
			if (json_object_get(rec, "stopped") && !json_object_get(rec, "path")) {
				for (i = 0; i < n_started; i++)
					free(started[i].path);
				n_started = 0;
				json_decref(rec);
				continue;
			}
			if ((r = add_mark(rec, "started", rb, &started, &n_started)) != 1 ||
			    (r = add_mark(rec, "ended", rb, &ended, &n_ended)) != 1) {
				json_decref(rec);
				if (r < 0) {
					fclose(f);
					goto oom;
				}
				continue;
			}
			if (rec && prev_add(pm, &cap, rec, rb, 1)) {
				json_decref(rec);
				fclose(f);
				goto oom;
			}
			json_decref(rec);
		}
		fclose(f);
	}
	rebase_release(rb);
	rb = NULL;
	free(line);
	free(jpath);
	line = jpath = NULL;
	find_killed(pm, started, n_started, ended, n_ended);
	started = ended = NULL;
	n_started = n_ended = 0;

	/* sort by path, and by position within a path: the last record
	 * of a path (the journal's, if any) is the one that counts, but
	 * that one with outputs counts over one with none */
	if (pm->n)
		qsort(pm->sources, pm->n, sizeof(*pm->sources), cmp_prev);
	for (i = d = 0; i < pm->n; i = k) {
		int outputs = 0, shared_too = 0, own = 0;

		for (k = i; k < pm->n && !strcmp(pm->sources[k].path, pm->sources[i].path); k++) {
			outputs |= !pm->sources[k].bare;
			shared_too |= pm->sources[k].from_shared;
			own |= !pm->sources[k].from_shared;
		}
		for (m = i; m < k; m++) {
			if (outputs && pm->sources[m].bare) {
				prev_source_release(&pm->sources[m]);
				continue;
			}
			/* in the shared manifest: kept by the task all of
			 * them pick, whichever record is the newer */
			pm->sources[m].own_too = shared_too && own;
			pm->sources[m].from_shared = shared_too;
			pm->sources[d++] = pm->sources[m];
		}
	}
	pm->n = d;
	for (i = k = 0; i < pm->n; i++) {
		if (i + 1 < pm->n && !strcmp(pm->sources[i].path, pm->sources[i + 1].path)) {
			if (stale_replaced(pm, &pm->sources[i], &pm->sources[i + 1])) {
				/* whole again, for manifest_prev_release() */
				memmove(&pm->sources[k], &pm->sources[i],
					(pm->n - i) * sizeof(*pm->sources));
				pm->n = k + (pm->n - i);
				goto oom;
			}
			prev_source_release(&pm->sources[i]);
			continue;
		}
		pm->sources[k++] = pm->sources[i];
	}
	pm->n = k;
	if (journal_owns(pm))
		goto oom;
	return 0;
oom:
	json_decref(root);
	json_decref(shared);
	rebase_release(rb);
	free(line);
	free(jpath);
	marks_release(started, n_started);
	marks_release(ended, n_ended);
	return -1;
}

const struct prev_source *
manifest_find(const struct prev_manifest *pm, const char *path)
{
	size_t lo = 0, hi = pm->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(path, pm->sources[mid].path);

		if (c == 0)
			return &pm->sources[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void
manifest_prev_release(struct prev_manifest *pm)
{
	size_t i;

	for (i = 0; i < pm->n; i++)
		prev_source_release(&pm->sources[i]);
	for (i = 0; i < pm->n_stale; i++)
		free(pm->stale[i].path);
	marks_release(pm->killed, pm->n_killed + pm->n_hand_killed);
	free(pm->sources);
	free(pm->stale);
	memset(pm, 0, sizeof(*pm));
}

/* rec as one compact line at the end of the journal, in one write(2):
 * a kill leaves whole lines, or a last partial one that the loader
 * skips.  Takes rec over.  0, or -1 with errno set. */
static int
journal_write(int fd, json_t *rec)
{
	char *text = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
	int ret = -1;
	size_t len;

	if (text) {
		len = strlen(text);
		text[len] = '\n';
		ret = output_write_all(fd, text, len + 1);
	} else {
		errno = ENOMEM;
	}
	free(text);
	json_decref(rec);
	return ret;
}

int
manifest_check_target(const char *path, char *err, size_t errlen)
{
	char head[1024];
	ssize_t n;
	int fd;

	if (output_open_existing(path, "a manifest", &fd, err, errlen))
		return -1;
	if (fd < 0)
		return 0;
	n = pread(fd, head, sizeof(head) - 1, 0);
	close(fd);
	head[n > 0 ? n : 0] = '\0';
	return n <= 0 || opens_as_manifest(head) ? 0 : manifest_replaceable(path, err, errlen);
}

int
manifest_journal_lock(const struct options *o, int wait, int *created,
	char *err, size_t errlen)
{
	char *path = journal_path(o);
	struct stat held, named;
	int fd = -1, e;

	*created = 0;
	if (!path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (;;) {
		if ((fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0 && errno == ENOENT &&
		    (fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) >= 0)
			*created = 1;
		if (fd < 0 && errno == EEXIST)
			continue;	/* made between the two opens */
		if (fd < 0) {
			snprintf(err, errlen, "cannot write journal '%s': %s", path,
				 strerror(errno));
			goto out;
		}
		/* a file system without locks (ENOLCK): as if alone, as
		 * output_lock_root takes it */
		if (flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) &&
		    (errno == EWOULDBLOCK || errno == EINTR)) {
			e = errno;
			close(fd);
			if (e == EWOULDBLOCK) {
				fd = -2;
				goto out;
			}
			fd = -1;
			snprintf(err, errlen, "cannot lock journal '%s': %s", path, strerror(e));
			goto out;
		}
		/* the run it waited for removed the file on its way out: the
		 * lock is on a name no other run will open */
		if (!fstat(fd, &held) && !stat(path, &named) &&
		    held.st_dev == named.st_dev && held.st_ino == named.st_ino)
			break;
		close(fd);
		*created = 0;
	}
out:
	free(path);
	return fd;
}

void
manifest_journal_start(const struct options *o, int fd)
{
	char *cwd, *real = NULL;

	/* where the records that follow were named from; without it, the
	 * next run reads them as named from its own directory */
	if ((cwd = run_dir(o)) && (real = realpath(o->output_dir, NULL)))
		(void)journal_write(fd, json_pack("{s:o, s:o}", "cwd", manifest_path_json(cwd),
						  "root", manifest_path_json(real)));
	else if (cwd)
		(void)journal_write(fd, json_pack("{s:o}", "cwd", manifest_path_json(cwd)));
	free(real);
	free(cwd);
}

int
manifest_journal_append(int fd, const struct job *job, const struct result *res)
{
	return journal_write(fd, source_json(job, res, NULL, NULL));
}

int
manifest_journal_mark(int fd, const struct job *job, int started, uint64_t budget)
{
	struct oom_count now;

	if (!started)
		return journal_write(fd, json_pack("{s:o}", "ended",
						   manifest_path_json(job->src_path)));
	/* for the next run to tell an out-of-memory kill from another;
	 * after one by hand, a second kill blames the picture whatever */
	if (!oom_count_read(NULL, &now))
		return journal_write(fd, json_pack("{s:o, s:I, s:I, s:s, s:b}", "started",
						   manifest_path_json(job->src_path),
						   "budget", (json_int_t)budget,
						   "oom_kills", (json_int_t)now.kills,
						   "boot", now.boot, "again", job->hand_killed));
	return journal_write(fd, json_pack("{s:o, s:I}", "started",
					   manifest_path_json(job->src_path),
					   "budget", (json_int_t)budget));
}

void
manifest_journal_remove(const struct options *o)
{
	char *path = journal_path(o);

	if (path)
		unlink(path);
	free(path);
}

static int
cmp_job_path(const void *key, const void *job)
{
	return strcmp(key, ((const struct job *)job)->src_path);
}

/* The sources named in this run that are missing (a share not
 * mounted, a tree moved away for a moment), as absolute paths with
 * what exists of them resolved (output_resolved), sorted; NULL when
 * there are none or memory ran out. */
static char **
missing_named(const struct plan *p, size_t *n)
{
	char **v = NULL, **grown, *abs;
	size_t i, cap = 0;

	*n = 0;
	for (i = 0; i < p->n; i++) {
		const struct job *j = &p->jobs[i];

		if (!j->named || j->pre_status != JOB_FAILED || !access(j->src_path, F_OK) ||
		    (errno != ENOENT && errno != ENOTDIR))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			if (!(grown = realloc(v, cap * sizeof(*v))))
				break;
			v = grown;
		}
		if (!(abs = output_resolved(j->src_path)))
			break;
		v[(*n)++] = abs;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), path_cmp_ptrs);
	return v;
}

/* Whether a directory above the record's path is one of the missing
 * named sources: its source is not gone, only out of reach. */
static int
under_missing(const char *path, char *const *missing, size_t n)
{
	char *abs = output_resolved(path), *slash;
	int r = 0;

	while (abs && !r && (slash = strrchr(abs, '/')) && slash != abs) {
		*slash = '\0';
		r = bsearch(&abs, missing, n, sizeof(*missing), path_cmp_ptrs) != NULL;
	}
	free(abs);
	return r;
}

void
manifest_carry(struct prev_manifest *pm, const struct plan *p)
{
	char **missing;
	struct stat st;
	size_t i, n_missing;
	int kept;

	missing = missing_named(p, &n_missing);

	for (i = 0; i < pm->n; i++) {
		struct prev_source *ps = &pm->sources[i];

		ps->carried = ps->carried_elsewhere = 0;
		/* a source of this run, under this name or another, or of
		 * another task's share (renamed): that run records it */
		if (!ps->raw || ps->renamed ||
		    (p->n && bsearch(ps->path, p->jobs, p->n, sizeof(*p->jobs), cmp_job_path))) {
			/* in the shared manifest, all the tasks' records */
			ps->foreign = ps->from_shared && ps->other_share;
			continue;
		}
		if (lstat(ps->path, &st) ||
		    (S_ISLNK(st.st_mode) && !ps->bare && stat(ps->path, &st)))
			/* gone; what cannot be looked at is not */
			kept = (errno != ENOENT && errno != ENOTDIR &&
				errno != ELOOP && errno != ENAMETOOLONG) ||
			       (n_missing && under_missing(ps->path, missing, n_missing));
		else	/* the record of a failed FIFO, a skipped link, stays
			 * while the file does */
			kept = S_ISREG(st.st_mode) || (ps->bare && !S_ISDIR(st.st_mode));
		/* no source of this run: one task, the same for all, keeps
		 * its record or prunes its outputs; a job of another that
		 * writes one of them takes it over all the same */
		if (ps->from_shared && shard_of(ps->path, pm->shares) != pm->share &&
		    !(ps->bare && ps->own_too)) {
			ps->foreign = 1;
			ps->carried_elsewhere = kept;
			continue;
		}
		ps->carried = kept;
	}
	for (i = 0; i < n_missing; i++)
		free(missing[i]);
	free(missing);
}
