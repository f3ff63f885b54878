/*
 * Embedded ICC profiles, read with lcms2 (which libvips itself uses).
 *
 * Most tagged photographs carry an sRGB profile, the 3,144-byte one of
 * HP and Microsoft or a smaller rewrite of it.  Sending such pixels
 * through lcms to sRGB changes none of them by more than rounding, and
 * building the transform costs milliseconds an image: its tone curves
 * are inverted every time.
 */
#include <math.h>
#include <stdlib.h>

#include <lcms2.h>

#include "icc.h"

/* colorant tags are s15Fixed16 numbers; rewrites of the sRGB profile
 * differ from lcms' own computation by a few ten-thousandths */
#define COLORANT_SLACK 0.002
/* how far from an 8-bit level a curve may land and still round to it */
#define LEVEL_SLACK 0.5

/* lcms reports damaged profiles through a handler; these are only
 * questions, so nothing is said */
static void
quiet(cmsContext ctx, cmsUInt32Number code, const char *text)
{
	(void)ctx;
	(void)code;
	(void)text;
}

static double
srgb_encode(double linear)
{
	return linear <= 0.0031308 ? 12.92 * linear
				   : 1.055 * pow(linear, 1 / 2.4) - 0.055;
}

/* The curve decodes every level to the light sRGB gives it, to within
 * rounding when encoded back to 8 bits. */
static int
srgb_curve(const cmsToneCurve *curve)
{
	int i;

	if (!curve)
		return 0;
	for (i = 0; i < 256; i++) {
		double y = cmsEvalToneCurveFloat(curve, (cmsFloat32Number)(i / 255.0));

		if (!(fabs(srgb_encode(y) * 255 - i) <= LEVEL_SLACK))
			return 0;
	}
	return 1;
}

static int
same_xyz(const cmsCIEXYZ *a, const cmsCIEXYZ *b)
{
	return a && b && fabs(a->X - b->X) <= COLORANT_SLACK &&
	       fabs(a->Y - b->Y) <= COLORANT_SLACK &&
	       fabs(a->Z - b->Z) <= COLORANT_SLACK;
}

static int
like_srgb(cmsHPROFILE p, cmsHPROFILE ref)
{
	static const cmsTagSignature luts[] = {
		cmsSigAToB0Tag, cmsSigAToB1Tag, cmsSigAToB2Tag,
		cmsSigDToB0Tag, cmsSigDToB1Tag, cmsSigDToB2Tag,
	};
	static const cmsTagSignature colorants[] = {
		cmsSigRedColorantTag, cmsSigGreenColorantTag, cmsSigBlueColorantTag,
	};
	static const cmsTagSignature curves[] = {
		cmsSigRedTRCTag, cmsSigGreenTRCTag, cmsSigBlueTRCTag,
	};
	size_t i;

	if (cmsGetColorSpace(p) != cmsSigRgbData || !cmsIsMatrixShaper(p))
		return 0;
	/* lcms prefers lookup tables to the matrix when both are there */
	for (i = 0; i < sizeof(luts) / sizeof(luts[0]); i++)
		if (cmsIsTag(p, luts[i]))
			return 0;
	for (i = 0; i < 3; i++)
		if (!same_xyz(cmsReadTag(p, colorants[i]), cmsReadTag(ref, colorants[i])) ||
		    !srgb_curve(cmsReadTag(p, curves[i])))
			return 0;
	return 1;
}

int
icc_is_srgb(const void *data, size_t len)
{
	cmsContext ctx;
	cmsHPROFILE p, ref;
	int yes = 0;

	if (!data || !len || len > 0xffffffffu || !(ctx = cmsCreateContext(NULL, NULL)))
		return 0;
	cmsSetLogErrorHandlerTHR(ctx, quiet);
	p = cmsOpenProfileFromMemTHR(ctx, data, (cmsUInt32Number)len);
	ref = cmsCreate_sRGBProfileTHR(ctx);
	if (p && ref)
		yes = like_srgb(p, ref);
	if (p)
		cmsCloseProfile(p);
	if (ref)
		cmsCloseProfile(ref);
	cmsDeleteContext(ctx);
	return yes;
}

void *
icc_for_cicp(int primaries, int transfer, size_t *len)
{
	/* H.273's primaries, and D65 for both */
	static const cmsCIExyYTRIPLE p3 = {
		{ 0.680, 0.320, 1 }, { 0.265, 0.690, 1 }, { 0.150, 0.060, 1 },
	};
	static const cmsCIExyYTRIPLE bt2020 = {
		{ 0.708, 0.292, 1 }, { 0.170, 0.797, 1 }, { 0.131, 0.046, 1 },
	};
	static const cmsCIExyY d65 = { 0.3127, 0.3290, 1 };
	/* the sRGB curve, as lcms' type 4 parametric curve */
	static const cmsFloat64Number srgb[5] = {
		2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045,
	};
	const cmsCIExyYTRIPLE *prim = primaries == 12 ? &p3 : primaries == 9 ? &bt2020 : NULL;
	cmsToneCurve *curve[3] = { NULL, NULL, NULL };
	cmsHPROFILE profile = NULL;
	cmsUInt32Number size = 0;
	cmsContext ctx;
	void *data = NULL;

	if (!prim || transfer != 13 || !(ctx = cmsCreateContext(NULL, NULL)))
		return NULL;
	cmsSetLogErrorHandlerTHR(ctx, quiet);
	if ((curve[0] = cmsBuildParametricToneCurve(ctx, 4, srgb))) {
		curve[1] = curve[2] = curve[0];
		profile = cmsCreateRGBProfileTHR(ctx, &d65, prim, curve);
	}
	if (profile && cmsSaveProfileToMem(profile, NULL, &size) && size &&
	    (data = malloc(size)) && !cmsSaveProfileToMem(profile, data, &size)) {
		free(data);
		data = NULL;
	}
	*len = data ? size : 0;
	if (profile)
		cmsCloseProfile(profile);
	if (curve[0])
		cmsFreeToneCurve(curve[0]);
	cmsDeleteContext(ctx);
	return data;
}
