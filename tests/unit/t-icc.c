/*
 * icc_is_srgb: which embedded profiles imgbake may leave pixels alone for.
 * The profiles are made here with lcms2.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lcms2.h>

#include "icc.h"
#include "tap.h"

/* the profile p as the bytes an image would carry */
static void *
bytes_of(cmsHPROFILE p, size_t *len)
{
	cmsUInt32Number n = 0;
	void *buf = NULL;

	if (!p)
		return NULL;
	if (cmsSaveProfileToMem(p, NULL, &n) && (buf = malloc(n)) &&
	    !cmsSaveProfileToMem(p, buf, &n)) {
		free(buf);
		buf = NULL;
	}
	cmsCloseProfile(p);
	*len = n;
	return buf;
}

static const cmsCIExyYTRIPLE srgb_primaries = {
	{ 0.6400, 0.3300, 1 }, { 0.3000, 0.6000, 1 }, { 0.1500, 0.0600, 1 },
};
static const cmsCIExyYTRIPLE adobe_primaries = {
	{ 0.6400, 0.3300, 1 }, { 0.2100, 0.7100, 1 }, { 0.1500, 0.0600, 1 },
};

/* an RGB matrix-shaper with the given primaries, D65 white and curve */
static void *
rgb_profile(const cmsCIExyYTRIPLE *primaries, cmsToneCurve *curve, size_t *len)
{
	cmsCIExyY d65;
	cmsToneCurve *curves[3] = { curve, curve, curve };
	cmsHPROFILE p;

	cmsWhitePointFromTemp(&d65, 6504);
	p = cmsCreateRGBProfile(&d65, primaries, curves);
	cmsFreeToneCurve(curve);
	return bytes_of(p, len);
}

/* sRGB's curve as a table of n 16-bit entries, as older profiles have it */
static cmsToneCurve *
srgb_table(int n)
{
	cmsUInt16Number *t = malloc(n * sizeof(*t));
	cmsToneCurve *curve;
	int i;

	for (i = 0; i < n; i++) {
		double v = (double)i / (n - 1);
		double y = v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);

		t[i] = (cmsUInt16Number)(y * 65535 + 0.5);
	}
	curve = cmsBuildTabulatedToneCurve16(NULL, n, t);
	free(t);
	return curve;
}

static cmsToneCurve *
srgb_parametric(void)
{
	static const cmsFloat64Number params[] = {
		2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045,
	};

	return cmsBuildParametricToneCurve(NULL, 4, params);
}

int
main(void)
{
	size_t len = 0;
	void *icc;
	cmsToneCurve *gamma;
	char junk[600];

	icc = bytes_of(cmsCreate_sRGBProfile(), &len);
	ok(icc && icc_is_srgb(icc, len), "lcms' own sRGB profile is sRGB");
	ok(!icc_is_srgb(icc, len / 2), "the same profile cut in half is not");
	ok(!icc_is_srgb(icc, 0), "nor is an empty one");
	free(icc);

	icc = rgb_profile(&srgb_primaries, srgb_table(1024), &len);
	ok(icc && icc_is_srgb(icc, len), "sRGB with a 1,024-entry curve is sRGB");
	free(icc);

	icc = rgb_profile(&srgb_primaries, srgb_parametric(), &len);
	ok(icc && icc_is_srgb(icc, len), "sRGB with a parametric curve is sRGB");
	free(icc);

	icc = rgb_profile(&srgb_primaries, cmsBuildGamma(NULL, 2.2), &len);
	ok(icc && !icc_is_srgb(icc, len), "sRGB's primaries with gamma 2.2 are not sRGB");
	free(icc);

	icc = rgb_profile(&srgb_primaries, cmsBuildGamma(NULL, 1.0), &len);
	ok(icc && !icc_is_srgb(icc, len), "linear sRGB is not sRGB");
	free(icc);

	icc = rgb_profile(&adobe_primaries, srgb_parametric(), &len);
	ok(icc && !icc_is_srgb(icc, len), "Adobe RGB's primaries with sRGB's curve are not sRGB");
	free(icc);

	gamma = cmsBuildGamma(NULL, 2.2);
	icc = bytes_of(cmsCreateGrayProfile(cmsD50_xyY(), gamma), &len);
	cmsFreeToneCurve(gamma);
	ok(icc && !icc_is_srgb(icc, len), "a grey profile is not sRGB");
	free(icc);

	icc = bytes_of(cmsCreateLab4Profile(NULL), &len);
	ok(icc && !icc_is_srgb(icc, len), "a Lab profile is not sRGB");
	free(icc);

	memset(junk, 0x5a, sizeof(junk));
	ok(!icc_is_srgb(junk, sizeof(junk)), "junk is not sRGB");
	ok(!icc_is_srgb(NULL, 0), "no profile is not sRGB");

	icc = icc_for_cicp(12, 13, &len);
	ok(icc && len > 128 && !icc_is_srgb(icc, len), "Display P3 by CICP: a profile, not sRGB's");
	if (icc) {
		cmsHPROFILE p = cmsOpenProfileFromMem(icc, (cmsUInt32Number)len);
		cmsCIEXYZ *red = p ? cmsReadTag(p, cmsSigRedColorantTag) : NULL;

		/* P3's red, adapted to D50: X 0.5151, Y 0.2412 */
		ok(red && fabs(red->X - 0.5151) < 0.002 && fabs(red->Y - 0.2412) < 0.002,
		   "... with Display P3's red colorant");
		if (p)
			cmsCloseProfile(p);
	}
	free(icc);
	icc = icc_for_cicp(9, 13, &len);
	ok(icc && !icc_is_srgb(icc, len), "BT.2020 with the sRGB curve: a profile");
	free(icc);
	ok(!icc_for_cicp(1, 13, &len), "sRGB by CICP needs no profile");
	ok(!icc_for_cicp(9, 16, &len) && !icc_for_cicp(9, 18, &len),
	   "PQ and HLG get none: they would need tone mapping");

	return done_testing();
}
