#!/bin/sh
# Source paths in a manifest are as the run that wrote it was given them,
# from the directory it started in, and the manifest says which ("cwd",
# relative to the output root).  A run started elsewhere reads them from
# there: what is up to date stays so, a failing source keeps its outputs,
# --prune deletes nothing that is still a source's, records carried over
# are named as this run names them, and so are a journal's.  An output
# root moved away from its sources leaves "cwd" naming a directory that
# is not where the run started: the records are then read as they are.
. "$(dirname "$0")/lib.sh"

M=proj/out/imgbake-manifest.json

# paths: "path status" of every source in the manifest, in its order.
paths() {
	json_get $M 'join " ", map { "$_->{path} $_->{status}" } @{$j->{sources}}'
}

mkimg proj/src/a.png 60x40
mkimg proj/src/b.jpg 50x50
mkimg proj/other/c.png 40x30

cd proj || exit 1
run -o out src other
cd .. || exit 1
is "$rc" 0 "a run from inside the project: exit 0" || show_run
is "$(json_get $M '$j->{cwd}')" .. "\"cwd\" is the run's directory, from the output root"
is "$(paths)" "other/c.png converted src/a.png converted src/b.jpg converted" \
	"source paths are as that run named them"

# ---- the same tree from its parent ---------------------------------------------
run --prune -o proj/out proj/src
is "$rc" 0 "from the parent: exit 0" || show_run
is "$(json_get $M '$j->{summary}{up_to_date}')" 2 "from the parent: both sources up to date"
is "$(json_get $M '$j->{summary}{pruned}')" 0 "from the parent: nothing pruned"
is "$(paths)" "proj/other/c.png converted proj/src/a.png up-to-date proj/src/b.jpg up-to-date" \
	"from the parent: the record carried over is named from here too"
is "$(json_get $M '$j->{cwd}')" ../.. "from the parent: \"cwd\" follows"
is "$(files proj/out | grep -c '\.webp$')" 3 "from the parent: every output is still there"

# ---- from the root, with absolute paths -----------------------------------------
P=$(pwd -P)
cd / || exit 1
run --prune --base "$P" -o "$P/proj/out" "$P/proj/src"
cd "$P" || exit 1
is "$rc" 0 "from /, absolute paths: exit 0" || show_run
is "$(json_get $M '$j->{summary}{up_to_date}')" 2 "from /, absolute paths: up to date"
is "$(files proj/out | grep -c '\.webp$')" 3 "from /, absolute paths: nothing pruned"
is "$(json_get $M 'src("'"${P#/}"'/proj/other/c.png")->{status}')" converted \
	"from /: the carried record is named from /"

# ---- a source that fails now keeps its outputs ---------------------------------
cd proj || exit 1
run -o out src other
cd .. || exit 1
head -c 200 proj/src/b.jpg >cut.jpg
mv cut.jpg proj/src/b.jpg
run --prune -o proj/out proj/src
is "$rc" 1 "a cut-short source, from the parent: exit 1" || show_run
like "$err" "cannot convert 'proj/src/b.jpg'" "... which is named"
ok "$([ -f proj/out/b.webp ] && echo 0 || echo 1)" "... and its output is not pruned"
is "$(json_get $M 'join " ", map { $_->{path} } @{src("proj/src/b.jpg")->{outputs}}')" b.webp \
	"... and its failed record keeps it"
mkimg proj/src/b.jpg 50x50

# ---- a journal is read from where its run started ------------------------------
# The manifest's record of a.png has an old recipe, the journal's (written
# from proj) the current one: the journal's, newer, decides.
cd proj || exit 1
run --force -o out src other
cd .. || exit 1
perl -MJSON::PP -e 'my ($m) = @ARGV; local $/;
	open my $f, "<", $m or die; my $c = JSON::PP->new->canonical->pretty;
	my $j = $c->decode(<$f>);
	my ($r) = grep { $_->{path} eq "src/a.png" } @{$j->{sources}};
	open my $jl, ">", "$m.journal" or die;
	print $jl qq({"cwd":".."}\n), JSON::PP->new->canonical->encode($r), "\n";
	$_->{recipe} = "0000000000000000" for @{$r->{outputs}};
	open $f, ">", $m or die; print $f $c->encode($j)' $M
run -o proj/out proj/src
is "$rc" 0 "a journal from another directory: exit 0" || show_run
is "$(json_get $M 'src("proj/src/a.png")->{status}')" up-to-date \
	"a journal from another directory: its record is the source's"

# ---- manifests without "cwd" are read from here, as before ---------------------
perl -MJSON::PP -i -0777 -pe 'my $c = JSON::PP->new->canonical->pretty;
	my $j = $c->decode($_); delete $j->{cwd}; $_ = $c->encode($j)' $M
run -o proj/out proj/src
is "$(json_get $M '$j->{summary}{up_to_date}')" 2 "no \"cwd\": paths are read from here"

# ---- the output root moved away from the sources ---------------------------------
# "cwd" is relative to the output root, so from the new place it names
# another directory; the records find their sources as they are
mkimg mv/p/src/a.png 30x20
mkimg mv/p/other/c.png 30x20
cd mv/p || exit 1
run -o out src other
mkdir ../srv
mv out ../srv/img
run --prune -o ../srv/img src
cd ../.. || exit 1
is "$rc" 0 "an output root moved: exit 0" || show_run
is "$(json_get mv/srv/img/imgbake-manifest.json '$j->{summary}{up_to_date}')" 1 \
	"an output root moved: its source up to date"
is "$(json_get mv/srv/img/imgbake-manifest.json '$j->{summary}{pruned}')" 0 \
	"an output root moved: nothing pruned"
ok "$([ -f mv/srv/img/c.webp ] && echo 0 || echo 1)" "an output root moved: the other tree's output stays"
# ... and with the sources named by their full paths
mkimg mva/p/src/a.png 30x20
mkimg mva/p/other/c.png 30x20
cd mva/p || exit 1
run -o out "$PWD/src" "$PWD/other"
mkdir ../srv
mv out ../srv/img
run --prune -o ../srv/img "$PWD/src"
cd ../.. || exit 1
is "$(json_get mva/srv/img/imgbake-manifest.json '$j->{summary}{up_to_date}')" 1 \
	"an output root moved, sources named by full path: its source up to date" || show_run
ok "$([ -f mva/srv/img/c.webp ] && echo 0 || echo 1)" "... the other tree's output stays"

# ---- a project moved with its output tree, sources named by full path ----------
# (CI naming $CI_PROJECT_DIR/src, checked out elsewhere each time)
mkimg pm/a/src/p1.png 30x20
mkimg pm/a/src/p2.png 30x20
cd pm/a || exit 1
run -o public "$PWD/src"
cd .. && mv a b && cd b || exit 1
run -o public "$PWD/src"
is "$(json_get public/imgbake-manifest.json '$j->{summary}{up_to_date}')" 2 \
	"a project moved, sources named by full path: both up to date" || show_run
is "$(json_get public/imgbake-manifest.json '$j->{sources}[0]{path}')" "$PWD/src/p1.png" \
	"... recorded where they are now"
cd .. && mv b c && cd c || exit 1
run -o public src
is "$(json_get public/imgbake-manifest.json '$j->{summary}{up_to_date}')" 2 \
	"... moved again and named from here: up to date" || show_run
cd ../.. || exit 1
# ... and named through a symbolic link on the way (a home directory)
mkdir -p pl/real
ln -s real pl/link
mkimg pl/real/a/src/p1.png 30x20
cd pl/link/a || exit 1
run -o public "$PWD/src"
cd .. && mv a b && cd b || exit 1
run -o public "$PWD/src"
is "$(json_get public/imgbake-manifest.json '$j->{summary}{up_to_date}')" 1 \
	"a project moved, named by full path through a link: up to date" || show_run
cd ../../.. || exit 1
# ... a source that is a link itself, named by full path, the output
# root moved: the link is not resolved
mkdir -p fl/in fl/store
mkimg fl/store/x.png 30x20
ln -s ../store/x.png fl/in/a.png
run -o "$PWD/fl/out" "$PWD/fl/in/a.png"
mv fl/out fl/out2
run -o "$PWD/fl/out2" "$PWD/fl/in/a.png"
is "$(json_get fl/out2/imgbake-manifest.json '$j->{summary}{up_to_date}')" 1 \
	"an output root moved, the source a link named by full path: up to date" || show_run

# ---- most sources gone: the one left is still found ----------------------------
mkdir -p gone/p/src gone/p/zz
for i in $(seq 10 42); do
	mkimg "gone/p/src/x$i.png" 8x8
done
mkimg gone/p/zz/c.png 9x9
cd gone/p || exit 1
run -o out src zz
cd ../.. || exit 1
rm gone/p/src/x*.png
mkimg gone/p/src/new.png 10x10
run --prune -o gone/p/out gone/p/src
is "$rc" 0 "34 sources, 33 gone, from the parent: exit 0" || show_run
is "$(json_get gone/p/out/imgbake-manifest.json '$j->{summary}{pruned}')" 33 \
	"... the 33 outputs of the gone sources pruned"
ok "$([ -f gone/p/out/c.webp ] && echo 0 || echo 1)" "... and the other tree's output kept"

# a journal whose first record's source is gone: the rest still read
mkimg jg/p/src/a.png 20x20
mkimg jg/p/src/b.png 21x21
mkimg jg/p/other/c.png 22x22
cd jg/p || exit 1
run -o out src other
cd ../.. || exit 1
JM=jg/p/out/imgbake-manifest.json
perl -MJSON::PP -e 'my ($m) = @ARGV; local $/;
	open my $f, "<", $m or die; my $j = decode_json(<$f>);
	my %s = map { $_->{path} => $_ } @{$j->{sources}};
	open my $jl, ">", "$m.journal" or die;
	print $jl qq({"cwd":".."}\n);
	print $jl JSON::PP->new->canonical->encode($s{$_}), "\n" for "src/b.png", "other/c.png"' $JM
rm jg/p/src/b.png
run --prune -o jg/p/out jg/p/src
is "$rc" 0 "a journal whose first source is gone: exit 0" || show_run
is "$(json_get $JM '$j->{summary}{pruned}')" 1 "... only that source's output pruned"
ok "$([ -f jg/p/out/c.webp ] && echo 0 || echo 1)" "... and the other tree's output kept"

# ---- --merge-manifests --------------------------------------------------------
run --shard 0/2 -m m0.json -o proj/out proj/src
run --shard 1/2 -m m1.json -o proj/out proj/src
run --merge-manifests merged.json m0.json m1.json
is "$rc" 0 "merging the shards of one run: exit 0" || show_run
is "$(json_get merged.json '$j->{cwd}')" ../.. "the merged manifest keeps their \"cwd\""
cd proj || exit 1
run --shard 1/2 -m ../m1.json -o out src
cd .. || exit 1
run --merge-manifests merged.json m0.json m1.json
is "$rc" 2 "shards started from different directories are not merged" || show_run
like "$err" "different directories" "... and the message says why"

done_testing
