/*
 * The walk: every file below a source directory, in bytewise order of
 * names at each level, so that every run, whatever the file system's
 * own order, plans the same jobs in the same order.  Symlinks are not
 * followed; directories, FIFOs and devices are never opened as files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"
#include "walk.h"

int
file_id_cmp(const void *a, const void *b)
{
	const struct file_id *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

int
walk_exclude_add(struct walk_exclude *ex, const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return 0;	/* nothing there, nothing to exclude */
	if (ex->n == ex->cap) {
		size_t cap = ex->cap ? 2 * ex->cap : 16;
		struct file_id *ids = realloc(ex->ids, cap * sizeof(*ids));

		if (!ids)
			return -1;
		ex->ids = ids;
		ex->cap = cap;
	}
	ex->ids[ex->n].dev = st.st_dev;
	ex->ids[ex->n].ino = st.st_ino;
	ex->n++;
	return 0;
}

void
walk_exclude_finish(struct walk_exclude *ex)
{
	if (ex->n)
		qsort(ex->ids, ex->n, sizeof(*ex->ids), file_id_cmp);
}

void
walk_exclude_release(struct walk_exclude *ex)
{
	free(ex->ids);
	memset(ex, 0, sizeof(*ex));
}

int
walk_excluded(const struct walk_exclude *ex, const struct stat *st)
{
	struct file_id key = { st->st_dev, st->st_ino };

	return ex && ex->n &&
	       bsearch(&key, ex->ids, ex->n, sizeof(key), file_id_cmp) != NULL;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A temporary file of an imgbake run that was killed: ".x.imgbake-XXXXXX". */
static int
is_stale_temp(const char *name)
{
	const char *tag = strstr(name, ".imgbake-");

	return name[0] == '.' && tag && strlen(tag) == 15;
}

/* The directories being walked, innermost first: a followed link to
 * one of them is a loop. */
struct ancestor {
	dev_t dev;
	ino_t ino;
	const struct ancestor *up;
};

struct walk {
	const struct walk_exclude *ex;
	const struct walk_links *links;
	walk_fn fn;
	void *arg;
};

static int walk_dir(const struct walk *w, const char *path, const char *rel,
	const struct ancestor *up);

/* Whether the physical path `real` is one of the roots or below one. */
static int
inside_roots(const struct walk_links *links, const char *real)
{
	size_t i;

	for (i = 0; i < links->n_roots; i++) {
		size_t n = strlen(links->roots[i]);

		if (!strncmp(real, links->roots[i], n) &&
		    (real[n] == '/' || real[n] == '\0' || n == 1))
			return 1;
	}
	return 0;
}

/* A symbolic link met by the walk, with -L: where it leads decides. */
static int
follow_link(const struct walk *w, const char *child, const char *child_rel,
	const struct ancestor *up)
{
	const struct walk_links *links = w->links;
	const struct ancestor *a;
	char *real;
	struct stat st;
	int ret;

	if (stat(child, &st))
		return w->fn(w->arg, child, child_rel, JOB_SKIPPED, REASON_SYMLINK,
			     errno == ELOOP ? "symbolic link loop" : "dangling symbolic link");
	if (!(real = realpath(child, NULL)))
		return w->fn(w->arg, child, child_rel, JOB_SKIPPED, REASON_SYMLINK,
			     "symbolic link cannot be resolved");
	if (!links->allow_outside && !inside_roots(links, real)) {
		free(real);
		return w->fn(w->arg, child, child_rel, JOB_SKIPPED, REASON_SYMLINK,
			     "symbolic link leads outside the source directories "
			     "(see --allow-outside)");
	}
	free(real);
	if (walk_excluded(w->ex, &st))
		return 0;
	if (!S_ISDIR(st.st_mode))
		return w->fn(w->arg, child, child_rel,
			     S_ISREG(st.st_mode) ? JOB_PENDING : JOB_SKIPPED,
			     S_ISREG(st.st_mode) ? REASON_NONE : REASON_NOT_REGULAR,
			     S_ISREG(st.st_mode) ? NULL : "not a regular file");
	for (a = up; a; a = a->up)
		if (a->dev == st.st_dev && a->ino == st.st_ino)
			return w->fn(w->arg, child, child_rel, JOB_SKIPPED, REASON_SYMLINK,
				     "symbolic link loop");
	ret = walk_dir(w, child, child_rel, up);
	return ret;
}

static int
walk_dir(const struct walk *w, const char *path, const char *rel,
	const struct ancestor *up)
{
	struct ancestor self;
	char **names = NULL;
	struct entry_stat {
		struct stat st;
		int err;	/* errno of the stat, or 0 */
	} *sts = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	struct stat dst;
	DIR *dir;
	int fd, ret = 0;

	/* the root was named, a followed link opens its target; nothing
	 * else is followed */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
		  (!up || (w->links && w->links->follow) ? 0 : O_NOFOLLOW));
	if (fd < 0 || fstat(fd, &dst) || !(dir = fdopendir(fd))) {
		char msg[256];

		snprintf(msg, sizeof(msg), "cannot read directory: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return w->fn(w->arg, path, rel, JOB_FAILED, REASON_IO, msg);
	}
	self = (struct ancestor){ dst.st_dev, dst.st_ino, up };
	for (;;) {
		errno = 0;
		if (!(de = readdir(dir)))
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    is_stale_temp(de->d_name))
			continue;
		if (n == cap) {
			char **grown;

			cap = cap ? 2 * cap : 64;
			if (!(grown = realloc(names, cap * sizeof(*names)))) {
				ret = -1;
				goto out;
			}
			names = grown;
		}
		if (!(names[n] = strdup(de->d_name))) {
			ret = -1;
			goto out;
		}
		n++;
	}
	/* a listing cut short by an I/O error: the directory fails, so the
	 * plan is incomplete and nothing below it is taken as gone; what
	 * was read is still converted */
	if (errno) {
		char msg[256];

		snprintf(msg, sizeof(msg), "cannot read directory: %s", strerror(errno));
		if ((ret = w->fn(w->arg, path, rel, JOB_FAILED, REASON_IO, msg)))
			goto out;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_name);
	/* each entry stat'ed through the directory, which is then closed
	 * before any is walked: one descriptor open, not one a level */
	if (n && !(sts = malloc(n * sizeof(*sts)))) {
		ret = -1;
		goto out;
	}
	for (i = 0; i < n; i++)
		sts[i].err = fstatat(dirfd(dir), names[i], &sts[i].st, AT_SYMLINK_NOFOLLOW) ? errno : 0;
	closedir(dir);
	dir = NULL;

	for (i = 0; i < n && ret == 0; i++) {
		char *child = path_join(path, names[i]);
		char *child_rel = path_join(rel, names[i]);
		const struct stat *st = &sts[i].st;

		if (!child || !child_rel) {
			ret = -1;
		} else if (sts[i].err) {
			char msg[256];

			snprintf(msg, sizeof(msg), "cannot stat: %s", strerror(sts[i].err));
			ret = w->fn(w->arg, child, child_rel, JOB_FAILED, REASON_IO, msg);
		} else if (walk_excluded(w->ex, st)) {
			/* the output root, the manifest, our own outputs */
		} else if (S_ISDIR(st->st_mode)) {
			ret = walk_dir(w, child, child_rel, &self);
		} else if (S_ISLNK(st->st_mode) && w->links && w->links->follow) {
			ret = follow_link(w, child, child_rel, &self);
		} else if (S_ISLNK(st->st_mode)) {
			ret = w->fn(w->arg, child, child_rel, JOB_SKIPPED, REASON_SYMLINK,
				    "symbolic link not followed (see -L)");
		} else if (!S_ISREG(st->st_mode)) {
			ret = w->fn(w->arg, child, child_rel, JOB_SKIPPED, REASON_NOT_REGULAR,
				    "not a regular file");
		} else {
			ret = w->fn(w->arg, child, child_rel, JOB_PENDING, REASON_NONE, NULL);
		}
		free(child);
		free(child_rel);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(sts);
	if (dir)
		closedir(dir);
	return ret;
}

int
walk_tree(const char *root, const struct walk_exclude *ex,
	const struct walk_links *links, walk_fn fn, void *arg)
{
	struct walk w = { ex, links, fn, arg };

	return walk_dir(&w, root, "", NULL);
}
