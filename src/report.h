/*
 * The terminal side of the results: one line per failure, one per
 * source with -v, the closing summary.  Main thread only: it is the
 * only module that writes to stderr once the workers run.
 */
#ifndef IMGBAKE_REPORT_H
#define IMGBAKE_REPORT_H

#include <stdint.h>

#include "job.h"
#include "options.h"

struct summary {
	uint64_t sources, converted, up_to_date, skipped, failed, outputs;
	uint64_t pruned;		/* stale outputs deleted (--prune) */
	uint64_t unfinished;		/* sources a stop left unconverted */
	uint64_t bytes_in, bytes_out;	/* of converted sources and their outputs */
	uint64_t budget, peak_rss;	/* memory, bytes */
};

/* Count one finished source. */
void summary_add(struct summary *s, const struct job *job, const struct result *res);

/* Report one finished source: its failure always, more with -v
 * (with its estimated peak memory, when known). */
void report_result(const struct options *o, const struct job *job,
	const struct result *res, uint64_t estimate);

/* "N converted, N skipped, N failed (X MB -> Y MB) in T s", unless -q;
 * up-to-date and pruned counts join it when there are any. */
void report_summary(const struct options *o, const struct summary *s, double seconds);

struct progress;
/* The progress bar report_error clears before printing, or NULL. */
void report_set_progress(struct progress *p);

/* "imgbake: MESSAGE" on stderr, printf-style. */
void report_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
