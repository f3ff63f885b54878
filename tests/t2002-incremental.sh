#!/bin/sh
# Incremental builds: a re-run reuses every output whose source and recipe
# are unchanged and whose file is still there at the recorded size; a
# source that changes, loses an output or gains a format is converted
# again, and only its missing outputs are written; --force rebuilds all.
# An unreadable previous manifest is reported and means a full rebuild;
# a file there that imgbake did not write is not written over.
. "$(dirname "$0")/lib.sh"

M=out/imgbake-manifest.json
N=6

mkimg src/a.jpg 120x80
mkimg src/b.png 90x60
mkimg src/c.jpg 100x100
mkimg src/sub/d.jpg 64x48
mkimg src/sub/e.png 80x60 4
mkimg src/sub/deep/f.jpg 70x50

# snap GLOB...: name, modification time (ns) and inode of every file that
# the globs (relative to out) match, one per line; a file rewritten, even
# within the same second, changes its line.
snap() {
	(cd out && for _p in "$@"; do
		find . -type f -name "$_p" ! -name 'imgbake-manifest.json*'
	done | sort | xargs -r stat -c '%n %.9Y %i')
}

# statuses: "path status" of every source in the manifest.
statuses() {
	json_get $M '[map { "$_->{path} $_->{status}" } @{$j->{sources}}]'
}

# count STATUS: how many sources of the manifest have STATUS.
count() {
	json_get $M "scalar(grep { \$_->{status} eq '$1' } @{\$j->{sources}})"
}

summary() {
	json_get $M "\$j->{summary}{$1}"
}

all_up_to_date="src/a.jpg up-to-date
src/b.png up-to-date
src/c.jpg up-to-date
src/sub/d.jpg up-to-date
src/sub/deep/f.jpg up-to-date
src/sub/e.png up-to-date"

# ---- cold run, then a run with nothing to do ---------------------------------

run -o out src
is "$rc" 0 "cold run: exit 0" || show_run
is "$(count converted)" $N "cold run: every source converted"
is "$(summary up_to_date)" 0 "cold run: summary.up_to_date is 0"
unlike "$(last_line "$err")" "up to date" "cold run: no 'up to date' in the summary line"
is "$(files out | grep -c '\.webp$')" $N "cold run: one webp per source"
before=$(snap '*.webp')
manifest1=$(json_stable $M)

run -o out src
is "$rc" 0 "no-op re-run: exit 0" || show_run
is "$(statuses)" "$all_up_to_date" "no-op re-run: every source up-to-date"
is "$(summary converted)" 0 "no-op re-run: summary.converted 0"
is "$(summary up_to_date)" $N "no-op re-run: summary.up_to_date $N"
is "$(summary outputs)" $N "no-op re-run: summary.outputs still counts the reused outputs"
like "$(last_line "$err")" "^0 converted, $N up to date, 0 skipped, 0 failed \(" \
	"no-op re-run: summary line '0 converted, $N up to date, ...'"
is "$(snap '*.webp')" "$before" "no-op re-run: no output rewritten (same mtime and inode)"
is "$(json_get $M '[map { $_->{path} } outs()]' | sort)" \
	"$(files out | grep '\.webp$')" "no-op re-run: the manifest still lists every output"
is "$(json_stable $M | grep -v '"status"\|"converted"\|"up_to_date"\|"bytes_in"\|"bytes_out"')" \
	"$(printf '%s\n' "$manifest1" | grep -v '"status"\|"converted"\|"up_to_date"\|"bytes_in"\|"bytes_out"')" \
	"no-op re-run: the records are those of the cold run apart from status and counts"

run -v -o out src
like "$err" "^imgbake: up to date 'src/sub/deep/f\.jpg'" "-v names the up-to-date sources"

# ---- touched, copied: the content hash decides -------------------------------

sleep 0.01
touch src/a.jpg src/b.png src/c.jpg src/sub/d.jpg src/sub/e.png src/sub/deep/f.jpg
run -o out src
is "$rc" 0 "after touch: exit 0" || show_run
is "$(statuses)" "$all_up_to_date" "after touch: every source still up-to-date (same content hash)"
is "$(snap '*.webp')" "$before" "after touch: no output rewritten"
is "$(json_get $M 'src("src/a.jpg")->{mtime_ns}')" \
	"$(stat -c %.9Y src/a.jpg | tr -d .)" "after touch: the manifest records the new mtime_ns"

# A fresh copy (new inode, new mtime, same bytes) is the same source.
cp src/c.jpg c.copy && rm src/c.jpg && mv c.copy src/c.jpg
run -o out src
is "$(json_get $M 'src("src/c.jpg")->{status}')" up-to-date "a re-created copy of a source is up-to-date"
is "$(json_get $M 'src("src/c.jpg")->{inode}')" "$(stat -c %i src/c.jpg)" \
	"the manifest records the copy's inode"
is "$(snap '*.webp')" "$before" "re-created copy: no output rewritten"

# ---- two sources changed ------------------------------------------------------

mkimg src/b.png 90x60
mkimg src/sub/d.jpg 64x48
run -o out src
is "$rc" 0 "two sources changed: exit 0" || show_run
is "$(statuses)" "src/a.jpg up-to-date
src/b.png converted
src/c.jpg up-to-date
src/sub/d.jpg converted
src/sub/deep/f.jpg up-to-date
src/sub/e.png up-to-date" "exactly the two changed sources are converted"
is "$(summary converted) $(summary up_to_date)" "2 4" "summary: 2 converted, 4 up to date"
like "$(last_line "$err")" "^2 converted, 4 up to date, 0 skipped" "summary line: 2 converted, 4 up to date"
is "$(snap 'a.webp' 'c.webp' 'e.webp' 'f.webp')" \
	"$(printf '%s\n' "$before" | grep -v '/b\.webp\|/d\.webp')" \
	"the outputs of the unchanged sources are untouched"
isnt "$(snap 'b.webp')" "$(printf '%s\n' "$before" | grep '/b\.webp')" "b.webp rewritten"
before=$(snap '*.webp')

# ---- a format added -----------------------------------------------------------

if have_saver avif; then
	run -v -f webp,avif -o out src
	is "$rc" 0 "-f webp,avif: exit 0" || show_run
	like "$err" "converted 'src/a\\.jpg': [0-9]+x[0-9]+, 2 outputs \\(1 kept\\)" \
		"-f webp,avif -v: says the WebP output was kept"
	is "$(count converted)" $N "-f webp,avif: every source converted (each gains an output)"
	is "$(summary outputs)" $((N * 2)) "-f webp,avif: summary.outputs counts both formats"
	is "$(snap '*.webp')" "$before" "-f webp,avif: the webp outputs keep their bytes, mtime and inode"
	is "$(files out | grep '\.avif$')" "a.avif
b.avif
c.avif
sub/d.avif
sub/deep/f.avif
sub/e.avif" "-f webp,avif: the avif outputs appear"
	bad=0
	for f in out/a.avif out/sub/e.avif out/sub/deep/f.avif; do
		[ -n "$(size "$f")" ] || { diag "does not decode: $f"; bad=1; }
	done
	ok $bad "-f webp,avif: the new avif outputs decode"
	formats="webp,avif"
	pat='*.avif'
else
	diag "this libvips cannot write AVIF: the added format is png"
	run -f webp,png -o out src
	is "$(count converted)" $N "-f webp,png: every source converted"
	is "$(snap '*.webp')" "$before" "-f webp,png: the webp outputs are untouched"
	is "$(files out | grep -c '\.png$')" $N "-f webp,png: the png outputs appear"
	formats="webp,png"
	pat='*.png'
fi
before=$(snap '*.webp')
other=$(snap "$pat")

run -f $formats -o out src
is "$(count up-to-date)" $N "-f $formats again: every source up-to-date"
is "$(snap '*.webp')" "$before" "-f $formats again: no webp output rewritten"
is "$(snap "$pat")" "$other" "-f $formats again: no $pat output rewritten"

# ---- the recipe: quality -------------------------------------------------------

run -f $formats -Q webp=61 -o out src
is "$rc" 0 "-Q webp=61: exit 0" || show_run
is "$(count converted)" $N "-Q webp=61: every source converted"
is "$(snap '*.webp' | cut -d' ' -f1)" "$(printf '%s\n' "$before" | cut -d' ' -f1)" \
	"-Q webp=61: the same webp paths"
isnt "$(snap '*.webp')" "$before" "-Q webp=61: the webp outputs are rewritten"
n=0
for f in $(snap '*.webp' | cut -d' ' -f1); do
	printf '%s\n' "$before" | grep -qxF "$(cd out && stat -c '%n %.9Y %i' "$f")" && n=$((n + 1))
done
is "$n" 0 "-Q webp=61: every webp output rewritten"
is "$(snap "$pat")" "$other" "-Q webp=61: the $pat outputs (their recipe unchanged) are untouched"

run -f $formats -Q webp=61 -o out src
is "$(count up-to-date)" $N "-Q webp=61 again: every source up-to-date"

# ---- the recipe: --background shapes JPEG only ------------------------------------

run -f webp,png,jpeg -o bg src/a.jpg
run -f webp,png,jpeg --background black -o bg src/a.jpg
is "$(json_get bg/imgbake-manifest.json 'src("src/a.jpg")->{status}')" converted \
	"--background changed: a source with a JPEG output is converted"
run -f webp,png --background black -o bg2 src/a.jpg
run -f webp,png --background '#123456' -o bg2 src/a.jpg
is "$(json_get bg2/imgbake-manifest.json 'src("src/a.jpg")->{status}')" up-to-date \
	"--background changed: a source with no JPEG output is up to date"

# ---- --force ---------------------------------------------------------------------

before=$(snap '*')
run --force -f $formats -Q webp=61 -o out src
is "$rc" 0 "--force: exit 0" || show_run
is "$(count converted)" $N "--force: every source converted"
is "$(summary up_to_date)" 0 "--force: summary.up_to_date 0"
n=0
for l in $(snap '*' | tr ' ' '|'); do
	printf '%s\n' "$before" | tr ' ' '|' | grep -qxF "$l" && n=$((n + 1))
done
is "$n" 0 "--force: every output rewritten"

# ---- an output deleted or altered -------------------------------------------------

before=$(snap '*')
rm out/sub/d.webp
run -f $formats -Q webp=61 -o out src
is "$rc" 0 "output deleted: exit 0" || show_run
is "$(json_get $M '[map { $_->{path} } grep { $_->{status} eq "converted" } @{$j->{sources}}]')" \
	src/sub/d.jpg "output deleted: only its source is converted"
[ -f out/sub/d.webp ]
ok $? "output deleted: it is written again"
is "$(snap "d${pat#\*}")" "$(printf '%s\n' "$before" | grep "/sub/d${pat#\*}")" \
	"output deleted: the source's other output is untouched"
is "$(snap '*' | grep -v '/d\.')" "$(printf '%s\n' "$before" | grep -v '/d\.')" \
	"output deleted: no other output rewritten"

printf 'xx' >>out/a.webp
run -f $formats -Q webp=61 -o out src
is "$(json_get $M '[map { $_->{path} } grep { $_->{status} eq "converted" } @{$j->{sources}}]')" \
	src/a.jpg "output grown by the user: only its source is converted"
is "$(json_get $M '(grep { $_->{path} eq "a.webp" } outs())[0]{bytes}')" \
	"$(stat -c %s out/a.webp)" "output grown by the user: rewritten at the recorded size"

# ---- -m FILE outside the tree ------------------------------------------------------

run -f $formats -Q webp=61 -m list.json -o out src
is "$(json_get list.json 'scalar(grep { $_->{status} eq "converted" } @{$j->{sources}})')" $N \
	"-m FILE with no previous FILE: every source converted"
run -f $formats -Q webp=61 -m list.json -o out src
is "$(json_get list.json 'scalar(grep { $_->{status} eq "up-to-date" } @{$j->{sources}})')" $N \
	"-m FILE re-run: every source up-to-date"
[ ! -e list.json.journal ]
ok $? "-m FILE: no journal left"

# ---- dry run -----------------------------------------------------------------------

mkimg src/c.jpg 100x100
mkimg src/new.jpg 50x40
before=$(snap '*')
cp $M manifest.before
run -n -f $formats -Q webp=61 -o out src
is "$rc" 0 "dry run: exit 0" || show_run
is "$(printf '%s\n' "$out" | sort)" "$(printf 'out/c.%s\nout/c.webp\nout/new.%s\nout/new.webp\n' \
	"${pat#\*.}" "${pat#\*.}" | sort)" "dry run: prints only the outputs still to make"
like "$err" "^imgbake: dry run: would convert 2, up to date $((N - 1)), skipped 0, would prune 0, would fail 0$" \
	"dry run: the counts on stderr"
is "$(snap '*')" "$before" "dry run: no output written"
cmp -s $M manifest.before
ok $? "dry run: the manifest is left as it was"

rm out/sub/e.webp
run -n -f webp -Q webp=61 -o out src
like "$err" "^imgbake: dry run: would convert 3, up to date $((N - 2)), skipped 0, would prune 0, would fail 0$" \
	"dry run without --prune: dropped outputs are not counted as pruned"
run -n --prune -f webp -Q webp=61 -o out src
like "$err" "^imgbake: dry run: would convert 3, up to date $((N - 2)), skipped 0, would prune $N, would fail 0$" \
	"dry run with --prune: every output of the dropped format would be pruned"
is "$(snap '*' | grep -c "${pat#\*}")" $N "dry run with --prune: nothing deleted"

# ---- an unreadable previous manifest ------------------------------------------------

run -Q webp=61 -o out src
is "$(count converted)" 3 "back to webp only: the changed, new and damaged sources converted"

corrupt() {
	run -Q webp=61 -o out src
	is "$rc" 0 "$1: exit 0" || show_run
	like "$err" "^imgbake: ignoring ${2:-(unreadable )?}manifest 'out/imgbake-manifest\.json': ." \
		"$1: a warning names the manifest"
	is "$(count converted)" $((N + 1)) "$1: full rebuild"
	json_ok $M
	ok $? "$1: a valid manifest is written"
	run -Q webp=61 -o out src
	is "$(count up-to-date)" $((N + 1)) "$1: the next run is incremental again"
}

size=$(stat -c %s $M)
truncate -s $((size / 2)) $M
corrupt "manifest truncated to half" "unreadable "

: >$M
corrupt "empty manifest"

printf '{ "imgbake": "0.1.0", "sources": 3 }\n' >$M
corrupt "manifest with no list of sources"

# refused: a file at the manifest's path that does not open as one
# imgbake wrote is not one, and is not written over
refused() {
	cp $M keep
	run -Q webp=61 -o out src
	is "$rc" 2 "$1: refused, exit 2" || show_run
	like "$err" "^imgbake: 'out/imgbake-manifest\.json' is not a manifest imgbake wrote: not writing over it$" \
		"$1: the message says why"
	cmp -s $M keep
	ok $? "$1: the file is left as it was"
	rm keep
	: >$M
	run -Q webp=61 -o out src
}

printf 'this is not JSON\n' >$M
refused "manifest not JSON"

head -c 4096 /dev/urandom >$M
refused "manifest of random bytes"

printf '[1, 2, 3]\n' >$M
refused "JSON, but not an imgbake manifest"

printf 'garbage\n{"path": 1}\n{"path": "src/a.jpg", "status": "converted"}\n' >$M.journal
run -Q webp=61 -o out src
is "$rc" 0 "a garbage journal: exit 0" || show_run
is "$(count up-to-date)" $((N + 1)) "a garbage journal: the manifest is still used"
[ ! -e $M.journal ]
ok $? "a garbage journal is removed"

is "$(temps out)" "" "no temporary file left"
is "$(find out -name '*.imgbake-*')" "" "no .NAME.imgbake-XXXXXX file left"


# the same tree under another name (./sp, then sp, then its full path):
# the same sources, up to date; a changed file is converted
mkimg sp/a.png 120x90
mkimg sp/b.png 120x90
SM=spout/imgbake-manifest.json
run -o spout ./sp
is "$rc" 0 "./sp: exit 0" || show_run
run -o spout sp
is "$(json_get $SM 'join " ", map { "$_->{path} $_->{status}" } @{$j->{sources}}')" \
	"sp/a.png up-to-date sp/b.png up-to-date" "sp after ./sp: up to date, recorded under the new name"
run -o spout "$T/sp"
is "$(json_get $SM '$j->{summary}{up_to_date}')" 2 "its full path: up to date"
touch sp/a.png
run -o spout ./sp
is "$(json_get $SM '$j->{summary}{up_to_date}')" 2 "touched and named anew: the content decides, up to date"
mkimg sp/b.png 130x90
run -o spout sp
is "$(json_get $SM 'join " ", map { "$_->{path} $_->{status}" } @{$j->{sources}}')" \
	"sp/a.png up-to-date sp/b.png converted" "a changed file under a new name is converted"
is "$(size spout/b.webp)" 130x90 "... to its new content"


# another file that has a record's inode, size and modification time
# (an inode reused after a delete, a copy with cp -p) is not taken for
# that record's source: it is read, and converted
mkimg reuse/a/x.png 60x40
mkimg reuse/b/x.png 60x40 4
run -o reuse/out reuse/a
perl -MJSON::PP -e 'my ($m, $src) = @ARGV; local $/;
	open my $f, "<", $m or die; my $c = JSON::PP->new->canonical->pretty;
	my $j = $c->decode(<$f>); my @st = stat $src or die;
	my ($r) = @{$j->{sources}};
	$r->{path} = "reuse/a/gone.png"; $r->{inode} = $st[1];
	$r->{bytes} = $st[7]; $r->{mtime_ns} = $st[9] * 1000000000;
	open $f, ">", $m or die; print $f $c->encode($j)' \
	reuse/out/imgbake-manifest.json reuse/b/x.png
touch -d @"$(perl -e 'print((stat $ARGV[0])[9])' reuse/b/x.png)" reuse/b/x.png
run -o reuse/out reuse/b
is "$(json_get reuse/out/imgbake-manifest.json 'src("reuse/b/x.png")->{status}')" converted \
	"a file with another record's inode, size and mtime is converted"
is "$(vipsheader -f bands reuse/out/x.webp)" 4 "... into its own image"

# a run that changes nothing leaves the manifest as it is: inode and
# mtime (two runs, the first of which may still change the summary)
mkdir -p same/src
mkimg same/src/a.jpg 40x30
run -o same/out same/src
run -o same/out same/src
before=$(stat -c '%i %Y %s' same/out/imgbake-manifest.json)
sleep 1
run -o same/out same/src
is "$rc" 0 "a run that changes nothing: exit 0" || show_run
is "$(stat -c '%i %Y %s' same/out/imgbake-manifest.json)" "$before" \
	"... leaves the manifest's file as it was"
mkimg same/src/b.jpg 40x30
run -o same/out same/src
isnt "$(stat -c '%i %Y %s' same/out/imgbake-manifest.json)" "$before" \
	"a run that converts a new source writes it"

done_testing
