#!/bin/sh
# End-to-end batch benchmark for imgbake: convert a corpus of real images
# to WebP and AVIF at three widths, time it, and check every output.
#
#   scripts/bench-batch.sh [CORPUS_DIR]
#
# CORPUS_DIR defaults to ${TMPDIR:-/tmp}/imgbake-corpus and is built with
# scripts/corpus.sh when missing.  IMGBAKE names the binary (default
# ./imgbake at the repository top).  Every output in the manifest must
# decode at the recorded size, be no wider than its source, and be one of
# the asked widths or the source width; the script exits 1 otherwise, or
# when imgbake itself does not exit 0.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
corpus=${1:-${TMPDIR:-/tmp}/imgbake-corpus}
imgbake=${IMGBAKE:-./imgbake}
widths='480 960 1920'

for tool in jq vipsheader /usr/bin/time; do
	command -v "$tool" >/dev/null || {
		echo "bench-batch.sh: $tool not found (scripts/deps.sh bench installs it)" >&2
		exit 2
	}
done
case $imgbake in
/*) ;;
*) imgbake=$top/${imgbake#./} ;;
esac
[ -x "$imgbake" ] || { echo "bench-batch.sh: no executable '$imgbake' (run make)" >&2; exit 2; }

if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
	sh "$top/scripts/corpus.sh" "$corpus"
fi
corpus=$(cd "$corpus" && pwd)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/imgbake-bench.XXXXXX")
keep=
trap '[ -n "$keep" ] || rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
out=$scratch/out

echo "bench-batch: $imgbake -j2 -f webp,avif -w 480,960,1920 -o OUT $corpus"
status=0
(cd "$top" && /usr/bin/time -v -o "$scratch/time" \
	"$imgbake" -j2 -f webp,avif -w 480,960,1920 -o "$out" "$corpus") \
	2>"$scratch/stderr" || status=$?
[ -s "$scratch/stderr" ] && sed 's/^/  imgbake: /' "$scratch/stderr" | tail -n 5

# "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.34" -> seconds.
wall=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$scratch/time" |
	awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }')
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$scratch/time")
cpu_s=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$scratch/time")

manifest=$out/imgbake-manifest.json
if [ ! -s "$manifest" ] || ! jq -e . "$manifest" >/dev/null 2>&1; then
	echo "bench-batch: FAIL: no readable manifest at $manifest" >&2
	echo "exit status  $status"
	exit 1
fi

# One line per source ("S path status width height reason") and per
# output ("O source path format width height").
jq -r '.sources[] |
	(["S", .path, .status, (.width // ""), (.height // ""), (.reason // "")] | @tsv),
	(.path as $src | (.outputs // [])[] |
		["O", $src, .path, .format, .width, .height] | @tsv)' \
	"$manifest" >"$scratch/records"

# Width and height of a source as displayed (EXIF orientations 5-8 swap them).
display_size() {
	w=$(vipsheader -f width "$1" 2>/dev/null) || return 1
	h=$(vipsheader -f height "$1" 2>/dev/null) || return 1
	o=$(vipsheader -f orientation "$1" 2>/dev/null) || o=1
	case $o in
	5|6|7|8) echo "$h $w" ;;
	*) echo "$w $h" ;;
	esac
}

fail() {
	echo "bench-batch: FAIL: $*" >&2
	failures=$((failures + 1))
}

failures=0
tab=$(printf '\t')
: >"$scratch/sizes"
while IFS=$tab read -r kind a b c d e; do
	case $kind in
	S)	src=$a
		case $src in /*) ;; *) src=$top/$src ;; esac
		if ! size=$(display_size "$src"); then
			fail "source '$a' does not decode"
			continue
		fi
		# shellcheck disable=SC2086
		printf '%s\t%s\t%s\n' "$a" $size >>"$scratch/sizes"
		[ "$b" = converted ] || fail "source '$a' is $b ($e)"
		;;
	O)	src_w='' src_h=''
		# shellcheck disable=SC2034
		while IFS=$tab read -r p sw sh; do
			[ "$p" = "$a" ] && { src_w=$sw; src_h=$sh; }
		done <"$scratch/sizes"
		[ -n "$src_w" ] || { fail "output '$b' of unknown source '$a'"; continue; }
		file=$out/$b
		# "FILE: 960x640 uchar, 3 bands, srgb, webpload"
		if ! info=$(vipsheader "$file" 2>/dev/null); then
			fail "output '$b' does not decode"
			continue
		fi
		info=${info##*: }
		dims=${info%% *}
		got_w=${dims%x*}
		got_h=${dims#*x}
		loader=${info##*, }
		[ "$got_w" = "$d" ] && [ "$got_h" = "$e" ] ||
			fail "output '$b' is ${got_w}x$got_h, manifest says ${d}x$e"
		[ "$d" -le "$src_w" ] || fail "output '$b' is $d wide, source only $src_w"
		case " $widths $src_w " in
		*" $d "*) ;;
		*) fail "output '$b' width $d is neither asked for nor the source width" ;;
		esac
		# Height should follow the source aspect ratio, give or take rounding.
		want_h=$(( (src_h * d * 2 + src_w) / (src_w * 2) ))
		[ $(( got_h - want_h )) -le 1 ] && [ $(( want_h - got_h )) -le 1 ] ||
			fail "output '$b' is ${got_w}x$got_h, expected height $want_h from ${src_w}x$src_h"
		case $c:$loader in
		webp:webpload|avif:heifload) ;;
		*) fail "output '$b' recorded as $c but loads with $loader" ;;
		esac
		printf '%s\t%s\t%s\n' "$a" "$d" "$c" >>"$scratch/made"
		;;
	esac
done <"$scratch/records"

# Each converted source should have exactly the widths it is owed, per format.
touch "$scratch/made"
while IFS=$tab read -r p sw sh; do
	owed=
	for w in $widths; do
		[ "$w" -le "$sw" ] && owed="$owed $w"
	done
	[ -n "$owed" ] || owed=" $sw"
	for fmt in webp avif; do
		for w in $owed; do
			grep -qxF "$p$tab$w$tab$fmt" "$scratch/made" || fail "source '$p' has no $fmt output at width $w"
		done
	done
done <"$scratch/sizes"

images=$(jq '.sources | length' "$manifest")
converted=$(jq '[.sources[] | select(.status == "converted")] | length' "$manifest")
outputs=$(jq '[.sources[].outputs // [] | length] | add // 0' "$manifest")
awk -F'\t' -v images="$images" -v converted="$converted" -v outputs="$outputs" \
	-v wall="$wall" -v cpu="$cpu_s" -v rss="$rss_kb" -v status="$status" -v failures="$failures" '
	{ mp += $2 * $3 / 1e6 }
	END {
		printf "images       %d (%d converted)\n", images, converted
		printf "outputs      %d\n", outputs
		printf "source MP    %.1f\n", mp
		printf "wall s       %.2f\n", wall
		printf "CPU s        %.1f (%.0f%% of wall)\n", cpu, (wall > 0 ? 100 * cpu / wall : 0)
		printf "images/s     %.2f\n", (wall > 0 ? images / wall : 0)
		printf "MP/s         %.2f\n", (wall > 0 ? mp / wall : 0)
		printf "peak RSS MB  %.1f\n", rss / 1024
		printf "exit status  %d\n", status
		printf "verify       %s\n", failures ? failures " failure(s)" : "ok"
	}' "$scratch/sizes"

if [ "$failures" -ne 0 ] || [ "$status" -ne 0 ]; then
	keep=1
	echo "bench-batch: outputs kept in $out" >&2
	exit 1
fi
