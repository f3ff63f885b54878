/*
 * libvips' error buffer, shared by every thread of the process.
 *
 * libvips appends each failure's text to one buffer; a caller reads it
 * after a call fails, and clears it.  With jobs on several threads, a
 * job that clears the buffer after its own successful call would take
 * the text of another job failing at that instant, which then has none
 * to give.  imgbake therefore never clears the buffer outright: text
 * leaves it only here, under one lock, and a success drops only the
 * lines known to come from successes.
 */
#include <string.h>

#include <glib.h>
#include <vips/vips.h>

#include "vipserror.h"

static GMutex lock;

static int
is_noise(const char *line)
{
	return !strncmp(line, "source: bad seek to ", 20);
}

char *
vipserror_take(void)
{
	GString *out = g_string_new(NULL);
	char *text, **lines;
	int i, k;

	g_mutex_lock(&lock);
	text = vips_error_buffer_copy();
	g_mutex_unlock(&lock);
	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i]; i++) {
		g_strstrip(lines[i]);
		if (!*lines[i] || is_noise(lines[i]) ||
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
	char *text, **lines, *colon;
	int i;

	g_mutex_lock(&lock);
	text = vips_error_buffer_copy();
	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i]; i++) {
		if (!*lines[i] || is_noise(lines[i]))
			continue;
		/* "domain: message", as vips_error() wrote it */
		if ((colon = strstr(lines[i], ": "))) {
			*colon = '\0';
			vips_error(lines[i], "%s", colon + 2);
		} else {
			vips_error(NULL, "%s", lines[i]);
		}
	}
	g_mutex_unlock(&lock);
	g_strfreev(lines);
	g_free(text);
}
