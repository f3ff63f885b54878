/*
 * A tree often holds the same image twice (copies, hard links, the
 * same logo in every folder).  The planner sends the first of each set
 * of identical sources to be converted; the others arrive here after
 * it has finished and get its outputs under their own names, without
 * a decode or an encode.  Outputs an earlier run left that are still
 * valid are kept as they are.  When the first failed for a reason of
 * its own (its file, its outputs' directories), the others are
 * converted after all, each by itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe.h"
#include "output.h"
#include "paths.h"
#include "plan.h"

int
dedupe_failed_alone(const struct result *pres)
{
	return pres->status == JOB_FAILED && !pres->disk_full &&
	       (pres->reason == REASON_IO || pres->reason == REASON_UNSAFE_PATH ||
		pres->reason == REASON_COLLISION);
}

void
dedupe_copy(const struct options *o, const struct job *job,
	const struct job *primary, const struct result *pres,
	struct result *res, int slot)
{
	char err[PATH_MSG_MAX];
	size_t k, m;

	res->width = pres->width;
	res->height = pres->height;
	memcpy(res->hash, job->hash, sizeof(res->hash));
	/* an image no allowed loader takes (--allow-loader), met in the
	 * walk: skipped, as its copy was, or would have been had it not
	 * been named (it failed, unsupported) */
	if (job->may_skip && (pres->status == JOB_SKIPPED ||
			      (pres->status == JOB_FAILED && pres->reason == REASON_UNSUPPORTED))) {
		const char *why = pres->error ? pres->error : "";

		res->status = JOB_SKIPPED;
		res->reason = REASON_UNSUPPORTED;
		if (pres->status == JOB_SKIPPED)
			res->error = strdup(why);
		else if (asprintf(&res->error, "unsupported image type (%s)",
				  strncmp(why, "decode: ", 8) ? why : why + 8) < 0)
			res->error = NULL;
		return;
	}
	if (pres->status != JOB_CONVERTED && pres->status != JOB_UP_TO_DATE) {
		res->status = JOB_FAILED;
		res->reason = pres->reason;
		if (asprintf(&res->error, "as its identical copy '%s': %s", primary->src_path,
			     pres->error ? pres->error : "failed") < 0)
			res->error = NULL;
		return;
	}
	if (!(res->outputs = calloc(pres->n_outputs + 1, sizeof(*res->outputs))))
		goto oom;
	for (k = 0; k < pres->n_outputs; k++) {
		const struct out_record *r = &pres->outputs[k];
		char *rel = plan_output_path(o, job, r->format, o->n_widths ? r->width : 0);
		char *src = path_join(o->output_dir, r->path);
		char *dst = rel ? path_join(o->output_dir, rel) : NULL;
		enum job_reason reason = REASON_UNSAFE_PATH;	/* when bad > 0 */
		int reused = 0, bad;

		for (m = 0; rel && m < job->n_reuse; m++)
			reused |= !strcmp(job->reuse[m].path, rel) &&
				  !strcmp(job->reuse[m].recipe, r->recipe);
		bad = !rel || !src || !dst ? -1 : 0;
		/* a name made from the source's own width may be another's */
		if (!bad && options_names_late(o) && (bad = output_claim(rel, plan_name_owner(job), NULL)) > 0) {
			snprintf(err, sizeof(err), "name: another source also writes '%s'", rel);
			reason = REASON_COLLISION;
		}
		/* never through a link in the output tree, as a conversion */
		if (!bad && !reused)
			bad = output_check_dirs(o->output_dir, rel, err, sizeof(err));
		if (!bad && !reused &&
		    output_copy(src, dst, slot, o->link_duplicates, err, sizeof(err))) {
			bad = -1;
			/* every copy after this one would fail the same way */
			res->disk_full = errno == ENOSPC || errno == EDQUOT;
		}
		if (bad) {
			res->status = JOB_FAILED;
			res->reason = bad < 0 ? REASON_IO : reason;
			res->error = strdup(rel && src && dst ? err : "out of memory");
		} else {
			res->outputs[res->n_outputs] = *r;
			res->outputs[res->n_outputs].path = rel;
			res->n_outputs++;
			res->bytes_out += r->bytes;
			rel = NULL;
		}
		free(rel);
		free(src);
		free(dst);
		if (res->status == JOB_FAILED)
			return;
	}
	/* the same bytes: the damage --lenient converted despite too */
	if (pres->warning && !(res->warning = strdup(pres->warning)))
		goto oom;
	res->status = JOB_CONVERTED;
	return;
oom:
	res->status = JOB_FAILED;
	res->reason = REASON_IO;
	res->error = strdup("out of memory");
}
