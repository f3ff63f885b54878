#!/bin/sh
# Metadata is stripped by default (no EXIF/XMP chunk in WebP) and kept with
# --keep-metadata, made true of the output.
. "$(dirname "$0")/lib.sh"

mkexif exif.jpg 120x80 1
like "$(vipsheader -a exif.jpg)" '^exif-data' "precondition: the input has EXIF"

run -f webp,jpeg,png,avif -o o exif.jpg
is "$rc" 0 "exit 0" || show_run
info=$(webpmux -info o/exif.webp 2>&1)
like "$info" '^Canvas size: 120 x 80' "webpmux reads the webp"
unlike "$info" 'EXIF' "webp: no EXIF chunk"
unlike "$info" 'XMP' "webp: no XMP chunk"
unlike "$info" 'ICC' "webp: no ICC chunk"
unlike "$(vipsheader -a "$(find o -name 'exif.jp*g')")" '^(exif|xmp)-data' \
	"jpeg: no EXIF or XMP"
unlike "$(vipsheader -a o/exif.png)" '^(exif|xmp)-data' "png: no EXIF or XMP"
if have_saver avif; then
	unlike "$(vipsheader -a o/exif.avif 2>/dev/null)" '^(exif|xmp)-data' \
		"avif: no EXIF or XMP"
fi
is "$(json_get o/imgbake-manifest.json '$j->{options}{keep_metadata}')" false \
	"manifest: keep_metadata false"

run --keep-metadata -o k exif.jpg
is "$rc" 0 "--keep-metadata: exit 0" || show_run
like "$(webpmux -info k/exif.webp 2>&1)" 'EXIF' "--keep-metadata: the webp has EXIF"
is "$(json_get k/imgbake-manifest.json '$j->{options}{keep_metadata}')" true \
	"manifest: keep_metadata true"

# what the WebP carries with --keep-metadata: the ICC profile of a
# tagged source, an EXIF made upright, and no EXIF the source had not
mkexif rot.jpg 120x80 6
mkimg plain.png 60x40
vips icc_export plain.png tagged.v --output-profile srgb &&
	vips copy tagged.v tagged.jpg
run --keep-metadata -f webp -o kw rot.jpg plain.png tagged.jpg
is "$rc" 0 "--keep-metadata WebP: exit 0" || show_run
is "$(size kw/rot.webp)" 80x120 "the rotated source is made upright"
like "$(hdr kw/rot.webp exif-ifd0-Orientation)" '^1 ' "its EXIF says upright"
like "$(webpmux -info kw/tagged.webp 2>&1)" 'ICC profile' "the tagged source's profile is kept"
unlike "$(webpmux -info kw/plain.webp 2>&1)" 'EXIF|ICC|XMP' \
	"a source without metadata gets none made up"

# JPEG: no EXIF made up either (libvips would add one with a resolution
# and an "uncalibrated" colour space)
run --keep-metadata -f jpeg -o kj plain.png exif.jpg
is "$rc" 0 "--keep-metadata JPEG: exit 0" || show_run
unlike "$(vipsheader -a "$(find kj -name 'plain.jp*g')")" '^exif-data' \
	"JPEG of a source without EXIF: none made up"
like "$(vipsheader -a "$(find kj -name 'exif.jp*g')")" '^exif-data' \
	"JPEG of a source with EXIF: kept"

# EXIF as PNG and WebP keep it (the TIFF structure without JPEG's
# "Exif\0\0" in front, as webpmux writes it) is made upright too, and
# a WebP's EXIF chunk is written that way
mkexif rot6.webp 120x80 6
webpmux -get exif rot6.webp -o full.exif >/dev/null 2>&1
tail -c +7 full.exif >raw.exif
webpmux -set exif raw.exif rot6.webp -o raw6.webp >/dev/null 2>&1
is "$(head -c 2 raw.exif)" II "precondition: a WebP whose EXIF starts with the TIFF header"
run --keep-metadata -f webp,avif -o kr raw6.webp
is "$rc" 0 "EXIF without a JPEG header: exit 0" || show_run
is "$(size kr/raw6.webp)" 80x120 "EXIF without a JPEG header: made upright"
like "$(hdr kr/raw6.webp exif-ifd0-Orientation)" '^1 ' "... and its EXIF says so"
if have_saver avif; then
	unlike "$(hdr kr/raw6.avif exif-ifd0-Orientation)" '^[2-8] ' "... in the AVIF too"
fi
webpmux -get exif kr/raw6.webp -o out.exif >/dev/null 2>&1
is "$(head -c 2 out.exif)" II "the WebP's EXIF chunk starts with the TIFF header"

if have_saver avif; then
	run --keep-metadata -f avif -o ka exif.jpg
	is "$rc" 0 "--keep-metadata AVIF: exit 0" || show_run
	like "$(vipsheader -a ka/exif.avif 2>/dev/null)" '^exif-data' \
		"--keep-metadata: the avif has EXIF"
fi

# a resolution past what libvips' operations take (a pHYs of 4e9
# pixels a metre): small pictures go through a copy that sets it, which
# must not make GLib print warnings among the report
mkimg res.png 64x48
perl -MCompress::Zlib -e '
	local $/; my $d = <STDIN>;
	my $c = "pHYs" . pack("NNC", 4000000000, 4000000000, 1);
	substr($d, 33, 0) = pack("N", 9) . $c . pack("N", crc32($c));
	print $d' <res.png >hires.png
like "$(hdr hires.png xres)" '^4000000$' "precondition: a PNG of 4e6 pixels a mm"
run -f webp,png -o hr hires.png
is "$rc" 0 "a huge resolution: exit 0" || show_run
unlike "$err" 'WARNING|xres|yres' "... no GLib warning" || show_run
like "$(hdr hr/hires.png xres)" '^1000000$' "... kept as the most libvips holds"

# an XMP tiff:Orientation (Lightroom's) is made upright with the pixels,
# as attribute and as element, however spaced; another namespace's
# Orientation is not touched, nor the XMP of pixels not turned
# addxmp IN OUT DESCRIPTION-BODY: IN with an XMP packet after SOI
addxmp() {
	perl -e '
		local $/; my $d = <STDIN>;
		my $x = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">" .
			"<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">" .
			"<rdf:Description xmlns:tiff=\"http://ns.adobe.com/tiff/1.0/\" " .
			"xmlns:mytiff=\"urn:x\" $ARGV[0]</rdf:Description></rdf:RDF></x:xmpmeta>";
		substr($d, 2, 0) = "\xff\xe1" . pack("n", length($x) + 2) . $x;
		print $d' "$3" <"$1" >"$2"
}
mkexif xrot.jpg 120x80 6
mkimg xplain.jpg 120x80
addxmp xrot.jpg xmp6.jpg 'tiff:Orientation="6"><tiff:Orientation>6</tiff:Orientation>'
addxmp xrot.jpg xmp6s.jpg "tiff:Orientation = '6' mytiff:Orientation=\"6\"><tiff:Orientation> 6 </tiff:Orientation>"
addxmp xplain.jpg xmp6n.jpg 'tiff:Orientation="6">'
like "$(vipsheader -a xmp6.jpg)" '^xmp-data' "precondition: a JPEG with XMP"
run --keep-metadata -f webp -o kx xmp6.jpg xmp6s.jpg xmp6n.jpg
is "$rc" 0 "XMP orientation: exit 0" || show_run
is "$(size kx/xmp6.webp) $(size kx/xmp6n.webp)" "80x120 120x80" \
	"XMP orientation: pixels turned as EXIF says, and only so"
for f in xmp6 xmp6s xmp6n; do
	webpmux -get xmp kx/$f.webp -o kx/$f.xmp >/dev/null 2>&1
done
like "$(cat kx/xmp6.xmp)" 'tiff:Orientation="1"' "... the XMP attribute says upright"
like "$(cat kx/xmp6.xmp)" '<tiff:Orientation>1<' "... and the XMP element"
like "$(cat kx/xmp6s.xmp)" "tiff:Orientation = '1'.*<tiff:Orientation> 1 <" "... however spaced"
like "$(cat kx/xmp6s.xmp)" 'mytiff:Orientation="6"' "... not another namespace's"
like "$(cat kx/xmp6n.xmp)" 'tiff:Orientation="6"' "... nor the XMP of pixels not turned (no EXIF)"

# an EXIF block without the pixel dimensions (a PNG's eXIf of IFD0
# alone): the WebP and AVIF outputs get the output's, as libvips' savers
# give JPEG and PNG outputs theirs
mkimg nodims.png 120x80
perl -MCompress::Zlib -e '
	local $/; open my $f, "<:raw", $ARGV[0] or die; my $png = <$f>;
	my $tiff = "MM\0\x2a\0\0\0\x08" . pack("n", 1) .
		pack("nnNnn", 0x112, 3, 1, 1, 0) . pack("N", 0);
	my $chunk = pack("N", length $tiff) . "eXIf" . $tiff . pack("N", crc32("eXIf" . $tiff));
	substr($png, 33, 0) = $chunk;	# after the signature and IHDR
	open $f, ">:raw", $ARGV[0] or die; print $f $png' nodims.png
like "$(vipsheader -a nodims.png)" 'exif-data' "precondition: a PNG with EXIF"
unlike "$(vipsheader -a nodims.png)" 'PixelXDimension' "precondition: ... without the pixel dimensions"
fmts=webp
have_saver avif && fmts=webp,avif
run --keep-metadata -f $fmts -w 60 -o kd nodims.png
is "$rc" 0 "EXIF without pixel dimensions: exit 0" || show_run
for f in kd/nodims-60.webp $(have_saver avif && echo kd/nodims-60.avif); do
	like "$(vipsheader -a $f 2>/dev/null)" 'PixelXDimension: 60 ' "$f: the EXIF has the output's width"
done

done_testing
