#!/bin/sh
# What --prune must never delete: the outputs of a source that fails this
# run (or failed in a run before), everything when part of the source tree
# cannot be read (a directory that cannot be opened, or whose listing
# fails halfway), the outputs of sources that cannot be looked at, even
# in a later run, and files reached through a symbolic link in the output
# tree.  Also: a source's outputs that a resumed run's journal replaced are
# still pruned, not forgotten; a duplicate is never copied through a link
# in the output tree, and a duplicate of a refused source converts on its
# own.
. "$(dirname "$0")/lib.sh"

M=out/imgbake-manifest.json

# ---- a failed source keeps its outputs ------------------------------------------

mkimg src/a.png 160x120
mkimg src/b.png 160x120
run -f webp -o out src
is "$rc" 0 "first run: exit 0" || show_run

head -c 300 src/a.png >src/a.tmp && mv src/a.tmp src/a.png
run --prune -f webp -o out src
is "$rc" 1 "a truncated source fails: exit 1" || show_run
like "$err" "cannot convert 'src/a.png'" "the failure is reported"
[ -f out/a.webp ]
ok $? "--prune keeps the earlier output of a source that failed"
is "$(json_get $M 'src("src/a.png")->{status}')" failed "the record says failed"
is "$(json_get $M '[map { $_->{path} } @{src("src/a.png")->{outputs}}]')" a.webp \
	"the failed record lists the output still in place"
is "$(json_get $M '[map { ref $_ ? $_->{path} : $_ } @{$j->{stale}}]')" "" \
	"it is not stale"

run --prune -f webp -o out src
is "$rc" 1 "failing again: exit 1"
[ -f out/a.webp ]
ok $? "a second --prune run keeps it too"

# named another way (./src after src), the failed source keeps them too
run --prune -f webp -o out ./src
is "$rc" 1 "failing under another name: exit 1"
[ -f out/a.webp ]
ok $? "a source failing under another name keeps its output"

# emptied as a copy over it begins (no image yet): it fails, not skipped
mkimg src/e.png 160x120
run -f webp -o out src
: >src/e.png
run --prune -f webp -o out src
is "$rc" 1 "a source emptied while it is rewritten: exit 1" || show_run
like "$err" "cannot convert 'src/e.png': not an image" "... reported"
[ -f out/e.webp ]
ok $? "... and --prune keeps its earlier output"
is "$(json_get $M 'src("src/e.png")->{status} . " " . src("src/e.png")->{reason}')" \
	"failed not-an-image" "... the record says failed, not an image"
run --prune -f webp -o out src
[ -f out/e.webp ]
ok $? "... a second --prune run keeps it too"
rm src/e.png
run --prune -f webp -o out src
[ ! -e out/e.webp ]
ok $? "... until the source is removed"

# named as two roots, one inside the other, it is two conversions; each
# keeps what an earlier run made of it
mkimg mirror/img/m.png 160x120
run -f webp -o mout mirror/img
head -c 300 mirror/img/m.png >mirror/m.tmp && mv mirror/m.tmp mirror/img/m.png
run --prune -f webp -o mout ./mirror/img mirror
is "$rc" 1 "a failing source named as two roots: exit 1"
[ -f mout/m.webp ]
ok $? "... keeps the output an earlier run made of it"
rm -rf mirror mout

# without --prune first, then with it: the failure is not made stale
run -f webp -o out src
run --prune -f webp -o out src
[ -f out/a.webp ]
ok $? "a failure recorded by a run without --prune keeps its output as well"

mkimg src/a.png 160x120
run --prune -f webp -o out src
is "$rc" 0 "the source repaired: exit 0" || show_run
is "$(json_get $M 'src("src/a.png")->{status}')" converted "converted again"

head -c 300 src/a.png >src/a.tmp && mv src/a.tmp src/a.png
run -f webp -o out src
rm src/a.png
run --prune -f webp -o out src
is "$rc" 0 "the failed source removed: exit 0" || show_run
[ ! -e out/a.webp ]
ok $? "once the source is gone, --prune deletes the output it kept"

# a width dropped while the source fails: its outputs stay all the same
mkimg src/c.png 160x120
run -f webp -w 50,100 -o out src
head -c 300 src/c.png >src/c.tmp && mv src/c.tmp src/c.png
run --prune -f webp -w 100 -o out src
[ -f out/c-50.webp ] && [ -f out/c-100.webp ]
ok $? "a failed source's outputs are kept whatever the new widths"
rm src/c.png
rm -rf out

# ---- part of the tree unreadable ---------------------------------------------------

mkimg tree/img/a.jpg 120x90
mkimg tree/img/sub/b.jpg 120x90
run -f webp -o out tree/img
is "$rc" 0 "tree: exit 0" || show_run
mv tree/img tree/img.away
run --prune -f webp -o out tree/img
is "$rc" 1 "a missing source root: exit 1"
like "$err" "not pruning" "the run says it does not prune"
is "$(files out | grep -v manifest)" "a.webp
sub/b.webp" "a missing source root deletes nothing"
is "$(json_get $M '[map { $_->{path} } grep { $_->{status} eq "converted" } @{$j->{sources}}]')" \
	"tree/img/a.jpg
tree/img/sub/b.jpg" "... and keeps the records of its sources"
run -n --prune -f webp -o out tree/img
like "$err" "would prune 0" "--dry-run counts nothing to prune either"
mv tree/img.away tree/img
run --prune -f webp -o out tree/img
is "$rc" 0 "the root back: exit 0" || show_run
like "$(last_line "$err")" "^0 converted, 2 up to date" "the root back: nothing converted again"
# however the missing root is spelled
for spelling in ./tree/img tree/img/ "$T/tree/img" tree/../tree/img "$T/tree/sub/../img"; do
	mv tree/img tree/img.away
	run --prune -f webp -o out "$spelling"
	mv tree/img.away tree/img
	run -f webp -o out tree/img
	like "$(last_line "$err")" "^0 converted, 2 up to date" \
		"the root missing as $spelling, then back: nothing converted again"
done
# ... and named in full from a working directory reached through a link
ln -s . wl
mv tree/img tree/img.away
(cd wl && run --prune -f webp -o out "$PWD/tree/img")
mv tree/img.away tree/img
run -f webp -o out tree/img
like "$(last_line "$err")" "^0 converted, 2 up to date" \
	"the root missing, named through a linked working directory, then back: nothing converted again"
rm wl
is "$(files out | grep -v manifest)" "a.webp
sub/b.webp" "the root back: every output in place"
rm -rf out

# a listing cut short by an I/O error (tests/shim/readdir-eio.c, preloaded,
# fails readdir in "cut" after its first entry)
mkimg ls/cut/a.png 120x90
mkimg ls/cut/b.png 120x90
mkimg ls/cut/c.png 120x90
mkimg ls/top.png 120x90
run -f webp -o out ls
is "$rc" 0 "cut: first run: exit 0" || show_run
rm ls/top.png
if [ -n "${IMGBAKE_SANITIZED-}" ]; then
	for i in 1 2 3 4 5 6; do
		skip "a preloaded library does not run beside the sanitizers"
	done
else
	IMGBAKE_TEST_READDIR_EIO=cut LD_PRELOAD=$TOP/tests/shim/readdir-eio.so \
		run --prune -f webp -o out ls
	is "$rc" 1 "cut: a listing that fails halfway: exit 1" || show_run
	like "$err" "cannot convert 'ls/cut': cannot read directory: Input/output error" \
		"cut: the directory is reported"
	is "$(json_get out/imgbake-manifest.json 'src("ls/cut")->{reason}')" io \
		"cut: its record fails, io"
	like "$err" "not pruning" "cut: the run does not prune"
	is "$(files out | grep -v manifest)" "cut/a.webp
cut/b.webp
cut/c.webp
top.webp" "cut: every output is in place"
	is "$(json_get out/imgbake-manifest.json 'scalar grep { $_->{path} =~ m{^ls/cut/} } @{$j->{sources}}')" 3 \
		"cut: the three sources keep their records, read or not"
fi
rm -rf out ls

# a directory that cannot be searched: its sources are neither converted
# nor gone, in this run or a later one.  Root ignores permission bits, so
# as root imgbake runs as nobody.
can_perm=yes
as_unprivileged || can_perm=no
as_user=$AS_USER
if [ $can_perm = yes ]; then
	chmod 755 "$T"
	mkimg perm/src/a.png 120x90
	mkimg perm/src/locked/b.png 120x90
	mkdir perm/out
	[ -n "$as_user" ] && chown -R 65534:65534 perm
	$as_user "$IMGBAKE" -q -f webp -o perm/out perm/src
	chmod 000 perm/src/locked
	if $as_user test -r perm/src/locked/b.png; then
		can_perm=no
		chmod 755 perm/src/locked
	fi
fi
if [ $can_perm = yes ]; then
	timeout -k 5 120 $as_user "$IMGBAKE" --prune -f webp -o perm/out perm/src \
		>"$OUT" 2>"$ERR"
	is "$?" 1 "locked: a directory that cannot be read: exit 1"
	is "$(json_get perm/out/imgbake-manifest.json 'join " ", map { $_->{path} } @{$j->{sources}}')" \
		"perm/src/a.png perm/src/locked perm/src/locked/b.png" \
		"locked: the record of the source below it is carried over"
	is "$(json_get perm/out/imgbake-manifest.json 'scalar @{$j->{stale}}')" 0 \
		"locked: its output is not stale"
	# a later run that names only a.png: complete, and allowed to prune
	timeout -k 5 120 $as_user "$IMGBAKE" --prune -f webp -o perm/out perm/src/a.png \
		>"$OUT" 2>"$ERR"
	is "$?" 0 "locked: a later --prune run of another source: exit 0"
	[ -f perm/out/locked/b.webp ]
	ok $? "locked: the output of the source that cannot be looked at is kept"
	chmod 755 perm/src/locked
	chmod 700 "$T"
else
	for i in 1 2 3 4 5; do
		skip "permission bits cannot be tested here (root without setpriv, or not enforced)"
	done
fi

# ---- links in the output tree ---------------------------------------------------------

mkimg links/src/sub/v.jpg 120x90
run -f webp -o links/out links/src
is "$rc" 0 "links: exit 0" || show_run
# the user replaces the directory with a link to a copy of it elsewhere
mkdir links/elsewhere
cp links/out/sub/v.webp links/elsewhere/
rm -r links/out/sub
ln -s ../elsewhere links/out/sub
rm links/src/sub/v.jpg
run --prune -f webp -o links/out links/src
is "$rc" 0 "links: --prune: exit 0" || show_run
[ -f links/elsewhere/v.webp ]
ok $? "--prune deletes nothing through a symbolic link in the output tree"

# duplicates: the copy is refused like any output through a link
mkimg dup/src/a.png 120x90
mkdir -p dup/src/sub dup/elsewhere dup/out
cp dup/src/a.png dup/src/sub/s.png
ln -s ../elsewhere dup/out/sub
run -f webp -o dup/out dup/src
is "$rc" 1 "a duplicate through a link: exit 1"
is "$(json_get dup/out/imgbake-manifest.json 'src("dup/src/sub/s.png")->{reason}')" \
	unsafe-path "the duplicate fails as unsafe-path"
is "$(files dup/elsewhere)" "" "nothing is written through the link"

# a duplicate of a source refused for a collision converts on its own
mkimg col/a.png 120x90
vips copy col/a.png col/a.jpg
cp col/a.png col/z.png
run -f webp -o col/out col
is "$rc" 1 "a collision: exit 1"
is "$(json_get col/out/imgbake-manifest.json 'src("col/z.png")->{status}')" converted \
	"the copy of a refused source is converted"
[ -f col/out/z.webp ]
ok $? "and its output written"

# ---- a journal record replaces the manifest's -----------------------------------------

mkimg j/src/p.png 120x90
mkimg j/src/q.png 120x90
run -f webp -o j/out j/src
cp j/out/imgbake-manifest.json j/webp.json
run -f png -o j/out j/src
# as if a run making PNG had been killed after p: the manifest of the
# WebP run, and p's PNG record in the journal
perl -MJSON::PP -e 'local $/; my $m = JSON::PP->new->decode(<STDIN>);
	my ($r) = grep { $_->{path} eq "j/src/p.png" } @{$m->{sources}};
	print JSON::PP->new->canonical->encode($r), "\n"' \
	<j/out/imgbake-manifest.json >j/out/imgbake-manifest.json.journal
cp j/webp.json j/out/imgbake-manifest.json
run --prune -f png -o j/out j/src
is "$rc" 0 "resumed: exit 0" || show_run
is "$(files j/out | grep -v manifest)" "p.png
q.png" "the WebP output the journal's record replaced is pruned too"

done_testing
