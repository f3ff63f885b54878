#!/bin/sh
# Colour: CMYK and profiled inputs become sRGB, 16-bit becomes 8-bit, grey
# works.
. "$(dirname "$0")/lib.sh"

mkcmyk cmyk.jpg 100x80
mk16 deep.png 100x80
mkimg gj.jpg 90x60 1
mkimg gp.png 90x60 1
mkimg rgb.png 100x80
vips icc_transform rgb.png p3.png p3 --input-profile srgb
# the same pixels tagged with libvips' sRGB profile, and untagged
vips icc_transform rgb.png srgb.png srgb --input-profile srgb
vips copy srgb.png plain.png[strip]

is "$(info cmyk.jpg)" "100x80 uchar 4 cmyk jpegload" "precondition: a CMYK JPEG"
like "$(hdr deep.png format)" USHORT "precondition: a 16-bit PNG"
like "$(vipsheader -a p3.png)" '^icc-profile-data' "precondition: a PNG with a profile"
like "$(vipsheader -a srgb.png)" '^icc-profile-data' "precondition: a PNG with an sRGB profile"
is "$(hdr plain.png icc-profile-data)" "" "precondition: the same pixels untagged"

run -f webp,jpeg,png -o o cmyk.jpg deep.png gj.jpg gp.png p3.png
is "$rc" 0 "exit 0" || show_run

for f in o/cmyk.webp o/cmyk.png "$(find o -name 'cmyk.jp*g')"; do
	is "$(info "$f")" "100x80 uchar 3 srgb $(hdr "$f" vips-loader)" \
		"CMYK to ${f##*.}: 3-band 8-bit sRGB"
done

is "$(info o/deep.png)" "100x80 uchar 3 srgb pngload" "16-bit PNG to PNG: 8-bit"
like "$(file -b o/deep.png)" '8-bit/color RGB' "16-bit PNG to PNG: file(1) agrees"
is "$(info o/deep.webp)" "100x80 uchar 3 srgb webpload" "16-bit PNG to WebP"
in_px=$(pixel deep.png 10 10)
out_px=$(pixel o/deep.png 10 10)
want=$(perl -e 'print join " ", map { int($_ / 257 + 0.5) } split " ", $ARGV[0]' "$in_px")
near "$out_px" "$want" 1
ok $? "16-bit PNG to PNG: values scaled to 8 bits ($in_px -> $out_px)"

for f in o/gj.webp o/gj.png "$(find o -name 'gj.jp*g')" \
	o/gp.webp o/gp.png "$(find o -name 'gp.jp*g')"; do
	like "$(info "$f")" '^90x60 uchar [13] ' "grey to ${f##*.}: decodes, 8-bit"
done

is "$(hdr o/p3.png icc-profile-data)" "" "profiled input: no profile left in the png"
is "$(info o/p3.png)" "100x80 uchar 3 srgb pngload" "profiled input: sRGB"
near "$(pixel o/p3.png 50 40)" "$(pixel rgb.png 50 40)" 6
ok $? "profiled input: converted back to the sRGB colours"

# an sRGB profile leaves the pixels as they are, however it is read
run -f png,webp -o s srgb.png plain.png
is "$rc" 0 "sRGB-tagged input: converted"
is "$(hdr s/srgb.png icc-profile-data)" "" "sRGB-tagged input: no profile left in the png"
cmp -s s/srgb.png s/plain.png
ok $? "sRGB-tagged input: the same png as from the untagged pixels"
cmp -s s/srgb.webp s/plain.webp
ok $? "sRGB-tagged input: the same webp as from the untagged pixels"

# mkgreyicc FILE: a minimal ICC profile for grey pixels (v2, gamma 2.2)
mkgreyicc() {
	perl -e '
		sub s15 { pack "N", int($_[0] * 65536 + 0.5) }
		my $d50 = s15(0.9642) . s15(1.0) . s15(0.8249);
		my @tags = (
			["desc", "desc" . "\0" x 4 . pack("N", 5) . "grey\0" . "\0" x 78],
			["wtpt", "XYZ " . "\0" x 4 . $d50],
			["kTRC", "curv" . "\0" x 4 . pack("N", 1) . pack("n", 0x0233) . "\0\0"],
		);
		my ($table, $data) = (pack("N", scalar @tags), "");
		my $at = 128 + 4 + 12 * @tags;
		for (@tags) {
			my $b = $_->[1] . "\0" x ((4 - length($_->[1]) % 4) % 4);
			$table .= $_->[0] . pack("NN", $at + length $data, length $_->[1]);
			$data .= $b;
		}
		print pack("N", 128 + length($table) + length($data)), "lcms",
			pack("N", 0x02100000), "mntrGRAYXYZ ", "\0" x 12, "acsp",
			"\0" x 28, $d50, "\0" x 48, $table, $data' >"$1"
}

# a profile for another colour space than the pixels': taken as untagged,
# as other tools take it, not garbled nor refused
mkgreyicc grey.icc
vips colourspace rgb.png grey.png b-w
vips copy grey.png "grey-p3.jpg[profile=p3]"
vips copy rgb.png "rgb-greyicc.jpg[profile=grey.icc]"
vips copy grey.png "grey-greyicc.jpg[profile=grey.icc]"
vips copy grey.png grey-plain.jpg
vips copy rgb.png rgb-plain.jpg
for f in grey-p3.jpg rgb-greyicc.jpg grey-greyicc.jpg; do
	like "$(vipsheader -a $f)" '^icc-profile-data' "precondition: $f has a profile"
done
run -f webp,jpeg,png -w 50,100 -o mis grey-p3.jpg rgb-greyicc.jpg grey-greyicc.jpg \
	grey-plain.jpg rgb-plain.jpg
is "$rc" 0 "profiles for another colour space: exit 0" || show_run
for w in 50 100; do
	for f in webp png; do
		cmp -s mis/grey-p3-$w.$f mis/grey-plain-$w.$f
		ok $? "grey pixels, an RGB profile, $w px $f: as the untagged grey"
		cmp -s mis/rgb-greyicc-$w.$f mis/rgb-plain-$w.$f
		ok $? "RGB pixels, a grey profile, $w px $f: as the untagged RGB"
	done
done
is "$(info mis/rgb-greyicc-50.webp)" "50x40 uchar 3 srgb webpload" \
	"RGB pixels, a grey profile: 3 bands, no alpha made of a colour band"
like "$(info mis/grey-greyicc-50.png)" '^50x40 uchar ' "a grey profile on grey pixels still applies"
# ... and the output stays grey: one band, not R = G = B in three
for f in mis/grey-greyicc-50.png mis/grey-greyicc-100.png mis/grey-greyicc-100.jpg; do
	like "$(info $f)" '^[0-9]+x[0-9]+ uchar 1 b-w ' "a grey profile on grey pixels: $f is grey"
done
vips bandjoin_const grey.png grey-a.v 200 && vips copy grey-a.v "grey-a-greyicc.png[profile=grey.icc]"
run -f png -o misa grey-a-greyicc.png
like "$(info misa/grey-a-greyicc.png)" '^100x80 uchar 2 b-w ' "... grey and alpha too" || show_run

# grey with alpha on a coloured --background: red, not grey
vips black clear.v 16 16 --bands 2
vips copy clear.v clear.png --interpretation b-w
run -f jpeg --background '#ff0000' -o bg clear.png
is "$rc" 0 "grey+alpha on a red background: exit 0" || show_run
pixel_near "$(find bg -name 'clear.jp*g')" 8 8 "255 0 0" 3 \
	"grey+alpha on a red background: red"

# An AVIF tagged Display P3 by its CICP code points alone (no ICC
# profile; libvips 8.14 reads none of them): converted from P3, more
# saturated than its numbers read as sRGB; tagged sRGB so, as they are
if command -v avifenc >/dev/null; then
	vips black cb.v 64 64 --bands 3 && vips linear cb.v cc.v "0 0 0" "200 100 50" &&
		vips cast cc.v cicp.png uchar
	avifenc -y 444 --min 0 --max 0 --cicp 12/13/6 cicp.png p3-cicp.avif >/dev/null 2>&1
	avifenc -y 444 --min 0 --max 0 --cicp 1/13/6 cicp.png srgb-cicp.avif >/dev/null 2>&1
	run -f png -w 32,64 -o ocicp p3-cicp.avif srgb-cicp.avif
	is "$rc" 0 "AVIFs tagged by CICP alone: exit 0" || show_run
	# P3 (200,100,50) is sRGB (217,93,31) by H.273's primaries
	pixel_near ocicp/p3-cicp-64.png 10 10 "217 93 31" 4 \
		"Display P3 by CICP: converted from P3 to sRGB"
	pixel_near ocicp/p3-cicp-32.png 10 10 "217 93 31" 4 "... at a smaller width too"
	pixel_near ocicp/srgb-cicp-64.png 10 10 "200 100 50" 2 "sRGB by CICP: as it is"
else
	for _ in 1 2 3 4; do skip "avifenc not installed"; done
fi

done_testing
