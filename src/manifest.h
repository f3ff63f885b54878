/*
 * The manifest: a JSON record of every source and every output of a
 * run, written atomically at the end.  Deterministic: sources in plan
 * (bytewise path) order, no timestamps.
 */
#ifndef IMGBAKE_MANIFEST_H
#define IMGBAKE_MANIFEST_H

#include <stddef.h>

#include "job.h"
#include "options.h"
#include "plan.h"
#include "report.h"
#include "walk.h"

/* Write the manifest of the jobs marked in `include` (jobs that did not
 * finish, e.g. after an interrupt, are left out).  Returns 0 or -1
 * with a message in err.  Main thread only. */
int manifest_write(const struct options *o, const struct plan *p,
	const struct result *results, const unsigned char *include,
	const struct summary *sum, char *err, size_t errlen);

/* Add the outputs an existing manifest records to `ex`, so the walk
 * does not take them for sources.  A missing or unreadable manifest
 * adds nothing. */
void manifest_exclude_outputs(const struct options *o, struct walk_exclude *ex);

#endif
