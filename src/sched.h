/*
 * The scheduler: N worker threads fed from the plan, results handed
 * back to the main thread in plan order.
 */
#ifndef IMGBAKE_SCHED_H
#define IMGBAKE_SCHED_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* A running job's handle on its place in the budget. */
struct sched_slot;

struct sched_ops {
	/* Run job `job` on worker thread `worker` (0..n_workers-1).  It
	 * must only write its own result slot, never print or exit.  It
	 * may hand `slot` to sched_lower_cost. */
	void (*run)(void *ctx, size_t job, int worker, struct sched_slot *slot);
	/* Called on the main thread once per finished job, in plan order. */
	void (*done)(void *ctx, size_t job);
	/* Optional: called on the main thread as soon as a job has finished,
	 * in the order they finish (done comes later, in plan order). */
	void (*finished)(void *ctx, size_t job);
	/* Optional: called on the main thread about every `tick_ms`. */
	void (*tick)(void *ctx);
	/* Optional, main thread: the memory job `job` will need at its
	 * peak, in bytes.  Called at most once per job, shortly before it
	 * may start. */
	uint64_t (*cost)(void *ctx, size_t job);
	/* Optional, main thread: job is handed to a worker, with its cost
	 * over the budget when it runs alone: then nothing else runs. */
	void (*dispatched)(void *ctx, size_t job, int alone);
};

/* Run jobs 0..n_jobs-1 on at most `n_workers` threads, and only as
 * many at once as the sum of their costs fits `budget` (bytes); a job
 * that alone exceeds it runs alone.  Jobs start in the sequence `order`
 * (a permutation of the job numbers; NULL: plan order), except that a
 * job which does not fit yet may be passed by smaller ones
 * behind it, a bounded number of times.  Stops dispatching when
 * *stop becomes non-zero and gives the running jobs a short grace
 * period; jobs still running after it are abandoned, their worker
 * threads still running, so after a stop the caller must exit without
 * touching libvips or freeing the jobs' data.  Returns the number of
 * jobs reported through ops->done.  -1 if the threads
 * could not be started.  Main thread only. */
long sched_run(size_t n_jobs, const size_t *order, int n_workers, uint64_t budget,
	const struct sched_ops *ops, void *ctx, atomic_int *stop);

/* Worker thread, inside ops->run: the job now knows it will need no
 * more than `cost` bytes from here on, less than its estimate; the
 * budget it frees lets other jobs start beside it.  Ignored when it is
 * not lower, or when the job runs alone, over the budget. */
void sched_lower_cost(struct sched_slot *slot, uint64_t cost);

/* CPUs this process may use: its affinity mask, lowered by a cgroup v2
 * CPU quota (cpu.max) when one is set.  At least 1. */
int sched_cpu_count(void);

#endif
