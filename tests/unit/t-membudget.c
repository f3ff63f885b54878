/* Unit tests: the per-job memory model orders jobs the way the
 * measurements do, and the default budget is sane. */
#include "membudget.h"
#include "tap.h"

#define MB (1024 * 1024)

static struct mem_job
photo(enum src_type type, int w, int h, unsigned formats)
{
	struct mem_job j = { 0 };

	j.type = type;
	j.width = w;
	j.height = h;
	j.bands = 3;
	j.sample_bytes = 1;
	j.jpeg_shrink = 1;
	j.out_width = w;
	j.out_height = h;
	j.n_outputs = 1;
	j.formats = formats;
	return j;
}

int
main(void)
{
	struct mem_job base = photo(SRC_JPEG, 6000, 4000, 1u << FMT_JPEG);
	struct mem_job j;
	uint64_t e_base = mem_estimate(&base), e, budget;

	/* measured here: 24 MP JPEG -> JPEG, sequential, peaks ~16 MB over
	 * the baseline; the estimate must cover it without being absurd */
	ok(e_base >= 16 * MB && e_base <= 160 * MB,
	   "24 MP JPEG to JPEG: %.0f MB", e_base / (double)MB);

	j = photo(SRC_JPEG, 6000, 4000, 1u << FMT_WEBP);
	e = mem_estimate(&j);
	/* measured: ~330 MB for the same image to WebP */
	ok(e >= 330ULL * MB, "24 MP JPEG to WebP covers the measured 330 MB (%.0f MB)",
	   e / (double)MB);

	j = photo(SRC_JPEG, 6000, 4000, 1u << FMT_AVIF);
	ok(mem_estimate(&j) > e, "AVIF needs more than WebP");
	ok(mem_estimate(&j) >= 460ULL * MB, "24 MP to AVIF covers the measured 460 MB");
	e = mem_estimate(&j);
	j.avif_intrabc = 1;
	ok(mem_estimate(&j) > e + 6000ULL * 4000 * 60,
	   "AVIF through heifsave, intra block copy on, costs more again");

	j = base;
	j.interlaced = 1;
	ok(mem_estimate(&j) >= e_base + 6000ULL * 4000 * 6,
	   "progressive JPEG adds its coefficient buffer");

	j = photo(SRC_WEBP, 6000, 4000, 1u << FMT_JPEG);
	ok(mem_estimate(&j) >= e_base + 6000ULL * 4000 * 8, "WebP decodes whole frames");

	j = photo(SRC_JPEG, 6000, 4000, (1u << FMT_WEBP) | (1u << FMT_AVIF));
	j.out_width = 1920;
	j.out_height = 1280;
	j.n_outputs = 6;
	j.jpeg_shrink = 2;
	e = mem_estimate(&j);
	ok(e < mem_estimate(&(struct mem_job){ .type = SRC_JPEG, .width = 6000,
		.height = 4000, .bands = 3, .sample_bytes = 1, .jpeg_shrink = 1,
		.out_width = 6000, .out_height = 4000, .n_outputs = 1,
		.formats = 1u << FMT_AVIF }),
	   "a responsive set at 1920 costs less than a full-size AVIF");
	ok(e >= (uint64_t)(1920 * 1280 * 3), "and includes the in-memory copy");
	j.formats = 1u << FMT_AVIF;
	j.n_outputs = 3;
	ok(e >= mem_estimate(&j) + 1920 * 1280 * 3,
	   "two formats keep the resized width in memory too");

	/* measured: a 6120x3432 PNG with a translucent alpha channel peaks
	 * ~470 MB over the baseline to WebP; the same picture without alpha
	 * ~140 MB (6.4 B/px, as a 24 MP RGB PNG) */
	j = photo(SRC_PNG, 6120, 3432, 1u << FMT_WEBP);
	j.bands = 4;
	e = mem_estimate(&j);
	ok(e >= 470ULL * MB, "21 MP RGBA PNG to WebP covers the measured 470 MB (%.0f MB)",
	   e / (double)MB);
	j.bands = 3;
	ok(mem_estimate(&j) >= 140ULL * MB && mem_estimate(&j) < e / 2 + 16 * MB,
	   "without alpha, it covers 140 MB at half the cost or less (%.0f MB)",
	   mem_estimate(&j) / (double)MB);
	j.type = SRC_TIFF;
	j.bands = 4;
	ok(mem_estimate(&j) >= e, "four bands of TIFF may be RGBA: the alpha cost stays");

	/* what a job gives back once its alpha plane is read: the rate
	 * grows with the plane's novel fraction up to a quarter (runs of
	 * four cost nearly what noise does), and at its lowest an alpha of
	 * 255 everywhere costs what no alpha does */
	ok(mem_webp_alpha_px(0, 80) < mem_webp_alpha_px(0.1, 80) &&
	   mem_webp_alpha_px(0.1, 80) < mem_webp_alpha_px(0.25, 80) &&
	   mem_webp_alpha_px(0.25, 80) == mem_webp_alpha_px(1, 80) &&
	   mem_webp_alpha_px(2, 80) == mem_webp_alpha_px(1, 80) &&
	   mem_webp_alpha_px(-1, 80) == mem_webp_alpha_px(0, 80) &&
	   mem_webp_opaque_px(80) < mem_webp_alpha_px(0, 80),
	   "the alpha rate: grows with the novel fraction, between the opaque rate and noise");
	/* measured, all included: noise colours at 9 MP, alpha of 255, at
	 * quality 100: 24.6 B/px; a blurred alpha over them at 90: 41.4,
	 * at 100: 46.9; noise over noise at 100: 53.0 */
	ok(mem_webp_opaque_px(100) >= 24.6 && mem_webp_alpha_px(0.05, 90) >= 41.4 &&
	   mem_webp_alpha_px(0.05, 100) >= 46.9 && mem_webp_alpha_px(1, 100) >= 53.0,
	   "above quality 80 the rates cover what was measured");
	ok(mem_webp_opaque_px(50) == mem_webp_opaque_px(80) &&
	   mem_webp_alpha_px(1, 0) == mem_webp_alpha_px(1, 80),
	   "and at 80 or below they do not change");
	j = photo(SRC_PNG, 6120, 3432, 1u << FMT_WEBP);
	j.bands = 4;
	e = mem_estimate(&j);
	j.webp_quality = 100;
	ok(mem_estimate(&j) > e, "-Q 100 raises the estimate of WebP with alpha");
	j.bands = 3;
	e = mem_estimate(&j);
	j.webp_quality = 80;
	ok(e > mem_estimate(&j), "... and of WebP without");
	j.bands = 4;
	e = mem_estimate(&j) -
	    (uint64_t)(6120.0 * 3432 * (mem_webp_alpha_px(1, 80) - mem_webp_opaque_px(80)));
	j.bands = 3;
	ok(e >= mem_estimate(&j) && e < mem_estimate(&j) + 32 * MB,
	   "an estimate lowered for an alpha of 255 is the RGB picture's, with four bands "
	   "of pipeline (%.0f MB, %.0f MB)", e / (double)MB, mem_estimate(&j) / (double)MB);
	j = photo(SRC_PNG, 6120, 3432, 1u << FMT_WEBP);
	j.bands = 4;
	ok(mem_estimate(&j) >= (uint64_t)(6120.0 * 3432 * mem_webp_alpha_px(1, 80)),
	   "before the pixels are read, the estimate takes the worst alpha");

	j = photo(SRC_PNG, 64, 64, 1u << FMT_WEBP);
	ok(mem_estimate(&j) < 16 * MB, "an icon is cheap (%.1f MB)",
	   mem_estimate(&j) / (double)MB);

	budget = mem_default_budget();
	ok(budget >= 16 * MB && budget <= 1024ULL * MB,
	   "default budget within [16 MB, 1 GiB]: %.0f MB", budget / (double)MB);
	return done_testing();
}
