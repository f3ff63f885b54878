/*
 * The scheduler.
 *
 * Design.  The main thread owns the plan and all results and is the
 * only thread that prints.  It starts n_workers threads and feeds them
 * job indices, in plan order, through the "todo" queue; it never has
 * more jobs dispatched than there are workers, so a worker is never
 * left holding queued work it cannot start while the main thread could
 * still decide otherwise (this is where a memory budget decides what
 * may start next).  A worker pops an index, runs the job, which writes
 * only result[index], and pushes the index onto the "done" queue.  The
 * queues' mutexes order those writes before the main thread reads them.
 *
 * The main thread pops finished indices, marks them and hands every
 * finished job at the head of the plan to ops->done, so results are
 * reported in plan order whatever order they finish in.  Its pops time
 * out every tick so it can notice a signal (and later, draw progress).
 *
 * Shutdown.  When the plan is exhausted or *stop is set, the main
 * thread stops dispatching, waits for the jobs in flight, closes the
 * todo queue (each worker's pop then fails and it returns) and joins
 * the workers.  -j1 is this same code with one worker.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "sched.h"

#define TICK_MS 200

struct worker_arg {
	struct queue *todo, *done;
	const struct sched_ops *ops;
	void *ctx;
	int id;
};

static void *
worker_main(void *p)
{
	struct worker_arg *w = p;
	size_t job;

	while (queue_pop(w->todo, &job, -1) == 0) {
		w->ops->run(w->ctx, job, w->id);
		queue_push(w->done, job);
	}
	return NULL;
}

long
sched_run(size_t n_jobs, int n_workers, const struct sched_ops *ops,
	void *ctx, volatile sig_atomic_t *stop)
{
	struct queue *todo = NULL, *done = NULL;
	struct worker_arg *args = NULL;
	pthread_t *threads = NULL;
	unsigned char *finished = NULL;
	size_t next = 0, reported = 0, in_flight = 0;
	int started = 0, i;
	long ret = -1;

	if (n_workers < 1)
		n_workers = 1;
	if ((size_t)n_workers > n_jobs)
		n_workers = n_jobs ? (int)n_jobs : 1;
	todo = queue_new((size_t)n_workers);
	done = queue_new((size_t)n_workers);
	args = calloc((size_t)n_workers, sizeof(*args));
	threads = calloc((size_t)n_workers, sizeof(*threads));
	finished = calloc(n_jobs ? n_jobs : 1, 1);
	if (!todo || !done || !args || !threads || !finished)
		goto out;

	for (i = 0; i < n_workers; i++) {
		args[i] = (struct worker_arg){ todo, done, ops, ctx, i };
		if (pthread_create(&threads[i], NULL, worker_main, &args[i]))
			break;
		started++;
	}
	if (started == 0)
		goto out;

	for (;;) {
		size_t job;
		int r;

		while (!*stop && next < n_jobs && in_flight < (size_t)started) {
			queue_push(todo, next++);
			in_flight++;
		}
		if (in_flight == 0)
			break;
		r = queue_pop(done, &job, TICK_MS);
		if (r == 0) {
			in_flight--;
			finished[job] = 1;
			while (reported < n_jobs && finished[reported])
				ops->done(ctx, reported++);
		}
		if (ops->tick)
			ops->tick(ctx);
	}
	ret = (long)reported;
out:
	if (todo)
		queue_close(todo);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	queue_free(todo);
	queue_free(done);
	free(args);
	free(threads);
	free(finished);
	return ret;
}

/* The cgroup v2 quota of this process, in CPUs rounded up; 0 if none. */
static int
cgroup_cpu_quota(void)
{
	char path[512], line[256], quota[32];
	long long q, period;
	FILE *f;
	int n = 0;

	/* "0::/some/group" names our cgroup v2 */
	if (!(f = fopen("/proc/self/cgroup", "r")))
		return 0;
	path[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cpu.max",
				 line + 3);
		}
	fclose(f);
	if (!path[0] || !(f = fopen(path, "r")))
		return 0;
	if (fscanf(f, "%31s %lld", quota, &period) == 2 &&
	    strcmp(quota, "max") && period > 0) {
		q = atoll(quota);
		n = (int)((q + period - 1) / period);
	}
	fclose(f);
	return n;
}

int
sched_cpu_count(void)
{
	cpu_set_t set;
	int n = 1, quota;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	quota = cgroup_cpu_quota();
	if (quota > 0 && quota < n)
		n = quota;
	return n > 0 ? n : 1;
}
