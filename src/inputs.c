/*
 * Sources named on the command line or listed in a file: a directory
 * is walked (its files mirrored relative to it), a file keeps its path
 * relative to --base.  A path that would mirror outside the output
 * root (a '..' component, an absolute path outside the base) is
 * refused here, before anything is opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inputs.h"
#include "paths.h"

struct inputs_ctx {
	struct plan *plan;
	const struct walk_exclude *ex;
	const char *cwd;	/* physical current directory */
	const char *base;	/* physical --base */
	struct walk_links links;	/* -L, and the physical source directories */
};

static int
add_walked(void *arg, const char *path, const char *rel,
	enum job_status status, enum job_reason reason, const char *error)
{
	struct inputs_ctx *c = arg;

	return plan_add(c->plan, path, rel, 0, status, reason, error);
}

/* Note a walked directory's physical path: -L follows links into it. */
static int
add_root(struct inputs_ctx *c, const char *path)
{
	char *real = realpath(path, NULL), **grown;
	size_t i;

	if (!real)
		return 0;	/* the walk reports what is wrong with it */
	for (i = 0; i < c->links.n_roots; i++)
		if (!strcmp(c->links.roots[i], real)) {
			free(real);
			return 0;
		}
	if (!(grown = realloc(c->links.roots, (c->links.n_roots + 1) * sizeof(*grown)))) {
		free(real);
		return -1;
	}
	c->links.roots = grown;
	c->links.roots[c->links.n_roots++] = real;
	return 0;
}

/* The path of abs with its directory resolved (realpath(3)) and its
 * last component kept as named: the base is physical, and a path that
 * reaches it through a symbolic link (/srv/site -> /data/site) is
 * inside it all the same. */
static char *
physical_path(const char *abs)
{
	const char *slash = strrchr(abs, '/');
	char *dir, *real, *phys = NULL;

	if (!slash || !slash[1] || !(dir = strndup(abs, (size_t)(slash - abs) + 1)))
		return NULL;
	if ((real = realpath(dir, NULL)))
		phys = path_join(real, slash + 1);
	free(real);
	free(dir);
	return phys;
}

/* The mirrored path of a named file, or NULL if it is not inside base. */
static char *
named_rel(const struct inputs_ctx *c, const char *path)
{
	char *norm = path_normalize(path), *abs = NULL, *phys = NULL, *rel = NULL;

	if (!norm || path_has_dotdot(norm))
		goto out;
	abs = norm[0] == '/' ? strdup(norm) : path_join(c->cwd, norm);
	if (!abs)
		goto out;
	rel = path_relative_to(abs, c->base);
	if (!rel && (phys = physical_path(abs)))
		rel = path_relative_to(phys, c->base);
out:
	free(norm);
	free(abs);
	free(phys);
	return rel;
}

static int
add_source(struct inputs_ctx *c, const char *path)
{
	struct stat st;
	char msg[PATH_MAX + 80];
	char *rel;
	int ret;

	if (stat(path, &st)) {
		size_t len = strlen(path);

		/* a list written on Windows: each name ends in its CR; an
		 * option after the first source is a source too */
		snprintf(msg, sizeof(msg), "%s%s", strerror(errno),
			 errno != ENOENT ? "" :
			 len && path[len - 1] == '\r' ?
			 " (the name ends in a carriage return: a list with CRLF line ends?)" :
			 path[0] == '-' && path[1] ?
			 " (an option? options go before the first source)" : "");
		return plan_add(c->plan, path, NULL, 1, JOB_FAILED, REASON_IO, msg);
	}
	if (S_ISDIR(st.st_mode))
		return add_root(c, path) ? -1 : walk_tree(path, c->ex, &c->links, add_walked, c);
	if (!S_ISREG(st.st_mode))
		return plan_add(c->plan, path, NULL, 1, JOB_FAILED, REASON_NOT_REGULAR,
				"not a regular file");
	/* the manifest, the report or an output it records, listed by a
	 * find over a tree that holds the output root: as in a walk, no
	 * source (else each run converts the last one's outputs) */
	if (walk_excluded(c->ex, &st))
		return 0;
	if (!(rel = named_rel(c, path))) {
		char *norm = path_normalize(path);

		/* name the base: the fix is a --base that holds the file */
		if (norm && path_has_dotdot(norm))
			snprintf(msg, sizeof(msg), "a path through '..' is refused "
				 "(name the file without it, from the base directory '%s' "
				 "down or by its full path)", c->base);
		else
			snprintf(msg, sizeof(msg), "path leads outside the base directory "
				 "'%s' (see --base)", c->base);
		free(norm);
		return plan_add(c->plan, path, NULL, 1, JOB_FAILED, REASON_UNSAFE_PATH, msg);
	}
	ret = plan_add(c->plan, path, rel, 1, JOB_PENDING, REASON_NONE, NULL);
	free(rel);
	return ret;
}

/* The names of a list, read before any is looked at: see inputs_collect. */
struct names {
	char **v;
	size_t n, cap;
};

static int
names_add(struct names *ns, const char *name, size_t len)
{
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 64;
		char **grown = realloc(ns->v, cap * sizeof(*grown));

		if (!grown)
			return -1;
		ns->v = grown;
		ns->cap = cap;
	}
	if (!(ns->v[ns->n] = malloc(len + 1)))
		return -1;
	memcpy(ns->v[ns->n], name, len + 1);
	ns->n++;
	return 0;
}

static void
names_release(struct names *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static int
add_list(struct names *ns, FILE *f, int sep)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = 0;

	while (ret == 0 && (len = getdelim(&line, &cap, sep, f)) >= 0) {
		if (len && line[len - 1] == sep)
			line[--len] = '\0';
		/* a list of find -print0 read line by line: each line
		 * would end at its first name */
		if (sep != '\0' && memchr(line, '\0', len))
			ret = -2;
		else if (len)
			ret = names_add(ns, line, (size_t)len);
	}
	if (ferror(f))
		ret = -1;
	free(line);
	return ret;
}

/* Whether name reopens standard input while a closed one is held by
 * /dev/null, write-only (see main.c): opened again, the /dev/null would
 * read as an empty list.  Any spelling that leads there (/dev/stdin,
 * //dev/./fd/0, a link to /proc/self/fd/0), but /dev/null itself. */
static int
names_held_stdin(const char *name)
{
	int fl = fcntl(0, F_GETFL), r = 0;
	char *real, *norm;

	if (fl < 0 || (fl & O_ACCMODE) != O_WRONLY)
		return 0;
	real = realpath(name, NULL);
	norm = path_normalize(name);
	r = real && norm && !strcmp(real, "/dev/null") && strcmp(norm, "/dev/null");
	free(real);
	free(norm);
	return r;
}

static int
read_list(struct names *ns, const char *name, int sep, char *err, size_t errlen)
{
	FILE *f;
	int ret;

	if (names_held_stdin(name)) {
		f = NULL;
		errno = EBADF;
	} else {
		f = strcmp(name, "-") ? fopen(name, "r") : stdin;
	}
	if (!f) {
		snprintf(err, errlen, "cannot open list '%s': %s", name, strerror(errno));
		return -1;
	}
	errno = 0;
	ret = add_list(ns, f, sep);
	if (ret == -2)
		snprintf(err, errlen, "list '%s' holds NUL bytes: a list of names "
			 "ended by NULs (find -print0) needs -0", name);
	else if (ret)
		snprintf(err, errlen, "cannot read list '%s': %s", name,
			 errno ? strerror(errno) : "out of memory");
	if (f != stdin)
		fclose(f);
	return ret;
}

/* 1 for a directory; else 0, errno set */
static int
is_dir(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return 0;
	errno = ENOTDIR;
	return S_ISDIR(st.st_mode);
}

int
inputs_collect(const struct options *o, const struct walk_exclude *ex,
	struct plan *p, char *err, size_t errlen)
{
	char cwd[PATH_MAX], base[PATH_MAX];
	struct inputs_ctx c = {
		p, ex, cwd, base, { o->follow_symlinks, o->allow_outside, NULL, 0 }
	};
	int sep = o->null_separated ? '\0' : '\n';
	struct names listed = { NULL, 0, 0 };
	struct stat st;
	size_t k;
	int i, ret = -1;

	if (!getcwd(cwd, sizeof(cwd))) {
		snprintf(err, errlen, "cannot get the current directory: %s", strerror(errno));
		return -1;
	}
	if (!realpath(o->base_dir ? o->base_dir : ".", base) || !is_dir(base)) {
		snprintf(err, errlen, "cannot use base directory '%s': %s",
			 o->base_dir ? o->base_dir : ".", strerror(errno));
		return -1;
	}
	if (o->files_from && read_list(&listed, o->files_from, sep, err, errlen))
		goto out;
	if (o->read_stdin && read_list(&listed, "-", sep, err, errlen))
		goto out;
	/* every source directory, named or listed, is a root before any
	 * walk starts: -L follows a link into any of them alike */
	for (i = 0; i < o->n_sources; i++)
		if (!stat(o->sources[i], &st) && S_ISDIR(st.st_mode) &&
		    add_root(&c, o->sources[i]))
			goto oom;
	for (k = 0; k < listed.n; k++)
		if (!stat(listed.v[k], &st) && S_ISDIR(st.st_mode) &&
		    add_root(&c, listed.v[k]))
			goto oom;
	for (i = 0; i < o->n_sources; i++)
		if (add_source(&c, o->sources[i]))
			goto oom;
	for (k = 0; k < listed.n; k++)
		if (add_source(&c, listed.v[k]))
			goto oom;
	ret = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	names_release(&listed);
	for (k = 0; k < c.links.n_roots; k++)
		free(c.links.roots[k]);
	free(c.links.roots);
	return ret;
}
