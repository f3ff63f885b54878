/*
 * Stale outputs: files an earlier run recorded that this run does not
 * make any more (source gone, format or width dropped, name changed).
 */
#ifndef IMGBAKE_PRUNE_H
#define IMGBAKE_PRUNE_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"
#include "manifest.h"
#include "options.h"
#include "plan.h"

struct stale {
	char *path;		/* relative to the output root */
	uint64_t bytes;		/* recorded size; 0 when not known */
	int deleted;		/* removed by prune_apply */
	int dropped;		/* no longer to be tracked: deleted or gone */
};

/* The outputs recorded in pm (its sources' and its stale list) that no
 * included result has, sorted by path, into *out.  0 or -1 (ENOMEM). */
int prune_find(const struct prev_manifest *pm, const struct plan *p,
	const struct result *results, const unsigned char *include,
	struct stale **out, size_t *n_out);

/* Forget the stale outputs that are gone, and with `delete`, delete the
 * ones still there as they were written: a regular file of the
 * recorded size (any size when it is not known).  A file that is not,
 * imgbake did not write: it is left alone.  Directories emptied this
 * way are removed, up to the output root.  Returns the count deleted. */
size_t prune_apply(const struct options *o, struct stale *st, size_t n, int delete);

void prune_release(struct stale *st, size_t n);

#endif
