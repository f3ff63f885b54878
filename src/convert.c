/*
 * The conversion of one source, on a worker thread.
 *
 *   open fd -> hash -> header (type's own *_source loader, sequential,
 *   fail on errors) -> pixel limit -> shrink-on-load for the largest
 *   width -> [CMYK: ICC to sRGB] -> thumbnail_image to the largest
 *   width (auto-rotate, sRGB, premultiplied resize) -> [several
 *   outputs: one copy in memory] -> per width, largest first: resize
 *   from that copy -> per format: flatten / strip -> save to a temp
 *   file -> rename.
 *
 * A sequential image can feed only one output, so with several outputs
 * the largest-width image is kept in memory and everything else is
 * derived from it; the source is decoded exactly once.  With one
 * output the pixels stream from the decoder to the encoder.
 *
 * Nothing here prints: failures become the result's reason and text,
 * copied from libvips' error buffer right after the failing call.
 */
#include <dlfcn.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gmodule.h>
#include <libexif/exif-data.h>
#include <libheif/heif.h>
#include <vips/vips.h>
#include <vips/vector.h>	/* vips_vector_set_enabled() */
#include <webp/encode.h>
#include <webp/mux.h>

#include "convert.h"
#include "hash.h"
#include "icc.h"
#include "membudget.h"
#include "output.h"
#include "paths.h"
#include "plan.h"
#include "vipserror.h"
#include "webpdirect.h"

/* libaom's encoder, WebP's and libjpeg refuse larger images */
#define WEBP_MAX_EDGE 16383
#define AVIF_MAX_EDGE 16384
#define JPEG_MAX_EDGE 65500

/* Whether a picture width x height is over the longest side format f
 * holds: then err says so. */
static int
over_edge(char *err, size_t errlen, enum out_format f, int width, int height)
{
	int max_edge = f == FMT_WEBP ? WEBP_MAX_EDGE : f == FMT_AVIF ? AVIF_MAX_EDGE :
		       f == FMT_JPEG ? JPEG_MAX_EDGE : 0;

	if (!max_edge || (width <= max_edge && height <= max_edge))
		return 0;
	snprintf(err, errlen, "%dx%d is over %s's %d pixel edge", width, height,
		 f == FMT_WEBP ? "WebP" : f == FMT_AVIF ? "AVIF" : "JPEG", max_edge);
	return 1;
}

/* libaom's threads an AVIF encode.  Its output is the same for any
 * number above one (one changes it), so the number may not follow -j
 * or the CPUs, as -j1 and -j4 must write the same bytes.  Two rather
 * than libheif's four: with a job on every core, eight threads fought
 * over two cores (59 photos to AVIF at 480/960/1920, -j2: 3% less wall
 * and CPU time, the same files), and a picture left alone at the end
 * of a batch still gets a second core. */
#define AVIF_THREADS 2
/* libnsgif (libvips 8.14's) stops counting a GIF's frames past this
 * many, and reports one more */
#define GIF_FRAMES_COUNTED 4096
/* pictures from which libwebp gets a second thread */
#define WEBP_THREAD_MIN_PX 1000000
/* pictures from which a job lowers its estimate before the encode:
 * below, what it would give back matters little to the budget */
#define LOWER_MIN_PX 1000000
/* pictures up to this size are computed on the job's own thread */
#define RENDER_HERE_MAX_PX 2000000
/* the largest resolution, in pixels a mm, vips_copy() takes */
#define RES_MAX 1e6
/* sources from which an AVIF job returns its freed memory */
#define TRIM_AFTER_PX 4000000

struct conv {
	const struct options *o;
	const struct plan *plan;	/* NULL when probing */
	const struct job *job;
	struct result *res;
	int slot;
	uint64_t estimate;		/* convert_probe's, bytes */
	struct sched_slot *sched;	/* to lower it; NULL when probing */
	int single;			/* the job writes one output */
	atomic_int *stop;
	double deadline;	/* run_clock() seconds; 0: none */
	atomic_int timed_out;	/* set by libvips threads through on_eval */
	int lenient;		/* this pass decodes with fail_on none */
	int opaque;		/* the picture in memory has an alpha of 255 */
	int text_lost;		/* failed with no text from libvips */
	int vector;		/* the loader draws at any scale (SVG, PDF) */
	int unit_grey;		/* float grey whose values go from 0 to 1 */
	int float_srgb;		/* float RGB whose values go from 0 to 255 */
	int unit_alpha;		/* float alpha that goes from 0 to 1 */
	int uint_bits;		/* 32-bit samples hold 8, 16 or 32 bits */
	int alpha_bits;		/* ... and their alpha, when it has its own */
	off_t bytes;		/* of the opened source */
	/* outputs written under their temporary names: a job renames all
	 * of them into place once every one is written, so a job that
	 * fails halfway leaves what an earlier run made as it was */
	struct tempfile *staged;
	int n_staged;
	char err[PATH_MSG_MAX];
};

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Nanoseconds the process spent stopped, which CLOCK_MONOTONIC counts. */
static atomic_llong paused_ns;

void
convert_add_pause(double seconds)
{
	if (seconds > 0)
		atomic_fetch_add(&paused_ns, (long long)(seconds * 1e9));
}

/* The clock --timeout runs on: the monotonic one, less the time the
 * process was stopped. */
static double
run_clock(void)
{
	return mono_now() - (double)atomic_load(&paused_ns) / 1e9;
}

/* Whether c is out of time.  A job continued after a stop runs again
 * the moment the SIGCONT handler does, on another thread, and may look
 * before the stop is counted: it looks again a moment later. */
static int
past_deadline(const struct conv *c)
{
	struct timespec moment = { 0, 50 * 1000 * 1000 };

	if (c->deadline <= 0 || run_clock() <= c->deadline)
		return 0;
	nanosleep(&moment, NULL);
	return run_clock() > c->deadline;
}

/* Set when GObject refused a width or height in this thread: a
 * loader's header giving a size libvips cannot hold (over
 * VIPS_MAX_COORD a side) leaves the image 1x1, with only this warning
 * to tell.  Other warnings go on as GLib prints them. */
static _Thread_local int value_refused;

static void
note_refused(const char *domain, GLogLevelFlags level, const char *msg, void *data)
{
	if (strstr(msg, "out of range for property 'width'") ||
	    strstr(msg, "out of range for property 'height'"))
		value_refused = 1;
	else
		g_log_default_handler(domain, level, msg, data);
}

static void
drop_log(const char *domain, GLogLevelFlags level, const char *msg, void *data)
{
	/* Workers must not print: libvips warnings would interleave with
	 * the report, and a damaged PNG can emit one per row.  Failures
	 * reach the user through the error buffer instead. */
	(void)domain;
	(void)level;
	(void)msg;
	(void)data;
}

/* libvips loads every module of its module directory at VIPS_INIT;
 * Debian's five (heif, jxl, magick, openslide, poppler) bring 17 more
 * shared libraries, a third of the CPU time of imgbake's start (43 ms
 * against 29 for one small image) and 5 MB of resident pages.  The
 * loaders a run may use are in the heif module unless --allow-loader
 * names another, so convert_init sends libvips to look for its files
 * under a directory that does not exist (VIPSHOME, where the user has
 * not set it; imgbake uses libvips' message catalogues no more than
 * its other files, as it runs in the C locale) and loads the modules
 * it needs from beside libvips itself. */
#define NO_MODULES_HOME "/nonexistent"

/* vips-modules-X.Y beside the libvips library this process runs */
static char *
module_dir(void)
{
	Dl_info info;
	char *lib, *dir;

	if (!dladdr((void *)vips_init, &info) || !info.dli_fname)
		return NULL;
	lib = g_path_get_dirname(info.dli_fname);
	dir = g_strdup_printf("%s/vips-modules-%d.%d", lib, vips_version(0), vips_version(1));
	g_free(lib);
	return dir;
}

/* Load module `name` (vips-NAME.so), or every module when `name` is
 * NULL.  A module missing or failing to load is not an error: its
 * loaders are then missing, as they would be from libvips. */
static void
load_modules(const char *name)
{
	char *dir = module_dir(), *path;
	const char *file;
	GDir *d;

	if (!dir || !g_module_supported())
		goto out;
	if (name) {
		path = g_strdup_printf("%s/vips-%s.%s", dir, name, G_MODULE_SUFFIX);
		(void)g_module_open(path, G_MODULE_BIND_LAZY);
		g_free(path);
	} else if ((d = g_dir_open(dir, 0, NULL))) {
		while ((file = g_dir_read_name(d)))
			if (g_str_has_suffix(file, "." G_MODULE_SUFFIX)) {
				path = g_build_filename(dir, file, NULL);
				(void)g_module_open(path, G_MODULE_BIND_LAZY);
				g_free(path);
			}
		g_dir_close(d);
	}
out:
	g_free(dir);
}

/* every module, unless the built-in and heif loaders are all we need */
static int
need_all_modules(const struct options *o)
{
	int j;

	if (o->list_formats)
		return 1;
	for (j = 0; j < o->n_allow_loaders; j++)
		if (!vips_type_find("VipsForeignLoad", o->allow_loaders[j]))
			return 1;
	return 0;
}

/* Whether the loader nickname ("svgload") has a variant that reads from
 * a libvips source, as imgbake opens every file: in libvips 8.14
 * magickload, openexrload, matload and analyzeload read only named
 * files, and the source variants of fitsload and openslideload only
 * sources made from a file name. */
static int
reads_sources(const char *nickname)
{
	/* their _source variants open the source's file name: a
	 * descriptor has none */
	static const char *const named_only[] = { "fitsload", "openslideload" };
	size_t n = strlen(nickname), i;
	char *name;
	int r;

	for (i = 0; i < sizeof(named_only) / sizeof(named_only[0]); i++)
		if (!strncmp(nickname, named_only[i], strlen(named_only[i])))
			return 0;

	if (n >= 7 && !strcmp(nickname + n - 7, "_source"))
		return 1;
	name = g_strconcat(nickname, "_source", NULL);
	r = vips_type_find("VipsForeignLoad", name) != 0;
	g_free(name);
	return r;
}

int
convert_init(const char *argv0, int threads, const struct options *o,
	char *err, size_t errlen)
{
	static const char *const allowed[] = {
		"VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadWebp",
		"VipsForeignLoadNsgif", "VipsForeignLoadTiff", "VipsForeignLoadHeif",
	};
	struct heif_error he;
	size_t i;
	int j, own_modules = !getenv("VIPSHOME");

	if (own_modules && setenv("VIPSHOME", NO_MODULES_HOME, 1))
		own_modules = 0;
	if (VIPS_INIT(argv0)) {
		snprintf(err, errlen, "cannot start libvips: %s", vips_error_buffer());
		return -1;
	}
	if (own_modules) {
		unsetenv("VIPSHOME");
		load_modules("heif");
		if (need_all_modules(o))
			load_modules(NULL);
	}
	/* libheif's codecs, registered here once rather than by the first
	 * AVIF encode on some worker.  Never undone: libheif 1.15's
	 * heif_deinit() unlocks a mutex it never locked (ThreadSanitizer
	 * reports it), and the process is about to end anyway. */
	he = heif_init(NULL);
	if (he.code) {
		snprintf(err, errlen, "cannot start libheif: %s", he.message);
		return -1;
	}
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	vips_cache_set_max_files(0);
	/* No run-time compiled (liborc) vector paths.  libvips 8.14 compiles
	 * an orc program for each resize it builds and frees it with the
	 * pipeline, and liborc 0.4.33 splits and merges the chunks of its
	 * code memory outside its lock: two workers building or freeing
	 * pipelines at once corrupt its list.  That crashed imgbake in
	 * about one run in 700 of a small-image responsive batch (in
	 * orc_code_free), and two programs given one chunk could run the
	 * wrong code silently.  The plain C paths cost a few percent on
	 * small responsive sets, nothing on full-size conversions, and
	 * give the same bytes on every x86-64 CPU. */
	vips_vector_set_enabled(FALSE);
	vips_concurrency_set(threads);
	vips_block_untrusted_set(TRUE);
	vips_operation_block_set("VipsForeignLoad", TRUE);
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		vips_operation_block_set(allowed[i], FALSE);
	/* --allow-loader: the loader's family, so its _source variant too */
	for (j = 0; j < o->n_allow_loaders; j++) {
		GType type = vips_type_find("VipsForeignLoad", o->allow_loaders[j]);

		if (!type) {
			snprintf(err, errlen, "unknown loader '%s' (--allow-loader)",
				 o->allow_loaders[j]);
			return -1;
		}
		if (!reads_sources(o->allow_loaders[j])) {
			snprintf(err, errlen, "loader '%s' reads only named files in this "
				 "libvips, not the opened files imgbake gives it (--allow-loader)",
				 o->allow_loaders[j]);
			return -1;
		}
		vips_operation_block_set(g_type_name(g_type_parent(type)), FALSE);
	}
	g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE |
			  G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG, drop_log, NULL);
	g_log_set_handler("GLib-GObject", G_LOG_LEVEL_WARNING, note_refused, NULL);
	vips_leak_set(getenv("IMGBAKE_LEAK") != NULL);
	return 0;
}

void
convert_shutdown(void)
{
	vips_shutdown();
}

/* Whether an error text says the disk or the quota is full: a text
 * that names no path (strerror's, or libvips', whose sources and
 * targets are descriptors).  A message of ours that quotes paths is
 * judged by its errno instead (fail_io): a path may say anything. */
static int
says_disk_full(const char *text)
{
	return strstr(text, strerror(ENOSPC)) || strstr(text, strerror(EDQUOT));
}

/* Fail the job with a reason class, which comes from our stage, and
 * a detail text; full: the disk or the quota is full, and every output
 * after this one would fail the same way.  The first failure of a job
 * is the one reported. */
static void
fail_as(struct conv *c, enum job_reason reason, const char *stage, const char *text,
	int full)
{
	if (c->res->status == JOB_FAILED)
		return;
	if (*c->stop)
		reason = REASON_INTERRUPTED;
	else if (atomic_load(&c->timed_out))
		reason = REASON_TIMEOUT;
	else if (full)
		reason = REASON_IO;
	if (reason == REASON_IO && full)
		c->res->disk_full = 1;
	c->res->status = JOB_FAILED;
	c->res->reason = reason;
	if (reason == REASON_INTERRUPTED)
		c->res->error = strdup("interrupted");
	else if (reason == REASON_TIMEOUT)
		c->res->error = g_strdup_printf("%s: over the %d s limit (--timeout)",
						stage, c->o->timeout);
	else
		c->res->error = g_strdup_printf("%s: %s", stage, *text ? text :
			reason == REASON_CORRUPT ? "damaged or truncated data" :
			reason == REASON_ENCODE ? "the encoder failed" :
			"libvips gave no detail");
	/* libvips' error buffer is one per process: a job failing at the
	 * same instant as another can find its text taken with the
	 * other's */
	c->text_lost = !*text;
}

/* Whether a loader's text says the file is whole but of a kind it
 * does not decode (a half-float TIFF, a TIFF compressed as libtiff
 * cannot undo, a HEIF of a codec libheif lacks):
 * unsupported rather than corrupt, and not worth a --lenient retry. */
static int
names_unsupported(const char *text)
{
	return text && (strstr(text, "tiff2vips: unsupported") ||
			strstr(text, "decoding is not implemented") ||	/* libtiff */
			strstr(text, "Unsupported feature"));	/* libheif */
}

/* Whether the text says the process ran out of descriptors or
 * threads (ulimit -n, -u, -v): the file is not at fault.  libvips dups
 * the descriptor it reads from without checking, and the read then
 * fails with EBADF. */
static int
names_resources(const char *text)
{
	return text && (strstr(text, "Too many open files") ||
			strstr(text, "Bad file descriptor") ||
			strstr(text, "Error creating thread"));
}

/* Whether a loader's text says it stopped at a limit of its own: a
 * picture too big for libheif, an SVG of too many references for
 * librsvg (nested <use>, a "billion laughs"). */
static int
names_limit(const char *text)
{
	return text && (strstr(text, "Security limit exceeded") ||	/* libheif */
			strstr(text, "referenced elements"));	/* librsvg */
}

/* fail_as with a text that names no path (see says_disk_full); one
 * that says the kind is not decoded is unsupported, one that says the
 * process ran short of descriptors or threads is io, one that names a
 * decoder's own limit is limit. */
static void
fail_text(struct conv *c, enum job_reason reason, const char *stage, const char *text)
{
	if (reason == REASON_CORRUPT && names_resources(text))
		reason = REASON_IO;
	else if (reason == REASON_CORRUPT && names_limit(text))
		reason = REASON_LIMIT;
	else if (reason == REASON_CORRUPT && names_unsupported(text))
		reason = REASON_UNSUPPORTED;
	fail_as(c, reason, stage, text, says_disk_full(text));
}

/* ... with c->err, which the output functions filled, quoting paths,
 * and the errno they failed with. */
static void
fail_io(struct conv *c, const char *stage, int err)
{
	fail_as(c, REASON_IO, stage, c->err, err == ENOSPC || err == EDQUOT);
}

/* The domains libvips' loaders log their failures under, by source
 * type (prefixes: "VipsJpeg", "gifload_source", "webp2vips"; libtiff's
 * functions, and the name libvips opens a TIFF under). */
#define LOADER_DOMAINS_MAX 5
static const char *const loader_domains[][LOADER_DOMAINS_MAX] = {
	[SRC_JPEG] = { "VipsJpeg", "jpegload" },
	[SRC_PNG] = { "vipspng", "pngload", "spngload" },
	[SRC_WEBP] = { "webp" },
	[SRC_GIF] = { "gifload" },
	[SRC_TIFF] = { "tiff", "TIFF", "vips__tiff", "source input", "LZWDecode" },
	[SRC_HEIF] = { "heif" },
};

/* libvips' error text for a job of this type: without the lines of
 * another type's loader, another job's failing at the same instant. */
static char *
vips_text_for(enum src_type type)
{
	const char *foreign[(SRC_HEIF + 1) * LOADER_DOMAINS_MAX + 1];
	size_t t, k, n = 0;

	for (t = SRC_JPEG; t <= SRC_HEIF; t++) {
		if (t == (size_t)type)
			continue;
		for (k = 0; k < LOADER_DOMAINS_MAX && loader_domains[t][k]; k++)
			foreign[n++] = loader_domains[t][k];
	}
	foreign[n] = NULL;
	return vipserror_take(foreign);
}

/* Fail with libvips' error text (from_vips) or with c->err. */
static void
fail(struct conv *c, enum job_reason reason, const char *stage, int from_vips)
{
	char *text;

	if (!from_vips) {
		/* c->err: our own text, which may quote paths */
		fail_as(c, reason, stage, c->err, 0);
		return;
	}
	text = vips_text_for(c->job->type);
	fail_text(c, reason, stage, text);
	g_free(text);
}

/* Whether a loader nickname ("svgload_source") is one --allow-loader
 * named ("svgload"). */
static int
loader_allowed(const struct options *o, const char *nickname)
{
	int i;

	for (i = 0; i < o->n_allow_loaders; i++) {
		size_t n = strlen(o->allow_loaders[i]);

		if (!strncmp(nickname, o->allow_loaders[i], n) &&
		    (!nickname[n] || !strcmp(nickname + n, "_source")))
			return 1;
	}
	return 0;
}

/* Whether a loader draws its picture at any scale it is asked for:
 * then it is drawn at the size wanted, not at the size the document
 * declares and shrunk (an SVG logo declared 8000 pixels wide, made at
 * -w 480: 1.3 s and 370 MB). */
static int
draws_at_scale(const char *nickname)
{
	return !strncmp(nickname, "svgload", 7) || !strncmp(nickname, "pdfload", 7);
}

/* A type imgbake has no loader of its own for, opened only through a
 * loader the user allowed: libvips' choice must be one of those.  A
 * loader that draws at any scale draws at scale (< 1: smaller). */
static VipsImage *
load_allowed(struct conv *c, VipsSource *src, VipsFailOn fail_on, double scale)
{
	const char *type_name = vips_foreign_find_load_source(src);
	const char *name = type_name ? vips_nickname_find(g_type_from_name(type_name)) : NULL;
	const char *mime = c->job->mime ? c->job->mime : "this file";
	VipsImage *img;

	if (!name || !loader_allowed(c->o, name)) {
		if (!name)	/* what libvips logged of its search */
			g_free(vips_text_for(c->job->type));
		if (!name)
			snprintf(c->err, sizeof(c->err), "no libvips loader for %s", mime);
		else
			snprintf(c->err, sizeof(c->err), "%s would be decoded by %s, "
				 "which is not allowed (--allow-loader)", mime, name);
		/* met in a walk, and never converted: skipped, as it is
		 * without --allow-loader */
		if (c->job->may_skip) {
			c->res->status = JOB_SKIPPED;
			c->res->reason = REASON_UNSUPPORTED;
			c->res->error = g_strdup_printf("unsupported image type (%s)", c->err);
			return NULL;
		}
		fail(c, REASON_UNSUPPORTED, "decode", 0);
		return NULL;
	}
	c->vector = draws_at_scale(name);
	if (!(img = vips_image_new_from_source(src, "", "access", VIPS_ACCESS_SEQUENTIAL,
					       "fail_on", fail_on,
					       c->vector && scale < 1 ? "scale" : NULL, scale,
					       NULL)))
		fail(c, REASON_CORRUPT, "decode", 1);
	return img;
}

/* Load the header with the type's own loader (never libvips' guess,
 * which ignores the loader block and reads file names as options).
 * jpeg_shrink and scale ask the decoder for a smaller image. */
static VipsImage *
load_header(struct conv *c, VipsSource *src, int jpeg_shrink, double scale)
{
	VipsFailOn fail_on = c->lenient ? VIPS_FAIL_ON_NONE : VIPS_FAIL_ON_ERROR;
	VipsImage *img = NULL;
	int r = -1;

	value_refused = 0;
	switch (c->job->type) {
	case SRC_JPEG:
		/* libjpeg only warns of damaged entropy data ("Corrupt JPEG
		 * data: bad Huffman code"), and goes on to decode garbage:
		 * strict, a warning fails it too */
		r = vips_jpegload_source(src, &img, "access", VIPS_ACCESS_SEQUENTIAL,
					 "fail_on", c->lenient ? fail_on : VIPS_FAIL_ON_WARNING,
					 "shrink", jpeg_shrink, NULL);
		break;
	case SRC_PNG:
		r = vips_pngload_source(src, &img, "access", VIPS_ACCESS_SEQUENTIAL,
					"fail_on", fail_on, NULL);
		break;
	case SRC_WEBP:
		r = vips_webpload_source(src, &img, "access", VIPS_ACCESS_SEQUENTIAL,
					 "fail_on", fail_on, "scale", scale, NULL);
		break;
	case SRC_GIF:
		r = vips_gifload_source(src, &img, "access", VIPS_ACCESS_SEQUENTIAL,
					"fail_on", fail_on, NULL);
		break;
	case SRC_TIFF:
		r = vips_tiffload_source(src, &img, "access", VIPS_ACCESS_SEQUENTIAL,
					 "fail_on", fail_on, NULL);
		break;
	case SRC_HEIF:
		r = vips_heifload_source(src, &img, "access", VIPS_ACCESS_SEQUENTIAL,
					 "fail_on", fail_on, NULL);
		break;
	case SRC_OTHER:
		img = load_allowed(c, src, fail_on, scale);
		r = !img;
		break;
	default:
		fail_text(c, REASON_UNSUPPORTED, "decode", "no decoder");
		return NULL;
	}
	if (r) {
		if (c->job->type != SRC_OTHER)
			fail(c, REASON_CORRUPT, "decode", 1);
		return NULL;
	}
	if (value_refused) {
		snprintf(c->err, sizeof(c->err), "its header gives a width or height "
			 "libvips cannot hold (1 to %d pixels)", VIPS_MAX_COORD);
		fail(c, REASON_LIMIT, "limit", 0);
		g_object_unref(img);
		return NULL;
	}
	/* the HEIF loader logs a seek past the end of every file it opens,
	 * and goes on: that text is no failure's, this job's or another's */
	vipserror_drop_noise();
	return img;
}

/* load_header with libvips' error buffer held: a header that fails
 * here (most damaged files fail so) has its own text, not another
 * header's read at the same instant in another thread, and none of
 * it is left for another's failure. */
static VipsImage *
load(struct conv *c, VipsSource *src, int jpeg_shrink, double scale)
{
	VipsImage *img;

	vipserror_hold();
	img = load_header(c, src, jpeg_shrink, scale);
	vipserror_release();
	return img;
}

/* Whether the JPEG on fd is arithmetic coded: its frame header, found
 * past the segments before it, is one of SOF9-11 or SOF13-15.  Anything
 * unexpected on the way (bytes between segments, which libjpeg would
 * skip, a long run of fill bytes, more than 1 MB or 256 segments) says
 * no: the bound for Huffman coding is the safe one.  pread(2) leaves
 * the offset libvips reads from. */
static int
jpeg_arithmetic(int fd)
{
	unsigned char m[4];
	off_t at = 2;
	int segments = 0, fill = 0;

	while (at < (1 << 20) && segments < 256 &&
	       pread(fd, m, sizeof(m), at) == (ssize_t)sizeof(m) && m[0] == 0xff) {
		if (m[1] == 0xff) {
			if (++fill > 16)
				return 0;
			at++;
			continue;
		}
		fill = 0;
		segments++;
		if (m[1] >= 0xc0 && m[1] <= 0xcf && m[1] != 0xc4 && m[1] != 0xc8 && m[1] != 0xcc)
			return m[1] >= 0xc9;
		if (m[1] == 0x01 || (m[1] >= 0xd0 && m[1] <= 0xd9))
			return 0;	/* TEM, RST, SOI, EOI: no length, none belongs here */
		at += 2 + (m[2] << 8 | m[3]);
	}
	return 0;
}

/* The most pixels one byte of a file of this type can stand for, with
 * a wide margin over the best any encoder manages on a flat image
 * (measured: JPEG 256, arithmetic-coded JPEG 68,000 for a blank page,
 * 1-bit PNG 8,100, GIF 1,500, lossless WebP 24,000).  0: no bound
 * (TIFF and HEIF can compress without limit). */
static double
max_px_per_byte(enum src_type type, int fd)
{
	switch (type) {
	case SRC_JPEG:
		return jpeg_arithmetic(fd) ? 1 << 20 : 4096;
	case SRC_PNG:
	case SRC_GIF:
		return 65536;
	case SRC_WEBP:
		return 1 << 20;
	default:
		return 0;
	}
}

/* "WxH is N MP, over the M MP limit" in c->err: in pixels where MP would
 * show both as one number, or the limit as 0.0. */
static void
say_over_pixels(struct conv *c, const VipsImage *img, uint64_t px, int w, int h)
{
	uint64_t max = c->o->max_pixels;
	char mp[32], limit[32], drawn[48] = "";

	/* a picture drawn at a scale: the size it is drawn at */
	if (w != img->Xsize || h != img->Ysize)
		snprintf(drawn, sizeof(drawn), " drawn at %dx%d", w, h);
	snprintf(mp, sizeof(mp), "%.1f", px / 1048576.0);
	snprintf(limit, sizeof(limit), "%.1f", max / 1048576.0);
	if (!strcmp(mp, limit) || !strcmp(limit, "0.0"))
		snprintf(c->err, sizeof(c->err),
			 "%dx%d%s is %ju pixels, over the %ju pixel limit (--max-pixels)",
			 img->Xsize, img->Ysize, drawn, (uintmax_t)px, (uintmax_t)max);
	else
		snprintf(c->err, sizeof(c->err),
			 "%dx%d%s is %s MP, over the %s MP limit (--max-pixels)",
			 img->Xsize, img->Ysize, drawn, mp, limit);
}

static int height_for(const struct conv *c, int w);

/* Whether the largest output is over the largest edge its format can
 * hold (WebP's, AVIF's, JPEG's), known from the header: then c->err
 * says so, before a pixel is decoded or the name is claimed. */
static int
over_format_edge(struct conv *c)
{
	const struct options *o = c->o;
	int target = 0, height, k;

	for (k = 0; k < o->n_widths; k++)
		if (o->widths[k] <= c->res->width && o->widths[k] > target)
			target = o->widths[k];
	if (!target)
		target = c->res->width;
	height = height_for(c, target);
	for (k = 0; k < o->n_formats; k++)
		if (over_edge(c->err, sizeof(c->err), o->formats[k], target, height))
			return 1;
	return 0;
}

static double drawn_scale(const struct conv *c, const VipsImage *img, int largest);

/* Limits judged from the header of img, opened from fd, before any
 * pixel is decoded.  A picture drawn at a scale (SVG, PDF) counts as
 * drawn for the largest width (see decode). */
static int
check_header(struct conv *c, VipsImage *img, int fd)
{
	const struct options *o = c->o;
	uint64_t px = (uint64_t)img->Xsize * (uint64_t)img->Ysize;
	double per_byte;
	int pages = vips_image_get_n_pages(img), w = img->Xsize, h = img->Ysize;

	if (c->vector) {
		int largest = o->n_widths ? o->widths[o->n_widths - 1] : 0;
		double scale;

		if (largest <= 0 || largest > c->res->width)
			largest = c->res->width;
		if ((scale = drawn_scale(c, img, largest)) < 1) {
			w = (int)ceil(img->Xsize * scale);
			h = (int)ceil(img->Ysize * scale);
			px = (uint64_t)w * (uint64_t)h;
		}
	}

	if (px > o->max_pixels)
		say_over_pixels(c, img, px, w, h);
	else if (o->max_frames && pages > o->max_frames)
		/* libnsgif stops counting a GIF's frames past 4096 */
		snprintf(c->err, sizeof(c->err),
			 "%s%d frames, over the %d frame limit (--max-frames)",
			 c->job->type == SRC_GIF && pages > GIF_FRAMES_COUNTED ? "at least " : "",
			 pages, o->max_frames);
	else if ((per_byte = max_px_per_byte(c->job->type, fd)) > 0 && c->bytes > 0 &&
		 px > per_byte * (double)c->bytes)
		snprintf(c->err, sizeof(c->err),
			 "the header claims %dx%d, more than %lld bytes of %s can hold",
			 img->Xsize, img->Ysize, (long long)c->bytes,
			 c->job->mime ? c->job->mime : "image");
	else if (!over_format_edge(c))
		return 0;
	fail(c, REASON_LIMIT, "limit", 0);
	return -1;
}

/* A source imgbake will not convert, for what its samples are: failed,
 * or skipped when met in a walk, as a type no loader reads. */
static void
refuse_samples(struct conv *c, const char *what)
{
	char text[128];

	snprintf(text, sizeof(text), "%s samples, which have no agreed reading as light", what);
	if (c->job->may_skip) {
		c->res->status = JOB_SKIPPED;
		c->res->reason = REASON_UNSUPPORTED;
		c->res->error = g_strdup_printf("unsupported image type (%s)", text);
		return;
	}
	fail_text(c, REASON_UNSUPPORTED, "decode", text);
}

/* Complex numbers are no light: refused before any pixel is read.
 * (Negative integer samples are, once read: see decode.) */
static int
check_sample_format(struct conv *c, const VipsImage *img)
{
	if (img->BandFmt != VIPS_FORMAT_COMPLEX && img->BandFmt != VIPS_FORMAT_DPCOMPLEX)
		return 0;
	refuse_samples(c, "complex");
	return -1;
}

static int
orientation_of(VipsImage *img)
{
	int orientation = 1;

	if (vips_image_get_typeof(img, VIPS_META_ORIENTATION))
		vips_image_get_int(img, VIPS_META_ORIENTATION, &orientation);
	return orientation;
}

static int
upright_swapped(VipsImage *img)
{
	int orientation = orientation_of(img);

	return orientation >= 5 && orientation <= 8;
}

/* Whether img carries an ICC profile for the colour space `space` (the
 * four bytes at 16 of its header: "RGB ", "GRAY", "CMYK"), in *data. */
static int
profile_for(VipsImage *img, const char *space, const void **data, size_t *len)
{
	return vips_image_get_typeof(img, VIPS_META_ICC_NAME) &&
	       !vips_image_get_blob(img, VIPS_META_ICC_NAME, data, len) &&
	       *len >= 20 && !memcmp((const char *)*data + 16, space, 4);
}

/* An embedded profile for another colour space than the pixels' (a
 * grey profile on RGB pixels, an RGB one on grey) cannot be applied:
 * the picture is taken as untagged, as other tools take it, rather than
 * garbled or refused. */
static void
drop_unfit_profile(VipsImage *img)
{
	const void *icc;
	size_t len;
	const char *want;

	if (!vips_image_get_typeof(img, VIPS_META_ICC_NAME))
		return;
	switch (img->Type) {
	case VIPS_INTERPRETATION_B_W:
	case VIPS_INTERPRETATION_GREY16:
		want = "GRAY";
		break;
	case VIPS_INTERPRETATION_sRGB:
	case VIPS_INTERPRETATION_RGB:
	case VIPS_INTERPRETATION_RGB16:
		want = "RGB ";
		break;
	case VIPS_INTERPRETATION_CMYK:
		want = "CMYK";
		break;
	default:
		return;
	}
	if (!profile_for(img, want, &icc, &len))
		vips_image_remove(img, VIPS_META_ICC_NAME);
}

/* Whether img is tagged with a profile other than sRGB's. */
static int
tagged_not_srgb(VipsImage *img)
{
	const void *icc;
	size_t len;

	if (!vips_image_get_typeof(img, VIPS_META_ICC_NAME))
		return 0;
	if (vips_image_get_blob(img, VIPS_META_ICC_NAME, &icc, &len))
		return 1;
	return !icc_is_srgb(icc, len);
}

/* Whether vips_thumbnail would leave img's pixels as they are: kept at
 * its width, upright, 8-bit sRGB or grey, untagged or tagged sRGB.
 * Building its pipeline anyway costs about a millisecond, a twentieth
 * of the time of a small image, and a transform from an sRGB profile
 * to sRGB several more. */
static int
as_is(VipsImage *img, int width)
{
	return img->Xsize == width && orientation_of(img) == 1 &&
	       img->BandFmt == VIPS_FORMAT_UCHAR && img->Coding == VIPS_CODING_NONE &&
	       ((img->Type == VIPS_INTERPRETATION_sRGB && (img->Bands == 3 || img->Bands == 4)) ||
		(img->Type == VIPS_INTERPRETATION_B_W && (img->Bands == 1 || img->Bands == 2))) &&
	       !tagged_not_srgb(img);
}

/* The largest libjpeg shrink that still leaves thumbnail_image at
 * least a 2x reduction to do, as vips_thumbnail does for quality, in
 * both directions: a picture far wider than high (1600x6 to 100x1)
 * must not be shrunk to no rows. */
static int
jpeg_shrink_for(int src_width, int src_height, int target, int target_height)
{
	double factor = (double)src_width / target;

	if ((double)src_height / target_height < factor)
		factor = (double)src_height / target_height;

	if (factor >= 16)
		return 8;
	if (factor >= 8)
		return 4;
	if (factor >= 4)
		return 2;
	return 1;
}

/* libwebp scales while it decodes, and libvips rounds the scaled size:
 * ask for the largest width itself, so that no resampling is left to
 * do (one pixel more, then a resize by 0.99, blurred the picture: its
 * edges 7% weaker than vips thumbnail's), or for the height where the
 * width would round it to no row. */
static double
webp_scale_for(int src_width, int src_height, int target, int target_height)
{
	double scale = (double)target / src_width;

	if ((double)target_height / src_height > scale)
		scale = (double)target_height / src_height;
	return scale < 1 ? scale : 1;
}

/* The scale to draw a vector picture of width x height at, no smaller
 * than `least`: one that makes both sides whole pixels.  A side drawn
 * to a fraction is centred on a canvas of whole pixels, its edges half
 * covered: a full-bleed logo drawn at 0.48 of 1001x777 had a see-through
 * border, and an opaque one came out with alpha.  Whole on both sides
 * means a multiple of 1 / gcd(width, height); with no common divisor,
 * the full size, as the picture declares it.  Never below the least
 * scale svgload takes, 0.001. */
static double
vector_scale_for(int width, int height, double least)
{
	int a = width, b = height, t;

	if (least < 0.001)
		least = 0.001;
	while (b) {
		t = a % b;
		a = b;
		b = t;
	}
	if (least >= 1 || a <= 1)
		return 1;
	t = (int)ceil(least * a - 1e-9);
	return t >= a ? 1 : (double)t / a;
}

/* The scale decode draws a vector picture img at (SVG, PDF), for an
 * output `largest` pixels wide, no wider than the picture; check_header
 * counts its pixels so. */
static double
drawn_scale(const struct conv *c, const VipsImage *img, int largest)
{
	return vector_scale_for(img->Xsize, img->Ysize,
		webp_scale_for(c->res->width, c->res->height, largest, height_for(c, largest)));
}

/* The height of an output w pixels wide, rounded from the upright
 * source's own size (set by decode): the same whatever the shrink on
 * load and whatever other widths the run makes. */
static int
height_for(const struct conv *c, int w)
{
	double h = (double)c->res->height * w / c->res->width;

	return h < 1 ? 1 : (int)(h + 0.5);
}

/* Bring a thumbnailed image to 8-bit sRGB (or 8-bit grey). */
static VipsImage *
to_8bit(struct conv *c, VipsImage *in)
{
	VipsInterpretation want;
	VipsImage *out;

	if (in->BandFmt == VIPS_FORMAT_UCHAR) {
		g_object_ref(in);
		return in;
	}
	want = in->Bands <= 2 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
	if (vips_colourspace(in, &out, want, NULL)) {
		fail(c, REASON_CORRUPT, "convert to 8 bits", 1);
		return NULL;
	}
	/* a cast truncates: 254.99 would be 254 */
	if (vips_band_format_isfloat(out->BandFmt)) {
		VipsImage *scaled;

		if (vips_linear1(out, &scaled, c->unit_grey ? 255.0 : 1.0, 0.5, NULL)) {
			g_object_unref(out);
			fail(c, REASON_CORRUPT, "convert to 8 bits", 1);
			return NULL;
		}
		g_object_unref(out);
		out = scaled;
	}
	if (out->BandFmt != VIPS_FORMAT_UCHAR) {
		VipsImage *cast;

		if (vips_cast_uchar(out, &cast, NULL)) {
			g_object_unref(out);
			fail(c, REASON_CORRUPT, "convert to 8 bits", 1);
			return NULL;
		}
		g_object_unref(out);
		out = cast;
	}
	return out;
}

/* Metadata blobs can point into buffers the loader frees when it
 * closes (8.14's webpload does this with EXIF), which later reads in a
 * saver would use after free.  Drop them, or with --keep-metadata give
 * the image its own copies, while the loader is still alive. */
static int
free_blob(void *data, void *unused)
{
	(void)unused;
	g_free(data);
	return 0;
}

/* The pixels kept were turned upright, and EXIF says so (libvips sets
 * its orientation to 1): make an XMP tiff:Orientation (Lightroom's,
 * darktable's) say so too, as attribute or element, in place.  Another
 * prefix for the TIFF namespace, or attributes on the element, are
 * left as they are. */
static void
xmp_upright(char *xmp, size_t len)
{
	static const char tag[] = "tiff:Orientation";
	char *end = xmp + len, *p = xmp, *at;

	while ((at = memmem(p, (size_t)(end - p), tag, sizeof(tag) - 1))) {
		p = at + sizeof(tag) - 1;
		/* the whole prefix: not "mytiff:" */
		if (at > xmp && (isalnum((unsigned char)at[-1]) || at[-1] == '_' ||
				 at[-1] == '-' || at[-1] == '.'))
			continue;
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p < end && *p == '=') {
			for (p++; p < end && isspace((unsigned char)*p); p++)
				;
			if (p >= end || (*p != '"' && *p != '\''))
				continue;
		} else if (p >= end || *p != '>') {
			continue;
		}
		for (p++; p < end && isspace((unsigned char)*p); p++)
			;
		if (p + 1 < end && *p >= '1' && *p <= '8' && !isdigit((unsigned char)p[1]))
			*p = '1';
	}
}

static int
detach_metadata(struct conv *c, VipsImage *img, int turned)
{
	static const char *const blobs[] = {
		VIPS_META_EXIF_NAME, VIPS_META_XMP_NAME, VIPS_META_IPTC_NAME,
	};
	size_t i;

	for (i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++) {
		const void *data;
		size_t len;
		void *copy;

		if (!vips_image_get_typeof(img, blobs[i]))
			continue;
		if (!c->o->keep_metadata ||
		    vips_image_get_blob(img, blobs[i], &data, &len)) {
			vips_image_remove(img, blobs[i]);
			continue;
		}
		if (!(copy = g_memdup2(data, len))) {
			fail_text(c, REASON_CORRUPT, "metadata", "out of memory");
			return -1;
		}
		if (turned && !strcmp(blobs[i], VIPS_META_XMP_NAME))
			xmp_upright(copy, len);
		vips_image_set_blob(img, blobs[i], free_blob, copy, len);
	}
	/* setting the EXIF block parses it again, orientation and all:
	 * the smaller widths, made from img, were turned a second time */
	if (c->o->keep_metadata && vips_image_get_typeof(img, VIPS_META_EXIF_NAME))
		vips_image_set_int(img, VIPS_META_ORIENTATION, 1);
	return 0;
}

static void watch(struct conv *c, VipsImage *img);

/* Of img's colour bands, in one pass: the largest sample, and how many
 * of those over 0 are over 1 as well (*over, from 0 to 1).  Only the
 * finite samples count (a depth map's "no depth" is often +Inf). */
static int
float_range(struct conv *c, VipsImage *img, double *max, double *over,
	double *alpha_max)
{
	VipsImage *t[10] = { NULL };
	VipsImage *stats = NULL;
	int alpha = vips_image_hasalpha(img);
	int n = alpha ? img->Bands - 1 : img->Bands;
	int r = -1, b;

	/* t[4]: the finite samples, the others 0 (NaN is neither: every
	 * comparison with it is false); t[5], t[6]: 255 where over 1, over
	 * 0; t[9]: alpha as it is; t[8]: all side by side, for vips_stats */
	if (!vips_extract_band(img, &t[0], 0, "n", n, NULL) &&
	    !vips_relational_const1(t[0], &t[1], VIPS_OPERATION_RELATIONAL_LESSEQ,
				    FLT_MAX, NULL) &&
	    !vips_relational_const1(t[0], &t[2], VIPS_OPERATION_RELATIONAL_MOREEQ,
				    -FLT_MAX, NULL) &&
	    !vips_andimage(t[1], t[2], &t[3], NULL) &&
	    (t[7] = vips_image_new_from_image1(t[0], 0.0)) &&
	    !vips_ifthenelse(t[3], t[0], t[7], &t[4], NULL) &&
	    !vips_more_const1(t[4], &t[5], 1.0, NULL) &&
	    !vips_more_const1(t[4], &t[6], 0.0, NULL) &&
	    (!alpha || !vips_extract_band(img, &t[9], n, NULL)) &&
	    !vips_bandjoin((VipsImage *[]){ t[4], t[5], t[6], t[9] }, &t[8],
			   alpha ? 4 : 3, NULL)) {
		watch(c, t[8]);
		if (!vips_stats(t[8], &stats, NULL) && !vips_image_wio_input(stats)) {
			double above = 0, positive = 0;

			/* row 1 + b is band b: min, max, sum, ... */
			*max = -DBL_MAX;
			for (b = 0; b < n; b++) {
				*max = VIPS_MAX(*max, *VIPS_MATRIX(stats, 1, 1 + b));
				above += *VIPS_MATRIX(stats, 2, 1 + n + b);
				positive += *VIPS_MATRIX(stats, 2, 1 + 2 * n + b);
			}
			*over = positive > 0 ? above / positive : 0;
			*alpha_max = alpha ? *VIPS_MATRIX(stats, 1, 1 + 3 * n) : 0;
			r = 0;
		}
	}
	if (r)
		fail(c, REASON_CORRUPT, "decode", 1);
	VIPS_UNREF(stats);
	for (b = 0; b < 10; b++)
		VIPS_UNREF(t[b]);
	return r;
}

/* The bits of range integer samples up to max need: 8, 16 or 32. */
static int
bits_for(double max)
{
	return max > 65535 ? 32 : max > 255 ? 16 : 8;
}

/* in's samples, of a range of `bits` bits, as 8-bit ones (wide 0) or
 * 16-bit ones: 32 bits shifted down, 8 scaled up when wide. */
static int
to_range(VipsImage *in, VipsImage **out, int bits, int wide)
{
	VipsImage *t;
	int r;

	if (bits == 32)
		r = vips_rshift_const1(in, &t, 16, NULL);
	else if (bits == 8 && wide)
		r = vips_linear1(in, &t, 257, 0, NULL);
	else
		r = vips_copy(in, &t, NULL);
	if (r)
		return -1;
	r = vips_cast(t, out, wide ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR, NULL);
	g_object_unref(t);
	return r;
}

/* An AVIF or HEIF may give its colours by CICP code points alone (its
 * nclx box), which libvips 8.14 ignores ("ignoring nclx profile"): Display
 * P3 came out washed out, as if sRGB.  Give img the ICC profile those
 * code points stand for, where there is one (icc_for_cicp), for the
 * pipeline to convert through as through any embedded profile. */
static void
cicp_profile(struct conv *c, VipsImage *img)
{
	struct heif_context *ctx;
	struct heif_image_handle *handle = NULL;
	struct heif_color_profile_nclx *nclx = NULL;
	void *icc;
	size_t len;

	if (c->job->type != SRC_HEIF || vips_image_get_typeof(img, VIPS_META_ICC_NAME) ||
	    img->Bands < 3 || !(ctx = heif_context_alloc()))
		return;
	if (!heif_context_read_from_file(ctx, c->job->src_path, NULL).code &&
	    !heif_context_get_primary_image_handle(ctx, &handle).code &&
	    !heif_image_handle_get_nclx_color_profile(handle, &nclx).code &&
	    (icc = icc_for_cicp(nclx->color_primaries, nclx->transfer_characteristics, &len))) {
		vips_image_set_blob_copy(img, VIPS_META_ICC_NAME, icc, len);
		free(icc);
	}
	if (nclx)
		heif_nclx_color_profile_free(nclx);
	if (handle)
		heif_image_handle_release(handle);
	heif_context_free(ctx);
}

/* A grey picture with a grey ICC profile comes out of the thumbnail
 * as sRGB, R = G = B: grey again, in a third of the bytes, untagged as
 * the pipeline takes grey.  0, or -1 after fail(). */
static int
grey_again(struct conv *c, VipsImage **thumb)
{
	VipsImage *in = *thumb, *t[3] = { NULL, NULL, NULL }, *grey = NULL;
	int ok;

	ok = !vips_extract_band(in, &t[0], 0, NULL) &&
	     (in->Bands < 4 || (!vips_extract_band(in, &t[1], 3, NULL) &&
				!vips_bandjoin2(t[0], t[1], &t[2], NULL))) &&
	     !vips_copy(t[2] ? t[2] : t[0], &grey, "interpretation",
			in->BandFmt == VIPS_FORMAT_USHORT ? VIPS_INTERPRETATION_GREY16
							  : VIPS_INTERPRETATION_B_W, NULL);
	for (int i = 0; i < 3; i++)
		VIPS_UNREF(t[i]);
	if (!ok) {
		fail(c, REASON_CORRUPT, "colour", 1);
		return -1;
	}
	vips_image_remove(grey, VIPS_META_ICC_NAME);
	g_object_unref(in);
	*thumb = grey;
	return 0;
}

/* Decode to the largest width wanted: shrink-on-load, sRGB, rotated. */
static VipsImage *
decode(struct conv *c, int fd, int largest)
{
	VipsSource *src = NULL;
	VipsImage *img = NULL, *tmp = NULL, *thumb = NULL, *out = NULL;
	int width, shrink = 1, reopen = 0, turned;
	double scale = 1;

	if (!(src = vips_source_new_from_descriptor(fd))) {
		fail(c, REASON_IO, "read", 1);
		goto out;
	}
	if (!(img = load(c, src, 1, 1)))
		goto out;

	width = upright_swapped(img) ? img->Ysize : img->Xsize;
	c->res->width = width;
	c->res->height = upright_swapped(img) ? img->Xsize : img->Ysize;
	if (check_header(c, img, fd) || check_sample_format(c, img))
		goto out;
	if (largest <= 0 || largest > width)
		largest = width;
	/* Float grey holds values from 0 to 1 (as TIFF and PFM writers
	 * mean them) or from 0 to 255 (as libvips writes them), and is
	 * cast to 8 bits as it is: the first came out black.  Float RGB
	 * libvips reads as linear light from 0 to 1 (scRGB), highlights
	 * over it: the values it writes itself, sRGB from 0 to 255, came
	 * out white.  Only the pixels tell which, alpha aside (libvips'
	 * goes to 255 in both): read them all once, then open again. */
	c->unit_grey = c->float_srgb = c->unit_alpha = 0;
	if (vips_band_format_isfloat(img->BandFmt) &&
	    (img->Bands <= 2 || img->Type == VIPS_INTERPRETATION_scRGB)) {
		double max, over, alpha_max;

		if (float_range(c, img, &max, &over, &alpha_max))
			goto out;
		c->unit_grey = img->Bands <= 2 && max <= 1.0;
		/* linear light goes over 1 in its highlights, if at all;
		 * sRGB from 0 to 255 mostly, where it is not black */
		c->float_srgb = img->Bands > 2 && max > 1.0 && over > 0.5;
		/* alpha from 0 to 1, as most float writers have it; libvips
		 * casts it to 8 bits as it is */
		c->unit_alpha = vips_image_hasalpha(img) && alpha_max <= 1.0;
		reopen = 1;
	}
	/* Integer samples other than 8- and 16-bit unsigned: 32-bit ones
	 * over the whole range (ImageMagick's, a camera's), or values to
	 * 255 (libvips writes any format so) or to 65535.  Signed ones
	 * below 0 have no agreed reading as light (ImageMagick stores
	 * unsigned values in them, elevation data its own range). */
	c->uint_bits = c->alpha_bits = 0;
	if (img->BandFmt == VIPS_FORMAT_UINT || img->BandFmt == VIPS_FORMAT_INT ||
	    img->BandFmt == VIPS_FORMAT_SHORT || img->BandFmt == VIPS_FORMAT_CHAR) {
		VipsImage *stats = NULL;
		int colours = img->Bands - (vips_image_hasalpha(img) ? 1 : 0), b;
		double min, max = 0;

		watch(c, img);
		if (vips_stats(img, &stats, NULL) || vips_image_wio_input(stats)) {
			VIPS_UNREF(stats);
			fail(c, REASON_CORRUPT, "decode", 1);
			goto out;
		}
		/* row 0 is every band's, row b + 1 band b's */
		min = *VIPS_MATRIX(stats, 0, 0);
		for (b = 0; b < colours; b++)
			max = VIPS_MAX(max, *VIPS_MATRIX(stats, 1, b + 1));
		c->uint_bits = bits_for(max);
		/* an alpha of its own range (full 32 bits beside colour
		 * to 65535) is scaled apart: colour would go dark */
		if (colours < img->Bands)
			c->alpha_bits = bits_for(*VIPS_MATRIX(stats, 1, img->Bands));
		g_object_unref(stats);
		if (min < 0) {
			refuse_samples(c, "negative");
			goto out;
		}
		reopen = 1;
	}

	if (c->job->type == SRC_JPEG)
		shrink = jpeg_shrink_for(width, c->res->height, largest, height_for(c, largest));
	else if (c->job->type == SRC_WEBP)
		scale = webp_scale_for(width, c->res->height, largest, height_for(c, largest));
	else if (c->job->type == SRC_OTHER && c->vector)
		scale = drawn_scale(c, img, largest);
	if (reopen || shrink > 1 || scale < 1) {
		/* a fresh source for the second open: the first one has
		 * already read the header */
		g_object_unref(img);
		g_object_unref(src);
		img = NULL;
		src = NULL;
		if (lseek(fd, 0, SEEK_SET)) {
			fail_text(c, REASON_IO, "read", strerror(errno));
			goto out;
		}
		if (!(src = vips_source_new_from_descriptor(fd))) {
			fail(c, REASON_IO, "read", 1);
			goto out;
		}
		if (!(img = load(c, src, shrink, scale)))
			goto out;
	}

	if (c->float_srgb) {
		if (vips_copy(img, &tmp, "interpretation", VIPS_INTERPRETATION_sRGB, NULL)) {
			fail(c, REASON_CORRUPT, "decode", 1);
			goto out;
		}
		g_object_unref(img);
		img = tmp;
		tmp = NULL;
	}
	/* ... go on as 16-bit or 8-bit pictures: libvips would clip them
	 * to 255 */
	if (c->uint_bits && img->BandFmt != VIPS_FORMAT_UCHAR &&
	    img->BandFmt != VIPS_FORMAT_USHORT) {
		VipsImage *t[5] = { NULL, NULL, NULL, NULL, NULL };
		int wide = VIPS_MAX(c->uint_bits, c->alpha_bits) > 8, ok, k;

		if (c->alpha_bits && c->alpha_bits != c->uint_bits)
			ok = !vips_extract_band(img, &t[0], 0, "n", img->Bands - 1, NULL) &&
			     !vips_extract_band(img, &t[1], img->Bands - 1, NULL) &&
			     !to_range(t[0], &t[2], c->uint_bits, wide) &&
			     !to_range(t[1], &t[3], c->alpha_bits, wide) &&
			     !vips_bandjoin2(t[2], t[3], &t[4], NULL);
		else
			ok = !to_range(img, &t[4], c->uint_bits, wide);
		ok = ok && !vips_copy(t[4], &tmp, "interpretation",
				img->Type == VIPS_INTERPRETATION_CMYK ? VIPS_INTERPRETATION_CMYK :
				img->Bands <= 2 ? (wide ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W) :
				wide ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB, NULL);
		for (k = 0; k < 5; k++)
			VIPS_UNREF(t[k]);
		if (!ok) {
			fail(c, REASON_CORRUPT, "decode", 1);
			goto out;
		}
		g_object_unref(img);
		img = tmp;
		tmp = NULL;
	}
	/* Float alpha from 0 to 1, beside colour (unit grey is scaled
	 * whole in to_8bit), to 0..255: libvips casts it to 8 bits as it
	 * is.  scRGB's conversion to sRGB truncates: the half is added
	 * here; on the sRGB path to_8bit adds it. */
	if (c->unit_alpha && !c->unit_grey && img->Bands <= 4) {
		double a[4] = { 1, 1, 1, 1 }, b[4] = { 0, 0, 0, 0 };

		a[img->Bands - 1] = 255.0;
		b[img->Bands - 1] = img->Type == VIPS_INTERPRETATION_scRGB ? 0.5 : 0;
		if (vips_linear(img, &tmp, a, b, img->Bands, NULL)) {
			fail(c, REASON_CORRUPT, "decode", 1);
			goto out;
		}
		g_object_unref(img);
		img = tmp;
		tmp = NULL;
	}
	drop_unfit_profile(img);
	cicp_profile(c, img);
	/* 8.14's colourspace ignores an embedded CMYK profile: import it
	 * ourselves before anything else touches the pixels */
	if (img->Type == VIPS_INTERPRETATION_CMYK) {
		if (vips_icc_transform(img, &tmp, "srgb", "embedded", TRUE,
				       "intent", VIPS_INTENT_PERCEPTUAL, NULL)) {
			fail(c, REASON_CORRUPT, "colour", 1);
			goto out;
		}
		g_object_unref(img);
		img = tmp;
		tmp = NULL;
	}

	/* An embedded profile is honoured: pixels go to sRGB through it.
	 * Untagged pixels are taken as sRGB already; sending them through
	 * the built-in profiles shifts saturated colours (pure blue picks
	 * up red), so they are left alone. */
	/* the thumbnail turns the pixels upright as EXIF says */
	turned = orientation_of(img) != 1;
	if (as_is(img, largest)) {
		if (vips_copy(img, &thumb, NULL)) {
			fail(c, REASON_CORRUPT, "resize", 1);
			goto out;
		}
	} else if (vips_thumbnail_image(img, &thumb, largest,
				 "height", height_for(c, largest),
				 "size", VIPS_SIZE_FORCE,
				 vips_image_get_typeof(img, VIPS_META_ICC_NAME)
					? "export_profile" : NULL, "srgb", NULL)) {
		fail(c, REASON_CORRUPT, "resize", 1);
		goto out;
	}
	if (img->Bands <= 2 && thumb->Bands >= 3 && grey_again(c, &thumb))
		goto out;
	out = to_8bit(c, thumb);
	if (out && detach_metadata(c, out, turned)) {
		g_object_unref(out);
		out = NULL;
	}
out:
	if (thumb)
		g_object_unref(thumb);
	if (img)
		g_object_unref(img);
	if (src)
		g_object_unref(src);
	return out;
}

/* Runs on libvips threads while pixels are computed: the way to stop
 * a job that was interrupted or ran out of time. */
static void
on_eval(VipsImage *image, VipsProgress *progress, void *data)
{
	struct conv *c = data;

	(void)progress;
	if (*c->stop)
		vips_image_set_kill(image, TRUE);
	else if (past_deadline(c)) {
		atomic_store(&c->timed_out, 1);
		vips_image_set_kill(image, TRUE);
	}
}

static void
watch(struct conv *c, VipsImage *img)
{
	vips_image_set_progress(img, TRUE);
	g_signal_connect(img, "eval", G_CALLBACK(on_eval), c);
}

/* Out of time between two steps. */
static int
late(struct conv *c)
{
	if (past_deadline(c))
		atomic_store(&c->timed_out, 1);
	return atomic_load(&c->timed_out);
}

/* Prepare one image for one format: flatten alpha where the format
 * has none, keep an EXIF block from re-rotating rotated pixels. */
static VipsImage *
prepare(struct conv *c, VipsImage *in, enum out_format f)
{
	VipsImage *out = NULL;

	if (f == FMT_JPEG && vips_image_hasalpha(in)) {
		const unsigned char *bg = c->o->background;
		double rgb[3] = { bg[0], bg[1], bg[2] };
		VipsImage *colour = NULL, *four = NULL;
		VipsArrayDouble *arr;
		int r;

		/* a TIFF's extra samples after RGBA go, as for the other
		 * formats (rgb_or_rgba) */
		if (in->Bands > 4) {
			if (vips_extract_band(in, &four, 0, "n", 4, NULL)) {
				fail(c, REASON_ENCODE, "bands", 1);
				return NULL;
			}
			in = four;
		}
		/* grey with alpha stays grey on a grey background; on a
		 * coloured one it becomes RGB first */
		if (in->Bands == 2 && (bg[0] != bg[1] || bg[1] != bg[2])) {
			if (vips_colourspace(in, &colour, VIPS_INTERPRETATION_sRGB, NULL)) {
				if (four)
					g_object_unref(four);
				fail(c, REASON_ENCODE, "flatten", 1);
				return NULL;
			}
			in = colour;
		}
		arr = vips_array_double_new(rgb, in->Bands == 2 ? 1 : 3);
		r = vips_flatten(in, &out, "background", arr, NULL);
		vips_area_unref(VIPS_AREA(arr));
		if (colour)
			g_object_unref(colour);
		if (four)
			g_object_unref(four);
		if (r) {
			fail(c, REASON_ENCODE, "flatten", 1);
			return NULL;
		}
	} else if (f == FMT_AVIF && c->opaque && vips_image_hasalpha(in)) {
		/* libwebp leaves an opaque alpha out by itself, libheif
		 * encodes it as a second picture */
		if (vips_extract_band(in, &out, 0, "n", in->Bands - 1, NULL)) {
			fail(c, REASON_ENCODE, "alpha", 1);
			return NULL;
		}
	} else if (f == FMT_WEBP && !c->o->keep_metadata && vips_concurrency_get() == 1) {
		/* webp_encode computes the strips itself on this thread
		 * (render_strips): no "eval" to watch, no metadata to set,
		 * and a copy would only be one more stage every strip goes
		 * through, with a fresh, zeroed buffer each time */
		g_object_ref(in);
		return in;
	} else if (vips_copy(in, &out, NULL)) {
		fail(c, REASON_ENCODE, "copy", 1);
		return NULL;
	}
	/* pixels are upright now: whatever EXIF is kept must say so */
	if (c->o->keep_metadata)
		vips_image_set_int(out, VIPS_META_ORIENTATION, 1);
	watch(c, out);
	return out;
}

/* A save failed, not in writing (save_vips tells that by its errno).
 * With a streaming pipeline the first pixel pull runs the decoder, so a
 * truncated source fails here too; libvips then names the loader, not
 * a saver, and the reason is decode. */
static void
fail_save(struct conv *c, const char *stage)
{
	char *text = vips_text_for(c->job->type);
	int in_saver = strstr(text, "save") != NULL;

	fail_text(c, in_saver ? REASON_ENCODE : REASON_CORRUPT,
		  in_saver ? stage : "decode", text);
	g_free(text);
}

/* Whether img is computed on the job's own thread (render_to_memory)
 * rather than through libvips' threadpool.
 *
 * With one libvips thread a job (jobs >= CPUs, the default), libvips'
 * threadpool adds no parallelism, only a hand-off between this thread
 * and a libvips worker for every strip.  On small pictures those
 * hand-offs left a sixth of the CPU time idle at -j2 (1,000 images of
 * 0.05-0.5 MP: 12.0 s, 9.9 s computed here), so their strips are
 * computed on this thread, top to bottom as the sequential decode
 * wants, with the stop and the deadline checked between strips
 * (on_eval is not called without the threadpool).  Each stage of the
 * pipeline still holds only a strip.  Larger pictures, where the
 * hand-offs are lost in the encode, keep the threadpool. */
static int
render_here(VipsImage *img)
{
	return vips_concurrency_get() == 1 &&
	       (double)img->Xsize * img->Ysize <= RENDER_HERE_MAX_PX;
}

/* Compute img strip by strip on this thread, top to bottom, and hand
 * each strip to fn.  Strips are as tall as the threadpool's, so they
 * stay in cache from one stage of the pipeline to the next, rounded up
 * to an even height for fn's sake (two rows make a row of WebP's
 * chroma); only the last may be odd. */
static int
render_strips(struct conv *c, VipsImage *img,
	int (*fn)(VipsRegion *reg, const VipsRect *strip, void *arg), void *arg)
{
	int tile_w, tile_h, n_lines, y;
	VipsRegion *reg;

	if (!(reg = vips_region_new(img)))
		return -1;
	vips_get_tile_size(img, &tile_w, &tile_h, &n_lines);
	tile_h += tile_h & 1;
	for (y = 0; y < img->Ysize; y += tile_h) {
		VipsRect strip = { 0, y, img->Xsize, VIPS_MIN(tile_h, img->Ysize - y) };

		if (*c->stop || late(c)) {
			vips_error("imgbake", "stopped");
			g_object_unref(reg);
			return -1;
		}
		if (vips_region_prepare(reg, &strip) || fn(reg, &strip, arg)) {
			g_object_unref(reg);
			return -1;
		}
	}
	g_object_unref(reg);
	return 0;
}

struct rows_dst {
	unsigned char *dst;
	size_t stride;
};

static int
copy_strip(VipsRegion *reg, const VipsRect *strip, void *arg)
{
	const struct rows_dst *d = arg;
	size_t row = VIPS_IMAGE_SIZEOF_LINE(reg->im);
	int i;

	for (i = 0; i < strip->height; i++)
		memcpy(d->dst + d->stride * (size_t)(strip->top + i),
		       VIPS_REGION_ADDR(reg, 0, strip->top + i), row);
	return 0;
}

/* Compute img into dst, rows `stride` bytes apart, on this thread. */
static int
render_rows(struct conv *c, VipsImage *img, unsigned char *dst, size_t stride)
{
	struct rows_dst d = { dst, stride };

	return render_strips(c, img, copy_strip, &d);
}

/* Compute img into one buffer of packed pixels on this thread; g_free
 * it. */
static void *
render_to_memory(struct conv *c, VipsImage *img, size_t *len)
{
	size_t row = VIPS_IMAGE_SIZEOF_LINE(img);
	unsigned char *buf;

	if (!(buf = g_try_malloc(row * (size_t)img->Ysize))) {
		vips_error("imgbake", "out of memory");
		return NULL;
	}
	if (render_rows(c, img, buf, row)) {
		g_free(buf);
		return NULL;
	}
	*len = row * (size_t)img->Ysize;
	return buf;
}

static void
free_pixels(VipsImage *img, void *pixels)
{
	(void)img;
	g_free(pixels);
}

/* A resolution vips_copy() takes, which holds up to 1e6 pixels a mm,
 * where a loader's fields keep what the file says (a PNG's pHYs of
 * 4e9 a metre): GObject would refuse it, with a warning printed. */
static double
settable_res(double res)
{
	return !(res >= 0) ? 0 : res > RES_MAX ? RES_MAX : res;
}

/* img computed into memory, for several outputs from one sequential
 * decode.  A small picture goes through render_to_memory when there is
 * no metadata to keep: none of what libvips' own copy carries is
 * written then. */
static VipsImage *
keep_in_memory(struct conv *c, VipsImage *img)
{
	VipsImage *mem, *out;
	void *pixels;
	size_t len;

	watch(c, img);
	if (c->o->keep_metadata || !render_here(img))
		return vips_image_copy_memory(img);
	if (!(pixels = render_to_memory(c, img, &len)))
		return NULL;
	if (!(mem = vips_image_new_from_memory(pixels, len, img->Xsize, img->Ysize,
					       img->Bands, img->BandFmt))) {
		g_free(pixels);
		return NULL;
	}
	g_signal_connect(mem, "postclose", G_CALLBACK(free_pixels), pixels);
	if (vips_copy(mem, &out, "interpretation", img->Type,
		      "xres", settable_res(img->Xres),
		      "yres", settable_res(img->Yres), NULL))
		out = NULL;
	g_object_unref(mem);
	return out;
}

/* Whether img, in memory, has an alpha band that is 255 everywhere
 * (sources often carry one they do not use).  Resizing keeps it so. */
static int
is_opaque(VipsImage *img)
{
	VipsImage *alpha;
	double min = 0;
	int r;

	if (!vips_image_hasalpha(img) || img->BandFmt != VIPS_FORMAT_UCHAR)
		return 0;
	if (vips_extract_band(img, &alpha, img->Bands - 1, NULL))
		return 0;
	r = vips_min(alpha, &min, NULL);
	g_object_unref(alpha);
	if (r)
		g_free(vips_text_for(SRC_NONE));	/* taken as not opaque */
	return !r && min == 255;
}

/* libwebp and libheif take RGB or RGBA: grey becomes sRGB, and of more
 * than four bands (a TIFF's extra samples) the first four are kept, as
 * libvips' own savers keep them. */
static VipsImage *
rgb_or_rgba(struct conv *c, VipsImage *img)
{
	VipsImage *out;

	if (img->Bands < 3) {
		if (vips_colourspace(img, &out, VIPS_INTERPRETATION_sRGB, NULL)) {
			fail(c, REASON_ENCODE, "colour", 1);
			return NULL;
		}
		return out;
	}
	if (img->Bands > 4) {
		if (vips_extract_band(img, &out, 0, "n", 4, NULL)) {
			fail(c, REASON_ENCODE, "bands", 1);
			return NULL;
		}
		return out;
	}
	g_object_ref(img);
	return img;
}

/* libwebp calls this as it encodes: a stop or a timeout ends it. */
static int
webp_progress(int percent, const WebPPicture *pic)
{
	struct conv *c = pic->user_data;

	(void)percent;
	return !*c->stop && !late(c);
}

/* One strip of RGB or RGBA into pic's planes (webpdirect_import_rows):
 * strips of even height give the bytes the whole picture would. */
static int
import_strip(VipsRegion *reg, const VipsRect *strip, void *arg)
{
	WebPPicture *pic = arg;

	if (strip->top & 1) {
		vips_error("imgbake", "WebP import from an odd row");
		return -1;
	}
	if (webpdirect_import_rows(pic, VIPS_REGION_ADDR(reg, 0, strip->top),
				   (int)VIPS_REGION_LSKIP(reg), reg->im->Bands,
				   strip->top, strip->height)) {
		vips_error("imgbake", "out of memory");
		return -1;
	}
	return 0;
}

/* import_strip for libvips' threadpool, which hands over the picture
 * top to bottom in strips of even height. */
static int
import_strip_disc(VipsRegion *reg, VipsRect *area, void *arg)
{
	return import_strip(reg, area, arg);
}

/* --keep-metadata: the source's EXIF made true of the output, as
 * libvips' savers do it internally (with libexif too): upright
 * (orientation 1, or no orientation where the source's was not a
 * SHORT) and the output's size.  Every other tag, known to libexif or
 * not, is kept.  PNG and WebP keep the TIFF structure without the
 * "Exif\0\0" that JPEG puts before it: libexif needs it.  Returns a
 * malloc'ed block ("Exif\0\0" and the TIFF structure) and its length,
 * or NULL when libexif finds no EXIF there. */
static unsigned char *
exif_for_output(const void *data, size_t len, int width, int height,
	unsigned int *out_len)
{
	static const ExifTag dims[2] = {
		EXIF_TAG_PIXEL_X_DIMENSION, EXIF_TAG_PIXEL_Y_DIMENSION,
	};
	static const unsigned char header[6] = { 'E', 'x', 'i', 'f', 0, 0 };
	const unsigned char *bytes = data;
	ExifData *ed = exif_data_new();
	ExifByteOrder order;
	ExifEntry *e;
	unsigned char *out = NULL, *whole = NULL;

	*out_len = 0;
	if (!ed || len > UINT_MAX - sizeof(header))
		goto out;
	if ((len < sizeof(header) || memcmp(bytes, header, sizeof(header))) &&
	    !(len >= 2 && bytes[0] == 0xff && bytes[1] == 0xd8)) {
		if (!(whole = malloc(len + sizeof(header))))
			goto out;
		memcpy(whole, header, sizeof(header));
		memcpy(whole + sizeof(header), bytes, len);
		bytes = whole;
		len += sizeof(header);
	}
	exif_data_unset_option(ed, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
	exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
	exif_data_load_data(ed, bytes, (unsigned int)len);
	if (!ed->ifd[EXIF_IFD_0]->count)
		goto out;
	order = exif_data_get_byte_order(ed);
	e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
	if (e && e->format == EXIF_FORMAT_SHORT && e->components == 1 && e->size >= 2)
		exif_set_short(e->data, order, 1);
	else if (e)
		exif_content_remove_entry(ed->ifd[EXIF_IFD_0], e);
	for (int i = 0; i < 2; i++) {
		unsigned v = i ? (unsigned)height : (unsigned)width;

		/* added where missing, as libvips' savers add them */
		if (!(e = exif_content_get_entry(ed->ifd[EXIF_IFD_EXIF], dims[i])) &&
		    (e = exif_entry_new())) {
			exif_content_add_entry(ed->ifd[EXIF_IFD_EXIF], e);
			exif_entry_initialize(e, dims[i]);
			exif_entry_unref(e);
		}
		if (!e || e->components != 1)
			continue;
		if (e->format == EXIF_FORMAT_SHORT && e->size >= 2 && v <= 0xffff)
			exif_set_short(e->data, order, (ExifShort)v);
		else if (e->format == EXIF_FORMAT_LONG && e->size >= 4)
			exif_set_long(e->data, order, v);
	}
	exif_data_save_data(ed, &out, out_len);
out:
	free(whole);
	if (ed)
		exif_data_unref(ed);
	return out;
}

/* A malloc'ed copy of len bytes at data, or NULL. */
static unsigned char *
bytes_dup(const void *data, size_t len)
{
	unsigned char *copy = malloc(len ? len : 1);

	if (copy)
		memcpy(copy, data, len);
	return copy;
}

/* --keep-metadata: img's ICC profile, if it is one for RGB (grey
 * pictures become RGB without an ICC transform). */
static int
rgb_profile(VipsImage *img, const void **data, size_t *len)
{
	return profile_for(img, "RGB ", data, len);
}

/* --keep-metadata: img's EXIF made true of the output in *data (free()
 * it).  EXIF that libexif cannot read is left out: it may say the
 * picture is turned, and the output is upright.  1: there is one,
 * 0: img has none. */
static int
output_exif(VipsImage *img, unsigned char **data, size_t *len)
{
	const void *blob;
	size_t blob_len;
	unsigned int fixed_len;

	if (!vips_image_get_typeof(img, VIPS_META_EXIF_NAME) ||
	    vips_image_get_blob(img, VIPS_META_EXIF_NAME, &blob, &blob_len) ||
	    !(*data = exif_for_output(blob, blob_len, img->Xsize, img->Ysize, &fixed_len)))
		return 0;
	*len = fixed_len;
	return 1;
}

/* --keep-metadata: the chunks that go into a WebP beside the picture,
 * copied out of the image before its pipeline is let go. */
struct webp_meta {
	WebPData icc, exif, xmp;	/* malloc'ed bytes, or empty */
};

static int
webp_meta_copy(WebPData *d, const void *data, size_t len)
{
	if (!(d->bytes = bytes_dup(data, len)))
		return -1;
	d->size = len;
	return 0;
}

static void
webp_meta_clear(struct webp_meta *m)
{
	free((void *)m->icc.bytes);
	free((void *)m->exif.bytes);
	free((void *)m->xmp.bytes);
	memset(m, 0, sizeof(*m));
}

/* What img carries: an ICC profile if it is one for RGB (grey pictures
 * become RGB without an ICC transform), its EXIF made true of the
 * output (upright, the output's size), its XMP.  -1: out of memory. */
static int
webp_meta_get(VipsImage *img, struct webp_meta *m)
{
	const void *data;
	unsigned char *exif;
	size_t len;

	memset(m, 0, sizeof(*m));
	if (rgb_profile(img, &data, &len) && webp_meta_copy(&m->icc, data, len))
		goto oom;
	if (output_exif(img, &exif, &len)) {
		/* a WebP's EXIF chunk is the TIFF structure alone, as
		 * webpmux writes it and readers expect */
		if (len > 6 && !memcmp(exif, "Exif\0\0", 6)) {
			len -= 6;
			memmove(exif, exif + 6, len);
		}
		m->exif.bytes = exif;
		m->exif.size = len;
	}
	if (vips_image_get_typeof(img, VIPS_META_XMP_NAME) &&
	    !vips_image_get_blob(img, VIPS_META_XMP_NAME, &data, &len) &&
	    webp_meta_copy(&m->xmp, data, len))
		goto oom;
	return 0;
oom:
	webp_meta_clear(m);
	return -1;
}

/* The encoded picture in w with m's chunks added, into out (freed with
 * WebPDataClear).  libwebpmux writes the extended header they need. */
static int
webp_meta_add(const WebPMemoryWriter *w, const struct webp_meta *m, WebPData *out)
{
	WebPData image = { w->mem, w->size };
	WebPMux *mux = WebPMuxCreate(&image, 0);
	int ok;

	if (!mux)
		return -1;
	ok = (!m->icc.size || WebPMuxSetChunk(mux, "ICCP", &m->icc, 0) == WEBP_MUX_OK) &&
	     (!m->exif.size || WebPMuxSetChunk(mux, "EXIF", &m->exif, 0) == WEBP_MUX_OK) &&
	     (!m->xmp.size || WebPMuxSetChunk(mux, "XMP ", &m->xmp, 0) == WEBP_MUX_OK) &&
	     WebPMuxAssemble(mux, out) == WEBP_MUX_OK;
	WebPMuxDelete(mux);
	return ok ? 0 : -1;
}

/* What libwebp's WebPEncode error code means. */
static const char *
webp_error_text(WebPEncodingError e)
{
	switch (e) {
	case VP8_ENC_ERROR_OUT_OF_MEMORY:
	case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY:
		return "out of memory";
	case VP8_ENC_ERROR_NULL_PARAMETER:
	case VP8_ENC_ERROR_INVALID_CONFIGURATION:
		return "invalid configuration";
	case VP8_ENC_ERROR_BAD_DIMENSION:
		return "picture dimensions out of range";
	case VP8_ENC_ERROR_PARTITION0_OVERFLOW:
	case VP8_ENC_ERROR_PARTITION_OVERFLOW:
		return "a partition is over 512 kB (a lower quality may fit)";
	case VP8_ENC_ERROR_BAD_WRITE:
		return "cannot write the output";
	case VP8_ENC_ERROR_FILE_TOO_BIG:
		return "output over 4 GB";
	case VP8_ENC_OK:	/* failed and said nothing: an allocation */
		return "failed with no reason given (out of memory?)";
	default:
		return "unknown error";
	}
}

/* The fraction of pic's alpha plane that repeats neither its left nor
 * its upper neighbour, which is what libwebp's lossless encoder pays
 * for (see mem_webp_alpha_px); -1 when every alpha is 255, which
 * libwebp leaves out. */
static double
alpha_novelty(const WebPPicture *pic)
{
	uint64_t novel = 0;
	unsigned all = 0xff;
	int x, y;

	for (y = 0; y < pic->height; y++) {
		const uint8_t *row = pic->a + (size_t)y * pic->a_stride;
		const uint8_t *up = y ? row - pic->a_stride : NULL;

		all &= row[0];
		novel += !up || row[0] != up[0];
		for (x = 1; x < pic->width; x++) {
			all &= row[x];
			novel += row[x] != row[x - 1] && (!up || row[x] != up[x]);
		}
	}
	return all == 0xff ? -1 : (double)novel / ((double)pic->width * pic->height);
}

/* Just before libwebp encodes the job's one output, a large picture
 * with alpha: the estimate took the worst alpha plane (mem_estimate
 * has no pixels), this one is known now, and what it will not need
 * goes back to the budget for other jobs to start beside it.  A source
 * with alpha is the only one whose picture has an alpha plane, and the
 * only one the estimate took that rate for. */
static void
lower_estimate(struct conv *c, const WebPPicture *pic)
{
	double px = (double)pic->width * pic->height, novel, saved;
	int q = c->o->quality[FMT_WEBP];

	/* one over the budget runs alone, whatever it needs */
	if (!c->sched || !c->single || !pic->a || px < LOWER_MIN_PX ||
	    c->estimate > c->o->memory_budget)
		return;
	novel = alpha_novelty(pic);
	saved = px * (mem_webp_alpha_px(1, q) -
		      (novel < 0 ? mem_webp_opaque_px(q) : mem_webp_alpha_px(novel, q)));
	if (saved > 0 && saved < (double)c->estimate) {
		c->res->lowered = c->estimate - (uint64_t)saved;
		sched_lower_cost(c->sched, c->res->lowered);
	}
}

/* Encode pic, filled, with quality q and write it to fd with meta's
 * chunks; pic is freed whatever happens. */
static int
webp_write(struct conv *c, WebPPicture *pic, int q, const struct webp_meta *meta, int fd,
	const char *stage)
{
	WebPConfig config;
	WebPMemoryWriter w;
	WebPData with_meta = { NULL, 0 };
	const uint8_t *bytes;
	size_t size;
	int r = -1;

	WebPMemoryWriterInit(&w);
	if (!WebPConfigPreset(&config, WEBP_PRESET_DEFAULT, (float)q)) {
		fail_text(c, REASON_ENCODE, stage, "libwebp version mismatch");
		goto out;
	}
	config.method = WEBP_EFFORT;
	/* a second thread for the analysis pass pays off on large
	 * pictures; on small ones, creating it costs more than it saves */
	config.thread_level = (double)pic->width * pic->height >= WEBP_THREAD_MIN_PX;
	pic->writer = WebPMemoryWrite;
	pic->custom_ptr = &w;
	pic->progress_hook = webp_progress;
	pic->user_data = c;
	lower_estimate(c, pic);
	if (!WebPEncode(&config, pic)) {
		if (pic->error_code != VP8_ENC_ERROR_USER_ABORT)
			snprintf(c->err, sizeof(c->err), "libwebp: %s", webp_error_text(pic->error_code));
		/* an abort is a stop or a timeout, which fail() tells apart */
		fail(c, REASON_ENCODE, stage, 0);
		goto out;
	}
	WebPPictureFree(pic);
	bytes = w.mem;
	size = w.size;
	if (meta && (meta->icc.size || meta->exif.size || meta->xmp.size)) {
		if (webp_meta_add(&w, meta, &with_meta)) {
			fail_text(c, REASON_ENCODE, stage, "libwebpmux cannot add the metadata");
			goto out;
		}
		bytes = with_meta.bytes;
		size = with_meta.size;
	}
	if (output_write_all(fd, bytes, size))
		fail_text(c, REASON_IO, "write", strerror(errno));
	else
		r = 0;
out:
	WebPDataClear(&with_meta);
	WebPMemoryWriterClear(&w);
	WebPPictureFree(pic);
	return r;
}

/* WebP through libwebp itself rather than webpsave: its progress hook
 * makes the encode interruptible (--timeout, ^C), and thread_level lets
 * a large picture use a second core; with --keep-metadata, libwebpmux
 * adds the chunks (webpsave in 8.14 also writes an EXIF chunk made up
 * when the source has none, and leaks its pipeline when it fails).  img is
 * 8-bit sRGB with three or four bands; the reference is taken over,
 * and let go once the pixels are in libwebp's planes. */
static int
webp_encode(struct conv *c, VipsImage *img, int q, int fd, const char *stage)
{
	WebPPicture pic;
	struct webp_meta meta = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	VipsImage *rgb = NULL;
	int r = -1;

	memset(&pic, 0, sizeof(pic));	/* WebPPictureFree()d whatever happens */
	if (c->o->keep_metadata && webp_meta_get(img, &meta)) {
		fail_text(c, REASON_ENCODE, stage, "out of memory");
		goto out;
	}
	if (!(rgb = rgb_or_rgba(c, img)))
		goto out;
	VIPS_UNREF(img);
	if (!WebPPictureInit(&pic)) {
		fail_text(c, REASON_ENCODE, stage, "libwebp version mismatch");
		goto out;
	}
	/* Strip by strip into the YUV(A) planes: no RGB(A) copy of the
	 * picture, whose fresh pages the kernel would zero and the import
	 * read back from memory.  With one libvips thread a job, on this
	 * thread. */
	pic.width = rgb->Xsize;
	pic.height = rgb->Ysize;
	pic.colorspace = rgb->Bands == 4 ? WEBP_YUV420A : WEBP_YUV420;
	if (!WebPPictureAlloc(&pic)) {
		fail_text(c, REASON_ENCODE, stage, "out of memory");
		goto out;
	}
	if (vips_concurrency_get() == 1 ? render_strips(c, rgb, import_strip, &pic)
					: vips_sink_disc(rgb, import_strip_disc, &pic)) {
		fail_save(c, stage);
		goto out;
	}
	VIPS_UNREF(rgb);
	r = webp_write(c, &pic, q, &meta, fd, stage);
out:
	WebPPictureFree(&pic);
	webp_meta_clear(&meta);
	VIPS_UNREF(rgb);
	VIPS_UNREF(img);
	return r;
}

/* libheif hands over the whole file at once: write it to the output. */
struct heif_out {
	int fd;
	int err;	/* errno of a failed write, else 0 */
};

static struct heif_error
heif_out_write(struct heif_context *ctx, const void *data, size_t size, void *user)
{
	struct heif_out *out = user;
	struct heif_error e = { heif_error_Ok, heif_suberror_Unspecified, "" };

	(void)ctx;
	if (output_write_all(out->fd, data, size)) {
		out->err = errno;
		e.code = heif_error_Encoding_error;
		e.subcode = heif_suberror_Cannot_write_output_data;
		e.message = "write failed";
	}
	return e;
}

/* --keep-metadata: an RGB ICC profile goes with the picture. */
static struct heif_error
avif_add_icc(struct heif_image *pic, VipsImage *img)
{
	struct heif_error ok = { heif_error_Ok, heif_suberror_Unspecified, "" };
	const void *data;
	size_t len;

	if (!rgb_profile(img, &data, &len))
		return ok;
	return heif_image_set_raw_color_profile(pic, "prof", data, len);
}

/* --keep-metadata: EXIF (made true of the output) and XMP, as items
 * of the encoded picture. */
static struct heif_error
avif_add_metadata(struct heif_context *ctx, struct heif_image_handle *handle,
	VipsImage *img)
{
	struct heif_error e = { heif_error_Ok, heif_suberror_Unspecified, "" };
	const void *data;
	unsigned char *exif;
	size_t len;

	if (output_exif(img, &exif, &len)) {
		e = heif_context_add_exif_metadata(ctx, handle, exif, (int)len);
		free(exif);
		if (e.code)
			return e;
	}
	if (vips_image_get_typeof(img, VIPS_META_XMP_NAME) &&
	    !vips_image_get_blob(img, VIPS_META_XMP_NAME, &data, &len))
		e = heif_context_add_XMP_metadata(ctx, handle, data, (int)len);
	return e;
}

/* AVIF through libheif itself rather than heifsave.
 * The settings are heifsave's (quality, speed 9 - effort, 4:2:0 below
 * Q90), so photographs come out byte for byte the same; two are added.
 * libaom gets AVIF_THREADS threads rather than libheif's four.
 * libaom's intra block copy is off.
 * libaom turns that tool on for pictures it takes for screen content
 * (flat graphics, few colours), and there its hash tables cost about
 * 190 MB and three times the encode time of a 1920 px picture for
 * files 1% smaller.  img is 8-bit with one to four bands; the
 * reference is taken over, and let go once the pixels are in libheif's
 * picture unless its metadata is still to be written. */
static int
avif_encode(struct conv *c, VipsImage *img, int q, int fd, const char *stage)
{
	struct heif_writer writer = { 1, heif_out_write };
	struct heif_out out = { fd, 0 };
	struct heif_context *ctx = NULL;
	struct heif_encoder *enc = NULL;
	struct heif_image *pic = NULL;
	struct heif_image_handle *handle = NULL;
	struct heif_encoding_options *opt = NULL;
	struct heif_error e = { heif_error_Ok, heif_suberror_Unspecified, "" };
	VipsImage *rgb = NULL;
	unsigned char *plane;
	int stride, alpha, r = -1;

	if (!(rgb = rgb_or_rgba(c, img))) {
		g_object_unref(img);
		return -1;
	}
	alpha = rgb->Bands == 4;
	if (!(ctx = heif_context_alloc())) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		goto fail;
	}
	e = heif_context_get_encoder_for_format(ctx, heif_compression_AV1, &enc);
	if (!e.code)
		e = heif_encoder_set_lossy_quality(enc, q);
	if (!e.code)
		e = heif_encoder_set_lossless(enc, 0);
	if (!e.code)
		e = heif_encoder_set_parameter_integer(enc, "speed", 9 - AVIF_EFFORT);
	if (!e.code)
		e = heif_encoder_set_parameter_string(enc, "chroma", q >= 90 ? "444" : "420");
	/* aom's own options: another AV1 encoder, should libheif pick
	 * one, goes without them, as heifsave would */
	if (!e.code) {
		(void)heif_encoder_set_parameter_integer(enc, "threads", AVIF_THREADS);
		(void)heif_encoder_set_parameter_string(enc, "aom:enable-intrabc",
							AVIF_INTRA_BLOCK_COPY ? "1" : "0");
	}
	if (!e.code)
		e = heif_image_create(rgb->Xsize, rgb->Ysize, heif_colorspace_RGB,
				      rgb->Bands == 4 ? heif_chroma_interleaved_RGBA
						      : heif_chroma_interleaved_RGB, &pic);
	if (!e.code)
		e = heif_image_add_plane(pic, heif_channel_interleaved,
					 rgb->Xsize, rgb->Ysize, 8);
	if (!e.code && c->o->keep_metadata)
		e = avif_add_icc(pic, img);
	if (e.code) {
		snprintf(c->err, sizeof(c->err), "libheif: %s", e.message);
		goto fail;
	}
	plane = heif_image_get_plane(pic, heif_channel_interleaved, &stride);
	if (!plane || stride < 0 || (size_t)stride < VIPS_IMAGE_SIZEOF_LINE(rgb)) {
		snprintf(c->err, sizeof(c->err), "libheif: no plane for %d bands", rgb->Bands);
		goto fail;
	}
	/* libaom takes far longer than the pipeline: compute it here */
	if (render_rows(c, rgb, plane, (size_t)stride)) {
		fail_save(c, stage);
		goto out;
	}
	/* the pipeline's buffers need not wait for libaom */
	VIPS_UNREF(rgb);
	if (!c->o->keep_metadata)
		VIPS_UNREF(img);
	if (!(opt = heif_encoding_options_alloc())) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		goto fail;
	}
	opt->save_alpha_channel = alpha;
	e = heif_context_encode_image(ctx, pic, enc, opt,
				      c->o->keep_metadata ? &handle : NULL);
	if (!e.code && handle)
		e = avif_add_metadata(ctx, handle, img);
	if (e.code) {
		snprintf(c->err, sizeof(c->err), "libheif: %s", e.message);
		goto fail;
	}
	e = heif_context_write(ctx, &writer, &out);
	if (e.code) {
		if (out.err) {
			fail_text(c, REASON_IO, "write", strerror(out.err));
			goto out;
		}
		snprintf(c->err, sizeof(c->err), "libheif: %s", e.message);
		goto fail;
	}
	r = 0;
	goto out;
fail:
	fail(c, REASON_ENCODE, stage, 0);
out:
	if (opt)
		heif_encoding_options_free(opt);
	if (handle)
		heif_image_handle_release(handle);
	if (pic)
		heif_image_release(pic);
	if (enc)
		heif_encoder_release(enc);
	if (ctx)
		heif_context_free(ctx);
	VIPS_UNREF(rgb);
	VIPS_UNREF(img);
	return r;
}

/* Write the JPEG in buf to fd without its APP1 "Exif" segment, if it
 * has one among the APP segments after SOI.  0, or -1 with errno. */
static int
write_jpeg_without_exif(const unsigned char *buf, size_t len, int fd)
{
	size_t at = 2, seg;

	while (len >= 4 && buf[0] == 0xff && buf[1] == 0xd8 && at + 4 <= len &&
	       buf[at] == 0xff && buf[at + 1] >= 0xe0 && buf[at + 1] <= 0xef) {
		seg = 2 + ((size_t)buf[at + 2] << 8 | buf[at + 3]);
		if (at + seg > len)
			break;
		if (buf[at + 1] == 0xe1 && seg >= 10 && !memcmp(buf + at + 4, "Exif\0\0", 6))
			return output_write_all(fd, buf, at) ||
			       output_write_all(fd, buf + at + seg, len - at - seg) ? -1 : 0;
		at += seg;
	}
	return output_write_all(fd, buf, len);
}

/* --keep-metadata, JPEG, a source without EXIF: libvips 8.14's jpegsave
 * keeps metadata only by making an EXIF block up (a resolution, an
 * "uncalibrated" colour space).  Encode in memory and leave it out. */
static int
save_jpeg_no_exif(struct conv *c, VipsImage *img, int q, int fd, const char *stage)
{
	void *buf = NULL;
	size_t len = 0;

	if (vips_jpegsave_buffer(img, &buf, &len, "Q", q,
				 "optimize_coding", JPEG_OPTIMIZE_CODING, NULL)) {
		fail_save(c, stage);
		return -1;
	}
	if (write_jpeg_without_exif(buf, len, fd)) {
		fail_text(c, REASON_IO, "write", strerror(errno));
		g_free(buf);
		return -1;
	}
	g_free(buf);
	return 0;
}

/* Where libvips' savers write: the job's descriptor, written here so
 * that a failed write keeps its errno with the job.  Through libvips'
 * descriptor target the cause ("No space left on device") went into
 * its one error buffer, where a job failing at the same instant could
 * take it, or leave its own: a full disk then read as a damaged source
 * now and then. */
struct sink {
	int fd;
	int err;	/* of the write that failed, or 0 */
};

static gint64
sink_write(VipsTargetCustom *target, const void *data, gint64 length, void *user)
{
	struct sink *s = user;
	ssize_t n;

	(void)target;
	do
		n = write(s->fd, data, (size_t)length);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		s->err = errno;
	return n;
}

/* JPEG and PNG, through libvips' savers, which pull the pixels through
 * the pipeline as they encode. */
static int
save_vips(struct conv *c, VipsImage *img, enum out_format f, int fd, const char *stage)
{
	gboolean strip = !c->o->keep_metadata;
	int q = c->o->quality[f];
	struct sink sink = { .fd = fd };
	VipsTargetCustom *custom;
	VipsTarget *target;
	int r = -1;

	if (f == FMT_JPEG && !strip && !vips_image_get_typeof(img, VIPS_META_EXIF_NAME))
		return save_jpeg_no_exif(c, img, q, fd, stage);
	if (!(custom = vips_target_custom_new())) {
		fail(c, REASON_IO, "write", 1);
		return -1;
	}
	g_signal_connect(custom, "write", G_CALLBACK(sink_write), &sink);
	target = VIPS_TARGET(custom);
	switch (f) {
	case FMT_JPEG:
		r = vips_jpegsave_target(img, target, "Q", q,
					 "optimize_coding", JPEG_OPTIMIZE_CODING,
					 "strip", strip, NULL);
		break;
	case FMT_PNG:
		r = vips_pngsave_target(img, target, "compression", PNG_COMPRESSION,
					"strip", strip, NULL);
		break;
	default:
		break;
	}
	g_object_unref(target);
	if (r && sink.err) {
		/* what libvips logged of it is noise (vipserror.c) */
		vipserror_drop_noise();
		snprintf(c->err, sizeof(c->err), "%s", strerror(sink.err));
		fail_io(c, "write", sink.err);
	} else if (r) {
		fail_save(c, stage);
	}
	return r;
}

/* Encode img in format f to fd.  The reference to img is taken over:
 * the encoders that hold the whole picture let go of the pipeline
 * before they start. */
static int
save(struct conv *c, VipsImage *img, enum out_format f, int fd, const char *stage)
{
	int r;

	if (over_edge(c->err, sizeof(c->err), f, img->Xsize, img->Ysize)) {
		g_object_unref(img);
		fail(c, REASON_LIMIT, stage, 0);
		return -1;
	}
	if (f == FMT_WEBP)
		return webp_encode(c, img, c->o->quality[f], fd, stage);
	if (f == FMT_AVIF)
		return avif_encode(c, img, c->o->quality[f], fd, stage);
	r = save_vips(c, img, f, fd, stage);
	g_object_unref(img);
	return r;
}

static int
add_output(struct conv *c, char *path, enum out_format f, int width, int height,
	uint64_t bytes, const char *recipe)
{
	struct result *res = c->res;
	struct out_record *grown = realloc(res->outputs,
					   (res->n_outputs + 1) * sizeof(*grown));

	if (!grown) {
		free(path);
		fail_text(c, REASON_ENCODE, "record", "out of memory");
		return -1;
	}
	res->outputs = grown;
	res->outputs[res->n_outputs] = (struct out_record){
		.path = path, .format = f, .width = width, .height = height,
		.bytes = bytes,
	};
	memcpy(res->outputs[res->n_outputs].recipe, recipe, 17);
	res->n_outputs++;
	res->bytes_out += bytes;
	return 0;
}

/* Write one output of `img` in format f, atomically.  The reference to
 * img is taken over.  Without img, pic holds the pixels of a WebP
 * (webpdirect), taken over too. */
static int
write_output(struct conv *c, VipsImage *img, WebPPicture *pic, enum out_format f,
	int name_width)
{
	char *rel = plan_output_path(c->o, c->job, f, name_width);
	char *full = rel ? path_join(c->o->output_dir, rel) : NULL;
	char stage[64], recipe[17];
	struct tempfile t = { .fd = -1 }, *grown;
	VipsImage *ready = NULL;
	struct stat st;
	struct stat there;
	size_t k;
	int src_width = img ? img->Xsize : pic->width;
	int width, height, failed, ret = -1;

	snprintf(stage, sizeof(stage), "encode %s %dw", format_name(f), src_width);
	if (!full) {
		fail_text(c, REASON_UNSAFE_PATH, "name", "bad output name");
		goto out;
	}
	/* a name made from the source's own width may be another's too */
	switch (options_names_late(c->o) ? output_claim(rel, plan_name_owner(c->job), NULL) : 0) {
	case 1:
		snprintf(c->err, sizeof(c->err), "another source also writes '%s'", rel);
		fail(c, REASON_COLLISION, "name", 0);
		goto out;
	case -1:
		fail_text(c, REASON_IO, "name", "out of memory");
		goto out;
	}
	/* made by an earlier run from the same source, the same way */
	plan_recipe(c->o, f, src_width, recipe);
	for (k = 0; k < c->job->n_reuse; k++) {
		const struct out_record *r = &c->job->reuse[k];

		if (!strcmp(r->path, rel) && !strcmp(r->recipe, recipe)) {
			ret = add_output(c, rel, f, r->width, r->height, r->bytes, recipe);
			c->res->n_kept += !ret;
			rel = NULL;
			goto out;
		}
	}
	if (late(c)) {
		fail(c, REASON_TIMEOUT, stage, 0);
		goto out;
	}
	if (*c->stop) {
		fail(c, REASON_INTERRUPTED, stage, 0);
		goto out;
	}
	switch (output_check_dirs(c->o->output_dir, rel, c->err, sizeof(c->err))) {
	case 1:
		fail(c, REASON_UNSAFE_PATH, "write", 0);
		goto out;
	case -1:
		fail(c, REASON_IO, "write", 0);
		goto out;
	}
	if (img) {
		ready = prepare(c, img, f);
		VIPS_UNREF(img);
		if (!ready)
			goto out;
		width = ready->Xsize;
		height = ready->Ysize;
	} else {
		width = pic->width;
		height = pic->height;
	}
	if (output_open(&t, full, c->slot, c->err, sizeof(c->err))) {
		fail_io(c, "write", errno);
		goto out;
	}
	failed = ready ? save(c, ready, f, t.fd, stage)
		       : webp_write(c, pic, c->o->quality[f], NULL, t.fd, stage);
	ready = NULL;
	if (failed)
		goto out;
	/* libaom cannot be interrupted: an encode that ran past
	 * the deadline is thrown away when it returns */
	if (late(c)) {
		fail(c, REASON_TIMEOUT, stage, 0);
		goto out;
	}
	if (fstat(t.fd, &st)) {
		fail_text(c, REASON_IO, "write", strerror(errno));
		goto out;
	}
	if (*c->stop) {
		fail(c, REASON_INTERRUPTED, stage, 0);
		goto out;
	}
	/* a name made from the source's own width may be another source's */
	if (c->plan && !stat(full, &there) && plan_is_source(c->plan, &there)) {
		snprintf(c->err, sizeof(c->err), "output '%s' would replace a source", full);
		fail(c, REASON_COLLISION, "write", 0);
		goto out;
	}
	if (output_finish(&t, c->err, sizeof(c->err))) {
		fail_io(c, "write", errno);
		goto out;
	}
	if (!(grown = realloc(c->staged, (size_t)(c->n_staged + 1) * sizeof(*grown)))) {
		fail_text(c, REASON_IO, "write", "out of memory");
		goto out;
	}
	c->staged = grown;
	c->staged[c->n_staged++] = t;
	t = (struct tempfile){ .fd = -1 };
	ret = add_output(c, rel, f, width, height, (uint64_t)st.st_size, recipe);
	rel = NULL;
out:
	output_discard(&t);
	VIPS_UNREF(ready);
	VIPS_UNREF(img);
	if (pic)
		WebPPictureFree(pic);
	free(rel);
	free(full);
	return ret;
}

/* Every output is written: rename them all into place. */
static void
publish_outputs(struct conv *c)
{
	int i;

	if (*c->stop) {
		fail(c, REASON_INTERRUPTED, "write", 0);
		return;
	}
	for (i = 0; i < c->n_staged; i++) {
		if (output_publish_keep(&c->staged[i], c->err, sizeof(c->err))) {
			fail_io(c, "write", errno);
			return;
		}
	}
}

/* A failed job leaves no new outputs: its temporary files go, and an
 * earlier run's outputs stay as they were (for --prune to judge), those
 * a failed rename halfway through publishing had replaced put back.  A
 * job that succeeded drops the files its outputs replaced. */
static void
drop_staged(struct conv *c)
{
	struct result *res = c->res;
	size_t i;
	int k;

	for (k = 0; k < c->n_staged; k++) {
		if (res->status == JOB_FAILED)
			output_unpublish(&c->staged[k]);
		output_discard(&c->staged[k]);
	}
	free(c->staged);
	c->staged = NULL;
	c->n_staged = 0;
	if (res->status != JOB_FAILED)
		return;
	for (i = 0; i < res->n_outputs; i++)
		free(res->outputs[i].path);
	free(res->outputs);
	res->outputs = NULL;
	res->n_outputs = 0;
	res->bytes_out = 0;
}

/* Every width of base, largest first, in every format.  The reference
 * to base is taken over, and handed down with the last output made from
 * it, so that nothing holds the pipeline while that output is encoded. */
static void
convert_widths(struct conv *c, VipsImage *base, const int *widths, int n_widths,
	int name_width_fixed)
{
	const struct options *o = c->o;
	int i, f;

	for (i = n_widths - 1; i >= 0 && c->res->status != JOB_FAILED; i--) {
		VipsImage *img = base;
		/* no -w: no {w}; no -w width fits: {w} is the source's */
		int name_w = !o->n_widths ? 0 :
			     name_width_fixed ? name_width_fixed : widths[i];

		if (widths[i] < base->Xsize) {
			if (vips_thumbnail_image(base, &img, widths[i],
						 "height", height_for(c, widths[i]),
						 "size", VIPS_SIZE_FORCE, NULL)) {
				fail(c, REASON_ENCODE, "resize", 1);
				break;
			}
			/* resized once for every format, not once a format */
			if (o->n_formats > 1) {
				VipsImage *mem = keep_in_memory(c, img);

				g_object_unref(img);
				if (!(img = mem)) {
					fail(c, REASON_ENCODE, "resize", 1);
					break;
				}
			}
		} else {
			g_object_ref(img);
		}
		if (i == 0)
			VIPS_UNREF(base);
		for (f = 0; f < o->n_formats && c->res->status != JOB_FAILED; f++) {
			if (f < o->n_formats - 1)
				g_object_ref(img);
			write_output(c, img, NULL, o->formats[f], name_w);
			if (f == o->n_formats - 1)
				img = NULL;
		}
		VIPS_UNREF(img);
	}
	VIPS_UNREF(base);
}

/* Open the source, refusing anything but a regular file, without
 * blocking on a FIFO swapped in since the plan looked at it. */
static int
open_source(struct conv *c)
{
	int follow = c->job->named || c->o->follow_symlinks;
	struct stat st;
	int fd = open(c->job->src_path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
		      (follow ? 0 : O_NOFOLLOW));

	if (fd < 0 || fstat(fd, &st)) {
		fail_text(c, REASON_IO, "open", strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		fail_text(c, REASON_NOT_REGULAR, "open", "not a regular file");
	} else {
		c->bytes = st.st_size;
		return fd;
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The formats written, a bit (1 << enum out_format) each. */
static unsigned
format_mask(const struct options *o)
{
	unsigned mask = 0;
	int f;

	for (f = 0; f < o->n_formats; f++)
		mask |= 1u << o->formats[f];
	return mask;
}

/* The memory model's view of an opened header. */
static uint64_t
estimate(const struct options *o, VipsImage *img, enum src_type type, int vector,
	int up_width, int up_height)
{
	struct mem_job m = { 0 };
	int *widths = malloc(sizeof(int) * (size_t)(o->n_widths + 1));
	int n, name_width, orientation = 1, interlaced = 0;
	uint64_t est;

	if (!widths)
		return 0;
	n = plan_widths(o, up_width, widths, &name_width);
	if (vips_image_get_typeof(img, VIPS_META_ORIENTATION))
		vips_image_get_int(img, VIPS_META_ORIENTATION, &orientation);
	if (vips_image_get_typeof(img, "interlaced"))
		vips_image_get_int(img, "interlaced", &interlaced);
	m.type = type;
	m.width = img->Xsize;
	m.height = img->Ysize;
	m.bands = img->Bands;
	m.sample_bytes = (int)vips_format_sizeof(img->BandFmt);
	m.interlaced = interlaced;
	m.rotated = orientation > 1 && orientation <= 8;
	m.out_width = widths[n - 1];
	m.out_height = (int)((double)up_height * widths[n - 1] / up_width + 0.5);
	if (m.out_height < 1)
		m.out_height = 1;
	m.jpeg_shrink = type == SRC_JPEG ?
		jpeg_shrink_for(up_width, up_height, widths[n - 1], m.out_height) : 1;
	m.load_scale = type == SRC_WEBP || vector ?
		webp_scale_for(up_width, up_height, widths[n - 1], m.out_height) : 1;
	m.n_outputs = n * o->n_formats;
	m.formats = format_mask(o);
	m.avif_intrabc = AVIF_INTRA_BLOCK_COPY;
	m.webp_quality = o->quality[FMT_WEBP];
	est = mem_estimate(&m);
	free(widths);
	return est;
}

/* Whether to try again a job that failed without libvips' text, taken
 * with another job's failing at the same instant: the same failure
 * gives its text again.  Clears the failed result for that try. */
static int
again_for_text(struct conv *c)
{
	struct result *res = c->res;

	if (!c->text_lost || res->status != JOB_FAILED ||
	    (res->reason != REASON_CORRUPT && res->reason != REASON_ENCODE) ||
	    *c->stop || late(c))
		return 0;
	result_release(res);
	c->text_lost = 0;
	c->err[0] = '\0';
	return 1;
}

uint64_t
convert_probe(const struct options *o, const struct job *job, struct result *res)
{
	atomic_int never = 0;
	struct result mine;
	struct conv c = { .o = o, .job = job, .res = res ? res : &mine, .slot = -1,
			  .stop = &never };
	VipsSource *src = NULL;
	VipsImage *img = NULL;
	uint64_t est = 0;
	int fd;

	memset(c.res, 0, sizeof(*c.res));
	if ((fd = open_source(&c)) < 0)
		goto out;
	if (!(src = vips_source_new_from_descriptor(fd)))
		fail(&c, REASON_IO, "read", 1);
	else if ((img = load(&c, src, 1, 1))) {
		c.res->width = upright_swapped(img) ? img->Ysize : img->Xsize;
		c.res->height = upright_swapped(img) ? img->Xsize : img->Ysize;
		if (!check_header(&c, img, fd))
			est = estimate(o, img, job->type, c.vector, c.res->width, c.res->height);
		g_object_unref(img);
	}
	if (src)
		g_object_unref(src);
	close(fd);
out:
	if (!res)
		result_release(&mine);
	return est;
}

/* hash_fd_while's question: neither stopped nor out of time. */
static int
go_on(void *arg)
{
	struct conv *c = arg;

	return !*c->stop && !late(c);
}

/* The commonest job, a JPEG or PNG to one WebP of its own size,
 * without libvips when the source is plain (webpdirect.c): 0 when
 * taken, done or failed (stopped too); 1 when declined, for decode()
 * to do it.
 * Strict runs only: what a decoder warns of, libvips judges. */
static int
convert_direct(struct conv *c, int fd)
{
	const struct options *o = c->o;
	struct webpdirect_want want = { .max_edge = WEBP_MAX_EDGE, .go_on = go_on, .arg = c };
	struct result *res = c->res;
	double per_byte;
	WebPPicture pic;

	if ((c->job->type != SRC_JPEG && c->job->type != SRC_PNG) || c->lenient ||
	    o->keep_metadata || o->n_widths || o->n_formats != 1 || o->formats[0] != FMT_WEBP ||
	    c->job->n_reuse)
		return 1;
	per_byte = max_px_per_byte(c->job->type, fd) * (double)c->bytes;
	want.max_px = (double)o->max_pixels < per_byte ? o->max_pixels : (uint64_t)per_byte;
	switch (c->job->type == SRC_JPEG ? webpdirect_jpeg(fd, &want, &pic)
					 : webpdirect_png(fd, &want, &pic)) {
	case 0:
		break;
	case 2:
		/* a stop or a timeout, which fail_as tells apart; not
		 * again through libvips, which would read the header
		 * once more for nothing */
		fail_text(c, REASON_CORRUPT, "decode", "stopped");
		return 0;
	default:
		return 1;
	}
	res->width = pic.width;
	res->height = pic.height;
	c->single = 1;
	write_output(c, NULL, &pic, FMT_WEBP, 0);
	if (res->status != JOB_FAILED)
		publish_outputs(c);
	if (res->status != JOB_FAILED)
		res->status = JOB_CONVERTED;
	return 0;
}

/* One try at the whole job, strict or lenient. */
static void
convert_once(struct conv *c)
{
	const struct options *o = c->o;
	struct result *res = c->res;
	VipsImage *base = NULL, *mem = NULL;
	int *widths = NULL;
	int n_targets, fd, largest, name_width;

	if ((fd = open_source(c)) < 0)
		goto out;
	if (c->job->hash[0]) {
		memcpy(res->hash, c->job->hash, sizeof(res->hash));
	} else if (hash_fd_while(fd, res->hash, go_on, c) || lseek(fd, 0, SEEK_SET)) {
		/* stopped or out of time: fail_as says which */
		fail_text(c, REASON_IO, "read", strerror(errno));
		goto out;
	}

	if (!convert_direct(c, fd))
		goto out;
	largest = o->n_widths ? o->widths[o->n_widths - 1] : 0;
	if (!(base = decode(c, fd, largest)))
		goto out;
	if (!(widths = malloc(sizeof(int) * (size_t)(o->n_widths + 1)))) {
		fail_text(c, REASON_IO, "plan", "out of memory");
		goto out;
	}
	n_targets = plan_widths(o, res->width, widths, &name_width);
	c->single = n_targets * o->n_formats == 1;

	/* several outputs from one sequential decode: keep it in memory */
	if (n_targets * o->n_formats > 1) {
		if (!(mem = keep_in_memory(c, base))) {
			fail_save(c, "decode");
			goto out;
		}
		g_object_unref(base);
		base = mem;
		c->opaque = is_opaque(base);
	}
	convert_widths(c, base, widths, n_targets, name_width);
	base = NULL;
	if (res->status != JOB_FAILED)
		publish_outputs(c);
	if (res->status != JOB_FAILED)
		res->status = JOB_CONVERTED;
out:
	drop_staged(c);
	if (base)
		g_object_unref(base);
	free(widths);
	if (fd >= 0)
		close(fd);
}

void
convert_job(const struct options *o, const struct plan *plan, const struct job *job,
	struct result *res, int slot, uint64_t estimate, struct sched_slot *sched,
	atomic_int *stop)
{
	struct conv c = { .o = o, .plan = plan, .job = job, .res = res, .slot = slot,
			  .estimate = estimate, .sched = sched, .stop = stop };

	memset(res, 0, sizeof(*res));
	res->status = JOB_PENDING;
	if (o->timeout)
		c.deadline = run_clock() + o->timeout;
	convert_once(&c);
	if (again_for_text(&c)) {
		res->status = JOB_PENDING;
		convert_once(&c);
	}

	/* --lenient: what the strict decoder refused, once more without
	 * the checks; the record keeps the complaint as a warning */
	if (o->lenient && res->status == JOB_FAILED && res->reason == REASON_CORRUPT &&
	    !*stop && !late(&c)) {
		char *complaint = res->error;

		res->error = NULL;
		memset(res, 0, sizeof(*res));
		res->status = JOB_PENDING;
		c.lenient = 1;
		c.err[0] = '\0';
		convert_once(&c);
		if (res->status == JOB_CONVERTED)
			res->warning = complaint;
		else
			free(complaint);
	}
	vips_thread_shutdown();
	/* glibc keeps what a job freed in its arenas: the pages of blocks
	 * under its mmap threshold, where another thread's blocks sit
	 * above them, and what libaom's threads leave fragmented (after
	 * big AVIF jobs the process stayed near 600 MB while small ones
	 * ran; six 3 MP JPEGs at -j4 -M 128M under load peaked 40 MB over
	 * the budget).  A job big for the budget (an eighth, at most
	 * 64 MB) or a big AVIF job gives it back before the worker takes
	 * its next.  Trimming after every job only costs page faults when
	 * the next takes the same memory again (15% more time on 1,000
	 * small images, 2% on full-size WebP, with no lower peak). */
	if (estimate > VIPS_MIN(64u << 20, o->memory_budget / 8) ||
	    ((format_mask(o) & 1u << FMT_AVIF) &&
	     (double)res->width * res->height >= TRIM_AFTER_PX))
		malloc_trim(0);
}

/* --list-formats: one loader per line. */
static void *
list_loader(void *item, void *a, void *b)
{
	VipsObjectClass *oc = VIPS_OBJECT_CLASS(item);
	VipsOperationFlags flags = VIPS_OPERATION_CLASS(item)->flags;
	const struct options *o = a;
	const char *nick = oc->nickname;
	size_t n = strlen(nick);
	static const char *const own[] = {
		"jpegload", "pngload", "webpload", "gifload", "tiffload", "heifload",
	};
	size_t i;

	(void)b;
	/* the file loaders stand for their _buffer and _source variants */
	if (n < 4 || strcmp(nick + n - 4, "load"))
		return NULL;
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strcmp(nick, own[i]))
			return NULL;	/* listed above */
	printf("  %-14s %s%s\n", nick, !reads_sources(nick) ? "reads only named files: unusable" :
	       loader_allowed(o, nick) ? "allowed (--allow-loader)" : "blocked",
	       flags & VIPS_OPERATION_UNTRUSTED ? ", untrusted" : "");
	return NULL;
}

int
convert_list_formats(const struct options *o)
{
	static const struct { const char *type, *loader; } own[] = {
		{ "JPEG", "jpegload" }, { "PNG", "pngload" }, { "WebP", "webpload" },
		{ "GIF", "gifload" }, { "TIFF", "tiffload" }, { "HEIF/AVIF", "heifload" },
	};
	static const char *const savers[FMT_COUNT] = {
		[FMT_WEBP] = "libwebp", [FMT_AVIF] = "libheif",
		[FMT_JPEG] = "jpegsave", [FMT_PNG] = "pngsave",
	};
	size_t i;
	int f;

	printf("Input, the type found by content (libmagic), then its own loader:\n");
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		printf("  %-14s %-10s %s\n", own[i].type, own[i].loader,
		       vips_type_find("VipsOperation", own[i].loader) ? "yes" :
		       "missing from this libvips");
	printf("Other libvips loaders, blocked unless --allow-loader NAME:\n");
	vips_foreign_map("VipsForeignLoad", list_loader, (void *)o, NULL);
	printf("Output:\n");
	for (f = 0; f < FMT_COUNT; f++) {
		/* WebP is encoded by libwebp itself, which imgbake links;
		 * AVIF by libheif, with its AV1 encoder */
		int avif = f == FMT_AVIF;
		int have = avif ? heif_have_encoder_for_format(heif_compression_AV1)
			 : f == FMT_WEBP ? 1
			 : vips_type_find("VipsOperation", savers[f]) != 0;

		printf("  %-14s %-10s %s\n", format_name(f), savers[f], have ? "yes" :
		       avif ? "no AV1 encoder in this libheif" : "missing from this libvips");
	}
	return fflush(stdout) ? -1 : 0;
}
