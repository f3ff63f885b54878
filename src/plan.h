/*
 * The plan: the complete, ordered list of jobs, built before any pixel
 * is touched.
 */
#ifndef IMGBAKE_PLAN_H
#define IMGBAKE_PLAN_H

#include <stddef.h>
#include <sys/stat.h>

#include "job.h"
#include "options.h"
#include "sniff.h"
#include "walk.h"

/* A directory entry: its directory resolved and interned, and a path
 * whose last component names it (see plan.c). */
struct entry_key {
	const char *dir;
	const char *path;
};

struct job_id {
	struct file_id id;
	size_t job;
};

/* Where another task's source mirrors to, and its name without
 * extension; share: the task's index */
struct other_name {
	char *rel_dir, *stem;
	int share;
};

/* An output another task plans, and which task */
struct other_output {
	char *path;
	int share;
};

/* fnmatch(3) pattern of another task's outputs, its literal start, and
 * the task */
struct other_pattern {
	char *prefix, *pattern;
	char *rsuffix;		/* its literal end, reversed */
	int share;
};

/* The names a set of sources plan, to look an output up in: at the
 * widths as given (no {hash}), sorted, and with {w} or {hash}, any
 * width or hash, by prefix.  Made when first looked up; built: 1, or
 * -1 when out of memory. */
struct name_index {
	int built;
	struct other_output *outputs;
	size_t n_outputs;
	struct other_pattern *patterns;
	size_t n_patterns;
	struct other_pattern **by_prefix, **by_suffix;	/* sorted */
};

struct plan {
	struct job *jobs;
	size_t n, cap;
	struct file_id *src_ids;	/* every source to convert or keep, sorted */
	size_t n_src_ids;
	struct job_id *job_ids;		/* every job's source, by identity */
	size_t n_job_ids;
	size_t *by_entry;		/* job indices, by directory entry */
	void *dirs_given, *dirs_resolved;	/* GHashTable: directory names
						 * resolved, interned */
	struct entry_key *other_share;	/* --shard: other tasks' sources, owned
					 * paths, by entry */
	size_t n_other_share;
	struct other_name *other_names;	/* --shard: their names, owned */
	size_t n_other_names;
	const struct options *other_o;	/* the options that name their outputs */
	struct name_index others;	/* other_names' outputs, for
					 * plan_other_makes */
	struct name_index all;		/* every task's, for shard_owner */
	int incomplete;	/* a named source or a directory could not be read */
};

/* Whether another task of --shard plans an output at rel (1), or may
 * (2: a name of a width or a hash it knows only once it reads the
 * source): no task may prune it, whatever record calls it stale. */
int plan_other_makes(struct plan *p, const char *rel);

/* Whether the file with this stat is one of the plan's sources, which no
 * output may replace.  Any thread, once plan_finish has returned. */
int plan_is_source(const struct plan *p, const struct stat *st);


/* Add one source.  `rel` is its path below the output root's mirror
 * (NULL when the source is refused before that is known); `named` is
 * set for sources named or listed rather than walked.  Strings are
 * copied.  A source that fails here with an I/O error (one that cannot
 * be stat'ed, a directory that cannot be read) marks the plan
 * incomplete.  Returns 0 or -1 (out of memory).  Main thread only. */
int plan_add(struct plan *p, const char *path, const char *rel, int named,
	enum job_status status, enum job_reason reason, const char *error);

struct prev_manifest;

/* Put the jobs in bytewise path order, drop repeats, read each
 * source's first bytes to learn its type, and refuse sources whose
 * outputs collide.  With the record of an earlier run (pm, may be
 * NULL), a source unchanged since gets the outputs still valid in
 * job->reuse, and status up-to-date when nothing is left to make; the
 * records this run carries over are marked (manifest_carry), and their
 * outputs count in the collisions.  Returns 0 or -1 (out of memory). */
int plan_finish(struct plan *p, const struct options *o, struct sniff *s,
	struct prev_manifest *pm);

/* The recipe of one output: a hash of everything that shapes its bytes
 * (format, quality, width, metadata and colour options, the imgbake and
 * libvips versions), as 16 hex digits. */
void plan_recipe(const struct options *o, enum out_format f, int width,
	char out[17]);

/* The output path (relative to the output root) of a job for one
 * format and width (0: no width in the name).  The caller frees. */
/* --shard: the share of the plan a source belongs to (0..N-1), from
 * its output name skeleton; -1 out of memory. */
int plan_shard_of(const struct options *o, const struct job *job);

/* Who a name job j claims is claimed for (output_claim): the source,
 * known by its earlier record where it has one, so that the same
 * source under another name (one refused, say, for its "..") is not
 * another claimant; else the job. */
const void *plan_name_owner(const struct job *j);

char *plan_output_path(const struct options *o, const struct job *job,
	enum out_format f, int width);

/* The widths a source `src_width` pixels wide gets, ascending, into
 * targets (room for o->n_widths + 1): the requested ones it can serve
 * without upscaling, else its own width.  *name_width is the {w} to
 * use for every output (the source's width when no requested width
 * fits), or 0 to name each by its own width.  Returns the count. */
int plan_widths(const struct options *o, int src_width, int *targets,
	int *name_width);

void plan_release(struct plan *p);

#endif
