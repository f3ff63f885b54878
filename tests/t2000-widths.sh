#!/bin/sh
# -w: one output per width, aspect ratio kept, never upscaled; --name.
. "$(dirname "$0")/lib.sh"

mkimg w.jpg 300x150
mkimg p.png 150x300
mkimg r.png 300x200
mkexif rot.jpg 300x200 6

run -w 100,200,5000 -o o1 w.jpg
is "$rc" 0 "-w 100,200,5000: exit 0" || show_run
is "$(files o1)" "imgbake-manifest.json
w-100.webp
w-200.webp" "-w 100,200,5000 on 300 px: 5000 dropped"
is "$(info o1/w-100.webp)" "100x50 uchar 3 srgb webpload" "w-100.webp is 100x50"
is "$(size o1/w-200.webp)" 200x100 "w-200.webp is 200x100"
is "$(json_get o1/imgbake-manifest.json '[sort { $a <=> $b } map { $_->{width} } outs()]')" "100
200" "the manifest lists both widths"

run -w 5000 -o o2 w.jpg
is "$rc" 0 "-w 5000 alone: exit 0" || show_run
is "$(files o2)" "imgbake-manifest.json
w-300.webp" "-w 5000 alone: one output named with the source width"
is "$(size o2/w-300.webp)" 300x150 "w-300.webp is not upscaled"

run -w 300 -o o3 w.jpg
is "$(files o3)" "imgbake-manifest.json
w-300.webp" "a width equal to the source width is kept"
is "$(size o3/w-300.webp)" 300x150 "-w 300: 300x150"

run -o o4 w.jpg
is "$(files o4)" "imgbake-manifest.json
w.webp" "no -w: {stem}.{ext}"
is "$(size o4/w.webp)" 300x150 "no -w: source size"

run -w 200,100 -o o5 p.png
is "$rc" 0 "portrait source" || show_run
is "$(size o5/p-100.webp)" 100x200 "portrait: 100x200"
[ ! -e o5/p-200.webp ]
ok $? "portrait: width 200 above the 150 px source dropped"

run -w 100 -o o6 r.png
h=$(hdr o6/r-100.webp height)
[ "$h" = 66 ] || [ "$h" = 67 ]
ok $? "3:2 source at 100 px: height 66 or 67 (got '$h')"

run -w 250 -o o7 rot.jpg
is "$rc" 0 "rotated source: exit 0" || show_run
is "$(files o7)" "imgbake-manifest.json
rot-200.webp" "the limit is the width after EXIF rotation"
is "$(size o7/rot-200.webp)" 200x300 "rotated source: portrait 200x300"
run -w 100 -o o8 rot.jpg
is "$(size o8/rot-100.webp)" 100x150 "rotated source at 100 px: 100x150"

run -w 100 --name '{dir}/{stem}_{w}.{ext}' -o o9 w.jpg
is "$rc" 0 "--name template: exit 0" || show_run
is "$(files o9)" "imgbake-manifest.json
w_100.webp" "--name '{dir}/{stem}_{w}.{ext}'"

mkimg tree/sub/t.png 60x40
run --name '{dir}/{stem}.{hash}.{ext}' -o o10 tree
is "$rc" 0 "--name with {hash}: exit 0" || show_run
made=$(cd o10 && find . -name '*.webp' | sed 's|^\./||')
like "$made" '^sub/t\.[0-9a-zA-Z]+\.webp$' "{hash} expands to a hash in the name"
is "$(json_get o10/imgbake-manifest.json '(outs())[0]{path}')" "$made" \
	"the manifest records the expanded name"

# a resized width is computed once and kept for every format: the bytes
# are those of one format at a time
mkimg a.png 300x200 4
run -f webp,png -w 100,200 -o o11 r.png a.png
is "$rc" 0 "two formats, two widths: exit 0" || show_run
run -f webp -w 100,200 -o o12 r.png a.png
run -f png -w 100,200 -o o13 r.png a.png
for f in r-100.webp r-200.webp a-100.webp a-200.webp; do
	cmp -s o11/$f o12/$f
	ok $? "$f: the same with png beside it"
done
for f in r-100.png r-200.png a-100.png a-200.png; do
	cmp -s o11/$f o13/$f
	ok $? "$f: the same with webp beside it"
done

# an output's height is the source's, scaled and rounded once: the same
# whatever the other widths, the shrink on load or the source format
for t in jpg png webp; do
	mkimg "ar/s$t.$t" 1000x667
done
mkimg ar/narrow.jpg 30x600
run -f png -w 100 -o ar1 ar
run -f png -w 100,200 -o ar2 ar
run -f png -w 100,200,500 -o ar3 ar
for t in jpg png webp; do
	for o in ar1 ar2 ar3; do
		is "$(size $o/s$t-100.png)" 100x67 "1000x667 $t at 100, in $o: 67 high (66.7 rounded)"
	done
done
run -f png -w 1,3 -o ar4 ar/narrow.jpg
is "$(size ar4/ar/narrow-1.png) $(size ar4/ar/narrow-3.png)" "1x20 3x60" \
	"a narrow JPEG shrunk on load keeps its shape"

# far wider than high: shrunk on load, but never to no rows
mkdir flat
vips gaussnoise flat/line.jpg 1600 6
vips gaussnoise flat/strip.webp 3000 15
run -f png -w 100,1 -o flat-out flat
is "$rc" 0 "1600x6 JPEG and 3000x15 WebP at 100 and 1 px: exit 0" || show_run
is "$(size flat-out/line-100.png) $(size flat-out/line-1.png)" "100x1 1x1" \
	"1600x6 JPEG: 100x1 and 1x1"
is "$(size flat-out/strip-100.png) $(size flat-out/strip-1.png)" "100x1 1x1" \
	"3000x15 WebP: 100x1 and 1x1"

# A WebP source is scaled while libwebp decodes it, to the width itself:
# the same pixels as vips thumbnail, not a pixel more and a resample.
mkimg ws.png 300x200
vips copy ws.png ws.webp 2>/dev/null
run -w 100 -f png -o o20 ws.webp
is "$rc" 0 "WebP source at -w 100: exit 0" || show_run
vips thumbnail ws.webp "$_L/ws-ref.png" 100 --height 1000 2>/dev/null
vips subtract o20/ws-100.png "$_L/ws-ref.png" "$_L/ws-d.v" 2>/dev/null &&
	vips abs "$_L/ws-d.v" "$_L/ws-a.v" 2>/dev/null
is "$(vips max "$_L/ws-a.v" 2>/dev/null)" 0.000000 "WebP source at -w 100: the pixels of vips thumbnail"

done_testing
