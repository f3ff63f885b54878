#!/bin/sh
# Memory benchmark for imgbake's budget (-M): peak RSS of large, mixed and
# many-small batches against the budget, beside xargs + vips and
# ImageMagick over the same files.
#
#   scripts/bench-memory.sh [--quick]
#
# Inputs are made once from the real photos in Debian's wallpaper packages
# (scripts/corpus.sh, then vips resize/crop) under
# ${TMPDIR:-/tmp}/imgbake-bench-memory and reused by later runs.  Peak RSS
# of imgbake is ru_maxrss from /usr/bin/time -v; process trees started by
# xargs are sampled instead (sum of the tools' RSS from /proc/PID/stat,
# every 0.1 s), which can miss short peaks.  MB is 1e6 bytes.  A run is
# within its budget when its peak RSS is at most the budget plus the
# baseline (the peak RSS of converting one 64x64 image); a job whose own
# estimate exceeds the budget runs alone by design, and such a run is
# judged against that estimate instead.  ONLY=bd (letters of the
# scenarios below) runs a subset after the baseline.  The 24 MP runs
# use 50 copies, the slow ones (AVIF, and one process per file) the first
# 20; --quick makes that 10 and 10, with 300 small files instead of 2000
# and no 100 MP image, for a smoke run.  IMGBAKE names the binary (default
# ./imgbake at the repository top).  Exits 1 when a run fails or exceeds
# its budget, 2 when a tool is missing.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
imgbake=${IMGBAKE:-./imgbake}
inputs=${TMPDIR:-/tmp}/imgbake-bench-memory

quick=
case ${1-} in
'') ;;
--quick) quick=1 ;;
*) echo "usage: scripts/bench-memory.sh [--quick]" >&2; exit 2 ;;
esac
if [ -n "$quick" ]; then
	ncopies=10 nsub=10 nsmall=300
else
	ncopies=50 nsub=20 nsmall=2000
fi

die() {
	echo "bench-memory.sh: $*" >&2
	exit 2
}
for tool in vips vipsheader jq awk xargs convert-im6.q16 /usr/bin/time; do
	command -v "$tool" >/dev/null ||
		die "$tool not found (scripts/deps.sh bench installs it)"
done
case $imgbake in
/*) ;;
*) imgbake=$top/${imgbake#./} ;;
esac
[ -x "$imgbake" ] || die "no executable '$imgbake' (run make)"

export LC_ALL=C
scratch=$(mktemp -d "${TMPDIR:-/tmp}/imgbake-bench-memory-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A copy, so that a rebuild during the run cannot mix two builds.
cp "$imgbake" "$scratch/imgbake"
imgbake=$scratch/imgbake
has_memory=
"$imgbake" --help | grep -q -- '--memory' && has_memory=1
start_all=$(date +%s)

note() { printf '%s\n' "$*" >>"$scratch/notes"; }
progress() { echo "bench-memory: [$(( $(date +%s) - start_all )) s] $*" >&2; }

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

# The real (not derived) JPEGs of the corpus, largest first.
find "$inputs/corpus" -type f -name '*.jpg' ! -path '*/derived/*' | sort |
	while IFS= read -r f; do
		dims "$f"
		printf '%s\t%s\t%s\n' $(( w * h )) "${w}x$h" "$f"
	done | sort -t "$(printf '\t')" -k1,1nr -k3,3 | cut -f3 >"$scratch/photos"
[ -s "$scratch/photos" ] || die "no JPEG photos in $inputs/corpus"
photo=$(head -n 1 "$scratch/photos")
# The real PNGs with an alpha channel, for the mixed tree.
find "$inputs/corpus" -type f -name '*.png' ! -path '*/derived/*' | sort |
	while IFS= read -r f; do
		[ "$(vipsheader -f bands "$f")" = 4 ] && printf '%s\n' "$f"
	done >"$scratch/alpha" || true
alpha=$(head -n 1 "$scratch/alpha")
[ -n "$alpha" ] || alpha=$photo

# fill_to W H SRC DST: scale SRC to cover WxH, then crop the centre.
fill_to() {
	dims "$3"
	scale=$(awk -v W="$1" -v H="$2" -v w="$w" -v h="$h" \
		'BEGIN { s = W / w; if (H / h > s) s = H / h; printf "%.6f", s * 1.0002 }')
	vips resize "$3" "$scratch/fill.v" "$scale"
	dims "$scratch/fill.v"
	vips crop "$scratch/fill.v" "$4" $(( (w - $1) / 2 )) $(( (h - $2) / 2 )) "$1" "$2"
	rm -f "$scratch/fill.v"
}

if [ ! -s "$inputs/tiny.jpg" ]; then
	vips thumbnail "$photo" "$scratch/tiny.jpg[Q=85,strip]" 64 --height 64 --crop centre
	mv "$scratch/tiny.jpg" "$inputs/tiny.jpg"
fi
mkdir -p "$inputs/tiny"
[ -e "$inputs/tiny/tiny.jpg" ] || ln "$inputs/tiny.jpg" "$inputs/tiny/tiny.jpg"

if [ ! -s "$inputs/big24.jpg" ]; then
	progress "making a 6000x4000 JPEG from ${photo##*/}"
	fill_to 6000 4000 "$photo" "$scratch/big24.jpg[Q=90]"
	mv "$scratch/big24.jpg" "$inputs/big24.jpg"
fi
# The copies differ by a JPEG comment after the SOI marker, so that the
# pixels are the same but imgbake cannot convert them once as duplicates.
mkdir -p "$inputs/copies"
i=1
while [ "$i" -le "$ncopies" ]; do
	n=$(printf '%03d' "$i")
	if [ ! -e "$inputs/copies/c$n.jpg" ]; then
		{
			printf '\377\330\377\376\000\012copy %s' "$n"
			tail -c +3 "$inputs/big24.jpg"
		} >"$inputs/copies/c$n.tmp"
		mv "$inputs/copies/c$n.tmp" "$inputs/copies/c$n.jpg"
	fi
	echo "copies/c$n.jpg" >>"$scratch/copies"
	i=$(( i + 1 ))
done
# b runs over all the copies; c and f, the slow ones, over the first nsub.
head -n "$nsub" "$scratch/copies" >"$scratch/copies-sub"

# A mixed tree of 30 files: icons, small, the corpus' real images, large
# and interlaced variants, and one ~100 MP JPEG.
if [ ! -d "$inputs/mixed" ]; then
	progress "making the mixed tree"
	m=$inputs/mixed.tmp
	rm -rf "$m"
	mkdir -p "$m/icons" "$m/small" "$m/medium" "$m/large" "$m/huge"
	p2=$(sed -n 2p "$scratch/photos") p3=$(sed -n 3p "$scratch/photos")
	: "${p2:=$photo}" "${p3:=$photo}"
	vips thumbnail "$photo" "$m/icons/photo-64.jpg[Q=85]" 64 --height 64 --crop centre
	vips thumbnail "$alpha" "$m/icons/alpha-64.png" 64 --height 64 --crop centre
	vips thumbnail "$alpha" "$m/icons/alpha-32.png" 32 --height 32 --crop centre
	vips thumbnail "$p2" "$m/icons/photo-48.jpg[Q=85]" 48 --height 48 --crop centre
	vips thumbnail "$p3" "$m/icons/photo-128.webp" 128 --height 128 --crop centre
	vips thumbnail "$p2" "$m/icons/photo-96.png" 96 --height 96 --crop centre
	vips thumbnail "$photo" "$m/small/photo-320.jpg[Q=85]" 320
	vips thumbnail "$p2" "$m/small/photo-480.jpg[Q=85]" 480
	vips thumbnail "$p3" "$m/small/photo-640.png" 640
	vips thumbnail "$alpha" "$m/small/alpha-400.png" 400
	vips thumbnail "$photo" "$m/small/photo-800.webp" 800
	vips thumbnail "$p2" "$m/small/photo-1024.jpg[Q=85,interlace]" 1024
	find "$inputs/corpus" -type f ! -path '*/derived/*' | sort |
		awk 'NR % 5 != 0' | head -n 12 | while IFS= read -r f; do
			cp "$f" "$m/medium/"
		done
	ln "$inputs/big24.jpg" "$m/large/photo-24mp.jpg"
	fill_to 4200 2800 "$p2" "$m/large/photo-12mp-progressive.jpg[Q=85,interlace]"
	fill_to 4900 3270 "$alpha" "$m/large/alpha-16mp.png"
	fill_to 4000 3000 "$p3" "$m/large/photo-12mp.webp[Q=80]"
	fill_to 3000 2000 "$photo" "$m/large/photo-6mp-interlaced.png[interlace]"
	fill_to 12240 8160 "$photo" "$m/huge/photo-100mp.jpg[Q=85]"
	mv "$m" "$inputs/mixed"
fi

# Small and medium images (0.05-2 MP), 100 a directory, cut from the
# photos by vips crop (9 in 10) and vips resize (1 in 10), one vips call a
# file, two at a time; a directory is renamed into place when complete.
gen_small() {
	want_dirs=$(( ($1 + 99) / 100 ))
	missing=
	d=0
	while [ "$d" -lt "$want_dirs" ]; do
		dn=$(printf 'd%02d' "$d")
		[ -d "$inputs/small/$dn" ] || missing="$missing $d"
		d=$(( d + 1 ))
	done
	[ -n "$missing" ] || return 0
	progress "cutting $(( $(echo "$missing" | wc -w) * 100 )) small images"
	mkdir -p "$inputs/small" "$scratch/src"
	nphotos=0
	while IFS= read -r f; do
		vips copy "$f" "$scratch/src/p$nphotos.v"
		dims "$scratch/src/p$nphotos.v"
		echo "$scratch/src/p$nphotos.v $w $h" >>"$scratch/src/list"
		nphotos=$(( nphotos + 1 ))
	done <"$scratch/photos"
	for d in $missing; do
		dn=$(printf 'd%02d' "$d")
		out=$inputs/small/$dn.tmp
		rm -rf "$out"
		mkdir "$out"
		# A Park-Miller generator seeded by the directory number keeps
		# the tree the same from run to run.
		awk -v d="$d" -v out="$out" '
			function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
			{ src[NR - 1] = $1; sw[NR - 1] = $2; sh[NR - 1] = $3; n = NR }
			END {
				seed = 1000 + d * 7919
				split("1.333 1.5 1.778 1 0.667 0.75", ars, " ")
				for (i = 0; i < 100; i++) {
					k = d * 100 + i
					s = k % n
					area = 0.05e6 * exp(rnd() * log(40))
					ar = ars[int(rnd() * 6) + 1]
					w = int(sqrt(area * ar)); h = int(area / w)
					if (w > sw[s]) w = sw[s]
					if (h > sh[s]) h = sh[s]
					ext = (k % 7 == 3) ? "png" : "jpg[Q=85,strip]"
					name = sprintf("%s/s%04d.%s", out, k, ext)
					if (k % 10 == 9)
						printf "resize %s %s %.5f\n", src[s], name, sqrt(area / (sw[s] * sh[s]))
					else
						printf "crop %s %s %d %d %d %d\n", src[s], name,
							int(rnd() * (sw[s] - w)), int(rnd() * (sh[s] - h)), w, h
				}
			}' "$scratch/src/list" >"$scratch/cmds"
		grep '^crop ' "$scratch/cmds" | xargs -P 2 -n 7 vips
		grep '^resize ' "$scratch/cmds" | xargs -P 2 -n 4 vips
		mv "$out" "$inputs/small/$dn"
	done
	rm -rf "$scratch/src"
}
gen_small "$nsmall"
small_dirs=
d=0
while [ "$d" -lt $(( (nsmall + 99) / 100 )) ]; do
	small_dirs="$small_dirs small/$(printf 'd%02d' "$d")"
	d=$(( d + 1 ))
done

# --- measuring ------------------------------------------------------------

# sample ROOT COMMS INTERVAL OUT: until process ROOT exits (or is a
# zombie waiting to be reaped), append "uptime rss-kB ticks" to OUT every
# INTERVAL s (scripts/proctree.pl): the summed RSS of ROOT's descendants
# (ROOT included) whose command name is in the list COMMS.
sample() {
	perl "$top/scripts/proctree.pl" "$1" "$3" "$2" >>"$4"
}

# Row of the result table: scenario, options, wall s, images/s, peak RSS
# MB, budget MB, verdict.
row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$scratch/rows"
}

failures=0
baseline_kb=

# run_imgbake SCENARIO LABEL MEMORY SAMPLE ARGS...: convert ARGS (paths
# relative to the inputs) with -v, -M MEMORY unless MEMORY is empty, under
# /usr/bin/time -v; with SAMPLE set, also sample the RSS every SAMPLE s.
# Sets wall, rss_kb, budget (bytes, empty when unknown) and converted.
run_imgbake() {
	scenario=$1 label=$2 memory=$3 interval=$4
	shift 4
	if [ -n "$memory" ] && [ -n "$has_memory" ]; then
		set -- -M "$memory" "$@"
	fi
	progress "$scenario: imgbake $label"
	rm -rf "$scratch/out"
	: >"$scratch/samples"
	: >"$scratch/err"
	t0=$(date +%s.%N)
	(cd "$inputs" && exec /usr/bin/time -v -o "$scratch/time" \
		"$imgbake" -v -o "$scratch/out" "$@" 2>"$scratch/err") &
	pid=$!
	[ -z "$interval" ] || sample "$pid" imgbake "$interval" "$scratch/samples"
	status=0
	wait "$pid" || status=$?
	t1=$(date +%s.%N)
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$scratch/time")
	manifest=$scratch/out/imgbake-manifest.json
	budget='' converted=0
	if [ -s "$manifest" ]; then
		budget=$(jq -r '.summary.memory.budget // empty' "$manifest")
		converted=$(jq -r '.summary.converted' "$manifest")
	fi
	verdict=-
	if [ "$status" -ne 0 ]; then
		verdict="failed (exit $status)"
		failures=$(( failures + 1 ))
		sed 's/^/  /' "$scratch/err" | grep -v "^  imgbake: converted '" | tail -n 5 >&2
	elif [ -n "$baseline_kb" ] && [ -n "$budget" ]; then
		# a job whose estimate alone exceeds the budget runs alone: the
		# bound is then that estimate
		limit=$(sed -n 's/.*, estimate \([0-9.]*\) MB$/\1/p' "$scratch/err" |
			awk -v b="$budget" '{ e = $1 * 1e6 } e > m { m = e } END { printf "%.0f", (m > b ? m : b) }')
		if [ $(( rss_kb * 1024 )) -le $(( limit + baseline_kb * 1024 )) ]; then
			verdict=yes
			[ "$limit" -le "$budget" ] || verdict="yes (lone job over budget, within its estimate)"
		else
			verdict=no
			failures=$(( failures + 1 ))
		fi
	elif [ -n "$baseline_kb" ]; then
		verdict="n/a (no -M)"
	fi
	budget_mb=-
	[ -z "$budget" ] || budget_mb=$(awk -v b="$budget" 'BEGIN { printf "%.0f", b / 1e6 }')
	row "$scenario" "$label" "$wall" \
		"$(awk -v n="$converted" -v t="$wall" 'BEGIN { printf "%.2f", (t > 0 ? n / t : 0) }')" \
		"$(awk -v k="$rss_kb" 'BEGIN { printf "%.0f", k * 1024 / 1e6 }')" \
		"$budget_mb" "$verdict"
	# imgbake's own account, and the largest single-job estimate.
	est=$(sed -n 's/.*, estimate \([0-9.]*\) MB$/\1/p' "$scratch/err" |
		sort -n | tail -n 1)
	own=$(sed -n 's/^imgbake: memory: //p' "$scratch/err")
	over=
	if [ -n "$est" ] && [ -n "$budget" ] &&
		awk -v e="$est" -v b="$budget" 'BEGIN { exit !(e * 1e6 > b) }'; then
		over=" (over the budget: such jobs run alone)"
	fi
	[ -z "$own$est" ] ||
		note "$scenario $label: ${own:-no memory line}${est:+; largest estimate $est MB$over}"
	rm -rf "$scratch/out"
}

# run_xargs SCENARIO LABEL COMM CMD: run sh -c CMD (with $1 a source,
# $OUT the output directory) over the first nsub copies, 8 at a time, sampling
# the summed RSS of the processes named COMM every 0.1 s.
run_xargs() {
	scenario=$1 label=$2 comm=$3 cmd=$4
	progress "$scenario: $label"
	rm -rf "$scratch/xout"
	: >"$scratch/samples"
	mkdir "$scratch/xout"
	OUT=$scratch/xout
	export OUT
	t0=$(date +%s.%N)
	sed "s#^#$inputs/#" "$scratch/copies-sub" | tr '\n' '\0' |
		xargs -0 -P 8 -n 1 sh -c "$cmd" _ &
	pid=$!
	sample "$pid" "$comm" 0.1 "$scratch/samples"
	status=0
	wait "$pid" || status=$?
	t1=$(date +%s.%N)
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	made=$(find "$scratch/xout" -name '*.webp' | wc -l)
	peak=$(awk '$2 > m { m = $2 } END { printf "%.0f", m * 1024 / 1e6 }' "$scratch/samples")
	verdict=-
	if [ "$status" -ne 0 ] || [ "$made" -ne "$nsub" ]; then
		verdict="failed ($made of $nsub made)"
	fi
	row "$scenario" "$label" "$wall" \
		"$(awk -v n="$made" -v t="$wall" 'BEGIN { printf "%.2f", (t > 0 ? n / t : 0) }')" \
		"$peak" - "$verdict"
	rm -rf "$scratch/xout"
}

# --- scenarios --------------------------------------------------------------

# ONLY=bd runs the baseline and scenarios b and d alone.
want() {
	case ${ONLY:-bcdef} in
	*"$1"*) return 0 ;;
	esac
	return 1
}

inputs_s=$(( $(date +%s) - start_all ))

# a. Baseline: one tiny image.
run_imgbake a "64x64 JPEG -> webp" '' '' tiny
baseline_kb=$rss_kb
note "a baseline: peak RSS $(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }') MB"

if want b; then
# b. The same 24 MP JPEG, many times, to WebP.
run_imgbake b "$ncopies x 24 MP -j 8 -M 256M" 256M 0.1 -j 8 -T "$scratch/copies"
sampled=$(awk '$2 > m { m = $2 } END { printf "%.0f", m * 1024 / 1e6 }' "$scratch/samples")
note "b -j 8: sampled every 0.1 s like f, max RSS $sampled MB"
for j in 2 4 16; do
	run_imgbake b "$ncopies x 24 MP -j $j -M 256M" 256M '' -j "$j" -T "$scratch/copies"
done

fi

if want c; then
# c. The same copies to two formats at three widths.
run_imgbake c "$nsub x 24 MP -f webp,avif -w 480,960,1920 -j 8 -M 256M" 256M '' \
	-f webp,avif -w 480,960,1920 -j 8 -T "$scratch/copies-sub"

fi

if want d; then
# d. A mixed tree at several budgets, as a web site converts it (three
# widths: the budget must hold), then at full size (the 100 MP JPEG
# needs ~800 MB in libwebp alone: below that budget it runs alone, and
# is judged against its own estimate).
# --quick leaves out the 100 MP image.
mixed=mixed
[ -z "$quick" ] || mixed='mixed/icons mixed/small mixed/medium mixed/large'
nmixed=0
for dir in $mixed; do
	nmixed=$(( nmixed + $(find "$inputs/$dir" -type f | wc -l) ))
done
for mem in 128M 512M 2G ''; do
	# shellcheck disable=SC2086
	run_imgbake d "$nmixed mixed -w 480,960,1920 -M ${mem:-default}" "$mem" '' \
		-w 480,960,1920 $mixed
	case $mem in
	2G) ips_2g=$(awk -v n="$converted" -v t="$wall" 'BEGIN { printf "%.2f", n / t }') ;;
	'') ips_default=$(awk -v n="$converted" -v t="$wall" 'BEGIN { printf "%.2f", n / t }') ;;
	esac
done
note "d throughput, 3 widths: -M 2G $ips_2g images/s, default $ips_default images/s"
for mem in 128M 2G ''; do
	# shellcheck disable=SC2086
	run_imgbake d "$nmixed mixed full size -M ${mem:-default}" "$mem" '' $mixed
	case $mem in
	2G) ips_2g=$(awk -v n="$converted" -v t="$wall" 'BEGIN { printf "%.2f", n / t }') ;;
	'') ips_default=$(awk -v n="$converted" -v t="$wall" 'BEGIN { printf "%.2f", n / t }') ;;
	esac
done
note "d throughput, full size: -M 2G $ips_2g images/s, default $ips_default images/s"

fi

if want e; then
# e. Many small images in one run: RSS early and late.
# shellcheck disable=SC2086
run_imgbake e "$nsmall small (0.05-2 MP)" '' 0.2 $small_dirs
# Sources are reported in path order, not as they finish, so the run is
# cut by time: the peak over its second tenth against its ninth.
awk '
	{ t[NR] = $1; r[NR] = $2 }
	END {
		if (NR < 10) { print "e RSS: too few samples"; exit }
		span = t[NR] - t[1]
		for (i = 1; i <= NR; i++) {
			b = int((t[i] - t[1]) / span * 10 - 1e-9)
			if (b == 1 && r[i] > e) e = r[i]
			if (b == 8 && r[i] > l) l = r[i]
		}
		if (!e || !l) { print "e RSS: too few samples"; exit }
		printf "e RSS peak over the second tenth of the run: %.1f MB; over the ninth: %.1f MB; late/early %.3f (goal: within 10%%)\n",
			e * 1024 / 1e6, l * 1024 / 1e6, l / e
	}' "$scratch/samples" >>"$scratch/notes"

fi

if want f; then
# f. One process per file, eight at a time.
# shellcheck disable=SC2016
run_xargs f "$nsub x 24 MP xargs -P 8 vips copy" vips \
	'vips copy "$1" "$OUT/$(basename "$1" .jpg).webp"'
# shellcheck disable=SC2016
run_xargs f "$nsub x 24 MP xargs -P 8 convert-im6.q16" convert-im6.q16 \
	'convert-im6.q16 "$1" "$OUT/$(basename "$1" .jpg).webp"'

fi

# --- report ---------------------------------------------------------------

echo "imgbake bench-memory${quick:+ (quick)}: $("$imgbake" --version), $(nproc) CPUs," \
	"$(awk '/^MemTotal/ { printf "%.1f GB", $2 * 1024 / 1e9 }' /proc/meminfo) RAM"
echo
awk -F'\t' '
	BEGIN { printf "%-3s %-52s %7s %8s %9s %9s  %s\n", "sc", "options", "wall s",
		"images/s", "peak RSS", "budget", "within budget+baseline" }
	{ printf "%-3s %-52s %7s %8s %9s %9s  %s\n", $1, $2, $3, $4, $5, $6, $7 }' "$scratch/rows"
echo "(peak RSS and budget in MB = 1e6 bytes; f is the sampled sum over concurrent processes)"
echo
cat "$scratch/notes"
echo "total $(( $(date +%s) - start_all )) s ($inputs_s s making or checking inputs)"
[ "$failures" -eq 0 ] || exit 1
