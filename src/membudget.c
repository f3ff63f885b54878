/*
 * The per-job memory model.  libvips' own accounting misses the codec
 * libraries (libjpeg's coefficient buffers, libwebp's and libaom's
 * encoders), which are most of the memory, so the model is built from
 * the header and calibrated against measured peak RSS on real images
 * (scripts/calibrate-memory.sh, data in scripts/calibration/).
 *
 *   peak = fixed + pipeline + decode + copies + encode
 *
 * fixed     per-job constant: decoder state, thread stacks, the
 *           compressed output held before it is written
 * pipeline  libvips region buffers, ~1 KiB per byte of decoded row
 * decode    what the decoder holds whole: progressive JPEG coefficients,
 *           interlaced PNG, WebP and HEIF frames, GIF canvases
 * copies    the in-memory image feeding several outputs, a resized
 *           width feeding several formats, and the rotation of the
 *           largest output
 * encode    the largest output through the hungriest encoder requested
 *           (outputs are encoded one after another)
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "membudget.h"

#define MB (1024.0 * 1024.0)

/* Encoder bytes per output pixel, from the calibration runs (the
 * worst rows, not the typical ones; WebP's are mem_webp_alpha_px's and
 * mem_webp_opaque_px's).  libaom, with its own four threads, took 40
 * to 135 B/px there, the top of that range on pictures it treats as
 * screen content, where it hashed them for intra block copy; with that
 * tool off the worst measured since is 40 B/px (2-3 MP graphics, photos
 * and RGBA alike; 23 B/px at 24 MP), and 60 keeps a margin. */
static const double encode_per_px[FMT_COUNT] = {
	[FMT_AVIF] = 60.0,
	[FMT_JPEG] = 3.5,
	[FMT_PNG] = 1.5,
};
static const double encode_fixed[FMT_COUNT] = {
	[FMT_WEBP] = 2 * MB,
	[FMT_AVIF] = 16 * MB,
	[FMT_JPEG] = 1 * MB,
	[FMT_PNG] = 1 * MB,
};

/* WebP with alpha: libwebp compresses the alpha plane with its
 * lossless encoder, a full encoder of its own, which on large pictures
 * runs in a second thread beside the lossy one: their peaks add up.
 * The lossless one holds more the more backward references it finds:
 * few on a plane of flat areas and soft edges, one a pixel on noise,
 * and nearly as many on runs of a few pixels (noise blown up four
 * times across, a quarter of its pixels new, took 42.9 B/px against
 * noise's 46.2).  Measured on 21 MP with the bench's translucent PNG's
 * colours, encoder only (RSS over the filled picture's): its own alpha
 * 20.4 B/px, a gradient 13.7, noise in 10%, 30% and 60% of the pixels
 * 22.1, 21.8 and 30.5, noise 35.1; with the colours grey, a blurred
 * noise alpha at 3 MP 22.6 and noise 35.4.  Colours of noise, the lossy
 * encoder's worst, add 12 B/px to that (the blurred alpha: 34.4); all
 * included, as a job, 32.5 to 37 B/px at 3 and 9 MP, and the bench's PNG
 * 22.4.  So 40 B/px, and up to 8 more as the fraction of the plane
 * that repeats neither neighbour grows to a quarter; before decoding,
 * the estimate takes the worst, noise (44 to 46 B/px measured).
 *
 * Above quality 80 the lossy encoder keeps more, and more of it while
 * the alpha encoder runs: noise colours at 9 MP took 16.1, 19.0 and
 * 24.6 B/px at 80, 90 and 100 with an alpha of 255, the blurred alpha
 * over them 32.5, 41.4 and 46.9, noise over noise at 4 MP 46.2 to 53.0.
 * A point of quality over 80 adds 1 B/px with alpha, 0.6 without. */
#define WEBP_ALPHA_BASE 40.0
#define WEBP_ALPHA_NOVEL 8.0

static double
over_80(int q)
{
	return q > 80 ? q - 80 : 0;
}

double
mem_webp_alpha_px(double novel, int q)
{
	double share = novel * 4;

	if (share < 0)
		share = 0;
	return WEBP_ALPHA_BASE + WEBP_ALPHA_NOVEL * (share > 1 ? 1 : share) + over_80(q);
}

/* Without an alpha channel libwebp needs a third of that worst case
 * or less: the worst rows are pictures with alpha, whose plane libwebp
 * compresses with its lossless encoder, a full encoder of its own (up
 * to 19 B/px on a 21 MP translucent PNG).  Opaque sources took 9.6 B/px
 * at most, all included, over the calibration inputs (JPEG photos,
 * CMYK ones too, whose fourth band is no alpha; 8 and 16-bit, grey,
 * plain and interlaced PNG; WebP; AVIF) and the flat graphics of the
 * corpus flattened to RGB (2.2-4.6 B/px, PNG and TIFF). */
#define WEBP_PER_PX_OPAQUE 15.0

double
mem_webp_opaque_px(int q)
{
	return WEBP_PER_PX_OPAQUE + 0.6 * over_80(q);
}

/* AVIF with libaom's intra block copy on (heifsave's way, not
 * imgbake's): the worst calibration rows hold. */
#define AVIF_PER_PX_INTRABC 140.0

static double
encode_px(const struct mem_job *j, int f)
{
	if (f == FMT_WEBP && (j->type == SRC_JPEG || j->bands == 1 || j->bands == 3))
		return mem_webp_opaque_px(j->webp_quality);
	if (f == FMT_WEBP)
		return mem_webp_alpha_px(1, j->webp_quality);
	if (f == FMT_AVIF && j->avif_intrabc)
		return AVIF_PER_PX_INTRABC;
	return encode_per_px[f];
}

#define JOB_FIXED (6 * MB)

static double
decode_bytes(const struct mem_job *j)
{
	double px = (double)j->width * j->height;

	switch (j->type) {
	case SRC_JPEG:
		/* progressive: 2 bytes per coefficient, per component,
		 * for the whole image whatever the shrink */
		return j->interlaced ? px * (2.0 * j->bands + 0.5) : 0;
	case SRC_PNG:
		return j->interlaced ? px * j->bands * j->sample_bytes * 1.1 : 0;
	case SRC_WEBP:
		return px * 10.0;	/* RGBA canvas + RGBA frame, and libwebp's own */
	case SRC_HEIF:
		return px * 7.5;
	case SRC_GIF:
		return px * 8.5;
	case SRC_TIFF:
		/* tiled TIFFs decode in tiles; allow one full plane */
		return px * j->bands * j->sample_bytes;
	default:
		return px * 8.0;
	}
}

uint64_t
mem_estimate(const struct mem_job *j)
{
	double shrink = j->type == SRC_JPEG && j->jpeg_shrink > 1 ? j->jpeg_shrink : 1;
	double scale = j->load_scale > 0 && j->load_scale < 1 ? j->load_scale : 1;
	double dec_width = j->width / shrink;
	double out_px = (double)j->out_width * j->out_height;
	int out_bands = j->bands > 4 ? 4 : j->bands;	/* 8-bit, CMYK made RGB */
	double total = JOB_FIXED, enc = 0, pipe;
	int f;

	pipe = dec_width * scale * j->bands * j->sample_bytes * 1024.0;
	/* a resize with alpha premultiplies, in float: four bytes a sample */
	if ((j->bands == 2 || j->bands == 4) &&
	    (double)j->out_width * j->out_height < (double)j->width * j->height)
		pipe *= 4.0 / j->sample_bytes;
	total += pipe;
	total += decode_bytes(j) * scale * scale;
	/* lossless WebP decodes the whole ARGB frame whatever the scale */
	if (j->type == SRC_WEBP && scale < 1)
		total += (double)j->width * j->height * 4.0;
	if (j->n_outputs > 1)
		total += out_px * out_bands;
	/* several formats: each resized width is kept in memory beside it */
	if ((j->formats & (j->formats - 1)) &&
	    out_px < (double)j->width * j->height)
		total += out_px * out_bands;
	if (j->rotated)
		total += out_px * j->bands * j->sample_bytes;
	for (f = 0; f < FMT_COUNT; f++)
		if (j->formats & (1u << f)) {
			double e = out_px * encode_px(j, f) + encode_fixed[f];

			if (e > enc)
				enc = e;
		}
	total += enc;
	return (uint64_t)total;
}

uint64_t
mem_default_budget(void)
{
	uint64_t ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t limit = cgroup_memory_limit(NULL);
	uint64_t budget;

	if (limit && limit < ram)
		ram = limit;
	budget = ram / 4;
	return budget > (1ULL << 30) ? 1ULL << 30 : budget;
}
