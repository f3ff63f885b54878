/*
 * Questions about embedded ICC profiles.
 */
#ifndef IMGBAKE_ICC_H
#define IMGBAKE_ICC_H

#include <stddef.h>

/* Whether the profile in data is sRGB in all but name: an RGB
 * matrix-shaper with sRGB's colorants and a tone curve that gives back
 * every 8-bit level of sRGB's.  Converting pixels through it to sRGB
 * leaves them as they are, so they need not be.  Anything that cannot
 * be read, or is built from lookup tables, is not.  Thread-safe. */
int icc_is_srgb(const void *data, size_t len);

#endif
