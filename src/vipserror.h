/*
 * libvips' error buffer, shared by every thread of the process.
 */
#ifndef IMGBAKE_VIPSERROR_H
#define IMGBAKE_VIPSERROR_H

/* The buffer's text as one line ("a\nb\n" -> "a; b"), each message
 * once (a failed write repeats itself per strip), without what
 * libvips logs for calls that succeed; "" if nothing is left.  The
 * buffer is left empty.  g_free the line.  Thread-safe. */
char *vipserror_take(void);

/* Drop from the buffer what libvips logs for calls that succeed (the
 * HEIF loader seeks past the end of every file it opens), and leave
 * the rest, another job's failure on its way to vipserror_take, where
 * it was.  Thread-safe. */
void vipserror_drop_noise(void);

#endif
