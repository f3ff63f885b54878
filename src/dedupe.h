/*
 * Identical sources: one conversion, and copies (or hard links) of its
 * outputs under the other sources' names.
 */
#ifndef IMGBAKE_DEDUPE_H
#define IMGBAKE_DEDUPE_H

#include "job.h"
#include "options.h"

/* Whether the primary's failure, pres, was its own and not its
 * content's: its file could not be read, or an output of its own could
 * not be written (a file where its output directory should be, a link
 * in the output tree), or one of its names was another source's.  Its
 * duplicates are then converted each by itself instead of failing with
 * it. */
int dedupe_failed_alone(const struct result *pres);

/* Fill res for `job`, a duplicate of `primary` whose result is pres:
 * the same outputs, copied to job's names; failed as the primary
 * failed.  `slot` is a temp-file registry slot free for this thread. */
void dedupe_copy(const struct options *o, const struct job *job,
	const struct job *primary, const struct result *pres,
	struct result *res, int slot);

#endif
