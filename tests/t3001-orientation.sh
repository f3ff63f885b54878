#!/bin/sh
# EXIF orientation is applied to the pixels and not left in the output.
. "$(dirname "$0")/lib.sh"

# The stored pixels are white in the left third, black elsewhere.
mkexif o6.jpg 300x200 6
mkexif o3.jpg 300x200 3
mkexif o8.jpg 300x200 8
mkexif o1.jpg 300x200 1

white='255 255 255'
black='0 0 0'

run -f png,webp -o o o6.jpg o3.jpg o8.jpg o1.jpg
is "$rc" 0 "exit 0" || show_run

is "$(info o/o6.png)" "200x300 uchar 3 srgb pngload" "orientation 6: portrait"
pixel_near o/o6.png 100 20 "$white" 12 "orientation 6: white went to the top"
pixel_near o/o6.png 100 280 "$black" 12 "orientation 6: black at the bottom"
is "$(hdr o/o6.png orientation)" "" "orientation 6: no orientation left"
is "$(size o/o6.webp)" 200x300 "orientation 6: webp portrait"
unlike "$(webpmux -info o/o6.webp)" 'EXIF' "orientation 6: no EXIF in the webp"

is "$(size o/o3.png)" 300x200 "orientation 3: still landscape"
pixel_near o/o3.png 280 100 "$white" 12 "orientation 3: white went to the right"
pixel_near o/o3.png 20 100 "$black" 12 "orientation 3: black on the left"

is "$(size o/o8.png)" 200x300 "orientation 8: portrait"
pixel_near o/o8.png 100 280 "$white" 12 "orientation 8: white went to the bottom"
pixel_near o/o8.png 100 20 "$black" 12 "orientation 8: black at the top"

is "$(size o/o1.png)" 300x200 "orientation 1: unchanged"
pixel_near o/o1.png 20 100 "$white" 12 "orientation 1: white still on the left"

run --keep-metadata -f jpeg -o k o6.jpg
is "$rc" 0 "--keep-metadata: exit 0" || show_run
kept=$(find k -name 'o6.jp*g')
is "$(size "$kept")" 200x300 "--keep-metadata: rotated too"
o=$(hdr "$kept" orientation)
[ -z "$o" ] || [ "$o" = 1 ]
ok $? "--keep-metadata: the kept orientation is reset (got '$o')"
# every width is turned once: the smaller ones are made from the largest,
# already upright, whose kept EXIF must not turn them again
run --keep-metadata -f png -w 100,150 -o kw o6.jpg o3.jpg
is "$rc" 0 "--keep-metadata, two widths: exit 0" || show_run
for w in 100 150; do
	pixel_near kw/o6-$w.png $((w / 2)) 10 "$white" 12 "--keep-metadata, orientation 6 at width $w: white at the top"
	pixel_near kw/o6-$w.png $((w / 2)) $((w * 3 / 2 - 10)) "$black" 12 "... black at the bottom"
	pixel_near kw/o3-$w.png $((w - 10)) $((w / 3)) "$white" 12 "--keep-metadata, orientation 3 at width $w: white on the right"
	pixel_near kw/o3-$w.png 10 $((w / 3)) "$black" 12 "... black on the left"
done

# AVIF goes through libheif with the EXIF rewritten; heifload hides the
# EXIF orientation, so read it from the TIFF structure in the file
exif_orientation() {
	perl -0777 -ne '
		my $at = index($_, "MM\0*"); my $be = 1;
		if ($at < 0) { $at = index($_, "II*\0"); $be = 0 }
		exit if $at < 0;
		my $t = substr($_, $at);
		my ($s, $l) = $be ? ("n", "N") : ("v", "V");
		my $ifd = unpack($l, substr($t, 4, 4));
		my $n = unpack($s, substr($t, $ifd, 2));
		for my $i (0 .. $n - 1) {
			my $e = substr($t, $ifd + 2 + 12 * $i, 12);
			print unpack($s, substr($e, 8, 2)), "\n" if unpack($s, $e) == 0x112;
		}' "$1"
}
if have_saver avif; then
	run --keep-metadata -f avif -w 100 -o ka o6.jpg
	is "$rc" 0 "--keep-metadata AVIF: exit 0" || show_run
	is "$(size ka/o6-100.avif)" 100x150 "--keep-metadata AVIF: rotated"
	is "$(exif_orientation o6.jpg)" 6 "precondition: the source's EXIF says 6"
	is "$(exif_orientation ka/o6-100.avif)" 1 "--keep-metadata AVIF: the EXIF says 1"
	like "$(vipsheader -a ka/o6-100.avif 2>/dev/null)" 'PixelXDimension: 100 ' \
		"--keep-metadata AVIF: the EXIF has the output's width"
fi

done_testing
