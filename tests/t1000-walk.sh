#!/bin/sh
# Walking directories and naming files: the mirrored layout, skipped
# entries, --base.
. "$(dirname "$0")/lib.sh"

M=out/imgbake-manifest.json

mkimg src/a.jpg 300x200
mkimg src/sub/b.webp 160x120
mkimg src/sub/deep/c.png 120x80
echo 'not a picture' >src/notes.txt
ln -s a.jpg src/link.jpg
ln -s sub src/linkdir
mkdir src/empty

run -o out src
is "$rc" 0 "walk: exit 0 (non-image and symlinks are skipped)" || show_run
is "$(files out)" "a.webp
imgbake-manifest.json
sub/b.webp
sub/deep/c.webp" "walk: the tree is mirrored, nothing else written"
is "$(info out/a.webp)" "300x200 uchar 3 srgb webpload" "walk: a.webp"
is "$(size out/sub/b.webp)" 160x120 "walk: sub/b.webp"
is "$(size out/sub/deep/c.webp)" 120x80 "walk: sub/deep/c.webp"
[ ! -e out/linkdir ] && [ ! -e out/link.webp ]
ok $? "walk: symlinks are not followed"
is "$(json_get $M 'src("src/notes.txt")->{status}')" skipped "notes.txt skipped"
is "$(json_get $M 'src("src/notes.txt")->{reason}')" not-an-image \
	"notes.txt: reason not-an-image"
is "$(json_get $M 'src("src/link.jpg")->{status}')" skipped "link.jpg skipped"
is "$(json_get $M 'src("src/link.jpg")->{reason}')" symlink "link.jpg: reason symlink"
is "$(json_get $M '$j->{summary}{converted}')" 3 "walk: 3 converted"
is "$(json_get $M '$j->{summary}{failed}')" 0 "walk: none failed"

run -o out1 src/
is "$(files out1)" "$(files out)" "a trailing slash walks the same tree"

run -o out2 src/sub src/a.jpg
is "$rc" 0 "a walked directory and a named file" || show_run
is "$(files out2)" "b.webp
deep/c.webp
imgbake-manifest.json
src/a.webp" "the directory mirrors from its top, the file keeps its path"

run -o out3 src/sub/b.webp ./src/sub/deep/c.png
is "$rc" 0 "named files: exit 0"
is "$(files out3)" "imgbake-manifest.json
src/sub/b.webp
src/sub/deep/c.webp" "named files keep their path relative to the current directory"

run -o out4 --base src src/sub/b.webp
is "$rc" 0 "--base: exit 0" || show_run
is "$(files out4)" "imgbake-manifest.json
sub/b.webp" "--base: path relative to the base"

run -o out5 --base "$T/src" "$T/src/a.jpg"
is "$rc" 0 "absolute path inside --base: exit 0" || show_run
is "$(size out5/a.webp)" 300x200 "absolute path inside --base: mirrored"

# a tree deeper than the descriptors a process may open: the walk
# holds one directory open at a time, not one a level
d=deepfd
i=0
while [ $i -lt 80 ]; do
	d=$d/l
	i=$((i + 1))
done
mkdir -p "$d"
mkimg "$d/a.png" 20x20
(ulimit -n 40 && exec "$IMGBAKE" -q -j1 -f webp -o deepfd-out deepfd) >"$OUT" 2>"$ERR"
is "$?" 0 "80 levels deep under ulimit -n 40: exit 0" || diag "$(cat "$ERR")"
[ -f "deepfd-out/${d#deepfd/}/a.webp" ]
ok $? "... and the picture at the bottom converted"

done_testing
