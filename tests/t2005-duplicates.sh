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

# Whichever copy's own output cannot be written, the other is converted.
mkdir -p d/a d/b
cp src/a/x.jpg d/a/x.jpg
cp src/a/x.jpg d/b/y.jpg
for blocked in a b; do
	mkdir -p out3-$blocked
	: >out3-$blocked/$blocked
	run --json -w 100 -f webp -o out3-$blocked d
	is "$rc" 1 "out3-$blocked/$blocked is a file: exit 1" || show_run
	M=out3-$blocked/imgbake-manifest.json
	is "$(json_get $M 'src("d/'$blocked'/'$(test $blocked = a && echo x || echo y)'.jpg")->{reason}')" \
		io "out3-$blocked: the blocked copy fails, io"
	is "$(json_get $M '$j->{summary}{converted}')" 1 "out3-$blocked: the other is converted"
	is "$(find out3-$blocked -name '*.webp' | wc -l)" 1 "out3-$blocked: its output is written"
	unlike "$err" "as its identical copy" "out3-$blocked: not failed as its copy"
	is "$(printf '%s\n' "$out" | grep -c '"path"')" 2 "out3-$blocked: --json reports both"
	is "$(temps out3-$blocked)" "" "out3-$blocked: no temporary file left"
done

done_testing
