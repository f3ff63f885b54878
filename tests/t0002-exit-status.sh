#!/bin/sh
# Exit status 0/1/2, the one summary line, -q and -v.
. "$(dirname "$0")/lib.sh"

summary_re='^[0-9]+ converted, [0-9]+ skipped, [0-9]+ failed \([0-9]+\.[0-9] MB -> [0-9]+\.[0-9] MB\) in [0-9]+\.[0-9] s$'

mkimg a.jpg 60x40
mkimg b.png 60x40
echo 'just some text' >notes.txt
mkdir only-text
echo 'more text' >only-text/readme.txt

run -o out a.jpg
is "$rc" 0 "one good source: exit 0" || show_run
is "$(info out/a.webp)" "60x40 uchar 3 srgb webpload" "out/a.webp written"
is "$out" "" "nothing on stdout"
is "$err" "$(last_line "$err")" "stderr is a single line"
like "$(last_line "$err")" "$summary_re" "it is the summary line"
like "$(last_line "$err")" '^1 converted, 0 skipped, 0 failed ' "summary counts"

run -o out2 notes.txt a.jpg b.png
is "$rc" 1 "a failed source: exit 1" || show_run
like "$err" "^imgbake: cannot convert 'notes.txt': ." "failure line names the source"
like "$(last_line "$err")" '^2 converted, 0 skipped, 1 failed ' "summary is the last line"
is "$(size out2/b.webp)" 60x40 "sources after the failure are converted"

run -o out3 a.jpg notes.txt
is "$rc" 1 "exit 1 when the failure is the last source too"
run -o out3b a.jpg b.png notes.txt a.jpg
is "$rc" 1 "exit 1 whatever the position of the failure"

run -o out4 only-text
is "$rc" 0 "only skipped sources: exit 0" || show_run
like "$(last_line "$err")" '^0 converted, 1 skipped, 0 failed ' "the skip is counted"

run -q -o out5 a.jpg b.png
is "$rc" 0 "-q: exit 0"
is "$err" "" "-q: nothing on stderr when all went well"
is "$(size out5/a.webp)" 60x40 "-q: still converts"

run -q -o out6 notes.txt a.jpg
is "$rc" 1 "-q: exit 1 on a failure"
like "$err" "^imgbake: cannot convert 'notes.txt': ." "-q: the error is still printed"
is "$(printf '%s\n' "$err" | wc -l | tr -d ' ')" 1 "-q: and nothing else"

run -v -o out7 a.jpg b.png
is "$rc" 0 "-v: exit 0"
like "$err" 'a\.jpg' "-v: a line for a.jpg"
like "$err" 'b\.png' "-v: a line for b.png"
cmp_ok "$(printf '%s\n' "$err" | wc -l)" -ge 3 "-v: one line per source and the summary"
like "$(last_line "$err")" "$summary_re" "-v: the summary is still last"

: >blocker
run -o out8 -m blocker/manifest.json a.jpg
is "$rc" 2 "manifest cannot be written: exit 2" || show_run
like "$err" '^imgbake: ' "manifest cannot be written: an imgbake: message"
run -o blocker/out a.jpg
is "$rc" 2 "output root cannot be created: exit 2" || show_run
run -o blocker a.jpg
is "$rc" 2 "output root is a file: exit 2" || show_run
like "$err" "cannot create output directory 'blocker': Not a directory" "... and says so"

# standard output that cannot be written: an error; a reader that left: not
if [ -w /dev/full ]; then
	for args in "-n -o out9 a.jpg" "--json -o out9 a.jpg" "--version"; do
		"$IMGBAKE" $args >/dev/full 2>"$ERR"
		is "$?" 2 "imgbake $args >/dev/full: exit 2"
		like "$(cat "$ERR")" "^imgbake: cannot write to standard output" \
			"imgbake $args >/dev/full: a message says so"
	done
else
	skip "no /dev/full here"
fi
# standard output closed: what is printed goes nowhere else (the
# journal would take descriptor 1)
"$IMGBAKE" --print0 -o out10 a.jpg >&- 2>"$ERR"
is "$?" 2 "--print0 with stdout closed: exit 2"
like "$(cat "$ERR")" "^imgbake: cannot write to standard output" "... a message says so"
json_ok out10/imgbake-manifest.json
ok $? "... and the manifest is whole"
# standard input closed: a list from it cannot be read
"$IMGBAKE" -o out11 - <&- 2>"$ERR"
is "$?" 2 "a list from a closed stdin: exit 2"
like "$(cat "$ERR")" "cannot read list '-'" "... a message says so"
"$IMGBAKE" -o out11 -T /dev/stdin <&- 2>"$ERR"
is "$?" 2 "a list from a closed stdin, named /dev/stdin: exit 2"
like "$(cat "$ERR")" "cannot open list '/dev/stdin': Bad file descriptor" "... a message says so"
"$IMGBAKE" -o out11 -T //dev/./stdin <&- 2>"$ERR"
is "$?" 2 "... and named //dev/./stdin: exit 2"
"$IMGBAKE" -n -o out11 -T /dev/null <&- 2>"$ERR"
is "$?" 0 "... but /dev/null is an empty list"
"$IMGBAKE" --json --force -o out9 a.jpg b.png 2>"$ERR" | head -c 1 >/dev/null
is "$(cat "$ERR" | grep -c 'standard output')" 0 "--json into head -c 1: no message"
( "$IMGBAKE" --json --force -o out9 a.jpg b.png 2>/dev/null; echo $? >rc.txt ) | head -c 1 >/dev/null
is "$(cat rc.txt)" 0 "--json into head -c 1: exit 0, the batch was done"
# more than a pipe holds: the reader leaves while -n still writes
mkdir many
long=$(printf '%0200d' 0 | tr 0 n)
for i in $(seq 1 400); do
	ln a.jpg "many/$long$i.jpg"
done
( "$IMGBAKE" -n -o out9 many 2>/dev/null; echo $? >rc.txt ) | head -c 1 >/dev/null
is "$(cat rc.txt)" 0 "-n into head -c 1, 160 kB of names: exit 0, not killed by SIGPIPE"

done_testing
