#!/bin/sh
# Collisions: two sources for one output, or an output that would
# overwrite its own source; every source involved fails (but one, where
# a name made from a source's width is known only once it is read).  Across runs
# into one output root: a source whose output an earlier run made of
# another source, still there, fails and leaves that output alone.
. "$(dirname "$0")/lib.sh"

mkimg c/x.png 60x40
mkimg c/x.jpg 60x40
mkimg c/y.jpg 60x40
M=o1/imgbake-manifest.json

run -o o1 c
is "$rc" 1 "x.png and x.jpg in one directory: exit 1" || show_run
is "$(json_get $M 'src("c/x.png")->{status}')" failed "x.png failed"
is "$(json_get $M 'src("c/x.png")->{reason}')" collision "x.png: reason collision"
is "$(json_get $M 'src("c/x.jpg")->{status}')" failed "x.jpg failed"
is "$(json_get $M 'src("c/x.jpg")->{reason}')" collision "x.jpg: reason collision"
[ ! -e o1/x.webp ]
ok $? "no x.webp written"
is "$(size o1/y.webp)" 60x40 "the other source is converted"
like "$err" "^imgbake: cannot convert 'c/x\.jpg': ." "x.jpg reported"
like "$err" "^imgbake: cannot convert 'c/x\.png': ." "x.png reported"

mkimg d/a/s.jpg 60x40
mkimg d/b/s.png 60x40
run --name '{stem}.{ext}' -o o2 d
is "$rc" 1 "--name without {dir} joins two sources: exit 1" || show_run
is "$(json_get o2/imgbake-manifest.json '[map { $_->{reason} } @{$j->{sources}}]')" \
	"collision
collision" "both sources fail with reason collision"
[ ! -e o2/s.webp ]
ok $? "no s.webp written"

# Whether jpeg outputs end in .jpg or .jpeg, one of these sources would be
# overwritten by its own output.
mkimg s/a.jpg 60x40
mkimg s/b.jpeg 60x40
cp s/a.jpg a.orig
cp s/b.jpeg b.orig
run -f jpeg -o . s/a.jpg s/b.jpeg
is "$rc" 1 "output over its own source: exit 1" || show_run
is "$(json_get imgbake-manifest.json '[sort map { $_->{status} } @{$j->{sources}}]')" \
	"converted
failed" "one source converted, the self-overwriting one failed"
is "$(json_get imgbake-manifest.json '(grep { $_->{status} eq "failed" } @{$j->{sources}})[0]{reason}')" \
	collision "self-overwrite: reason collision"
cmp -s s/a.jpg a.orig && cmp -s s/b.jpeg b.orig
ok $? "both sources are left untouched"

mkdir d2
cp a.orig d2/a.jpg
cp b.orig d2/b.jpeg
run -f jpeg -o d2 d2
is "$rc" 1 "-f jpeg -o DIR DIR: exit 1" || show_run
is "$(json_get d2/imgbake-manifest.json '[sort map { $_->{status} } @{$j->{sources}}]')" \
	"converted
failed" "-f jpeg -o DIR DIR: the self-overwriting source failed"
is "$(json_get d2/imgbake-manifest.json '(grep { $_->{status} eq "failed" } @{$j->{sources}})[0]{reason}')" \
	collision "-f jpeg -o DIR DIR: reason collision"
cmp -s d2/a.jpg a.orig && cmp -s d2/b.jpeg b.orig
ok $? "-f jpeg -o DIR DIR: both sources are left untouched"

# A job that fails halfway leaves what an earlier run made as it was: a
# is narrower than -w 100, so its outputs are named for its own 80 px,
# and its PNG would replace the source a-80.png.  Its WebP, encoded
# again for the new quality, must not replace the old one.
mkdir d3
mkimg d3/a.png 80x60
mkimg d3/a-80.png 50x40
run -f webp -Q 90 -w 100 -o d3 d3
is "$rc" 0 "d3, first run: exit 0" || show_run
cp d3/a-80.webp webp.orig
run -f webp,png -Q 50 -w 100 -o d3 d3
is "$rc" 1 "d3, second run: exit 1" || show_run
is "$(json_get d3/imgbake-manifest.json 'src("d3/a.png")->{reason}')" collision \
	"a.png: reason collision"
cmp -s d3/a-80.webp webp.orig
ok $? "the WebP of the earlier run is still there, unchanged"
is "$(vipsheader -f width d3/a-80.png)" 50 "the source a-80.png is untouched"
is "$(find d3 -name '*.imgbake-*' | wc -l)" 0 "no temporary file left"
is "$(json_get d3/imgbake-manifest.json 'src("d3/a.png")->{outputs}[0]{path}')" a-80.webp \
	"the manifest keeps the old WebP, with the failed source's record"
# ... and so the next run takes it for imgbake's, not for a source
run -f webp,png -Q 50 -w 100 -o d3 d3
is "$(json_get d3/imgbake-manifest.json 'join " ", map { $_->{path} } @{$j->{sources}}')" \
	"d3/a-80.png d3/a.png" "a kept output is not taken for a source"


# A source narrower than every -w names its one output by its own width,
# which the plan cannot know: with --name '{stem}{w}.{ext}', a4.jpg, 80
# wide, gives a480.webp, as a.jpg does at 480.  The first in dispatch
# order (the larger) keeps the name, the other fails, the same way at
# any -j; nothing is overwritten.
mkimg w/a.jpg 600x400
mkimg w/a4.jpg 80x60
for j in 1 2; do
	run -j$j --name '{stem}{w}.{ext}' -w 480 -o ow$j w
	is "$rc" 1 "a4.jpg at 80 px and a.jpg at 480, -j$j: exit 1" || show_run
	is "$(json_get ow$j/imgbake-manifest.json 'src("w/a4.jpg")->{status} . " " . src("w/a4.jpg")->{reason}')" \
		"failed collision" "... the narrow source fails, collision, -j$j"
	like "$err" "'w/a4\\.jpg': name: another source also writes 'a480\\.webp'" "... and says which name, -j$j"
	is "$(size ow$j/a480.webp)" 480x320 "... a480.webp is a.jpg's, -j$j"
	is "$(json_get ow$j/imgbake-manifest.json 'scalar grep { $_->{path} eq "a480.webp" } outs()')" 1 \
		"... and one record lists it, -j$j"
done
mkimg w2/a.jpg 600x400
run --name '{stem}{w}.{ext}' -w 480 -o ow3 w2
mkimg w2/a4.jpg 80x60
run --name '{stem}{w}.{ext}' -w 480 -o ow3 w2
is "$(json_get ow3/imgbake-manifest.json 'src("w2/a.jpg")->{status}')" up-to-date \
	"a.jpg up to date, a4.jpg added: a.jpg keeps its output"
is "$(json_get ow3/imgbake-manifest.json 'src("w2/a4.jpg")->{reason}')" collision \
	"... and a4.jpg fails, collision"
is "$(size ow3/a480.webp)" 480x320 "... a480.webp is still a.jpg's"

# -n tells the same: a480.webp once, and a4.jpg would fail
run -n --name '{stem}{w}.{ext}' -w 480 -o ow4 w
is "$(printf '%s\n' "$out" | grep -c a480)" 1 "-n: a480.webp listed once"
like "$err" "'w/a4\\.jpg': name: another source also writes" "-n: a4.jpg would fail, and says why"
like "$err" "would fail 1" "-n: would fail 1"

# an identical copy of the source that lost the name has a name of its
# own, and converts
cp w/a4.jpg w/b4.jpg
run --name '{stem}{w}.{ext}' -w 480 -o ow5 w
is "$(json_get ow5/imgbake-manifest.json 'src("w/b4.jpg")->{status}')" converted \
	"an identical copy of the narrow source converts under its own name"
is "$(size ow5/b480.webp)" 80x60 "... b480.webp"
rm w/b4.jpg

# a source that loses one name gives up the others it claimed: a.jpg,
# 1000 wide, loses a960 to a9.jpg (60 wide, larger file) and leaves
# a480 to a4.jpg
mkimg w6/a9.jpg 60x4000
mkimg w6/a.jpg 1000x100
mkimg w6/a4.jpg 80x60
run --name '{stem}{w}.{ext}' -w 480,960 -o ow6 w6
is "$(json_get ow6/imgbake-manifest.json 'join " ", map { "$_->{path}=$_->{status}" } @{$j->{sources}}')" \
	"w6/a.jpg=failed w6/a4.jpg=converted w6/a9.jpg=converted" \
	"a source failing on one name leaves the others it claimed"

# a source refused before it is read keeps its outputs: a.jpg over
# --max-file-size keeps a480.webp, and a4.jpg fails
mkimg w7/a.jpg 600x400
run --name '{stem}{w}.{ext}' -w 480 -o ow7 w7
mkimg w7/a4.jpg 80x60
touch w7/a.jpg
run --max-file-size 10000 --name '{stem}{w}.{ext}' -w 480 -o ow7 w7
is "$(json_get ow7/imgbake-manifest.json 'src("w7/a4.jpg")->{reason}')" collision \
	"a source refused before it is read keeps its output from a narrow one"
is "$(size ow7/a480.webp)" 480x320 "... a480.webp is still a.jpg's"

# converted again (--force), the narrow source loses its old name to a
# larger one: its failed record no longer lists it
mkimg w8/a4.jpg 80x60
run --name '{stem}{w}.{ext}' -w 480 -o ow8 w8
mkimg w8/a.jpg 600x400
run --force --name '{stem}{w}.{ext}' -w 480 -o ow8 w8
is "$(json_get ow8/imgbake-manifest.json 'scalar grep { $_->{path} eq "a480.webp" } outs()')" 1 \
	"an output another source took: one record lists it"
is "$(json_get ow8/imgbake-manifest.json 'join " ", map { $_->{path} } outs()')" "a480.webp" \
	"... a.jpg's"

# in a job array the two share a task, which sees the collision
# both_tasks OUT TEMPLATE SRC: run tasks 0/2 and 1/2, print their stderr
both_tasks() {
	for k in 0 1; do
		run --shard $k/2 -m "$1/m-{shard}.json" --name "$2" -w 480 -o "$1" "$3"
		printf '%s\n' "$err"
	done
}
like "$(both_tasks ow9 '{stem}{w}.{ext}' w8)" "'w8/a4\\.jpg': name: another source also writes 'a480\\.webp'" \
	"--shard: the narrow source and the other share a task, which fails it"
is "$(size ow9/a480.webp)" 480x320 "--shard: a480.webp is a.jpg's"

# a new copy of an up-to-date source (b4.jpg, as b.jpg, 80 px) would name
# c480.webp, which the up-to-date c.jpg, later in the plan, keeps
T='{stem}{w}.{ext}'
mkimg wa/b.jpg 80x60
mkimg wa/c.jpg 600x400
run --name "$T" -w 480 -o owa wa
cp wa/b.jpg wa/c4.jpg
run --name "$T" -w 480 -o owa wa
is "$(json_get owa/imgbake-manifest.json 'src("wa/c4.jpg")->{reason}')" collision \
	"a copy of an up-to-date source fails for a name another keeps"
is "$(size owa/c480.webp)" 480x320 "... c480.webp is still c.jpg's"
is "$(json_get owa/imgbake-manifest.json 'scalar grep { $_->{path} eq "c480.webp" } outs()')" 1 \
	"... and one record lists it"

# a source refused as its header is read (--max-pixels) claims nothing
mkimg wb/a.jpg 600x400
mkimg wb/a4.jpg 80x60
run --max-pixels 100000 --name "$T" -w 480 -o owb wb
is "$(json_get owb/imgbake-manifest.json 'src("wb/a4.jpg")->{status}')" converted \
	"a source over --max-pixels leaves its name to a narrow one"
run -n --max-pixels 100000 --name "$T" -w 480 -o owb2 wb
like "$err" "would convert 1, up to date 0, skipped 0, would prune 0, would fail 1" "... as -n says"

# {w} before the stem: 0a.jpg at 48 px and a.jpg at 480 both name
# 480a.webp, and share a task of a job array
mkimg wc/a.jpg 600x400
mkimg wc/0a.jpg 48x30
like "$(both_tasks owc '{w}{stem}.{ext}' wc)" "'wc/0a\\.jpg': name: another source also writes '480a\\.webp'" \
	"--shard, {w}{stem}: the two share a task, which fails the narrow one"
is "$(size owc/480a.webp)" 480x320 "... 480a.webp is a.jpg's"

# the same source named again through '..' (refused) is no other claimant
mkdir -p wd/img && mkimg wd/img/a.jpg 600x400
(cd wd && "$IMGBAKE" -q --name "$T" -w 480 -o out img &&
	"$IMGBAKE" -q --force --name "$T" -w 480 -o out img ../wd/img/a.jpg) 2>wd.err
is "$(json_get wd/out/imgbake-manifest.json 'src("img/a.jpg")->{status}')" converted \
	"a source named again through '..' does not fail the source itself"

# --json tells what the manifest does: a failed source's line no longer
# lists the output another source took in the run
mkimg we/a4.jpg 80x60
run --name "$T" -w 480 -o owe we
mkimg we/a.jpg 600x400
mkimg we/a4.jpg 80x61
run --json --name "$T" -w 480 -o owe we
unlike "$(printf '%s\n' "$out" | grep '"we/a4.jpg"')" '"outputs":\[\{"path":"a480' \
	"--json: the failed source's line does not list the output it lost"

# a source named twice (img, then ./img/sub, with no record of its own
# for the second) fails on one name: it gives up only what it claimed,
# not what the up-to-date first one keeps under the same record
T2='{dir}/{stem}{w}.{ext}'
mkimg wf/img/sub/a.jpg 600x400
run --name "$T2" -w 320,480 -o owf wf/img
mkimg wf/img/a3.jpg 20x12000
mkimg wf/img/sub/a4.jpg 80x60
(cd wf && "$IMGBAKE" -j1 --name "$T2" -w 320,480 -o ../owf img ./img/sub) 2>/dev/null
is "$(size owf/sub/a480.webp)" 480x320 "a source failing on a name leaves its namesake's kept ones"
is "$(json_get owf/imgbake-manifest.json 'scalar grep { $_->{path} eq "sub/a480.webp" } outs()')" 1 \
	"... and one record lists sub/a480.webp"

# a source WebP cannot hold (80x20000: over its 16383 pixel edge) fails
# as its header is read, and claims nothing
mkimg wh/a.jpg 600x400
vips black wh/a4.jpg 80 20000
run --name "$T" -w 480 -o owh wh
is "$(json_get owh/imgbake-manifest.json 'src("wh/a4.jpg")->{reason} . " " . src("wh/a.jpg")->{status}')" \
	"limit converted" "a source over WebP's edge fails, limit, and leaves its name to another"
like "$err" "'wh/a4\\.jpg': limit: 80x20000 is over WebP's 16383 pixel edge" "... and says why"
run -n --name "$T" -w 480 -o owh2 wh
like "$err" "would convert 1, up to date 0, skipped 0, would prune 0, would fail 1" "... as -n says"

# {dir}{w}: a source at the top and one in a directory named 4 both name
# 480/a.webp, and share a task
mkimg wg/a.jpg 600x400
mkimg wg/4/a.jpg 80x60
like "$(both_tasks owg '{dir}{w}/{stem}.{ext}' wg)" "'wg/4/a\\.jpg': name: another source also writes '480/a\\.webp'" \
	"--shard, {dir}{w}: the top and the directory 4 share a task"
is "$(size owg/480/a.webp)" 480x320 "... 480/a.webp is the top a.jpg's"

# ---- across runs ----------------------------------------------------------------------

# Two directories whose files map to the same names, converted one after
# the other into one root: the second run's y.png takes over what the
# first made of a/y.png, which the manifest still carries, and says so;
# one record lists y.webp, not two.
mkimg runs/a/y.png 60x40
mkimg runs/a/only-a.png 60x40
mkimg runs/b/y.png 70x40
mkimg runs/b/only-b.png 60x40
M=runs/out/imgbake-manifest.json
outs_of() { json_get $M "join ' ', map { \$_->{path} } @{src(\"$1\")->{outputs}}"; }
run -o runs/out runs/a
is "$rc" 0 "runs: a first: exit 0" || show_run
run -o runs/out runs/b
is "$rc" 0 "runs: then b, into the same root: exit 0" || show_run
like "$err" "^imgbake: warning: 'runs/b/y\.png' took over 'y\.webp', which an earlier run made of 'runs/a/y\.png'" \
	"runs: a warning names the earlier source"
is "$(size runs/out/y.webp)" 70x40 "runs: y.webp is b's"
json_get $M 'src("runs/a/y.png")' >/dev/null
is $? 1 "runs: a's record, with nothing left to list, is gone"
is "$(outs_of runs/b/y.png)" y.webp "runs: b's record does"
is "$(outs_of runs/a/only-a.png)" only-a.webp "runs: a's other records are kept as they were"
run -o runs/out runs/b
unlike "$err" "warning" "runs: b again: up to date, nothing to say"
run -q -o runs/out runs/a
is "$err" "" "runs: a again takes it back, and with -q says nothing"
run -q -o runs/out runs/b
run -o runs/out runs/a
like "$err" "'runs/a/y\.png' took over 'y\.webp', which an earlier run made of 'runs/b/y\.png'" \
	"runs: a again takes it back, and says so"
is "$(size runs/out/y.webp)" 60x40 "runs: y.webp is a's again"
rm runs/a/y.png
run -o runs/out runs/b
is "$rc" 0 "runs: a/y.png removed, b again: exit 0" || show_run
unlike "$err" "warning" "runs: a source that is gone is not warned about"

# a run killed after taking an output over: its journal is newer than
# the manifest, so the output is no longer the earlier source's, and a run
# of that source converts it again instead of taking it as up to date
mkimg kill/a/y.png 60x40
mkimg kill/b/y.png 60x40 4
run -o kill/out kill/a
run -o kill/o2 kill/b
cp kill/o2/y.webp kill/out/y.webp
perl -MJSON::PP -e 'local $/; my $m = JSON::PP->new->decode(<STDIN>);
	my ($r) = grep { $_->{path} eq "kill/b/y.png" } @{$m->{sources}};
	print JSON::PP->new->canonical->encode($r), "\n"' \
	<kill/o2/imgbake-manifest.json >kill/out/imgbake-manifest.json.journal
run -o kill/out kill/a
is "$(json_get kill/out/imgbake-manifest.json 'src("kill/a/y.png")->{status}')" converted \
	"after a killed takeover, the earlier source is converted again"
is "$(vipsheader -f bands kill/out/y.webp)" 3 "... into its own image"
like "$err" "'kill/a/y\.png' took over 'y\.webp', which an earlier run made of 'kill/b/y\.png'" \
	"... taking it back, and saying so"

# a source that fails while taking an output over leaves it, and the
# record that lists it, as they were, and says nothing of a takeover
mkimg fail/a/x.png 60x40
mkimg fail/b/x.png 70x40
run -o fail/out fail/a
head -c 100 fail/b/x.png >fail/t && mv fail/t fail/b/x.png
run -o fail/out fail/b
is "$rc" 1 "a failing source that would take an output over: exit 1"
unlike "$err" "took over" "... no takeover is reported"
is "$(size fail/out/x.webp)" 60x40 "... the output is a's still"
is "$(json_get fail/out/imgbake-manifest.json 'join " ", map { $_->{path} } @{src("fail/a/x.png")->{outputs}}')" \
	x.webp "... and a's record still lists it"
is "$(size runs/out/y.webp)" 70x40 "runs: now y.webp is b's"

# the same file under another name is the same source, not another
mkimg spell/src/s.png 60x40
run -o spell/out ./spell/src
run -o spell/out spell/src
is "$rc" 0 "./spell/src, then spell/src: exit 0" || show_run
is "$(json_get spell/out/imgbake-manifest.json 'join " ", map { $_->{path} } @{$j->{sources}}')" \
	"spell/src/s.png" "one record, under the name of the last run"
is "$(json_get spell/out/imgbake-manifest.json 'scalar @{$j->{stale}}')" 0 \
	"its output is not stale"

# a hard link or a symbolic link is another source, not another name of
# one: the record of the file it points to is kept, and its outputs
mkdir -p hl/a hl/b
mkimg hl/a/p.png 60x40
ln hl/a/p.png hl/b/q.png
run -o hl/out hl/a
run --prune -o hl/out hl/b
is "$rc" 0 "a hard link in another directory: exit 0" || show_run
is "$(files hl/out | grep -v manifest)" "p.webp
q.webp" "a hard link: the other file's output is kept"
mkimg sl/src/real.png 60x40
ln -s real.png sl/src/latest.png
run -L -o sl/out sl/src
run --prune --base sl/src -o sl/out sl/src/latest.png
is "$rc" 0 "a symbolic link named alone: exit 0" || show_run
is "$(files sl/out | grep -v manifest)" "latest.webp
real.webp" "a symbolic link: its target's output is kept"

# a source refused before it is read keeps what it had: no other source
# may take it in the same run
mkimg pre/a/y.png 60x40
mkdir -p pre/b
vips black pre/b/y.png 70 40
run -o pre/out pre/a
vips gaussnoise pre/a/y.png 60 40	# over the 1K limit below, where b is not
run --max-file-size 1K -o pre/out pre/a pre/b
is "$rc" 1 "a refused source and another for its output: exit 1" || show_run
like "$err" "'pre/b/y\.png': 'y\.webp' is the output of 'pre/a/y\.png'" \
	"the other source fails, naming the refused one"
is "$(size pre/out/y.webp)" 60x40 "the refused source's output is left as it was"

# a manifest that lists one output under two sources (as an older
# imgbake could write): each source may still write what its own record
# lists, so neither is locked out
mkimg two/a/y.png 60x40
mkimg two/b/y.png 70x40
run -o two/out two/a
run -o two/o2 two/b
perl -MJSON::PP -e 'local $/; my $c = JSON::PP->new->canonical->pretty;
	open my $f, "<", $ARGV[0] or die; my $m = $c->decode(<$f>);
	open $f, "<", $ARGV[1] or die; my $o = $c->decode(<$f>);
	push @{$m->{sources}}, @{$o->{sources}};
	open $f, ">", $ARGV[0] or die; print $f $c->encode($m)' \
	two/out/imgbake-manifest.json two/o2/imgbake-manifest.json
run -o two/out two/b
is "$rc" 0 "two records for one output: b: exit 0" || show_run
is "$(size two/out/y.webp)" 70x40 "b writes its own record's output"
run -o two/out two/a
is "$rc" 0 "two records for one output: a: exit 0" || show_run


# a symbolic link followed with -L keeps its record while it exists
mkimg sl2/src/real.png 60x40
ln -s real.png sl2/src/latest.png
run -L -o sl2/out sl2/src
run --prune --base sl2/src -o sl2/out sl2/src/real.png
is "$rc" 0 "a link's target named alone: exit 0" || show_run
is "$(files sl2/out | grep -v manifest)" "latest.webp
real.webp" "the link's output is kept"

# one directory named twice, two ways, in one run: one source each
mkimg twice/a/y.png 60x40
run -o twice/out twice/a ./twice/a
is "$rc" 0 "a and ./a in one run: exit 0" || show_run
is "$(json_get twice/out/imgbake-manifest.json 'scalar @{$j->{sources}}')" 1 \
	"a and ./a in one run: one record"

# a hard link of a source in another tree is another source, as it is
# in one run: taking its output over is said, even while the two are the
# same bytes (they need not stay so)
mkdir -p hl2/a hl2/b
mkimg hl2/a/x.png 60x40
ln hl2/a/x.png hl2/b/x.png
run -o hl2/out hl2/a
run -o hl2/out hl2/b
like "$err" "'hl2/b/x\.png' took over 'x\.webp', which an earlier run made of 'hl2/a/x\.png'" \
	"a hard link to the same output name in another tree takes it over, and says so"
is "$(json_get hl2/out/imgbake-manifest.json 'scalar grep { grep { $_->{path} eq "x.webp" } @{$_->{outputs} || []} } @{$j->{sources}}')" 1 \
	"... and one record lists x.webp"

# one file under two names that mirror to different places is two
# conversions, as two files would be: a root and a directory in it ...
mkimg nest/a/sub/x.png 60x40
run -o nest/out nest/a ./nest/a/sub
is "$rc" 0 "a root and ./ a directory inside it: exit 0" || show_run
is "$(files nest/out | grep -v manifest)" "sub/x.webp
x.webp" "both places get their output"
# ... and, with -L, a directory and a link to it
mkimg sib/src/real/x.png 60x40
ln -s real sib/src/link
run -L -o sib/out sib/src
is "$(files sib/out | grep -v manifest)" "link/x.webp
real/x.webp" "-L: a directory and a link to it both get their outputs"

# named twice to one place, the name that may convert is the one kept:
# a link skipped by the walk but named on its own
mkimg ln2/t.png 60x40
mkdir ln2/d
ln -s ../t.png ln2/d/l.png
run --base ln2/d -o ln2/out ./ln2/d ln2/d/l.png
is "$rc" 0 "a walked link, and the same link named: exit 0" || show_run
is "$(files ln2/out | grep -v manifest)" "l.webp" "the named link is converted"

# an output where another's directory would be: a.png writes a.webp, a
# directory named a.webp holds b.png; whichever wrote first won
mkimg fd/src/a.png 60x40
mkimg fd/src/a.webp/b.png 60x40
mkimg fd/src/c.png 60x40
for j in 1 2; do
	run -j$j -o fd/out$j fd/src
	is "$rc" 1 "a file where another output's directory would be, -j$j: exit 1" || show_run
	is "$(json_get fd/out$j/imgbake-manifest.json 'join " ", map { "$_->{path}:$_->{status}:" . ($_->{reason} // "") } @{$j->{sources}}')" \
		"fd/src/a.png:failed:collision fd/src/a.webp/b.png:failed:collision fd/src/c.png:converted:" \
		"... both fail as a collision, the rest converts"
done
like "$err" "cannot convert 'fd/src/a.png': 'a.webp' would be a directory too: another source writes 'a.webp/b.webp'" \
	"... saying why, for the file"
like "$err" "cannot convert 'fd/src/a.webp/b.png': another source writes 'a.webp', a file where" \
	"... and for the directory"
run -n -o fd/out3 fd/src
like "$err" "would convert 1, .*would fail 2" "... as a dry run says" || show_run
# ... also where a source refused before it is read keeps that file
mkimg fk/src/a.png 60x40
run -o fk/out fk/src
vips gaussnoise fk/src/a.png 200 200
mkimg fk/src/a.webp/b.png 60x40
run --max-file-size 20000 -o fk/out fk/src
is "$(json_get fk/out/imgbake-manifest.json 'join " ", map { "$_->{path}:$_->{status}:" . ($_->{reason} // "") } @{$j->{sources}}')" \
	"fk/src/a.png:failed:limit fk/src/a.webp/b.png:failed:collision" \
	"a directory where a refused source keeps its output: a collision" || show_run
like "$err" "cannot convert 'fk/src/a.webp/b.png': 'a.webp', where this output's directory would be, is the output of 'fk/src/a.png', which keeps it" \
	"... saying why"

done_testing
