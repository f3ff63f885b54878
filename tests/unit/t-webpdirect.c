/*
 * webpdirect_jpeg and webpdirect_png: which pictures they take, and
 * that what they take is the picture one whole import by libwebp
 * gives.  The JPEGs and PNGs are made here with libjpeg and libpng,
 * into memory files; the ICC profiles with lcms2.
 */
#include <stdio.h>	/* before jpeglib.h */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jpeglib.h>
#include <lcms2.h>
#include <png.h>

#include "tap.h"
#include "webpdirect.h"

/* sRGB's profile (srgb 1) or one with sRGB's colorants and gamma 2.2,
 * as bytes; *len its size. */
static void *
profile(int srgb, unsigned *len)
{
	cmsCIExyY d65;
	cmsCIExyYTRIPLE prim = { { 0.64, 0.33, 1 }, { 0.30, 0.60, 1 }, { 0.15, 0.06, 1 } };
	cmsToneCurve *g = cmsBuildGamma(NULL, 2.2), *curves[3] = { g, g, g };
	cmsHPROFILE p;
	cmsUInt32Number n = 0;
	void *buf;

	cmsWhitePointFromTemp(&d65, 6504);
	p = srgb ? cmsCreate_sRGBProfile() : cmsCreateRGBProfile(&d65, &prim, curves);
	cmsFreeToneCurve(g);
	cmsSaveProfileToMem(p, NULL, &n);
	buf = malloc(n);
	cmsSaveProfileToMem(p, buf, &n);
	cmsCloseProfile(p);
	*len = n;
	return buf;
}

struct jpeg_spec {
	int width, height;
	J_COLOR_SPACE in_space;	/* JCS_RGB, JCS_GRAYSCALE or JCS_CMYK */
	int progressive;
	int restart_rows;	/* a restart marker every so many MCU rows */
	int orientation;	/* an EXIF block with this orientation; 0: none */
	int icc;		/* 1: an APP2 ICC_PROFILE marker of junk; 2: sRGB's
				 * profile; 3: gamma 2.2's; 4: sRGB's after
				 * "ICC_PROFILEX"; 5: sRGB's in two pieces; 6: the
				 * same, the second piece first */
};

/* A test pattern: colours that change along both axes. */
static unsigned char
sample(int x, int y, int c)
{
	return (unsigned char)((x * 7 + y * 3 + c * 85) ^ (x * y));
}

/* EXIF, little-endian, with one entry in IFD 0: the orientation. */
static size_t
exif_block(unsigned char *b, int orientation)
{
	static const unsigned char head[] = {
		'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0,
		1, 0,			/* one entry */
		0x12, 0x01, 3, 0,	/* orientation, SHORT */
		1, 0, 0, 0,		/* one of them */
	};

	memcpy(b, head, sizeof(head));
	b[sizeof(head)] = (unsigned char)orientation;
	memset(b + sizeof(head) + 1, 0, 3 + 4);	/* value's padding, no next IFD */
	return sizeof(head) + 8;
}

/* sRGB's profile in APP2 markers written by hand (see jpeg_spec.icc). */
static void
write_icc_pieces(j_compress_ptr cinfo, int how)
{
	unsigned n, half, k;
	unsigned char *icc = profile(1, &n), *m = malloc(n + 14);

	half = how == 4 ? n : n / 2;
	for (k = 0; k < (how == 4 ? 1u : 2u); k++) {
		unsigned piece = how == 6 ? 1 - k : k;
		unsigned at = piece ? half : 0, len = piece ? n - half : half;

		memcpy(m, how == 4 ? "ICC_PROFILEX" : "ICC_PROFILE\0", 12);
		m[12] = (unsigned char)(piece + 1);
		m[13] = how == 4 ? 1 : 2;
		memcpy(m + 14, icc + at, len);
		jpeg_write_marker(cinfo, JPEG_APP0 + 2, m, len + 14);
	}
	free(m);
	free(icc);
}

/* The JPEG of spec in a memory file, or -1. */
static int
make_jpeg(const struct jpeg_spec *s, unsigned char **bytes, unsigned long *len)
{
	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr jerr;
	int comps = s->in_space == JCS_GRAYSCALE ? 1 : s->in_space == JCS_CMYK ? 4 : 3;
	unsigned char *row = malloc((size_t)s->width * comps), exif[64];
	int fd = memfd_create("t-webpdirect", 0), x, y, c;

	*bytes = NULL;
	*len = 0;
	cinfo.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&cinfo);
	jpeg_mem_dest(&cinfo, bytes, len);
	cinfo.image_width = (JDIMENSION)s->width;
	cinfo.image_height = (JDIMENSION)s->height;
	cinfo.input_components = comps;
	cinfo.in_color_space = s->in_space;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, 75, TRUE);
	if (s->progressive)
		jpeg_simple_progression(&cinfo);
	cinfo.restart_in_rows = s->restart_rows;
	jpeg_start_compress(&cinfo, TRUE);
	if (s->orientation)
		jpeg_write_marker(&cinfo, JPEG_APP0 + 1, exif,
				  (unsigned)exif_block(exif, s->orientation));
	if (s->icc == 1)
		jpeg_write_marker(&cinfo, JPEG_APP0 + 2,
				  (const JOCTET *)"ICC_PROFILE\0\1\1not a profile", 27);
	if (s->icc == 2 || s->icc == 3) {
		unsigned n;
		void *icc = profile(s->icc == 2, &n);

		jpeg_write_icc_profile(&cinfo, icc, n);
		free(icc);
	}
	if (s->icc >= 4)
		write_icc_pieces(&cinfo, s->icc);
	for (y = 0; y < s->height; y++) {
		for (x = 0; x < s->width; x++)
			for (c = 0; c < comps; c++)
				row[x * comps + c] = sample(x, y, c);
		jpeg_write_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	free(row);
	if (fd < 0 || write(fd, *bytes, *len) != (ssize_t)*len) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The reference: libjpeg's RGB of the whole picture, imported at once. */
static int
whole_import(const unsigned char *bytes, unsigned long len, WebPPicture *ref)
{
	struct jpeg_decompress_struct cinfo;
	struct jpeg_error_mgr jerr;
	unsigned char *rgb;
	int ok;

	cinfo.err = jpeg_std_error(&jerr);
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, bytes, len);
	jpeg_read_header(&cinfo, TRUE);
	cinfo.out_color_space = JCS_RGB;
	jpeg_start_decompress(&cinfo);
	rgb = malloc((size_t)cinfo.output_width * cinfo.output_height * 3);
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW row = rgb + (size_t)cinfo.output_scanline * cinfo.output_width * 3;

		jpeg_read_scanlines(&cinfo, &row, 1);
	}
	WebPPictureInit(ref);
	ref->width = (int)cinfo.output_width;
	ref->height = (int)cinfo.output_height;
	ok = WebPPictureImportRGB(ref, rgb, ref->width * 3);
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	free(rgb);
	return ok;
}

static int
same_planes(const WebPPicture *a, const WebPPicture *b)
{
	int uv_w = (a->width + 1) / 2, uv_h = (a->height + 1) / 2, y;

	if (a->width != b->width || a->height != b->height)
		return 0;
	for (y = 0; y < a->height; y++)
		if (memcmp(a->y + (size_t)a->y_stride * y, b->y + (size_t)b->y_stride * y,
			   (size_t)a->width))
			return 0;
	for (y = 0; y < uv_h; y++)
		if (memcmp(a->u + (size_t)a->uv_stride * y, b->u + (size_t)b->uv_stride * y,
			   (size_t)uv_w) ||
		    memcmp(a->v + (size_t)a->uv_stride * y, b->v + (size_t)b->uv_stride * y,
			   (size_t)uv_w))
			return 0;
	return 1;
}

static int strips_left = -1;	/* go_on says no after this many; -1: never */

static int
go_on(void *arg)
{
	(void)arg;
	return strips_left < 0 || strips_left-- > 0;
}

static const struct webpdirect_want any = {
	.max_px = 1u << 30, .max_edge = 16383, .go_on = go_on,
};

/* Taken, and the same planes as the whole import. */
static void
taken(const struct jpeg_spec *s, const char *what)
{
	unsigned char *bytes;
	unsigned long len;
	WebPPicture pic, ref;
	int fd = make_jpeg(s, &bytes, &len), r;

	r = fd >= 0 ? webpdirect_jpeg(fd, &any, &pic) : -1;
	is_int(r, 0, "%s: taken", what);
	if (r == 0) {
		ok(whole_import(bytes, len, &ref) && same_planes(&pic, &ref),
		   "%s: the planes of one whole import", what);
		ok(lseek(fd, 0, SEEK_CUR) == (off_t)len, "%s: the file offset left alone", what);
		WebPPictureFree(&ref);
		WebPPictureFree(&pic);
	}
	if (fd >= 0)
		close(fd);
	free(bytes);
}

/* Declined under want (any when NULL), of bytes cut to `cut` (all
 * when 0) or with a restart marker written at `flip`, in the middle of
 * the entropy data (libjpeg warns, and decodes on). */
static void
declined(const struct jpeg_spec *s, const struct webpdirect_want *want, unsigned long cut,
	long flip, const char *what)
{
	unsigned char *bytes;
	unsigned long len;
	WebPPicture pic;
	int fd = make_jpeg(s, &bytes, &len);

	if (fd >= 0 && ((cut && ftruncate(fd, (off_t)cut)) ||
			(flip >= 0 && pwrite(fd, "\xff\xd5", 2, flip) != 2))) {
		close(fd);
		fd = -1;
	}
	is_int(fd >= 0 ? webpdirect_jpeg(fd, want ? want : &any, &pic) : -1, 1,
	       "%s: declined", what);
	if (fd >= 0)
		close(fd);
	free(bytes);
}


struct png_spec {
	int width, height;
	int type;		/* PNG_COLOR_TYPE_... */
	int depth;		/* 8 or 16 */
	int interlace;
	int trns;		/* a tRNS colour */
	int icc;		/* 2: sRGB's profile, 3: gamma 2.2's */
	int orientation;	/* an eXIf chunk with this orientation */
};

static int
bands_of(int type)
{
	switch (type) {
	case PNG_COLOR_TYPE_GRAY: return 1;
	case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
	case PNG_COLOR_TYPE_RGB: return 3;
	case PNG_COLOR_TYPE_PALETTE: return 1;
	default: return 4;
	}
}

static void
png_to_fd(png_structp png, png_bytep data, size_t len)
{
	int *fd = png_get_io_ptr(png);

	if (write(*fd, data, len) != (ssize_t)len)
		png_error(png, "write");
}

static void
png_flush_none(png_structp png)
{
	(void)png;
}

/* The PNG of spec written to fd: 0, or -1. */
static int
write_png(int fd, const struct png_spec *s)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	unsigned char *volatile row = NULL;
	unsigned char exif[64];
	int bands, bytes, x, y, pass;

	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(row);
		return -1;
	}
	bands = bands_of(s->type);
	bytes = s->depth / 8;
	row = malloc((size_t)s->width * bands * bytes);
	png_set_write_fn(png, &fd, png_to_fd, png_flush_none);
	png_set_IHDR(png, info, (png_uint_32)s->width, (png_uint_32)s->height, s->depth,
		     s->type, s->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (s->type == PNG_COLOR_TYPE_PALETTE) {
		png_color pal[256];

		for (x = 0; x < 256; x++)
			pal[x].red = pal[x].green = pal[x].blue = (png_byte)x;
		png_set_PLTE(png, info, pal, 256);
	}
	if (s->trns) {
		png_color_16 t = { 0, 10, 10, 10, 10 };

		png_set_tRNS(png, info, NULL, 0, &t);
	}
	if (s->icc) {
		unsigned n;
		void *icc = profile(s->icc == 2, &n);

		png_set_iCCP(png, info, "icc", 0, icc, n);
		free(icc);
	}
	if (s->orientation) {
		size_t n = exif_block(exif, s->orientation);

		/* eXIf holds the TIFF structure, without "Exif\0\0" */
		png_set_eXIf_1(png, info, (png_uint_32)(n - 6), exif + 6);
	}
	png_write_info(png, info);
	if (s->interlace)
		png_set_interlace_handling(png);
	for (pass = 0; pass < (s->interlace ? 7 : 1); pass++)
		for (y = 0; y < s->height; y++) {
			for (x = 0; x < s->width * bands * bytes; x++)
				row[x] = sample(x / (bands * bytes), y, x % (bands * bytes));
			png_write_row(png, row);
		}
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(row);
	return 0;
}

/* The PNG of spec in a memory file, or -1. */
static int
make_png(const struct png_spec *s)
{
	int fd = memfd_create("t-webpdirect", 0);

	if (fd >= 0 && write_png(fd, s)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* What libvips would hand libwebp for an 8-bit spec, imported at once:
 * grey three times, alpha kept. */
static int
pattern_import(const struct png_spec *s, WebPPicture *ref)
{
	int bands = bands_of(s->type), out = bands == 2 || bands == 4 ? 4 : 3;
	unsigned char *rgb = malloc((size_t)s->width * s->height * out);
	int x, y, c, ok;

	for (y = 0; y < s->height; y++)
		for (x = 0; x < s->width; x++)
			for (c = 0; c < out; c++) {
				int from = bands >= 3 ? c : c == 3 ? 1 : 0;

				rgb[((size_t)y * s->width + x) * out + c] =
					sample(x, y, from);
			}
	WebPPictureInit(ref);
	ref->width = s->width;
	ref->height = s->height;
	ok = out == 4 ? WebPPictureImportRGBA(ref, rgb, s->width * 4)
		      : WebPPictureImportRGB(ref, rgb, s->width * 3);
	free(rgb);
	return ok;
}

static void
png_taken(const struct png_spec *s, const char *what)
{
	WebPPicture pic, ref;
	int fd = make_png(s), r;

	r = fd >= 0 ? webpdirect_png(fd, &any, &pic) : -1;
	is_int(r, 0, "%s: taken", what);
	if (r == 0) {
		ok(pattern_import(s, &ref) && same_planes(&pic, &ref) &&
		   (!ref.a) == (!pic.a) &&
		   (!ref.a || !memcmp(ref.a, pic.a, (size_t)ref.a_stride * ref.height)),
		   "%s: the planes of one whole import", what);
		WebPPictureFree(&ref);
		WebPPictureFree(&pic);
	}
	if (fd >= 0)
		close(fd);
}

/* Declined, with the file cut to `cut` bytes (0: whole) or the byte at
 * `flip` changed (-1: none). */
static void
png_declined(const struct png_spec *s, off_t cut, off_t flip, const char *what)
{
	WebPPicture pic;
	int fd = make_png(s);
	unsigned char b;

	if (fd >= 0 && cut && ftruncate(fd, cut)) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && flip >= 0) {
		if (pread(fd, &b, 1, flip) != 1 || (b ^= 0x5a, pwrite(fd, &b, 1, flip) != 1)) {
			close(fd);
			fd = -1;
		}
	}
	is_int(fd >= 0 ? webpdirect_png(fd, &any, &pic) : -1, 1, "%s: declined", what);
	if (fd >= 0)
		close(fd);
}

/* Stopped (2) as go_on says, with nothing allocated. */
static void
stopped(const struct jpeg_spec *s, const char *what)
{
	unsigned char *bytes;
	unsigned long len;
	WebPPicture pic;
	int fd = make_jpeg(s, &bytes, &len);

	is_int(fd >= 0 ? webpdirect_jpeg(fd, &any, &pic) : -1, 2, "%s: stopped", what);
	if (fd >= 0)
		close(fd);
	free(bytes);
}

int
main(void)
{
	struct jpeg_spec plain = { 64, 48, JCS_RGB, 0, 0, 0, 0 }, s;
	struct webpdirect_want want = any;

	taken(&plain, "a plain 64x48 JPEG");
	s = plain, s.width = 17, s.height = 9;
	taken(&s, "odd sides, 17x9");
	s = plain, s.width = 1, s.height = 1;
	taken(&s, "one pixel");
	s = plain, s.width = 50, s.height = 37;
	taken(&s, "37 rows, two strips and an odd one");
	s = plain, s.progressive = 1, s.width = 100, s.height = 70;
	taken(&s, "progressive");
	s = plain, s.restart_rows = 1, s.height = 100;
	taken(&s, "restart markers");
	s = plain, s.orientation = 1;
	taken(&s, "EXIF orientation 1");

	s = plain, s.in_space = JCS_GRAYSCALE;
	taken(&s, "grey");
	s = plain, s.icc = 2;
	taken(&s, "sRGB's profile");
	s = plain, s.in_space = JCS_CMYK;
	declined(&s, NULL, 0, -1, "CMYK");
	s = plain, s.orientation = 6;
	declined(&s, NULL, 0, -1, "EXIF orientation 6");
	s = plain, s.icc = 1;
	declined(&s, NULL, 0, -1, "an ICC marker of junk");
	s = plain, s.icc = 3;
	declined(&s, NULL, 0, -1, "a profile of gamma 2.2");
	s = plain, s.icc = 5;
	taken(&s, "sRGB's profile in two pieces");
	s = plain, s.icc = 4;
	declined(&s, NULL, 0, -1, "sRGB's profile after \"ICC_PROFILEX\" (libvips reads it)");
	s = plain, s.icc = 6;
	declined(&s, NULL, 0, -1, "sRGB's profile in two pieces, the second first");

	want.max_px = 64 * 48 - 1;
	declined(&plain, &want, 0, -1, "a pixel over max_px");
	want = any, want.max_px = 64 * 48;
	{
		unsigned char *bytes;
		unsigned long len;
		WebPPicture pic;
		int fd = make_jpeg(&plain, &bytes, &len);

		is_int(webpdirect_jpeg(fd, &want, &pic), 0, "exactly max_px: taken");
		WebPPictureFree(&pic);
		close(fd);
		free(bytes);
	}
	want = any, want.max_edge = 63;
	declined(&plain, &want, 0, -1, "a side over max_edge");

	s = plain, s.height = 200;
	strips_left = 3;
	stopped(&s, "go_on says no after three questions");
	s = plain, s.progressive = 1, s.height = 8;
	strips_left = 2;
	stopped(&s, "progressive, one strip: go_on asked while the scans are read");
	strips_left = 0;
	stopped(&plain, "go_on says no at once: asked before the header is read");
	strips_left = -1;

	declined(&plain, NULL, 400, -1, "cut short");
	declined(&plain, NULL, 1, -1, "one byte");
	s = plain, s.width = 256, s.height = 256;
	declined(&s, NULL, 0, 1500, "a stray marker in the entropy data");

	{
		struct png_spec p = { 61, 37, PNG_COLOR_TYPE_RGB, 8, 0, 0, 0, 0 }, q;

		png_taken(&p, "PNG RGB");
		q = p, q.type = PNG_COLOR_TYPE_RGB_ALPHA;
		png_taken(&q, "PNG RGBA");
		q = p, q.type = PNG_COLOR_TYPE_GRAY;
		png_taken(&q, "PNG grey");
		q = p, q.type = PNG_COLOR_TYPE_GRAY_ALPHA;
		png_taken(&q, "PNG grey and alpha");
		q = p, q.icc = 2;
		png_taken(&q, "PNG with sRGB's profile");
		q = p, q.orientation = 1;
		png_taken(&q, "PNG with EXIF orientation 1");

		q = p, q.icc = 3;
		png_declined(&q, 0, -1, "PNG with a profile of gamma 2.2");
		q = p, q.orientation = 6;
		png_declined(&q, 0, -1, "PNG with EXIF orientation 6");
		q = p, q.depth = 16;
		png_declined(&q, 0, -1, "PNG of 16 bits");
		q = p, q.type = PNG_COLOR_TYPE_PALETTE;
		png_declined(&q, 0, -1, "PNG with a palette");
		q = p, q.trns = 1;
		png_declined(&q, 0, -1, "PNG with a tRNS colour");
		q = p, q.interlace = 1;
		png_declined(&q, 0, -1, "interlaced PNG");
		png_declined(&p, 200, -1, "PNG cut short");
		png_declined(&p, 0, 60, "PNG with a byte of IDAT changed");
		{
			WebPPicture pic;
			int fd = make_png(&p);

			strips_left = 0;
			is_int(fd >= 0 ? webpdirect_png(fd, &any, &pic) : -1, 2,
			       "PNG, go_on says no at once: stopped");
			strips_left = -1;
			if (fd >= 0)
				close(fd);
		}
	}
	return done_testing();
}
