#!/bin/sh
# The memory budget holds: a batch of multi-megapixel images at -j4 with
# a small budget peaks within the budget plus the idle baseline, and the
# budget is reported in the manifest and with -v.
. "$(dirname "$0")/lib.sh"

[ -x /usr/bin/time ] || skip_all "/usr/bin/time (package time) is not installed"
[ -n "${IMGBAKE_SANITIZED-}" ] && skip_all "sanitizer builds use memory of their own"

# peak RSS in bytes of one imgbake run, in $got; its exit status in $rc
peak() {
	/usr/bin/time -f '%M' -o "$_L/time" "$IMGBAKE" "$@" >/dev/null 2>"$_L/err"
	rc=$?
	got=$(( $(tail -n 1 "$_L/time") * 1024 ))
}

mkimg tiny.jpg 16x16
peak -q -o ob tiny.jpg
baseline=$got
is "$rc" 0 "baseline run: exit 0"
cmp_ok "$baseline" -gt 0 "baseline peak RSS measured: $((baseline >> 20)) MB"

i=1
while [ $i -le 6 ]; do
	mkimg src/p$i.jpg 2000x1500
	i=$((i + 1))
done

# bounded MB WHAT ARGS...: imgbake -q -j4 -M <MB>M ARGS exits 0 and
# peaks within the budget plus the idle baseline
bounded() {
	_mb=$1
	_what=$2
	shift 2
	peak -q -j4 -M "${_mb}M" "$@"
	is "$rc" 0 "-j4 -M ${_mb}M $_what: exit 0"
	cmp_ok "$got" -le $(((_mb << 20) + baseline)) \
		"peak RSS $((got >> 20)) MB <= budget $_mb MB + baseline $((baseline >> 20)) MB"
}

budget=$((128 << 20))
bounded 128 "over six 3 MP images" -o o1 src
is "$(json_get o1/imgbake-manifest.json '$j->{summary}{memory}{budget}')" "$budget" \
	"the manifest records the budget"
is "$(json_get o1/imgbake-manifest.json '$j->{options}{memory}')" "$budget" \
	"and so do its options"
peak_rss=$(json_get o1/imgbake-manifest.json '$j->{summary}{memory}{peak_rss}')
cmp_ok "$peak_rss" -gt "$baseline" "the manifest records a peak RSS above the baseline"
cmp_ok "$peak_rss" -le "$got" "that peak is at most what time(1) saw"

# pictures whose alpha is noise, the worst case of libwebp's lossless
# alpha encoder: the same bound
mkdir noise
for i in 1 2 3 4; do
	vips gaussnoise "$_L/g.v" 1600 1200 --sigma 60 --seed $i &&
	vips gaussnoise "$_L/a.v" 1600 1200 --sigma 60 --seed $((i + 10)) &&
	vips bandjoin "$_L/g.v $_L/g.v $_L/g.v $_L/a.v" "$_L/n.v" &&
	vips cast "$_L/n.v" "noise/n$i.png" uchar
done
is "$(info noise/n1.png)" "1600x1200 uchar 4 srgb pngload" "precondition: RGBA noise PNGs"
bounded 240 "over four RGBA noise PNGs to WebP" -f webp -o on noise

# Once its pixels are read, a job with alpha gives back what the worst
# alpha plane (noise, above) would have needed and its own does not: a
# soft alpha some of it, one opaque everywhere (which libwebp leaves
# out) most, noise nothing.  The bound still holds with the jobs that
# start beside it then.
mkdir soft
for i in 1 2 3 4; do
	vips gaussnoise "$_L/g.v" 2000 1500 --sigma 60 --seed $i &&
	vips gaussnoise "$_L/a.v" 2000 1500 --sigma 80 --seed $((i + 10)) &&
	vips gaussblur "$_L/a.v" "$_L/b.v" 12 &&
	vips bandjoin "$_L/g.v $_L/g.v $_L/g.v $_L/b.v" "$_L/n.v" &&
	vips cast "$_L/n.v" "soft/s$i.png" uchar
done
vips bandjoin "$_L/g.v $_L/g.v $_L/g.v" "$_L/rgb.v" &&
	vips bandjoin_const "$_L/rgb.v" "$_L/o.v" 255 &&
	vips cast "$_L/o.v" opaque.png uchar
is "$(info opaque.png)" "2000x1500 uchar 4 srgb pngload" "precondition: an RGBA PNG of alpha 255"
run -v -j1 -f webp -o ol soft/s1.png opaque.png noise/n1.png
# est SOURCE: its estimate before and once read, in tenths of a MB
est() {
	printf '%s\n' "$err" | sed -n "s|.*converted '$1':.*estimate \([0-9]*\)\.\([0-9]\) MB, \([0-9]*\)\.\([0-9]\) MB once read.*|\1\2 \3\4|p"
}
set -- $(est soft/s1.png) 0 0
cmp_ok $(($2 * 20)) -lt $(($1 * 19)) \
	"a soft alpha: the estimate drops by over 5% once read ($1 -> $2)" || show_run
soft=$2
set -- $(est opaque.png) 0 0
cmp_ok $(($2 * 2)) -lt "$soft" "an alpha of 255 everywhere: under half that ($2)"
cmp_ok "$2" -gt 0 "... but not nothing"
unlike "$err" "converted 'noise/n1\.png':.*once read" "an alpha of noise: not lowered"
bounded 300 "over four soft-alpha PNGs to WebP" -f webp -o os soft

# at quality 100 libwebp keeps more: the bound holds for noise colours
# (24.6 B/px measured, against 15 at the default) and soft alphas
mkdir q100
for i in 1 2 3 4; do
	vips gaussnoise "$_L/g.v" 2000 2000 --sigma 60 --seed $((i + 20)) &&
	vips bandjoin "$_L/g.v $_L/g.v $_L/g.v" "$_L/n.v" &&
	vips cast "$_L/n.v" "q100/n$i.png" uchar
done
bounded 300 "-Q 100 over four RGB noise PNGs to WebP" -f webp -Q 100 -o oq q100
bounded 300 "-Q 100 over the soft-alpha PNGs" -f webp -Q 100 -o osq soft

run -v -j4 -M 128M -o o2 src
like "$err" 'memory: budget 134 MB, peak RSS [0-9]+ MB' "-v reports budget and peak"
like "$err" "converted 'src/p1.jpg': .*estimate [0-9.]+ MB" "-v reports each job's estimate"

run -M 12X -o o3 src
is "$rc" 2 "a bad --memory value is a usage error"

run -M 512 -o o3 src
is "$rc" 2 "-M 512 (bytes) is refused as too small"
like "$err" "did you mean 512M" "... with a hint"
[ ! -e o3 ]
ok $? "... and nothing is written"

# A cgroup memory limit sets the default budget, a quarter of it.  This
# needs root and a memory controller to make a group in: cgroup v1's
# memory hierarchy, or v2 where the root delegates the controller.
cg=
if [ "$(id -u)" = 0 ] && [ -w /sys/fs/cgroup/memory/cgroup.procs ]; then
	cg=/sys/fs/cgroup/memory/imgbake-test.$$ limit=memory.limit_in_bytes
elif [ "$(id -u)" = 0 ] &&
	grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
	cg=/sys/fs/cgroup/imgbake-test.$$ limit=memory.max
fi
if [ -n "$cg" ] && mkdir "$cg" 2>/dev/null &&
	echo $((512 << 20)) >"$cg/$limit" 2>/dev/null; then
	sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" -v -j1 -o o4 src/p1.jpg' \
		sh "$cg" "$IMGBAKE" >/dev/null 2>cg.err
	like "$(cat cg.err)" 'memory budget 134 MB' \
		"in a cgroup limited to 512 MB the default budget is 128 MB"
	rmdir "$cg"
else
	skip "no cgroup memory controller to make a group in"
fi

# -v says which source runs alone, its estimate over the budget
mkdir -p alone && vips gaussnoise alone/big.png 2000 2000
mkimg alone/s.png 20x20
run -v -M 16M -f webp -o alone/out alone
like "$err" "'alone/big\.png' runs alone: its estimate, [0-9]+ MB, is over the memory budget, 17 MB" \
	"-v: a source over the budget is said to run alone" || show_run
unlike "$err" "'alone/s\.png' runs alone" "... not one under it"

done_testing
