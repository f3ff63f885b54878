#!/bin/sh
# --prune deletes the outputs the previous manifest records and this run no
# longer produces (dropped width or format, source removed, --name changed),
# if they still have the recorded size, and the directories left empty;
# without --prune they are listed under "stale" for a later --prune.
. "$(dirname "$0")/lib.sh"

mkimg src/a.jpg 200x150
mkimg src/b.png 160x120
mkimg src/sub/c.jpg 120x90
mkimg src/gone/deep/d.jpg 120x90
mkimg src/e.jpg 120x90

# stale MANIFEST: the paths under "stale", sorted.
stale() {
	json_get "$1" '[sort map { ref $_ ? $_->{path} : $_ } @{$j->{stale} || []}]'
}

# outputs SUFFIX...: the outputs of every source for each width-suffix
# "-W.EXT", sorted.
outputs() {
	for _s in "$@"; do
		printf '%s\n' "a$_s" "b$_s" "e$_s" "sub/c$_s" "gone/deep/d$_s"
	done | sort
}

# ---- --prune ----------------------------------------------------------------------

M=out/imgbake-manifest.json
run -f webp,png -w 50,100 -o out src
is "$rc" 0 "first run: exit 0" || show_run
is "$(files out | grep -v manifest)" "$(outputs -50.webp -100.webp -50.png -100.png)" \
	"first run: two widths, two formats"
mkdir out/other
echo mine >out/other/readme.txt
echo mine >out/a-75.webp
echo mine >out/sub/notes.txt
printf 'extra' >>out/e-50.webp
user_size=$(stat -c %s out/e-50.webp)
rm -r src/gone

run -v --prune -f webp -w 100 -o out src
is "$rc" 0 "--prune: exit 0" || show_run
is "$(files out)" "a-100.webp
a-75.webp
b-100.webp
e-100.webp
e-50.webp
imgbake-manifest.json
other/readme.txt
sub/c-100.webp
sub/notes.txt" "--prune: exactly the dropped width, dropped format and removed source's outputs are deleted"
[ ! -e out/gone ]
ok $? "--prune: the directories left empty are removed (out/gone/deep and out/gone)"
is "$(cat out/other/readme.txt out/sub/notes.txt out/a-75.webp)" "mine
mine
mine" "--prune: files imgbake did not write are left alone"
is "$(stat -c %s out/e-50.webp)" "$user_size" \
	"--prune: an output whose size the user changed is left alone"
pruned=$(outputs -50.webp -50.png -100.png | grep -vx e-50.webp; echo gone/deep/d-100.webp)
n=$(printf '%s\n' "$pruned" | wc -l | tr -d ' ')
is "$(json_get $M '$j->{summary}{pruned}')" "$n" "--prune: summary.pruned $n"
like "$(last_line "$err")" "^0 converted, 4 up to date, $n pruned, 0 skipped, 0 failed \(" \
	"--prune: summary line '0 converted, 4 up to date, $n pruned, ...'"
is "$(printf '%s\n' "$err" | sed -n "s/^imgbake: pruned '\(out\/\)\{0,1\}\(.*\)'$/\2/p" | sort)" \
	"$(printf '%s\n' "$pruned" | sort)" "-v lists every pruned path, and only those"
is "$(json_get $M '[sort map { $_->{path} } outs()]')" "a-100.webp
b-100.webp
e-100.webp
sub/c-100.webp" "--prune: the manifest records the outputs still produced"

run --prune -f webp -w 100 -o out src
is "$rc" 0 "--prune again: exit 0" || show_run
is "$(json_get $M '$j->{summary}{pruned}')" 0 "--prune again: nothing to prune"
unlike "$(last_line "$err")" "pruned" "--prune again: no 'pruned' in the summary line"
[ -f out/e-50.webp ] && [ "$(stat -c %s out/e-50.webp)" = "$user_size" ]
ok $? "--prune again: the output the user changed is still left alone"

# A changed --name: the outputs under the old names are pruned.
run -v --prune -f webp -w 100 --name '{dir}/{stem}_{w}.{ext}' -o out src
is "$rc" 0 "--name changed with --prune: exit 0" || show_run
is "$(json_get $M '$j->{summary}{converted}') $(json_get $M '$j->{summary}{pruned}')" "4 4" \
	"--name changed: 4 converted, 4 pruned"
is "$(files out | grep -v 'manifest\|other/\|notes\|75\|e-50')" "a_100.webp
b_100.webp
e_100.webp
sub/c_100.webp" "--name changed: only the outputs under the new names are left"

# A recorded output the user already deleted: nothing to do, no error.
run -f webp,png -w 100 --name '{dir}/{stem}_{w}.{ext}' -o out src
rm out/b_100.png
run --prune -f webp -w 100 --name '{dir}/{stem}_{w}.{ext}' -o out src
is "$rc" 0 "a recorded output already gone: exit 0" || show_run
is "$(json_get $M '$j->{summary}{pruned}')" 3 "a recorded output already gone: the 3 others pruned"
is "$(files out | grep -c png)" 0 "no png left"

# Every source gone: everything pruned, the output root and manifest kept.
mkdir empty
mv src src.away
run --prune -f webp -w 100 --name '{dir}/{stem}_{w}.{ext}' -o out empty
mv src.away src
is "$rc" 0 "no source left: exit 0" || show_run
is "$(json_get $M '$j->{summary}{pruned}')" 4 "no source left: the 4 outputs pruned"
is "$(files out)" "a-75.webp
e-50.webp
imgbake-manifest.json
other/readme.txt
sub/notes.txt" "no source left: only the files imgbake did not write and the manifest remain"

# ---- without --prune: "stale" ---------------------------------------------------------

mkimg src/gone/deep/d.jpg 120x90
M=o2/imgbake-manifest.json
run -f webp,png -w 50,100 -o o2 src
is "$(stale $M)" "" "first run: no stale output"
rm -r src/gone
run -f webp -w 100 -o o2 src
is "$rc" 0 "without --prune: exit 0" || show_run
stale_list=$(outputs -50.webp -50.png -100.png; echo gone/deep/d-100.webp)
is "$(stale $M)" "$(printf '%s\n' "$stale_list" | sort)" \
	"without --prune: the outputs no longer produced are listed under stale"
is "$(json_get $M '$j->{summary}{pruned}')" 0 "without --prune: summary.pruned 0"
unlike "$(last_line "$err")" "pruned" "without --prune: no 'pruned' in the summary line"
bad=0
for f in $stale_list; do
	[ -f "o2/$f" ] || { diag "deleted: o2/$f"; bad=1; }
done
ok $bad "without --prune: the stale outputs are still there"

run -f webp -w 100 -o o2 src
is "$(stale $M)" "$(printf '%s\n' "$stale_list" | sort)" "a later run without --prune carries the stale list on"

run -n --prune -f webp -w 100 -o o2 src
like "$err" "^imgbake: dry run: would convert 0, up to date 4, skipped 0, would prune 16, would fail 0$" \
	"dry run with --prune counts the stale outputs"
is "$(printf '%s\n' "$err" | sed -n "s/^imgbake: would prune '\(.*\)'$/\1/p" | sort)" \
	"$(printf '%s\n' "$stale_list" | sort)" "... and names each"
is "$(stale $M)" "$(printf '%s\n' "$stale_list" | sort)" "the dry run leaves the stale list alone"

# The user changes one stale output and deletes another before pruning.
printf 'extra' >>o2/b-50.png
grown=$(stat -c %s o2/b-50.png)
rm o2/a-50.png
mkdir o2/gone/deep/keep
echo mine >o2/gone/deep/keep/x.txt
run -v --prune -f webp -w 100 -o o2 src
is "$rc" 0 "a later --prune: exit 0" || show_run
is "$(json_get $M '$j->{summary}{pruned}')" 14 "a later --prune: the 14 stale outputs left prunable are pruned"
is "$(files o2)" "a-100.webp
b-100.webp
b-50.png
e-100.webp
gone/deep/keep/x.txt
imgbake-manifest.json
sub/c-100.webp" "a later --prune: the stale outputs are deleted"
is "$(stat -c %s o2/b-50.png 2>/dev/null)" "$grown" \
	"a later --prune: a stale output whose size the user changed is left alone"
is "$(stale $M | grep -v '^b-50\.png$')" "" "a later --prune: the stale list is emptied"
[ -d o2/gone/deep/keep ]
ok $? "a directory still holding a file of the user's is kept"

# ---- a hostile manifest: paths outside the output tree -----------------------------------

echo victim >victim.txt
vsize=$(stat -c %s victim.txt)
run -f webp -o o3 src
perl -MJSON::PP -e '
	local $/; open my $f, "<", $ARGV[0] or die; my $j = decode_json(<$f>); close $f;
	for my $p ("../victim.txt", "'"$T"'/victim.txt", "../o3/../victim.txt") {
		push @{$j->{sources}[0]{outputs}}, {path => $p, format => "webp",
			width => 1, height => 1, bytes => $ARGV[1] + 0, recipe => "0"};
		push @{$j->{stale}}, $p;
	}
	open $f, ">", $ARGV[0] or die; print $f JSON::PP->new->pretty->encode($j);
' o3/imgbake-manifest.json "$vsize"
run --prune -f webp -o o3 src
[ -f victim.txt ]
ok $? "a manifest naming ../victim.txt or an absolute path: the file outside is never deleted"
is "$rc" 0 "a hostile manifest: exit 0" || show_run

# A run over part of the tree (a list, another directory) keeps the
# records and outputs of the sources it does not name while they exist,
# even with --prune; a listed source's own old outputs still go.
rm -rf part
mkimg part/x.jpg 200x100
mkimg part/y.jpg 200x100
mkimg part/z.jpg 200x100
run -f webp,png -w 100 -o po part
is "$rc" 0 "part: a full first run" || show_run
printf 'part/y.jpg\n' | { run --prune -f webp -w 100 --base part -o po -; }
is "$rc" 0 "part: a run over one listed file, with --prune" || show_run
M=po/imgbake-manifest.json
is "$(json_get $M 'join " ", map { $_->{path} } @{$j->{sources}}')" "part/x.jpg part/y.jpg part/z.jpg" \
	"part: the unlisted sources keep their records, in order"
is "$(files po | tr '\n' ' ')" "imgbake-manifest.json x-100.png x-100.webp y-100.webp z-100.png z-100.webp " \
	"part: only the listed source's dropped format is pruned"
rm part/z.jpg
run --prune -f webp,png -w 100 -o po part
is "$(json_get $M 'join " ", map { $_->{path} } @{$j->{sources}}')" "part/x.jpg part/y.jpg" \
	"part: a deleted source's record goes"
is "$(files po | grep -c '^z-')" 0 "part: ... and its outputs are pruned"

# ... records of failures and skipped files too, which list no output
rm -rf two
mkimg two/a/x.png 40x30
mkimg two/a/c.png 40x30
head -c 100 two/a/c.png >two/cut && mv two/cut two/a/c.png
echo notes >two/a/notes.txt
ln -s nowhere two/a/dangling
ln -s ../b two/a/dirlink
mkimg two/b/y.png 40x30
run -f webp -o to two/a
is "$rc" 1 "two: the first directory, with a damaged source: exit 1" || show_run
run -f webp -o to two/b
is "$rc" 0 "two: the second directory: exit 0" || show_run
M=to/imgbake-manifest.json
is "$(json_get $M 'join " ", map { "$_->{path}:$_->{status}" } @{$j->{sources}}')" \
	"two/a/c.png:failed two/a/dangling:skipped two/a/dirlink:skipped two/a/notes.txt:skipped two/a/x.png:converted two/b/y.png:converted" \
	"two: the failed and skipped sources of the other directory keep their records"
is "$(json_get $M '(grep { $_->{path} eq "two/a/c.png" } @{$j->{sources}})[0]{reason}')" corrupt \
	"two: ... as they were"
rm two/a/notes.txt two/a/dangling two/a/dirlink
run -f webp -o to two/b
is "$(json_get $M 'join " ", map { $_->{path} } @{$j->{sources}}')" \
	"two/a/c.png two/a/x.png two/b/y.png" "two: skipped files and links deleted: their records go"
mkimg two/a/c.png 40x30
run -f webp -o to two/a
is "$rc" 0 "two: the damaged source mended: exit 0" || show_run
is "$(json_get $M 'join " ", map { "$_->{path}:$_->{status}" } @{$j->{sources}}')" \
	"two/a/c.png:converted two/a/x.png:up-to-date two/b/y.png:up-to-date" \
	"two: ... and converted, its record replaced"

done_testing
