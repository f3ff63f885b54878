#!/bin/sh
# Build a benchmark corpus of real photographs and wallpapers for imgbake
# from Debian's wallpaper packages (installed here when missing, as root).
#
#   scripts/corpus.sh DIR [N]     N images (default 60) under DIR
#
# DIR must not exist yet (or be empty); it is filled through a temporary
# sibling directory and renamed into place only when complete, so an
# existing DIR is always a whole corpus.  Real images are picked evenly
# from the packages' JPEG and PNG files in sorted order; a few derived
# images (small crops, ~24 MP upscales) widen the size range, and more are
# derived from the real ones if the packages hold fewer than N.  The same
# packages and libvips give the same tree, byte for byte.
set -eu

usage() {
	echo "usage: scripts/corpus.sh DIR [N]" >&2
	exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
dir=${1%/}
count=${2:-60}
case $count in
''|*[!0-9]*) usage ;;
esac
[ "$count" -ge 1 ] || usage

if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
	echo "corpus.sh: '$dir' exists and is not empty; remove it to rebuild" >&2
	exit 1
fi

# package  short name (the corpus subfolder)  directory the names are relative to
packages='mate-backgrounds mate /usr/share/backgrounds/mate
plasma-workspace-wallpapers plasma /usr/share/wallpapers
ukui-wallpapers ukui /usr/share/backgrounds'

missing=
for pkg in $(echo "$packages" | cut -d' ' -f1); do
	if ! dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^ii'; then
		missing="$missing $pkg"
	fi
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "corpus.sh: not root; install first:$missing" >&2
		exit 1
	fi
	echo "corpus.sh: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

export LC_ALL=C
mkdir -p "$(dirname "$dir")"
work=$(mktemp -d "$dir.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Candidate list, one "short<TAB>path<TAB>name" a line: regular JPEG and
# PNG files by content (symlinks, SVG and XML are left out), without the
# packages' small preview screenshots.
echo "$packages" | while read -r pkg short root; do
	dpkg -L "$pkg" | sort | while IFS= read -r path; do
		[ -f "$path" ] && [ ! -L "$path" ] || continue
		case $path in
		"$root"/*) ;;
		*) continue ;;
		esac
		case ${path##*/} in
		screenshot.*) continue ;;
		esac
		case $(file -b --mime-type "$path") in
		image/jpeg|image/png) ;;
		*) continue ;;
		esac
		vipsheader "$path" >/dev/null 2>&1 || continue
		rel=${path#"$root"/}
		rel=$(printf '%s' "$rel" | sed -e 's#/contents/images/#/#' -e 's#/contents/images_dark/#/dark-#' -e 's#/#-#g' -e 's#[^A-Za-z0-9._-]#_#g')
		printf '%s\t%s\t%s\n' "$short" "$path" "$rel"
	done
done >"$work/candidates"

available=$(wc -l <"$work/candidates")
[ "$available" -gt 0 ] || { echo "corpus.sh: no images found in the packages" >&2; exit 1; }

# Up to four images are always derived: two small, two large.
extra=4
[ "$count" -ge 10 ] || extra=0
want_real=$(( count - extra ))
[ "$want_real" -le "$available" ] || want_real=$available

# Evenly spaced picks keep every package and both formats represented.
awk -v want="$want_real" -v have="$available" \
	'BEGIN { for (i = 0; i < want; i++) pick[int(i * have / want) + 1] = 1 }
	 pick[NR]' "$work/candidates" >"$work/picked"

mkdir -p "$work/tree"
while IFS="$(printf '\t')" read -r short path name; do
	mkdir -p "$work/tree/$short"
	cp "$path" "$work/tree/$short/$name"
done <"$work/picked"

# Derived images, from the first picked JPEG and the first picked PNG (or
# the first picked image when one format is missing).
first_jpeg=$(awk -F'\t' '$2 ~ /\.[jJ][pP][eE]?[gG]$/ { print $1 "/" $3; exit }' "$work/picked")
first_png=$(awk -F'\t' '$2 ~ /\.[pP][nN][gG]$/ { print $1 "/" $3; exit }' "$work/picked")
first_any=$(awk -F'\t' '{ print $1 "/" $3; exit }' "$work/picked")
jpeg_src=$work/tree/${first_jpeg:-$first_any}
png_src=$work/tree/${first_png:-$first_any}

width_of() { vipsheader -f width "$1" 2>/dev/null; }
height_of() { vipsheader -f height "$1" 2>/dev/null; }

# Centre crop of $1 (at most $3 x $4) written to $2.
centre_crop() {
	w=$(width_of "$1") h=$(height_of "$1")
	cw=$3 ch=$4
	[ "$cw" -le "$w" ] || cw=$w
	[ "$ch" -le "$h" ] || ch=$h
	vips crop "$1" "$2" $(( (w - cw) / 2 )) $(( (h - ch) / 2 )) "$cw" "$ch" 2>/dev/null
}

# Resize $1 so that its area is about $3 megapixels, written to $2.
resize_to_mp() {
	w=$(width_of "$1") h=$(height_of "$1")
	scale=$(awk -v w="$w" -v h="$h" -v mp="$3" 'BEGIN { printf "%.6f", sqrt(mp * 1e6 / (w * h)) }')
	vips resize "$1" "$2" "$scale" 2>/dev/null
}

if [ "$extra" -gt 0 ]; then
	mkdir -p "$work/tree/derived"
	centre_crop "$jpeg_src" "$work/tree/derived/crop-640x480.jpg[Q=88,strip]" 640 480
	resize_to_mp "$png_src" "$work/tree/derived/small-0.25mp.png[compression=6]" 0.25
	resize_to_mp "$jpeg_src" "$work/tree/derived/upscale-24mp.jpg[Q=90]" 24
	resize_to_mp "$png_src" "$work/tree/derived/upscale-21mp.png[compression=6]" 21
fi

# Fill up to N with crops and downscales of the real images, cycling
# through them and alternating JPEG and PNG output.
have=$(( want_real + extra ))
i=0
while [ "$have" -lt "$count" ]; do
	line=$(( i % want_real + 1 ))
	rel=$(awk -F'\t' -v n="$line" 'NR == n { print $1 "/" $3 }' "$work/picked")
	stem=${rel##*/}
	stem=${stem%.*}
	n=$(printf '%03d' "$i")
	mkdir -p "$work/tree/derived"
	case $(( i % 4 )) in
	0) centre_crop "$work/tree/$rel" "$work/tree/derived/fill-$n-$stem-crop.jpg[Q=85]" 1600 1200 ;;
	1) resize_to_mp "$work/tree/$rel" "$work/tree/derived/fill-$n-$stem-1mp.png[compression=6]" 1 ;;
	2) resize_to_mp "$work/tree/$rel" "$work/tree/derived/fill-$n-$stem-3mp.jpg[Q=85]" 3 ;;
	3) centre_crop "$work/tree/$rel" "$work/tree/derived/fill-$n-$stem-crop.png[compression=6]" 900 900 ;;
	esac
	have=$(( have + 1 ))
	i=$(( i + 1 ))
done

# Summary: count, formats, bytes and megapixels.
find "$work/tree" -type f | sort | while IFS= read -r f; do
	printf '%s %s %s %s\n' "$(width_of "$f")" "$(height_of "$f")" \
		"$(wc -c <"$f")" "${f##*.}"
done >"$work/sizes"

rmdir "$dir" 2>/dev/null || true
mv "$work/tree" "$dir"

awk -v dir="$dir" '
	{ mp = $1 * $2 / 1e6; n++; bytes += $3; total += mp
	  if (n == 1 || mp < lo) lo = mp
	  if (mp > hi) hi = mp
	  if ($4 ~ /^[pP][nN][gG]$/) png++; else jpeg++ }
	END { printf "corpus: %d images (%d JPEG, %d PNG) in %s, %.1f MB, %.1f MP (%.2f to %.1f MP each)\n",
	      n, jpeg, png, dir, bytes / 1e6, total, lo, hi }' "$work/sizes"
