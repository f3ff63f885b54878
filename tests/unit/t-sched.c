/* Unit tests: the scheduler's order, budget and stop, with fake jobs. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "sched.h"
#include "tap.h"

#define N_JOBS 200

struct fake {
	uint64_t cost[N_JOBS];
	int runs[N_JOBS];		/* written by the workers */
	size_t reported[N_JOBS];
	size_t n_reported;
	int costed[N_JOBS];
	pthread_mutex_t lock;
	uint64_t running, peak;		/* cost of the jobs running now */
	int stop_after;			/* the job start that sets *stop */
	int n_run, after_stop;		/* starts; starts once *stop was set */
	atomic_int *stop;
	int bad_worker;
	uint64_t lower_to[N_JOBS];	/* a job lowers its cost to this as it starts */
	int lowering;			/* a job that lowers is running */
	int beside;			/* starts while one was */
};

static void
nap(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

/* Set *stop while the other worker is inside a job, so that it meets
 * the stop between two jobs, when the main thread has already queued
 * the next one; then give it the time to. */
static void
stop_beside(struct fake *f, size_t job)
{
	int busy = 0, i;

	nap(2000);	/* for the main thread to refill the queue */
	for (i = 0; i < 1000 && !busy; i++) {
		pthread_mutex_lock(&f->lock);
		busy = f->running > f->cost[job];
		pthread_mutex_unlock(&f->lock);
		if (!busy)
			nap(100);
	}
	atomic_store(f->stop, 1);
	nap(20000);
}

static void
fake_run(void *ctx, size_t job, int worker, struct sched_slot *slot)
{
	struct fake *f = ctx;
	uint64_t held = f->cost[job];
	int stopper;

	pthread_mutex_lock(&f->lock);
	if (worker < 0 || worker > 3)
		f->bad_worker = 1;
	if (atomic_load(f->stop))
		f->after_stop++;
	f->beside += f->lowering;
	f->running += held;
	if (f->running > f->peak)
		f->peak = f->running;
	stopper = f->stop_after && ++f->n_run == f->stop_after;
	pthread_mutex_unlock(&f->lock);
	if (stopper)
		stop_beside(f, job);
	if (f->lower_to[job]) {
		/* held less before the scheduler hears of it */
		pthread_mutex_lock(&f->lock);
		f->running -= held - f->lower_to[job];
		held = f->lower_to[job];
		f->lowering = 1;
		pthread_mutex_unlock(&f->lock);
		sched_lower_cost(slot, held);
		nap(50000);
		pthread_mutex_lock(&f->lock);
		f->lowering = 0;
		pthread_mutex_unlock(&f->lock);
	}
	nap(100 + job % 7 * 50);
	pthread_mutex_lock(&f->lock);
	f->running -= held;
	f->runs[job]++;
	pthread_mutex_unlock(&f->lock);
}

static void
fake_done(void *ctx, size_t job)
{
	struct fake *f = ctx;

	f->reported[f->n_reported++] = job;
}

static uint64_t
fake_cost(void *ctx, size_t job)
{
	struct fake *f = ctx;

	f->costed[job]++;
	return f->cost[job];
}

static const struct sched_ops ops = { .run = fake_run, .done = fake_done, .cost = fake_cost };

static struct fake *
fake_new(atomic_int *stop)
{
	struct fake *f = calloc(1, sizeof(*f));
	size_t i;

	pthread_mutex_init(&f->lock, NULL);
	f->stop = stop;
	for (i = 0; i < N_JOBS; i++)
		f->cost[i] = 10 + i % 5 * 10;	/* 10..50 */
	return f;
}

static void
fake_free(struct fake *f)
{
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* every job ran once, was costed once, and was reported in plan order */
static int
all_once_in_order(const struct fake *f)
{
	size_t i;

	if (f->n_reported != N_JOBS)
		return 0;
	for (i = 0; i < N_JOBS; i++)
		if (f->runs[i] != 1 || f->costed[i] != 1 || f->reported[i] != i)
			return 0;
	return 1;
}

/* Jobs under a budget of 100 where job 0, costing `cost`, lowers its
 * cost to `lower_to` as it starts. */
static struct fake *
lowering(atomic_int *stop, uint64_t cost, uint64_t lower_to, const char *what)
{
	struct fake *f = fake_new(stop);

	f->cost[0] = cost;
	f->lower_to[0] = lower_to;
	is_int(sched_run(N_JOBS, NULL, 2, 100, &ops, f, stop), N_JOBS,
	       "%s: every job reported", what);
	return f;
}

int
main(void)
{
	atomic_int stop = 0;
	struct fake *f;
	size_t order[N_JOBS], i, ran;
	int workers, ok_runs;

	for (workers = 1; workers <= 4; workers *= 2) {
		f = fake_new(&stop);
		is_int(sched_run(N_JOBS, NULL, workers, UINT64_MAX, &ops, f, &stop), N_JOBS,
		       "-j%d: every job reported", workers);
		ok(all_once_in_order(f), "-j%d: each ran once, costed once, reported in plan order",
		   workers);
		ok(!f->bad_worker, "-j%d: worker numbers in range", workers);
		fake_free(f);
	}

	/* in reverse: started that way, still reported in plan order */
	for (i = 0; i < N_JOBS; i++)
		order[i] = N_JOBS - 1 - i;
	f = fake_new(&stop);
	is_int(sched_run(N_JOBS, order, 2, UINT64_MAX, &ops, f, &stop), N_JOBS,
	       "given an order: every job reported");
	ok(all_once_in_order(f), "given an order: reported in plan order all the same");
	fake_free(f);

	/* a budget of 100 fits two of the costliest, never more; the
	 * job queued ahead for a worker counts against it too */
	f = fake_new(&stop);
	is_int(sched_run(N_JOBS, NULL, 4, 100, &ops, f, &stop), N_JOBS,
	       "under a budget: every job reported");
	ok(f->peak <= 100, "the jobs running at once never cost more than the budget");
	ok(f->peak > 50, "but more than one ran at once");
	fake_free(f);

	/* a job over the budget alone still runs, by itself */
	f = fake_new(&stop);
	f->cost[5] = 1000;
	is_int(sched_run(N_JOBS, NULL, 2, 100, &ops, f, &stop), N_JOBS,
	       "a job over the budget: every job reported");
	ok(f->runs[5] == 1, "the job over the budget ran");
	ok(f->peak == 1000, "and nothing ran beside it");
	fake_free(f);

	/* a job that lowers its cost once started: the others, which
	 * did not fit beside its estimate, start beside it then */
	f = lowering(&stop, 95, 40, "a job lowers its cost");
	ok(f->beside > 0, "jobs started beside it once it had (%d)", f->beside);
	ok(f->peak <= 100, "and never over the budget (%llu)", (unsigned long long)f->peak);
	fake_free(f);

	/* ... but not one that runs alone, over the budget */
	f = lowering(&stop, 1000, 10, "a job over the budget lowers its cost");
	is_int(f->beside, 0, "nothing started beside it all the same");
	fake_free(f);

	/* a stop: nothing starts after it is seen, not even the job
	 * queued for a worker meanwhile, and what ran is reported */
	f = fake_new(&stop);
	f->stop_after = 20;
	ran = (size_t)sched_run(N_JOBS, NULL, 2, UINT64_MAX, &ops, f, &stop);
	ok_runs = 0;
	for (i = 0; i < N_JOBS; i++)
		ok_runs += f->runs[i];
	is_int(f->after_stop, 0, "no job starts once the stop is set");
	ok(ok_runs >= 20 && ok_runs < N_JOBS, "the batch ended early (%d ran)", ok_runs);
	is_int(ran, ok_runs, "every job that ran is reported, no other");
	fake_free(f);

	return done_testing();
}
