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
 * `base` is the first index (1 for GitLab, Slurm's is in a variable). */
static const struct engine {
	const char *index, *count, *min;
	int base;
} engines[] = {
	{ "JOB_COMPLETION_INDEX", NULL, NULL, 0 },		/* Kubernetes Indexed Job */
	{ "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", 0 },
	{ "CI_NODE_INDEX", "CI_NODE_TOTAL", NULL, 1 },		/* GitLab parallel */
	{ "CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", NULL, 0 },	/* CircleCI */
	{ "BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", NULL, 0 },
	{ "CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT", NULL, 0 },
	{ "AWS_BATCH_JOB_ARRAY_INDEX", NULL, NULL, 0 },
	{ "PARALLEL_SEQ", NULL, NULL, 1 },			/* GNU parallel */
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
		long index, total = count, min = e->base;

		if (!getenv(e->index))
			continue;
		if (env_num(e->index, &index)) {
			snprintf(err, errlen, "--shard auto: %s='%s' is not an index",
				 e->index, getenv(e->index));
			return -1;
		}
		if (e->min && env_num(e->min, &min))
			min = 0;
		if (!count && (!e->count || env_num(e->count, &total))) {
			snprintf(err, errlen, "--shard auto: %s is set but not the number of "
				 "tasks: give it with --shards N", e->index);
			return -1;
		}
		if (index < min || index - min >= total || total < 1) {
			snprintf(err, errlen, "--shard auto: %s=%ld is outside %ld..%ld",
				 e->index, index, min, total - 1 + min);
			return -1;
		}
		*k = (int)(index - min);
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
