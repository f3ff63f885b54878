#!/bin/sh
# Hostile and broken input: corrupt files, non-images, wrong extensions,
# special files, unwritable outputs, pixel bombs.  The batch goes on and
# nothing partial is left behind.
. "$(dirname "$0")/lib.sh"

mkimg src/good1.jpg 200x150
mkimg src/good2.png 120x90
mkimg big.jpg 300x200
head -c $(($(wc -c <big.jpg) / 2)) big.jpg >src/trunc.jpg
head -c 300 big.jpg >src/head.jpg

run -o out src
is "$rc" 1 "corrupt JPEGs among good ones: exit 1" || show_run
is "$(info out/good1.webp)" "200x150 uchar 3 srgb webpload" "good1 converted"
is "$(size out/good2.webp)" 120x90 "good2 converted"
[ ! -e out/trunc.webp ] && [ ! -e out/head.webp ]
ok $? "no output for the corrupt files"
is "$(temps out)" "" "no temporary or partial file in the output"
is "$(files out)" "good1.webp
good2.webp
imgbake-manifest.json" "nothing else in the output"
M=out/imgbake-manifest.json
for f in trunc head; do
	is "$(json_get $M "src('src/$f.jpg')->{status}")" failed "$f.jpg: failed"
	is "$(json_get $M "src('src/$f.jpg')->{reason}")" corrupt "$f.jpg: reason corrupt"
	like "$(json_get $M "src('src/$f.jpg')->{error}")" . "$f.jpg: an error text"
	like "$err" "^imgbake: cannot convert 'src/$f\\.jpg': ." "$f.jpg reported on stderr"
done
like "$(last_line "$err")" '^2 converted, 0 skipped, 2 failed ' "summary counts"

# The first pixel pull of a save runs the decoder: a truncated source
# fails there whatever the output format, as a decode, not a write.
mkimg trp/big.png 300x200
head -c $(($(wc -c <trp/big.png) / 2)) trp/big.png >trp/trunc.png
# interlaced, cut: libvips' PNG decoder fails with no text of its own
vips gaussnoise trp/noise.v 300 200
vips copy trp/noise.v "trp/inter.v.png[interlace]"
head -c 30000 trp/inter.v.png >trp/inter.png
rm trp/big.png trp/noise.v trp/inter.v.png
for fmt in png jpeg webp avif; do
	have_saver $fmt || { skip "no $fmt saver" 5; continue; }
	run -f $fmt -o trout-$fmt src/trunc.jpg trp/trunc.png trp/inter.png
	is "$(json_get trout-$fmt/imgbake-manifest.json 'src("trp/inter.png")->{reason}')" corrupt \
		"an interlaced PNG cut short to $fmt: reason corrupt"
	M=trout-$fmt/imgbake-manifest.json
	is "$(json_get $M 'src("src/trunc.jpg")->{reason}')" corrupt \
		"a truncated JPEG to $fmt: reason corrupt"
	is "$(json_get $M 'src("trp/trunc.png")->{reason}')" corrupt \
		"a truncated PNG to $fmt: reason corrupt"
	like "$err" "'src/trunc\\.jpg': decode: " "... the JPEG fails at decode, -f $fmt"
	unlike "$err" "unable to write" "... and no failure to write is told, -f $fmt"
done

# libvips has one error buffer per process, and its HEIF loader logs a
# seek past the end of every file it opens: no other source's failure
# may carry that text.
mkimg heif/p.png 200x150
vips copy heif/p.png heif/a.avif 2>/dev/null
head -c $(($(wc -c <big.jpg) / 2)) big.jpg >heif/b.jpg
for j in 1 2; do
	run -j$j -o hout$j heif
	is "$rc" 1 "a good AVIF and a truncated JPEG, -j$j: exit 1" || show_run
	like "$err" "cannot convert 'heif/b\\.jpg': decode: VipsJpeg: Premature end" \
		"... the JPEG's own message, -j$j"
	unlike "$err" "seek" "... and nothing the AVIF's loader logged, -j$j"
done

mkdir walk
: >walk/empty.jpg
echo 'plain text' >walk/notes.jpg
mkimg walk/ok.png 40x30
run -o out2 walk
is "$rc" 0 "empty file and text in a walk: exit 0" || show_run
M=out2/imgbake-manifest.json
is "$(json_get $M 'src("walk/empty.jpg")->{status} . " " . src("walk/empty.jpg")->{reason}')" \
	"skipped not-an-image" "empty file: skipped, not-an-image"
is "$(json_get $M 'src("walk/notes.jpg")->{status} . " " . src("walk/notes.jpg")->{reason}')" \
	"skipped not-an-image" "text named .jpg: skipped, not-an-image"
is "$(size out2/ok.webp)" 40x30 "the image beside them is converted"

echo 'hello' >notes.txt
run -o out3 notes.txt
is "$rc" 1 "a non-image named explicitly: exit 1" || show_run
like "$err" "^imgbake: cannot convert 'notes\\.txt': ." "the failure line"
is "$(json_get out3/imgbake-manifest.json 'src("notes.txt")->{reason}')" not-an-image \
	"named non-image: reason not-an-image"

mkimg real.png 80x60
mkdir wrong
mv real.png wrong/x.jpg
mkimg wrong/y.jpg 80x60
run -o out4 wrong
is "$rc" 0 "a PNG named x.jpg: exit 0" || show_run
is "$(info out4/x.webp)" "80x60 uchar 3 srgb webpload" "converted by its real type"
M=out4/imgbake-manifest.json
is "$(json_get $M 'src("wrong/x.jpg")->{type}')" image/png "recorded as image/png"
is "$(json_get $M 'src("wrong/x.jpg")->{warnings}[0]')" extension-mismatch "warning extension-mismatch"
is "$(json_get $M 'exists src("wrong/y.jpg")->{warnings} ? "warning" : "none"')" none \
	"no warning for a right extension"

mkdir fifo
mkfifo fifo/pipe.jpg
mkimg fifo/ok.jpg 40x30
run -o out5 fifo
is "$rc" 0 "a FIFO in a walk: exit 0, no hang" || show_run
is "$(json_get out5/imgbake-manifest.json 'src("fifo/pipe.jpg")->{reason}')" not-regular \
	"FIFO: reason not-regular"
is "$(size out5/ok.webp)" 40x30 "the image beside it is converted"

mkimg wr/sub/a.jpg 40x30
mkimg wr/b.jpg 40x30
mkdir out6
: >out6/sub
run -o out6 wr
is "$rc" 1 "output directory blocked by a file: exit 1" || show_run
is "$(json_get out6/imgbake-manifest.json 'src("wr/sub/a.jpg")->{reason}')" io \
	"blocked output: reason io"
is "$(size out6/b.webp)" 40x30 "the other source is converted"
is "$(temps out6)" "" "no temporary file left"

run --max-pixels 59999 -o out7 big.jpg
is "$rc" 1 "300x200 over --max-pixels 59999: exit 1" || show_run
is "$(json_get out7/imgbake-manifest.json 'src("big.jpg")->{reason}')" limit "reason limit"
[ ! -e out7/big.webp ]
ok $? "nothing written for it"
run --max-pixels 60000 -o out8 big.jpg
is "$rc" 0 "300x200 at --max-pixels 60000 (not above): exit 0" || show_run
run --max-pixels 1k -o out9 big.jpg
is "$rc" 1 "--max-pixels 1k refuses 300x200" || show_run
is "$(json_get out9/imgbake-manifest.json 'src("big.jpg")->{reason}')" limit "--max-pixels 1k: reason limit"

# A PNG whose header claims 30000x30000 (900 MP, above the 256 MP default);
# only the header is checked, so this is quick.
mkimg bomb.png 64x64
perl -MCompress::Zlib -e '
	open my $f, "+<:raw", $ARGV[0] or die "$ARGV[0]: $!\n";
	my $d = do { local $/; <$f> };
	substr($d, 16, 8) = pack("NN", 30000, 30000);
	substr($d, 29, 4) = pack("N", crc32(substr($d, 12, 17)));
	seek $f, 0, 0;
	print $f $d;' bomb.png
is "$(size bomb.png)" 30000x30000 "precondition: the header says 30000x30000"
run -o out10 bomb.png
is "$rc" 1 "pixel bomb: exit 1" || show_run
is "$(json_get out10/imgbake-manifest.json 'src("bomb.png")->{reason}')" limit \
	"pixel bomb: reason limit"
is "$(json_get out10/imgbake-manifest.json 'src("bomb.png")->{width}')" 30000 \
	"pixel bomb: its size is known and recorded"

# A whole TIFF of a kind libvips does not decode (16-bit half floats):
# unsupported, not corrupt
# mktiff BITS COMPRESSION SAMPLEFORMAT: a 4x4 grey TIFF on stdout
mktiff() {
	perl -e '
	my ($bits, $comp, $fmt) = @ARGV;
	my @t = ([256, 1, 4], [257, 1, 4], [258, 1, $bits], [259, 1, $comp], [262, 1, 1],
		 [273, 4, 0], [277, 1, 1], [278, 1, 4], [279, 4, 32], [339, 1, $fmt]);
	my $at = 8 + 2 + 12 * @t + 4;
	my $s = "II" . pack("vV", 42, 8) . pack("v", scalar @t);
	for (@t) {
		my ($tag, $long, $v) = @$_;
		$v = $at if $tag == 273;
		$s .= pack("vvV", $tag, $long == 4 ? 4 : 3, 1) .
		      ($long == 4 ? pack("V", $v) : pack("vv", $v, 0));
	}
	print $s, pack("V", 0), "\x00\x38" x 16' "$@"
}
mktiff 16 1 3 >half.tif
mktiff 8 34712 1 >jp2k.tif
like "$(vipsheader half.tif 2>&1)" "unsupported tiff image type" "precondition: a half-float TIFF libvips does not decode"
run -o out11 half.tif jp2k.tif
is "$rc" 1 "half-float TIFF: exit 1" || show_run
is "$(json_get out11/imgbake-manifest.json 'src("half.tif")->{reason}')" unsupported \
	"half-float TIFF: reason unsupported"
is "$(json_get out11/imgbake-manifest.json 'src("jp2k.tif")->{reason}')" unsupported \
	"a TIFF compressed as libtiff cannot undo (JPEG 2000): reason unsupported"

done_testing
