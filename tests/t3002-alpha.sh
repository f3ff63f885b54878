#!/bin/sh
# Alpha: kept in webp, avif and png; flattened onto --background for jpeg.
. "$(dirname "$0")/lib.sh"

# Blue everywhere, the left half fully transparent, the right half opaque.
mkalpha a.png 200x100

jpeg_of() {
	find "$1" -name 'a.jp*g'
}

run -f jpeg -o o1 a.png
is "$rc" 0 "alpha to jpeg: exit 0" || show_run
j=$(jpeg_of o1)
is "$(info "$j")" "200x100 uchar 3 srgb jpegload" "jpeg: 3 bands"
pixel_near "$j" 40 50 '255 255 255' 8 "jpeg: transparent flattened onto white by default"
pixel_near "$j" 160 50 '0 0 255' 12 "jpeg: opaque pixels kept"
is "$(json_get o1/imgbake-manifest.json '$j->{options}{background}')" '#ffffff' \
	"manifest: default background #ffffff"

run -f jpeg --background '#000000' -o o2 a.png
is "$rc" 0 "--background '#000000': exit 0" || show_run
j=$(jpeg_of o2)
pixel_near "$j" 40 50 '0 0 0' 8 "--background '#000000': black"
pixel_near "$j" 160 50 '0 0 255' 12 "--background '#000000': opaque pixels kept"
is "$(json_get o2/imgbake-manifest.json '$j->{options}{background}')" '#000000' \
	"manifest: background #000000"

run -f jpeg --background black -o o3 a.png
pixel_near "$(jpeg_of o3)" 40 50 '0 0 0' 8 "--background black"
run -f jpeg --background '#f00' -o o4 a.png
pixel_near "$(jpeg_of o4)" 40 50 '255 0 0' 12 "--background '#f00'"
run -f jpeg --background white -o o5 a.png
pixel_near "$(jpeg_of o5)" 40 50 '255 255 255' 8 "--background white"

run -f png,webp,avif --background '#000000' -o o6 a.png
is "$rc" 0 "alpha to png, webp, avif: exit 0" || show_run
is "$(info o6/a.png)" "200x100 uchar 4 srgb pngload" "png keeps alpha"
is "$(pixel o6/a.png 40 50 | cut -d' ' -f4)" 0 "png: transparent stays transparent"
is "$(pixel o6/a.png 160 50)" "0 0 255 255" "png: opaque stays opaque"
is "$(info o6/a.webp)" "200x100 uchar 4 srgb webpload" "webp keeps alpha"
is "$(pixel o6/a.webp 40 50 | cut -d' ' -f4)" 0 "webp: transparent stays transparent"
have_saver avif && {
	is "$(hdr o6/a.avif bands)" 4 "avif keeps alpha"

	# an alpha band that is 255 everywhere says nothing: AVIF, which
	# would encode it as a second picture, leaves it out
	vips black "$_L/black.v" 120 80 --bands 3 &&
		vips bandjoin_const "$_L/black.v" op.png 255
	run -f png,avif -w 60,120 -o o8 op.png
	is "$rc" 0 "opaque alpha to png and avif at two widths: exit 0" || show_run
	is "$(hdr o8/op-120.avif bands)" 3 "avif: an opaque alpha is left out"
	is "$(hdr o8/op-60.avif bands)" 3 "so it is at the smaller width"
	is "$(hdr o8/op-120.png bands)" 4 "png keeps it"
	is "$(pixel o8/op-120.avif 10 10 | cut -d' ' -f1-3)" "0 0 0" "avif: the pixels are the same"
}

mkimg ga.png 80x60 2
run -f jpeg -o o7 ga.png
is "$rc" 0 "grey with alpha to jpeg: exit 0" || show_run
is "$(size "$(find o7 -name 'ga.jp*g')")" 80x60 "grey with alpha to jpeg: decodes"

# RGBA and one extra sample (a TIFF's): the extra goes, for JPEG too
vips black "$_L/k.v" 64 48 --bands 3 && vips linear "$_L/k.v" "$_L/k2.v" 1 100 --uchar &&
	vips bandjoin_const "$_L/k2.v" "$_L/k5.v" "128 7" && vips copy "$_L/k5.v" extra.tif
run -f webp,jpeg -o o8 extra.tif
is "$rc" 0 "RGBA and an extra sample to WebP and JPEG: exit 0" || show_run
is "$(info o8/extra.jpg)" "64x48 uchar 3 srgb jpegload" "... the JPEG has RGB"
near "$(pixel o8/extra.jpg 5 5)" "177 177 177" 2
ok $? "... flattened on white by the alpha (100 at 128 of 255)"
is "$(info o8/extra.webp)" "64x48 uchar 4 srgb webpload" "... the WebP has RGBA"

done_testing
