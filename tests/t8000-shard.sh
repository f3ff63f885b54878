#!/bin/sh
# Sharding: the shares of a tree add up to the single run, whatever runs
# them; a share depends only on a source's own output name.
. "$(dirname "$0")/lib.sh"

i=0
for d in . a a/b c; do
	for n in 1 2 3 4 5; do
		mkimg "src/$d/p$i.jpg" "$((120 + i * 7))x$((90 + i * 3))"
		i=$((i + 1))
	done
done
mkimg src/c/clash.jpg 100x80	# clash.jpg and clash.png both want c/clash-*.webp
mkimg src/c/clash.png 90x70
cp src/a/p5.jpg src/c/same-as-p5.jpg
head -c 400 src/p0.jpg >src/broken.jpg
echo text >src/notes.txt

run -j2 -f webp,png -w 64,100 -o single src
is "$rc" 1 "one run: exit 1 (a collision and a broken file)" || show_run

# four shards at once, on one output root
pids=
for k in 0 1 2 3; do
	"$IMGBAKE" -q -j1 --shard $k/4 -f webp,png -w 64,100 -o multi src 2>"shard$k.err" &
	pids="$pids $!"
done
st=0
for p in $pids; do
	wait "$p" || st=$((st + 1))
done
cmp_ok "$st" -ge 1 "the shard holding the failures exits non-zero"
for k in 0 1 2 3; do
	[ -s "multi/imgbake-manifest.$k-of-4.json" ]
	ok $? "shard $k/4 wrote imgbake-manifest.$k-of-4.json"
done
is "$(temps multi)" "" "no temporary left by four concurrent shards"

sums() { (cd "$1" && find . -type f ! -name 'imgbake-manifest*' | sort | xargs md5sum); }
is "$(sums multi)" "$(sums single)" "the shards wrote byte-identical outputs, no more, no less"

run --merge-manifests merged.json multi/imgbake-manifest.0-of-4.json \
	multi/imgbake-manifest.1-of-4.json multi/imgbake-manifest.2-of-4.json \
	multi/imgbake-manifest.3-of-4.json
is "$rc" 0 "--merge-manifests: exit 0" || show_run
is "$(json_stable merged.json)" "$(json_stable single/imgbake-manifest.json)" \
	"the merged manifest is the single run's"
is "$(grep -c '"shard"' merged.json)" 0 "... with no shard left in its options"
n=0
for k in 0 1 2 3; do
	c=$(json_get "multi/imgbake-manifest.$k-of-4.json" 'scalar @{$j->{sources}}')
	n=$((n + c))
	[ "$c" -lt 25 ]
	ok $? "shard $k/4 took part of the tree ($c sources), not all"
done
is "$n" 25 "the shards' sources add up to the tree's"
is "$(json_get multi/imgbake-manifest.2-of-4.json '$j->{options}{shard}')" "2/4" \
	"a shard's manifest says which it is"
a=$(json_get single/imgbake-manifest.json 'src("src/c/clash.jpg")->{reason}')
is "$a" collision "sources that would collide still do"

# the GNU parallel recipe of the man page
if command -v parallel >/dev/null; then
	parallel --will-cite -j4 "$IMGBAKE" -q --shard {}/4 -f webp,png -w 64,100 -o par src \
		::: 0 1 2 3 2>/dev/null
	"$IMGBAKE" --merge-manifests par/imgbake-manifest.json par/imgbake-manifest.*-of-4.json
	ok $? "parallel recipe: the four manifests merge"
	is "$(json_stable par/imgbake-manifest.json)" "$(json_stable single/imgbake-manifest.json)" \
		"parallel recipe: the single run's manifest"
else
	skip "GNU parallel not installed"
	skip "GNU parallel not installed"
fi

# a Slurm array of four, each task as the sbatch script runs it
for id in 1 2 3 4; do
	SLURM_ARRAY_TASK_ID=$id SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=4 \
		"$IMGBAKE" -q --shard auto -f webp,png -w 64,100 -o slurm src 2>/dev/null
done
is "$(sums slurm)" "$(sums single)" "Slurm array: the same outputs as one run"

# merge errors
run --merge-manifests m.json multi/imgbake-manifest.0-of-4.json multi/imgbake-manifest.1-of-4.json
is "$rc" 2 "a missing shard: exit 2"
like "$err" "missing shards: 2/4 3/4" "... naming them"
[ ! -e m.json ]
ok $? "... and writing nothing"
run --merge-manifests m.json multi/imgbake-manifest.0-of-4.json multi/imgbake-manifest.0-of-4.json \
	multi/imgbake-manifest.1-of-4.json multi/imgbake-manifest.2-of-4.json \
	multi/imgbake-manifest.3-of-4.json
is "$rc" 2 "a shard given twice: exit 2"
perl -pe 's|"shard": "0/4"|"shard": "1/4"|' multi/imgbake-manifest.0-of-4.json >fake1.json
perl -pe 's|"shard": "1/4"|"shard": "0/4"|' multi/imgbake-manifest.0-of-4.json >fake0.json
run --merge-manifests m.json fake0.json fake1.json multi/imgbake-manifest.2-of-4.json \
	multi/imgbake-manifest.3-of-4.json
is "$rc" 2 "overlapping shards: exit 2"
like "$err" "shards overlap" "... said so"
"$IMGBAKE" -q --shard 0/4 -f webp -o other src 2>/dev/null
run --merge-manifests m.json other/imgbake-manifest.0-of-4.json \
	multi/imgbake-manifest.1-of-4.json multi/imgbake-manifest.2-of-4.json \
	multi/imgbake-manifest.3-of-4.json
is "$rc" 2 "shards made with other options: exit 2"
like "$err" "different options" "... said so"
run --merge-manifests m.json single/imgbake-manifest.json multi/imgbake-manifest.1-of-4.json
is "$rc" 2 "an unsharded manifest among shards: exit 2"

# a shard that did not finish: its manifest is the run before's
cp -r multi stop
perl -pi -e 's|"unfinished": 0|"unfinished": 2|' stop/imgbake-manifest.2-of-4.json
run --merge-manifests m.json stop/imgbake-manifest.*-of-4.json
is "$rc" 2 "a shard stopped before it finished: exit 2"
like "$err" "2-of-4.json' is the manifest of a run stopped before it finished \\(2 sources\\)" \
	"... said so"
cp multi/imgbake-manifest.2-of-4.json stop/
echo '{"cwd":"."}' >stop/imgbake-manifest.3-of-4.json.journal
run --merge-manifests m.json stop/imgbake-manifest.*-of-4.json
is "$rc" 2 "a shard killed (its journal holds records): exit 2"
like "$err" "3-of-4.json.journal' is there: the run writing '[^']*' was killed" "... said so"
[ ! -e m.json ]
ok $? "... and nothing is written"
perl -MFcntl=:flock -e 'open(my $j, ">", $ARGV[0]) or die; flock($j, LOCK_EX) or die;
	open(my $h, ">", $ARGV[1]) or die; close $h; sleep 30' \
	stop/imgbake-manifest.3-of-4.json.journal stop/held &
holder=$!
wait_for stop/held
run --merge-manifests m.json stop/imgbake-manifest.*-of-4.json
is "$rc" 2 "a shard still running (its journal locked): exit 2"
like "$err" "3-of-4.json.journal' is there: the run writing '[^']*' is still running" "... said so"
kill $holder
{ wait $holder; } 2>/dev/null
[ ! -e m.json ]
ok $? "... and nothing is written"
# a journal that cannot be read: whether its run finished is unknown
if as_unprivileged; then
	chmod 755 "$T"
	mkdir -m 777 mw
	chmod 000 stop/imgbake-manifest.3-of-4.json.journal
	$AS_USER "$IMGBAKE" --merge-manifests mw/m.json stop/imgbake-manifest.*-of-4.json \
		2>"$ERR"
	is "$?" 2 "a shard whose journal cannot be read: exit 2"
	like "$(cat "$ERR")" "cannot read '.*3-of-4.json.journal'.*cannot tell whether" "... said so"
	chmod 644 stop/imgbake-manifest.3-of-4.json.journal
else
	skip "cannot run as another user"
fi
# a run killed as it walked leaves an empty journal, and its manifest true
run --merge-manifests m.json stop/imgbake-manifest.*-of-4.json
is "$rc" 0 "a shard's empty journal no run holds: exit 0" || show_run
rm m.json stop/imgbake-manifest.3-of-4.json.journal
run --merge-manifests m.json stop/imgbake-manifest.*-of-4.json
is "$rc" 0 "once every shard has finished: exit 0" || show_run

# a new file moves no other file to another shard
share() {
	for k in 0 1 2 3; do
		"$IMGBAKE" -n --shard $k/4 -f webp -o "dry$k" src 2>/dev/null |
			sed "s|^dry$k/|$k |"
	done | sort -k2
}
share >before
mkimg src/a/new-one.jpg 130x90
share >after
is "$(grep -v new-one after)" "$(cat before)" "adding a file changes no other file's shard"
is "$(grep -c new-one after)" 1 "the new file is in exactly one shard"

# --shard auto
SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=4 \
	run --shard auto -n -f webp -o auto src
like "$err" "shard 2/4, from SLURM_ARRAY_TASK_ID" "auto: Slurm's task 3 of 1..4 is share 2/4"
is "$(printf '%s\n' "$out" | sed 's|^auto/||')" "$(grep '^2 ' after | cut -d' ' -f2-)" "... and takes exactly that share"
CI_NODE_INDEX=1 CI_NODE_TOTAL=4 run --shard auto -n -f webp -o auto src
like "$err" "shard 0/4, from CI_NODE_INDEX" "auto: GitLab's 1-based node 1 is share 0/4"
JOB_COMPLETION_INDEX=3 run --shard auto --shards 4 -n -f webp -o auto src
like "$err" "shard 3/4, from JOB_COMPLETION_INDEX" "auto: a Kubernetes index with --shards"
JOB_COMPLETION_INDEX=3 run --shard auto -n -f webp -o auto src
is "$rc" 2 "auto: a Kubernetes index without --shards is a usage error"
JOB_COMPLETION_INDEX=4 run --shard auto --shards 4 -n -f webp -o auto src
is "$rc" 2 "auto: an index out of range is a usage error"
for bad in 4/4 -1/4 1/0 a/b 1 /4 2/; do
	run --shard "$bad" -o bad src
	is "$rc" 2 "--shard $bad is a usage error"
done


# {shard} in -m and --report: one command line for every task
for n in 1 2 3 4 5 6; do
	mkimg "brace-src/b$n.png" 40x30
done
mkdir brace-m
for k in 0 1 2; do
	run -q --shard $k/3 -m 'brace-m/{shard}.json' --report 'brace-{shard}.html' \
		-f webp -o brace brace-src
	is "$rc" 0 "{shard}: task $k/3: exit 0" || show_run
done
is "$(ls brace-m)" "0-of-3.json
1-of-3.json
2-of-3.json" "{shard} in -m: a manifest per task"
[ -f brace-0-of-3.html ] && [ -f brace-1-of-3.html ] && [ -f brace-2-of-3.html ]
ok $? "{shard} in --report: a page per task"
# one --report for every task: the second refuses the first's page
run -q --shard 0/3 -m 'brace-m/{shard}.json' --report brace-one.html -f webp -o brace brace-src
is "$rc" 0 "one --report without {shard}: the first task writes it" || show_run
run -q --shard 1/3 -m 'brace-m/{shard}.json' --report brace-one.html -f webp -o brace brace-src
is "$rc" 2 "... another task refuses to write over it: exit 2" || show_run
like "$err" "'brace-one.html' is the report of another task of --shard" "... saying why"
run -q --shard 0/3 -m 'brace-m/{shard}.json' --report brace-one.html -f webp -o brace brace-src
is "$rc" 0 "... the same task writes it again" || show_run
run --merge-manifests brace-all.json brace-m/0-of-3.json brace-m/1-of-3.json \
	brace-m/2-of-3.json
is "$rc" 0 "{shard}: the manifests merge" || show_run
is "$(json_get brace-all.json 'scalar @{$j->{sources}}')" 6 \
	"{shard}: together they record every source"
run -q -m 'one-{shard}.json' -f webp -o brace1 brace-src
[ -f one-0-of-1.json ]
ok $? "{shard} without --shard: 0-of-1"

# a name template change moves a source to another share: its old output
# is free for the source that now maps to it, as in a single run.
# moved DIR ROOT: the tree DIR/src, named ROOT the second time.
moved() {
	mkimg "$1/src/e/p.png" 40x30
	for k in 0 1; do
		run -q --shard $k/2 --name '{stem}.{ext}' -o "$1/out" "$1/src"
	done
	mkimg "$1/src/p.png" 50x30
	st=0
	for k in 0 1; do
		run -q --shard $k/2 --name '{dir}/{stem}.{ext}' -o "$1/out" "$2"
		[ "$rc" -eq 0 ] || { st=1; show_run; }
	done
	is "$st" 0 "$1: a source moved to another share: every task exits 0"
	is "$(size "$1/out/p.webp")" 50x30 "$1: p.webp is the new source's"
}
moved mv mv/src
is "$(size mv/out/e/p.webp)" 40x30 "e/p.webp is written by the task it moved to"
run --merge-manifests mv/all.json mv/out/imgbake-manifest.0-of-2.json \
	mv/out/imgbake-manifest.1-of-2.json
is "$rc" 0 "the tasks' manifests still merge: each source in one" || show_run
moved mv2 ./mv2/src

# a named file that is missing: one task reports it, the others run
mkimg miss/a.png 40x30
reported=0
for k in 0 1 2; do
	run -q --shard $k/3 -o miss/out miss/a.png miss/nosuch.png
	case $rc in 0 | 1) ;; *) show_run ;; esac
	case $err in *"cannot convert 'miss/nosuch.png'"*) reported=$((reported + 1)) ;; esac
done
is "$reported" 1 "--shard and a missing named file: one task of three reports it"

# Tasks whose own manifests are missing or older read the shared one, the
# unsharded run's or the merge: another number of tasks, or a first
# sharded run after unsharded ones, knows what was made.
for i in 1 2 3 4 5 6; do
	mkimg "re/A/a$i.png" "$((40 + i))x30"
	mkimg "re/B/b$i.png" "$((40 + i))x30"
done
run -q -o re/out re/A re/B
rm re/A/a1.png re/B/b1.png
for k in 0 1; do
	run -v --prune --shard $k/2 -o re/out re/A
	is "$rc" 0 "after an unsharded run: task $k/2 exits 0" || show_run
	unlike "$err" "converted '" "... and converts nothing"
done
run --merge-manifests re/out/imgbake-manifest.json re/out/imgbake-manifest.*-of-2.json
is "$rc" 0 "... their manifests merge: the other directory's records kept once" || show_run
is "$(json_get re/out/imgbake-manifest.json 'join(" ", map { $_->{path} } @{$j->{sources}})')" \
	"re/A/a2.png re/A/a3.png re/A/a4.png re/A/a5.png re/A/a6.png re/B/b2.png re/B/b3.png re/B/b4.png re/B/b5.png re/B/b6.png" \
	"... with every source left and no other"
[ ! -e re/out/a1.webp ] && [ ! -e re/out/b1.webp ]
ok $? "... and the outputs of the sources gone are pruned"
is "$(files re/out | grep -c webp)" 10 "... the others kept"

rm re/A/a2.png
for k in 0 1 2; do
	run -v --prune --shard $k/3 -o re/out re/A re/B
	is "$rc" 0 "another number of tasks: task $k/3 exits 0" || show_run
	unlike "$err" "converted '" "... and converts nothing"
done
[ ! -e re/out/a2.webp ]
ok $? "... and the output of the source gone is pruned"
run --merge-manifests re/out/imgbake-manifest.json re/out/imgbake-manifest.*-of-3.json
is "$rc" 0 "... their manifests merge" || show_run
is "$(json_get re/out/imgbake-manifest.json '$j->{summary}{sources}')" 9 "... nine sources"

# Once a task has its own manifest, it reads that one: an unsharded run
# over another directory since rewrote the shared one, knowing nothing of
# the tasks' sources.
mkimg re/C/c1.png 40x30
mv re/out/imgbake-manifest.json re/merged.json
run -q -o re/out re/C
rm re/A/a3.png
for k in 0 1 2; do
	run -v --prune --shard $k/3 -o re/out re/A re/B
	is "$rc" 0 "after an unsharded run over another directory: task $k/3 exits 0" || show_run
	unlike "$err" "converted '" "... and converts nothing"
done
[ ! -e re/out/a3.webp ]
ok $? "... and the output of the source gone is pruned"

# A killed task (its journal says where it started, it has no manifest
# yet) still reads the shared one, and its journal on top.
run --merge-manifests re/out/imgbake-manifest.json re/out/imgbake-manifest.*-of-3.json
echo '{"cwd":"../.."}' >re/out/imgbake-manifest.0-of-4.json.journal
run -v --shard 0/4 -o re/out re/A re/B
is "$rc" 0 "a killed task without a manifest: exit 0" || show_run
unlike "$err" "converted '" "... converts nothing: it read the shared manifest"

# -m naming one file for every task: a task refuses another's manifest
mkimg same/src/x.png 40x30
mkimg same/src/y.png 41x30
mkimg same/src/z.png 42x30
run -q --prune --shard 0/2 -m same/m.json -o same/out same/src
run -q --prune --shard 1/2 -m same/m.json -o same/out same/src
is "$rc" 2 "a task given another task's manifest (-m): exit 2"
like "$err" "'same/m\\.json' is the manifest of task 0/2, not of 1/2" "... said so"
is "$(json_get same/m.json '$j->{options}{shard}')" 0/2 "... and the manifest is left as it was"

# --merge-manifests writes its output as a run writes a manifest: not
# over a killed run's journal, and not while a run holds it
echo '{"cwd":"../.."}' >re/out/imgbake-manifest.json.journal
run --merge-manifests re/out/imgbake-manifest.json re/out/imgbake-manifest.*-of-2.json
is "$rc" 2 "a merge into a manifest whose run was killed: exit 2"
like "$err" "imgbake-manifest\\.json\\.journal' is there" "... said so"
rm re/out/imgbake-manifest.json.journal
perl -MFcntl=:flock -e 'open(my $j, ">>", $ARGV[0]) or die; flock($j, LOCK_EX) or die;
	open(my $h, ">", $ARGV[1]) or die; close $h; sleep 1; unlink $ARGV[0]' \
	re/out/imgbake-manifest.json.journal re/held &
holder=$!
wait_for re/held
run --merge-manifests re/out/imgbake-manifest.json re/out/imgbake-manifest.*-of-2.json
is "$rc" 0 "a merge while a run writes its output: exit 0" || show_run
like "$err" "waiting for the run that writes 're/out/imgbake-manifest\\.json' to finish" \
	"... once that run has finished"
{ wait $holder; } 2>/dev/null
[ ! -e re/out/imgbake-manifest.json.journal ]
ok $? "... and leaves no journal"

# No task prunes what another task's sources make: sources renamed (their
# records go to one task, their outputs to another), and stale entries.
for i in 1 2 3 4 5 6 7 8; do
	mkimg "rn/A/p$i.jpeg" "$((40 + i))x30"
done
run -q -j1 -o rn/out rn/A
for i in 1 2 3 4 5 6 7 8; do
	mv "rn/A/p$i.jpeg" "rn/A/p$i.jpg"
done
for k in 0 1; do
	run -q -j1 --prune --shard $k/2 -o rn/out rn/A
done
is "$(files rn/out | grep -c webp)" 8 "sources renamed, tasks in turn with --prune: every output is there"
run -q -j1 -w 20,30 -o st/out rn/A
run -q -j1 -w 20 -o st/out rn/A
for k in 1 0; do
	run -q -j1 --prune -w 20,30 --shard $k/2 -o st/out rn/A
done
is "$(files st/out | grep -c -- '-30\.webp')" 8 "a width stale, then made again by tasks with --prune: every output is there"

# an empty journal (a run killed as it walked) goes with the next run or
# merge that stops early, or merges
: >st/out/imgbake-manifest.json.journal
run -o st/out -T st/no-such-list
is "$rc" 2 "a run that stops early: exit 2"
[ ! -e st/out/imgbake-manifest.json.journal ]
ok $? "... removes the empty journal it found"
: >st/out/imgbake-manifest.json.journal
run --merge-manifests st/out/imgbake-manifest.json st/out/imgbake-manifest.*-of-2.json
is "$rc" 0 "a merge beside an empty journal: exit 0" || show_run
[ ! -e st/out/imgbake-manifest.json.journal ]
ok $? "... removes it"

# Back to a number of tasks used before: their own manifests are older
# than the merge since, which knows of a source added and removed meanwhile.
mkimg back/src/a.png 40x30
mkimg back/src/b.png 41x30
for k in 0 1; do run -q --prune --shard $k/2 -o back/out back/src; done
run -q --merge-manifests back/out/imgbake-manifest.json back/out/imgbake-manifest.*-of-2.json
mkimg back/src/c.png 42x30
for k in 0 1 2; do run -q --prune --shard $k/3 -o back/out back/src; done
run -q --merge-manifests back/out/imgbake-manifest.json back/out/imgbake-manifest.*-of-3.json
rm back/src/c.png
for k in 0 1; do run -q --prune --shard $k/2 -o back/out back/src; done
[ ! -e back/out/c.webp ]
ok $? "back to two tasks after three: the output of a source the three made, then gone, is pruned"

# ... nor what they name by their own width (narrower than -w) or hash
for i in 1 2 3 4 5 6; do
	mkimg "nar/A/p$i.jpeg" "$((40 + i))x30"
done
run -q -j1 -w 400 -o nar/out nar/A
run -q -j1 --name '{stem}.{hash}.{ext}' -o nar/hout nar/A
for i in 1 2 3 4 5 6; do
	mv "nar/A/p$i.jpeg" "nar/A/p$i.jpg"
done
for k in 1 0; do
	run -q -j1 --prune -w 400 --shard $k/2 -o nar/out nar/A
	run -q -j1 --prune --name '{stem}.{hash}.{ext}' --shard $k/2 -o nar/hout nar/A
done
is "$(files nar/out | grep -c webp)" 6 "sources renamed, named by their own width: every output is there"
is "$(files nar/hout | grep -c webp)" 6 "sources renamed, named by their hash: every output is there"

# A source no longer named, but still there, is kept by the task that
# writes over one of its outputs (a new source of the same name): that
# task says so and keeps what is left of the record, as one run does.
# Three tasks, so that some tasks write nothing.
for n in a b c d e f g h; do
	mkimg "to/src/$n.jpg" 40x30
	mkimg "to/src/$n.png" 44x33
done
head -c 300 to/src/h.png >to/src/h.cut && mv to/src/h.cut to/src/h.png
run -q -w 32 -o to/one to/src/*.jpg
run -q -w 32 -o to/two to/src/*.jpg
run -w 32 -o to/one to/src/*.png
is "$rc" 1 "takeover, one run: exit 1 (a damaged source)" || show_run
one_err=$err
: >to/err
for k in 0 1 2; do
	run -w 32 --shard $k/3 -o to/two to/src/*.png
	printf '%s\n' "$err" >>to/err
done
is "$(grep -c 'took over' to/err)" "$(printf '%s\n' "$one_err" | grep -c 'took over')" \
	"takeover, three tasks: as many warnings as one run gives"
is "$(grep -c 'took over' to/err)" 7 "... one for each output written over"
run --merge-manifests to/two/imgbake-manifest.json to/two/imgbake-manifest.*-of-3.json
is "$rc" 0 "takeover: the tasks' manifests merge" || show_run
is "$err" "" "... with no warning"
is "$(json_stable to/two/imgbake-manifest.json)" "$(json_stable to/one/imgbake-manifest.json)" \
	"... into the manifest of one run"
is "$(json_get to/two/imgbake-manifest.json 'join " ", map { $_->{path} } @{src("to/src/h.jpg")->{outputs}}')" \
	"to/src/h-32.webp" "... where the record of a source not written over keeps its output"
is "$(grep -c 'to/src/a-32.webp' to/two/imgbake-manifest.json)" 1 \
	"... and one written over is listed once"
# the next run: the sources taken over are gone, one PNG is named, and
# --prune deletes no output of a PNG (these names put records and the
# sources that write over them in different tasks of two)
# (flat pictures: the outputs of a JPEG and of the PNG that replaced it
# have one size, and a size that matches its record is what lets
# --prune delete a file)
mkdir -p pr/src
vips black pr/black.v 40 30 --bands 3 && vips black pr/black2.v 44 33 --bands 3
i=0
for n in a b c d e f g h; do
	i=$((i + 1))
	vips linear pr/black.v "pr/src/$n.jpg" 1 $((i * 9)) --uchar
	vips linear pr/black2.v "pr/src/$n.png" 1 $((i * 9 + 5)) --uchar
done
(
	cd pr || exit 1
	"$IMGBAKE" -q -w 32 -o one src/*.jpg && "$IMGBAKE" -q -w 32 -o two src/*.jpg &&
	"$IMGBAKE" -q -w 32 -o one src/*.png &&
	"$IMGBAKE" -q -w 32 --shard 0/2 -o two src/*.png &&
	"$IMGBAKE" -q -w 32 --shard 1/2 -o two src/*.png &&
	"$IMGBAKE" -q --merge-manifests two/imgbake-manifest.json two/imgbake-manifest.*-of-2.json &&
	rm src/*.jpg &&
	"$IMGBAKE" -q -w 32 --prune -o one src/c.png &&
	"$IMGBAKE" -q -w 32 --prune --shard 0/2 -o two src/c.png &&
	"$IMGBAKE" -q -w 32 --prune --shard 1/2 -o two src/c.png &&
	"$IMGBAKE" -q --merge-manifests merged.json two/imgbake-manifest.*-of-2.json
) 2>pr/err
ok $? "takeover, then --prune in two tasks: every run exits 0" || cat pr/err
is "$(files pr/two | grep webp)" "$(files pr/one | grep webp)" \
	"... the outputs of one run, none deleted"
is "$(json_stable pr/merged.json)" "$(json_stable pr/one/imgbake-manifest.json)" \
	"... and its manifest"

# a failed source keeps what an earlier run made of it, unless a
# source of the run (of another task) wrote over it
i=0
for n in a b c d; do
	mkimg "fk/src/$n.jpg" "$((40 + i))x30"	# sizes apart: no two cut alike
	i=$((i + 1))
done
run -q -w 32 --name '{dir}/x{stem}-{w}.{ext}' -o fk/one fk/src
run -q -w 32 --name '{dir}/x{stem}-{w}.{ext}' -o fk/two fk/src
for n in a b c d; do
	mkimg "fk/src/x$n.jpg" 41x30
	head -c 300 "fk/src/$n.jpg" >fk/cut && mv fk/cut "fk/src/$n.jpg"
done
run -q -w 32 -o fk/one fk/src
for k in 0 1 2; do
	run -q -w 32 --shard $k/3 -o fk/two fk/src
done
run --merge-manifests fk/merged.json fk/two/imgbake-manifest.*-of-3.json
is "$rc" 0 "a failed source's output written by another task: the merge, exit 0" || show_run
is "$(json_stable fk/merged.json)" "$(json_stable fk/one/imgbake-manifest.json)" \
	"... the manifest of one run"

# an output two records list: merged, with a warning
for k in 0 1 2; do
	perl -pe 's|"to/src/c-32.webp"|"to/src/b-32.webp"|' \
		"to/two/imgbake-manifest.$k-of-3.json" >"to/dup.$k-of-3.json"
done
run --merge-manifests to/m.json to/dup.*-of-3.json
is "$rc" 0 "an output two records list: the merge, exit 0" || show_run
like "$err" "warning: 'to/src/b-32.webp' is listed under both 'to/src/b.png' .* and 'to/src/c.png'" \
	"... with a warning"

# More histories, each run once unsharded into D/one and by N tasks into
# D/two: the tasks' manifests merge into the one run's.
both() {
	d=$1 n=$2
	shift 2
	"$IMGBAKE" -q -o "$d/one" "$@" 2>>"$d/err"
	k=0
	while [ $k -lt "$n" ]; do
		"$IMGBAKE" -q --shard "$k/$n" -o "$d/two" "$@" 2>>"$d/err"
		k=$((k + 1))
	done
}
# pairs DIR A B: DIR/src/a..h.jpg of size A and a..h.png of size B
pairs() {
	for n in a b c d e f g h; do
		mkimg "$1/src/$n.jpg" "$2"
		mkimg "$1/src/$n.png" "$3"
	done
}
merges_as_one() {
	"$IMGBAKE" -q --merge-manifests "$1/merged.json" "$1"/two/imgbake-manifest.*-of-"$2".json &&
		[ "$(json_stable "$1/merged.json")" = "$(json_stable "$1/one/imgbake-manifest.json")" ] &&
		[ "$(files "$1/one" | grep -v manifest)" = "$(files "$1/two" | grep -v manifest)" ]
}
# stems that begin like others' names (x and x-30), all in tasks, then
# only the first named: the others' records stay, each in one task
mkdir h1
for n in a b c d e f g h; do
	mkimg "h1/src/$n.jpg" 60x45
	mkimg "h1/src/$n-30.jpg" 61x45
done
both h1 3 -w 32 h1/src/*.jpg
both h1 3 -w 32 h1/src/?.jpg
merges_as_one h1 3
ok $? "sources named x and x-30, then only x: the merge is the one run's" || cat h1/err
# names with {hash}: no task knows another's before it reads the source
pairs h2 60x45 61x45
both h2 1 -w 32 --name '{dir}/{stem}-{hash}.{ext}' h2/src/*.jpg
both h2 2 -w 32 --name '{dir}/{stem}-{hash}.{ext}' h2/src/*.png
merges_as_one h2 2
ok $? "{hash} names, a record beside a source of its stem: the merge is the one run's" || cat h2/err
# part of a record's outputs taken over, the rest kept, twice
pairs h3 60x45 61x45
both h3 1 -w 32,48 h3/src/*.jpg
both h3 2 -w 32 h3/src/*.png
"$IMGBAKE" -q --merge-manifests h3/two/imgbake-manifest.json h3/two/imgbake-manifest.*-of-2.json
both h3 2 -w 32 h3/src/*.png
merges_as_one h3 2
ok $? "a record with one output of two taken over, two runs: the merge is the one run's" || cat h3/err
# {stem}{w}: a source narrower than -w named by its own width writes
# over another's output (a4.jpg, 80 px, and a.jpg at 480 both a480)
mkdir h4
for n in a b c d e f g h; do
	mkimg "h4/src/$n.jpg" 500x375
	mkimg "h4/src/${n}4.jpg" 80x60
done
both h4 1 -w 480 --name '{dir}/{stem}{w}.{ext}' h4/src/?.jpg
both h4 3 -w 480 --name '{dir}/{stem}{w}.{ext}' h4/src/?4.jpg
merges_as_one h4 3
ok $? "{stem}{w}, a name taken over as a source is read: the merge is the one run's" || cat h4/err

# {w} and {hash}, the same pictures in a second directory: each task
# finds the names its own sources make by name only, as the others do
mkdir -p h5/src1
for n in a b c d e f g h; do
	mkimg "h5/src1/$n.jpg" 60x45
done
cp -r h5/src1 h5/src2
both h5 1 -w 32 --name '{stem}-{w}-{hash}.{ext}' h5/src1
both h5 2 -w 32 --name '{stem}-{w}-{hash}.{ext}' h5/src2
merges_as_one h5 2
ok $? "{w}-{hash} names written over from another directory: the merge is the one run's" || cat h5/err

# an output name of a width as given that the source, narrower, does
# not make: no task prunes it, but it stays on record as stale
mkdir -p h6/src
for n in a b c d; do
	mkimg "h6/src/$n-32.jpg" 60x45
done
both h6 1 -w 32 --name '{dir}/{stem}.{ext}' h6/src
for n in a b c d; do
	mkimg "h6/src/$n.jpg" 20x15
done
both h6 2 -w 32 --prune h6/src
is "$(cat h6/two/imgbake-manifest.*-of-2.json | grep -c '"path": "[a-d]-32.webp"')" 4 \
	"a name another task plans at -w but does not make: kept on record, as stale"

# a name that leads outside the output root fails that source alone
mkdir -p h7/src
mkimg h7/src/ok.jpg 60x45
mkimg h7/src/...jpg 60x45	# stem ".."
for k in 0 1; do
	run -q -w 32 --name '{stem}/{w}.{ext}' --shard $k/2 -o h7/out h7/src
	printf '%s\n' "$rc" >>h7/rc
done
is "$(sort h7/rc | tr '\n' ' ')" "0 1 " "an output name outside the root, two tasks: one exits 1, not out of memory" ||
	cat h7/rc
# ... also with a record carried (other.jpg, not named), and in --prune
mkimg h7/src/other.jpg 62x45
for k in 0 1; do
	run -q -w 32 --name '{stem}/{w}.{ext}' --shard $k/2 -o h7/out h7/src
done
: >h7/rc
for k in 0 1; do
	run -q -w 32 --name '{stem}/{w}.{ext}' --shard $k/2 -o h7/out h7/src/ok.jpg h7/src/...jpg
	printf '%s\n' "$rc" >>h7/rc
done
is "$(sort h7/rc | tr '\n' ' ')" "0 1 " "... and beside a record carried over" || cat h7/rc
mkdir -p h8/src
for n in a b c d; do
	mkimg "h8/src/$n.jpg" 40x30
done
mkimg h8/src/...jpg 40x30
for k in 0 1 2; do
	run -q -w 32 --name '{stem}/{w}.{ext}' --shard $k/3 -o h8/out h8/src
done
rm h8/src/a.jpg h8/src/b.jpg h8/src/d.jpg
for k in 0 1 2; do
	run -q -w 32 --name '{stem}/{w}.{ext}' --prune --shard $k/3 -o h8/out h8/src
done
is "$(files h8/out | grep webp)" "c/32.webp" "... and --prune in three tasks deletes the outputs of the sources gone"

# records of failed and skipped sources another run made: one task keeps
# each, so the merge has them once
mkimg h9/a/x.png 40x30
mkimg h9/a/c.png 40x30
head -c 100 h9/a/c.png >h9/cut && mv h9/cut h9/a/c.png
echo notes >h9/a/notes.txt
mkimg h9/b/y.png 40x30
run -q -o h9/out h9/a
for n in 2 3; do
	for k in $(seq 0 $((n - 1))); do
		run -q --shard $k/$n -o h9/out h9/b
	done
	run --merge-manifests h9/out/imgbake-manifest.json h9/out/imgbake-manifest.*-of-$n.json
	is "$rc" 0 "$n tasks over another directory: the merge succeeds" || show_run
	is "$(json_get h9/out/imgbake-manifest.json 'join " ", map { "$_->{path}:$_->{status}" } @{$j->{sources}}')" \
		"h9/a/c.png:failed h9/a/notes.txt:skipped h9/a/x.png:converted h9/b/y.png:$([ $n = 2 ] && echo converted || echo up-to-date)" \
		"... and keeps the other directory's failed and skipped records, once"
done

# ... also when a task ran again after the merge (a retried job), so
# that it reads only its own manifest and the other the merge's
mkdir -p h10/a
for i in 1 2 3 4 5 6; do
	echo "notes $i" >"h10/a/n$i.txt"
	mkimg "h10/a/c$i.png" 40x30
	head -c 100 "h10/a/c$i.png" >h10/cut && mv h10/cut "h10/a/c$i.png"
done
mkimg h10/b/y.png 40x30
for k in 0 1; do
	run -q --shard $k/2 -o h10/out h10/a
done
run --merge-manifests h10/out/imgbake-manifest.json h10/out/imgbake-manifest.*-of-2.json
run -q --shard 0/2 -o h10/out h10/a
for k in 0 1; do
	run -q --shard $k/2 -o h10/out h10/b
done
run --merge-manifests h10/out/imgbake-manifest.json h10/out/imgbake-manifest.*-of-2.json
is "$rc" 0 "a task run again after the merge: the next merge succeeds" || show_run
is "$(json_get h10/out/imgbake-manifest.json 'my %n; $n{$_->{path}}++ for @{$j->{sources}}; scalar grep { $_ > 1 } values %n')" 0 \
	"... with no source twice"
is "$(json_get h10/out/imgbake-manifest.json 'scalar grep { $_->{path} =~ m{^h10/a/} } @{$j->{sources}}')" 12 \
	"... and none lost"
# ... and tasks that keep their own manifests, merged only at the end
rm -rf h10/out
for d in a b; do
	for k in 0 1; do
		run -q --shard $k/2 -o h10/out h10/$d
	done
done
run --merge-manifests h10/out/imgbake-manifest.json h10/out/imgbake-manifest.*-of-2.json
is "$(json_get h10/out/imgbake-manifest.json 'scalar grep { $_->{path} =~ m{^h10/a/} } @{$j->{sources}}')" 12 \
	"tasks merged only at the end keep the other directory's records"
# a task run again: its records and the merge's agree, with a converted
# source up to date in one and converted in the other
rm -rf h10/out
mkimg h10/a/good.png 40x30
for k in 0 1; do
	run -q --shard $k/2 -o h10/out h10/a
done
run --merge-manifests h10/out/imgbake-manifest.json h10/out/imgbake-manifest.*-of-2.json
for k in 0 1; do
	run -q --shard $k/2 -o h10/out h10/a
done
for k in 0 1; do
	run -q --shard $k/2 -o h10/out h10/b
done
run --merge-manifests h10/out/imgbake-manifest.json h10/out/imgbake-manifest.*-of-2.json
is "$rc" 0 "all tasks run again after the merge, then over another directory: the merge succeeds" ||
	show_run
# ... and one task alone run again after the merge (a retried job), its
# manifest newer than the merge, the other's older: the records of the
# converted sources go each to one task, none lost, none twice
rm -rf h11
for i in 1 2 3 4 5 6; do
	mkimg "h11/a/x$i.png" 40x30
done
mkimg h11/b/y.png 40x30
for k in 0 1; do
	run -q --shard $k/2 -o h11/out h11/a
done
run --merge-manifests h11/out/imgbake-manifest.json h11/out/imgbake-manifest.*-of-2.json
sleep 1	# the retried task's manifest newer by the second too
run -q --shard 0/2 -o h11/out h11/a
for k in 0 1; do
	run -q --shard $k/2 -o h11/out h11/b
done
run --merge-manifests h11/out/imgbake-manifest.json h11/out/imgbake-manifest.*-of-2.json
is "$rc" 0 "one task retried after the merge, then all over another directory: the merge succeeds" ||
	show_run
is "$(json_get h11/out/imgbake-manifest.json 'join " ", map { $_->{path} } @{$j->{sources}}')" \
	"h11/a/x1.png h11/a/x2.png h11/a/x3.png h11/a/x4.png h11/a/x5.png h11/a/x6.png h11/b/y.png" \
	"... with every source's record once"
for k in 0 1; do
	run -q --shard $k/2 -o h11/out h11/a
	is "$(json_get h11/out/imgbake-manifest.$k-of-2.json '$j->{summary}{converted}')" 0 \
		"... and task $k, run over the first directory again, converts nothing"
done
# manifests kept elsewhere (-m 'm/{shard}.json'), merged into the output
# root: after the number of tasks changes, the new tasks read the merge,
# convert nothing unchanged and prune what a source gone made
rm -rf h12
for i in 1 2 3 4 5 6; do
	mkimg "h12/src/p$i.png" 40x30
done
for k in 0 1; do
	run -q -m 'h12/m/{shard}.json' --shard $k/2 -o h12/out h12/src
done
run --merge-manifests h12/out/imgbake-manifest.json h12/m/0-of-2.json h12/m/1-of-2.json
rm h12/src/p2.png
for k in 0 1 2; do
	run -q --prune -m 'h12/m/{shard}.json' --shard $k/3 -o h12/out h12/src
	is "$(json_get h12/m/$k-of-3.json '$j->{summary}{converted}')" 0 \
		"-m with {shard}, 2 tasks then 3: task $k converts nothing unchanged" || show_run
done
[ ! -e h12/out/p2.webp ]
ok $? "... and what the source gone made is pruned"
# ... or into what an unsharded run with the same -m writes
rm -rf h12/out h12/m
run -q -m 'h12/m/{shard}.json' -o h12/out h12/src
for k in 0 1; do
	run -q -m 'h12/m/{shard}.json' --shard $k/2 -o h12/out h12/src
	is "$(json_get h12/m/$k-of-2.json '$j->{summary}{converted}')" 0 \
		"-m with {shard}, unsharded then 2 tasks: task $k converts nothing" || show_run
done
# ... the newer of the two: an unsharded run's older than the merge
mkimg h12/src/new.png 40x30
sleep 1
for k in 0 1; do
	run -q -m 'h12/m/{shard}.json' --shard $k/2 -o h12/out h12/src
done
run --merge-manifests h12/out/imgbake-manifest.json h12/m/0-of-2.json h12/m/1-of-2.json
for k in 0 1 2; do
	run -q -m 'h12/m/{shard}.json' --shard $k/3 -o h12/out h12/src
	is "$(json_get h12/m/$k-of-3.json '$j->{summary}{converted}')" 0 \
		"-m with {shard}, the merge newer than the unsharded run's: task $k/3 converts nothing" ||
		show_run
done

done_testing
