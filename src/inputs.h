/*
 * Inputs: the SOURCE arguments and the lists read from -T FILE and
 * '-', turned into plan entries (directories through the walk).
 */
#ifndef IMGBAKE_INPUTS_H
#define IMGBAKE_INPUTS_H

#include <stddef.h>

#include "options.h"
#include "plan.h"
#include "walk.h"

/* Add every source to the plan.  Returns 0, or -1 on a fatal error
 * (unreadable list, no current directory, out of memory) described in
 * err.  Main thread only. */
int inputs_collect(const struct options *o, const struct walk_exclude *ex,
	struct plan *p, char *err, size_t errlen);

#endif
