#!/bin/sh
# Damaged images among good ones: JPEG, PNG, WebP and GIF files cut short
# at many offsets, files with bits flipped by a fixed seed, and what
# --lenient recovers.  A damaged file fails with reason corrupt (or, when
# too little is left for libmagic to see an image, is not an image), the
# good files beside it are converted, nothing crashes and no temporary or
# partial output is left.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/hostile/common.sh"

mkimg orig/p.jpg 300x200
mkimg orig/p.png 200x150
mkimg orig/p.webp 200x150
if have_saver gif; then
	mkimg orig/p.gif 120x90
else
	hostile gif-anim orig/p.gif 120 90 1
fi

# ---- truncations -------------------------------------------------------------

# FORMAT OFFSET EXPECTED: the first OFFSET bytes (N% of the file, or all but
# the last -OFFSET bytes) of orig/p.FORMAT, walked, give EXPECTED.
#
# Too short for libmagic to see an image, so not an image (skipped, as in
# any walk): 3 bytes of JPEG (FF D8 FF) or GIF ("GIF"); the 8-byte PNG
# signature alone or with the next 4 bytes (libmagic wants the IHDR tag);
# 11 bytes of WebP ("RIFF", a size, "WEB").
#
# Everything else is the start of an image that stops early, down to a
# lone header tag: failed, corrupt.  -2 of a JPEG drops only the EOI
# marker; libjpeg notices when its read-ahead meets the end of the file,
# which depends on the last bytes of scan data: it does for this image
# (mkimg's noise is seeded), and libvips then fails it at fail_on=error.  Cuts in the last 12 bytes of a PNG (the IEND chunk) and
# the GIF trailer byte are left out: every pixel is still there and
# libvips reads those files without complaint.
cat >"$_L/cases" <<'EOF'
jpg 3 skipped not-an-image
jpg 4 failed corrupt
jpg 300 failed corrupt
jpg 25% failed corrupt
jpg 50% failed corrupt
jpg 90% failed corrupt
jpg -2 failed corrupt
png 8 skipped not-an-image
png 12 skipped not-an-image
png 16 failed corrupt
png 30 failed corrupt
png 100 failed corrupt
png 50% failed corrupt
png -13 failed corrupt
png -64 failed corrupt
webp 11 skipped not-an-image
webp 12 failed corrupt
webp 30 failed corrupt
webp 50% failed corrupt
webp 90% failed corrupt
webp -1 failed corrupt
gif 3 skipped not-an-image
gif 4 failed corrupt
gif 13 failed corrupt
gif 300 failed corrupt
gif 50% failed corrupt
gif 90% failed corrupt
gif -2 failed corrupt
EOF

mkimg trunc/good-jpg.jpg 64x48
mkimg trunc/good-png.png 48x64
n_failed=0
n_skipped=0
while read -r fmt off want; do
	name=$fmt-$(printf '%s' "$off" | tr -- '-%' 'mp').$fmt
	hostile trunc "orig/p.$fmt" "trunc/$name" "$off"
	case $want in
	failed*) n_failed=$((n_failed + 1)) ;;
	skipped*) n_skipped=$((n_skipped + 1)) ;;
	esac
done <"$_L/cases"

run -o out trunc
is "$rc" 1 "truncated files among good ones: exit 1" || show_run
M=out/imgbake-manifest.json
is "$(info out/good-jpg.webp)" "64x48 uchar 3 srgb webpload" "the good JPEG is converted"
decodes out/good-jpg.webp
ok $? "the good JPEG's output decodes to the last pixel"
is "$(size out/good-png.webp)" 48x64 "the good PNG is converted"
while read -r fmt off want; do
	name=$fmt-$(printf '%s' "$off" | tr -- '-%' 'mp').$fmt
	mime=$(file -b --mime-type "trunc/$name")
	case $want in
	skipped*) unlike "$mime" '^image/' "precondition: libmagic sees no image in $name ($mime)" ;;
	*) like "$mime" '^image/' "precondition: libmagic sees an image in $name" ;;
	esac
	is "$(sr $M "trunc/$name")" "$want" "$fmt cut at $off: $want"
	[ ! -e "out/${name%.*}.webp" ]
	ok $? "$fmt cut at $off: no output"
done <"$_L/cases"
is "$(files out)" "good-jpg.webp
good-png.webp
imgbake-manifest.json" "nothing but the good outputs and the manifest"
is "$(temps out)" "" "no temporary or partial file"
is "$(printf '%s\n' "$err" | grep -c "^imgbake: cannot convert 'trunc/")" "$n_failed" \
	"one error line per failed file"
like "$(last_line "$err")" "^2 converted, $n_skipped skipped, $n_failed failed " \
	"summary: 2 converted, $n_skipped skipped, $n_failed failed"
is "$(json_get $M '$j->{summary}{converted} . " " . $j->{summary}{skipped} . " " . $j->{summary}{failed}')" \
	"2 $n_skipped $n_failed" "manifest summary counts"
is "$(json_get $M 'join " ", map { $_->{path} } grep { $_->{status} eq "failed" && !length($_->{error} // "") } @{$j->{sources}}')" \
	"" "every failed source has an error text"

# ---- bit flips ---------------------------------------------------------------

# Each format with 1, 8 and 64 bits flipped (a different seed each time);
# whatever the damage, imgbake ends with 0 or 1, a damaged file is either
# converted into an output that decodes or refused for its damage, and no
# temporary is left.
mkdir flips
n=0
for fmt in jpg png webp gif; do
	for bits in 1 8 64; do
		n=$((n + 1))
		hostile flip "orig/p.$fmt" "flips/$fmt-$bits.$fmt" $((n * 7919)) "$bits"
	done
done
mkimg flips/good-jpg.jpg 40x30
mkimg flips/good-png.png 30x40

run_within 60 -j2 -o fout flips
exit_0_or_1 "bit flips: exit 0 or 1, no crash (got $rc)"
M=fout/imgbake-manifest.json
json_ok $M
ok $? "bit flips: the manifest is valid JSON"
is "$(size fout/good-jpg.webp)" 40x30 "bit flips: the good JPEG is converted"
is "$(size fout/good-png.webp)" 30x40 "bit flips: the good PNG is converted"
is "$(temps fout)" "" "bit flips: no temporary or partial file"
for f in flips/*-[0-9]*.*; do
	stem=${f#flips/}
	stem=${stem%.*}
	got=$(sr $M "$f")
	case $got in
	converted)
		size=$(size "fout/$stem.webp")
		want=$(json_get $M "my (\$o) = @{src('$f')->{outputs} || []};
			\$o ? \"\$o->{width}x\$o->{height}\" : 'none'")
		if [ -n "$size" ] && [ "$size" = "$want" ] && decodes "fout/$stem.webp"; then
			pass "$f: converted, the output decodes ($size)"
		else
			fail "$f: converted, the output decodes"
			diag "output size '$size', manifest says '$want'"
		fi
		;;
	"failed corrupt" | "failed limit" | "failed unsupported" | "skipped not-an-image")
		[ ! -e "fout/$stem.webp" ]
		ok $? "$f: $got, no output"
		;;
	*)
		fail "$f: converted, or refused for its damage (got '$got')"
		;;
	esac
done
is "$(cd fout && find . -name '*.webp' | sed 's|^\./||' | sort)" \
	"$(json_get $M '[map { $_->{path} } outs()]' | grep . | sort)" \
	"bit flips: the outputs on disk are those in the manifest"

# The same damage gives the same verdicts at any -j.  The error texts
# are left out: libvips keeps one error buffer per process, and when two
# jobs fail at the same moment one may take the other's message.
run_within 60 -j1 -o fout1 flips
exit_0_or_1 "bit flips at -j1: exit 0 or 1 (got $rc)"
no_errors() {
	json_stable "$1" | perl -ne 'print unless /^\s*"error" : /'
}
no_errors fout/imgbake-manifest.json >"$_L/j2" 2>/dev/null
no_errors fout1/imgbake-manifest.json >"$_L/j1" 2>/dev/null
[ -s "$_L/j1" ] && cmp -s "$_L/j1" "$_L/j2"
ok $? "bit flips: the same manifest at -j1 and -j2" ||
	diag "$(diff "$_L/j1" "$_L/j2" | head -20)"

# ---- --lenient ---------------------------------------------------------------

# libvips recovers the top of a JPEG or PNG cut in half (the rest comes
# out grey or black); it cannot recover a JPEG cut inside its tables, nor
# a WebP cut anywhere, --lenient or not.
mkdir len
hostile trunc orig/p.jpg len/half-jpg.jpg 50%
hostile trunc orig/p.png len/half-png.png 50%
hostile trunc orig/p.jpg len/head-jpg.jpg 300
hostile trunc orig/p.webp len/half-webp.webp 50%
mkimg len/good.jpg 40x30

run -o strict len
is "$rc" 1 "without --lenient: exit 1" || show_run
for f in half-jpg.jpg half-png.png head-jpg.jpg half-webp.webp; do
	is "$(sr strict/imgbake-manifest.json "len/$f")" "failed corrupt" \
		"without --lenient: $f failed, corrupt"
done
is "$(files strict)" "good.webp
imgbake-manifest.json" "without --lenient: only the good file is converted"

run --lenient -o lenient len
is "$rc" 1 "--lenient, two files beyond repair: exit 1" || show_run
M=lenient/imgbake-manifest.json
for f in half-jpg.jpg:300x200 half-png.png:200x150; do
	size=${f#*:}
	f=${f%:*}
	is "$(sr $M "len/$f")" converted "--lenient: $f converted"
	is "$(json_get $M "my \$w = src('len/$f')->{warnings};
		ref \$w eq 'ARRAY' && @\$w && !grep({ ref || !length } @\$w) ? 'strings' : 'no'")" \
		strings "--lenient: $f has a non-empty \"warnings\" array of strings"
	is "$(size "lenient/${f%.*}.webp")" "$size" "--lenient: $f's output has the full size"
	decodes "lenient/${f%.*}.webp"
	ok $? "--lenient: $f's output decodes"
done
is "$(sr $M len/good.jpg)" converted "--lenient: the intact file is converted"
is "$(json_get $M 'exists src("len/good.jpg")->{warnings} ? "warnings" : "none"')" none \
	"--lenient: no warnings for an intact file"
for f in head-jpg.jpg half-webp.webp; do
	is "$(sr $M "len/$f")" "failed corrupt" "--lenient: $f is beyond repair: failed, corrupt"
	[ ! -e "lenient/${f%.*}.webp" ]
	ok $? "--lenient: no output for $f"
done
is "$(temps lenient)" "" "--lenient: no temporary file"
mkdir lencopy && cp len/half-png.png lencopy/a.png && cp len/half-png.png lencopy/b.png
run --lenient -o lencopy/out lencopy
is "$(json_get lencopy/out/imgbake-manifest.json 'scalar grep { $_->{warnings} } @{$j->{sources}}')" 2 \
	"--lenient: an identical copy of a damaged file records the damage too"
warned=$(json_get $M "join '|', @{src('len/half-png.png')->{warnings}}")
run --lenient -o lenient len
is "$(json_get $M "src('len/half-png.png')->{status} . ' ' .
	join '|', @{src('len/half-png.png')->{warnings} || []}")" "up-to-date $warned" \
	"the next run with --lenient: up to date, the warning kept"
# a strict run takes no damage for granted: the source fails, and what
# --lenient made of it stays, as for any failure
run -o lenient len
is "$rc" 1 "a strict run after --lenient: exit 1" || show_run
is "$(sr $M len/half-png.png)" "failed corrupt" "a strict run after --lenient: the damaged source fails"
is "$(json_get $M "join ' ', map { \$_->{path} } @{src('len/half-png.png')->{outputs}}")" \
	half-png.webp "a strict run after --lenient: the output made before is kept, and recorded"
is "$(size lenient/half-png.webp)" 200x150 "a strict run after --lenient: ... and on disk"
is "$(sr $M len/good.jpg)" up-to-date "a strict run after --lenient: an intact source is up to date"

# Damaged entropy data in a JPEG: libjpeg only warns ("Corrupt JPEG data:
# bad Huffman code") and decodes garbage.  Strict, it fails; --lenient
# converts it, with the complaint.
mkdir huff
vips xyz "$_L/xyz.v" 300 200 && vips extract_band "$_L/xyz.v" "$_L/x.v" 0 &&
	vips bandjoin "$_L/x.v $_L/x.v $_L/x.v" "$_L/x3.v" &&
	vips cast "$_L/x3.v" "$_L/ramp.jpg" uchar
n=0
warns=1
while [ $n -lt 20 ] && [ $warns -ne 0 ]; do
	n=$((n + 1))
	hostile flip "$_L/ramp.jpg" huff/p.jpg $((n * 104729)) 10
	! vips avg huff/p.jpg'[fail_on=warning]' >/dev/null 2>&1 &&
		vips avg huff/p.jpg >/dev/null 2>&1
	warns=$?
done
ok $warns "a JPEG libjpeg decodes with a warning (seed $((n * 104729)))"
run -o hout huff
is "$rc" 1 "damaged entropy data: exit 1" || show_run
is "$(sr hout/imgbake-manifest.json huff/p.jpg)" "failed corrupt" "... failed, corrupt"
like "$err" "cannot convert 'huff/p\\.jpg': decode: .*Corrupt JPEG data" "... said so"
run --lenient -o hout2 huff
is "$rc" 0 "damaged entropy data, --lenient: exit 0" || show_run
like "$(json_get hout2/imgbake-manifest.json 'src("huff/p.jpg")->{warnings}[0]')" \
	"Corrupt JPEG data" "... converted, with the complaint"

done_testing
