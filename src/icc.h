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

/* An ICC profile for pixels tagged by CICP code points alone (the nclx
 * colour box of an AVIF or HEIF, H.273's numbers), for libvips 8.14,
 * which reads only ICC profiles: Display P3 (primaries 12) or BT.2020
 * (9) with the sRGB transfer curve (13).  NULL for sRGB itself, which
 * needs none, for the HDR curves (PQ, HLG), which would need tone
 * mapping, and for the rest.  free() it; *len is its size. */
void *icc_for_cicp(int primaries, int transfer, size_t *len);

#endif
