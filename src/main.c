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
 *   manifest the JSON record of the run; report: the terminal
 *
 * This file only wires the stages and turns the outcome into an exit
 * status.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <vips/vips.h>

#include "convert.h"
#include "inputs.h"
#include "manifest.h"
#include "membudget.h"
#include "options.h"
#include "output.h"
#include "paths.h"
#include "plan.h"
#include "report.h"
#include "sched.h"
#include "sniff.h"
#include "walk.h"

/* Set by the SIGINT/SIGTERM handler, read by the scheduler and the
 * workers: the one piece of state a signal handler may touch. */
static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	if (stop_signal) {
		/* a second ^C: stop now, the default way */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	stop_signal = sig;
	output_remove_all_temps();
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a closed stdout (dry run into head) must not kill a batch */
	signal(SIGPIPE, SIG_IGN);
}

struct run {
	const struct options *o;
	const struct plan *plan;
	struct result *results;
	uint64_t *estimate;		/* bytes, per job, set by job_cost */
	unsigned char *reported;	/* per job: went through job_done */
	struct summary summary;
};

static void
run_job(void *ctx, size_t i, int worker)
{
	struct run *r = ctx;

	if (r->results[i].status == JOB_PENDING)
		convert_job(r->o, &r->plan->jobs[i], &r->results[i], worker, &stop_signal);
}

/* Admission: read the header, estimate the peak.  A header that
 * cannot be read costs nothing here; the job then fails fast. */
static uint64_t
job_cost(void *ctx, size_t i)
{
	struct run *r = ctx;
	struct result probe;

	if (r->results[i].status != JOB_PENDING)
		return 0;
	r->estimate[i] = convert_probe(r->o, &r->plan->jobs[i], &probe);
	result_release(&probe);
	return r->estimate[i];
}

static void
job_done(void *ctx, size_t i)
{
	struct run *r = ctx;

	if (r->results[i].reason == REASON_INTERRUPTED)
		return;
	r->reported[i] = 1;
	summary_add(&r->summary, &r->plan->jobs[i], &r->results[i]);
	report_result(r->o, &r->plan->jobs[i], &r->results[i], r->estimate[i]);
	/* hand the big buffers of a big job back to the system now */
	if (r->estimate[i] > 64u << 20)
		malloc_trim(0);
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

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* -n: the outputs each source would get.  Reads headers (to drop the
 * widths a source is too small for), never pixels; writes nothing. */
static int
print_plan(const struct options *o, const struct plan *p)
{
	int *widths = malloc(sizeof(int) * (size_t)(o->n_widths + 1));
	int failed = 0, n, name_width, f, w;
	size_t i;

	if (!widths)
		return -1;
	for (i = 0; i < p->n; i++) {
		const struct job *j = &p->jobs[i];
		struct result res = { .status = j->pre_status, .reason = j->pre_reason };

		if (j->pre_status == JOB_PENDING)
			convert_probe(o, j, &res);
		else
			res.error = j->pre_error ? strdup(j->pre_error) : NULL;
		if (res.status != JOB_PENDING) {
			failed += res.status == JOB_FAILED;
			report_result(o, j, &res, 0);
			result_release(&res);
			continue;
		}
		n = plan_widths(o, res.width, widths, &name_width);
		for (w = n - 1; w >= 0; w--)
			for (f = 0; f < o->n_formats; f++) {
				int name_w = !o->n_widths ? 0 : name_width ? name_width : widths[w];
				char *rel = plan_output_path(o, j, o->formats[f], name_w);
				char *full = rel ? path_join(o->output_dir, rel) : NULL;

				if (full)
					printf("%s\n", full);
				free(rel);
				free(full);
			}
		result_release(&res);
	}
	free(widths);
	fflush(stdout);
	return failed;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct plan plan = { 0 };
	struct walk_exclude ex = { 0 };
	struct sniff *sniff = NULL;
	struct result *results = NULL;
	struct run run = { 0 };
	char err[1024];
	double t0 = now();
	int ret = EXIT_USAGE, cpus, threads, r;
	long n_done;
	size_t i;

	/* Before any thread exists: two arenas instead of 8 per core keep
	 * freed image buffers from pinning memory across a long batch. */
	mallopt(M_ARENA_MAX, 2);

	r = options_parse(&o, argc, argv);
	if (r < 0)
		goto out;
	if (r > 0) {
		if (o.show_version)
			printf("imgbake %s (libvips %s)\n", IMGBAKE_VERSION,
			       vips_version_string());
		ret = EXIT_ALL_DONE;
		goto out;
	}
	output_init();
	if (!(sniff = sniff_new(err, sizeof(err)))) {
		report_error("%s", err);
		goto out;
	}

	/* never take the output tree, the manifest or our own outputs
	 * for sources */
	if (walk_exclude_add(&ex, o.output_dir) ||
	    walk_exclude_add(&ex, o.manifest_path)) {
		report_error("out of memory");
		goto out;
	}
	manifest_exclude_outputs(&o, &ex);
	walk_exclude_finish(&ex);

	if (inputs_collect(&o, &ex, &plan, err, sizeof(err)) ||
	    plan_finish(&plan, &o, sniff)) {
		report_error("%s", plan.n || *err ? err : "out of memory");
		goto out;
	}
	sniff_free(sniff);
	sniff = NULL;

	cpus = sched_cpu_count();
	if (!o.jobs)
		o.jobs = cpus;
	if (o.jobs > OUTPUT_MAX_SLOTS - 1)
		o.jobs = OUTPUT_MAX_SLOTS - 1;
	/* jobs x libvips threads per job ~ CPUs */
	threads = cpus / o.jobs > 1 ? cpus / o.jobs : 1;
	if (convert_init(argv[0], threads)) {
		report_error("cannot start libvips: %s", vips_error_buffer());
		goto out;
	}
	if (o.dry_run) {
		r = print_plan(&o, &plan);
		ret = r < 0 ? EXIT_USAGE : r > 0 ? EXIT_SOME_FAILED : EXIT_ALL_DONE;
		goto out_vips;
	}
	if (output_mkdirs(o.output_dir)) {
		report_error("cannot create output directory '%s': %m", o.output_dir);
		goto out_vips;
	}
	if (!o.memory_budget)
		o.memory_budget = mem_default_budget();
	if (o.verbose)
		report_error("%zu sources, at most %d jobs x %d libvips threads, "
			     "memory budget %.0f MB", plan.n, o.jobs, threads,
			     o.memory_budget / 1e6);

	run = (struct run){ &o, &plan, NULL, NULL, NULL, { 0 } };
	results = calloc(plan.n ? plan.n : 1, sizeof(*results));
	run.results = results;
	run.estimate = calloc(plan.n ? plan.n : 1, sizeof(*run.estimate));
	run.reported = calloc(plan.n ? plan.n : 1, 1);
	if (!results || !run.estimate || !run.reported) {
		report_error("out of memory");
		goto out_vips;
	}
	for (i = 0; i < plan.n; i++) {
		const struct job *j = &plan.jobs[i];

		results[i].status = j->pre_status;
		results[i].reason = j->pre_reason;
		if (j->pre_error)
			results[i].error = strdup(j->pre_error);
	}

	install_signals();
	n_done = sched_run(plan.n, o.jobs, o.memory_budget,
			   &(struct sched_ops){ run_job, job_done, NULL, job_cost },
			   &run, &stop_signal);
	if (n_done < 0) {
		report_error("cannot start worker threads");
		goto out_vips;
	}
	run.summary.peak_rss = peak_rss();
	run.summary.budget = o.memory_budget;
	if (manifest_write(&o, &plan, results, run.reported, &run.summary,
			   err, sizeof(err))) {
		report_error("%s", err);
		if (stop_signal) {
			output_remove_all_temps();
			_exit(EXIT_USAGE);
		}
		goto out_vips;
	}
	if (o.verbose)
		report_error("memory: budget %.0f MB, peak RSS %.0f MB, libvips tracked peak %.0f MB",
			     o.memory_budget / 1e6, run.summary.peak_rss / 1e6,
			     vips_tracked_get_mem_highwater() / 1e6);
	report_summary(&o, &run.summary, now() - t0);

	if (stop_signal) {
		/* workers may still be inside an encoder: remove their files
		 * and leave without shutting libvips down under them */
		output_remove_all_temps();
		fflush(NULL);
		_exit(stop_signal == SIGINT ? EXIT_SIGINT : EXIT_SIGTERM);
	}
	ret = run.summary.failed ? EXIT_SOME_FAILED : EXIT_ALL_DONE;
out_vips:
	convert_shutdown();
out:
	if (results)
		for (i = 0; i < plan.n; i++)
			result_release(&results[i]);
	free(results);
	free(run.estimate);
	free(run.reported);
	sniff_free(sniff);
	walk_exclude_release(&ex);
	plan_release(&plan);
	options_release(&o);
	return ret;
}
