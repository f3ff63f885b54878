/*
 * webpdirect_jpeg and webpdirect_png on any bytes (PNG's when they
 * start with its signature).  They return 0 or 1 and nothing else;
 * a picture taken is within the limits asked for, and its planes are
 * those one import of the whole picture by libwebp gives, from
 * libjpeg's or libpng's decode of the same bytes as RGB(A): decoding
 * strip by strip changes nothing.  A picture it declines leaves nothing allocated
 * (LeakSanitizer) and, when its limit was the reason, is declined
 * again under the same limit.
 */
#include "fuzz.h"	/* stdio.h, which jpeglib.h needs first */

#include <setjmp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include "webpdirect.h"

#define MAX_PX (1u << 20)

static int
go_on(void *arg)
{
	(void)arg;
	return 1;
}

struct ref_err {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
};

static void
ref_exit(j_common_ptr cinfo)
{
	longjmp(((struct ref_err *)cinfo->err)->jump, 1);
}

static void
ref_quiet(j_common_ptr cinfo)
{
	(void)cinfo;
}

/* The whole picture decoded at once and imported at once: 0 and *ref
 * filled, or -1. */
static int
ref_picture(const uint8_t *data, size_t size, WebPPicture *ref)
{
	struct jpeg_decompress_struct cinfo;
	struct ref_err err;
	unsigned char *volatile rgb = NULL;
	volatile int r = -1;

	cinfo.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = ref_exit;
	err.pub.output_message = ref_quiet;
	if (setjmp(err.jump))
		goto out;
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, data, (unsigned long)size);
	jpeg_read_header(&cinfo, TRUE);
	cinfo.out_color_space = JCS_RGB;
	jpeg_start_decompress(&cinfo);
	rgb = malloc((size_t)cinfo.output_width * cinfo.output_height * 3);
	CHECK(rgb);
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW row = rgb + (size_t)cinfo.output_scanline * cinfo.output_width * 3;

		jpeg_read_scanlines(&cinfo, &row, 1);
	}
	CHECK(WebPPictureInit(ref));
	ref->width = (int)cinfo.output_width;
	ref->height = (int)cinfo.output_height;
	CHECK(WebPPictureImportRGB(ref, rgb, ref->width * 3));
	r = 0;
out:
	jpeg_destroy_decompress(&cinfo);
	free(rgb);
	return r;
}

struct mem {
	const uint8_t *data;
	size_t size, at;
};

static void
mem_read(png_structp png, png_bytep out, size_t len)
{
	struct mem *m = png_get_io_ptr(png);

	if (len > m->size - m->at)
		png_error(png, "short");
	memcpy(out, m->data + m->at, len);
	m->at += len;
}

/* libpng's whole picture, grey made RGB, imported at once: 0 and *ref
 * filled, or -1. */
static int
ref_png(const uint8_t *data, size_t size, WebPPicture *ref)
{
	struct mem m = { data, size, 0 };
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	unsigned char *volatile rgb = NULL;
	volatile int r = -1;
	int type, bands;
	png_uint_32 w, h, y;

	CHECK(png && info);
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_set_read_fn(png, &m, mem_read);
	png_read_info(png, info);
	w = png_get_image_width(png, info);
	h = png_get_image_height(png, info);
	type = png_get_color_type(png, info);
	if (type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA)
		png_set_gray_to_rgb(png);
	png_read_update_info(png, info);
	bands = png_get_channels(png, info);
	CHECK(bands == 3 || bands == 4);
	rgb = malloc((size_t)w * h * bands);
	CHECK(rgb);
	for (y = 0; y < h; y++)
		png_read_row(png, rgb + (size_t)y * w * bands, NULL);
	CHECK(WebPPictureInit(ref));
	ref->width = (int)w;
	ref->height = (int)h;
	CHECK(bands == 4 ? WebPPictureImportRGBA(ref, rgb, ref->width * 4)
			 : WebPPictureImportRGB(ref, rgb, ref->width * 3));
	r = 0;
out:
	png_destroy_read_struct(&png, &info, NULL);
	free(rgb);
	return r;
}

static void
same_planes(const WebPPicture *a, const WebPPicture *b)
{
	int uv_w = (a->width + 1) / 2, uv_h = (a->height + 1) / 2, y;

	CHECK(a->width == b->width && a->height == b->height);
	for (y = 0; y < a->height; y++)
		CHECK(!memcmp(a->y + (size_t)a->y_stride * y, b->y + (size_t)b->y_stride * y,
			      (size_t)a->width));
	for (y = 0; y < uv_h; y++) {
		CHECK(!memcmp(a->u + (size_t)a->uv_stride * y, b->u + (size_t)b->uv_stride * y,
			      (size_t)uv_w));
		CHECK(!memcmp(a->v + (size_t)a->uv_stride * y, b->v + (size_t)b->uv_stride * y,
			      (size_t)uv_w));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webpdirect_want want = { .max_px = MAX_PX, .max_edge = 4096, .go_on = go_on };
	WebPPicture pic, ref;
	int fd = memfd_create("fuzz-webpdirect", 0), r;

	int is_png = size >= 8 && !png_sig_cmp(data, 0, 8);
	int (*direct)(int, const struct webpdirect_want *, WebPPicture *) =
		is_png ? webpdirect_png : webpdirect_jpeg;

	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	r = direct(fd, &want, &pic);
	CHECK(r == 0 || r == 1);
	if (r == 0) {
		uint64_t px = (uint64_t)pic.width * (uint64_t)pic.height;

		CHECK(pic.width >= 1 && pic.height >= 1);
		CHECK(pic.width <= want.max_edge && pic.height <= want.max_edge);
		CHECK((uint64_t)pic.width * (uint64_t)pic.height <= want.max_px);
		CHECK(!pic.use_argb && pic.y && pic.u && pic.v && (is_png || !pic.a));
		/* the decoder took the bytes without a word: so does the
		 * reference */
		CHECK((is_png ? ref_png(data, size, &ref) : ref_picture(data, size, &ref)) == 0);
		same_planes(&pic, &ref);
		CHECK(!pic.a == !ref.a);
		if (pic.a)
			for (int y = 0; y < pic.height; y++)
				CHECK(!memcmp(pic.a + (size_t)pic.a_stride * y,
					      ref.a + (size_t)ref.a_stride * y, (size_t)pic.width));
		WebPPictureFree(&ref);
		WebPPictureFree(&pic);
		/* one pixel fewer allowed: declined */
		want.max_px = px - 1;
		CHECK(direct(fd, &want, &pic) == 1);
	}
	close(fd);
	return 0;
}
