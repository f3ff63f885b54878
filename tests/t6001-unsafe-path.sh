#!/bin/sh
# Paths that would write outside the output root are refused: '..' in a
# relative path, an absolute path outside --base, a template that climbs.
. "$(dirname "$0")/lib.sh"

mkimg x.jpg 40x30
mkimg base/y.jpg 40x30
mkimg other/z.jpg 40x30
mkimg work/a/w.jpg 40x30
mkimg work/v.jpg 40x30
ln -s base "$T/lbase"
ln -s ../other "$T/base/lother"
cd work || exit 1

# outside: what now exists under $T, apart from work/out*, that did not
# before the runs.
list_tree() {
	(cd "$T" && find . | grep -v '^\./work/out' | sort)
}
list_tree >"$_L/before"
outside() {
	list_tree | comm -13 "$_L/before" -
}

run -o out ../x.jpg
is "$rc" 1 "../x.jpg: exit 1" || show_run
is "$(json_get out/imgbake-manifest.json 'src("../x.jpg")->{reason}')" unsafe-path \
	"../x.jpg: reason unsafe-path"
like "$err" "^imgbake: cannot convert '\\.\\./x\\.jpg': a path through '\\.\\.' is refused" \
	"../x.jpg reported, and why"
is "$(outside)" "" "../x.jpg: nothing written outside out"

run -o out1 a/../../x.jpg
is "$rc" 1 "a/../../x.jpg: exit 1" || show_run
is "$(json_get out1/imgbake-manifest.json 'src("a/../../x.jpg")->{reason}')" unsafe-path \
	"a/../../x.jpg: reason unsafe-path"

run -o out2 a/../v.jpg
is "$rc" 1 "a/../v.jpg (inside, but with '..'): exit 1" || show_run
is "$(json_get out2/imgbake-manifest.json 'src("a/../v.jpg")->{reason}')" unsafe-path \
	"a/../v.jpg: reason unsafe-path"

printf '../x.jpg\nv.jpg\n' >"$_L/list"
run -o out3 - <"$_L/list"
is "$rc" 1 "'..' in a list: exit 1" || show_run
is "$(json_get out3/imgbake-manifest.json 'src("../x.jpg")->{reason}')" unsafe-path \
	"'..' in a list: reason unsafe-path"
is "$(size out3/v.webp)" 40x30 "the rest of the list is converted"

run --base "$T/base" -o out4 "$T/other/z.jpg"
is "$rc" 1 "absolute path outside --base: exit 1" || show_run
is "$(json_get out4/imgbake-manifest.json '$j->{sources}[0]{reason}')" unsafe-path \
	"absolute path outside --base: reason unsafe-path"
like "$err" "cannot convert '$T/other/z\\.jpg':.*outside the base directory '.*/base'" \
	"absolute path outside --base: stderr names the base directory"

run --base "$T/base" -o out5 "$T/base/y.jpg"
is "$rc" 0 "absolute path inside --base: exit 0" || show_run
is "$(files out5)" "imgbake-manifest.json
y.webp" "absolute path inside --base: mirrored under out"

run -o out6 "$T/x.jpg"
is "$rc" 1 "absolute path outside the current directory: exit 1" || show_run
is "$(json_get out6/imgbake-manifest.json '$j->{sources}[0]{reason}')" unsafe-path \
	"absolute path outside the current directory: reason unsafe-path"

# A base reached through a symbolic link holds the files named through it.
run --base "$T/lbase" -o out8 "$T/lbase/y.jpg"
is "$rc" 0 "absolute path through a linked --base: exit 0" || show_run
is "$(files out8)" "imgbake-manifest.json
y.webp" "absolute path through a linked --base: mirrored under out"
run --base "$T/base" -o out9 "$T/lbase/y.jpg"
is "$rc" 0 "absolute path through a link to --base: exit 0" || show_run
is "$(files out9)" "imgbake-manifest.json
y.webp" "absolute path through a link to --base: mirrored under out"
run --base "$T/lbase" -o out10 "$T/other/z.jpg"
is "$rc" 1 "absolute path outside a linked --base: exit 1" || show_run
run --base "$T/base" -o out11 "$T/base/lother/z.jpg"
is "$rc" 0 "a link inside --base is followed as named: exit 0" || show_run
is "$(files out11)" "imgbake-manifest.json
lother/z.webp" "a link inside --base: mirrored by the name given"

run --name '../{stem}.{ext}' -o out7 v.jpg
cmp_ok "$rc" -ne 0 "--name climbing out of DIR: refused (exit $rc)"
is "$(outside)" "" "nothing written outside out by any run"
is "$(cd .. && find . -name '*.webp' | grep -v '^\./work/out' )" "" "no stray output anywhere"

done_testing
