/*
 * What the user reads.  Messages follow one shape,
 *     imgbake: cannot convert 'a/b.png': decode: VipsJpeg: Premature end of input file
 * lowercase, subject quoted with control characters escaped, detail last.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "paths.h"
#include "progress.h"
#include "report.h"

void
summary_add(struct summary *s, const struct job *job, const struct result *res)
{
	s->sources++;
	switch (res->status) {
	case JOB_CONVERTED:
		s->converted++;
		s->outputs += res->n_outputs;
		s->bytes_in += (uint64_t)job->bytes;
		s->bytes_out += res->bytes_out;
		break;
	case JOB_UP_TO_DATE:
		s->up_to_date++;
		s->outputs += res->n_outputs;
		break;
	case JOB_SKIPPED:
		s->skipped++;
		break;
	case JOB_FAILED:
		s->failed++;
		break;
	default:
		s->sources--;
		break;
	}
}

/* The bar on screen, if any: cleared before a message.  Main thread
 * only, like all printing. */
static struct progress *bar;

void
report_set_progress(struct progress *p)
{
	bar = p;
}

void
report_error(const char *fmt, ...)
{
	char line[8192];
	va_list ap;

	if (bar)
		progress_hide(bar);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one line, whatever a path not quoted on the way holds */
	fputs("imgbake: ", stderr);
	text_write_safe(stderr, line);
	fputc('\n', stderr);
}

static double
mb(uint64_t bytes)
{
	return bytes / 1e6;
}

void
report_result(const struct options *o, const struct job *job,
	const struct result *res, uint64_t estimate)
{
	char path[1024], est[80] = "", kept[48] = "";

	path_quote(job->src_path, path, sizeof(path));
	switch (res->status) {
	case JOB_FAILED:
		report_error("cannot convert '%s': %s", path,
			     res->error ? res->error : reason_name(res->reason));
		break;
	case JOB_SKIPPED:
		if (o->verbose)
			report_error("skipped '%s': %s", path,
				     res->error ? res->error : reason_name(res->reason));
		break;
	case JOB_UP_TO_DATE:
		if (o->verbose)
			report_error("up to date '%s': %zu output%s", path, res->n_outputs,
				     res->n_outputs == 1 ? "" : "s");
		break;
	case JOB_CONVERTED:
		/* no estimate: the outputs were copied from an identical source */
		if (estimate && res->lowered)
			snprintf(est, sizeof(est), ", estimate %.1f MB, %.1f MB once read",
				 mb(estimate), mb(res->lowered));
		else if (estimate)
			snprintf(est, sizeof(est), ", estimate %.1f MB", mb(estimate));
		/* a width or format added: the others were kept */
		if (res->n_kept)
			snprintf(kept, sizeof(kept), " (%zu kept)", res->n_kept);
		if (o->verbose)
			report_error("converted '%s': %dx%d, %zu output%s%s, %.2f MB -> %.2f MB%s",
				     path, res->width, res->height, res->n_outputs,
				     res->n_outputs == 1 ? "" : "s", kept,
				     mb((uint64_t)job->bytes), mb(res->bytes_out), est);
		break;
	default:
		break;
	}
}

void
report_summary(const struct options *o, const struct summary *s, double seconds)
{
	char extra[64] = "";

	if (o->quiet)
		return;
	if (s->up_to_date)
		snprintf(extra, sizeof(extra), "%llu up to date, ",
			 (unsigned long long)s->up_to_date);
	if (s->pruned)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
			 "%llu pruned, ", (unsigned long long)s->pruned);
	fprintf(stderr, "%llu converted, %s%llu skipped, %llu failed (%.1f MB -> %.1f MB) in %.1f s\n",
		(unsigned long long)s->converted, extra, (unsigned long long)s->skipped,
		(unsigned long long)s->failed, mb(s->bytes_in), mb(s->bytes_out), seconds);
}
