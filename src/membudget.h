/*
 * The memory model: how many bytes one job will add to the process's
 * resident set at its peak, estimated from the source's header before
 * any pixel is decoded, and the default budget for the whole process.
 * Pure functions (bar the budget, which reads /proc and /sys).
 */
#ifndef IMGBAKE_MEMBUDGET_H
#define IMGBAKE_MEMBUDGET_H

#include <stdint.h>

#include "job.h"

struct mem_job {
	enum src_type type;
	int width, height;	/* as stored, before rotation or shrink */
	int bands;
	int sample_bytes;	/* 1 for 8-bit, 2 for 16-bit */
	int interlaced;		/* progressive JPEG or interlaced PNG */
	int rotated;		/* orientation asks for a rotation */
	int jpeg_shrink;	/* libjpeg's shrink-on-load: 1, 2, 4, 8 */
	double load_scale;	/* WebP decoded at this scale, 1: full size */
	int out_width, out_height;	/* largest output */
	int n_outputs;		/* widths x formats */
	unsigned formats;	/* bit (1 << enum out_format) per format */
	int avif_intrabc;	/* AVIF with libaom's intra block copy on */
	int webp_quality;	/* -Q for WebP; 0: the default */
};

/* Upper bound, in bytes, of the job's RSS growth at its peak. */
uint64_t mem_estimate(const struct mem_job *j);

/* libwebp's bytes per output pixel at quality q for a picture with
 * alpha, of which a fraction `novel` (0 to 1) of the pixels differs
 * from both its left and its upper neighbour; mem_estimate assumes 1,
 * the worst.  And for an opaque picture, or one whose alpha is 255
 * everywhere, which libwebp leaves out. */
double mem_webp_alpha_px(double novel, int q);
double mem_webp_opaque_px(int q);

/* A quarter of the memory this process may use (the cgroup v2
 * memory.max that applies to it, else physical RAM), at most 1 GiB. */
uint64_t mem_default_budget(void);

#endif
