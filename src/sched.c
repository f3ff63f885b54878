/*
 * The scheduler.
 *
 * Design.  The main thread owns the plan and all results and is the
 * only thread that prints.  It starts n_workers threads and feeds them
 * job indices through the "todo" queue.  It dispatches one job more
 * than there are workers, so that a worker which finishes takes its
 * next job at once instead of waiting for the main thread to wake up
 * and report; that job is counted against the budget like a running
 * one, and after a stop a worker hands it back unrun.
 *
 * Order.  Jobs start in the `order` given (the caller puts the biggest
 * first, so the last job to finish is a small one and no core idles
 * at the end), or in plan order; they are reported in plan order.
 *
 * Admission.  Before a job starts, the main thread asks for its cost
 * (its estimated peak memory) and starts it only if the costs of the
 * jobs in flight plus its own fit the budget; a job that alone exceeds
 * the budget starts only when nothing else runs.  A running job that
 * learns it needs less than its estimate (sched_lower_cost) says so on
 * the "done" queue, ahead of its finish, and the difference goes back
 * to the budget at once.  The job at the head
 * of the plan that does not fit may be passed by the next jobs within
 * a small window that do, but at most MAX_BYPASS times: after that
 * nothing new starts until it has, so big jobs cannot starve.  A worker pops an index, runs the job, which writes
 * only result[index], and pushes the index onto the "done" queue.  The
 * queues' mutexes order those writes before the main thread reads them.
 *
 * The main thread pops finished indices, marks them and hands every
 * finished job at the head of the plan to ops->done, so results are
 * reported in plan order whatever order they finish in.  Its pops time
 * out every tick so it can notice a signal (and later, draw progress).
 *
 * Shutdown.  When the plan is exhausted, the main thread waits for the
 * jobs in flight, closes the todo queue (each worker's pop then fails
 * and it returns) and joins the workers.  When *stop is set it stops
 * dispatching and gives the jobs in flight GRACE_MS to finish (most
 * notice the stop between outputs); a job still inside an encoder
 * after that is abandoned, its worker detached, and the caller is
 * expected to exit without waiting for it.  Either way the finished
 * jobs left behind an unstarted one are reported too.  -j1 is this same code with one worker.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroup.h"
#include "queue.h"
#include "sched.h"

#define TICK_MS 200
#define WINDOW 32	/* jobs looked at past the head for one that fits */
#define MAX_BYPASS 16	/* times the head may be passed */
#define GRACE_MS 2000	/* after a stop, how long running jobs may take */

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

enum { JOB_NEW, JOB_COSTED, JOB_STARTED };

/* A job may lower its cost more than once (a second pass over it), so
 * a store can meet the main thread's read of the one before. */
typedef _Atomic uint64_t lowered_t;

struct sched_slot {
	struct queue *done;
	lowered_t *lowered;	/* per job, read by the main thread after the pop */
	size_t job;
};

struct worker_arg {
	struct queue *todo, *done;
	const struct sched_ops *ops;
	void *ctx;
	atomic_int *stop;
	lowered_t *lowered;
	int id;
};

/* mark, on the "done" queue, a job handed back unrun, and a running
 * job's lower cost */
#define UNRUN ((size_t)1 << (sizeof(size_t) * 8 - 1))
#define LOWER ((size_t)1 << (sizeof(size_t) * 8 - 2))

void
sched_lower_cost(struct sched_slot *slot, uint64_t cost)
{
	if (!slot)
		return;
	/* the queue's mutex orders this store before the main thread's read */
	atomic_store_explicit(&slot->lowered[slot->job], cost, memory_order_relaxed);
	queue_push(slot->done, slot->job | LOWER);
}

static void *
worker_main(void *p)
{
	struct worker_arg *w = p;
	size_t job;

	while (queue_pop(w->todo, &job, -1) == 0) {
		struct sched_slot slot = { w->done, w->lowered, job };

		if (*w->stop) {
			queue_push(w->done, job | UNRUN);
			continue;
		}
		w->ops->run(w->ctx, job, w->id, &slot);
		queue_push(w->done, job);
	}
	return NULL;
}

/* The next job to start, or n_jobs when none may start now.  `head`
 * is a position in the dispatch order, not a job number. */
static size_t
pick_job(size_t n_jobs, const size_t *order, size_t *head, unsigned *bypassed,
	unsigned char *state, uint64_t *cost, uint64_t used, uint64_t budget,
	size_t in_flight, const struct sched_ops *ops, void *ctx)
{
	size_t p, j, seen = 0;

	while (*head < n_jobs && state[order ? order[*head] : *head] == JOB_STARTED) {
		(*head)++;
		*bypassed = 0;
	}
	for (p = *head; p < n_jobs && seen < WINDOW; p++) {
		j = order ? order[p] : p;
		if (state[j] == JOB_STARTED)
			continue;
		seen++;
		if (state[j] == JOB_NEW) {
			cost[j] = ops->cost ? ops->cost(ctx, j) : 0;
			state[j] = JOB_COSTED;
		}
		if (in_flight == 0 || used + cost[j] <= budget) {
			if (p != *head)
				(*bypassed)++;
			return j;
		}
		if (p == *head && *bypassed >= MAX_BYPASS)
			break;
	}
	return n_jobs;
}

/* Cost the next `ahead` jobs not costed yet, from the head on. */
static void
prefetch_costs(size_t n_jobs, const size_t *order, size_t head, unsigned char *state,
	uint64_t *cost, size_t ahead, const struct sched_ops *ops, void *ctx)
{
	size_t p, j, seen = 0;

	for (p = head; p < n_jobs && seen < ahead; p++) {
		j = order ? order[p] : p;
		if (state[j] == JOB_STARTED)
			continue;
		seen++;
		if (state[j] == JOB_NEW) {
			cost[j] = ops->cost(ctx, j);
			state[j] = JOB_COSTED;
			return;	/* one at a time: a worker may be waiting */
		}
	}
}

long
sched_run(size_t n_jobs, const size_t *order, int n_workers, uint64_t budget,
	const struct sched_ops *ops, void *ctx, atomic_int *stop)
{
	struct queue *todo = NULL, *done = NULL;
	struct worker_arg *args = NULL;
	pthread_t *threads = NULL;
	unsigned char *finished = NULL, *state = NULL;
	uint64_t *cost = NULL, used = 0;
	lowered_t *lowered = NULL;
	size_t head = 0, reported = 0, in_flight = 0, max_in_flight;
	size_t popped = SIZE_MAX;	/* finished, not yet handed on */
	unsigned bypassed = 0;
	int abandoned = 0;
	double stopped_at = 0;	/* ms, CLOCK_MONOTONIC */
	int started = 0, i;
	long ret = -1;

	if (n_workers < 1)
		n_workers = 1;
	if ((size_t)n_workers > n_jobs)
		n_workers = n_jobs ? (int)n_jobs : 1;
	todo = queue_new((size_t)n_workers + 1);
	done = queue_new((size_t)n_workers + 1);
	args = calloc((size_t)n_workers, sizeof(*args));
	threads = calloc((size_t)n_workers, sizeof(*threads));
	finished = calloc(n_jobs ? n_jobs : 1, 1);
	state = calloc(n_jobs ? n_jobs : 1, 1);
	cost = calloc(n_jobs ? n_jobs : 1, sizeof(*cost));
	lowered = calloc(n_jobs ? n_jobs : 1, sizeof(*lowered));
	if (!todo || !done || !args || !threads || !finished || !state || !cost || !lowered)
		goto out;

	for (i = 0; i < n_workers; i++) {
		args[i] = (struct worker_arg){ todo, done, ops, ctx, stop, lowered, i };
		if (pthread_create(&threads[i], NULL, worker_main, &args[i]))
			break;
		started++;
	}
	if (started == 0)
		goto out;
	max_in_flight = (size_t)started + 1;

	for (;;) {
		size_t job;

		while (!*stop && in_flight < max_in_flight) {
			job = pick_job(n_jobs, order, &head, &bypassed, state, cost,
				       used, budget, in_flight, ops, ctx);
			if (job == n_jobs)
				break;
			state[job] = JOB_STARTED;
			if (ops->dispatched)
				ops->dispatched(ctx, job, cost[job] > budget);
			used += cost[job];
			in_flight++;
			queue_push(todo, job);
		}
		/* the job popped last is handed on only now, once its
		 * worker has a new one */
		if (popped != SIZE_MAX) {
			if (ops->finished)
				ops->finished(ctx, popped);
			while (reported < n_jobs && finished[reported])
				ops->done(ctx, reported++);
			popped = SIZE_MAX;
		}
		/* while the workers are busy, read the headers of the jobs next
		 * in line: a worker that frees up gets its next job at once */
		if (!*stop && ops->cost)
			prefetch_costs(n_jobs, order, head, state, cost, (size_t)started,
				       ops, ctx);
		if (in_flight == 0)
			break;
		/* the grace runs on the clock: a pass of this loop can be
		 * far shorter than a tick when jobs finish in a burst */
		if (*stop && !stopped_at)
			stopped_at = mono_ms();
		if (*stop && mono_ms() - stopped_at >= GRACE_MS) {
			abandoned = 1;
			break;
		}
		if (queue_pop(done, &job, TICK_MS) == 0) {
			if (job & LOWER) {
				uint64_t low;

				job &= ~LOWER;
				low = atomic_load_explicit(&lowered[job], memory_order_relaxed);
				if (low < cost[job] && cost[job] <= budget) {
					used -= cost[job] - low;
					cost[job] = low;
				}
			} else if (job & UNRUN) {
				in_flight--;
				used -= cost[job & ~UNRUN];
			} else {
				in_flight--;
				used -= cost[job];
				finished[job] = 1;
				popped = job;
			}
		}
		if (ops->tick)
			ops->tick(ctx);
	}
	/* after a stop, jobs that passed an unstarted one finished too */
	ret = (long)reported;
	for (; reported < n_jobs; reported++)
		if (finished[reported]) {
			ops->done(ctx, reported);
			ret++;
		}
out:
	if (todo)
		queue_close(todo);
	if (abandoned) {
		/* An encoder cannot be interrupted; rather than wait for it,
		 * leave the workers running on their own queues (never
		 * freed) and let the caller exit.  Their temporary files are
		 * in the registry, their results are never read; they may
		 * still lower a cost, so `lowered` stays too. */
		for (i = 0; i < started; i++)
			pthread_detach(threads[i]);
		free(threads);
		free(finished);
		free(state);
		free(cost);
		return ret;
	}
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	queue_free(todo);
	queue_free(done);
	free(args);
	free(threads);
	free(finished);
	free(state);
	free(cost);
	free(lowered);
	return ret;
}

int
sched_cpu_count(void)
{
	cpu_set_t set;
	int n = 1, quota;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	quota = cgroup_cpu_limit(NULL);
	if (quota > 0 && quota < n)
		n = quota;
	return n > 0 ? n : 1;
}
