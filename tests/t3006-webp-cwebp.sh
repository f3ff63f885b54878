#!/bin/sh
# A WebP is the file cwebp writes from the same PNG at the same quality
# and effort.  imgbake hands libwebp the picture strip by strip, cwebp
# whole: the bytes are the same only if every strip lands where the
# whole picture would, chroma, alpha and all.  Sources: RGB, RGBA with
# transparency in some rows only (their strips bring an alpha plane,
# the others none), RGBA opaque everywhere (the file has no alpha), at
# odd sizes.  -j1 on two CPUs or more fills the picture from libvips'
# threads, -j2 on the job's own thread.  Plain PNGs and JPEGs (4:2:0,
# progressive, 4:4:4, grey, EXIF orientation 1, odd sizes) go to libwebp
# without libvips (webpdirect.c), and through libvips when a width is
# asked for: the same files, by both paths.
. "$(dirname "$0")/lib.sh"

command -v cwebp >/dev/null || skip_all "no cwebp"

# mkrgba PATH WxH: RGBA noise, the alpha a ramp across the width in the
# top third of the rows and opaque below.
mkrgba() {
	_w=${2%x*}
	_h=${2#*x}
	mkimg "$_L/n.v" "$2" 3 &&
		vips xyz "$_L/xyz.v" "$_w" "$_h" &&
		vips extract_band "$_L/xyz.v" "$_L/x.v" 0 &&
		vips extract_band "$_L/xyz.v" "$_L/y.v" 1 &&
		vips linear "$_L/x.v" "$_L/ramp.v" 3 10 --uchar &&
		vips relational_const "$_L/y.v" "$_L/low.v" moreeq $((_h / 3)) &&
		vips boolean "$_L/ramp.v" "$_L/low.v" "$_L/a.v" or &&
		vips bandjoin "$_L/n.v $_L/a.v" "$_L/rgba.v" &&
		vips copy "$_L/rgba.v" "$1" --interpretation srgb
}

# mkopaque PATH WxH: RGBA noise with an alpha of 255 everywhere.
mkopaque() {
	mkimg "$_L/n.v" "$2" 3 &&
		vips black "$_L/z.v" "${2%x*}" "${2#*x}" &&
		vips linear "$_L/z.v" "$_L/a.v" 1 255 --uchar &&
		vips bandjoin "$_L/n.v $_L/a.v" "$_L/rgba.v" &&
		vips copy "$_L/rgba.v" "$1" --interpretation srgb
}

mkimg src/rgb.png 641x483
mkrgba src/part.png 641x483
mkrgba src/tall.png 37x1001
mkrgba src/tiny.png 3x3
mkopaque src/opaque.png 333x257
mkimg "$_L/j.v" 641x483
vips jpegsave "$_L/j.v" src/j420.jpg --Q 85 --strip
vips jpegsave "$_L/j.v" src/jprog.jpg --Q 85 --strip --interlace
vips jpegsave "$_L/j.v" src/j444.jpg --Q 85 --strip --subsample-mode off
mkimg "$_L/jt.v" 37x1001
vips jpegsave "$_L/jt.v" src/jtall.jpg --Q 70 --strip
mkexif src/jexif1.jpg 99x61 1
mkimg src/jgrey.jpg 201x77 1
mkimg src/ga.png 97x63 2
# addchunks IN OUT: IN with gAMA 1.0 (linear light), cHRM and sRGB
# chunks after its header, which libvips 8.14 ignores, as webpdirect
# does
addchunks() {
	perl -MCompress::Zlib -0777 -e '
		sub chunk { my ($t, $d) = @_;
			pack("N", length $d) . $t . $d . pack("N", crc32($t . $d)) }
		my $png = <STDIN>;
		print substr($png, 0, 33), chunk("gAMA", pack("N", 100000)),
			chunk("cHRM", pack("N8", 31270, 32900, 64000, 33000, 30000,
					   60000, 15000, 6000)),
			chunk("sRGB", "\0"), substr($png, 33);' <"$1" >"$2"
}
mkimg "$_L/g.png" 120x90
addchunks "$_L/g.png" src/gama.png
jpegs="j420 jprog j444 jtall jexif1 jgrey"

mkdir want
for f in rgb part tall tiny opaque ga; do
	cwebp -quiet -q 80 -m 4 "src/$f.png" -o "want/$f.webp" ||
		diag "cwebp failed on $f.png"
done
for f in $jpegs; do
	cwebp -quiet -q 80 -m 4 "src/$f.jpg" -o "want/$f.webp" ||
		diag "cwebp failed on $f.jpg"
done
webpmux -info want/part.webp 2>/dev/null | grep -q transparency
ok $? "the partly transparent source makes a WebP with alpha"
webpmux -info want/opaque.webp 2>/dev/null | grep -q transparency
isnt "$?" 0 "the opaque RGBA source makes one without"

for j in 1 2; do
	run -j$j -Q 80 -f webp -o o$j --base src src
	is "$rc" 0 "-j$j: exit 0" || show_run
	for f in rgb part tall tiny opaque ga $jpegs; do
		cmp -s "o$j/$f.webp" "want/$f.webp"
		ok $? "-j$j: $f.webp is cwebp's file"
	done
done

# Through libvips, as a width makes them go: the same files.
run -j2 -Q 80 -f webp -w 20000 --name '{dir}/{stem}.{ext}' -o ov --base src src
is "$rc" 0 "through libvips: exit 0" || show_run
for f in rgb part tall tiny opaque ga $jpegs; do
	cmp -s "ov/$f.webp" "want/$f.webp"
	ok $? "through libvips: $f.webp is cwebp's file"
done
cmp -s "ov/gama.webp" "o2/gama.webp"
ok $? "a PNG with gAMA, cHRM and sRGB chunks: the same file by both paths"
is "$(vips avg "$_L/g.png")" "$(vips avg src/gama.png)" "... whose pixels the chunks leave alone"

done_testing
