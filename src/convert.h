/*
 * One source through libvips: decode once, then every width and format
 * from that decode, each output written atomically.
 */
#ifndef IMGBAKE_CONVERT_H
#define IMGBAKE_CONVERT_H

#include <stdatomic.h>
#include <stdint.h>

#include "job.h"
#include "options.h"
#include "plan.h"
#include "sched.h"

/* Convert `job`, filling `res`.  Runs on a worker thread: it prints
 * nothing, never exits, and touches no shared state but its own
 * temp-file slot `slot`.  `estimate` is convert_probe's: a job big for
 * the memory budget gives its freed memory back as it ends, and one
 * that finds it needs less than that says so through `sched` (which
 * may be NULL).  When
 * *stop becomes set it abandons the job (status failed, reason
 * interrupted) and removes what it wrote. */
void convert_job(const struct options *o, const struct plan *plan, const struct job *job,
	struct result *res, int slot, uint64_t estimate, struct sched_slot *sched,
	atomic_int *stop);

/* Read only the header of job's source: res gets its upright width and
 * height, or a failure (unreadable, undecodable, over the pixel
 * limit).  Returns the estimated peak memory of converting it (0 when
 * it failed).  No pixel is decoded.  Thread-safe.  res may be NULL when
 * only the estimate is wanted. */
uint64_t convert_probe(const struct options *o, const struct job *job,
	struct result *res);

/* Global libvips set-up, main thread, before any worker starts:
 * no operation cache, `threads` threads per pipeline, only the loaders
 * imgbake uses, warnings kept off the terminal. */
int convert_init(const char *argv0, int threads, const struct options *o,
	char *err, size_t errlen);
void convert_shutdown(void);

/* The process was stopped (SIGSTOP, ^Z) for `seconds`, which count
 * toward no job's --timeout.  Any thread. */
void convert_add_pause(double seconds);

/* --list-formats, on stdout, after convert_init. */
int convert_list_formats(const struct options *o);

#endif
