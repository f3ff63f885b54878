/*
 * Recursive directory walk in a stable order.
 */
#ifndef IMGBAKE_WALK_H
#define IMGBAKE_WALK_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "job.h"

struct file_id {
	dev_t dev;
	ino_t ino;
};

/* qsort/bsearch order of file_ids. */
int file_id_cmp(const void *a, const void *b);

/* Files and directories the walk must not enter or list: the output
 * root, the manifest, outputs recorded by an earlier run. */
struct walk_exclude {
	struct file_id *ids;	/* sorted by walk_exclude_finish */
	size_t n, cap;
};

int walk_exclude_add(struct walk_exclude *ex, const char *path);
void walk_exclude_finish(struct walk_exclude *ex);
/* Whether st is one of the excluded files or directories (once
 * finished). */
int walk_excluded(const struct walk_exclude *ex, const struct stat *st);
void walk_exclude_release(struct walk_exclude *ex);

/* Receives every entry found: `rel` is the path below the root.  A
 * status other than JOB_PENDING says the entry is not to be converted
 * (a symlink, a FIFO, an unreadable directory) and why.  Returns 0, or
 * -1 to stop the walk (out of memory). */
/* How the walk treats symbolic links: by default they are reported
 * (reason symlink) and never followed.  With `follow`, a link is
 * followed when its target is inside one of `roots` (physical paths of
 * the source directories) or `allow_outside` is set; loops and
 * dangling links are reported. */
struct walk_links {
	int follow;
	int allow_outside;
	char **roots;
	size_t n_roots;
};

typedef int (*walk_fn)(void *arg, const char *path, const char *rel,
	enum job_status status, enum job_reason reason, const char *error);

/* Walk the directory `root` depth-first, entries of each directory in
 * bytewise order, following symlinks only as `links` says (NULL: never).
 * Returns 0, or -1 when
 * fn asked to stop.  Main thread only. */
int walk_tree(const char *root, const struct walk_exclude *ex,
	const struct walk_links *links, walk_fn fn, void *arg);

#endif
