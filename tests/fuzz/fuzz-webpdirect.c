/*
 * webpdirect_jpeg on any bytes.  It returns 0 or 1 and nothing else;
 * a picture it takes is within the limits asked for, and its planes
 * are those one import of the whole picture by libwebp gives, from
 * libjpeg's decode of the same bytes as RGB: decoding strip by strip
 * changes nothing.  A picture it declines leaves nothing allocated
 * (LeakSanitizer) and, when its limit was the reason, is declined
 * again under the same limit.
 */
#include "fuzz.h"	/* stdio.h, which jpeglib.h needs first */

#include <setjmp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jpeglib.h>

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

	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	r = webpdirect_jpeg(fd, &want, &pic);
	CHECK(r == 0 || r == 1);
	if (r == 0) {
		uint64_t px = (uint64_t)pic.width * (uint64_t)pic.height;

		CHECK(pic.width >= 1 && pic.height >= 1);
		CHECK(pic.width <= want.max_edge && pic.height <= want.max_edge);
		CHECK((uint64_t)pic.width * (uint64_t)pic.height <= want.max_px);
		CHECK(!pic.use_argb && pic.y && pic.u && pic.v && !pic.a);
		/* libjpeg took the bytes without a word: so does the
		 * reference */
		CHECK(ref_picture(data, size, &ref) == 0);
		same_planes(&pic, &ref);
		WebPPictureFree(&ref);
		WebPPictureFree(&pic);
		/* one pixel fewer allowed: declined */
		want.max_px = px - 1;
		CHECK(webpdirect_jpeg(fd, &want, &pic) == 1);
	}
	close(fd);
	return 0;
}
