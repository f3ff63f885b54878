/*
 * --prune.  imgbake only ever deletes what its manifest says it wrote:
 * the stale list is computed from the previous manifest alone, and each
 * file is checked against the size recorded for it before it goes.
 * Without --prune the list is carried in the new manifest, so a later
 * run with --prune still knows what it may delete.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "paths.h"
#include "prune.h"

static int
cmp_stale(const void *a, const void *b)
{
	return strcmp(((const struct stale *)a)->path, ((const struct stale *)b)->path);
}

static int
add(struct stale **v, size_t *n, size_t *cap, const char *path, uint64_t bytes, int held)
{
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 64;
		struct stale *grown = realloc(*v, ncap * sizeof(*grown));

		if (!grown)
			return -1;
		*v = grown;
		*cap = ncap;
	}
	memset(&(*v)[*n], 0, sizeof(**v));
	if (!((*v)[*n].path = strdup(path)))
		return -1;
	(*v)[*n].bytes = bytes;
	(*v)[*n].held = held;
	(*n)++;
	return 0;
}

/* A source that failed this run leaves the outputs an earlier run made
 * of it in place, and they are kept: a file being uploaded, a decoder
 * out of memory or a timeout under load must not cost the old image.
 * So does one a stop left unfinished, whose earlier record the manifest
 * keeps as it was. */
static const struct prev_source *
kept_of(const struct plan *p, const struct result *results,
	const unsigned char *include, size_t i)
{
	if (include[i] && results[i].status != JOB_FAILED)
		return NULL;
	return p->jobs[i].prev;
}

int
prune_find(const struct prev_manifest *pm, struct plan *p,
	const struct result *results, const unsigned char *include,
	struct stale **out, size_t *n_out)
{
	const struct prev_source *kept;
	char **made = NULL, *key;
	size_t n_made = 0, i, k, cap = 0, n = 0;
	struct stale *v = NULL;
	int ret = -1, other;

	*out = NULL;
	*n_out = 0;
	for (i = 0; i < p->n; i++) {
		if (include[i])
			n_made += results[i].n_outputs;
		if ((kept = kept_of(p, results, include, i)))
			n_made += kept->n_outputs;
	}
	for (i = 0; i < pm->n; i++)
		if (pm->sources[i].carried)
			n_made += pm->sources[i].n_outputs;
	if (!(made = malloc((n_made + 1) * sizeof(*made))))
		return -1;
	n_made = 0;
	for (i = 0; i < p->n; i++) {
		for (k = 0; include[i] && k < results[i].n_outputs; k++)
			made[n_made++] = results[i].outputs[k].path;
		kept = kept_of(p, results, include, i);
		for (k = 0; kept && k < kept->n_outputs; k++)
			made[n_made++] = kept->outputs[k].path;
	}
	/* what a carried record lists is kept, as the record is */
	for (i = 0; i < pm->n; i++)
		for (k = 0; pm->sources[i].carried && k < pm->sources[i].n_outputs; k++)
			made[n_made++] = pm->sources[i].outputs[k].path;
	qsort(made, n_made, sizeof(*made), path_cmp_ptrs);

	for (i = 0; i < pm->n; i++) {
		const struct prev_source *ps = &pm->sources[i];

		for (k = 0; !ps->foreign && k < ps->n_outputs; k++) {
			key = ps->outputs[k].path;
			if (!bsearch(&key, made, n_made, sizeof(*made), path_cmp_ptrs) &&
			    (other = plan_other_makes(p, key)) != 1 &&
			    add(&v, &n, &cap, key, ps->outputs[k].bytes, other == 2))
				goto out;
		}
	}
	for (i = 0; i < pm->n_stale; i++) {
		key = pm->stale[i].path;
		if (!bsearch(&key, made, n_made, sizeof(*made), path_cmp_ptrs) &&
		    (other = plan_other_makes(p, key)) != 1 &&
		    add(&v, &n, &cap, key, pm->stale[i].bytes, other == 2))
			goto out;
	}
	/* one entry per path */
	if (n)
		qsort(v, n, sizeof(*v), cmp_stale);
	for (i = k = 0; i < n; i++) {
		if (k && !strcmp(v[k - 1].path, v[i].path)) {
			v[k - 1].held |= v[i].held;
			free(v[i].path);
			continue;
		}
		v[k++] = v[i];
	}
	*out = v;
	*n_out = k;
	v = NULL;
	ret = 0;
out:
	if (v)
		prune_release(v, n);
	free(made);
	return ret;
}

/* rmdir the parents of rel that are now empty, deepest first. */
static void
remove_empty_dirs(const char *root, const char *rel)
{
	char *dir = strdup(rel), *slash;

	while (dir && (slash = strrchr(dir, '/'))) {
		char *full;

		*slash = '\0';
		full = path_join(root, dir);
		if (!full || rmdir(full)) {
			free(full);
			break;
		}
		free(full);
	}
	free(dir);
}

size_t
prune_apply(const struct options *o, struct stale *st, size_t n, int delete)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++) {
		char *full = path_join(o->output_dir, st[i].path);
		char err[256];
		struct stat sb;

		if (!full)
			continue;
		/* a file reached through a link in the tree is not one
		 * imgbake wrote there */
		if (output_check_dirs(o->output_dir, st[i].path, err, sizeof(err)) ||
		    lstat(full, &sb) || !S_ISREG(sb.st_mode) ||
		    (uint64_t)sb.st_size != st[i].bytes) {
			st[i].dropped = 1;	/* gone, or not ours any more */
		} else if (delete && !st[i].held && unlink(full) == 0) {
			st[i].dropped = st[i].deleted = 1;
			count++;
			/* shards share the tree: another may be about to
			 * write into a directory that looks empty here */
			if (o->shard_count <= 1)
				remove_empty_dirs(o->output_dir, st[i].path);
		}
		free(full);
	}
	return count;
}

void
prune_release(struct stale *st, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(st[i].path);
	free(st);
}
