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

done_testing
