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

if have_saver avif; then
	run --keep-metadata -f avif -o ka exif.jpg
	is "$rc" 0 "--keep-metadata AVIF: exit 0" || show_run
	like "$(vipsheader -a ka/exif.avif 2>/dev/null)" '^exif-data' \
		"--keep-metadata: the avif has EXIF"
fi

done_testing
