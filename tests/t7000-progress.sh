#!/bin/sh
# Progress on stderr: plain lines for logs, a bar on a terminal, nothing
# with -q or --progress=none; messages are never garbled by the bar.
. "$(dirname "$0")/lib.sh"

i=0
while [ $i -lt 12 ]; do
	mkimg src/p$i.jpg 300x200
	i=$((i + 1))
done
head -c 700 src/p0.jpg >src/zz-broken.jpg

# plain, with updates every 10 ms so that a short run prints several
IMGBAKE_PROGRESS_INTERVAL=0.01 run --progress=plain -j1 -w 100,200 -f webp,avif -o o1 src
is "$rc" 1 "plain: exit 1 for the broken file" || show_run
lines=$(grep '^imgbake: [0-9]*/[0-9]* done, ' "$ERR")
cmp_ok "$(printf '%s\n' "$lines" | grep -c .)" -ge 2 "plain: several progress lines"
bad=$(printf '%s\n' "$lines" | grep -Ev '^imgbake: [0-9]+/13 done, [0-9]+ failed, [0-9]+ MB -> [0-9]+ MB$')
is "$bad" "" "plain: every line has the documented shape"
is "$(printf '%s\n' "$lines" | tail -n 1)" "imgbake: 13/13 done, 1 failed, 0 MB -> 0 MB" \
	"plain: the last line counts everything"
done_col=$(printf '%s\n' "$lines" | sed 's|^imgbake: \([0-9]*\)/.*|\1|')
is "$done_col" "$(printf '%s\n' "$done_col" | sort -n)" "plain: the count never goes down"
like "$(last_line "$err")" '^12 converted, 0 skipped, 1 failed ' "plain: the summary comes last"
like "$err" "cannot convert 'src/zz-broken.jpg'" "plain: the failure is reported"

# auto, stderr not a terminal, a short run: only the summary
run -o o2 src/p1.jpg
is "$rc" 0 "auto in a pipe: exit 0"
is "$err" "$(last_line "$err")" "auto in a pipe, a short run: the summary alone"

# none and -q
IMGBAKE_PROGRESS_INTERVAL=0.01 run --progress=none -w 100,200 -f webp,avif -o o3 src
unlike "$err" ' done, ' "--progress=none: no progress line"
IMGBAKE_PROGRESS_INTERVAL=0.01 run -q -w 100,200 -f webp,avif -o o4 src
unlike "$err" ' done, ' "-q: no progress line"
like "$err" "cannot convert 'src/zz-broken.jpg'" "-q: errors still shown"

run --progress=fast -o o5 src
is "$rc" 2 "an unknown mode is a usage error"

# bar, under a pseudo-terminal
if command -v script >/dev/null; then
	script -qec "IMGBAKE_PROGRESS_INTERVAL=0.01 '$IMGBAKE' -j1 -w 100,200 -f webp,avif -o o6 src" \
		/dev/null >tty.out 2>&1 </dev/null
	tr '\r' '\n' <tty.out >tty.lines
	bars=$(grep -E '^\[[#.]+\] [0-9]+/13, [0-9]+ failed, [0-9]+ MB -> [0-9]+ MB, [0-9.]+ MP/s, [0-9]+:[0-9]{2}' tty.lines)
	cmp_ok "$(printf '%s\n' "$bars" | grep -c .)" -ge 1 "bar: drawn on a terminal"
	grep -q "$(printf '\033')\[K" tty.out
	ok $? "bar: each redraw erases the rest of the line"
	# the error line starts at column 0 of a cleared line, never after a bar
	grep -q "^$(printf '\033')\[Kimgbake: cannot convert 'src/zz-broken.jpg'" tty.lines
	ok $? "bar: the error is printed on a cleared line"
	like "$(grep -a 'converted, ' tty.lines | tail -n 1)" \
		"^($(printf '\033')\[K)?12 converted, 0 skipped, 1 failed " "bar: the summary on a clean line"
	width=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' tty.lines)
	cmp_ok "$width" -le 100 "bar: no line wider than the terminal allows"
else
	skip "script(1) not installed"
fi

done_testing
