#!/bin/sh
# Resource bombs among good images: headers that claim billions of pixels
# in a few dozen bytes, a real 20000x20000 PNG, too many frames, too large
# a file, an encode that cannot finish in time.  Each is refused with
# reason limit (or timeout) before it costs memory or time; the good
# images beside it are converted.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/hostile/common.sh"

# ---- header-only bombs ---------------------------------------------------------

# Every header below is well formed (vipsheader reads the size it claims);
# only a few bytes of pixel data follow.  All but two are over the 256 MP
# --max-pixels default.  The WebP (16383x16383) and the 16000x16000 PNG
# are just under it: only the check that the file is large enough to hold
# what its header claims catches them.  That check must leave a real,
# highly compressed image alone: an 8000x8000 black PNG deflates ~1000:1,
# near deflate's limit, and converts.
mkdir bombs
cat >"$_L/bombs" <<'EOF'
png-bomb png-5m.png 5000000 5000000
png-bomb png-16k.png 16000 16000
jpeg-bomb jpeg-65500.jpg 65500 65500
webp-bomb webp-16383.webp 16383 16383
gif-bomb gif-65535.gif 65535 65535
tiff-bomb tiff-1m.tif 1000000 1000000
EOF
while read -r kind name w h; do
	hostile "$kind" "bombs/$name" "$w" "$h"
	is "$(size "bombs/$name")" "${w}x$h" "precondition: $name claims ${w}x$h in $(wc -c <"bombs/$name") bytes"
done <"$_L/bombs"
cmp_ok $((16383 * 16383)) -lt 268435456 "precondition: the WebP is under the default --max-pixels"
cmp_ok $((16000 * 16000)) -lt 268435456 "precondition: the 16000x16000 PNG is under the default --max-pixels"
cmp_ok "$(wc -c <bombs/webp-16383.webp)" -le 40 "precondition: the WebP is about 38 bytes"
hostile png-solid bombs/solid-8k.png 8000 8000
mkimg bombs/good.jpg 64x48
mkimg bombs/good-png.png 48x64

run_within 120 -w 64 -o ob bombs
cmp_ok "$secs" -lt 60 "header bombs: the run finishes (${secs} s)"
is "$rc" 1 "header bombs: exit 1" || show_run
M=ob/imgbake-manifest.json
while read -r kind name w h; do
	is "$(sr $M "bombs/$name")" "failed limit" "$name (${w}x$h): failed, limit"
	[ ! -e "ob/${name%.*}-64.webp" ]
	ok $? "$name: no output"
done <"$_L/bombs"
is "$(sr $M bombs/solid-8k.png)" converted "a real 8000x8000 black PNG is not taken for a bomb"
is "$(size ob/solid-8k-64.webp)" 64x64 "the 8000x8000 PNG is converted"
is "$(size ob/good-64.webp)" 64x48 "header bombs: the good JPEG is converted"
is "$(size ob/good-png-48.webp)" 48x64 "header bombs: the good PNG is converted"
is "$(files ob)" "good-64.webp
good-png-48.webp
imgbake-manifest.json
solid-8k-64.webp" "header bombs: nothing else written"
is "$(temps ob)" "" "header bombs: no temporary file"
like "$(json_get $M 'src("bombs/webp-16383.webp")->{error}')" . "the WebP bomb: an error text"

# an arithmetic-coded JPEG holds far more pixels a byte: a blank A4 page
# at 300 dpi (2480x3508, `jpegtran -arithmetic`) is 128 bytes
base64 -d >blank-page.jpg <<'B64'
/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAUDBAQEAwUEBAQFBQUGBwwIBwcHBw8LCwkMEQ8SEhEP
ERETFhwXExQaFRERGCEYGh0dHx8fExciJCIeJBweHx7/yQALCA20CbABAREA/8wABgAQEAX/2gAI
AQEAAD8A0tlQy01A/9k=
B64
is "$(size blank-page.jpg)" 2480x3508 "precondition: a 128-byte arithmetic-coded JPEG of 2480x3508"
run -w 480 -o oa blank-page.jpg
is "$rc" 0 "an arithmetic-coded blank page is not taken for a bomb" || show_run
is "$(size oa/blank-page-480.webp)" 480x679 "... and is converted"
# ... but a Huffman-coded one does not pass for arithmetic: a marker
# without a length (TEM) after SOI, then a comment holding FF C9, where
# a parser taking TEM's next bytes for a length would land
mkdir tem
hostile jpeg-bomb tem/plain.jpg 8000 8000
perl -e 'local $/; my $d = <STDIN>;
	substr($d, 2, 0) = "\xff\x01\x00\x08" . "\xff\xfe\x00\x0a" . "\x00\x00\xff\xc9\x00\x11\x08\x00";
	print $d' <tem/plain.jpg >tem/tem.jpg
is "$(size tem/tem.jpg)" 8000x8000 "precondition: a Huffman-coded JPEG behind a TEM marker claims 8000x8000"
run --lenient -w 64 -o otem tem
is "$(sr otem/imgbake-manifest.json tem/tem.jpg) $(sr otem/imgbake-manifest.json tem/plain.jpg)" \
	"failed limit failed limit" "... and is refused as limit, as without the marker"

# ---- a real 20000x20000 PNG ----------------------------------------------------

# 400 MP of black, complete and valid, about 400 kB: over --max-pixels,
# refused from its header without decoding.
mkdir huge
hostile png-solid huge/black.png 20000 20000
is "$(size huge/black.png)" 20000x20000 "precondition: a 20000x20000 PNG"
mkimg huge/good.jpg 40x30
run_within 120 -o oh huge
cmp_ok "$secs" -lt 60 "20000x20000 PNG: the run finishes (${secs} s)"
is "$rc" 1 "20000x20000 PNG: exit 1" || show_run
is "$(sr oh/imgbake-manifest.json huge/black.png)" "failed limit" "20000x20000 PNG: failed, limit"
is "$(files oh)" "good.webp
imgbake-manifest.json" "20000x20000 PNG: no output, the good file converted"
is "$(temps oh)" "" "20000x20000 PNG: no temporary file"

# ---- --max-frames --------------------------------------------------------------

mkdir frames
hostile gif-anim frames/four.gif 32 24 4
hostile gif-anim frames/many.gif 2 2 1001
is "$(hdr frames/four.gif n-pages) $(hdr frames/many.gif n-pages)" "4 1001" \
	"precondition: GIFs of 4 and 1001 frames"
mkimg frames/good.jpg 40x30

run --max-frames 2 -o of1 frames
is "$rc" 1 "--max-frames 2: exit 1" || show_run
M=of1/imgbake-manifest.json
is "$(sr $M frames/four.gif)" "failed limit" "--max-frames 2: four frames: failed, limit"
is "$(sr $M frames/many.gif)" "failed limit" "--max-frames 2: 1001 frames: failed, limit"
is "$(files of1)" "good.webp
imgbake-manifest.json" "--max-frames 2: only the good file is converted"

run --max-frames 4 -o of2 frames
is "$(sr of2/imgbake-manifest.json frames/four.gif)" converted "--max-frames 4: four frames (not above): converted"
decodes of2/four.webp
ok $? "--max-frames 4: the output decodes"
is "$(files of2)" "four.webp
good.webp
imgbake-manifest.json" "--max-frames 4: no output for 1001 frames"

run -o of3 frames
is "$rc" 1 "default --max-frames: exit 1" || show_run
is "$(sr of3/imgbake-manifest.json frames/many.gif)" "failed limit" \
	"default --max-frames (1000): 1001 frames: failed, limit"
is "$(sr of3/imgbake-manifest.json frames/four.gif)" converted "default --max-frames: four frames converted"
is "$(temps of3)" "" "--max-frames: no temporary file"

# ---- --max-file-size -------------------------------------------------------------

mkimg sizes/big.jpg 200x150
mkimg sizes/small.jpg 20x20
n=$(wc -c <sizes/big.jpg)
cmp_ok "$(wc -c <sizes/small.jpg)" -lt $((n - 1)) "precondition: small.jpg is smaller than big.jpg"

run --max-file-size $((n - 1)) -o os1 sizes
is "$rc" 1 "--max-file-size one byte under: exit 1" || show_run
is "$(sr os1/imgbake-manifest.json sizes/big.jpg)" "failed limit" "--max-file-size $((n - 1)): a $n-byte file fails, limit"
like "$err" "'sizes/big\.jpg': limit: $n bytes, over the $((n - 1)) byte limit" \
	"--max-file-size under 0.1 MB: the message counts bytes"
is "$(json_get os1/imgbake-manifest.json 'src("sizes/big.jpg")->{bytes}')" "$n" \
	"--max-file-size: the failed record keeps the file's size"
is "$(files os1)" "imgbake-manifest.json
small.webp" "--max-file-size: the small file is converted, nothing for the big one"

run --max-file-size "$n" -o os2 sizes
is "$rc" 0 "--max-file-size equal to the size: exit 0" || show_run
is "$(size os2/big.webp)" 200x150 "--max-file-size $n: the $n-byte file (not above) is converted"

run --max-file-size 1k -o os3 sizes
is "$(sr os3/imgbake-manifest.json sizes/big.jpg)" "failed limit" "--max-file-size 1k: failed, limit"
[ ! -e os3/big.webp ]
ok $? "--max-file-size 1k: no output for it"
is "$(temps os3)" "" "--max-file-size: no temporary file"

# ---- --timeout -----------------------------------------------------------------

# A 6 MP noise image to AVIF takes libaom many seconds: it cannot finish
# within --timeout 1.  It fails, reason timeout, leaves nothing, and the
# run goes on to the other images.  libaom cannot be interrupted, so the
# job ends when the encoder returns: the bound below only guards a hang.
if have_saver avif; then
	mkimg slow/noise.jpg 3000x2000
	mkimg slow/a.jpg 40x30
	mkimg slow/b.png 30x40
	run_within 120 -j2 --timeout 1 -f avif -o ot slow
	is "$rc" 1 "--timeout 1: exit 1" || show_run
	M=ot/imgbake-manifest.json
	is "$(sr $M slow/noise.jpg)" "failed timeout" "--timeout 1: the slow image failed, timeout"
	like "$(json_get $M 'src("slow/noise.jpg")->{error}')" . "--timeout 1: an error text"
	[ ! -e ot/noise.avif ]
	ok $? "--timeout 1: no output for the slow image"
	is "$(temps ot)" "" "--timeout 1: no temporary file"
	is "$(size ot/a.avif) $(size ot/b.avif)" "40x30 30x40" "--timeout 1: the other images are converted"
	cmp_ok "$secs" -lt 100 "--timeout 1: the run finishes (${secs} s)"
else
	skip "this libvips cannot write AVIF"
fi

# a small PNG followed by 64 GB of nothing (a sparse file): reading it
# for its hash takes far longer than --timeout 1, which stops it
mkdir -p sparse
vips black sparse/big.png 64 64 && truncate -s 64G sparse/big.png
run_within 120 --timeout 1 --max-file-size 0 -f webp -o osp sparse
is "$(sr osp/imgbake-manifest.json sparse/big.png)" "failed timeout" \
	"--timeout 1 over a 64 GB file: it fails, timeout" || show_run
like "$(json_get osp/imgbake-manifest.json 'src("sparse/big.png")->{error}')" "^read: over the 1 s limit" \
	"... while it is read, not once read"
rm -f sparse/big.png

# out of descriptors (ulimit -n), a good picture that cannot be read is
# an io failure, not a corrupt file
mkimg emf/good.jpg 64x48
(
	for fd in 3 4 5 6 7 8 9; do eval "exec $fd>&-"; done
	ulimit -n 6 && exec "$IMGBAKE" -q -j1 --progress=none -f webp -o oemf emf/good.jpg
) 2>"$ERR"
if [ -f oemf/imgbake-manifest.json ] && [ "$(sr oemf/imgbake-manifest.json emf/good.jpg)" != converted ]; then
	is "$(sr oemf/imgbake-manifest.json emf/good.jpg)" "failed io" \
		"out of descriptors: a good picture fails as io" || diag "$(cat "$ERR")"
else
	skip "no descriptor ran short here"
fi

# a PNG 70000 pixels wide: JPEG holds 65500 a side, and says so as the
# header is read, where libjpeg's own text was lost as a decoder's
vips black wide.v 70000 8 --bands 3 && mkdir wj && vips copy wide.v wj/wide.png
run -f jpeg -o wjo wj
is "$rc" 1 "a PNG 70000 pixels wide to JPEG: exit 1" || show_run
like "$err" "'wj/wide\\.png': limit: 70000x8 is over JPEG's 65500 pixel edge" "... over JPEG's edge"
run -f jpeg -w 480 -o wjo2 wj
is "$rc" 0 "... and at -w 480, converted" || show_run

# a GIF of 5,000 frames: libnsgif stops counting past 4,096, and the
# message does not claim the count it stopped at
perl -e 'print "GIF89a", pack("vvCCC", 1, 1, 0x80, 0, 0), "\0\0\0\xff\xff\xff";
	for (1 .. 5000) { print "\x21\xf9\x04\0\x01\0\0\0\x2c", pack("vvvvC", 0, 0, 1, 1, 0),
		"\x02\x02\x44\x01\0" } print "\x3b"' >many-frames.gif
run -o mf many-frames.gif
like "$err" "cannot convert 'many-frames.gif': limit: at least 4097 frames, over the 1000 frame limit" \
	"a GIF of 5,000 frames: 'at least', as libnsgif stops counting" || show_run

done_testing
