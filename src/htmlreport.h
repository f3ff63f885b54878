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

/* Write the page to o->report_path.  `include` marks the results that
 * finished (as for the manifest).  Returns 0, or -1 with err set. */
int html_report_write(const struct options *o, const struct plan *p,
	const struct result *results, const unsigned char *include,
	const struct summary *sum, double seconds, char *err, size_t errlen);

#endif
