/*
 * Progress on stderr: see progress.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "progress.h"
#include "report.h"

#define BAR_INTERVAL 0.16	/* seconds between redraws: ~6 a second */
#define PLAIN_INTERVAL 5.0

void
progress_start(struct progress *p, const struct options *o, uint64_t total,
	uint64_t work_total, double now)
{
	const char *env = getenv("IMGBAKE_PROGRESS_INTERVAL");

	memset(p, 0, sizeof(*p));
	p->mode = o->progress;
	if (p->mode == PROGRESS_AUTO)
		p->mode = o->quiet ? PROGRESS_NONE :
			  isatty(STDERR_FILENO) ? PROGRESS_BAR : PROGRESS_PLAIN;
	p->total = total;
	p->work_total = work_total;
	p->t0 = p->last = now;
	p->interval = p->mode == PROGRESS_BAR ? BAR_INTERVAL : PLAIN_INTERVAL;
	if (env && atof(env) > 0)
		p->interval = atof(env);
	report_set_progress(p->mode == PROGRESS_BAR ? p : NULL);
}

void
progress_add(struct progress *p, const struct job *job, const struct result *res)
{
	/* cut short by a stop: not finished, for the next run */
	if (res->status == JOB_FAILED && res->reason == REASON_INTERRUPTED)
		return;
	p->done++;
	if (res->status == JOB_FAILED)
		p->failed++;
	if (res->status == JOB_CONVERTED) {
		p->bytes_in += (uint64_t)job->bytes;
		p->bytes_out += res->bytes_out;
		p->pixels += (double)res->width * res->height;
	}
	if (job->pre_status == JOB_PENDING && job->dup_of < 0)
		p->work_done += (uint64_t)job->bytes;
}

static void
clock_text(char *buf, size_t len, double s)
{
	long t = s > 0 ? (long)(s + 0.5) : 0;

	if (t >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

static int
columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

static void
draw_bar(struct progress *p, double now)
{
	double elapsed = now - p->t0, frac;
	char text[256], took[48], left[48] = "", bar[64];
	int width, fill, n;

	clock_text(took, sizeof(took), elapsed);
	if (p->work_done && p->work_total > p->work_done)
		clock_text(left, sizeof(left),
			   elapsed * (double)(p->work_total - p->work_done) / p->work_done);
	n = snprintf(text, sizeof(text),
		     " %llu/%llu, %llu failed, %.0f MB -> %.0f MB, %.1f MP/s, %s%s%s",
		     (unsigned long long)p->done, (unsigned long long)p->total,
		     (unsigned long long)p->failed, p->bytes_in / 1e6, p->bytes_out / 1e6,
		     elapsed > 0 ? p->pixels / 1e6 / elapsed : 0.0, took,
		     *left ? ", ETA " : "", left);
	width = columns() - 1 - n - 2;	/* the last column would wrap */
	if (width > 40)
		width = 40;
	frac = p->work_total ? (double)p->work_done / p->work_total :
	       p->total ? (double)p->done / p->total : 1;
	if (width >= 10) {
		fill = (int)(frac * width + 0.5);
		memset(bar, '#', (size_t)fill);
		memset(bar + fill, '.', (size_t)(width - fill));
		bar[width] = '\0';
		fprintf(stderr, "\r[%s]%.*s\033[K", bar, columns() - 1 - width - 2, text);
	} else {
		fprintf(stderr, "\r%.*s\033[K", columns() - 1, text + 1);
	}
	fflush(stderr);
	p->on_screen = 1;
}

static void
print_plain(struct progress *p)
{
	fprintf(stderr, "imgbake: %llu/%llu done, %llu failed, %.0f MB -> %.0f MB\n",
		(unsigned long long)p->done, (unsigned long long)p->total,
		(unsigned long long)p->failed, p->bytes_in / 1e6, p->bytes_out / 1e6);
	p->printed++;
	p->printed_done = p->done;
}

void
progress_tick(struct progress *p, double now)
{
	if (p->mode == PROGRESS_NONE || now - p->last < p->interval)
		return;
	p->last = now;
	if (p->mode == PROGRESS_BAR)
		draw_bar(p, now);
	else
		print_plain(p);
}

void
progress_hide(struct progress *p)
{
	if (p->on_screen) {
		fputs("\r\033[K", stderr);
		p->on_screen = 0;
	}
}

void
progress_finish(struct progress *p, double now)
{
	(void)now;
	if (p->mode == PROGRESS_BAR)
		progress_hide(p);
	else if (p->mode == PROGRESS_PLAIN && p->printed && p->printed_done != p->done)
		print_plain(p);
	report_set_progress(NULL);
}
