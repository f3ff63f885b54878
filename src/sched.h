/*
 * The scheduler: N worker threads fed from the plan, results handed
 * back to the main thread in plan order.
 */
#ifndef IMGBAKE_SCHED_H
#define IMGBAKE_SCHED_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct sched_ops {
	/* Run job `job` on worker thread `worker` (0..n_workers-1).  It
	 * must only write its own result slot, never print or exit. */
	void (*run)(void *ctx, size_t job, int worker);
	/* Called on the main thread once per finished job, in plan order. */
	void (*done)(void *ctx, size_t job);
	/* Optional: called on the main thread about every `tick_ms`. */
	void (*tick)(void *ctx);
};

/* Run jobs 0..n_jobs-1 on `n_workers` threads.  Stops dispatching when
 * *stop becomes non-zero, lets the running jobs finish and returns the
 * number of jobs that ran (a prefix of the plan).  -1 if the threads
 * could not be started.  Main thread only. */
long sched_run(size_t n_jobs, int n_workers, const struct sched_ops *ops,
	void *ctx, volatile sig_atomic_t *stop);

/* CPUs this process may use: its affinity mask, lowered by a cgroup v2
 * CPU quota (cpu.max) when one is set.  At least 1. */
int sched_cpu_count(void);

#endif
