/*
 * The manifest: a JSON record of every source and every output of a
 * run, written atomically at the end.  Deterministic: sources in plan
 * (bytewise path) order, no timestamps.
 */
#ifndef IMGBAKE_MANIFEST_H
#define IMGBAKE_MANIFEST_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/stat.h>

#include "job.h"
#include "options.h"
#include "plan.h"
#include "report.h"
#include "walk.h"

/* What an earlier run recorded: its manifest, overridden by the
 * journal a killed run left behind. */
struct prev_source {
	char *path;
	char *mime;
	uint64_t bytes, inode;
	int64_t mtime_ns;
	char hash[40];
	int width, height;
	/* of a converted or up-to-date source; of a failed one, those an
	 * earlier run made, left in place */
	struct out_record *outputs;
	size_t n_outputs;
	int failed;			/* the record of a failure: outputs only */
	int bare;			/* failed or skipped with no output: read
					 * to be carried over as it is, never a
					 * job's record */
	char *warning;			/* what a --lenient run converted it
					 * despite, or NULL */
	uint64_t killed_budget;		/* failed: a run with this memory
					 * budget was killed converting it
					 * alone (see refuse_killed in plan.c) */
	size_t seq;			/* load order: later records win */
	void *raw;			/* the record as read (json_t), to carry over */
	int carried;			/* not in this run, but its source still exists */
	int renamed;			/* a source of this run under another name,
					 * or one of another task's share */
	int journal;			/* read from the journal: newer than any
					 * record of the manifest */
	int other_share;		/* a source of another task's share */
	int from_shared;		/* read from a manifest no task wrote
					 * (the shared one, see manifest_load) */
	int own_too;			/* ... and from this task's own: one
					 * with no output is kept here too, the
					 * merge taking two that agree as one */
	int foreign;			/* from_shared, and another task's:
					 * neither carried nor pruned here */
	int carried_elsewhere;		/* foreign, and carried by that task:
					 * a job here may still take over its
					 * outputs */
};

/* A source a killed run was converting alone, and that run's memory
 * budget (0: not known). */
struct killed_mark {
	char *path;		/* first: sorted as the paths are */
	uint64_t budget;
	/* the kernel's count of out-of-memory kills as it started, and
	 * the boot it counted in; boot "" when not known */
	uint64_t oom_kills;
	char boot[40];
	int again;		/* started again after such a kill by hand */
};

/* An output recorded by an earlier run that this run does not make. */
struct stale {
	char *path;		/* relative to the output root */
	uint64_t bytes;		/* recorded size */
	int deleted;		/* removed by prune_apply */
	int dropped;		/* no longer to be tracked: deleted, gone, or changed */
	int held;		/* another task may make it: tracked, not deleted */
};

struct prev_manifest {
	struct prev_source *sources;	/* sorted by path */
	size_t n;
	struct stale *stale;		/* outputs recorded, no longer produced */
	size_t n_stale;
	int resumed;			/* a killed run left its journal, not empty */
	/* what a killed run was converting alone, over the budget, when it
	 * died (the journal marks such a job's start and end): most likely
	 * what the out-of-memory killer stopped it for.  Sorted by path. */
	struct killed_mark *killed;
	size_t n_killed;
	/* ... and those killed by another hand than the OOM killer's,
	 * forgiven once (a second kill blames them: a userspace OOM killer,
	 * systemd-oomd, earlyoom, moves no count): the tail of the array
	 * killed points to, right after its n_killed */
	struct killed_mark *hand_killed;
	size_t n_hand_killed;
	/* --shard K/N: K and N, to take only this task's share of the
	 * records from_shared that are no source of this run. */
	int share, shares;
};

/* Load the manifest and journal of o->manifest_path, if any.  A file
 * that cannot be parsed is treated as absent, with a message in warn
 * (else warn is ""); journal lines cut short by a crash are ignored.
 * Returns 0, -1 when out of memory, or -2 (with the reason in warn)
 * when the file there is not a manifest imgbake wrote, and must not be
 * written over.  Main thread only. */
int manifest_load(const struct options *o, struct prev_manifest *pm,
	char *warn, size_t warnlen);
/* Mark the sources of pm that this run does not touch (not in the plan:
 * another list, another directory) but that still exist as regular
 * files, or cannot be looked at (a directory on the way that cannot be
 * searched): their records and outputs stay, as they are, and no job
 * of this run may write those outputs.  A source that is gone, one of
 * another task's share (--shard), or one of this run's under another
 * name (./a.png for a.png: its record is marked renamed) is not
 * carried, and its outputs become stale unless this run makes them.
 * Called by plan_finish, once the plan's sources are known. */
void manifest_carry(struct prev_manifest *pm, const struct plan *p);

const struct prev_source *manifest_find(const struct prev_manifest *pm,
	const char *path);
void manifest_prev_release(struct prev_manifest *pm);

/* Two runs that write one manifest (two directories converted into one
 * output root at once) would each write it without the other's
 * records: the second waits for the first.  Open the journal,
 * o->manifest_path + ".journal", created if missing (*created then set),
 * and lock it for the run, waiting for another run that holds it when
 * `wait`.  Returns the descriptor, -2 when another run holds it and not `wait`,
 * or -1 with a message in err.  Main thread only. */
/* manifest_load's refusal, before anything is created for the run:
 * judged from the file's first bytes when they open as a manifest's
 * do, so that the file is parsed once.  0, or -1 with a message. */
int manifest_check_target(const char *path, char *err, size_t errlen);

int manifest_journal_lock(const struct options *o, int wait, int *created,
	char *err, size_t errlen);

/* Start the journal locked as fd: one JSON line per finished source,
 * appended and written at once, so a killed run can be resumed. */
void manifest_journal_start(const struct options *o, int fd);
int manifest_journal_append(int fd, const struct job *job, const struct result *res);
/* Mark in the journal that job starts (started, with the run's memory
 * budget) or has ended running alone, its estimate over the budget:
 * see prev_manifest.killed. */
int manifest_journal_mark(int fd, const struct job *job, int started,
	uint64_t budget);
/* The journal line a run stopped at once by a second signal appends
 * (from its signal handler, with write(2)): the jobs it was running
 * were stopped, not killed for memory. */
#define MANIFEST_JOURNAL_STOPPED "{\"stopped\":true}\n"

/* How a manifest's text starts, as manifest_write and merges write it. */
#define MANIFEST_START "{\n  \"imgbake\": "
void manifest_journal_remove(const struct options *o);

/* Write the manifest of the jobs marked in `include`; a job that did
 * not finish (after an interrupt) keeps the record pm has for it, if
 * any.  Of `stale`, the entries not dropped are kept in the manifest.  Returns 0 or -1 with a message in err.
 * Main thread only. */
/* --json: one source record, or the summary as {"summary": ...}, as
 * one compact line on f, flushed.  Returns 0 or -1. */
int manifest_print_source(FILE *f, const struct job *job, const struct result *res);
int manifest_print_summary(FILE *f, const struct summary *sum);

/* A path as the manifest stores it: a JSON string, with the bytes of
 * a name that is not UTF-8 as "\xNN" text and a backslash that starts
 * such text as "\x5c".  A new reference, NULL if out of memory. */
typedef struct json_t json_t;
json_t *manifest_path_json(const char *path);
/* ... and back to its bytes.  malloc'd, NULL if j is not a string. */
char *manifest_path_value(json_t *j);

/* Whether a manifest may be written over the file at path (see
 * manifest_load).  0, or -1 with a message in err. */
int manifest_replaceable(const char *path, char *err, size_t errlen);

/* --merge-manifests OUT IN...: one manifest from those of the shards of
 * one run, as that run unsharded would have written it.  Returns 0, or
 * -1 with err set; warn is set ("" if none) to what the merge could not
 * settle (an output two records list). */
int manifest_merge(const char *out, char *const *in, int n_in, char *warn, size_t warnlen,
	char *err, size_t errlen);

int manifest_write(const struct options *o, const struct plan *p,
	const struct result *results, const unsigned char *include,
	const struct prev_manifest *pm, const struct stale *stale, size_t n_stale,
	const struct summary *sum, char *err, size_t errlen);

/* Add the outputs an earlier run recorded, and the journal, to `ex`,
 * so the walk does not take them for sources. */
int manifest_exclude_outputs(const struct options *o,
	const struct prev_manifest *pm, struct walk_exclude *ex);

#endif
