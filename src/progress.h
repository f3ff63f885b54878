/*
 * Progress on stderr while a batch runs, fed from the results on the
 * main thread (the only one that prints):
 *
 *   bar    one line redrawn in place, at most ~6 times a second, for a
 *          terminal: done/total, failures, MB in -> out, MP/s, elapsed
 *          time and an estimate of the time left;
 *   plain  a line every few seconds, for logs:
 *          "imgbake: 1234/2345 done, 3 failed, 812 MB -> 201 MB";
 *   none   nothing (the summary line still ends the run).
 *
 * report_error() clears the bar before it prints, so messages are never
 * garbled; the next tick draws the bar again below them.
 */
#ifndef IMGBAKE_PROGRESS_H
#define IMGBAKE_PROGRESS_H

#include <stdint.h>

#include "job.h"
#include "options.h"

struct progress {
	enum progress_mode mode;	/* BAR, PLAIN or NONE once started */
	uint64_t total, done, failed;
	uint64_t bytes_in, bytes_out;	/* of converted sources */
	uint64_t work_total, work_done;	/* source bytes that need converting */
	double pixels;			/* of converted sources */
	double t0, last, interval;	/* seconds */
	int on_screen;			/* bar: a line is drawn */
	int printed;			/* plain: lines printed */
	uint64_t printed_done;		/* plain: the count the last line showed */
};

/* Resolve auto (bar on a terminal, plain elsewhere, none with -q) and
 * start counting.  `work_total` is the bytes of sources to convert. */
void progress_start(struct progress *p, const struct options *o, uint64_t total,
	uint64_t work_total, double now);
void progress_add(struct progress *p, const struct job *job, const struct result *res);
/* Draw if due. */
void progress_tick(struct progress *p, double now);
/* The run is over: clear the bar, or print the last plain line if any
 * was printed before. */
void progress_finish(struct progress *p, double now);
/* Clear the bar, if drawn, before other output. */
void progress_hide(struct progress *p);

#endif
