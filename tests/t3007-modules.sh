#!/bin/sh
# libvips' loadable modules: a run loads the HEIF one, which reads AVIF,
# and none of the others unless --allow-loader names one of their
# loaders or --list-formats lists them all.  The loaded libraries are
# read from the dynamic linker's own log (LD_DEBUG=files).
. "$(dirname "$0")/lib.sh"

have_saver avif || skip_all "this libvips cannot write AVIF"
moddir=$(ls -d /usr/lib/*/vips-modules-* /usr/lib/vips-modules-* 2>/dev/null | head -n 1)
[ -n "$moddir" ] && [ -e "$moddir/vips-heif.so" ] ||
	skip_all "this libvips has no loadable HEIF module"

mkimg in/j.jpg 60x40
mkimg in/a.avif 60x40

# modules RUN...: the modules imgbake's runs opened, sorted, one a line
modules() {
	LD_DEBUG=files "$@" 2>&1 >/dev/null |
		sed -n 's|.*file=[^ ]*/vips-modules-[^/]*/vips-\([a-z0-9]*\)\.so .*|\1|p' | sort -u
}

is "$(modules "$IMGBAKE" -q -o o1 in)" heif "a run opens the HEIF module alone"
run -o o2 in
is "$rc" 0 "JPEG and AVIF: exit 0" || show_run
is "$(info o2/a.webp)" "60x40 uchar 3 srgb webpload" "the AVIF is read"

if [ -e "$moddir/vips-jxl.so" ] && have_saver jxl; then
	mkimg jx/x.jxl 50x30
	run -o o3 jx/x.jxl
	is "$rc" 1 "JPEG XL named without --allow-loader: exit 1" || show_run
	is "$(json_get o3/imgbake-manifest.json 'src("jx/x.jxl")->{reason}')" unsupported \
		"JPEG XL without --allow-loader: unsupported"
	run --allow-loader jxlload -o o4 jx
	is "$rc" 0 "--allow-loader jxlload: exit 0" || show_run
	is "$(info o4/x.webp)" "50x30 uchar 3 srgb webpload" "--allow-loader jxlload: converted"
	like "$(modules "$IMGBAKE" -q --allow-loader jxlload -o o5 jx)" "jxl" \
		"--allow-loader jxlload opens the JPEG XL module"
else
	for _ in 1 2 3 4 5; do skip "this libvips has no JPEG XL module and saver"; done
fi

run --allow-loader nosuchload -o o6 in
is "$rc" 2 "--allow-loader of an unknown loader: exit 2"
like "$err" "unknown loader 'nosuchload'" "--allow-loader of an unknown loader: says so"

# a loader that reads only named files (no _source variant) never sees
# a file: imgbake opens each itself, so it is refused, and listed so
if vips -l foreign 2>/dev/null | grep -q '(magickload)' &&
   ! vips -l foreign 2>/dev/null | grep -q '(magickload_source)'; then
	run --allow-loader magickload -o o7 in
	is "$rc" 2 "--allow-loader of a loader of named files only: exit 2" || show_run
	like "$err" "loader 'magickload' reads only named files" "... says why"
	like "$("$IMGBAKE" --list-formats)" "magickload +reads only named files: unusable" \
		"... and --list-formats says so"
else
	for _ in 1 2 3; do skip "this libvips has no magickload, or one that reads sources"; done
fi
# ... as one whose source variant opens the source's file name
if vips -l foreign 2>/dev/null | grep -q '(fitsload)'; then
	run --allow-loader fitsload -o o8 in
	is "$rc" 2 "--allow-loader fitsload, whose source loader needs a file name: exit 2" || show_run
else
	skip "this libvips has no fitsload"
fi

others=$(ls "$moddir" | sed -n 's/^vips-\([a-z0-9]*\)\.so$/\1/p' | sort | tr '\n' ' ')
is "$(modules "$IMGBAKE" --list-formats | tr '\n' ' ')" "$others" "--list-formats opens every module"

done_testing
