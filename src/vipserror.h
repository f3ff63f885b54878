/*
 * libvips' error buffer, shared by every thread of the process.
 */
#ifndef IMGBAKE_VIPSERROR_H
#define IMGBAKE_VIPSERROR_H

/* The buffer's text as one line ("a\nb\n" -> "a; b"), each message
 * once (a failed write repeats itself per strip), without what
 * libvips logs for calls that succeed; "" if nothing is left.  The
 * lines that start with one of the NULL-terminated `foreign` prefixes
 * (the domains of another type's loader, failing at the same instant)
 * stay in the buffer for their own job; the rest leaves it.  g_free
 * the line.  Thread-safe. */
char *vipserror_take(const char *const *foreign);

/* Drop from the buffer what names no failure of a job's own (the seek
 * the HEIF loader logs for every file it opens, what libvips logs of a
 * failed write to an output, whose job keeps the errno), and leave
 * the rest, another job's failure on its way to vipserror_take, where
 * it was.  Thread-safe. */
void vipserror_drop_noise(void);

/* Hold the buffer while this thread makes a call whose failure it
 * takes at once (vipserror_take and vipserror_drop_noise may be called
 * while holding it): no other holder fails meanwhile, so the text is
 * this call's, unless libvips' own threads log at that instant.  Held
 * calls run one at a time: only short ones, such as reading a header. */
void vipserror_hold(void);
void vipserror_release(void);

#endif
