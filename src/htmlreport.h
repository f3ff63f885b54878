/*
 * The HTML report (--report FILE): one self-contained page with the
 * summary, savings per format and width, the failed and skipped
 * sources with their reasons, and each source's outputs.  Written on
 * the main thread after the run, atomically, from the same results as
 * the manifest.
 */
#ifndef IMGBAKE_HTMLREPORT_H
#define IMGBAKE_HTMLREPORT_H

#include "job.h"
#include "options.h"
#include "plan.h"
#include "report.h"

/* Whether the report may be written over the file at path: missing,
 * empty, unreadable (writing will say why) or a report imgbake wrote
 * (with --shard, by this task or a run not sharded).  0, or -1 with a
 * message in err. */
int html_report_replaceable(const struct options *o, const char *path, char *err,
	size_t errlen);

/* Write the page to o->report_path.  `include` marks the results that
 * finished (as for the manifest); `seconds` is the wall time shown.
 * The page embeds its style and script and refers to nothing but the
 * output images, by URLs relative to its own directory, so it can be
 * moved together with the output tree.  Only the timings and the
 * memory figures differ between two runs with the same results.
 * Time and memory are linear in the number of sources; the page is
 * streamed to a temporary file and renamed into place.  Main thread
 * only: it uses the main thread's temporary-file slot.  Returns 0, or
 * -1 with a message in err. */
int html_report_write(const struct options *o, const struct plan *p,
	const struct result *results, const unsigned char *include,
	const struct summary *sum, double seconds, char *err, size_t errlen);

/* How a report's text starts, as html_report_write writes it. */
#define HTML_REPORT_START "<!DOCTYPE html>\n"

#endif
