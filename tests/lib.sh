# Shared helpers for the imgbake end-to-end tests.
#
# Every tests/tNNNN-topic.sh script starts with
#
#	#!/bin/sh
#	. "$(dirname "$0")/lib.sh"
#
# and ends with `done_testing`.  Sourcing this file sets
#
#	TOP      the top of the repository (found from the script's location)
#	IMGBAKE  the binary under test; override with IMGBAKE=/path/to/imgbake
#	T        a scratch directory private to the script, removed on exit;
#	         the script runs with T as its current directory
#
# and provides TAP helpers (ok, is, isnt, like, unlike, cmp_ok, pass, fail,
# diag, skip_all, done_testing), `run` to call imgbake with its output
# captured, image makers built on the vips CLI (mkimg, mkexif, mkalpha,
# mkcmyk, mk16) and manifest readers built on perl's JSON::PP (json_ok,
# json_get).  The first digit of a script's number is its family: 0 CLI
# basics, 1 inputs and walk, 2 plan, 3 convert, 4 parallel, 5 manifest,
# 6 hostile input.

TOP=$(cd "$(dirname "$0")/.." && pwd) || exit 1
IMGBAKE=${IMGBAKE:-$TOP/imgbake}
case $IMGBAKE in
/*) ;;
*/*) IMGBAKE=$(pwd)/$IMGBAKE ;;
esac

LC_ALL=C
export LC_ALL

# T is what the tests see; the helpers keep their own files in a second
# directory so that "nothing else was written" checks on T stay exact.
T=$(mktemp -d "${TMPDIR:-/tmp}/imgbake-test.XXXXXX") || exit 1
_L=$(mktemp -d "${TMPDIR:-/tmp}/imgbake-lib.XXXXXX") || exit 1
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T" "$_L"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$T" || exit 1

_tap_n=0
_tap_failed=0

# ---- TAP ------------------------------------------------------------------

# diag LINE...: print each LINE as TAP diagnostics ("# " in front), on stderr.
diag() {
	for _dl in "$@"; do
		printf '%s\n' "$_dl"
	done | sed 's/^/# /' >&2
}

# _tap_result STATUS DESCRIPTION: the one place that numbers and prints a test.
_tap_result() {
	_tap_n=$((_tap_n + 1))
	_tap_desc=$(printf '%s' "$2" | tr '\n#' ' _')
	if [ "$1" -eq 0 ]; then
		printf 'ok %d - %s\n' "$_tap_n" "$_tap_desc"
		return 0
	fi
	printf 'not ok %d - %s\n' "$_tap_n" "$_tap_desc"
	_tap_failed=$((_tap_failed + 1))
	return 1
}

# ok STATUS DESCRIPTION: passes when STATUS is 0, as in
#	[ -f out/a.webp ]; ok $? "a.webp written"
ok() {
	_tap_result "$1" "$2"
}

pass() { _tap_result 0 "$1"; }

fail() { _tap_result 1 "$1"; }

# skip REASON: a test that cannot run here, counted as passed.
skip() {
	_tap_n=$((_tap_n + 1))
	printf 'ok %d # skip %s\n' "$_tap_n" "$1"
}

# is GOT WANT DESCRIPTION: string equality.
is() {
	if [ "x$1" = "x$2" ]; then
		_tap_result 0 "$3"
		return 0
	fi
	_tap_result 1 "$3"
	diag "     got: '$1'" "expected: '$2'"
	return 1
}

# isnt GOT UNWANTED DESCRIPTION: string inequality.
isnt() {
	if [ "x$1" != "x$2" ]; then
		_tap_result 0 "$3"
		return 0
	fi
	_tap_result 1 "$3"
	diag "     got: '$1'" "expected anything else"
	return 1
}

# like GOT ERE DESCRIPTION: some line of GOT matches the extended regex ERE.
like() {
	if printf '%s\n' "$1" | grep -Eq -e "$2"; then
		_tap_result 0 "$3"
		return 0
	fi
	_tap_result 1 "$3"
	diag "     got: '$1'" "expected a line matching: /$2/"
	return 1
}

# unlike GOT ERE DESCRIPTION: no line of GOT matches ERE.
unlike() {
	if ! printf '%s\n' "$1" | grep -Eq -e "$2"; then
		_tap_result 0 "$3"
		return 0
	fi
	_tap_result 1 "$3"
	diag "     got: '$1'" "expected no line matching: /$2/"
	return 1
}

# cmp_ok A OP B DESCRIPTION: integer comparison with test(1)'s OP (-eq, -lt...).
cmp_ok() {
	if [ "$1" "$2" "$3" ] 2>/dev/null; then
		_tap_result 0 "$4"
		return 0
	fi
	_tap_result 1 "$4"
	diag "expected: '$1' $2 '$3'"
	return 1
}

# skip_all REASON: the whole script does not apply here.
skip_all() {
	printf '1..0 # SKIP %s\n' "$*"
	exit 0
}

# done_testing: print the plan; exit non-zero if any test failed.
done_testing() {
	printf '1..%d\n' "$_tap_n"
	if [ "$_tap_failed" -ne 0 ]; then
		diag "failed $_tap_failed of $_tap_n tests"
		exit 1
	fi
	exit 0
}

# ---- running imgbake --------------------------------------------------------

if ! [ -x "$IMGBAKE" ] && ! command -v "$IMGBAKE" >/dev/null 2>&1; then
	printf 'Bail out! no imgbake binary at %s (run make first)\n' "$IMGBAKE"
	exit 1
fi

# run ARG...: run imgbake with ARG... (stdin inherited), with a time limit so
# that a hang fails the test instead of the suite.  Sets rc, out and err
# (stdout and stderr without their final newlines); the exact bytes are in
# the files named by $OUT and $ERR.
OUT=$_L/stdout
ERR=$_L/stderr
run() {
	timeout -k 5 120 "$IMGBAKE" "$@" >"$OUT" 2>"$ERR"
	rc=$?
	out=$(cat "$OUT")
	err=$(cat "$ERR")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		diag "imgbake $* timed out"
	fi
	return 0
}

# as_unprivileged: root ignores permission bits, so a test of them runs
# imgbake as nobody.  Sets AS_USER to the command prefix that does so
# ("" when not root); returns 1 when that cannot be done here (root
# without setpriv, or a binary nobody may not run).
as_unprivileged() {
	AS_USER=
	[ "$(id -u)" -ne 0 ] && return 0
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$IMGBAKE" 2>/dev/null ||
		return 1
	AS_USER="setpriv --reuid=65534 --regid=65534 --clear-groups"
}

# last_line TEXT: the last line of TEXT.
last_line() {
	printf '%s\n' "$1" | tail -n 1
}

# show_run: diagnostics about the last `run`, for a failure's context.
show_run() {
	diag "exit status: $rc" "stdout:" "$out" "stderr:" "$err"
}

# temps DIR: list anything under DIR that looks like a temporary or partial
# output; the list must always be empty.
temps() {
	find "$1" \( -name '*.tmp*' -o -name '.imgbake*' -o -name '*.imgbake-*' -o -name '*~' \
		-o -name '*.part' -o -name '*.partial' \) -print
}

# wait_for FILE: until FILE exists (a background helper says it is
# ready), ten seconds at most.
wait_for() {
	_i=0
	while [ $_i -lt 100 ] && [ ! -e "$1" ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# files DIR: every regular file under DIR as a sorted list of paths relative
# to DIR.
files() {
	(cd "$1" && find . -type f | sed 's|^\./||' | sort)
}

# ---- images -------------------------------------------------------------------

_seed=0

# _mkparent PATH: create the directory that will hold PATH.
_mkparent() {
	case $1 in
	*/*) mkdir -p "${1%/*}" ;;
	esac
}

# _base BANDS: make $_L/baseBANDS.v, a 400x400 noise image that mkimg crops
# from; each vips call costs tens of milliseconds, so it is made once.
_base() {
	[ -f "$_L/base$1.v" ] && return 0
	[ -f "$_L/noise.v" ] ||
		vips gaussnoise "$_L/noise.v" 400 400 --sigma 50 --seed 1 || return 1
	_noise_to "$_L/noise.v" "$_L/base$1.v" "$1"
}

# _noise_to NOISE OUT BANDS: scale 1-band float NOISE into OUT with BANDS
# bands of uchar; an alpha band is a constant 200, neither opaque (which
# WebP would drop) nor invisible.
_noise_to() {
	case $3 in
	1) _a=1 _b=0 _i=b-w ;;
	2) _a='1 0' _b='0 200' _i=b-w ;;
	3) _a='1 0.8 0.6' _b='0 30 60' _i=srgb ;;
	4) _a='1 0.8 0.6 0' _b='0 30 60 200' _i=srgb ;;
	*) diag "mkimg: bad band count '$3'"; return 1 ;;
	esac
	vips linear "$1" "$_L/lin.v" "$_a" "$_b" --uchar &&
		vips copy "$_L/lin.v" "$2" --interpretation "$_i"
}

# mkimg PATH WxH [BANDS]: a noise image of WxH pixels saved by vips to PATH
# (its suffix picks the format).  BANDS: 1 grey, 2 grey+alpha, 3 RGB
# (default), 4 RGBA.  Successive calls give different pixels.
mkimg() {
	_w=${2%x*}
	_h=${2#*x}
	_seed=$((_seed + 1))
	_mkparent "$1"
	if [ "$_w" -gt 400 ] || [ "$_h" -gt 400 ]; then
		vips gaussnoise "$_L/big.v" "$_w" "$_h" --sigma 50 \
			--seed "$_seed" &&
			_noise_to "$_L/big.v" "$1" "${3:-3}" 2>/dev/null
		return
	fi
	_base "${3:-3}" || return 1
	vips crop "$_L/base${3:-3}.v" "$1" \
		$((_seed * 37 % (401 - _w))) $((_seed * 53 % (401 - _h))) \
		"$_w" "$_h" 2>/dev/null
}

# _bars WxH: a 3-band image in $_L/bars.v, white in the left third of the
# width, black elsewhere; orientation tests read which side the white went to.
_bars() {
	vips xyz "$_L/xyz.v" "${1%x*}" "${1#*x}" &&
		vips extract_band "$_L/xyz.v" "$_L/x.v" 0 &&
		vips relational_const "$_L/x.v" "$_L/mask.v" less $((${1%x*} / 3)) &&
		vips linear "$_L/mask.v" "$_L/m3.v" '1 1 1' '0 0 0' --uchar &&
		vips copy "$_L/m3.v" "$_L/bars.v" --interpretation srgb
}

# mkexif PATH WxH ORIENTATION: a JPEG of the stored size WxH (white left
# third, black rest) with EXIF orientation ORIENTATION (1-8).  The vips CLI
# cannot set a header field, but it reads a .v file's XML extension, and
# jpegsave writes the "orientation" field into the EXIF block.
mkexif() {
	_mkparent "$1"
	_bars "$2" || return 1
	perl -0pi -e 's{<meta>}{<meta>\n    <field type="gint" name="orientation">'"$3"'</field>}' \
		"$_L/bars.v" || return 1
	vips copy "$_L/bars.v" "$1"
}

# mkalpha PATH WxH: RGBA, colour (0,0,255) everywhere; the left half fully
# transparent, the right half opaque.
mkalpha() {
	_mkparent "$1"
	vips xyz "$_L/xyz.v" "${2%x*}" "${2#*x}" &&
		vips extract_band "$_L/xyz.v" "$_L/x.v" 0 &&
		vips relational_const "$_L/x.v" "$_L/alpha.v" moreeq $((${2%x*} / 2)) &&
		vips linear "$_L/alpha.v" "$_L/rgba.v" '0 0 0 1' '0 0 255 0' --uchar &&
		vips copy "$_L/rgba.v" "$1" --interpretation srgb
}

# mkcmyk PATH WxH: a 4-band CMYK JPEG (no embedded profile).
mkcmyk() {
	_mkparent "$1"
	mkimg "$_L/rgb.v" "$2" 3 &&
		vips icc_export "$_L/rgb.v" "$_L/cmyk.v" --output-profile cmyk &&
		vips copy "$_L/cmyk.v" "$1[strip]"
}

# mk16 PATH WxH: a 16-bit RGB PNG.
mk16() {
	_mkparent "$1"
	mkimg "$_L/rgb.v" "$2" 3 &&
		vips linear "$_L/rgb.v" "$_L/wide.v" 257 0 &&
		vips cast "$_L/wide.v" "$_L/us.v" ushort &&
		vips copy "$_L/us.v" "$1" --interpretation rgb16
}

# info FILE: "WxH FORMAT BANDS INTERPRETATION LOADER" of an image, from one
# vipsheader call, e.g. "300x200 uchar 3 srgb webpload"; nothing if it does
# not load.
info() {
	vipsheader "$1" 2>/dev/null | perl -ne \
		'print "$1x$2 $3 $4 $5 $6\n" if /: (\d+)x(\d+) (\w+), (\d+) bands?, ([\w-]+), (\w+)$/'
}

# hdr FILE FIELD: one header field as vipsheader prints it (empty if none).
hdr() {
	vipsheader -f "$2" "$1" 2>/dev/null
}

# size FILE: WxH of an image, or nothing if it does not load.
size() {
	info "$1" | cut -d' ' -f1
}

# pixel FILE X Y: the band values at (X, Y), space-separated.
pixel() {
	vips getpoint "$1" "$2" "$3" 2>/dev/null | sed 's/ *$//'
}

# near GOT WANT TOLERANCE: every band of pixel GOT is within TOLERANCE of WANT.
near() {
	perl -e 'my @g = split " ", $ARGV[0]; my @w = split " ", $ARGV[1];
		exit 1 if @g != @w;
		for (0 .. $#g) { exit 1 if abs($g[$_] - $w[$_]) > $ARGV[2] }
		exit 0' "$1" "$2" "$3"
}

# pixel_near FILE X Y WANT TOLERANCE DESCRIPTION
pixel_near() {
	_px=$(pixel "$1" "$2" "$3")
	near "$_px" "$4" "$5"
	ok $? "$6" || diag "pixel ($2,$3) of $1 is '$_px', expected '$4' +-$5"
}

# have_saver SUFFIX: vips can write files ending in SUFFIX here.
have_saver() {
	vips black "$_L/probe.$1" 8 8 >/dev/null 2>&1
}

# ---- manifest -----------------------------------------------------------------

# The perl side of json_get: loads FILE, then evaluates EXPR with $j the
# decoded document and two helpers, src(PATH) (the source record with that
# path, or undef) and outs() (every output record, in manifest order).
# Booleans print as true/false, arrays one element per line; the status is
# 1 when EXPR gives nothing or undef.
_json_pl='
use strict;
use warnings;
use JSON::PP;
my ($file, $expr) = @ARGV;
open my $fh, "<:raw", $file or die "json_get: $file: $!\n";
my $text = do { local $/; <$fh> };
our $j = JSON::PP->new->utf8->decode($text);
sub src { my $p = shift; for (@{$j->{sources} || []}) { return $_ if $_->{path} eq $p } return undef }
sub outs { map { @{$_->{outputs} || []} } @{$j->{sources} || []} }
my @v = eval $expr;
die "json_get: $expr: $@" if $@;
exit 1 if !@v || (@v == 1 && !defined $v[0]);
binmode STDOUT, ":utf8";
sub show {
	my $v = shift;
	return "null" if !defined $v;
	return $v ? "true" : "false" if JSON::PP::is_bool($v);
	return join("\n", map { show($_) } @$v) if ref $v eq "ARRAY";
	return JSON::PP->new->canonical->encode($v) if ref $v;
	return $v;
}
print show($_), "\n" for @v;
'

# json_get FILE EXPR: print the value of perl expression EXPR over the
# manifest FILE, e.g.  json_get out/imgbake-manifest.json '$j->{summary}{failed}'
#                      json_get M 'src("src/a.jpg")->{reason}'
json_get() {
	perl -e "$_json_pl" "$1" "$2"
}

# json_ok FILE: FILE is one valid JSON document.
json_ok() {
	perl -MJSON::PP -e 'open my $f, "<:raw", $ARGV[0] or exit 1;
		local $/; JSON::PP->new->utf8->decode(<$f>); exit 0' "$1" 2>/dev/null
}

# json_stable FILE: the manifest in canonical form without
# summary.memory, the one part (budget, measured peak RSS) that may
# differ between two runs that produce the same outputs.
json_stable() {
	perl -MJSON::PP -e 'local $/; my $c = JSON::PP->new->canonical->pretty;
		my $m = $c->decode(<STDIN>); delete $m->{summary}{memory};
		print $c->encode($m)' <"$1"
}
