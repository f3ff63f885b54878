/*
 * The limits this process runs under, from its cgroups: v2 (the unified
 * hierarchy) or v1 (one hierarchy per controller, as on older
 * Kubernetes nodes and many Slurm clusters), whichever the kernel has
 * mounted.  A limit set on an ancestor group binds too, so each walks up
 * to the top of the hierarchy that is visible and keeps the smallest.
 *
 * `root` is prepended to every path read (/proc/self/..., the mount
 * points): NULL or "" for this system, a directory holding a copy of
 * such files for tests.  Thread-safe; both read a few small files.
 */
#ifndef IMGBAKE_CGROUP_H
#define IMGBAKE_CGROUP_H

#include <stdint.h>

/* The memory limit in bytes (v2 memory.max, v1 memory.limit_in_bytes);
 * 0 when there is none or it cannot be read. */
uint64_t cgroup_memory_limit(const char *root);

/* The CPU quota in CPUs, rounded up (v2 cpu.max, v1 cpu.cfs_quota_us
 * over cpu.cfs_period_us); 0 when there is none or it cannot be read. */
int cgroup_cpu_limit(const char *root);

/* What tells a kill by the out-of-memory killer from any other: the
 * kernel's count of its kills (/proc/vmstat oom_kill, which counts
 * those of a cgroup's limit too), and this boot's id, since the count
 * starts again at each boot.  0, or -1 when either cannot be read. */
struct oom_count {
	uint64_t kills;
	char boot[40];
};
int oom_count_read(const char *root, struct oom_count *c);

#endif
