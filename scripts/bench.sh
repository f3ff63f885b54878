#!/bin/sh
# Speed benchmark: imgbake against the tools a user would otherwise pick
# for the same batch, over the same images, in one run.
#
#   scripts/bench.sh [--quick]
#
# N is the number of CPUs, and every tool gets N-way parallelism
# (imgbake -j N, xargs -P N, sharp-cli with UV_THREADPOOL_SIZE=N).
#
#   1  full-size WebP q80 of a photo corpus (59 images, icons to 40 MP):
#      imgbake -j N -f webp -Q 80; xargs -P N vips copy; xargs -P N
#      convert-im6.q16 -quality 80; xargs -P N cwebp -q 80; sharp-cli
#      -f webp -q 80 over all the files; one sharp-cli a file under
#      xargs -P N
#   2  the same on 1,000 small images (0.05-0.5 MP)
#   3  a responsive set of the photo corpus: WebP q80 and AVIF q50 at
#      widths 480, 960 and 1920 (never upscaled; a source narrower than
#      480 gets one output at its own width), effort 4 and 4:2:0 chroma
#      everywhere: imgbake -f webp,avif -w 480,960,1920; one vips
#      thumbnail per output under xargs -P N; sharp-cli once per format
#      and width; one sharp-cli per output under xargs -P N
#   4  the decode floor: djpeg >/dev/null for the JPEGs, vips avg for the
#      rest, under xargs -P N, over both trees
#
# Inputs are built once under ${TMPDIR:-/tmp}/imgbake-bench and reused:
# 36 images from scripts/corpus.sh (wallpapers, with its 21 and 24 MP
# upscales), images of the python3-skimage and imagemagick-6-doc
# packages (downloaded and unpacked, not installed), icons, a 40 MP and
# a 32 MP progressive upscale and two WebPs; then 1,000 crops and
# downscales of the photos, cut by vips in a fixed pseudo-random
# sequence.  Missing Debian packages are installed through
# scripts/deps.sh bench (as root); sharp-cli is installed from the npm
# registry into a prefix in the same cache, and left out with a note
# when that fails.  cwebp reads no GIF: the GIF icons are converted to
# PNG for it before the timing.  imgbake runs with --timeout 0, as the
# others have no time limit: on a busy machine its default limit of
# 300 s of wall time an image can fail a slow AVIF encode.
#
# Each job runs REPS times (default 3); within a repetition the tools
# take turns, and the first tool rotates from one repetition to the
# next.  The table gives the median wall time and the fastest and
# slowest run; the median CPU time (user + sys of every process of the
# run, from `times`); "cores", CPU over wall; "stolen", the CPU time
# the hypervisor of a virtual machine took from it during the run
# (/proc/stat's steal), in percent of wall x N; the peak RSS, which is
# ru_maxrss (/usr/bin/time) for imgbake and sharp-cli, single
# processes, and for the per-file tools the largest sum of the RSS of
# their processes alive at once, sampled every 0.1 s from /proc (short
# peaks can be missed); MP/s, source megapixels over wall; the size of
# the outputs; and "imgbake x", the tool's wall over imgbake's (above 1:
# imgbake is faster).  The sampler runs during every run, imgbake's
# too, so its cost (a few percent of one CPU) burdens every tool alike.
# After each run the outputs are counted and every eighth is checked:
# size by vipsheader, full decode by dwebp or avifdec; a run with a
# missing, extra or bad output is reported as failed and never
# compared.  Under the table: each job's ideal wall time, max(CPU time
# of its longest single image, which imgbake -j1 converts alone, total
# CPU / N), and imgbake's distance from it, and where time was stolen,
# the same over the CPUs left (N less the CPUs stolen on average during
# imgbake's runs), which no tool can beat; imgbake's wall over the
# decode floor; how many cores imgbake kept busy in each tenth of its
# run; the load average at start and end (other work on the machine
# skews everything); the version of every tool.
#
# --quick: 10 photos, 100 small images, REPS=1, for a smoke run.
# ONLY=13 runs jobs 1 and 3 only.  IMGBAKE names the binary (default
# ./imgbake at the repository top; it is copied first, so a rebuild
# during the run changes nothing).  Exits 1 when an imgbake run fails
# or misses outputs (a failed competitor is only reported), 2 on a usage
# error or a missing tool.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
imgbake=${IMGBAKE:-./imgbake}
cache=${TMPDIR:-/tmp}/imgbake-bench

usage() {
	echo "usage: scripts/bench.sh [--quick]" >&2
	exit 2
}
quick=
case $# in
0) ;;
1) [ "$1" = --quick ] || usage; quick=1 ;;
*) usage ;;
esac
if [ -n "$quick" ]; then
	nphotos=10 nsmall=100 reps=${REPS:-1}
else
	nphotos=0 nsmall=1000 reps=${REPS:-3}
fi
only=${ONLY:-1234}
case $reps in
''|*[!0-9]*|0) usage ;;
esac
case $only in
''|*[!1-4]*) usage ;;
esac

die() {
	echo "bench.sh: $*" >&2
	exit 2
}
case $cache in
*[[:space:]]*) die "the cache path '$cache' has white space in it; set TMPDIR" ;;
esac
case $imgbake in
/*) ;;
*) imgbake=$top/${imgbake#./} ;;
esac
[ -x "$imgbake" ] || die "no executable '$imgbake' (run make)"

export LC_ALL=C
ncpu=$(nproc)
hz=$(getconf CLK_TCK)
tab=$(printf '\t')
start_all=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/imgbake-bench-run.XXXXXX")
building=	# a cache directory being built, removed if we stop half-way
bg=		# background processes to end if we stop half-way

# tree PID: PID and every process below it.
tree_of() {
	echo "$1"
	for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		tree_of "$child"
	done
}
# any_alive PID...: one of the PIDs is still running (not a zombie).
any_alive() {
	for p in "$@"; do
		state=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -c1)
		[ -z "$state" ] || [ "$state" = Z ] || return 0
	done
	return 1
}
cleanup() {
	# Stop the trees, list them again (so that what an xargs started
	# meanwhile is in), end them; then wait up to 10 s for them to go
	# (imgbake writes its manifest when terminated), so that nothing
	# writes into the scratch directory after it is removed.
	if [ -n "$bg" ]; then
		doomed=
		for p in $bg; do
			doomed="$doomed $(tree_of "$p")"
		done
		# shellcheck disable=SC2086
		kill -STOP $doomed 2>/dev/null || true
		for p in $bg; do
			doomed="$doomed $(tree_of "$p")"
		done
		# shellcheck disable=SC2086
		kill -TERM $doomed 2>/dev/null || true
		# shellcheck disable=SC2086
		kill -CONT $doomed 2>/dev/null || true
		tries=0
		# shellcheck disable=SC2086
		while [ "$tries" -lt 100 ] && any_alive $doomed; do
			sleep 0.1
			tries=$(( tries + 1 ))
		done
	fi
	[ -z "$building" ] || rm -rf "$building"
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

: >"$scratch/notes"
note() { printf '%s\n' "$*" >>"$scratch/notes"; }
progress() { echo "bench: [$(( $(date +%s) - start_all )) s] $*" >&2; }

# A copy, so that a rebuild during the run cannot mix two builds; which
# build it is goes into the report.
built=$(date -r "$imgbake" '+%Y-%m-%d %H:%M')
src_tree=$(git -C "$top" log -1 --format=%h 2>/dev/null) || src_tree='?'
[ -z "$(git -C "$top" status --porcelain --untracked-files=no src 2>/dev/null)" ] ||
	src_tree="$src_tree with changes in src/"
cp "$imgbake" "$scratch/imgbake"
imgbake=$scratch/imgbake

# --- tools ----------------------------------------------------------------

sh "$top/scripts/deps.sh" bench ||
	die "cannot install the benchmark's Debian packages (scripts/deps.sh bench)"
for tool in vips vipsheader convert-im6.q16 cwebp dwebp avifdec djpeg \
	apt-get dpkg-deb xargs ps /usr/bin/time; do
	command -v "$tool" >/dev/null ||
		die "$tool not found (scripts/deps.sh bench installs it)"
done

# setup_sharp: set sharp_cli to sharp-cli's entry point, installed from
# the npm registry into the cache when missing, or leave it empty and
# say why.
sharp_cli=
setup_sharp() {
	if ! command -v npm >/dev/null && [ "$(id -u)" -eq 0 ]; then
		progress "installing nodejs and npm"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends nodejs npm >"$scratch/apt.log" 2>&1 || true
	fi
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		note "sharp-cli left out: node or npm is missing and could not be installed"
		return 0
	fi
	node_v=$(node -p 'process.versions.node')
	# sharp-cli 6 (sharp 0.35) needs node 20.10; 5.3 (sharp 0.34), 18.17
	sharp_v=$(echo "$node_v" | awk -F. '{ v = $1 * 1000 + $2 }
		END { print (v >= 20010 ? "6.1.0" : (v >= 18017 ? "5.3.0" : "")) }')
	if [ -z "$sharp_v" ]; then
		note "sharp-cli left out: node $node_v is too old for it"
		return 0
	fi
	dir=$cache/sharp-cli-$sharp_v
	if [ ! -f "$dir/node_modules/sharp-cli/package.json" ]; then
		progress "installing sharp-cli $sharp_v from the npm registry"
		mkdir -p "$cache"
		rm -rf "$dir.tmp"
		building=$dir.tmp
		if ! npm install --prefix "$dir.tmp" --cache "$cache/npm-cache" \
			--no-audit --no-fund --no-update-notifier \
			"sharp-cli@$sharp_v" >"$scratch/npm.log" 2>&1; then
			rm -rf "$dir.tmp"
			building=
			note "sharp-cli left out: npm install sharp-cli@$sharp_v failed: $(tail -n 1 "$scratch/npm.log")"
			return 0
		fi
		mv "$dir.tmp" "$dir"
		building=
	fi
	sharp_cli=$dir/node_modules/sharp-cli/bin/cli.js
}
setup_sharp

# --- the photo corpus -------------------------------------------------------

# header_list DIR OUT: one "path<TAB>width<TAB>height<TAB>loader" line per
# file under DIR, paths relative to DIR, in byte order.
header_list() {
	(cd "$1" && find . -type f | sed 's#^\./##' | sort | xargs vipsheader 2>/dev/null) |
		awk '{
			i = index($0, ": "); path = substr($0, 1, i - 1); rest = substr($0, i + 2)
			split(rest, word, " "); split(word[1], wh, "x")
			n = split(rest, part, ", ")
			printf "%s\t%s\t%s\t%s\n", path, wh[1], wh[2], part[n]
		}' >"$2"
	[ "$(wc -l <"$2")" -eq "$(find "$1" -type f | wc -l)" ] ||
		die "some images under '$1' do not open (vipsheader)"
}

# resize_mp SRC DST MP: SRC resized to about MP megapixels, written to DST.
resize_mp() {
	w=$(vipsheader -f width "$1") h=$(vipsheader -f height "$1")
	vips resize "$1" "$2" "$(awk -v w="$w" -v h="$h" -v mp="$3" \
		'BEGIN { printf "%.6f", sqrt(mp * 1e6 / (w * h)) }')"
}

# take SRCDIR SUBDIR NAME...: copy the named files that exist into the tree.
take() {
	from=$1 sub=$2
	shift 2
	for name in "$@"; do
		[ -f "$from/$name" ] || continue
		mkdir -p "$b/tree/$sub"
		cp "$from/$name" "$b/tree/$sub/$name"
	done
}

build_photos() {
	progress "building the photo corpus under $cache/photos"
	b=$cache/photos.build
	rm -rf "$b"
	building=$b
	mkdir -p "$b/debs"
	sh "$top/scripts/corpus.sh" "$b/tree" 36 >&2

	# Images shipped in two documentation/data packages: fetched as
	# .debs and unpacked, nothing installed.
	debs='python3-skimage imagemagick-6-doc'
	# shellcheck disable=SC2086
	if (cd "$b/debs" && apt-get download $debs) >"$b/debs.log" 2>&1 ||
		{ [ "$(id -u)" -eq 0 ] && apt-get update -qq >/dev/null 2>&1 &&
		(cd "$b/debs" && apt-get download $debs) >"$b/debs.log" 2>&1; }; then
		for deb in "$b"/debs/*.deb; do
			dpkg-deb -x "$deb" "$b/root"
		done
	else
		note "corpus: could not download $debs; their images are left out"
	fi
	sk=$b/root/usr/lib/python3/dist-packages/skimage/data
	im=$b/root/usr/share/doc/imagemagick-6-common/html/images
	take "$sk" skimage astronaut.png camera.png chelsea.png coffee.png \
		hubble_deep_field.jpg motorcycle_left.png retina.jpg rocket.jpg
	take "$im" imagemagick examples.jpg julia-set.png logo.png piechart.png t-shirt.png
	take "$im" icons button.gif logo-sm.png red-ball.png smile.gif sprite.jpg wand.png

	header_list "$b/tree" "$b/list"
	# The real photos, largest first: the two largest JPEGs are upscaled
	# to 40 and 32 MP; a mid-sized JPEG and alpha PNG become WebPs.
	awk -F'\t' '$1 ~ /^(mate|plasma|ukui)\// { print $2 * $3 "\t" $0 }' "$b/list" |
		sort -t "$tab" -k1,1nr -k2,2 | cut -f2- >"$b/real"
	jpeg1=$(awk -F'\t' '$4 == "jpegload" { print $1 }' "$b/real" | sed -n 1p)
	jpeg2=$(awk -F'\t' '$4 == "jpegload" { print $1 }' "$b/real" | sed -n 2p)
	[ -n "$jpeg2" ] || die "corpus: fewer than two JPEG photos in $b/tree"
	mkdir -p "$b/tree/large" "$b/tree/webp"
	s=${jpeg1##*/}
	resize_mp "$b/tree/$jpeg1" "$b/tree/large/${s%.*}-40mp.jpg[Q=90]" 40
	s=${jpeg2##*/}
	resize_mp "$b/tree/$jpeg2" "$b/tree/large/${s%.*}-32mp-progressive.jpg[Q=85,interlace]" 32
	mid_jpeg=$(awk -F'\t' '$4 == "jpegload" && $2 * $3 < 5e6 { print $1; exit }' "$b/real")
	mid_alpha=$(awk -F'\t' '$4 == "pngload" && $2 * $3 < 5e6 { print $1 }' "$b/real" |
		while IFS= read -r f; do
			[ "$(vipsheader -f bands "$b/tree/$f")" = 4 ] && { echo "$f"; break; }
		done)
	for f in $mid_jpeg $mid_alpha; do
		s=${f##*/}
		vips copy "$b/tree/$f" "$b/tree/webp/${s%.*}.webp[Q=90]"
	done
	# Icons from the photos when the documentation images are missing.
	if [ ! -d "$b/tree/icons" ]; then
		mkdir -p "$b/tree/icons"
		vips thumbnail "$b/tree/$jpeg1" "$b/tree/icons/photo-64.png" 64
		vips thumbnail "$b/tree/$jpeg2" "$b/tree/icons/photo-48.jpg[Q=85]" 48
	fi

	header_list "$b/tree" "$b/list"
	# Outputs are named by stem: a.jpg and a.png side by side would collide.
	dup=$(awk -F'\t' '{ s = $1; sub(/\.[^.\/]*$/, "", s); print s }' "$b/list" |
		sort | uniq -d | sed -n 1p)
	[ -z "$dup" ] || die "corpus: two sources share the stem '$dup'"
	mv "$b/list" "$cache/photos.tsv"
	mv "$b/tree" "$cache/photos"
	rm -rf "$b"
	building=
}

# --- the small images --------------------------------------------------------

# build_small: the directories d00..dNN (100 images each) of the small
# tree that the run needs and the cache lacks.  Each is cut into dNN.tmp
# and renamed into place when complete, with its list beside the tree.
build_small() {
	ndirs=$(( (nsmall + 99) / 100 ))
	missing=
	d=0
	while [ "$d" -lt "$ndirs" ]; do
		dn=$(printf 'd%02d' "$d")
		[ -d "$cache/small/$dn" ] && [ -s "$cache/small.lists/$dn.tsv" ] ||
			missing="$missing $d"
		d=$(( d + 1 ))
	done
	[ -n "$missing" ] || return 0
	progress "cutting $(( $(echo "$missing" | wc -w) * 100 )) small images from the photos"
	mkdir -p "$cache/small" "$cache/small.lists" "$scratch/src"
	# Sources: the real photos of 1 MP or more, kept as .v files so that
	# each crop reads only its pixels.
	awk -F'\t' '$1 !~ /^(large|derived|icons|webp)\// && $2 * $3 >= 1e6' \
		"$cache/photos.tsv" >"$scratch/src/photos"
	i=0
	while IFS=$tab read -r rel w h loader; do
		vips copy "$cache/photos/$rel" "$scratch/src/p$i.v"
		printf '%s\t%s\t%s\n' "$scratch/src/p$i.v" "$w" "$h"
		i=$(( i + 1 ))
	done <"$scratch/src/photos" >"$scratch/src/list"
	for d in $missing; do
		dn=$(printf 'd%02d' "$d")
		rm -rf "$cache/small/$dn.tmp"
		building=$cache/small/$dn.tmp
		mkdir "$building"
		# A Park-Miller sequence over all 1,000 images, so that every
		# directory is the same whichever are cut first.  Areas are
		# log-uniform in 0.05-0.5 MP; one in four is a downscale of a
		# whole photo, the rest crops at any position; one in five is a
		# PNG, one in 25 a WebP, the rest JPEG.
		awk -F'\t' -v want="$d" -v out="$cache/small/$dn.tmp" '
			function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
			BEGIN { n = 0 }
			{ src[n] = $1; sw[n] = $2; sh[n] = $3; n++ }
			END {
				seed = 20240601
				split("1.5 1.333 1.778 1 0.75 0.667 2", ars, " ")
				for (k = 0; k < 1000; k++) {
					s = k % n
					area = 0.05e6 * exp(rnd() * log(10))
					ar = ars[int(rnd() * 7) + 1]
					fx = rnd(); fy = rnd()
					if (int(k / 100) != want)
						continue
					if (k % 10 == 3 || k % 10 == 7)
						ext = "png"
					else if (k % 25 == 11)
						ext = "webp[Q=85]"
					else
						ext = "jpg[Q=85,strip]"
					name = sprintf("%s/s%04d.%s", out, k, ext)
					scale = sqrt(area / (sw[s] * sh[s]))
					if (k % 4 == 1 && scale < 1) {
						printf "resize %s %s %.6f\n", src[s], name, scale
						continue
					}
					w = int(sqrt(area * ar)); h = int(area / w)
					if (w > sw[s]) w = sw[s]
					if (h > sh[s]) h = sh[s]
					printf "crop %s %s %d %d %d %d\n", src[s], name,
						int(fx * (sw[s] - w)), int(fy * (sh[s] - h)), w, h
				}
			}' "$scratch/src/list" >"$scratch/src/cmds"
		xargs -P "$ncpu" -L 1 vips <"$scratch/src/cmds"
		header_list "$cache/small/$dn.tmp" "$scratch/src/$dn.tsv"
		sed "s#^#$dn/#" "$scratch/src/$dn.tsv" >"$cache/small.lists/$dn.tsv"
		rm -rf "$cache/small/$dn"
		mv "$cache/small/$dn.tmp" "$cache/small/$dn"
		building=
	done
	rm -rf "$scratch/src"
}

mkdir -p "$cache"
if [ ! -d "$cache/photos" ] || [ ! -s "$cache/photos.tsv" ]; then
	build_photos
fi
build_small

# --- this run's input trees ----------------------------------------------

# link_tree SET LIST: hard links (copies across file systems) of the
# files of LIST under $scratch/in/SET, and the list as $scratch/SET.tsv.
link_tree() {
	set_dir=$scratch/in/$1
	from=$cache/$1
	mkdir -p "$set_dir"
	while IFS=$tab read -r rel w h loader; do
		case $rel in */*) mkdir -p "$set_dir/${rel%/*}" ;; esac
		ln "$from/$rel" "$set_dir/$rel" 2>/dev/null || cp "$from/$rel" "$set_dir/$rel"
	done <"$2"
	cp "$2" "$scratch/$1.tsv"
}

if [ "$nphotos" -gt 0 ]; then
	# A spread from the smallest to the largest image.
	awk -F'\t' '{ print $2 * $3 "\t" $0 }' "$cache/photos.tsv" |
		sort -t "$tab" -k1,1n -k2,2 | cut -f2- |
		awk -v want="$nphotos" '{ line[NR] = $0 }
			END { for (i = 0; i < want && i < NR; i++)
				pick[int(i * (NR - 1) / (want > 1 ? want - 1 : 1)) + 1] = 1
			      for (i = 1; i <= NR; i++) if (i in pick) print line[i] }' |
		sort >"$scratch/photos.pick"
else
	cp "$cache/photos.tsv" "$scratch/photos.pick"
fi
cat "$cache"/small.lists/d*.tsv | head -n "$nsmall" >"$scratch/small.pick"
link_tree photos "$scratch/photos.pick"
link_tree small "$scratch/small.pick"

# cwebp reads PNG, JPEG, TIFF and WebP: a GIF is converted to PNG for it
# (same pixels, same output name), before any timing.
cwebp_tree() {
	cw=$scratch/in/$1.cwebp
	[ -d "$cw" ] && return 0
	mkdir -p "$cw"
	while IFS=$tab read -r rel w h loader; do
		case $rel in */*) mkdir -p "$cw/${rel%/*}" ;; esac
		case $loader in
		gifload)
			vips copy "$scratch/in/$1/$rel" "$cw/${rel%.*}.png"
			echo "$1" >>"$scratch/cwebp-converted"
			;;
		*) ln "$scratch/in/$1/$rel" "$cw/$rel" 2>/dev/null || cp "$scratch/in/$1/$rel" "$cw/$rel" ;;
		esac
	done <"$scratch/$1.tsv"
}

megapixels() { awk -F'\t' '{ mp += $2 * $3 / 1e6 } END { printf "%.1f", mp }' "$1"; }

[ -z "$sharp_cli" ] || {
	f=$scratch/in/photos/$(sed -n 1p "$scratch/photos.tsv" | cut -f1)
	if ! node "$sharp_cli" -f webp -o "$scratch/smoke.webp" -i "$f" \
		>"$scratch/smoke.log" 2>&1 || [ ! -s "$scratch/smoke.webp" ]; then
		note "sharp-cli left out: it cannot convert '$f': $(tail -n 1 "$scratch/smoke.log")"
		sharp_cli=
	fi
}

# --- measuring one run ---------------------------------------------------

# sample ROOT OUT: until process ROOT ends, every 0.1 s append to OUT
# "uptime RSS_KB CPU_TICKS" (scripts/proctree.pl): the summed RSS
# and utime + stime of the processes below ROOT, the shells and
# /usr/bin/time left out.
sample() {
	perl "$top/scripts/proctree.pl" "$1" 0.1 >>"$2"
}

# Clock ticks the hypervisor has taken from this machine's CPUs since
# boot (the eighth figure of /proc/stat's cpu line; 0 on bare metal).
# Time stolen during a run was not there for any tool to use.
steal_ticks() { awk '$1 == "cpu" { print $9 + 0; exit }' /proc/stat; }

# What the sampler costs: CPU per sample while it watches a sleep.
( sleep 2 & sample "$!" "$scratch/sampler.test"; times >"$scratch/sampler.times" )
awk -v n="$(wc -l <"$scratch/sampler.test")" '{
		for (i = 1; i <= 2; i++) { split($i, ms, "m"); sub(/s$/, "", ms[2]); s += ms[1] * 60 + ms[2] } }
	END { if (n > 0) printf "the RSS sampler cost %.1f ms CPU a sample, %.0f%% of one CPU at %d samples in 2 s\n",
		s * 1000 / n, s / 2 * 100, n }' "$scratch/sampler.times" >>"$scratch/notes"

# run_tool JOB TOOL REP FUNCTION ROOT EXPECT: time FUNCTION once, in a
# subshell, with the sampler beside it; then check its outputs under
# ROOT against EXPECT (no check when EXPECT is empty) and append a
# record to $scratch/runs.
run_tool() {
	job=$1 tool=$2 rep=$3 fn=$4 root=$5 expect=$6
	progress "job $job, run $rep/$reps: $(label "$job" "$tool")"
	rm -rf "$out"
	mkdir -p "$out"
	# A per-file tool writes into directories made beforehand; imgbake
	# and sharp-cli make their own.
	case $tool in
	imgbake|sharp) ;;
	*) [ ! -s "$scratch/dirs.$job" ] || (cd "$out" && xargs mkdir -p <"$scratch/dirs.$job") ;;
	esac
	: >"$scratch/maxrss"
	samples=$scratch/samples.$job.$tool.$rep
	: >"$samples"
	st0=$(steal_ticks)
	t0=$(date +%s.%N)
	(
		trap - EXIT INT TERM
		st=0
		"$fn" >"$scratch/log" 2>&1 || st=$?
		times >"$scratch/times"
		exit "$st"
	) &
	pid=$!
	sample "$pid" "$samples" &
	spid=$!
	bg="$pid $spid"
	status=0
	wait "$pid" || status=$?
	t1=$(date +%s.%N)
	st1=$(steal_ticks)
	wait "$spid" || true
	bg=
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	# the second line of `times`: the children's "0m1.230000s 0m0.040000s"
	cpu=$(sed -n 2p "$scratch/times" | awk '{
		for (i = 1; i <= 2; i++) { split($i, ms, "m"); sub(/s$/, "", ms[2]); s += ms[1] * 60 + ms[2] }
		printf "%.2f", s }')
	if [ -s "$scratch/maxrss" ]; then
		# "Command exited with non-zero status 1" may come first
		rss=$(awk '/^[0-9]+$/ && $1 + 0 > m { m = $1 + 0 } END { print m + 0 }' "$scratch/maxrss")
	else
		rss=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$samples")
	fi
	[ "$tool" = sharp ] && [ "$job" = 3 ] && sharp_fixup
	verdict=ok
	if [ "$status" -ne 0 ]; then
		verdict="exit $status"
		sed 's/^/  /' "$scratch/log" | tail -n 3 >&2
	fi
	made=- expected=-
	if [ -n "$expect" ]; then
		verify "$root" "$expect"
		if [ "$made" -ne "$expected" ] || [ "$bad" -ne 0 ] || [ "$extra" -ne 0 ]; then
			v="$made of $expected outputs"
			[ "$bad" -eq 0 ] || v="$v, $bad bad"
			[ "$extra" -eq 0 ] || v="$v, $extra unexpected"
			if [ "$verdict" = ok ]; then verdict=$v; else verdict="$verdict, $v"; fi
		fi
	fi
	bytes=$(find "$out" -type f ! -name imgbake-manifest.json -printf '%s\n' |
		awk '{ s += $1 } END { print s + 0 }')
	stolen=$(awk -v a="$st0" -v b="$st1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$job" "$tool" "$rep" "$wall" "$cpu" \
		"$rss" "$bytes" "$verdict" "$stolen" >>"$scratch/runs"
	[ "$verdict" = ok ] || progress "  $(label "$job" "$tool") FAILED: $verdict"
	sync
	rm -rf "$out"
}

# verify ROOT EXPECT: count the outputs EXPECT lists ("path<TAB>width
# <TAB>height", relative to ROOT) and check every eighth: size from the
# header, a full decode by libwebp's or libavif's own tool.  Sets made,
# expected, bad and extra (files under $out that EXPECT does not list).
verify() {
	expected=$(wc -l <"$2")
	step=$(( expected / 8 ))
	[ "$step" -ge 1 ] || step=1
	made=0 bad=0 i=0
	while IFS=$tab read -r rel w h; do
		i=$(( i + 1 ))
		[ -s "$1/$rel" ] || continue
		made=$(( made + 1 ))
		[ $(( i % step )) -eq 0 ] || continue
		check_output "$1/$rel" "$w" "$h" || {
			bad=$(( bad + 1 ))
			echo "bench: bad output '$1/$rel'" >&2
		}
	done <"$2"
	extra=$(( $(find "$out" -type f ! -name imgbake-manifest.json | wc -l) - made ))
}

# check_output FILE WIDTH HEIGHT: FILE decodes at WIDTH x HEIGHT (height
# within one pixel, or both swapped: a tool may not auto-rotate).
check_output() {
	info=$(vipsheader "$1" 2>/dev/null) || return 1
	info=${info##*: }
	dims=${info%% *}
	gw=${dims%x*} gh=${dims#*x}
	awk -v gw="$gw" -v gh="$gh" -v w="$2" -v h="$3" 'BEGIN {
		ok = (gw == w && gh - h <= 1 && h - gh <= 1) || (gh == w && gw - h <= 1 && h - gw <= 1)
		exit !ok }' || return 1
	case $1 in
	*.webp) dwebp "$1" >/dev/null 2>&1 ;;
	*.avif) avifdec --info "$1" >/dev/null 2>&1 ;;
	esac
}

label() {
	case $1:$2 in
	1:imgbake|2:imgbake) echo "imgbake -j$ncpu -f webp -Q 80" ;;
	3:imgbake) echo "imgbake -j$ncpu -f webp,avif -w 480,960,1920" ;;
	*:vips) echo "xargs -P$ncpu vips copy" ;;
	*:im) echo "xargs -P$ncpu convert-im6.q16" ;;
	*:cwebp) echo "xargs -P$ncpu cwebp" ;;
	3:sharp) echo "sharp-cli, once per format and width" ;;
	*:sharp) echo "sharp-cli, all files at once" ;;
	3:sharp1) echo "xargs -P$ncpu sharp-cli, per output" ;;
	*:sharp1) echo "xargs -P$ncpu sharp-cli, per file" ;;
	3:thumb) echo "xargs -P$ncpu vips thumbnail, per output" ;;
	4:photos) echo "djpeg / vips avg, photos" ;;
	4:small) echo "djpeg / vips avg, small images" ;;
	*) echo "$2" ;;
	esac
}

# --- the tools' commands (run inside the timing) -------------------------

out=$scratch/out
sharp_node() {
	UV_THREADPOOL_SIZE=$ncpu xargs -0 -s 1000000 \
		/usr/bin/time -a -f %M -o "$scratch/maxrss" node "$sharp_cli" "$@"
}

fmt_webp() {
	/usr/bin/time -f %M -o "$scratch/maxrss" \
		"$imgbake" -q --timeout 0 -j "$ncpu" -f webp -Q 80 -o "$out" "$in"
}
fmt_vips() { tr '\n' '\0' <"$args" | xargs -0 -P "$ncpu" -n 2 vips copy; }
fmt_im() {
	tr '\n' '\0' <"$args" |
		xargs -0 -P "$ncpu" -n 2 convert-im6.q16 -quality 80 -define webp:method=4
}
fmt_cwebp() {
	# shellcheck disable=SC2016
	tr '\n' '\0' <"$args" |
		xargs -0 -P "$ncpu" -n 2 sh -c 'exec cwebp -quiet -q 80 -m 4 "$1" -o "$2"' sh
}
fmt_sharp() {
	cd "$in"
	tr '\n' '\0' <"$args" | sharp_node -f webp -q 80 --effort 4 -o "$out/{dir}/{name}.webp" -i
}
# one node process a file, as a shell loop over sharp-cli would run it
fmt_sharp1() {
	# shellcheck disable=SC2016
	tr '\n' '\0' <"$args" | xargs -0 -P "$ncpu" -n 2 sh -c \
		'exec node "$1" -f webp -q 80 --effort 4 -o "$3" -i "$2"' sh "$sharp_cli"
}

resp_imgbake() {
	/usr/bin/time -f %M -o "$scratch/maxrss" "$imgbake" -q --timeout 0 -j "$ncpu" \
		-f webp,avif -Q webp=80,avif=50 -w 480,960,1920 -o "$out" "$in"
}
resp_thumb() {
	tr '\n' '\0' <"$args" |
		xargs -0 -P "$ncpu" -n 3 vips thumbnail --height 10000000 --size down
}
# One sharp-cli run per format and width over the sources at least that
# wide; the sources narrower than 480 join the 480 run, which does not
# enlarge them, and are renamed to their own width after the timing.
resp_sharp() {
	cd "$in"
	st=0
	for g in webp:480 webp:960 webp:1920 avif:480 avif:960 avif:1920; do
		fmt=${g%:*} w=${g#*:}
		[ -s "$args.$w" ] || continue
		case $fmt in
		webp) set -- -q 80 --effort 4 ;;
		avif) set -- -q 50 --effort 4 --chromaSubsampling 4:2:0 ;;
		esac
		tr '\n' '\0' <"$args.$w" | sharp_node -f "$fmt" "$@" \
			-o "$out/{dir}/{name}-$w.$fmt" resize "$w" --withoutEnlargement -i || st=1
	done
	return "$st"
}
# one node process an output; args: source, output, width, format
resp_sharp1() {
	# shellcheck disable=SC2016
	tr '\n' '\0' <"$args" | xargs -0 -P "$ncpu" -n 4 sh -c '
		case $5 in
		webp) q="-q 80" ;;
		*) q="-q 50 --chromaSubsampling 4:2:0" ;;
		esac
		exec node "$1" -f "$5" $q --effort 4 -o "$3" resize "$4" --withoutEnlargement -i "$2"' \
		sh "$sharp_cli"
}
sharp_fixup() {
	while IFS=$tab read -r rel w h loader; do
		[ "$w" -lt 480 ] || continue
		for fmt in webp avif; do
			f=$out$in/${rel%.*}
			[ ! -f "$f-480.$fmt" ] || mv "$f-480.$fmt" "$f-$w.$fmt"
		done
	done <"$scratch/$tree.tsv"
}

decode_floor() {
	# shellcheck disable=SC2016
	tr '\n' '\0' <"$args" | xargs -0 -P "$ncpu" -n 2 sh -c \
		'if [ "$1" = jpegload ]; then exec djpeg "$2"; else exec vips avg "$2"; fi' sh >/dev/null
}

# --- jobs ------------------------------------------------------------------

# prepare SET: in, list, the expected outputs' directories.
prepare() {
	tree=$1
	in=$scratch/in/$tree
	list=$scratch/$tree.tsv
	progress "reading the $tree into the page cache"
	find "$in" -type f -exec cat {} + >/dev/null
}

# rounds JOB ROOT_FN TOOLS...: REPS rounds over the tools ("tool:function"),
# the first one rotating.
rounds() {
	r_job=$1
	shift
	r_rep=1
	while [ "$r_rep" -le "$reps" ]; do
		r_first=$(( (r_rep - 1) % $# ))
		r_i=0
		for r_t in "$@" "$@"; do
			r_i=$(( r_i + 1 ))
			[ "$r_i" -gt "$r_first" ] || continue
			[ "$r_i" -le $(( r_first + $# )) ] || continue
			args=$scratch/args.$r_job.${r_t%%:*}
			case $r_t in
			sharp:*) r_root=$out$in ;;
			*) r_root=$out ;;
			esac
			run_tool "$r_job" "${r_t%%:*}" "$r_rep" "${r_t#*:}" "$r_root" \
				"$scratch/expect.$r_job"
		done
		r_rep=$(( r_rep + 1 ))
	done
}

# longest JOB K IMGBAKE_ARGS...: CPU seconds of the costliest of the K
# largest sources of the job's set, each converted alone with -j1.
longest() {
	job=$1 k=$2
	shift 2
	awk -F'\t' '{ print $2 * $3 "\t" $1 }' "$list" | sort -t "$tab" -k1,1nr -k2,2 |
		head -n "$k" | cut -f2 >"$scratch/longest"
	best_cpu=0 best_wall=0 best=
	while IFS= read -r rel; do
		progress "job $job: $rel alone, -j1"
		rm -rf "$scratch/single"
		if ! /usr/bin/time -f '%e %U %S' -o "$scratch/single.time" \
			"$imgbake" -q --timeout 0 -j1 "$@" --base "$in" -o "$scratch/single" "$in/$rel"; then
			note "job $job: imgbake -j1 failed on '$rel'"
			continue
		fi
		read -r e u s <"$scratch/single.time"
		c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
		if awk -v c="$c" -v b="$best_cpu" 'BEGIN { exit !(c > b) }'; then
			best_cpu=$c best_wall=$e best=$rel
		fi
	done <"$scratch/longest"
	rm -rf "$scratch/single"
	printf '%s\t%s\t%s\t%s\n' "$job" "$best_cpu" "$best_wall" "$best" >>"$scratch/longest.all"
}

: >"$scratch/runs"
: >"$scratch/longest.all"
: >"$scratch/jobs"
nk=3
[ -z "$quick" ] || nk=1

# Jobs 1 and 2: full-size WebP.
for job in 1 2; do
	case $only in *$job*) ;; *) continue ;; esac
	case $job in 1) prepare photos ;; 2) prepare small ;; esac
	what="full-size WebP q80, $(wc -l <"$list") $tree"
	printf '%s\t%s\t%s\n' "$job" "$what" "$(megapixels "$list")" >>"$scratch/jobs"
	note "job $job starts at load average $(cut -d' ' -f1-3 /proc/loadavg)"
	awk -F'\t' '{ s = $1; sub(/\.[^.\/]*$/, "", s); print s ".webp\t" $2 "\t" $3 }' \
		"$list" >"$scratch/expect.$job"
	awk -F'\t' '{ n = split($1, p, "/"); d = "."; if (n > 1) { d = $1; sub(/\/[^\/]*$/, "", d) } print d }' \
		"$list" | sort -u >"$scratch/dirs.$job"
	awk -F'\t' -v src="$in" -v out="$out" '{ s = $1; sub(/\.[^.\/]*$/, "", s)
		print src "/" $1; print out "/" s ".webp[Q=80,effort=4]" }' "$list" >"$scratch/args.$job.vips"
	awk -F'\t' -v src="$in" -v out="$out" '{ s = $1; sub(/\.[^.\/]*$/, "", s)
		print src "/" $1; print out "/" s ".webp" }' "$list" >"$scratch/args.$job.im"
	cwebp_tree "$tree"
	awk -F'\t' -v src="$in.cwebp" -v out="$out" '{ s = $1; sub(/\.[^.\/]*$/, "", s)
		f = ($4 == "gifload") ? s ".png" : $1
		print src "/" f; print out "/" s ".webp" }' "$list" >"$scratch/args.$job.cwebp"
	cut -f1 "$list" >"$scratch/args.$job.sharp"
	tools="imgbake:fmt_webp vips:fmt_vips im:fmt_im cwebp:fmt_cwebp"
	cp "$scratch/args.$job.im" "$scratch/args.$job.sharp1"
	[ -z "$sharp_cli" ] || tools="$tools sharp:fmt_sharp sharp1:fmt_sharp1"
	# shellcheck disable=SC2086
	rounds "$job" $tools
	if [ "$job" = 1 ]; then k=$nk; else k=$(( nk > 1 ? 2 : 1 )); fi
	longest "$job" "$k" -f webp -Q 80
done

# Job 3: the responsive set.
case $only in
*3*)
	prepare photos
	job=3
	printf '%s\t%s\t%s\n' "$job" "responsive WebP q80 + AVIF q50 at 480,960,1920, $(wc -l <"$list") photos" \
		"$(megapixels "$list")" >>"$scratch/jobs"
	note "job 3 starts at load average $(cut -d' ' -f1-3 /proc/loadavg)"
	# the widths each source is owed: those it reaches, else its own
	awk -F'\t' '{ n = 0; s = $1; sub(/\.[^.\/]*$/, "", s)
		for (i = 1; i <= 3; i++) { w = 240 * 2 ^ i
			if (w <= $2) { ws[++n] = w } }
		if (!n) ws[++n] = $2
		for (j = 1; j <= n; j++) for (f = 1; f <= 2; f++)
			printf "%s\t%s\t%d\t%d\t%s\n", $1, ws[j], int($3 * ws[j] / $2 + 0.5), f, s
	}' "$list" >"$scratch/owed"
	awk -F'\t' '{ printf "%s-%s.%s\t%s\t%s\n", $5, $2, ($4 == 1 ? "webp" : "avif"), $2, $3 }' \
		"$scratch/owed" >"$scratch/expect.3"
	awk -F'\t' '{ n = split($1, p, "/"); d = "."; if (n > 1) { d = $1; sub(/\/[^\/]*$/, "", d) } print d }' \
		"$list" | sort -u >"$scratch/dirs.3"
	awk -F'\t' -v src="$in" -v out="$out" '{
		print src "/" $1
		if ($4 == 1) printf "%s/%s-%s.webp[Q=80,effort=4]\n", out, $5, $2
		else printf "%s/%s-%s.avif[Q=50,effort=4,compression=av1]\n", out, $5, $2
		print $2 }' "$scratch/owed" >"$scratch/args.3.thumb"
	awk -F'\t' -v src="$in" -v out="$out" '{
		f = ($4 == 1) ? "webp" : "avif"
		print src "/" $1; printf "%s/%s-%s.%s\n", out, $5, $2, f; print $2; print f }' \
		"$scratch/owed" >"$scratch/args.3.sharp1"
	for w in 480 960 1920; do
		awk -F'\t' -v w="$w" '$2 >= w || (w == 480 && $2 < 480) { print $1 }' "$list" \
			>"$scratch/args.3.sharp.$w"
	done
	tools="imgbake:resp_imgbake thumb:resp_thumb"
	[ -z "$sharp_cli" ] || tools="$tools sharp:resp_sharp sharp1:resp_sharp1"
	# shellcheck disable=SC2086
	rounds 3 $tools
	longest 3 "$nk" -f webp,avif -Q webp=80,avif=50 -w 480,960,1920
	;;
esac

# Job 4: the decode floor of both trees.
case $only in
*4*)
	printf '%s\t%s\t%s\n' 4 "decode floor" - >>"$scratch/jobs"
	note "job 4 starts at load average $(cut -d' ' -f1-3 /proc/loadavg)"
	: >"$scratch/dirs.4"
	for s in photos small; do
		prepare "$s"
		awk -F'\t' -v src="$in" '{ print $4; print src "/" $1 }' "$list" >"$scratch/args.4.$s"
		printf '%s\t%s\n' "$s" "$(megapixels "$list")" >>"$scratch/floor.mp"
	done
	rep=1
	while [ "$rep" -le "$reps" ]; do
		for s in photos small; do
			tree=$s in=$scratch/in/$s list=$scratch/$s.tsv
			args=$scratch/args.4.$s
			run_tool 4 "$s" "$rep" decode_floor "$out" ''
		done
		rep=$(( rep + 1 ))
	done
	;;
esac

# --- report ---------------------------------------------------------------

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
imgbake_failed=$(awk -F'\t' '$2 == "imgbake" && $8 != "ok"' "$scratch/runs" | wc -l)

version() { "$@" 2>&1 | sed -n 1p; }
echo "imgbake bench${quick:+ (quick)}: $ncpu CPUs," \
	"$(awk '/^MemTotal/ { printf "%.1f GB", $2 * 1024 / 1e9 }' /proc/meminfo) RAM," \
	"$reps run(s) a tool, load average $load_start at start, $load_end at end"
echo
echo "versions:"
echo "  $("$imgbake" --version), built $built, source tree at $src_tree"
echo "  vips: $(version vips --version)"
echo "  ImageMagick: $(convert-im6.q16 -version | sed -n '1s/^Version: ImageMagick //p')"
echo "  cwebp: $(version cwebp -version) (libwebp)"
echo "  avifenc/avifdec: $(avifenc --version 2>&1 | sed -n '1s/^Version: //p')"
echo "  djpeg: $(version djpeg -version)"
if [ -n "$sharp_cli" ]; then
	sdir=${sharp_cli%/sharp-cli/bin/cli.js}
	echo "  node $(node --version), sharp-cli $(node -p "require('$sdir/sharp-cli/package.json').version")," \
		"sharp $(node -p "require('$sdir/sharp/package.json').version")" \
		"(bundled libvips $(node -p "require('$sdir/sharp').versions.vips" 2>/dev/null || echo '?'))"
else
	echo "  sharp-cli: not run"
fi
echo

# Medians per job and tool, in the order the tools first ran.
{
	sed 's/^/J\t/' "$scratch/jobs"
	[ ! -s "$scratch/floor.mp" ] || sed 's/^/F\t/' "$scratch/floor.mp"
	sed 's/^/R\t/' "$scratch/runs"
	for j in 1 2 3; do
		for t in imgbake vips im cwebp sharp sharp1 thumb; do
			printf 'L\t%s\t%s\t%s\n' "$j" "$t" "$(label "$j" "$t")"
		done
	done
	printf 'L\t4\tphotos\t%s\n' "$(label 4 photos)"
	printf 'L\t4\tsmall\t%s\n' "$(label 4 small)"
} | awk -F'\t' -v ncpu="$ncpu" '
	function median(s,   n, a, i, j, t) {
		n = split(s, a, " ")
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	$1 == "J" { jobname[$2] = $3; mp[$2] = $4 }
	$1 == "F" { fmp[$2] = $3 }
	$1 == "L" { lab[$2 SUBSEP $3] = $4 }
	$1 == "R" {
		k = $2 SUBSEP $3
		if (!(k in walls)) { order[++n] = k; jobof[n] = $2; toolof[n] = $3 }
		walls[k] = walls[k] " " $5; cpus[k] = cpus[k] " " $6
		cores[k] = cores[k] " " ($5 > 0 ? $6 / $5 : 0)
		steal[k] = steal[k] " " ($5 > 0 ? 100 * $10 / ($5 * ncpu) : 0)
		if (!(k in lo) || $5 + 0 < lo[k]) lo[k] = $5 + 0
		if ($5 + 0 > hi[k]) hi[k] = $5 + 0
		if ($7 > rss[k]) rss[k] = $7
		bytes[k] = $8
		if ($9 != "ok") bad[k] = $9
	}
	END {
		fmt = "%-3s %-44s %8s %13s %8s %5s %6s %7s %7s %7s %9s  %s\n"
		printf fmt, "job", "tool", "wall s", "runs s", "CPU s", "cores", "stolen", "RSS MB", "MP/s", "out MB", "imgbake x", "status"
		for (i = 1; i <= n; i++) {
			k = order[i]; j = jobof[i]; t = toolof[i]
			w[k] = median(walls[k])
			if (t == "imgbake") iw[j] = bad[k] == "" ? w[k] : 0
		}
		for (i = 1; i <= n; i++) {
			k = order[i]; j = jobof[i]; t = toolof[i]
			if (j != last) {
				printf "%s: %s, %s MP\n", j, jobname[j], j == 4 ? "photos " fmp["photos"] " / small " fmp["small"] : mp[j]
				last = j
			}
			m = (j == 4) ? fmp[t] : mp[j]
			c = median(cpus[k])
			ratio = "-"
			if (t != "imgbake" && j != 4 && iw[j] > 0 && bad[k] == "")
				ratio = sprintf("%.2f", w[k] / iw[j])
			printf fmt, j, lab[k], sprintf("%.2f", w[k]),
				sprintf("%.1f-%.1f", lo[k], hi[k]), sprintf("%.1f", c),
				sprintf("%.2f", median(cores[k])), sprintf("%.1f%%", median(steal[k])),
				sprintf("%.0f", rss[k] * 1024 / 1e6),
				bad[k] == "" ? sprintf("%.1f", w[k] > 0 ? m / w[k] : 0) : "-",
				j == 4 ? "-" : sprintf("%.1f", bytes[k] / 1e6), ratio,
				bad[k] == "" ? "ok" : "FAILED: " bad[k]
		}
	}'
echo "(medians of the runs, fastest-slowest wall under \"runs s\"; cores = CPU / wall;"
echo " stolen = CPU time the hypervisor took from this machine during the run, in % of"
echo " wall x $ncpu CPUs;"
echo " RSS MB = 1e6 bytes, peak over the runs, summed over concurrent processes for the"
echo " per-file tools; imgbake x = tool wall / imgbake wall, above 1: imgbake is faster)"
echo

# Ideal wall times and imgbake's distance from them.
if [ -s "$scratch/longest.all" ]; then
	while IFS=$tab read -r job c1 w1 rel; do
		awk -F'\t' -v job="$job" -v c1="$c1" -v w1="$w1" -v rel="$rel" -v n="$ncpu" '
			function median(s,   m, a, i, j, t) {
				m = split(s, a, " ")
				for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
					t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
				return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
			}
			$1 == job && $2 == "imgbake" { w = w " " $4; c = c " " $5; s = s " " ($4 > 0 ? $9 / $4 : 0) }
			END {
				w = median(w); c = median(c); s = median(s)
				ideal = c / n > c1 ? c / n : c1
				printf "job %s ideal %.2f s = max(longest image %.2f s CPU (%s, %.2f s wall alone at -j1), CPU %.1f s / %d); imgbake %.2f s = %.2fx ideal\n",
					job, ideal, c1, rel, w1, c, n, w, (ideal > 0 ? w / ideal : 0)
				# the CPUs the hypervisor left: n less what it stole, per second
				if (s > 0 && s < n) {
					left = c / (n - s) > c1 ? c / (n - s) : c1
					printf "job %s ideal on the %.2f CPUs left after %.2f stolen: %.2f s; imgbake %.2fx that\n",
						job, n - s, s, left, w / left
				}
			}' "$scratch/runs"
	done <"$scratch/longest.all"
fi

# Encoding against decoding: imgbake's wall over the decode floor.
awk -F'\t' '
	function median(s,   m, a, i, j, t) {
		m = split(s, a, " ")
		for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	$2 == "imgbake" { w[$1] = w[$1] " " $4 }
	$1 == 4 { f[$2] = f[$2] " " $4 }
	END {
		if (1 in w && "photos" in f)
			printf "job 1 imgbake takes %.1fx the decode floor of the photos\n", median(w[1]) / median(f["photos"])
		if (2 in w && "small" in f)
			printf "job 2 imgbake takes %.1fx the decode floor of the small images\n", median(w[2]) / median(f["small"])
	}' "$scratch/runs"

# How busy imgbake kept the CPUs, per tenth of its median run.
for job in 1 2 3; do
	awk -F'\t' -v job="$job" '$1 == job && $2 == "imgbake" { print $4 "\t" $3 }' "$scratch/runs" |
		sort -n | awk -v n="$reps" 'NR == int((n + 1) / 2) { print $2 }' >"$scratch/medrep"
	rep=$(cat "$scratch/medrep")
	[ -n "$rep" ] || continue
	[ -s "$scratch/samples.$job.imgbake.$rep" ] || continue
	awk -v job="$job" -v hz="$hz" -v n="$ncpu" '
		{ t[NR] = $1; c[NR] = $3 }
		END {
			if (NR < 3) exit
			span = t[NR] - t[1]
			for (i = 2; i <= NR; i++) {
				b = int((t[i] - t[1]) / span * 10 - 1e-9); if (b > 9) b = 9
				# the sum drops when a process ends: no delta then
				if (c[i] >= c[i - 1]) busy[b] += (c[i] - c[i - 1]) / hz
				dur[b] += t[i] - t[i - 1]
			}
			line = sprintf("job %s imgbake, cores busy per tenth of the run (of %d):", job, n)
			for (b = 0; b < 10; b++) line = line sprintf(" %.1f", dur[b] > 0 ? busy[b] / dur[b] : 0)
			print line
		}' "$scratch/samples.$job.imgbake.$rep"
done

# The cost of one small image, where per-file overhead shows.
awk -F'\t' -v n="$(wc -l <"$scratch/small.tsv")" '$1 == 2 { c[$2] = c[$2] " " $5; if (!($2 in c0)) { o[++k] = $2; c0[$2] = 1 } }
	END {
		if (!k) exit
		line = "job 2 CPU per image (median run):"
		for (i = 1; i <= k; i++) {
			m = split(c[o[i]], a, " ")
			for (x = 2; x <= m; x++) for (y = x; y > 1 && a[y - 1] + 0 > a[y] + 0; y--) { t = a[y]; a[y] = a[y - 1]; a[y - 1] = t }
			med = m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
			line = line sprintf(" %s %.1f ms,", o[i], med * 1000 / n)
		}
		sub(/,$/, "", line); print line
	}' "$scratch/runs"

[ ! -s "$scratch/cwebp-converted" ] ||
	echo "cwebp read $(wc -l <"$scratch/cwebp-converted") GIF(s) converted to PNG before the timing"
[ -z "$sharp_cli" ] || echo "sharp-cli ran with UV_THREADPOOL_SIZE=$ncpu when given all the files, with its defaults per file; its default libvips concurrency"
cat "$scratch/notes"
echo "total $(( $(date +%s) - start_all )) s"
[ "$imgbake_failed" -eq 0 ] || exit 1
