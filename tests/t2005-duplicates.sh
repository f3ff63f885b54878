#!/bin/sh
# Identical sources are converted once: the others get copies (or, with
# --link-duplicates, hard links) of the first one's outputs.
. "$(dirname "$0")/lib.sh"

mkimg src/a/x.jpg 300x200
mkdir -p src/b
cp src/a/x.jpg src/b/y.jpg
ln src/a/x.jpg src/z.jpg
mkimg src/other.jpg 300x200

run -v -w 100,200 -f webp,png -o out src
is "$rc" 0 "exit 0" || show_run
is "$(json_get out/imgbake-manifest.json '$j->{summary}{converted}')" 4 "four sources converted"
for f in b/y-100.webp b/y-200.png z-100.png z-200.webp; do
	cmp -s "out/a/x-${f#*-}" "out/$f"
	ok $? "$f is identical to the first copy's output"
done
# the copies are reported without a memory estimate: nothing was decoded
like "$err" "converted 'src/a/x.jpg': .*estimate" "the first copy was converted"
unlike "$err" "converted 'src/b/y.jpg': .*estimate" "the second was not decoded"
is "$(json_get out/imgbake-manifest.json 'src("src/b/y.jpg")->{hash}')" \
	"$(json_get out/imgbake-manifest.json 'src("src/a/x.jpg")->{hash}')" "same hash recorded"
is "$(stat -c %h out/b/y-100.webp)" 1 "without --link-duplicates: a copy"

run --link-duplicates -w 100 -f webp -o out2 src
is "$rc" 0 "--link-duplicates: exit 0"
is "$(stat -c %i out2/b/y-100.webp)" "$(stat -c %i out2/a/x-100.webp)" \
	"--link-duplicates: the same file"
is "$(stat -c %h out2/a/x-100.webp)" 3 "three names for one output"
is "$(temps out2)" "" "no temporary file left"

done_testing
