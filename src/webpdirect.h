/*
 * webpdirect.h: pixels straight into a WebP picture, without libvips.
 *
 * The commonest job of all, a JPEG or PNG to a WebP of its own size,
 * spends nearly all its time in the decoder and libwebp; libvips'
 * pipeline around them costs several percent more CPU on small
 * pictures.  webpdirect_jpeg() decodes a plain JPEG with libjpeg into a
 * WebPPicture itself, webpdirect_png() a plain PNG with libpng.  They
 * decline anything else -- another colour space, an ICC profile, a
 * picture EXIF turns, a warning from the decoder, a limit reached -- and
 * the job goes through libvips as before, which gives the same answer
 * (or the same failure) imgbake gives everywhere.
 */
#ifndef IMGBAKE_WEBPDIRECT_H
#define IMGBAKE_WEBPDIRECT_H

#include <stdint.h>
#include <webp/encode.h>

struct webpdirect_want {
	uint64_t max_px;	/* more pixels than this: declined */
	int max_edge;		/* a side longer than this: declined */
	int (*go_on)(void *arg);	/* asked as it reads; 0: stop */
	void *arg;
};

/* Decode the JPEG on fd (read with pread, its offset left alone) into
 * pic, YUV 4:2:0 as libwebp's RGB import makes it.  0: done, pic is
 * the caller's to WebPPictureFree; 1: declined, pic holds nothing;
 * 2: stopped, as go_on said, pic holding nothing. */
int webpdirect_jpeg(int fd, const struct webpdirect_want *want, WebPPicture *pic);

/* The same for a plain PNG (see webpdirect.c), YUV 4:2:0 with alpha
 * when it has an alpha channel. */
int webpdirect_png(int fd, const struct webpdirect_want *want, WebPPicture *pic);

/* `height` rows of packed RGB or RGBA (bands 3 or 4) into pic's planes
 * from row `top`, which must be even: libwebp turns each pair of rows
 * into a row of chroma, so strips of even height give the bytes one
 * import of the whole picture gives.  0, or -1 out of memory. */
int webpdirect_import_rows(WebPPicture *pic, const uint8_t *rgb, int stride, int bands,
	int top, int height);

#endif
