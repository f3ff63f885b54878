/*
 * Shares of a tree for job arrays: see shard.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "shard.h"

#define MAX_SHARDS 1000000

static int
parse_num(const char *s, const char *end, long *out)
{
	char *e;
	long v;

	if (s == end || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &e, 10);
	if (errno || e != end || v < 0 || v > MAX_SHARDS)
		return -1;
	*out = v;
	return 0;
}

int
shard_parse(const char *s, int *k, int *n)
{
	const char *slash = strchr(s, '/');
	long kk, nn;

	if (!slash || parse_num(s, slash, &kk) ||
	    parse_num(slash + 1, slash + 1 + strlen(slash + 1), &nn) ||
	    nn < 1 || kk >= nn)
		return -1;
	*k = (int)kk;
	*n = (int)nn;
	return 0;
}

/* The engines imgbake knows, by the variables they set for each task.
 * `base` is the first index (1 for GitLab, Slurm's is in a variable);
 * Slurm's may also step (--array=0-7:2 runs 0, 2, 4 and 6). */
static const struct engine {
	const char *index, *count, *min, *step;
	int base;
} engines[] = {
	{ "JOB_COMPLETION_INDEX", NULL, NULL, NULL, 0 },	/* Kubernetes Indexed Job */
	{ "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
	  "SLURM_ARRAY_TASK_STEP", 0 },
	{ "CI_NODE_INDEX", "CI_NODE_TOTAL", NULL, NULL, 1 },	/* GitLab parallel */
	{ "CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", NULL, NULL, 0 },	/* CircleCI */
	{ "BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", NULL, NULL, 0 },
	{ "CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT", NULL, NULL, 0 },
	{ "AWS_BATCH_JOB_ARRAY_INDEX", NULL, NULL, NULL, 0 },
	{ "PARALLEL_SEQ", NULL, NULL, NULL, 1 },		/* GNU parallel */
};

static int
env_num(const char *name, long *out)
{
	const char *v = name ? getenv(name) : NULL;

	return v && *v ? parse_num(v, v + strlen(v), out) : -1;
}

int
shard_from_env(int count, int *k, int *n, const char **from, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
		const struct engine *e = &engines[i];
		long index, total = count, min = e->base, step = 1;

		if (!getenv(e->index))
			continue;
		if (env_num(e->index, &index)) {
			snprintf(err, errlen, "--shard auto: %s='%s' is not an index",
				 e->index, getenv(e->index));
			return -1;
		}
		if (e->min && env_num(e->min, &min))
			min = 0;
		if (!e->step || env_num(e->step, &step) || step < 1)
			step = 1;
		if (!count && (!e->count || env_num(e->count, &total))) {
			snprintf(err, errlen, "--shard auto: %s is set but not the number of "
				 "tasks: give it with --shards N", e->index);
			return -1;
		}
		if (index >= min && (index - min) % step) {
			snprintf(err, errlen, "--shard auto: %s=%ld is not %s plus a multiple "
				 "of %s=%ld (an array of a list?): give --shard K/N",
				 e->index, index, e->min, e->step, step);
			return -1;
		}
		if (index < min || (index - min) / step >= total || total < 1) {
			if (step > 1)
				snprintf(err, errlen, "--shard auto: %s=%ld is outside %ld..%ld "
					 "in steps of %ld", e->index, index, min,
					 (total - 1) * step + min, step);
			else
				snprintf(err, errlen, "--shard auto: %s=%ld is outside %ld..%ld",
					 e->index, index, min, total - 1 + min);
			return -1;
		}
		*k = (int)((index - min) / step);
		*n = (int)total;
		*from = e->index;
		return 0;
	}
	snprintf(err, errlen, "--shard auto: no job-array index in the environment "
		 "(JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, CI_NODE_INDEX, ...)");
	return -1;
}

int
shard_of(const char *key, int n)
{
	return n > 1 ? (int)(XXH3_64bits(key, strlen(key)) % (unsigned)n) : 0;
}
