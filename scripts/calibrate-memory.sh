#!/bin/sh
# Calibrate imgbake's per-job memory estimate against measured peak RSS.
#
#   scripts/calibrate-memory.sh
#
# Converts each input alone (-j1 -v) with each output recipe under
# /usr/bin/time and compares the measured growth (peak RSS minus the
# baseline, the median peak of three runs over one 64x64 JPEG) with the
# estimate on imgbake's -v line.  Inputs are the real photos of
# scripts/corpus.sh plus variants made from them with vips (baseline and
# progressive, grey, CMYK and EXIF-rotated JPEG; plain, interlaced, RGBA,
# grey and 16-bit PNG; WebP with and without alpha; AVIF; 0.3 to 40 MP),
# built once under ${TMPDIR:-/tmp}/imgbake-calibrate-memory and reused.
# Full-size AVIF, the slow recipe, runs on inputs up to 9 MP and on four
# large ones.  Writes scripts/calibration/memory.tsv (MB = 1e6 bytes,
# ratio = measured / estimate) and prints a summary.  IMGBAKE names the
# binary (default ./imgbake at the repository top).  Exits 1 when a
# conversion fails, 2 when a tool is missing.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
imgbake=${IMGBAKE:-./imgbake}
inputs=${TMPDIR:-/tmp}/imgbake-calibrate-memory
tsv=$top/scripts/calibration/memory.tsv

[ $# -eq 0 ] || { echo "usage: scripts/calibrate-memory.sh" >&2; exit 2; }
die() {
	echo "calibrate-memory.sh: $*" >&2
	exit 2
}
for tool in vips vipsheader awk /usr/bin/time; do
	command -v "$tool" >/dev/null || die "$tool not found (scripts/deps.sh installs it)"
done
case $imgbake in
/*) ;;
*) imgbake=$top/${imgbake#./} ;;
esac
[ -x "$imgbake" ] || die "no executable '$imgbake' (run make)"

export LC_ALL=C
scratch=$(mktemp -d "${TMPDIR:-/tmp}/imgbake-calibrate-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A copy, so that a rebuild during the run cannot mix two builds.
cp "$imgbake" "$scratch/imgbake"
imgbake=$scratch/imgbake
start_all=$(date +%s)
progress() { echo "calibrate-memory: $*" >&2; }

# --- inputs ---------------------------------------------------------------

mkdir -p "$inputs"
if [ ! -d "$inputs/corpus" ] || [ -z "$(ls -A "$inputs/corpus")" ]; then
	progress "building the photo corpus"
	sh "$top/scripts/corpus.sh" "$inputs/corpus" 24 >&2
fi

# dims FILE: set w and h to the size of image FILE.
dims() {
	w=$(vipsheader -f width "$1")
	h=$(vipsheader -f height "$1")
}

# Real photos, largest first: JPEGs (3 bands) and PNGs with alpha.
real_by_size() {
	find "$inputs/corpus" -type f -name "*.$1" ! -path '*/derived/*' | sort |
		while IFS= read -r f; do
			[ "$(vipsheader -f bands "$f")" = "$2" ] || continue
			dims "$f"
			printf '%s\t%s\n' $(( w * h )) "$f"
		done | sort -t "$(printf '\t')" -k1,1nr -k2,2 | cut -f2
}
real_by_size jpg 3 >"$scratch/photos"
real_by_size png 4 >"$scratch/alpha"
[ -s "$scratch/photos" ] || die "no JPEG photos in $inputs/corpus"
photo1=$(sed -n 1p "$scratch/photos")
photo2=$(sed -n 2p "$scratch/photos")
photo3=$(sed -n 3p "$scratch/photos")
alpha=$(sed -n 1p "$scratch/alpha")
: "${photo2:=$photo1}" "${photo3:=$photo1}" "${alpha:=$photo1}"

# base TAG SRC MP: $scratch/TAG-MP.v, SRC scaled to about MP megapixels,
# made once; sets v to its path.
base() {
	v=$scratch/$1-$3.v
	[ -e "$v" ] && return 0
	dims "$2"
	vips resize "$2" "$v" "$(awk -v w="$w" -v h="$h" -v mp="$3" \
		'BEGIN { printf "%.6f", sqrt(mp * 1e6 / (w * h)) }')"
}

# The uncompressed .v file $1 (8-bit, $2 bands) rewritten to carry EXIF
# orientation $3 in its XML trailer, which savers write as the EXIF tag.
orient() {
	dims "$1"
	head -c $(( 64 + w * h * $2 )) "$1" >"$scratch/orient.v"
	printf '%s\n' '<?xml version="1.0"?>' \
		"<root xmlns=\"http://www.vips.ecs.soton.ac.uk/vips/$(vips --version | sed 's/^vips-\([0-9.]*\).*/\1/')\">" \
		'  <header>' '  </header>' '  <meta>' \
		"    <field type=\"gint\" name=\"orientation\">$3</field>" \
		'  </meta>' '</root>' >>"$scratch/orient.v"
	mv "$scratch/orient.v" "$1"
}

# variant NAME MP: make variants/NAME (kind from the name) at about MP
# megapixels unless it exists.
variant() {
	dst=$inputs/variants/$1
	[ -e "$dst" ] && return 0
	tmp=$scratch/new.${1##*.}
	case $1 in
	jpeg-prog-*) base p2 "$photo2" "$2"; vips jpegsave "$v" "$tmp" --Q 85 --interlace ;;
	jpeg-grey-*) base p3 "$photo3" "$2"
		vips colourspace "$v" "$scratch/grey.v" b-w
		vips jpegsave "$scratch/grey.v" "$tmp" --Q 85 ;;
	jpeg-cmyk-*) base p3 "$photo3" "$2"
		vips icc_export "$v" "$scratch/cmyk.v" --output-profile cmyk
		vips jpegsave "$scratch/cmyk.v" "$tmp" --Q 85 ;;
	jpeg-exif6-*) base p1 "$photo1" "$2"
		vips rot "$v" "$scratch/rot.v" d270
		orient "$scratch/rot.v" 3 6
		vips jpegsave "$scratch/rot.v" "$tmp" --Q 85 ;;
	jpeg-*) base p1 "$photo1" "$2"; vips jpegsave "$v" "$tmp" --Q 85 ;;
	png-interlaced-rgba-*) base alpha "$alpha" "$2"; vips pngsave "$v" "$tmp" --interlace ;;
	png-interlaced-*) base p2 "$photo2" "$2"; vips pngsave "$v" "$tmp" --interlace ;;
	png-rgba-*) base alpha "$alpha" "$2"; vips pngsave "$v" "$tmp" ;;
	png-grey-*) base p3 "$photo3" "$2"
		vips colourspace "$v" "$scratch/grey.v" b-w
		vips pngsave "$scratch/grey.v" "$tmp" ;;
	png-16bit-*) base p1 "$photo1" "$2"
		vips linear "$v" "$scratch/lin.v" 257 0
		vips cast "$scratch/lin.v" "$scratch/cast.v" ushort
		vips copy "$scratch/cast.v" "$scratch/rgb16.v" --interpretation rgb16
		vips pngsave "$scratch/rgb16.v" "$tmp" ;;
	png-*) base p1 "$photo1" "$2"; vips pngsave "$v" "$tmp" ;;
	webp-rgba-*) base alpha "$alpha" "$2"; vips webpsave "$v" "$tmp" --Q 80 ;;
	webp-*) base p3 "$photo3" "$2"; vips webpsave "$v" "$tmp" --Q 80 ;;
	avif-*) base p2 "$photo2" "$2"; vips heifsave "$v" "$tmp" --Q 50 --compression av1 --effort 2 ;;
	*) die "unknown variant $1" ;;
	esac
	mv "$tmp" "$dst"
}

mkdir -p "$inputs/variants"
if [ ! -s "$inputs/tiny.jpg" ]; then
	vips thumbnail "$photo1" "$scratch/tiny.jpg[Q=85,strip]" 64 --height 64 --crop centre
	mv "$scratch/tiny.jpg" "$inputs/tiny.jpg"
fi
# name megapixels
cat >"$scratch/variants" <<'EOF'
jpeg-0.3mp.jpg 0.3
jpeg-1mp.jpg 1
jpeg-3mp.jpg 3
jpeg-8mp.jpg 8
jpeg-16mp.jpg 16
jpeg-24mp.jpg 24
jpeg-40mp.jpg 40
jpeg-prog-0.3mp.jpg 0.3
jpeg-prog-3mp.jpg 3
jpeg-prog-8mp.jpg 8
jpeg-prog-16mp.jpg 16
jpeg-prog-40mp.jpg 40
jpeg-grey-3mp.jpg 3
jpeg-grey-24mp.jpg 24
jpeg-cmyk-3mp.jpg 3
jpeg-exif6-3mp.jpg 3
jpeg-exif6-24mp.jpg 24
png-1mp.png 1
png-8mp.png 8
png-24mp.png 24
png-interlaced-1mp.png 1
png-interlaced-8mp.png 8
png-interlaced-24mp.png 24
png-interlaced-rgba-3mp.png 3
png-rgba-0.3mp.png 0.3
png-rgba-3mp.png 3
png-rgba-8mp.png 8
png-rgba-16mp.png 16
png-grey-1mp.png 1
png-grey-8mp.png 8
png-16bit-3mp.png 3
webp-1mp.webp 1
webp-8mp.webp 8
webp-24mp.webp 24
webp-rgba-3mp.webp 3
avif-1mp.avif 1
avif-8mp.avif 8
EOF
missing=0
while read -r name mp; do
	[ -e "$inputs/variants/$name" ] || missing=$(( missing + 1 ))
done <"$scratch/variants"
[ "$missing" -eq 0 ] || progress "making $missing variants"
while read -r name mp; do
	variant "$name" "$mp"
done <"$scratch/variants"
rm -f "$scratch"/*.v

# The inputs, relative to $inputs: the tiny image, the real images of the
# corpus, then the variants.
{
	echo tiny.jpg
	(cd "$inputs" && find corpus -type f ! -path '*/derived/*' | sort)
	while read -r name mp; do
		echo "variants/$name"
	done <"$scratch/variants"
} >"$scratch/files"

# --- measuring ------------------------------------------------------------

# measure FILE OPTIONS...: one imgbake -j1 -v run; sets peak_kb and est
# (MB, empty when the -v line has none); returns imgbake's exit status.
measure() {
	file=$1
	shift
	rm -rf "$scratch/out"
	st=0
	(cd "$inputs" && /usr/bin/time -f %M -o "$scratch/time" \
		"$imgbake" -j1 -v "$@" -o "$scratch/out" "$file") 2>"$scratch/err" || st=$?
	peak_kb=$(tail -n 1 "$scratch/time")
	est=$(sed -n "s/^imgbake: converted '.*, estimate \([0-9.]*\) MB$/\1/p" "$scratch/err")
	rm -rf "$scratch/out"
	return "$st"
}

progress "baseline"
for _ in 1 2 3; do
	measure tiny.jpg -f webp || die "the baseline run failed: $(cat "$scratch/err")"
	echo "$peak_kb"
done | sort -n | sed -n 2p >"$scratch/baseline"
baseline_kb=$(cat "$scratch/baseline")
[ -n "$(sed -n 's/.*, estimate \([0-9.]*\) MB$/\1/p' "$scratch/err")" ] ||
	progress "warning: this imgbake prints no estimate with -v; estimate_mb will be NA"

# recipe name, then imgbake options
recipes='webp -f webp
avif -f avif
jpeg -f jpeg
png -f png
webp+avif@480,960,1920 -f webp,avif -w 480,960,1920'
avif_large='variants/jpeg-24mp.jpg variants/jpeg-prog-16mp.jpg'
avif_large="$avif_large variants/png-rgba-16mp.png variants/webp-24mp.webp"

total=$(( $(wc -l <"$scratch/files") * 5 ))
printf 'file\ttype\twidth\theight\tinterlaced\trecipe\testimate_mb\tmeasured_mb\tratio\n' >"$scratch/tsv"
: >"$scratch/failed"
n=0
while IFS= read -r file; do
	dims "$inputs/$file"
	type=$(vipsheader -f vips-loader "$inputs/$file")
	type=${type%load}
	[ "$type" != heif ] || type=avif
	il=$(vipsheader -f interlaced "$inputs/$file" 2>/dev/null) || il=0
	echo "$recipes" | while read -r recipe opts; do
		if [ "$recipe" = avif ] && [ $(( w * h )) -gt 9000000 ]; then
			case " $avif_large " in
			*" $file "*) ;;
			*) continue ;;
			esac
		fi
		# shellcheck disable=SC2086
		if ! measure "$file" $opts </dev/null; then
			printf '%s\t%s\t%s\n' "$file" "$recipe" "$(tail -n 2 "$scratch/err" | head -n 1)" >>"$scratch/failed"
			continue
		fi
		awk -v f="$file" -v t="$type" -v w="$w" -v h="$h" -v il="$il" -v r="$recipe" \
			-v est="$est" -v kb="$peak_kb" -v base="$baseline_kb" 'BEGIN {
				m = (kb - base) * 1024 / 1e6
				if (est == "") { e = "NA"; ratio = "NA" }
				else { e = sprintf("%.1f", est); ratio = est > 0 ? sprintf("%.3f", m / est) : "NA" }
				printf "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%.1f\t%s\n", f, t, w, h, il, r, e, m, ratio
			}' >>"$scratch/tsv"
	done
	n=$(( n + 5 ))
	progress "$n of about $total runs, $(( $(date +%s) - start_all )) s"
done <"$scratch/files"

mkdir -p "$(dirname "$tsv")"
cp "$scratch/tsv" "$tsv"

# --- summary --------------------------------------------------------------

echo "imgbake calibrate-memory: $("$imgbake" --version), $(nproc) CPUs;" \
	"baseline peak RSS $(awk -v k="$baseline_kb" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }') MB"
echo "data: scripts/calibration/memory.tsv (MB = 1e6 bytes; ratio = measured / estimate)"
echo
summary() {
	awk -F'\t' -v label="$1" 'NR > 1 && $9 != "NA" { print $9 }' "$scratch/tsv.$2" |
		sort -g | awk -v label="$1" '
		{ r[NR] = $1; if ($1 <= 1) ok++ }
		END {
			if (!NR) { printf "%-24s %5d\n", label, 0; exit }
			med = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
			printf "%-24s %5d %9.1f%% %9.3f %9.3f\n", label, NR, 100 * ok / NR, med, r[NR]
		}'
}
printf '%-24s %5s %10s %9s %9s\n' recipe count 'est>=meas' 'median' 'max'
cp "$scratch/tsv" "$scratch/tsv.all"
echo "$recipes" | while read -r recipe opts; do
	awk -F'\t' -v r="$recipe" 'NR == 1 || $6 == r' "$scratch/tsv" >"$scratch/tsv.one"
	summary "$recipe" one
done
summary all all
echo
echo "worst 10 (highest measured / estimate):"
awk -F'\t' 'NR > 1 && $9 != "NA"' "$scratch/tsv" | sort -t "$(printf '\t')" -k9,9gr | head -n 10 |
	awk -F'\t' '
		BEGIN { printf "%-48s %-24s %11s %2s %9s %9s %7s\n", "file", "recipe", "size", "il",
			"estimate", "measured", "ratio" }
		{ printf "%-48s %-24s %11s %2s %9s %9s %7s\n", $1, $6, $3 "x" $4, $5, $7, $8, $9 }'
if [ -s "$scratch/failed" ]; then
	echo
	echo "failed conversions:"
	cat "$scratch/failed"
fi
echo
echo "total $(( $(date +%s) - start_all )) s"
[ ! -s "$scratch/failed" ]
