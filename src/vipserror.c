/*
 * libvips' error buffer, shared by every thread of the process.
 *
 * libvips appends each failure's text to one buffer; a caller reads it
 * after a call fails, and clears it.  With jobs on several threads, a
 * job that clears the buffer after its own successful call would take
 * the text of another job failing at that instant, which then has none
 * to give.  imgbake therefore never clears the buffer outright: text
 * leaves it only here, under one lock, and a success drops only the
 * lines known to come from successes.  A call whose failure is read
 * at once (a header) runs holding that lock, with the text already in
 * the buffer set aside until it returns: its failure's text is its
 * own, and what others wrote before is theirs still.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <vips/vips.h>

#include "vipserror.h"

static GRecMutex lock;
static int depth;		/* of vipserror_hold, under lock */
static char *aside;		/* the outermost hold's, under lock */

/* Lines that name no failure of their own: the seek the HEIF loader
 * logs for every file it opens; the "unable to write to target" the PNG
 * saver adds to whatever stopped it, a decode failure as much as a full
 * disk (alone, it is no text: the cause's went with another job's,
 * which the job is tried again for); and what libvips logs of a failed
 * write to an output, whose cause the job that wrote keeps itself (its
 * errno, see sink_write in convert.c), with the "unix error: ..." line
 * that follows, and such a line of an error only writes meet wherever
 * it lands.  Given the line before: is `line` noise? */
static int
is_noise_after(const char *line, int prev_noise)
{
	static const char *const prefixes[] = {
		"source: bad seek to ",
		"vips2png: unable to write to target",
		"target_custom: write error",
		"wbuffer_write: write failed",
		"VipsJpeg: Output file write error",
	};
	size_t i;

	if (prev_noise && !strncmp(line, "unix error: ", 12))
		return 1;
	/* errors only a write meets: the job that wrote keeps its errno,
	 * and the line may land apart from its noise (seen under load) */
	if (!strncmp(line, "unix error: ", 12) &&
	    (strstr(line, strerror(ENOSPC)) || strstr(line, strerror(EDQUOT)) ||
	     strstr(line, strerror(EFBIG))))
		return 1;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(line, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

/* Append the lines of text to the buffer again, as vips_error() wrote
 * them ("domain: message"), but for the noise. */
static void
put_back(const char *text)
{
	char **lines = g_strsplit(text, "\n", -1), *colon;
	int i, noise = 0;

	for (i = 0; lines[i]; i++) {
		if (!*lines[i] || (noise = is_noise_after(lines[i], noise)))
			continue;
		if ((colon = strstr(lines[i], ": "))) {
			*colon = '\0';
			vips_error(lines[i], "%s", colon + 2);
		} else {
			vips_error(NULL, "%s", lines[i]);
		}
	}
	g_strfreev(lines);
}

static int
starts_with_any(const char *line, const char *const *prefixes)
{
	for (; prefixes && *prefixes; prefixes++)
		if (!strncmp(line, *prefixes, strlen(*prefixes)))
			return 1;
	return 0;
}

char *
vipserror_take(const char *const *foreign)
{
	GString *out = g_string_new(NULL), *theirs = g_string_new(NULL);
	char *text, **lines;
	int i, k, noise;

	g_rec_mutex_lock(&lock);
	text = vips_error_buffer_copy();
	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i]; i++)
		if (*lines[i] && starts_with_any(lines[i], foreign))
			g_string_append_printf(theirs, "%s\n", lines[i]);
	put_back(theirs->str);
	g_rec_mutex_unlock(&lock);
	g_string_free(theirs, TRUE);
	for (i = 0, noise = 0; lines[i]; i++) {
		g_strstrip(lines[i]);
		if (!*lines[i] || (noise = is_noise_after(lines[i], noise)) ||
		    starts_with_any(lines[i], foreign) ||
		    !strcmp(lines[i], "unix error: Unknown error -1"))
			continue;
		for (k = 0; k < i && strcmp(lines[k], lines[i]); k++)
			;
		if (k < i)
			continue;
		if (out->len)
			g_string_append(out, "; ");
		g_string_append(out, lines[i]);
	}
	g_strfreev(lines);
	g_free(text);
	return g_string_free(out, FALSE);
}

void
vipserror_drop_noise(void)
{
	char *text;

	g_rec_mutex_lock(&lock);
	text = vips_error_buffer_copy();
	put_back(text);
	g_rec_mutex_unlock(&lock);
	g_free(text);
}

void
vipserror_hold(void)
{
	g_rec_mutex_lock(&lock);
	if (!depth++)
		aside = vips_error_buffer_copy();
}

void
vipserror_release(void)
{
	if (!--depth) {
		put_back(aside);
		g_free(aside);
		aside = NULL;
	}
	g_rec_mutex_unlock(&lock);
}
