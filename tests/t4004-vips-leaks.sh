#!/bin/sh
# No libvips object outlives its job.  Each output takes over the image it
# is made from, and the last one made from a picture takes the whole
# pipeline with it, so a reference dropped twice crashes and one not
# dropped leaves objects alive; with IMGBAKE_LEAK set, libvips lists
# those at exit.  Every encoder, several widths, and the failures on the
# way: a corrupt source, a picture too wide for WebP, a timeout.
. "$(dirname "$0")/lib.sh"

mkimg src/a.jpg 300x200
mkimg src/b.png 240x160 4
mkimg src/c.webp 160x240
mkimg src/d.png 90x60 1
mkexif src/e.jpg 200x100 6
mkimg src/f.png 200x150
head -c 400 src/f.png >src/bad.png
rm src/f.png
vips black src/wide.png 16400 2 2>/dev/null

leaks() {
	printf '%s\n' "$err" | grep -E 'alive|leak' | head -n 5
}

formats=webp,jpeg,png
have_saver avif && formats=$formats,avif

run -j2 -f $formats -w 64,128,1000 -o o1 src
IMGBAKE_LEAK=1
export IMGBAKE_LEAK
run -j2 -f $formats -w 64,128,1000 -o o2 src
is "$rc" 1 "all formats at three widths: exit 1 (the corrupt and the wide source)"
is "$(files o2 | grep -c '\.')" "$(files o1 | grep -c '\.')" \
	"the same outputs with the leak check on"
is "$(leaks)" "" "no libvips object left alive" || show_run

run -j1 -f webp -o o3 src
is "$rc" 1 "full-size WebP: exit 1" || show_run
like "$err" "over WebP's 16383 pixel edge" "the wide source fails at WebP's edge"
is "$(leaks)" "" "full-size WebP: no libvips object left alive" || show_run

run -j2 -f $formats -w 64,128 --keep-metadata -o o4 src/a.jpg src/e.jpg src/bad.png
is "$rc" 1 "--keep-metadata: exit 1 (the corrupt source)" || show_run
is "$(leaks)" "" "--keep-metadata: no libvips object left alive" || show_run
run -j1 -f webp --keep-metadata -o o4b src/a.jpg src/bad.png
is "$rc" 1 "--keep-metadata, full-size WebP: exit 1" || show_run
is "$(leaks)" "" "--keep-metadata, full-size WebP: no libvips object left alive" || show_run

# 20 MP of noise takes libwebp several seconds: stopped by its progress
# hook at --timeout 1, after the pipeline went to the encoder
mkimg slow/noise.jpg 5000x4000
run -j1 -f webp --timeout 1 -o o5 slow
is "$rc" 1 "WebP stopped by --timeout: exit 1" || show_run
like "$err" "timed out|timeout" "the slow source failed for its time"
is "$(leaks)" "" "after the timeout: no libvips object left alive" || show_run

done_testing
