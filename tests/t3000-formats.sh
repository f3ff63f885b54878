#!/bin/sh
# Every input format to every output format: the outputs decode, have the
# right size, bands and loader.
. "$(dirname "$0")/lib.sh"

have_saver avif || skip_all "this libvips cannot write AVIF"

mkimg in/j.jpg 120x80
mkimg in/p.png 120x80
mkimg in/w.webp 120x80
mkimg in/a.avif 120x80

# jpeg_out BASE: the JPEG output for BASE, whichever of .jpg/.jpeg it got.
jpeg_out() {
	for _f in "$1.jpg" "$1.jpeg"; do
		[ -e "$_f" ] && echo "$_f" && return
	done
	echo "$1.jpg"
}

run -f webp,avif,jpeg,png -o o in
is "$rc" 0 "four inputs to four formats: exit 0" || show_run
is "$(files o | wc -l | tr -d ' ')" 17 "16 outputs and a manifest"
for stem in j p w a; do
	is "$(info o/$stem.webp)" "120x80 uchar 3 srgb webpload" "$stem -> webp"
	is "$(info o/$stem.avif)" "120x80 uchar 3 srgb heifload" "$stem -> avif"
	is "$(info "$(jpeg_out o/$stem)")" "120x80 uchar 3 srgb jpegload" "$stem -> jpeg"
	is "$(info o/$stem.png)" "120x80 uchar 3 srgb pngload" "$stem -> png"
done
is "$(json_get o/imgbake-manifest.json '[sort map { $_->{format} } outs()]' | uniq -c | awk '{print $1, $2}')" \
	"4 avif
4 jpeg
4 png
4 webp" "the manifest gives each output's format"
is "$(json_get o/imgbake-manifest.json 'src("in/a.avif")->{type}')" image/avif \
	"AVIF input typed image/avif"

is "$(pixel o/p.png 7 5)" "$(pixel in/p.png 7 5)" "png to png keeps the pixels (1)"
is "$(pixel o/p.png 100 70)" "$(pixel in/p.png 100 70)" "png to png keeps the pixels (2)"

run -f jpg -o o2 in/p.png
is "$rc" 0 "-f jpg is accepted" || show_run
is "$(info "$(jpeg_out o2/in/p)")" "120x80 uchar 3 srgb jpegload" "-f jpg writes JPEG"

run -f png,webp -o o3 in/j.jpg
is "$(files o3)" "imgbake-manifest.json
in/j.png
in/j.webp" "-f png,webp: exactly those two"

done_testing
