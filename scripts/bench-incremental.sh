#!/bin/sh
# Incremental-build benchmark for imgbake: a tree of 10,000 small images
# plus 50 real photographs, converted cold, then re-run with nothing to do,
# after touching every file, after changing 10 files, and after adding a
# format.  Prints one line per step: wall time, and the converted and
# up-to-date counts of the manifest.
#
#   scripts/bench-incremental.sh [TREE_DIR]
#
# TREE_DIR defaults to ${TMPDIR:-/tmp}/imgbake-bench-incr/tree and is
# generated when missing (a few minutes: the photos come from
# scripts/corpus.sh, the small images are tiles of those photos, enlarged
# and given a little noise so that no two are alike, cut by `vips dzsave`
# in sizes from 64 to 256 pixels, JPEG and PNG).  The outputs go to a
# scratch directory that is removed at the end.  IMGBAKE names the binary
# (default ./imgbake at the repository top), JOBS the -j value (default 2).
#
# Checks: the no-op and post-touch re-runs convert nothing; the run after
# changing 10 files converts exactly those 10; the run that adds AVIF
# converts every source, writes one AVIF each and leaves every WebP output
# untouched (same mtime and inode).  Target: a no-op re-run under 2% of
# the cold run and under 1 s.  Exits 1 if a check fails or the target is
# missed.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
root=${TMPDIR:-/tmp}/imgbake-bench-incr
tree=${1:-$root/tree}
imgbake=${IMGBAKE:-./imgbake}
jobs=${JOBS:-2}
tiles_wanted=10000
photos_wanted=50

for tool in jq vips vipsheader md5sum; do
	command -v "$tool" >/dev/null || {
		echo "bench-incremental.sh: $tool not found (scripts/deps.sh bench installs it)" >&2
		exit 2
	}
done
case $imgbake in
/*) ;;
*) imgbake=$top/${imgbake#./} ;;
esac
[ -x "$imgbake" ] || { echo "bench-incremental.sh: no executable '$imgbake' (run make)" >&2; exit 2; }

export LC_ALL=C
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# ---- the tree ---------------------------------------------------------------------

# size suffix grid: grid x grid tiles of size x size pixels; 10,000 in all.
groups='64 jpg 40
80 png 30
96 jpg 35
112 jpg 40
128 jpg 35
144 png 25
160 jpg 30
192 jpg 30
224 png 20
256 jpg 25'

generate() {
	gen_start=$(now)
	mkdir -p "$(dirname "$tree")"
	# corpus.sh renames its directory into place only when complete, so
	# the photos of an interrupted generation are kept.
	rm -rf "$tree.tmp/tiles" "$tree.tmp/.work"
	mkdir -p "$tree.tmp/tiles"
	work=$tree.tmp/.work
	mkdir -p "$work"
	[ -d "$tree.tmp/photos" ] ||
		sh "$top/scripts/corpus.sh" "$tree.tmp/photos" "$photos_wanted"
	find "$tree.tmp/photos" -type f | sort >"$work/photos"
	nphotos=$(wc -l <"$work/photos")
	i=0
	echo "$groups" | while read -r size suffix grid; do
		i=$((i + 1))
		photo=$(sed -n "$(( (i * 7) % nphotos + 1 ))p" "$work/photos")
		edge=$((size * grid))
		name=$(printf 'g%02d-%d' "$i" "$size")
		# Enlarge the photo to edge x edge, add noise (sigma 4, its own
		# seed) so that flat areas give distinct tiles, cut the tiles.
		vips thumbnail "$photo" "$work/big.v" "$edge" --height "$edge" --size force
		case $(vipsheader -f bands "$work/big.v") in
		2|4) vips flatten "$work/big.v" "$work/flat.v" ;;
		*) mv "$work/big.v" "$work/flat.v" ;;
		esac
		vips gaussnoise "$work/noise.v" "$edge" "$edge" --mean 0 --sigma 4 --seed "$i"
		vips add "$work/flat.v" "$work/noise.v" "$work/sum.v"
		vips cast "$work/sum.v" "$work/base.v" uchar
		case $suffix in
		jpg) save='.jpg[Q=85]' ;;
		png) save='.png[compression=6]' ;;
		esac
		vips dzsave "$work/base.v" "$work/$name" --tile-size "$size" --overlap 0 \
			--depth one --suffix "$save" --layout dz
		mv "$work/${name}_files/0" "$tree.tmp/tiles/$name"
		rm -rf "$work/${name}_files" "$work/$name.dzi" "$work"/*.v
		echo "bench-incremental: $name: $(ls "$tree.tmp/tiles/$name" | wc -l) tiles of $size px ($suffix)" >&2
	done
	rm -rf "$work"
	ntiles=$(find "$tree.tmp/tiles" -type f | wc -l)
	[ "$ntiles" -eq "$tiles_wanted" ] || {
		echo "bench-incremental.sh: made $ntiles tiles, wanted $tiles_wanted" >&2
		exit 1
	}
	dups=$(find "$tree.tmp" -type f -print0 | xargs -0 md5sum | cut -c1-32 | sort | uniq -d | wc -l)
	[ "$dups" -eq 0 ] || {
		echo "bench-incremental.sh: $dups files are not unique" >&2
		exit 1
	}
	mv "$tree.tmp" "$tree"
	echo "bench-incremental: tree generated in $(elapsed "$gen_start" "$(now)") s" >&2
}

[ -d "$tree/tiles" ] && [ -d "$tree/photos" ] || generate
tree=$(cd "$tree" && pwd)
nsources=$(find "$tree" -type f | wc -l)

# ---- the runs -----------------------------------------------------------------------

scratch=$(mktemp -d "${TMPDIR:-/tmp}/imgbake-bench-incr.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
out=$scratch/out
manifest=$out/imgbake-manifest.json
failures=0

fail() {
	echo "bench-incremental: FAIL: $*" >&2
	failures=$((failures + 1))
}

# bake LABEL FORMATS: one timed run; sets wall, converted, uptodate and
# appends a table row (the check column is filled in by note).
bake() {
	_label=$1
	# The previous step's writes go to disk first, outside the timing.
	sync
	_t0=$(now)
	_st=0
	"$imgbake" -q -j "$jobs" -f "$2" -o "$out" "$tree" 2>"$scratch/stderr" || _st=$?
	_t1=$(now)
	wall=$(elapsed "$_t0" "$_t1")
	if [ "$_st" -ne 0 ]; then
		fail "$_label: imgbake exited $_st"
		sed 's/^/  imgbake: /' "$scratch/stderr" | tail -n 5 >&2
	fi
	converted=$(jq '.summary.converted' "$manifest")
	uptodate=$(jq '.summary.up_to_date' "$manifest")
	row_label=$_label
}

# note TEXT: print the row of the last bake with TEXT as its check column.
note() {
	printf '%-38s %8s %10s %11s  %s\n' "$row_label" "$wall" "$converted" "$uptodate" "$1"
}

# snap EXT: "path mtime inode" of every output with extension EXT.
snap() {
	(cd "$out" && find . -type f -name "*.$1" -printf '%p %T@ %i\n' | sort)
}

echo "bench-incremental: $imgbake -j$jobs, $nsources sources in $tree"
echo "  ($(find "$tree/tiles" -type f | wc -l) tiles of 64-256 px, $(find "$tree/photos" -type f | wc -l) photos, $(du -sh "$tree" | cut -f1))"
printf '%-38s %8s %10s %11s  %s\n' step 'wall s' converted up-to-date check

bake "cold (-f webp)" webp
cold=$wall
[ "$converted" -eq "$nsources" ] || fail "cold: $converted converted, expected $nsources"
note "$([ "$converted" -eq "$nsources" ] && echo ok || echo FAIL)"

bake "no-op re-run" webp
pct=$(awk -v a="$wall" -v b="$cold" 'BEGIN { printf "%.2f", 100 * a / b }')
check=ok
[ "$converted" -eq 0 ] && [ "$uptodate" -eq "$nsources" ] || { check=FAIL; fail "no-op: $converted converted"; }
target=met
awk -v p="$pct" -v w="$wall" 'BEGIN { exit !(p < 2 && w < 1) }' || { target=MISSED; fail "no-op target: $wall s, $pct% of cold"; }
note "$check; $pct% of cold (target <2% and <1 s: $target)"

find "$tree" -type f -exec touch {} +
bake "re-run after touch of every file" webp
check=ok
[ "$converted" -eq 0 ] && [ "$uptodate" -eq "$nsources" ] || { check=FAIL; fail "after touch: $converted converted"; }
note "$check; $(awk -v a="$wall" -v b="$cold" 'BEGIN { printf "%.1f", 100 * a / b }')% of cold (every file hashed)"

bake "re-run after touch (mtimes recorded)" webp
check=ok
[ "$converted" -eq 0 ] || { check=FAIL; fail "second run after touch: $converted converted"; }
note "$check"

# Ten files spread over the tree, each mirrored left to right.
find "$tree" -type f | sort | awk -v n="$nsources" 'NR % int(n / 10) == 1' | head -n 10 >"$scratch/changed"
while IFS= read -r f; do
	ext=${f##*.}
	vips flip "$f" "$scratch/flipped.$ext" horizontal
	mv "$scratch/flipped.$ext" "$f"
done <"$scratch/changed"
bake "re-run after changing 10 files" webp
jq -r '.sources[] | select(.status == "converted") | .path' "$manifest" | sort >"$scratch/got"
sort "$scratch/changed" >"$scratch/want"
check=ok
cmp -s "$scratch/got" "$scratch/want" || { check=FAIL; fail "after changing 10 files: converted $(wc -l <"$scratch/got") sources, not the 10 changed"; }
note "$check; exactly the 10 changed sources"

snap webp >"$scratch/webp.before"
bake "re-run with -f webp,avif" webp,avif
snap webp >"$scratch/webp.after"
navif=$(find "$out" -type f -name '*.avif' | wc -l)
check=ok
[ "$converted" -eq "$nsources" ] || { check=FAIL; fail "-f webp,avif: $converted converted, expected $nsources"; }
[ "$navif" -eq "$nsources" ] || { check=FAIL; fail "-f webp,avif: $navif AVIF files, expected $nsources"; }
cmp -s "$scratch/webp.before" "$scratch/webp.after" || { check=FAIL; fail "-f webp,avif: WebP outputs rewritten"; }
note "$check; $navif AVIF written, all $(wc -l <"$scratch/webp.after") WebP untouched"

bake "no-op re-run (-f webp,avif)" webp,avif
check=ok
[ "$converted" -eq 0 ] || { check=FAIL; fail "no-op webp,avif: $converted converted"; }
note "$check"

if [ "$failures" -ne 0 ]; then
	echo "bench-incremental: $failures failure(s)" >&2
	exit 1
fi
