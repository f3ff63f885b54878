#!/bin/sh
# -j1 and -j4 give byte-identical outputs, manifest and messages.  The
# manifest's summary.memory (budget and measured peak RSS) is the one
# part that is not about the outputs; it is set aside before comparing.
# On two CPUs or more, -j1 gives each job two libvips threads and -j4
# one, so this also holds WebP's two ways in: strips from libvips'
# threadpool and strips computed on the job's own thread.
. "$(dirname "$0")/lib.sh"

mkimg src/a.jpg 240x160
mkimg src/b.png 200x200 4
mkimg src/c.webp 160x240
mkimg src/d/e.jpg 300x100
mkimg src/d/f.png 100x300 1
mkimg src/d/g/h.jpg 64x64
mkimg src/i.jpg 200x150
head -c 300 src/i.jpg >src/d/broken.jpg
rm src/i.jpg
echo text >src/d/notes.txt
formats=webp,jpeg,png
have_saver avif && formats=$formats,avif

run -j1 -f $formats -w 64,128 -o o1 src
rc1=$rc
err1=$(printf '%s\n' "$err" | sed '$d')
run -j4 -f $formats -w 64,128 -o o4 src
rc4=$rc
err4=$(printf '%s\n' "$err" | sed '$d')

is "$rc1" 1 "-j1: exit 1 for the broken source"
is "$rc4" "$rc1" "-j4: the same exit status"
list=$(files o1)
is "$(files o4)" "$list" "-j1 and -j4 write the same files"
cmp_ok "$(printf '%s\n' "$list" | wc -l)" -ge 25 "and there are many of them"
same=0
json_stable o1/imgbake-manifest.json >m1.json
json_stable o4/imgbake-manifest.json >m4.json
cmp -s m1.json m4.json
ok $? "the manifests are identical but for the memory figures"
rm -f m1.json m4.json
for f in $list; do
	[ "$f" = imgbake-manifest.json ] && continue
	if ! cmp -s "o1/$f" "o4/$f"; then
		diag "differs: $f"
		case $f in
		*.json) diag "$(diff "o1/$f" "o4/$f")" ;;
		esac
		same=1
	fi
done
ok $same "every output is byte-identical"
is "$err4" "$err1" "the failure messages come in the same order"

run -j16 -f webp -o o16 src
run -j1 -f webp -o o1b src
json_stable o16/imgbake-manifest.json >m16.json
json_stable o1b/imgbake-manifest.json >m1b.json
cmp -s m16.json m1b.json
ok $? "-j16 with fewer sources than jobs: the same manifest as -j1"

# Resizing in parallel compiles no code at run time: liborc's code memory
# is not safe for workers building and freeing pipelines at once, so
# libvips's vector paths are off.  orc would open an "orcexec" file.
if command -v strace >/dev/null 2>&1; then
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		timeout -k 5 120 strace -f -qq -e trace=openat,open -o orc.trace \
		"$IMGBAKE" -q -j2 -f webp -w 32,48 -o o3 src 2>/dev/null
	is "$(grep -c orcexec orc.trace)" 0 "-j2 resizing: no run-time compiled code (liborc)"
else
	skip "strace is not installed"
fi

# A job holds each output's descriptor, and its lock, until it renames
# them all; where they would not fit RLIMIT_NOFILE it lets them go.
mkimg fds/p.png 400x300
(ulimit -n 64 && "$IMGBAKE" -q -j1 -f webp,png -w "$(seq -s, 10 10 390)" -o fds/out fds) \
	2>"$_L/fds.err"
is "$?" 0 "39 widths of 2 formats with 64 descriptors: exit 0" || diag "$(cat "$_L/fds.err")"
is "$(find fds/out -name '*.webp' -o -name '*.png' | wc -l | tr -d ' ')" 78 "... and 78 outputs"

# a file system without locks runs as if alone
# (not under the sanitizers, whose leak check cannot run traced)
if [ -z "${IMGBAKE_SANITIZED-}" ] && command -v strace >/dev/null 2>&1 &&
	strace -f -o /dev/null -e inject=flock:error=ENOLCK true 2>/dev/null; then
	mkimg nolock/p.png 40x30
	strace -f -o /dev/null -e inject=flock:error=ENOLCK \
		"$IMGBAKE" -q -o nolock/out nolock 2>"$_L/nolock.err"
	is "$?" 0 "no locks (flock fails with ENOLCK): exit 0" || diag "$(cat "$_L/nolock.err")"
	[ -f nolock/out/p.webp ] && [ ! -e nolock/out/imgbake-manifest.json.journal ]
	ok $? "... the output written, no journal left"
else
	skip "strace cannot inject errors here, or a sanitizer build"
	skip "strace cannot inject errors here, or a sanitizer build"
fi

done_testing
