/*
 * imgbake: convert a tree of images ahead of time, with bounded memory.
 *
 * The data flows one way, one file pair per stage:
 *
 *   options  the command line, one struct options handed down
 *   inputs   SOURCE arguments and lists (-T, -, -0)
 *   walk     directories, recursively, in bytewise order
 *   plan     every job before any pixel: type (sniff), names, collisions
 *   sched    worker threads over queue, admitted within the memory
 *            budget (membudget: the per-job model), results back in
 *            plan order
 *   convert  one source through libvips, each output through
 *   output   temp file + rename, and the temp-file registry for signals
 *   manifest the JSON record of the run, read back by the next one to
 *            skip what is up to date (plan) and to prune (prune);
 *            report: the terminal
 *
 * This file only wires the stages and turns the outcome into an exit
 * status.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vips/vips.h>

#include "alloc.h"
#include "convert.h"
#include "dedupe.h"
#include "htmlreport.h"
#include "inputs.h"
#include "manifest.h"
#include "membudget.h"
#include "options.h"
#include "output.h"
#include "paths.h"
#include "plan.h"
#include "progress.h"
#include "prune.h"
#include "report.h"
#include "sched.h"
#include "sniff.h"
#include "walk.h"

/* Set by the SIGINT/SIGTERM/SIGHUP handler, read by the scheduler and the
 * workers: the one piece of state a signal handler may touch.  A
 * lock-free atomic rather than a volatile sig_atomic_t, which is safe
 * for a handler but not between threads. */
static atomic_int stop_signal;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "a signal handler may store only to a lock-free atomic");
/* ... or set by the worker whose job found the output device full
 * (and by the main thread, should it see the result first). */
#define STOP_DISK_FULL (-1)
/* The journal while jobs run, for the handler to say a second signal
 * stopped them; -1 otherwise. */
static atomic_int journal_for_signal = -1;
/* now() at the last tick of the scheduler in nanoseconds, 0 before the
 * first: read by the SIGCONT handler. */
static atomic_llong last_tick_ns;
/* a gap since it shorter than this, a few ticks, is no stop */
#define PAUSE_MIN_NS 500000000LL
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the SIGCONT handler adds to a long long");

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A second signal this soon after the first is the same stop sent
 * twice: timeout(1) signals its child, then its whole process group. */
#define SIGNAL_REPEAT_SEC 0.25

static void
on_signal(int sig)
{
	/* when the first came, in ns, or 0: atomic, as the handler may
	 * run on any thread, two signals on two at once */
	static atomic_llong first_ns;
	int saved_errno = errno;	/* unlink(2) below may change it */
	/* clock_gettime(2) is async-signal-safe */
	long long t = (long long)(now() * 1e9), first = atomic_load(&first_ns);
	int none = 0;

	if (first > 0) {
		if (t - first < (long long)(SIGNAL_REPEAT_SEC * 1e9)) {
			errno = saved_errno;
			return;
		}
		/* a second ^C: stop now, the default way, leaving no
		 * temporary file behind, and a journal that says so */
		int fd = journal_for_signal;

		if (fd >= 0 && write(fd, MANIFEST_JOURNAL_STOPPED,
				     sizeof(MANIFEST_JOURNAL_STOPPED) - 1) < 0) {
			/* then the next run blames what ran: no worse */
		}
		output_remove_temps(1);
		signal(sig, SIG_DFL);
		raise(sig);	/* delivered when the handler returns */
		errno = saved_errno;
		return;
	}
	atomic_store(&first_ns, t);
	/* a run stopping as the disk filled keeps that status (2) */
	atomic_compare_exchange_strong(&stop_signal, &none, sig);
	output_remove_temps(0);
	errno = saved_errno;
}

/* Continued after a stop (^Z, SIGSTOP): the time since the last tick,
 * which comes every tenth of a second or so while jobs run, was spent
 * stopped, and counts toward no --timeout.  Workers may look at their
 * deadline a moment before this runs: the stop has to outlast their
 * time left by that much. */
static void
on_cont(int sig)
{
	long long t = (long long)(now() * 1e9), last = atomic_exchange(&last_tick_ns, 0);

	(void)sig;
	/* a SIGCONT with no stop before it (timeout(1) sends one after its
	 * signal) finds the last tick a moment ago, and adds nothing */
	if (last > 0 && t - last > PAUSE_MIN_NS)
		convert_add_pause((double)(t - last) / 1e9);
	if (last > 0)
		atomic_store(&last_tick_ns, t);
}

/* --json, --print0, -n, --help and --version write on stdout: a full
 * disk or a failing device there is a fatal error, not a success.  A
 * pipe whose reader stopped reading (into head(1)) is not: the batch
 * was done.  Returns the exit status to use. */
static int
stdout_check(int ret)
{
	struct stat st;
	int failed = fflush(stdout) != 0, e = errno;

	if ((!failed && !ferror(stdout)) ||
	    (!fstat(STDOUT_FILENO, &st) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))))
		return ret;
	report_error("cannot write to standard output: %s",
		     failed ? strerror(e) : "write error");
	return ret == EXIT_SOME_FAILED || ret == EXIT_ALL_DONE ? EXIT_USAGE : ret;
}

/* SIGINT, SIGTERM and SIGHUP (the terminal closed under a run started
 * from it) stop the run; one the run was started with ignored (nohup,
 * a background job of a script) stays ignored. */
static void
install_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa, old;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* one handler at a time: it reads and sets what the last set */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!sigaction(sigs[i], NULL, &old) && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	/* a stop (^Z, SIGSTOP) does not count toward --timeout */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_cont;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCONT, &sa, NULL);
}

struct run {
	const struct options *o;
	const struct plan *plan;
	struct result *results;
	uint64_t *estimate;		/* bytes, per job, set by job_cost */
	unsigned char *reported;	/* per job: went through job_done */
	unsigned char *retry;		/* per job: a duplicate to convert itself */
	unsigned char *alone;		/* per job: marked in the journal as alone */
	size_t n_retry;
	int journal;			/* fd of the resume journal */
	struct progress progress;
	struct summary summary;
};

static void
run_job(void *ctx, size_t i, int worker, struct sched_slot *slot)
{
	struct run *r = ctx;

	/* duplicates wait for the job they copy: see job_done */
	if (r->results[i].status == JOB_PENDING &&
	    (r->plan->jobs[i].dup_of < 0 || r->retry[i]))
		convert_job(r->o, r->plan, &r->plan->jobs[i], &r->results[i], worker,
			    r->estimate[i], slot, &stop_signal);
	/* a full disk stops the run here, before this worker takes the
	 * job already handed to it; the main thread says so (stop_if_full) */
	if (r->results[i].disk_full) {
		int none = 0;

		atomic_compare_exchange_strong(&stop_signal, &none, STOP_DISK_FULL);
	}
}

/* Claim the names of the outputs job j makes of a source width wide,
 * before it starts.  A name made from the source's own width (one
 * narrower than every -w) may be another source's: the plan could not
 * know it, so the source claimed it first, in dispatch order, keeps it
 * and this job fails, here, the same way in every run, giving up the
 * names it claimed here (not those its source keeps: another job of
 * the same source may hold them).  Nothing when the job is no longer
 * pending. */
static void
claim_outputs(const struct options *o, const struct job *j, int width,
	struct result *res)
{
	size_t max = (size_t)(o->n_widths + 1) * (size_t)o->n_formats, n_fresh = 0, k;
	int *widths = malloc(sizeof(int) * (size_t)(o->n_widths + 1));
	char **fresh = calloc(max, sizeof(*fresh));
	int n, name_width, w, f, taken = 0, is_new;
	char *rel = NULL;

	if (!widths || !fresh || res->status != JOB_PENDING) {
		free(widths);
		free(fresh);
		return;		/* the job claims them as it writes */
	}
	n = plan_widths(o, width, widths, &name_width);
	for (w = 0; w < n && !taken; w++)
		for (f = 0; f < o->n_formats && !taken; f++) {
			rel = plan_output_path(o, j, o->formats[f],
					       !o->n_widths ? 0 : name_width ? name_width : widths[w]);
			taken = rel && output_claim(rel, plan_name_owner(j), &is_new) > 0;
			if (rel && !taken && is_new)
				fresh[n_fresh++] = rel;
			else if (!taken)
				free(rel);
		}
	for (k = 0; k < n_fresh; k++) {
		if (taken)
			output_unclaim(fresh[k]);
		free(fresh[k]);
	}
	if (taken) {
		res->status = JOB_FAILED;
		res->reason = REASON_COLLISION;
		if (asprintf(&res->error, "name: another source also writes '%s'", rel) < 0)
			res->error = NULL;
		free(rel);
	}
	free(fresh);
	free(widths);
}

/* ... for job i, width wide, and its identical copies, which copy its
 * outputs under names of their own: each claims as its primary is read,
 * so that whether a copy keeps a name does not hang on when it is
 * copied. */
static void
claim_with_copies(const struct options *o, const struct plan *p,
	struct result *results, size_t i, int width)
{
	long k;

	if (!options_names_late(o))
		return;
	claim_outputs(o, &p->jobs[i], width, &results[i]);
	for (k = p->jobs[i].first_copy; k >= 0; k = p->jobs[k].next_copy)
		claim_outputs(o, &p->jobs[k], width, &results[k]);
}

/* Before any job starts: what a source keeps is its own, as what the
 * others write is theirs.  An up-to-date source keeps its outputs (and
 * its copies claim theirs), and so does one refused before it was read
 * (over --max-file-size, say), which keeps what it had.  0, or -1 when
 * out of memory. */
static int
claim_kept(const struct options *o, const struct plan *p, struct result *results)
{
	size_t i, k;

	if (!options_names_late(o))
		return 0;
	/* first every name kept, then what copies would take */
	for (i = 0; i < p->n; i++) {
		const struct job *j = &p->jobs[i];
		const void *owner = plan_name_owner(j);

		if (j->pre_status == JOB_UP_TO_DATE) {
			for (k = 0; k < j->n_reuse; k++)
				if (output_claim(j->reuse[k].path, owner, NULL) < 0)
					return -1;
		} else if (j->pre_status == JOB_FAILED && j->prev &&
			   j->pre_reason != REASON_COLLISION) {
			for (k = 0; k < j->prev->n_outputs; k++)
				if (output_claim(j->prev->outputs[k].path, owner, NULL) < 0)
					return -1;
		}
	}
	for (i = 0; i < p->n; i++)
		if (p->jobs[i].pre_status == JOB_UP_TO_DATE)
			claim_with_copies(o, p, results, i, p->jobs[i].width);
	return 0;
}

/* Admission: read the header, estimate the peak, claim the outputs.  A
 * header that cannot be read costs nothing here; the job then fails
 * fast. */
static uint64_t
job_cost(void *ctx, size_t i)
{
	struct run *r = ctx;
	const struct job *j = &r->plan->jobs[i];
	struct result probe;

	if (r->results[i].status != JOB_PENDING || (j->dup_of >= 0 && !r->retry[i]))
		return 0;
	r->estimate[i] = convert_probe(r->o, j, &probe);
	/* one refused as its header is read (over --max-pixels) writes
	 * nothing: it claims nothing */
	if (probe.width && probe.status != JOB_FAILED && probe.status != JOB_SKIPPED &&
	    !r->retry[i])
		claim_with_copies(r->o, r->plan, r->results, i, probe.width);
	if (r->results[i].status != JOB_PENDING)
		r->estimate[i] = 0;	/* it will not start */
	result_release(&probe);
	return r->estimate[i];
}

/* --print0: the outputs this run wrote (not those it kept). */
static void
print_written(const struct options *o, const struct job *j, const struct result *res)
{
	size_t k, m;

	if (res->status != JOB_CONVERTED)
		return;
	for (k = 0; k < res->n_outputs; k++) {
		const char *path = res->outputs[k].path;

		for (m = 0; m < j->n_reuse && strcmp(j->reuse[m].path, path); m++)
			;
		if (m < j->n_reuse)
			continue;
		fputs(o->output_dir, stdout);
		if (o->output_dir[strlen(o->output_dir) - 1] != '/')
			putchar('/');
		fputs(path, stdout);
		putchar('\0');
	}
	fflush(stdout);
}

/* A job just finished (in any order): progress counts it now, and what
 * it converted goes into the journal now, so that a run killed at any
 * moment leaves every finished source for the next run to resume from,
 * not only those before the first unfinished one in the plan.  The
 * copies of a duplicate are made, and journaled, in job_done. */
/* A job's output found the disk or the quota full: every output after
 * it would fail the same way, so no other job starts. */
static void
stop_if_full(const struct result *res)
{
	static int said;
	int none = 0;

	if (!res->disk_full || said)
		return;
	/* the worker set it, unless a signal came first */
	atomic_compare_exchange_strong(&stop_signal, &none, STOP_DISK_FULL);
	if (stop_signal == STOP_DISK_FULL) {
		said = 1;
		report_error("the output device is full: stopping");
	}
}

/* A job that runs alone, its estimate over the budget, is marked in
 * the journal as it starts and as it ends: should the run be killed
 * while it runs (the out-of-memory killer, most likely), the next run
 * knows which it was (see plan_finish). */
static void
job_dispatched(void *ctx, size_t i, int alone)
{
	struct run *r = ctx;
	char path[1024];

	if (alone && r->o->verbose)
		report_error("'%s' runs alone: its estimate, %.0f MB, is over the memory "
			     "budget, %.0f MB", path_quote(r->plan->jobs[i].src_path, path,
							   sizeof(path)),
			     r->estimate[i] / 1e6, r->o->memory_budget / 1e6);
	if (alone && r->journal >= 0) {
		r->alone[i] = 1;
		manifest_journal_mark(r->journal, &r->plan->jobs[i], 1, r->o->memory_budget);
	}
}

static void
mark_ended(struct run *r, size_t i)
{
	if (r->alone[i]) {
		r->alone[i] = 0;
		manifest_journal_mark(r->journal, &r->plan->jobs[i], 0, 0);
	}
}

static void
job_finished(void *ctx, size_t i)
{
	struct run *r = ctx;

	stop_if_full(&r->results[i]);
	mark_ended(r, i);
	if (r->plan->jobs[i].dup_of >= 0)
		return;
	progress_add(&r->progress, &r->plan->jobs[i], &r->results[i]);
	if (r->results[i].status == JOB_CONVERTED && r->journal >= 0)
		manifest_journal_append(r->journal, &r->plan->jobs[i], &r->results[i]);
}

static void
job_tick(void *ctx)
{
	struct run *r = ctx;
	double t = now();

	atomic_store(&last_tick_ns, (long long)(t * 1e9));
	progress_tick(&r->progress, t);
}

/* An output this job wrote that an earlier run made of another source,
 * which this run keeps but does not convert: one line, once written,
 * unless -q. */
static void
report_takeover(const struct options *o, const struct job *j)
{
	char a[1024], b[1024], c[1024];

	if (j->took_from && !o->quiet)
		report_error("warning: '%s' took over '%s', which an earlier run made of '%s'",
			     path_quote(j->src_path, a, sizeof(a)),
			     path_quote(j->took_output, b, sizeof(b)),
			     path_quote(j->took_from, c, sizeof(c)));
}

static void
job_done(void *ctx, size_t i)
{
	struct run *r = ctx;
	const struct job *j = &r->plan->jobs[i];
	struct result *res = &r->results[i];

	/* Jobs are reported in plan order, so the job a duplicate copies,
	 * earlier in the plan, has finished: copy its outputs here. */
	if (j->dup_of >= 0 && res->status == JOB_PENDING) {
		if (stop_signal)
			return;
		/* what failed was the copy's own file or output, not the
		 * content they share: this one is converted by itself, in
		 * run_retries, and reported then */
		if (dedupe_failed_alone(&r->results[j->dup_of])) {
			r->retry[i] = 1;
			r->n_retry++;
			return;
		}
		dedupe_copy(r->o, j, &r->plan->jobs[j->dup_of], &r->results[j->dup_of],
			    res, OUTPUT_MAX_SLOTS - 1);
	}
	if (res->reason == REASON_INTERRUPTED)
		return;
	r->reported[i] = 1;
	stop_if_full(res);	/* a duplicate's copies, made above */
	/* a duplicate's copies survive a kill too (job_finished for the rest) */
	if (j->dup_of >= 0 && res->status == JOB_CONVERTED && r->journal >= 0)
		manifest_journal_append(r->journal, j, res);
	summary_add(&r->summary, &r->plan->jobs[i], &r->results[i]);
	report_result(r->o, &r->plan->jobs[i], &r->results[i], r->estimate[i]);
	if (res->status == JOB_CONVERTED)
		report_takeover(r->o, j);
	/* copies of a duplicate are counted here, once they are made */
	if (j->dup_of >= 0)
		progress_add(&r->progress, j, res);
	if (r->o->json)
		manifest_print_source(stdout, j, res);
	if (r->o->print0)
		print_written(r->o, j, res);
}

/* The duplicates to convert by themselves (see job_done), as a run of
 * their own: job k of it is plan job map[k]. */
struct retries {
	struct run *r;
	size_t *map;
};

static void
retry_run(void *ctx, size_t k, int worker, struct sched_slot *slot)
{
	struct retries *t = ctx;

	run_job(t->r, t->map[k], worker, slot);
}

static void
retry_done(void *ctx, size_t k)
{
	struct retries *t = ctx;

	job_done(t->r, t->map[k]);
}

static void
retry_tick(void *ctx)
{
	job_tick(((struct retries *)ctx)->r);
}

static uint64_t
retry_cost(void *ctx, size_t k)
{
	struct retries *t = ctx;

	return job_cost(t->r, t->map[k]);
}

static void
retry_dispatched(void *ctx, size_t k, int alone)
{
	struct retries *t = ctx;

	job_dispatched(t->r, t->map[k], alone);
}

static void
retry_finished(void *ctx, size_t k)
{
	struct retries *t = ctx;

	mark_ended(t->r, t->map[k]);
}

/* The number of jobs reported, or -1 (out of memory, no threads). */
static long
run_retries(struct run *r)
{
	struct retries t = { r, malloc(r->n_retry * sizeof(size_t)) };
	size_t i, n = 0;
	long ret;

	if (!t.map)
		return -1;
	for (i = 0; i < r->plan->n; i++)
		if (r->retry[i])
			t.map[n++] = i;
	ret = sched_run(n, NULL, r->o->jobs, r->o->memory_budget,
			&(struct sched_ops){ .run = retry_run, .done = retry_done,
					     .finished = retry_finished, .tick = retry_tick,
					     .cost = retry_cost, .dispatched = retry_dispatched },
			&t, &stop_signal);
	free(t.map);
	return ret;
}

/* The order jobs start in: what needs no work first (skipped, up to
 * date, copies of a duplicate), then the biggest sources first, so
 * that the batch ends on small jobs and no core idles while one big
 * image finishes alone.  File size stands for the work: the pixels are
 * not known before each header is read. */
struct work_key {
	int work;
	off_t bytes;
	size_t job;
};

static int
cmp_work(const void *a, const void *b)
{
	const struct work_key *x = a, *y = b;

	if (x->work != y->work)
		return x->work - y->work;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->job < y->job ? -1 : 1;
}

static size_t *
dispatch_order(const struct plan *p)
{
	struct work_key *keys = malloc((p->n ? p->n : 1) * sizeof(*keys));
	size_t *order = malloc((p->n ? p->n : 1) * sizeof(*order));
	size_t i;

	if (!keys || !order) {
		free(keys);
		free(order);
		return NULL;
	}
	for (i = 0; i < p->n; i++) {
		const struct job *j = &p->jobs[i];

		keys[i] = (struct work_key){
			j->pre_status == JOB_PENDING && j->dup_of < 0, j->bytes, i
		};
	}
	if (p->n)
		qsort(keys, p->n, sizeof(*keys), cmp_work);
	for (i = 0; i < p->n; i++)
		order[i] = keys[i].job;
	free(keys);
	return order;
}

/* The process's high-water RSS, in bytes. */
static uint64_t
peak_rss(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (uint64_t)ru.ru_maxrss * 1024;
}

/* An up-to-date source's result: what the last run recorded. */
static int
result_reuse(struct result *res, const struct job *j)
{
	size_t k;

	res->width = j->width;
	res->height = j->height;
	memcpy(res->hash, j->hash, sizeof(res->hash));
	if (j->prev && j->prev->warning && !(res->warning = strdup(j->prev->warning)))
		return -1;
	if (!(res->outputs = calloc(j->n_reuse + 1, sizeof(*res->outputs))))
		return -1;
	for (k = 0; k < j->n_reuse; k++) {
		res->outputs[k] = j->reuse[k];
		if (!(res->outputs[k].path = strdup(j->reuse[k].path)))
			return -1;
		res->n_outputs++;
		res->bytes_out += j->reuse[k].bytes;
	}
	return 0;
}

/* Whether --prune may delete this run.  A source tree that could not be
 * read in full is no proof that what it held is gone (an unmounted
 * share, a typo, a permission): say so, and keep everything. */
static int
may_prune(const struct options *o, const struct plan *p)
{
	if (!o->prune)
		return 0;
	if (p->incomplete)
		report_error("not pruning: part of the source tree could not be read");
	return !p->incomplete;
}

/* -n: the outputs each source would get that it does not have yet
 * (ended by NULs with --print0), then the counts.  Reads headers (to
 * drop the widths a source is too small for), never pixels; writes
 * nothing. */
static int
print_plan(const struct options *o, struct plan *p,
	const struct prev_manifest *pm)
{
	int *widths = malloc(sizeof(int) * (size_t)(o->n_widths + 1));
	struct result *res = calloc(p->n ? p->n : 1, sizeof(*res));
	unsigned char *all = malloc(p->n ? p->n : 1);
	size_t convert = 0, up_to_date = 0, skipped = 0, failed = 0, i, k, n_stale = 0;
	struct stale *stale = NULL;
	size_t *order = NULL;
	int n, name_width, f, w, ret = -1;

	if (!widths || !res || !all)
		goto out;
	memset(all, 1, p->n ? p->n : 1);
	for (i = 0; i < p->n; i++) {
		const struct job *j = &p->jobs[i];
		struct result *r = &res[i];

		if (j->pre_status == JOB_PENDING) {
			convert_probe(o, j, r);
			if (r->status != JOB_FAILED && r->status != JOB_SKIPPED)
				r->status = JOB_PENDING;
		} else {
			r->status = j->pre_status;
			r->reason = j->pre_reason;
			r->error = j->pre_error ? strdup(j->pre_error) : NULL;
			r->width = j->width;
		}
	}
	/* names claimed as a run claims them, in its order */
	if (claim_kept(o, p, res) || !(order = dispatch_order(p)))
		goto out;
	for (k = 0; k < p->n; k++)
		if (p->jobs[order[k]].dup_of < 0 && res[order[k]].status == JOB_PENDING)
			claim_with_copies(o, p, res, order[k], res[order[k]].width);
	for (i = 0; i < p->n; i++) {
		const struct job *j = &p->jobs[i];
		struct result *r = &res[i];

		if (r->status == JOB_FAILED || r->status == JOB_SKIPPED) {
			failed += r->status == JOB_FAILED;
			skipped += r->status == JOB_SKIPPED;
			report_result(o, j, r, 0);
			continue;
		}
		up_to_date += r->status == JOB_UP_TO_DATE;
		convert += r->status == JOB_PENDING;
		n = plan_widths(o, r->width, widths, &name_width);
		if (!(r->outputs = calloc((size_t)(n * o->n_formats), sizeof(*r->outputs))))
			goto out;
		for (w = n - 1; w >= 0; w--)
			for (f = 0; f < o->n_formats; f++) {
				int name_w = !o->n_widths ? 0 : name_width ? name_width : widths[w];
				char *rel = plan_output_path(o, j, o->formats[f], name_w);
				char *full = rel ? path_join(o->output_dir, rel) : NULL;
				int reused = 0;

				for (k = 0; rel && k < j->n_reuse; k++)
					reused |= !strcmp(j->reuse[k].path, rel);
				if (full && !reused)
					printf("%s%c", full, o->print0 ? '\0' : '\n');
				if (rel)
					r->outputs[r->n_outputs++].path = rel;
				free(full);
			}
	}
	fflush(stdout);
	if (prune_find(pm, p, res, all, &stale, &n_stale))
		goto out;
	prune_apply(o, stale, n_stale, 0);
	for (i = k = 0; i < n_stale; i++)
		k += !stale[i].dropped && !stale[i].held;
	if (!may_prune(o, p))
		k = 0;
	/* what --prune would delete, which a dry run is for seeing */
	for (i = 0; k && !o->quiet && i < n_stale; i++) {
		char path[1024];

		if (!stale[i].dropped && !stale[i].held)
			report_error("would prune '%s'", path_quote(stale[i].path, path, sizeof(path)));
	}
	if (!o->quiet)
		report_error("dry run: would convert %zu, up to date %zu, skipped %zu, "
			     "would prune %zu, would fail %zu",
			     convert, up_to_date, skipped, k, failed);
	ret = failed > 0;
out:
	output_claims_release();
	free(order);
	for (i = 0; res && i < p->n; i++)
		result_release(&res[i]);
	prune_release(stale, n_stale);
	free(res);
	free(all);
	free(widths);
	return ret;
}

/* Whether the journal locked as fd holds nothing to resume from: made by
 * a run killed before it started converting (a signal while it walked),
 * or by a merge stopped. */
static int
journal_empty(int fd)
{
	struct stat st;

	return !fstat(fd, &st) && st.st_size == 0;
}

/* Lock the journal of the manifest o names, as a run does, waiting for
 * the run that holds it: the descriptor, or -1 after a message. */
static int
lock_journal(const struct options *o, int *created)
{
	char err[PATH_MSG_MAX], q[PATH_MSG_MAX];
	int fd = manifest_journal_lock(o, 0, created, err, sizeof(err));

	if (fd == -2) {
		if (!o->quiet)
			report_error("waiting for the run that writes '%s' to finish",
				     path_quote(o->manifest_path, q, sizeof(q)));
		fd = manifest_journal_lock(o, 1, created, err, sizeof(err));
	}
	if (fd < 0)
		report_error("%s", err);
	return fd;
}

/* output_mkdirs, and a file where the directory would be is ENOTDIR. */
static int
make_dir(const char *dir)
{
	struct stat st;

	if (output_mkdirs(dir))
		return -1;
	if (stat(dir, &st))
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* The topmost of dir and its parents that does not exist, normalised:
 * the first directory that making dir makes.  NULL: dir exists (or it
 * cannot be told, or out of memory), or its path goes through "..",
 * where what a name stands for depends on directories that may be
 * missing. */
static char *
topmost_missing(const char *dir)
{
	char *cur = path_normalize(dir), *slash;

	if (!cur || path_has_dotdot(cur) || !access(cur, F_OK) || errno != ENOENT) {
		free(cur);
		return NULL;
	}
	while ((slash = strrchr(cur, '/')) && slash != cur) {
		*slash = '\0';
		if (!access(cur, F_OK) || errno != ENOENT) {
			*slash = '/';
			break;
		}
	}
	return cur;
}

/* Remove the empty directory path if no run holds it: one that started
 * in it meanwhile holds a shared lock on it (see output_lock_root).  fd
 * is this run's own lock on it, or -1.  1 when it is gone (or was not
 * there). */
static int
remove_unheld(const char *path, int fd)
{
	int own = fd >= 0 ? fd : open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int gone;

	/* not there: making it failed after its parents were made */
	gone = own < 0 ? errno == ENOENT : !flock(own, LOCK_EX | LOCK_NB) && !rmdir(path);
	if (own >= 0 && own != fd)
		close(own);
	return gone;
}

/* Remove dir, then its parents up to top (from topmost_missing), the
 * directories this run made and refused to start in, as far as each is
 * empty and no other run holds it.  fd is this run's lock on dir (the
 * output root), or -1. */
static void
remove_made_dirs(const char *dir, const char *top, int fd)
{
	char *cur = path_normalize(dir);	/* rmdir refuses "out/." */
	char *slash;
	int gone = cur && remove_unheld(cur, fd);

	while (gone && strcmp(cur, top) && (slash = strrchr(cur, '/')) && slash != cur) {
		*slash = '\0';
		gone = remove_unheld(cur, -1);
	}
	free(cur);
}

/* The directory the manifest at path goes into, allocated; NULL when
 * path names none (the current one) or out of memory. */
static char *
manifest_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash != path ? strndup(path, (size_t)(slash - path)) : NULL;
}

/* topmost_missing for the directory the manifest at path goes into. */
static char *
manifest_dir_missing(const char *path)
{
	char *dir = manifest_dir(path), *top = dir ? topmost_missing(dir) : NULL;

	free(dir);
	return top;
}

/* The directory a manifest goes into, made if missing ("-m
 * manifests/{shard}.json"): 0, or -1 after a message. */
static int
mkdirs_for(const char *path)
{
	char *dir = manifest_dir(path), q[PATH_MSG_MAX];
	int r = 0;

	if (!dir && strrchr(path, '/') > path) {
		report_error("out of memory");
		return -1;
	}
	if (dir && (r = make_dir(dir))) {
		const char *why = strerror(errno);

		report_error("cannot create directory '%s': %s",
			     path_quote(dir, q, sizeof(q)), why);
	}
	free(dir);
	return r;
}

/* --merge-manifests OUT IN...: OUT is written as a run writes its
 * manifest, not while one does, and not over a killed run's journal,
 * whose records the merge would lose. */
static int
merge(const struct options *o)
{
	struct options out = { .manifest_path = o->sources[0], .quiet = o->quiet };
	char err[PATH_MSG_MAX], warn[PATH_MSG_MAX], q[PATH_MSG_MAX];
	struct stat st;
	int fd, created, ret = EXIT_USAGE;

	if (manifest_check_target(out.manifest_path, err, sizeof(err))) {
		report_error("%s", err);
	} else if (mkdirs_for(out.manifest_path)) {
		;
	} else if ((fd = lock_journal(&out, &created)) >= 0) {
		sigset_t stops, old;

		/* a merge killed while it wrote (SIGKILL) left its copy */
		output_sweep_beside(out.manifest_path, MANIFEST_START);
		/* ^C now ends the merge once OUT is written, not in the
		 * middle, leaving a temporary copy */
		sigemptyset(&stops);
		sigaddset(&stops, SIGINT);
		sigaddset(&stops, SIGTERM);
		sigaddset(&stops, SIGHUP);
		sigprocmask(SIG_BLOCK, &stops, &old);
		if (!fstat(fd, &st) && st.st_size > 0)
			report_error("'%s.journal' is there: the run that writes it was "
				     "killed; run it again before merging into it",
				     path_quote(out.manifest_path, q, sizeof(q)));
		else if (manifest_merge(o->sources[0], o->sources + 1, o->n_sources - 1,
					warn, sizeof(warn), err, sizeof(err)))
			report_error("%s", err);
		else
			ret = EXIT_ALL_DONE;
		if (*warn)
			report_error("warning: %s", warn);
		if (created || journal_empty(fd))
			manifest_journal_remove(&out);
		close(fd);
		fflush(NULL);
		sigprocmask(SIG_SETMASK, &old, NULL);	/* a signal held ends it here */
	}
	return ret;
}

/* Standard input, output or error closed by the caller would be the
 * next file opened (the journal, an output), and what is printed would
 * go into it.  Each is held by /dev/null instead, opened the other way
 * (input write-only, output read-only), so that reading or printing
 * still fails as it does on a closed descriptor. */
static void
hold_std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", fcntl(0, F_GETFD) < 0 ? O_WRONLY : O_RDONLY)) >= 0 &&
	       fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

int
main(int argc, char **argv)
{
	struct options o;
	struct plan plan = { 0 };
	struct walk_exclude ex = { 0 };
	struct sniff *sniff = NULL;
	struct result *results = NULL;
	size_t *order = NULL;
	struct prev_manifest pm = { 0 };
	struct stale *stale = NULL;
	size_t n_stale = 0;
	struct run run = { .journal = -1 };
	char err[PATH_MSG_MAX], q[PATH_MSG_MAX];
	double t0 = now();
	int ret = EXIT_USAGE, cpus, threads, r, report_failed = 0;
	int root_lock = -1;		/* the shared lock on the output root */
	int journal = -1, journal_new = 0;	/* locked, not started yet */
	char *root_top = NULL;	/* the first directory made for the root */
	char *manifest_top = NULL;	/* ... for the manifest */
	long n_done;
	uint64_t work;
	size_t i;

	alloc_setup();
	/* a closed stdout (a dry run into head) must not kill a batch:
	 * stdout_check says what a failed write means */
	signal(SIGPIPE, SIG_IGN);
	/* nor an output over the file size limit (ulimit -f): the write
	 * fails with EFBIG, and that source alone fails, cleaned up */
	signal(SIGXFSZ, SIG_IGN);
	hold_std_fds();

	r = options_parse(&o, argc, argv);
	if (r < 0)
		goto out;
	if (r > 0 && o.list_formats) {
		if (convert_init(argv[0], 1, &o, err, sizeof(err))) {
			report_error("%s", err);
			goto out;
		}
		ret = convert_list_formats(&o) ? EXIT_USAGE : EXIT_ALL_DONE;
		goto out_vips;
	}
	if (r > 0) {
		if (o.show_version)
			printf("imgbake %s (libvips %s)\n", IMGBAKE_VERSION,
			       vips_version_string());
		ret = EXIT_ALL_DONE;
		goto out;
	}
	/* a run that converts: with huge pages, from here on */
	if (!o.merge && !o.dry_run)
		alloc_huge_pages(argv);
	output_init(o.fsync);
	if (o.merge) {
		ret = merge(&o);
		goto out;
	}
	if (o.shard_from && !o.quiet)
		report_error("shard %d/%d, from %s", o.shard_index, o.shard_count,
			     o.shard_from);
	if (!(sniff = sniff_new(err, sizeof(err)))) {
		report_error("%s", err);
		goto out;
	}

	/* -m and --report name files to write over: only ours */
	if (o.report_path && output_same_file(o.report_path, o.manifest_path)) {
		report_error("the report and the manifest would be one file, '%s'",
			     o.manifest_path);
		goto out;
	}
	if (o.report_path && html_report_replaceable(&o, o.report_path, err, sizeof(err))) {
		report_error("%s", err);
		goto out;
	}

	/* one run at a time writes a manifest: see manifest_journal_lock */
	if (!o.dry_run) {
		if (manifest_check_target(o.manifest_path, err, sizeof(err))) {
			report_error("%s", err);
			goto out;
		}
		root_top = topmost_missing(o.output_dir);
		if (make_dir(o.output_dir)) {
			const char *why = strerror(errno);

			report_error("cannot create output directory '%s': %s",
				     path_quote(o.output_dir, q, sizeof(q)), why);
			goto out;
		}
		manifest_top = manifest_dir_missing(o.manifest_path);
		if (mkdirs_for(o.manifest_path) ||
		    (journal = lock_journal(&o, &journal_new)) < 0)
			goto out;
	}

	/* what the last run made, to reuse and to prune */
	o.libvips_version = vips_version_string();
	if ((r = manifest_load(&o, &pm, err, sizeof(err)))) {
		report_error("%s", r == -2 ? err : "out of memory");
		goto out;
	}
	if (*err)
		report_error("%s", err);
	if (!o.dry_run) {
		size_t swept = 0;

		root_lock = output_lock_root(o.output_dir, pm.resumed ? &swept : NULL);
		/* where the sweep of the tree does not look, or only after a
		 * killed run: a manifest elsewhere, a report written after
		 * the journal went */
		swept += output_sweep_beside(o.manifest_path, MANIFEST_START);
		if (o.report_path)
			swept += output_sweep_beside(o.report_path, HTML_REPORT_START);
		if (pm.resumed && o.verbose)
			report_error("resuming an interrupted run: %zu temporary file%s removed",
				     swept, swept == 1 ? "" : "s");
	}

	/* never take the output tree, the manifest, the report or our own
	 * outputs for sources */
	if (walk_exclude_add(&ex, o.output_dir) ||
	    walk_exclude_add(&ex, o.manifest_path) ||
	    (o.report_path && walk_exclude_add(&ex, o.report_path)) ||
	    manifest_exclude_outputs(&o, &pm, &ex)) {
		report_error("out of memory");
		goto out;
	}
	walk_exclude_finish(&ex);

	/* the plan needs it: see refuse_killed in plan.c */
	if (!o.memory_budget)
		o.memory_budget = mem_default_budget();
	*err = '\0';
	if (inputs_collect(&o, &ex, &plan, err, sizeof(err)) ||
	    plan_finish(&plan, &o, sniff, &pm)) {
		report_error("%s", *err ? err : "out of memory");
		goto out;
	}
	sniff_free(sniff);
	sniff = NULL;

	cpus = sched_cpu_count();
	if (!o.jobs)
		o.jobs = cpus;
	if (o.jobs > OUTPUT_MAX_SLOTS - 1)
		o.jobs = OUTPUT_MAX_SLOTS - 1;
	/* a job holds all its outputs until it renames them together */
	if (output_workers(o.jobs, (o.n_widths ? o.n_widths : 1) *
				   (o.n_formats ? o.n_formats : 1))) {
		report_error("out of memory");
		goto out;
	}
	/* jobs x libvips threads per job ~ CPUs */
	threads = cpus / o.jobs > 1 ? cpus / o.jobs : 1;
	if (convert_init(argv[0], threads, &o, err, sizeof(err))) {
		report_error("%s", err);
		goto out;
	}
	if (o.dry_run) {
		r = print_plan(&o, &plan, &pm);
		ret = r < 0 ? EXIT_USAGE : r > 0 ? EXIT_SOME_FAILED : EXIT_ALL_DONE;
		goto out_vips;
	}
	if (output_mkdirs(o.output_dir)) {
		const char *why = strerror(errno);

		report_error("cannot create output directory '%s': %s",
			     path_quote(o.output_dir, q, sizeof(q)), why);
		goto out_vips;
	}
	if (root_lock < 0)
		root_lock = output_lock_root(o.output_dir, NULL);
	if (o.verbose)
		report_error("%zu source%s, at most %d job%s x %d libvips thread%s, "
			     "memory budget %.0f MB, huge pages: %s",
			     plan.n, plan.n == 1 ? "" : "s", o.jobs, o.jobs == 1 ? "" : "s",
			     threads, threads == 1 ? "" : "s", o.memory_budget / 1e6,
			     alloc_huge_pages_state());

	run = (struct run){ .o = &o, .plan = &plan, .journal = -1 };
	results = calloc(plan.n ? plan.n : 1, sizeof(*results));
	run.results = results;
	run.estimate = calloc(plan.n ? plan.n : 1, sizeof(*run.estimate));
	run.reported = calloc(plan.n ? plan.n : 1, 1);
	run.retry = calloc(plan.n ? plan.n : 1, 1);
	run.alone = calloc(plan.n ? plan.n : 1, 1);
	if (!results || !run.estimate || !run.reported || !run.retry || !run.alone) {
		report_error("out of memory");
		goto out_vips;
	}
	for (i = 0; i < plan.n; i++) {
		const struct job *j = &plan.jobs[i];

		results[i].status = j->pre_status;
		results[i].reason = j->pre_reason;
		if (j->pre_error)
			results[i].error = strdup(j->pre_error);
		/* refused for a killed run: known again by its content */
		if (j->pre_status == JOB_FAILED && j->killed_budget)
			memcpy(results[i].hash, j->hash, sizeof(results[i].hash));
		if (j->pre_status == JOB_UP_TO_DATE && result_reuse(&results[i], j)) {
			report_error("out of memory");
			goto out_vips;
		}
	}
	if (claim_kept(&o, &plan, results)) {
		report_error("out of memory");
		goto out_vips;
	}
	manifest_journal_start(&o, journal);
	run.journal = journal;
	journal_for_signal = journal;
	journal = -1;

	if (!(order = dispatch_order(&plan))) {
		report_error("out of memory");
		goto out_vips;
	}
	for (i = 0, work = 0; i < plan.n; i++)
		if (plan.jobs[i].pre_status == JOB_PENDING && plan.jobs[i].dup_of < 0)
			work += (uint64_t)plan.jobs[i].bytes;
	progress_start(&run.progress, &o, plan.n, work, now());
	install_signals();
	n_done = sched_run(plan.n, order, o.jobs, o.memory_budget,
			   &(struct sched_ops){ .run = run_job, .done = job_done,
						 .finished = job_finished, .tick = job_tick,
						 .cost = job_cost, .dispatched = job_dispatched },
			   &run, &stop_signal);
	if (n_done < 0 || (!stop_signal && run.n_retry && run_retries(&run) < 0)) {
		report_error("cannot start worker threads");
		goto out_vips;
	}
	/* outputs the last run made that this one did not */
	if (prune_find(&pm, &plan, results, run.reported, &stale, &n_stale)) {
		report_error("out of memory");
		goto out_vips;
	}
	run.summary.pruned = prune_apply(&o, stale, n_stale,
					 !stop_signal && may_prune(&o, &plan));
	for (i = 0; i < n_stale; i++) {
		char path[1024];

		if (stale[i].deleted && o.verbose)
			report_error("pruned '%s'", path_quote(stale[i].path, path, sizeof(path)));
	}

	for (i = 0; i < plan.n; i++)
		run.summary.unfinished += !run.reported[i];
	run.summary.peak_rss = peak_rss();
	run.summary.budget = o.memory_budget;
	if (manifest_write(&o, &plan, results, run.reported, &pm, stale, n_stale,
			   &run.summary, err, sizeof(err))) {
		/* the journal stays, for the next run to resume from; the
		 * summary still says what this one did */
		report_error("%s", err);
		report_failed = 1;
	} else {
		/* removed while still locked: a run waiting for the lock
		 * must not take it on a file about to go */
		journal_for_signal = -1;
		manifest_journal_remove(&o);
		close(run.journal);
		run.journal = -1;
		/* checked again now that the manifest exists: a link to it
		 * that dangled at the start is the manifest now */
		if (o.report_path &&
		    (html_report_replaceable(&o, o.report_path, err, sizeof(err)) ||
		     html_report_write(&o, &plan, results, run.reported,
				       &run.summary, now() - t0, err, sizeof(err)))) {
			report_error("%s", err);
			report_failed = 1;
		}
	}
	progress_finish(&run.progress, now());
	if (o.verbose)
		report_error("memory: budget %.0f MB, peak RSS %.0f MB, libvips tracked peak %.0f MB",
			     o.memory_budget / 1e6, run.summary.peak_rss / 1e6,
			     vips_tracked_get_mem_highwater() / 1e6);
	/* an error too, under -q: cron mails it */
	if (stop_signal && run.summary.unfinished)
		report_error("stopped: %" PRIu64 " source%s not finished, for the next run to convert",
			     run.summary.unfinished, run.summary.unfinished == 1 ? "" : "s");
	report_summary(&o, &run.summary, now() - t0);
	if (o.json)
		manifest_print_summary(stdout, &run.summary);

	if (stop_signal) {
		/* workers may still be inside an encoder: remove their files
		 * and leave without shutting libvips down under them */
		output_remove_temps(1);
		stdout_check(EXIT_ALL_DONE);
		fflush(NULL);
		if (stop_signal > 0 && !report_failed) {
			/* die of it, the status a shell loop or make(1)
			 * stops on: exit(130) would read as handled */
			signal(stop_signal, SIG_DFL);
			raise(stop_signal);
		}
		_exit(stop_signal > 0 && !report_failed ? 128 + stop_signal : EXIT_USAGE);
	}
	ret = report_failed ? EXIT_USAGE :
	      run.summary.failed ? EXIT_SOME_FAILED : EXIT_ALL_DONE;
out_vips:
	output_claims_release();
	convert_shutdown();
out:
	if (results)
		for (i = 0; i < plan.n; i++)
			result_release(&results[i]);
	free(order);
	free(results);
	free(run.estimate);
	free(run.reported);
	free(run.retry);
	free(run.alone);
	journal_for_signal = -1;
	if (run.journal >= 0)
		close(run.journal);
	if (journal >= 0) {
		/* left before it started: a killed run's records stay */
		if (journal_new || journal_empty(journal))
			manifest_journal_remove(&o);
		close(journal);
	}
	/* refused before anything was converted (a list, the manifest's
	 * directory): the root this run made goes, if nothing is in it */
	if (ret == EXIT_USAGE && manifest_top) {
		char *dir = manifest_dir(o.manifest_path);

		if (dir)
			remove_made_dirs(dir, manifest_top, -1);
		free(dir);
	}
	if (ret == EXIT_USAGE && root_top)
		remove_made_dirs(o.output_dir, root_top, root_lock);
	free(manifest_top);
	free(root_top);
	if (root_lock >= 0)
		close(root_lock);
	prune_release(stale, n_stale);
	manifest_prev_release(&pm);
	sniff_free(sniff);
	walk_exclude_release(&ex);
	plan_release(&plan);
	options_release(&o);
	return stdout_check(ret);
}
