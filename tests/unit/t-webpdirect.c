/*
 * webpdirect_jpeg: which JPEGs it takes, and that what it takes is the
 * picture one whole import by libwebp gives.  The JPEGs are made here
 * with libjpeg, into memory files.
 */
#include <stdio.h>	/* before jpeglib.h */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jpeglib.h>

#include "tap.h"
#include "webpdirect.h"

struct jpeg_spec {
	int width, height;
	J_COLOR_SPACE in_space;	/* JCS_RGB, JCS_GRAYSCALE or JCS_CMYK */
	int progressive;
	int restart_rows;	/* a restart marker every so many MCU rows */
	int orientation;	/* an EXIF block with this orientation; 0: none */
	int icc;		/* an APP2 ICC_PROFILE marker */
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
	if (s->icc)
		jpeg_write_marker(&cinfo, JPEG_APP0 + 2,
				  (const JOCTET *)"ICC_PROFILE\0\1\1not a profile", 27);
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
 * when 0) or with the byte at `flip` changed. */
static void
declined(const struct jpeg_spec *s, const struct webpdirect_want *want, unsigned long cut,
	long flip, const char *what)
{
	unsigned char *bytes;
	unsigned long len;
	WebPPicture pic;
	int fd = make_jpeg(s, &bytes, &len);

	if (fd >= 0 && ((cut && ftruncate(fd, (off_t)cut)) ||
			(flip >= 0 && pwrite(fd, (unsigned char[]){ bytes[flip] ^ 0x5a }, 1,
					     flip) != 1))) {
		close(fd);
		fd = -1;
	}
	is_int(fd >= 0 ? webpdirect_jpeg(fd, want ? want : &any, &pic) : -1, 1,
	       "%s: declined", what);
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
	declined(&s, NULL, 0, -1, "grey");
	s = plain, s.in_space = JCS_CMYK;
	declined(&s, NULL, 0, -1, "CMYK");
	s = plain, s.orientation = 6;
	declined(&s, NULL, 0, -1, "EXIF orientation 6");
	s = plain, s.icc = 1;
	declined(&s, NULL, 0, -1, "an ICC profile");

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
	declined(&s, NULL, 0, -1, "go_on says no after three strips");
	s = plain, s.progressive = 1, s.height = 8;
	strips_left = 1;
	declined(&s, NULL, 0, -1, "progressive, one strip: go_on asked while the scans are read");
	strips_left = -1;

	declined(&plain, NULL, 400, -1, "cut short");
	declined(&plain, NULL, 1, -1, "one byte");
	s = plain, s.width = 256, s.height = 256;
	declined(&s, NULL, 0, 1500, "a byte of entropy data changed");
	return done_testing();
}
