#!/bin/sh
# A run killed with SIGKILL leaves its journal (IMGBAKE-MANIFEST.journal)
# and maybe temporary files; the next run removes the temporaries, reuses
# every source the journal records and converts only the rest.
. "$(dirname "$0")/lib.sh"

have_saver avif || skip_all "this libvips cannot write AVIF"

# 10 noise photos, 512x384: a -j2 run to WebP and AVIF takes a few seconds.
N=10
for i in 1 2 3 4 5; do
	mkimg "big/p$i.jpg" 512x384
	mkimg "big/sub/q$i.jpg" 512x384
done

# skip DESCRIPTION: a test that could not be run here.
skip() {
	_tap_n=$((_tap_n + 1))
	printf 'ok %d # skip %s\n' "$_tap_n" "$1"
}

# journal_lines FILE: complete source records in the journal FILE (0 if
# none); a run's first line, which says where it started, is not one.
journal_lines() {
	if [ -f "$1" ]; then
		sed -n '/"path"/p' "$1" | wc -l | tr -d ' '
	else
		echo 0
	fi
}

# kill_when PID CONDITION: SIGKILL PID once the shell CONDITION holds
# (looked at for 30 s at most) or at once if it ended; its status.
kill_when() {
	_pid=$1
	_i=0
	while [ $_i -lt 600 ] && ! eval "$2" && kill -0 "$_pid" 2>/dev/null; do
		sleep 0.05
		_i=$((_i + 1))
	done
	kill -KILL "$_pid" 2>/dev/null
	{ wait "$_pid"; } 2>/dev/null
}

# as_oom_killed JOURNAL: make a kill -9 look like the out-of-memory
# killer's, whose count the start marks keep to tell one from the other:
# the marks lose it, and with no count a kill is blamed on memory.
as_oom_killed() {
	perl -i -MJSON::PP -ne 'my $j = eval { decode_json($_) };
		if ($j && exists $j->{started}) { delete @$j{qw(oom_kills boot)};
			print JSON::PP->new->canonical->encode($j), "\n" } else { print }' "$1"
}

# killed OUTDIR MANIFEST ARG...: start `imgbake ARG... -o OUTDIR big` in
# the background, wait (at most 30 s) until its journal holds a line, and
# SIGKILL it.  Sets jl, the lines in the journal once it is dead; returns 1
# when the run ended on its own first.
killed() {
	_o=$1 _m=$2
	shift 2
	"$IMGBAKE" "$@" -o "$_o" big >"$OUT" 2>"$ERR" &
	kill_when $! '[ "$(journal_lines "$_m.journal")" -ge 1 ]'
	_st=$?
	jl=$(journal_lines "$_m.journal")
	diag "killed with $jl source(s) in the journal and" \
		"$(find "$_o" -name '.*' -type f | wc -l | tr -d ' ') temporary file(s) in $_o"
	if [ $_st -ne 137 ]; then
		diag "the run ended (status $_st) before it could be killed"
		return 1
	fi
	return 0
}

# leftovers OUTDIR MANIFEST: every file under OUTDIR that is neither the
# manifest nor an output it records (temporaries included).
leftovers() {
	files "$1" | grep -vxF -e "${2#"$1"/}" \
		$(json_get "$2" '[map { $_->{path} } outs()]' | sed 's/^/-e /')
}

# check NAME OUTDIR MANIFEST: the state after the re-run of a killed run.
check() {
	is "$rc" 0 "$1: the re-run exits 0" || show_run
	is "$(temps "$2")" "" "$1: no temporary file left"
	is "$(find "$2" -name '.*' -type f)" "" "$1: no hidden (.NAME.imgbake-XXXXXX) file left"
	is "$(leftovers "$2" "$3")" "" "$1: every file in the tree is the manifest or a recorded output"
	[ ! -e "$3.journal" ]
	ok $? "$1: the journal is removed"
	json_ok "$3"
	ok $? "$1: the manifest is valid JSON"
	is "$(json_get "$3" '$j->{summary}{sources}')" $N "$1: every source recorded"
	is "$(json_get "$3" 'scalar(outs())')" $((N * 2)) "$1: two outputs per source"
	_bad=0
	for _r in $(json_get "$3" '[map { "$_->{path}|$_->{width}x$_->{height}|$_->{bytes}" } outs()]'); do
		_f=$2/${_r%%|*}
		_want=${_r#*|}
		_want=${_want%|*}
		if [ "$(size "$_f")" != "$_want" ]; then
			diag "$_f: '$(size "$_f")', recorded $_want"
			_bad=1
		elif [ "$(stat -c %s "$_f")" != "${_r##*|}" ]; then
			diag "$_f: $(stat -c %s "$_f") bytes, recorded ${_r##*|}"
			_bad=1
		fi
	done
	ok $_bad "$1: every recorded output decodes at the recorded size and bytes"
}

# journaled MANIFEST: "path" of each source in the journal kept as J.
journaled() {
	perl -MJSON::PP -ne 'my $r = eval { decode_json($_) } or next;
		print "$r->{path}\n" if $r->{path}' "$1" | sort
}

# ---- killed during a cold run ---------------------------------------------------

M=o1/imgbake-manifest.json
if killed o1 $M -j2 -f webp,avif; then
	cp $M.journal j1
	cmp_ok "$jl" -ge 1 "cold run killed: the journal holds a finished source"
	is "$(head -n 1 j1)" "{\"cwd\":\"..\",\"root\":\"$(cd o1 && pwd -P)\"}" \
		"cold run killed: the journal starts with where the run started, and its output root"
	[ ! -e $M ]
	ok $? "cold run killed: no manifest yet"
	run -j2 -f webp,avif -o o1 big
	check "cold run killed" o1 $M
	is "$(json_get $M '$j->{summary}{converted}')" $((N - jl)) \
		"cold run killed: the re-run converts total - journal lines ($N - $jl)"
	is "$(json_get $M '[sort map { $_->{path} } grep { $_->{status} eq "up-to-date" } @{$j->{sources}}]')" \
		"$(journaled j1)" "cold run killed: exactly the journal's sources are up-to-date"
	is "$(json_get $M '$j->{summary}{up_to_date}')" "$jl" "cold run killed: summary.up_to_date"
else
	skip "cold run finished before SIGKILL (machine too fast)"
fi

# ---- killed during an incremental run (a manifest and a journal) ------------------

# The complete run of o1 is the previous manifest; a new AVIF quality
# makes every source convert again, its WebP output reused.
webp_before=$(cd o1 && find . -name '*.webp' | sort | xargs -r stat -c '%n %.9Y %i')
if killed o1 $M -j2 -f webp,avif -Q avif=41; then
	cp $M.journal j2
	cmp_ok "$jl" -ge 1 "incremental run killed: the journal holds a finished source"
	run -j2 -f webp,avif -Q avif=41 -o o1 big
	check "incremental run killed" o1 $M
	is "$(json_get $M '$j->{summary}{converted}')" $((N - jl)) \
		"incremental run killed: the re-run converts total - journal lines ($N - $jl)"
	is "$(json_get $M '[sort map { $_->{path} } grep { $_->{status} eq "up-to-date" } @{$j->{sources}}]')" \
		"$(journaled j2)" "incremental run killed: exactly the journal's sources are up-to-date"
	is "$(cd o1 && find . -name '*.webp' | sort | xargs -r stat -c '%n %.9Y %i')" "$webp_before" \
		"incremental run killed: no webp output rewritten"
	run -j2 -f webp,avif -Q avif=41 -o o1 big
	is "$(json_get $M '$j->{summary}{up_to_date}')" $N "then a re-run finds every source up-to-date"
else
	skip "incremental run finished before SIGKILL (machine too fast)"
fi

# ---- -m FILE outside the output tree: the journal is FILE.journal -----------------

if killed o2 list.json -j2 -f avif -m list.json; then
	cp list.json.journal j3
	[ ! -e o2/imgbake-manifest.json.journal ]
	ok $? "-m FILE: no journal in the output tree"
	run -j2 -f avif -m list.json -o o2 big
	is "$rc" 0 "-m FILE killed: the re-run exits 0" || show_run
	is "$(find o2 -name '.*' -type f)" "" "-m FILE killed: no temporary file left"
	[ ! -e list.json.journal ]
	ok $? "-m FILE killed: the journal is removed"
	is "$(json_get list.json '$j->{summary}{converted}')" $((N - jl)) \
		"-m FILE killed: the re-run converts total - journal lines ($N - $jl)"
else
	skip "-m FILE run finished before SIGKILL (machine too fast)"
fi

# ---- the journal follows the order jobs finish in, not the plan ---------------

# order/a.jpg comes first in the plan but, the smallest, starts last: the
# sources that finish before it are in the journal all the same, so a
# kill loses none of them.
mkimg order/a.jpg 32x32
for i in 1 2 3 4 5 6; do
	mkimg "order/p$i.jpg" 512x384
done
"$IMGBAKE" -j2 -f webp,avif -o o3 order >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 300 ] && [ "$(journal_lines o3/imgbake-manifest.json.journal)" -lt 1 ] &&
	kill -0 $pid 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
kill -KILL $pid 2>/dev/null
{ wait $pid; } 2>/dev/null
is "$?" 137 "plan order: a source finished first is journaled before the run ends"
cp o3/imgbake-manifest.json.journal j4 2>/dev/null
cmp_ok "$(journal_lines j4)" -ge 1 "plan order: the journal holds a finished source"
is "$(journaled j4 | grep -c 'order/a\.jpg')" 0 \
	"plan order: ... though the plan's first source is not among them"

# ---- a resumed run leaves another live run's temporary files ------------------

# Runs sharing an output root (shards) each hold a shared lock on it, and
# a lock on each temporary file until it has its final name.  A resumed
# run alone removes every temporary file; beside other runs, those no run
# holds, however young (a task restarted at once).  A perl process stands
# in for the other run, and a journal that says where its run started
# for the one killed.
mkimg share/src/a.png 64x48
run -f webp -o share/out share/src
echo '{"cwd":"../.."}' >share/out/imgbake-manifest.json.journal
for t in held dead young; do
	echo partial >share/out/.$t.webp.imgbake-Ab12Cd
done
touch -d '1 hour ago' share/out/.held.webp.imgbake-Ab12Cd share/out/.dead.webp.imgbake-Ab12Cd
perl -MFcntl=:flock -e 'open(my $d, "<", $ARGV[0]) or die; flock($d, LOCK_SH) or die;
	open(my $t, "<", $ARGV[1]) or die; flock($t, LOCK_EX) or die;
	open(my $h, ">", $ARGV[2]) or die; close $h; sleep 60' \
	share/out share/out/.held.webp.imgbake-Ab12Cd share/held &
holder=$!
wait_for share/held
run -v -f webp -o share/out share/src
is "$rc" 0 "another run holds the root: exit 0" || show_run
like "$err" "resuming an interrupted run: 2 temporary files removed" \
	"... two temporary files removed"
[ -f share/out/.held.webp.imgbake-Ab12Cd ]
ok $? "... the one the other run holds is left"
[ ! -e share/out/.dead.webp.imgbake-Ab12Cd ] && [ ! -e share/out/.young.webp.imgbake-Ab12Cd ]
ok $? "... those no run holds are removed, a young one too"
kill $holder 2>/dev/null
{ wait $holder; } 2>/dev/null
echo partial >share/out/.imgbake-manifest.json.imgbake-Zz99Yy
mkdir -p share/out/sub
echo partial >share/out/sub/.nested.webp.imgbake-Ab12Cd
perl -MFcntl=:flock -e 'open(my $t, "<", $ARGV[0]) or die; flock($t, LOCK_EX) or die;
	open(my $h, ">", $ARGV[1]) or die; close $h; sleep 60' \
	share/out/sub/.nested.webp.imgbake-Ab12Cd share/held2 &
holder=$!
wait_for share/held2
echo '{"cwd":"../.."}' >share/out/imgbake-manifest.json.journal
run -f webp -o share/out share/src
is "$rc" 0 "alone again: exit 0" || show_run
[ -f share/out/sub/.nested.webp.imgbake-Ab12Cd ]
ok $? "... a run into an output root inside keeps its held temporary file"
kill $holder 2>/dev/null
{ wait $holder; } 2>/dev/null
rm -f share/out/sub/.nested.webp.imgbake-Ab12Cd
is "$(temps share/out)" "" "... and every other one is removed, the manifest's too"

# a run's own temporary files are held until they are renamed
mkimg hold/src/big.png 3000x2000
"$IMGBAKE" -q -j1 -f webp,avif -o hold/out hold/src 2>/dev/null &
pid=$!
i=0
while [ $i -lt 300 ] && [ -z "$(temps hold/out)" ]; do
	sleep 0.05
	i=$((i + 1))
done
t=$(temps hold/out | head -n 1)
if [ -n "$t" ]; then
	perl -MFcntl=:flock -e 'open(my $f, "<", $ARGV[0]) or exit 2;
		exit(flock($f, LOCK_EX | LOCK_NB) ? 1 : 0)' "$t"
	held=$?
	# gone meanwhile: renamed, held until then
	[ $held -eq 2 ] && held=0
	ok $held "a temporary file being written is locked by its run"
else
	skip "no temporary file seen: the run was too quick"
fi
wait $pid

# ---- two runs that write one manifest: the second waits ------------------------------

# Two directories converted into one output root at once: each run
# would write the manifest without the other's records.  A perl process
# holds the journal, as a run does, and removes it on its way out.
mkimg two/a/p.png 1600x1200
mkimg two/b/q.png 64x48
mkdir -p two/out
perl -MFcntl=:flock -e 'open(my $j, ">>", $ARGV[0]) or die; flock($j, LOCK_EX) or die;
	open(my $h, ">", $ARGV[1]) or die; close $h; sleep 1; unlink $ARGV[0]' \
	two/out/imgbake-manifest.json.journal two/held &
holder=$!
wait_for two/held
run -f webp -o two/out two/a
is "$rc" 0 "another run holds the manifest: exit 0" || show_run
like "$err" "waiting for the run that writes 'two/out/imgbake-manifest\\.json' to finish" \
	"... says it waits for it"
unlike "$err" "resuming" "... and resumes nothing"
{ wait $holder; } 2>/dev/null
[ ! -e two/out/imgbake-manifest.json.journal ]
ok $? "... and leaves no journal"

"$IMGBAKE" -q -f webp,png -o two/out2 two/a 2>/dev/null &
first=$!
"$IMGBAKE" -q -f webp,png -o two/out2 two/b 2>/dev/null
wait $first
is "$(json_get two/out2/imgbake-manifest.json 'join(" ", map { $_->{path} } @{$j->{sources}})')" \
	"two/a/p.png two/b/q.png" "two runs at once into one root: the manifest has both"

# a run that stops before it starts converting leaves no journal
run -f webp -o two/out3 -T two/no-such-list
is "$rc" 2 "a list that cannot be read: exit 2"
[ ! -e two/out3/imgbake-manifest.json.journal ]
ok $? "... and no journal"
run -f webp -m two/a/p.png -o two/out4 two/a
is "$rc" 2 "-m names a file that is not a manifest: exit 2"
[ ! -e two/a/p.png.journal ] && [ ! -e two/out4 ]
ok $? "... and nothing is made, not even the output root"

# A run killed while it converts a source alone, over the memory budget
# (what the out-of-memory killer does under a cgroup limit): the next
# run fails that source as limit rather than starting with it again,
# and converts the rest
mkdir -p oom/src
vips gaussnoise oom/src/big.png 3000 3000
mkimg oom/src/s1.png 40x30
mkimg oom/src/s2.png 30x40
"$IMGBAKE" -j2 -M 16M -f avif -o oom/out oom/src >"$OUT" 2>"$ERR" &
if kill_when $! '[ -n "$(find oom/out -name ".big.avif.*" 2>/dev/null)" ]'; [ $? -eq 137 ]; then
	as_oom_killed oom/out/imgbake-manifest.json.journal
	run -j2 -M 16M -f avif -o oom/out oom/src
	is "$rc" 1 "killed while converting alone: the next run exits 1" || show_run
	is "$(json_get oom/out/imgbake-manifest.json 'join " ", map { "$_->{path}:$_->{status}:" . ($_->{reason} // "") } @{$j->{sources}}')" \
		"oom/src/big.png:failed:limit oom/src/s1.png:converted: oom/src/s2.png:converted:" \
		"... failing that source as limit, converting the rest"
	like "$err" "cannot convert 'oom/src/big.png': a run with a memory budget of 16M was killed while converting this picture alone: out of memory\\? \\(--force, or a larger -M, tries it again\\)" \
		"... and says why, and how to try it again"
	is "$(leftovers oom/out oom/out/imgbake-manifest.json)" "" "... leaving nothing behind"
	is "$(json_get oom/out/imgbake-manifest.json 'src("oom/src/big.png")->{killed_budget}')" 16777216 \
		"... its record naming the budget of the run killed"
	# every run after it would be killed in turn: it stays failed
	run -j2 -M 16M -f avif -o oom/out oom/src
	is "$rc" 1 "the run after it, with the same budget, exits 1 again" || show_run
	is "$(json_get oom/out/imgbake-manifest.json 'join " ", map { "$_->{path}:$_->{status}:" . ($_->{reason} // "") } @{$j->{sources}}')" \
		"oom/src/big.png:failed:limit oom/src/s1.png:up-to-date: oom/src/s2.png:up-to-date:" \
		"... failing the source again, without converting it"
	like "$err" "cannot convert 'oom/src/big.png': a run with a memory budget of 16M was killed" \
		"... and says why again"
	run -n -j2 -M 32M -f avif -o oom/out oom/src
	like "$err" "would convert 1, up to date 2" "a larger budget tries it again" || show_run
	run -n -j2 -M 16M --force -f avif -o oom/out oom/src
	like "$err" "would convert 3," "--force tries it again" || show_run
	vips gaussnoise oom/src/big.png 3000 3000 --mean 100
	run -n -j2 -M 16M -f avif -o oom/out oom/src
	like "$err" "would convert 1, up to date 2" "a changed file is tried again" || show_run
else
	for _ in $(seq 11); do skip "the run ended before it could be killed"; done
fi
# a journal of an older run: a start with no budget is taken as made
# under this run's
mkdir -p oom6/src oom6/out
mkimg oom6/src/a.png 40x30
mkimg oom6/src/b.png 30x40
printf '{"cwd":"%s"}\n{"started":"oom6/src/a.png"}\n' "$PWD" >oom6/out/imgbake-manifest.json.journal
run -n -M 64M -f webp -o oom6/out oom6/src
like "$err" "cannot convert 'oom6/src/a.png': a run with a memory budget of 64M was killed" \
	"a start mark with no budget: taken as this run's" || show_run
run -n -M 128M -f webp -o oom6/out oom6/src
like "$err" "would convert 1," "... a larger one is not" || show_run
printf '{"cwd":"%s"}\n{"started":"oom6/src/a.png","budget":1000000000}\n{"started":"oom6/src/a.png","budget":100000000}\n' "$PWD" \
	>oom6/out/imgbake-manifest.json.journal
run -n -M 500M -f webp -o oom6/out oom6/src
like "$err" "cannot convert 'oom6/src/a.png': a run with a memory budget of 1000000000 bytes was killed" \
	"two starts: the larger budget counts" || show_run
run -M 500M -f webp -o oom6/out oom6/src
is "$(json_get oom6/out/imgbake-manifest.json 'src("oom6/src/a.png")->{killed_budget}')" 1000000000 \
	"... which its record keeps" || show_run
mkdir oom6/src/sub
mv oom6/src/a.png oom6/src/sub/a.png
run -n -M 500M -f webp -o oom6/out oom6/src
like "$err" "cannot convert 'oom6/src/sub/a.png': a run with a memory budget of 1000000000 bytes was killed" \
	"the picture moved: known by its content, it fails still" || show_run
# ... moved over a source converted before, whatever their names
mkimg oom6/src/z.png 30x20
run -M 500M -f webp -o oom6/out oom6/src
mv oom6/src/sub/a.png oom6/src/z.png
run -n -M 500M -f webp -o oom6/out oom6/src
like "$err" "cannot convert 'oom6/src/z.png': a run with a memory budget of 1000000000 bytes was killed" \
	"the picture moved over a source converted before: it fails still" || show_run
# a kill by another hand (kill -9, a CI job cancelled): the kernel's
# count of out-of-memory kills has not moved since the picture started,
# so it is not blamed, and the next run converts it
mkdir -p oom7/src
vips gaussnoise oom7/src/big.png 3000 3000
mkimg oom7/src/s1.png 40x30
"$IMGBAKE" -j2 -M 16M -f avif -o oom7/out oom7/src >"$OUT" 2>"$ERR" &
if kill_when $! '[ -n "$(find oom7/out -name ".big.avif.*" 2>/dev/null)" ]'; [ $? -eq 137 ]; then
	like "$(cat oom7/out/imgbake-manifest.json.journal)" '"oom_kills": *[0-9]+' \
		"the start mark keeps the kernel's count of out-of-memory kills"
	run -n -j2 -M 16M -f avif -o oom7/out oom7/src
	like "$err" "would convert [12], .*would fail 0" \
		"killed by hand while converting alone: the next run converts the picture" || show_run
	# ... but once: killed again at it (as a userspace OOM killer,
	# systemd-oomd, would kill the run, moving no count), it is blamed
	# (the first run's temporary file goes first, for kill_when to wait
	# for the second's)
	find oom7/out -name '.big.avif.*' -exec rm -f {} +
	"$IMGBAKE" -j2 -M 16M -f avif -o oom7/out oom7/src >"$OUT" 2>"$ERR" &
	if kill_when $! '[ -n "$(find oom7/out -name ".big.avif.*" 2>/dev/null)" ]'; [ $? -eq 137 ]; then
		like "$(cat oom7/out/imgbake-manifest.json.journal)" '"again": *true' \
			"... the start after it says so"
		run -n -j2 -M 16M -f avif -o oom7/out oom7/src
		like "$err" "cannot convert 'oom7/src/big.png': a run with a memory budget of 16M was killed" \
			"killed a second time at the same picture: blamed" || show_run
	else
		skip "the run ended before it could be killed"
		skip "the run ended before it could be killed"
	fi
else
	for _ in 1 2 3 4; do skip "the run ended before it could be killed"; done
fi
# ... crafted: the count as it is now, in this boot, is a kill by hand;
# in another boot, or counted lower, it may have been memory
boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)
kills=$(sed -n 's/^oom_kill //p' /proc/vmstat 2>/dev/null)
mkdir -p oom8/src oom8/out
mkimg oom8/src/a.png 40x30
if [ -n "$boot" ] && [ -n "$kills" ]; then
	printf '{"cwd":"%s"}\n{"started":"oom8/src/a.png","budget":1000000000,"oom_kills":%s,"boot":"%s"}\n' \
		"$PWD" "$kills" "$boot" >oom8/out/imgbake-manifest.json.journal
	run -n -M 500M -f webp -o oom8/out oom8/src
	like "$err" "would convert 1," "a start mark with today's count: not blamed" || show_run
	printf '{"cwd":"%s"}\n{"started":"oom8/src/a.png","budget":1000000000,"oom_kills":%s,"boot":"another-boot"}\n' \
		"$PWD" "$kills" >oom8/out/imgbake-manifest.json.journal
	run -n -M 500M -f webp -o oom8/out oom8/src
	like "$err" "cannot convert 'oom8/src/a.png': a run with a memory budget" \
		"... of another boot: blamed" || show_run
else
	skip "no /proc/vmstat oom_kill or boot_id here"
	skip "no /proc/vmstat oom_kill or boot_id here"
fi
# ... known under another name of it (./oom/src), as records are; and
# a source up to date by then stays so
mkdir -p oom2/src
vips gaussnoise oom2/src/big.png 3000 3000
mkimg oom2/src/s1.png 40x30
run -j2 -M 16M -f webp -o oom2/out oom2/src/s1.png
"$IMGBAKE" -j2 -M 16M -f avif -o oom2/out oom2/src >"$OUT" 2>"$ERR" &
if kill_when $! '[ -n "$(find oom2/out -name ".big.avif.*" 2>/dev/null)" ]'; [ $? -eq 137 ]; then
	as_oom_killed oom2/out/imgbake-manifest.json.journal
	run -j2 -M 16M -f avif -o oom2/out ./oom2/src
	is "$(json_get oom2/out/imgbake-manifest.json 'join " ", map { "$_->{path}:$_->{status}:" . ($_->{reason} // "") } @{$j->{sources}}')" \
		"./oom2/src/big.png:failed:limit ./oom2/src/s1.png:converted:" \
		"killed while converting alone, resumed under another name: failed as limit"
else
	skip "the run ended before it could be killed"
fi
# ... with its copies (the same bytes under other names), which would
# be converted in its place
mkdir -p oom4/src
vips gaussnoise oom4/src/big.png 3000 3000
cp oom4/src/big.png oom4/src/big2.png
mkimg oom4/src/s1.png 40x30
"$IMGBAKE" -j2 -M 16M -f avif -o oom4/out oom4/src >"$OUT" 2>"$ERR" &
if kill_when $! '[ -n "$(find oom4/out -name ".big*.avif.*" 2>/dev/null)" ]'; [ $? -eq 137 ]; then
	as_oom_killed oom4/out/imgbake-manifest.json.journal
	run -j2 -M 16M -f avif -o oom4/out oom4/src
	is "$(json_get oom4/out/imgbake-manifest.json 'join " ", map { "$_->{path}:$_->{status}:" . ($_->{reason} // "") } @{$j->{sources}}')" \
		"oom4/src/big.png:failed:limit oom4/src/big2.png:failed:limit oom4/src/s1.png:converted:" \
		"killed while converting a picture alone: its copy fails with it"
	run -j2 -M 16M -f avif -o oom4/out oom4/src
	is "$(json_get oom4/out/imgbake-manifest.json 'join " ", map { "$_->{path}:$_->{status}:" . ($_->{reason} // "") } @{$j->{sources}}')" \
		"oom4/src/big.png:failed:limit oom4/src/big2.png:failed:limit oom4/src/s1.png:up-to-date:" \
		"... and in the run after it"
else
	skip "the run ended before it could be killed"
	skip "the run ended before it could be killed"
fi
# ... also a copy converted by itself, its original failing for its own
# output (a directory where the file would go)
mkdir -p oom5/src oom5/out/big.avif
vips gaussnoise oom5/src/big.png 3000 3000
cp oom5/src/big.png oom5/src/big2.png
"$IMGBAKE" -j2 -M 16M -f avif -o oom5/out oom5/src >"$OUT" 2>"$ERR" &
if kill_when $! '[ -n "$(find oom5/out -name ".big2.avif.*" 2>/dev/null)" ]'; [ $? -eq 137 ]; then
	as_oom_killed oom5/out/imgbake-manifest.json.journal
	run -j2 -M 16M -f avif -o oom5/out oom5/src
	is "$(json_get oom5/out/imgbake-manifest.json 'src("oom5/src/big2.png")->{reason}')" limit \
		"killed while converting alone a copy whose original failed: failed as limit"
else
	skip "the run ended before it could be killed"
fi
# a run stopped at once by a second signal while such a source runs
# blames nothing on it: the next converts it
mkdir -p oom3/src
vips gaussnoise oom3/src/big.png 3000 3000
perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' \
	"$IMGBAKE" -j2 -M 16M -f avif -o oom3/out oom3/src >"$OUT" 2>"$ERR" &
pid=$!
i=0
while [ $i -lt 600 ] && [ -z "$(find oom3/out -name ".big.avif.*" 2>/dev/null)" ] &&
	kill -0 $pid 2>/dev/null; do
	sleep 0.05
	i=$((i + 1))
done
sleep 2	# into libaom's encode, which a first signal cannot stop
kill -INT $pid
sleep 0.5
kill -INT $pid 2>/dev/null
wait $pid
if [ -f oom3/out/imgbake-manifest.json.journal ]; then
	run -j2 -M 16M -f webp -o oom3/out oom3/src
	is "$rc" 0 "stopped at once by a second ^C: the next run converts the source" || show_run
else
	skip "the run ended before the second signal"
fi

# A run killed while it wrote a manifest given by -m elsewhere, or a
# report after the journal went, left their temporary copies where no
# sweep of the output tree looks; the next run removes them, and leaves
# one a live run holds.  So does a merge, for its own.
mkdir -p beside/src beside/meta
mkimg beside/src/a.jpg 40x30
run -o beside/out -m beside/meta/m.json --report beside/out/r.html beside/src
: >beside/meta/.m.json.imgbake-Dead01
printf '<!DOCTYPE html>\n<html' >beside/out/.r.html.imgbake-Dead02
printf '{\n  "imgbake": "0' >beside/meta/.m.json.imgbake-Live03
printf '{\n  "imgbake": "0' >beside/meta/.other.json.imgbake-Dead04
printf 'my notes' >beside/meta/.m.json.imgbake-backup
flock beside/meta/.m.json.imgbake-Live03 sleep 30 &
holder=$!
i=0
while [ $i -lt 100 ] && ! perl -e 'use Fcntl ":flock"; open my $f, "<", $ARGV[0] or exit 1;
	exit(flock($f, LOCK_EX | LOCK_NB) ? 1 : 0)' beside/meta/.m.json.imgbake-Live03; do
	sleep 0.05
	i=$((i + 1))
done
run -o beside/out -m beside/meta/m.json --report beside/out/r.html beside/src
kill $holder 2>/dev/null
wait $holder 2>/dev/null
is "$rc" 0 "dead temporary files beside the manifest and report: exit 0" || show_run
is "$(cd beside && find . -name '.*.imgbake-*' | sort)" "./meta/.m.json.imgbake-Live03
./meta/.m.json.imgbake-backup
./meta/.other.json.imgbake-Dead04" \
	"... removed, but for one a live run holds, another file's, and a user's file named so"
mkdir -p mg
run --shard 0/2 -o mg/out beside/src
run --shard 1/2 -o mg/out beside/src
printf '{\n  "imgbake": "0' >mg/out/.imgbake-manifest.json.imgbake-Dead05
run --merge-manifests mg/out/imgbake-manifest.json mg/out/imgbake-manifest.0-of-2.json \
	mg/out/imgbake-manifest.1-of-2.json
is "$rc" 0 "a merge: exit 0" || show_run
is "$(temps mg/out)" "" "a merge removes what a killed merge left of its manifest"

done_testing
