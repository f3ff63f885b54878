/* Unit tests: shard specs, the spread and stability of shares, and the
 * job-array variables --shard auto reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shard.h"
#include "tap.h"

static void
clear_env(void)
{
	static const char *const vars[] = {
		"JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT",
		"SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP", "CI_NODE_INDEX", "CI_NODE_TOTAL",
		"CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", "BUILDKITE_PARALLEL_JOB",
		"BUILDKITE_PARALLEL_JOB_COUNT", "CLOUD_RUN_TASK_INDEX",
		"CLOUD_RUN_TASK_COUNT", "AWS_BATCH_JOB_ARRAY_INDEX", "PARALLEL_SEQ",
	};
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

int
main(void)
{
	static const char *const bad[] = {
		"", "1", "/4", "1/", "4/4", "5/4", "-1/4", "1/0", "a/b", "1/4x",
		" 1/4", "1/ 4", "1/1000001", "99999999999999999999/4",
	};
	const char *from = NULL;
	char err[256], key[64];
	int k = -1, n = -1, count[8] = { 0 }, i, same = 1;
	size_t b;

	ok(shard_parse("0/1", &k, &n) == 0 && k == 0 && n == 1, "0/1 parses");
	ok(shard_parse("3/4", &k, &n) == 0 && k == 3 && n == 4, "3/4 parses");
	ok(shard_parse("999999/1000000", &k, &n) == 0 && n == 1000000, "up to a million shards");
	for (b = 0; b < sizeof(bad) / sizeof(bad[0]); b++)
		ok(shard_parse(bad[b], &k, &n) == -1, "'%s' is refused", bad[b]);

	/* shares spread evenly, and one key's share never depends on
	 * anything else */
	for (i = 0; i < 8000; i++) {
		snprintf(key, sizeof(key), "photos/%04d/img", i);
		count[shard_of(key, 8)]++;
	}
	for (i = 0; i < 8; i++)
		ok(count[i] > 850 && count[i] < 1150, "share %d of 8 holds %d of 8000", i, count[i]);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "a/b-%d", i);
		same &= shard_of(key, 4) == shard_of(key, 4);
	}
	ok(same, "a key's share is the same every time");
	is_int(shard_of("anything", 1), 0, "one shard takes everything");
	/* a known value, so that a change of hash (which would move every
	 * file between shards of an existing deployment) cannot go unnoticed */
	is_int(shard_of("a/b", 1000), 148, "a/b: share 148 of 1000, as always");
	is_int(shard_of("photos/2024/img", 16), 2, "photos/2024/img: share 2 of 16, as always");

	clear_env();
	ok(shard_from_env(0, &k, &n, &from, err, sizeof(err)) == -1 &&
	   strstr(err, "no job-array index"), "auto without any variable: an error");
	setenv("SLURM_ARRAY_TASK_ID", "7", 1);
	setenv("SLURM_ARRAY_TASK_MIN", "5", 1);
	setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
	ok(shard_from_env(0, &k, &n, &from, err, sizeof(err)) == 0 && k == 2 && n == 4 &&
	   !strcmp(from, "SLURM_ARRAY_TASK_ID"), "Slurm: task 7 of 5..8 is 2/4");
	/* --array=0-7:2 runs 0, 2, 4 and 6 */
	setenv("SLURM_ARRAY_TASK_ID", "6", 1);
	setenv("SLURM_ARRAY_TASK_MIN", "0", 1);
	setenv("SLURM_ARRAY_TASK_STEP", "2", 1);
	ok(shard_from_env(0, &k, &n, &from, err, sizeof(err)) == 0 && k == 3 && n == 4,
	   "Slurm: task 6 of 0..6 in steps of 2 is 3/4");
	setenv("SLURM_ARRAY_TASK_ID", "3", 1);
	ok(shard_from_env(0, &k, &n, &from, err, sizeof(err)) == -1 && strstr(err, "--shard K/N"),
	   "Slurm: task 3 of 0..6 in steps of 2: an error");
	setenv("SLURM_ARRAY_TASK_ID", "8", 1);
	ok(shard_from_env(0, &k, &n, &from, err, sizeof(err)) == -1 &&
	   strstr(err, "outside 0..6 in steps of 2"), "Slurm: task 8 of 0..6 in steps of 2: out of range");
	clear_env();
	setenv("CI_NODE_INDEX", "4", 1);
	setenv("CI_NODE_TOTAL", "4", 1);
	ok(shard_from_env(0, &k, &n, &from, err, sizeof(err)) == 0 && k == 3 && n == 4,
	   "GitLab: node 4 of 4 (from 1) is 3/4");
	setenv("CI_NODE_INDEX", "0", 1);
	ok(shard_from_env(0, &k, &n, &from, err, sizeof(err)) == -1, "GitLab: node 0 is out of range");
	clear_env();
	setenv("JOB_COMPLETION_INDEX", "2", 1);
	ok(shard_from_env(0, &k, &n, &from, err, sizeof(err)) == -1 && strstr(err, "--shards"),
	   "Kubernetes: no count without --shards");
	ok(shard_from_env(3, &k, &n, &from, err, sizeof(err)) == 0 && k == 2 && n == 3,
	   "Kubernetes: index 2 with --shards 3");
	ok(shard_from_env(2, &k, &n, &from, err, sizeof(err)) == -1, "Kubernetes: index 2 of 2 is out of range");
	setenv("JOB_COMPLETION_INDEX", "x", 1);
	ok(shard_from_env(3, &k, &n, &from, err, sizeof(err)) == -1, "a non-numeric index is refused");
	clear_env();
	return done_testing();
}
