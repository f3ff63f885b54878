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

/* The outputs recorded in pm (its sources' and its stale list) that no
 * included result has, and that are not the earlier outputs of a source
 * that failed this run, sorted by path, into *out.  0 or -1 (ENOMEM). */
int prune_find(const struct prev_manifest *pm, struct plan *p,
	const struct result *results, const unsigned char *include,
	struct stale **out, size_t *n_out);

/* Forget the stale outputs that are gone or no longer as imgbake wrote
 * them (another size, or reached through a symbolic link to a directory:
 * the user's now, left alone), and with `delete`,
 * delete the others.  Directories emptied this
 * way are removed, up to the output root.  Returns the count deleted. */
size_t prune_apply(const struct options *o, struct stale *st, size_t n, int delete);

void prune_release(struct stale *st, size_t n);

#endif
