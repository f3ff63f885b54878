#!/bin/sh
# -n prints the would-be outputs as DIR/rel, one per line, and writes nothing.
. "$(dirname "$0")/lib.sh"

mkimg src/a.jpg 300x200
mkimg src/sub/b.png 150x100
echo text >src/notes.txt
before=$(files .)

run -n -o out -f webp,png -w 100,200 src
is "$rc" 0 "dry run exits 0" || show_run
is "$(printf '%s\n' "$out" | sort)" "out/a-100.png
out/a-100.webp
out/a-200.png
out/a-200.webp
out/sub/b-100.png
out/sub/b-100.webp" "the would-be paths, widths above the source's dropped"
[ ! -e out ]
ok $? "no output directory"
is "$(files .)" "$before" "no file written anywhere"
like "$err" "^imgbake: dry run: would convert 2, up to date 0, skipped 1, would prune 0, would fail 0$" \
	"the summary counts the file that is no image as skipped, as a run does"

run -n -o out src/sub/b.png
is "$rc" 0 "dry run of a named file exits 0"
is "$out" "out/src/sub/b.webp" "named file: path kept relative to the base"

run --dry-run -o out -m list.json src
is "$rc" 0 "--dry-run with -m exits 0"
is "$(printf '%s\n' "$out" | sort)" "out/a.webp
out/sub/b.webp" "--dry-run lists the default outputs"
is "$(files .)" "$before" "no manifest written either"

done_testing
