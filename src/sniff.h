/*
 * Type detection by content, with libmagic.  One cookie, used by the
 * main thread only (a libmagic cookie is not thread-safe).
 */
#ifndef IMGBAKE_SNIFF_H
#define IMGBAKE_SNIFF_H

#include <stddef.h>

#include "job.h"

struct sniff;

/* NULL (with a message in err) when libmagic cannot load its database. */
struct sniff *sniff_new(char *err, size_t errlen);
void sniff_free(struct sniff *s);

/* The MIME type of the first bytes of a file; the returned string
 * belongs to the cookie and lives until the next call.  Never NULL. */
const char *sniff_buffer(struct sniff *s, const void *buf, size_t len);

/* Map a MIME type to the decoder imgbake would use. */
enum src_type sniff_type(const char *mime);

/* Whether a file extension is a usual one for the type (case-blind). */
int sniff_ext_matches(enum src_type type, const char *ext);

#endif
