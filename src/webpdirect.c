/*
 * webpdirect.c: a plain JPEG or PNG decoded by libjpeg or libpng
 * straight into a WebP picture (see webpdirect.h).
 *
 * "Plain" is what libvips would hand on as it is.  For a JPEG: YCbCr or
 * grey at 8 bits, no ICC profile or sRGB's (icc_is_srgb, as decode()
 * asks), and an EXIF orientation of 1 or none.  libjpeg runs with
 * libvips' settings (its defaults: the slow integer DCT, fancy
 * upsampling), so the pixels are those libvips decodes, and the WebP
 * the same to the byte.  For a PNG: 8-bit grey, grey and alpha, RGB or
 * RGBA, not interlaced, without a palette or a tRNS colour, with sRGB's
 * profile or none and EXIF that leaves it upright; grey becomes RGB as
 * libvips makes it, each sample three times, and gAMA, cHRM and sRGB
 * chunks change nothing, for libvips 8.14 as here.
 *
 * Everything unexpected declines, with nothing left behind; a warning
 * from the decoder too (libjpeg warns of damaged entropy data and goes
 * on), for libvips to fail or convert as its strictness says.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>	/* before jpeglib.h, which uses FILE */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <libexif/exif-data.h>
#include <png.h>

#include "icc.h"
#include "webpdirect.h"

#define READ_CHUNK 65536
#define STRIP_ROWS 16	/* even, and an MCU's height at most */

/* What the decoders read through, and what has to outlive a longjmp():
 * libjpeg's source manager (buf), libpng's io pointer */
struct reader {
	struct jpeg_source_mgr pub;
	int fd;
	off_t at;
	const struct webpdirect_want *want;
	int stopped;		/* want->go_on said no */
	JSAMPLE *strip;		/* STRIP_ROWS rows of RGB */
	JOCTET buf[READ_CHUNK];
};

struct err {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
};

/* Whether to go on, asked between strips, between a progressive
 * JPEG's scans and every READ_CHUNK bytes read (libjpeg looks for a
 * header through any padding). */
static int
go_on(struct reader *rd)
{
	if (!rd->stopped && !rd->want->go_on(rd->want->arg))
		rd->stopped = 1;
	return !rd->stopped;
}

static void
src_init(j_decompress_ptr cinfo)
{
	(void)cinfo;
}

/* The end of the file before the end of the picture is damage: out,
 * as any other. */
static boolean
src_fill(j_decompress_ptr cinfo)
{
	struct reader *s = (struct reader *)cinfo->src;
	ssize_t n = go_on(s) ? pread(s->fd, s->buf, sizeof(s->buf), s->at) : -1;

	if (n <= 0)
		longjmp(((struct err *)cinfo->err)->jump, 1);
	s->at += n;
	s->pub.next_input_byte = s->buf;
	s->pub.bytes_in_buffer = (size_t)n;
	return TRUE;
}

static void
src_skip(j_decompress_ptr cinfo, long n)
{
	struct reader *s = (struct reader *)cinfo->src;

	if (n <= 0)
		return;
	if ((size_t)n <= s->pub.bytes_in_buffer) {
		s->pub.next_input_byte += n;
		s->pub.bytes_in_buffer -= (size_t)n;
		return;
	}
	s->at += n - (long)s->pub.bytes_in_buffer;
	s->pub.bytes_in_buffer = 0;
}

static void
src_term(j_decompress_ptr cinfo)
{
	(void)cinfo;
}

static void
err_exit(j_common_ptr cinfo)
{
	longjmp(((struct err *)cinfo->err)->jump, 1);
}

/* level -1 is a warning, damage libjpeg decodes through; above, a
 * trace message */
static void
err_emit(j_common_ptr cinfo, int level)
{
	if (level < 0)
		longjmp(((struct err *)cinfo->err)->jump, 1);
}

static void
err_output(j_common_ptr cinfo)
{
	(void)cinfo;
}

/* A progressive JPEG is read whole, every scan of it, before its first
 * row: a stop or a timeout is heard there too. */
static void
progress(j_common_ptr cinfo)
{
	if (!go_on((struct reader *)((j_decompress_ptr)cinfo)->src))
		longjmp(((struct err *)cinfo->err)->jump, 1);
}

/* Whether an APP1 segment of EXIF leaves the picture as it is: libexif
 * (libvips' own reader) finds IFD 0, and an orientation that is a
 * SHORT of 1 or none.  With libexif's default options, as libvips
 * loads it, an orientation outside IFD 0 is dropped as it is read, and
 * libvips reads IFD 0 only. */
static int
exif_upright(const unsigned char *data, size_t len)
{
	ExifData *ed;
	ExifEntry *e;
	int ok;

	/* PNG's eXIf holds the TIFF structure alone: libexif looks for
	 * the "Exif\0\0" JPEG puts before it */
	if (len < 6 || memcmp(data, "Exif\0\0", 6)) {
		unsigned char *block = malloc(len + 6);

		if (!block || len > UINT_MAX - 6) {
			free(block);
			return 0;
		}
		memcpy(block, "Exif\0\0", 6);
		memcpy(block + 6, data, len);
		ed = exif_data_new_from_data(block, (unsigned)len + 6);
		free(block);
	} else {
		ed = len <= UINT_MAX ? exif_data_new_from_data(data, (unsigned)len) : NULL;
	}
	if (!ed)
		return 0;
	ok = ed->ifd[EXIF_IFD_0] && ed->ifd[EXIF_IFD_0]->count > 0;
	if (ok && (e = exif_data_get_entry(ed, EXIF_TAG_ORIENTATION)))
		ok = e->format == EXIF_FORMAT_SHORT && e->components == 1 && e->size >= 2 &&
		     exif_get_short(e->data, exif_data_get_byte_order(ed)) == 1;
	exif_data_unref(ed);
	return ok;
}

/* Whether the markers libjpeg kept say "plain": no ICC profile or
 * sRGB's, at most one EXIF block, upright.  libvips takes any APP2 that
 * starts "ICC_PROFILE" for a piece of the profile, in the order of the
 * file; libjpeg only those of the standard's form, in the order of
 * their numbers.  Pieces that are not all of that form, numbered
 * 1..N in the order of the file, decline: the two would read two
 * profiles. */
static int
plain_markers(j_decompress_ptr cinfo)
{
	jpeg_saved_marker_ptr m;
	JOCTET *icc = NULL;
	unsigned icc_len = 0;
	int n_exif = 0, n_icc = 0, of = 0;

	for (m = cinfo->marker_list; m; m = m->next) {
		if (m->marker == JPEG_APP0 + 2 && m->data_length >= 11 &&
		    !memcmp(m->data, "ICC_PROFILE", 11)) {
			if (m->data_length <= 14 || m->data[11] != 0 ||
			    m->data[12] != ++n_icc || (of && m->data[13] != of))
				return 0;
			of = m->data[13];
		}
		/* libvips takes any APP1 that starts so for EXIF */
		if (m->marker == JPEG_APP0 + 1 && m->data_length >= 4 &&
		    !memcmp(m->data, "Exif", 4) &&
		    (++n_exif > 1 || !exif_upright(m->data, m->data_length)))
			return 0;
	}
	/* the profile's pieces put together (a warning, for pieces that
	 * do not fit, declines) */
	if (n_icc != of)
		return 0;
	if (n_icc) {
		int srgb = jpeg_read_icc_profile(cinfo, &icc, &icc_len) &&
			   icc_is_srgb(icc, icc_len);

		free(icc);
		return srgb;
	}
	return 1;
}

/* The end of either decode: 0, 1 or 2 as webpdirect.h says. */
static int
finish(struct reader *rd, WebPPicture *pic, int r)
{
	if (rd->stopped)
		r = 2;
	free(rd->strip);
	free(rd);
	if (r)
		WebPPictureFree(pic);
	return r;
}

/* The decode proper, between setjmp and the clean-up of
 * webpdirect_jpeg. */
static int
decode(j_decompress_ptr cinfo, const struct webpdirect_want *want, WebPPicture *pic)
{
	struct reader *rd = (struct reader *)cinfo->src;
	int width, height, top, n;
	size_t stride;

	jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xffff);
	jpeg_save_markers(cinfo, JPEG_APP0 + 2, 0xffff);
	if (jpeg_read_header(cinfo, TRUE) != JPEG_HEADER_OK)
		return 1;
	width = (int)cinfo->image_width;
	height = (int)cinfo->image_height;
	if (!((cinfo->num_components == 3 && cinfo->jpeg_color_space == JCS_YCbCr) ||
	      (cinfo->num_components == 1 && cinfo->jpeg_color_space == JCS_GRAYSCALE)) ||
	    cinfo->data_precision != 8 || width < 1 || height < 1 ||
	    width > want->max_edge || height > want->max_edge ||
	    (uint64_t)width * (uint64_t)height > want->max_px || !plain_markers(cinfo))
		return 1;
	/* grey too: libjpeg gives each sample three times, as libvips'
	 * sRGB of grey has it */
	cinfo->out_color_space = JCS_RGB;
	stride = (size_t)width * 3;
	if (!(rd->strip = malloc(stride * STRIP_ROWS)))
		return 1;
	pic->width = width;
	pic->height = height;
	pic->colorspace = WEBP_YUV420;
	if (!WebPPictureAlloc(pic))
		return 1;
	jpeg_start_decompress(cinfo);
	if (cinfo->output_components != 3)
		return 1;
	for (top = 0; top < height; top += n) {
		if (!go_on(rd))
			return 1;
		for (n = 0; n < STRIP_ROWS && top + n < height;) {
			JSAMPROW row = rd->strip + stride * (size_t)n;

			n += (int)jpeg_read_scanlines(cinfo, &row, 1);
		}
		if (webpdirect_import_rows(pic, rd->strip, (int)stride, 3, top, n))
			return 1;
	}
	/* Not jpeg_finish_decompress(): libvips never reads on to the end
	 * of the picture either, where libjpeg would warn of bytes before
	 * EOI (as many cameras leave them), and decline a picture libvips
	 * converts. */
	return 0;
}

int
webpdirect_jpeg(int fd, const struct webpdirect_want *want, WebPPicture *pic)
{
	struct jpeg_decompress_struct cinfo;
	struct err err;
	struct jpeg_progress_mgr prog = { .progress_monitor = progress };
	struct reader *rd;
	int r = 1;

	if (!WebPPictureInit(pic) || !(rd = calloc(1, sizeof(*rd))))
		return 1;
	cinfo.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = err_exit;
	err.pub.emit_message = err_emit;
	err.pub.output_message = err_output;
	if (setjmp(err.jump)) {
		r = 1;
		goto out;
	}
	jpeg_create_decompress(&cinfo);
	rd->fd = fd;
	rd->want = want;
	rd->pub.init_source = src_init;
	rd->pub.fill_input_buffer = src_fill;
	rd->pub.skip_input_data = src_skip;
	rd->pub.resync_to_restart = jpeg_resync_to_restart;
	rd->pub.term_source = src_term;
	cinfo.src = &rd->pub;
	cinfo.progress = &prog;
	r = decode(&cinfo, want, pic);
out:
	jpeg_destroy_decompress(&cinfo);
	return finish(rd, pic, r);
}

/* libpng reads through this, with pread; the end of the file is an
 * error, as any damage. */
static void
png_read(png_structp png, png_bytep data, size_t len)
{
	struct reader *rd = png_get_io_ptr(png);

	while (len > 0) {
		ssize_t n = go_on(rd) ? pread(rd->fd, data, len, rd->at) : -1;

		if (n <= 0)
			png_error(png, "short read");
		rd->at += n;
		data += n;
		len -= (size_t)n;
	}
}

/* libpng's errors, and its warnings too: a warning is damage libpng
 * reads past, or a chunk it throws away */
static void
png_fail(png_structp png, png_const_charp msg)
{
	(void)msg;
	png_longjmp(png, 1);
}

/* An ICC profile sRGB's or none, and EXIF that leaves the picture
 * upright or none. */
static int
png_plain_chunks(png_structp png, png_infop info)
{
	png_charp name;
	png_bytep data;
	png_uint_32 len;
	int method;

	if (png_get_valid(png, info, PNG_INFO_iCCP) &&
	    (!png_get_iCCP(png, info, &name, &method, &data, &len) || !icc_is_srgb(data, len)))
		return 0;
	if (png_get_valid(png, info, PNG_INFO_eXIf) &&
	    (!png_get_eXIf_1(png, info, &len, &data) || !exif_upright(data, len)))
		return 0;
	return 1;
}

static int
png_decode(png_structp png, png_infop info, const struct webpdirect_want *want,
	WebPPicture *pic)
{
	struct reader *rd = png_get_io_ptr(png);
	png_uint_32 width, height;
	int depth, type, interlace, bands, top, n;
	size_t stride;

	png_read_info(png, info);
	if (!png_get_IHDR(png, info, &width, &height, &depth, &type, &interlace, NULL, NULL))
		return 1;
	if (depth != 8 || interlace != PNG_INTERLACE_NONE ||
	    (type != PNG_COLOR_TYPE_GRAY && type != PNG_COLOR_TYPE_GRAY_ALPHA &&
	     type != PNG_COLOR_TYPE_RGB && type != PNG_COLOR_TYPE_RGB_ALPHA) ||
	    png_get_valid(png, info, PNG_INFO_tRNS) || !png_plain_chunks(png, info) ||
	    width < 1 || height < 1 ||
	    width > (png_uint_32)want->max_edge || height > (png_uint_32)want->max_edge ||
	    (uint64_t)width * (uint64_t)height > want->max_px)
		return 1;
	if (type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA)
		png_set_gray_to_rgb(png);
	png_read_update_info(png, info);
	bands = png_get_channels(png, info);
	stride = (size_t)width * (size_t)bands;
	if ((bands != 3 && bands != 4) || png_get_rowbytes(png, info) != stride)
		return 1;
	if (!(rd->strip = malloc(stride * STRIP_ROWS)))
		return 1;
	pic->width = (int)width;
	pic->height = (int)height;
	pic->colorspace = bands == 4 ? WEBP_YUV420A : WEBP_YUV420;
	if (!WebPPictureAlloc(pic))
		return 1;
	for (top = 0; top < (int)height; top += n) {
		if (!go_on(rd))
			return 1;
		for (n = 0; n < STRIP_ROWS && top + n < (int)height; n++)
			png_read_row(png, rd->strip + stride * (size_t)n, NULL);
		if (webpdirect_import_rows(pic, rd->strip, (int)stride, bands, top, n))
			return 1;
	}
	/* damage after the pixels, which libvips may read, declines too */
	png_read_end(png, NULL);
	return 0;
}

int
webpdirect_png(int fd, const struct webpdirect_want *want, WebPPicture *pic)
{
	png_structp png;
	png_infop info = NULL;
	struct reader *rd;
	int r = 1;

	if (!WebPPictureInit(pic) || !(rd = calloc(1, sizeof(*rd))))
		return 1;
	rd->fd = fd;
	rd->want = want;
	if (!(png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail, png_fail)) ||
	    !(info = png_create_info_struct(png)))
		goto out;
	if (setjmp(png_jmpbuf(png))) {
		r = 1;
		goto out;
	}
	png_set_read_fn(png, rd, png_read);
	/* libpng warns of a few sRGB profiles it knows (HP's, with a
	 * wrong rendering intent): icc_is_srgb() judges every one */
	png_set_option(png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
	r = png_decode(png, info, want, pic);
out:
	png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
	return finish(rd, pic, r);
}

int
webpdirect_import_rows(WebPPicture *pic, const uint8_t *rgb, int stride, int bands,
	int top, int height)
{
	WebPPicture part;
	int uv_width = (pic->width + 1) / 2, ok, i;

	if (!WebPPictureInit(&part))
		return -1;
	part.width = pic->width;
	part.height = height;
	ok = bands == 4 ? WebPPictureImportRGBA(&part, rgb, stride)
			: WebPPictureImportRGB(&part, rgb, stride);
	if (!ok) {
		WebPPictureFree(&part);
		return -1;
	}
	/* The import of rows without a transparent pixel makes no alpha
	 * plane: those rows of pic's are set opaque.  Whether the picture
	 * has any transparency at all the encoder finds by itself. */
	for (i = 0; i < height; i++) {
		size_t row = (size_t)(top + i);

		memcpy(pic->y + pic->y_stride * row, part.y + (size_t)part.y_stride * i,
		       (size_t)pic->width);
		if (!pic->a)
			continue;
		if (part.a)
			memcpy(pic->a + pic->a_stride * row,
			       part.a + (size_t)part.a_stride * i, (size_t)pic->width);
		else
			memset(pic->a + pic->a_stride * row, 0xff, (size_t)pic->width);
	}
	for (i = 0; i < (height + 1) / 2; i++) {
		size_t at = (size_t)pic->uv_stride * (size_t)(top / 2 + i);

		memcpy(pic->u + at, part.u + (size_t)part.uv_stride * i, (size_t)uv_width);
		memcpy(pic->v + at, part.v + (size_t)part.uv_stride * i, (size_t)uv_width);
	}
	WebPPictureFree(&part);
	return 0;
}
