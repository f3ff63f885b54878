/*
 * vipserror: libvips' one error buffer, shared by jobs on many threads.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#include "tap.h"
#include "vipserror.h"

#define ROUNDS 20000

static atomic_int done;

/* a job whose loads succeed: each logs the HEIF loader's seek, then
 * drops it */
static void *
succeeding(void *arg)
{
	(void)arg;
	while (!atomic_load(&done)) {
		vips_error("source", "bad seek to %d", 4096);
		vipserror_drop_noise();
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t;
	char *text;
	int i, lost = 0, noisy = 0;

	(void)argc;
	if (VIPS_INIT(argv[0]))
		return 1;

	vips_error_clear();
	text = vipserror_take(NULL);
	is_str(text, "", "an empty buffer: an empty line");
	g_free(text);

	vips_error("VipsJpeg", "Premature end of input file");
	vips_error("vips2webp", "unable to encode");
	vips_error("VipsJpeg", "Premature end of input file");
	text = vipserror_take(NULL);
	is_str(text, "VipsJpeg: Premature end of input file; vips2webp: unable to encode",
	       "lines joined, each once");
	g_free(text);
	is_str(vips_error_buffer(), "", "taking the text empties the buffer");

	vips_error("source", "bad seek to %d", 1234);
	vips_error("heifload", "Invalid input: No 'ftyp' box");
	text = vipserror_take(NULL);
	is_str(text, "heifload: Invalid input: No 'ftyp' box", "the seek of a success left out");
	g_free(text);

	vips_error("source", "bad seek to %d", 1234);
	text = vipserror_take(NULL);
	is_str(text, "", "nothing but the seek: an empty line");
	g_free(text);

	/* another job's failure, logged before this one's load succeeded */
	vips_error("VipsJpeg", "Corrupt JPEG data: bad Huffman code");
	vips_error("source", "bad seek to %d", 99);
	vips_error(NULL, "a line without a domain");
	vips_error("tiff2vips", "TIFFReadDirectory: a: b");
	vipserror_drop_noise();
	is_str(vips_error_buffer(), "VipsJpeg: Corrupt JPEG data: bad Huffman code\n"
	       "a line without a domain\ntiff2vips: TIFFReadDirectory: a: b\n",
	       "dropping the noise keeps the rest as it was");
	vips_error_clear();

	/* two loaders failing at once: each job takes its loader's lines */
	vips_error("VipsJpeg", "Premature end of input file");
	vips_error("gifload_source", "Unexpected end of GIF source data");
	{
		static const char *const jpeg[] = { "VipsJpeg", "jpegload", NULL };

		text = vipserror_take(jpeg);
		is_str(text, "gifload_source: Unexpected end of GIF source data",
		       "another loader's lines are not taken");
		g_free(text);
		is_str(vips_error_buffer(), "VipsJpeg: Premature end of input file\n",
		       "... they stay for their own job");
	}

	/* a failed write to an output: its job keeps the errno, and what
	 * libvips logs of it, with the system's line after it, is noise;
	 * the system's line after another failure is not */
	vips_error("target_custom", "write error");
	vips_error("unix error", "No space left on device");
	vips_error("wbuffer_write", "write failed");
	vips_error("unix error", "Unknown error -1");
	vips_error("VipsJpeg", "Output file write error --- out of disk space?");
	vips_error("source", "read error");
	vips_error("unix error", "Input/output error");
	{
		static const char *const jpeg[] = { "VipsJpeg", "jpegload", NULL };

		text = vipserror_take(jpeg);
		is_str(text, "source: read error; unix error: Input/output error",
		       "a failed write's lines are noise, a failed read's are not");
		g_free(text);
	}

	/* a full disk's system line, landed away from its write's lines
	 * (after another job's failure): still noise */
	vips_error("vipspng", "libpng read error");
	vips_error("unix error", "No space left on device");
	{
		static const char *const jpeg[] = { "VipsJpeg", "jpegload", NULL };

		text = vipserror_take(jpeg);
		is_str(text, "vipspng: libpng read error",
		       "a full disk's line apart from its write is noise too");
		g_free(text);
	}

	/* a held call: what was there is set aside, and comes back */
	vipserror_hold();
	vips_error("heif", "Invalid input: No 'meta' box");
	text = vipserror_take(NULL);
	is_str(text, "heif: Invalid input: No 'meta' box", "a held call's failure: its text alone");
	g_free(text);
	vipserror_release();
	is_str(vips_error_buffer(), "VipsJpeg: Premature end of input file\n",
	       "... and the text before it is back");
	vips_error_clear();

	/* one thread succeeds over and over while another fails: the
	 * failure finds its own text every time, and only its own */
	if (pthread_create(&t, NULL, succeeding, NULL)) {
		ok(0, "a thread");
		return 1;
	}
	for (i = 0; i < ROUNDS; i++) {
		vips_error("VipsPng", "libpng read error %d", i);
		text = vipserror_take(NULL);
		char want[64];

		snprintf(want, sizeof(want), "VipsPng: libpng read error %d", i);
		if (!strstr(text, want))
			lost++;
		else if (strcmp(text, want))
			noisy++;
		g_free(text);
	}
	atomic_store(&done, 1);
	pthread_join(t, NULL);
	is_int(lost, 0, "%d failures beside a thread dropping noise: no text lost", ROUNDS);
	is_int(noisy, 0, "... and no other text in it");

	vips_shutdown();
	return done_testing();
}
