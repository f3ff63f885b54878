#!/bin/sh
# SIGTERM, SIGINT and SIGHUP mid-batch, AVIF encodes in flight: exit
# 143/130/129, no temporary or partial file left, a manifest of what
# finished, and a line that says how many sources were not.
. "$(dirname "$0")/lib.sh"

have_saver avif || skip_all "this libvips cannot write AVIF"

mkimg big/p1.jpg 800x600
for i in 2 3 4 5 6 7 8; do
	cp big/p1.jpg "big/p$i.jpg"
done

# interrupt SIGNAL OUTDIR [AGAIN]: start a run, signal it after a moment,
# and wait for it; a watchdog kills it should it ignore the signal.  With
# AGAIN, the signal is sent a second time after sleep(1) AGAIN ("0": back
# to back, as timeout(1) sends it to its child and then to the group).
# Sets rc.
interrupt() {
	# A shell starts background jobs with SIGINT ignored; perl puts the
	# default disposition back before running imgbake.
	IMGBAKE_PROGRESS_INTERVAL=0.2 perl -e '$SIG{INT} = $SIG{HUP} = "DEFAULT"; exec @ARGV or die "exec: $!\n"' \
		"$IMGBAKE" -j2 --progress=plain -f avif -o "$2" big >"$OUT" 2>"$ERR" &
	pid=$!
	perl -e 'sleep 60; kill "KILL", $ARGV[0]' "$pid" </dev/null >/dev/null 2>&1 &
	watchdog=$!
	# Signal it at work: once its output directory exists (on a loaded
	# machine, or under a sanitizer, starting up alone can take longer
	# than the half second that follows), with encodes in flight.
	i=0
	while [ ! -d "$2" ] && [ "$i" -lt 300 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.5
	kill "-$1" "$pid"
	if [ -n "${3-}" ]; then
		[ "$3" = 0 ] || sleep "$3"
		kill "-$1" "$pid" 2>/dev/null
	fi
	wait "$pid"
	rc=$?
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	err=$(cat "$ERR")
}

# check_left OUTDIR NAME
check_left() {
	is "$(temps "$1")" "" "$2: no temporary file left"
	M=$1/imgbake-manifest.json
	[ -f "$M" ]
	ok $? "$2: a manifest is written"
	json_ok "$M"
	ok $? "$2: the manifest is valid JSON"
	is "$(cd "$1" && find . -name '*.avif' | sed 's|^\./||' | sort)" \
		"$(json_get "$M" '[map { $_->{path} } outs()]' | grep . | sort)" \
		"$2: the outputs on disk are those in the manifest"
	bad=0
	for f in $(find "$1" -name '*.avif'); do
		vipsheader "$f" >/dev/null 2>&1 || { diag "does not decode: $f"; bad=1; }
	done
	ok $bad "$2: every output left decodes"
}

interrupt TERM term
is "$rc" 143 "SIGTERM: exit 143" || diag "stderr: $err"
check_left term SIGTERM
done=$(json_get term/imgbake-manifest.json '$j->{summary}{sources}')
like "$err" "stopped: $((8 - done)) sources* not finished" "SIGTERM: says how many sources were not finished"
is "$(json_get term/imgbake-manifest.json '$j->{summary}{unfinished}')" $((8 - done)) \
	"SIGTERM: the manifest counts them"
failed=$(printf '%s\n' "$err" | sed -n 's/.* done, \([0-9]*\) failed.*/\1/p' | tail -n 1)
if [ -n "$failed" ]; then
	is "$failed" 0 "SIGTERM: the last progress line counts none cut short as failed" ||
		diag "stderr: $err"
else
	skip "no progress line before the stop"
fi

interrupt HUP hup
is "$rc" 129 "SIGHUP: exit 129" || diag "stderr: $err"
check_left hup SIGHUP

# started with SIGHUP ignored, as nohup(1) starts it: a hang-up is not
# a stop
perl -e '$SIG{HUP} = "IGNORE"; exec @ARGV or die "exec: $!\n"' \
	"$IMGBAKE" -j2 -f avif -o nohup big >"$OUT" 2>"$ERR" &
pid=$!
i=0
while [ ! -d nohup ] && [ "$i" -lt 300 ] && kill -0 "$pid" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
kill -HUP "$pid" 2>/dev/null
wait "$pid"
is "$?" 0 "SIGHUP ignored at start (nohup): the run goes on, exit 0"
is "$(find nohup -name '*.avif' | wc -l | tr -d ' ')" 8 "... and converts every source"

interrupt INT int
is "$rc" 130 "SIGINT: exit 130" || diag "stderr: $err"
check_left int SIGINT

# a stopped run dies of the signal, after its clean-up: a shell loop or
# make(1) that sees exit(130) takes the ^C as handled and goes on
how=$(perl -e '
	my $pid = fork // die "fork: $!\n";
	if (!$pid) {
		$SIG{INT} = "DEFAULT";
		open STDOUT, ">", "/dev/null"; open STDERR, ">", "died.err";
		exec @ARGV or die "exec: $!\n";
	}
	for (1 .. 300) { last if -d "died"; select undef, undef, undef, 0.1 }
	select undef, undef, undef, 0.5;
	kill "INT", $pid;
	waitpid $pid, 0;
	print $? & 127 ? "signal " . ($? & 127) : "exit " . ($? >> 8);
' "$IMGBAKE" -q -j2 -f avif -o died big)
is "$how" "signal 2" "SIGINT: the run dies of SIGINT once it has cleaned up"
like "$(cat died.err)" "^imgbake: stopped: [0-9]+ sources* not finished" \
	"SIGINT under -q: the stopped line is still written"
check_left died "SIGINT, waited for by another program"

# the same signal twice at once (timeout(1) signals its child, then its
# process group) is one stop, with the manifest and the line
interrupt TERM twice 0
is "$rc" 143 "SIGTERM twice at once: exit 143" || diag "stderr: $err"
check_left twice "SIGTERM twice at once"
like "$err" "stopped: [0-9]+ sources* not finished" "SIGTERM twice at once: says how many were not finished"

# a second ^C a while later stops at once, leaving no temporary file
interrupt INT again 0.4
is "$rc" 130 "a second SIGINT later: exit 130" || diag "stderr: $err"
is "$(temps again)" "" "a second SIGINT later: no temporary file left"

# a stop (^Z, SIGSTOP) longer than --timeout counts toward no timeout:
# the run goes on where it was when continued
perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "exec: $!\n"' \
	"$IMGBAKE" -j2 --timeout 6 -f avif -o paused big >"$OUT" 2>"$ERR" &
pid=$!
i=0
while [ -z "$(temps paused)" ] && [ "$i" -lt 300 ] && kill -0 "$pid" 2>/dev/null; do
	sleep 0.05
	i=$((i + 1))
done
if kill -STOP "$pid" 2>/dev/null; then
	sleep 8
	kill -CONT "$pid"
	wait "$pid"
	rc=$?
	is "$rc" 0 "stopped for longer than --timeout, then continued: exit 0" || diag "$(cat "$ERR")"
	unlike "$(cat "$ERR")" "timeout" "... no source timed out"
else
	wait "$pid"
	skip "the run ended before it could be stopped"
fi

# a --force run stopped half-way: the sources it did not finish keep
# their records, outputs and all, and none of those is listed as stale
run -j2 -f avif -o forced big
perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "exec: $!\n"' \
	"$IMGBAKE" -j2 --force -f avif -o forced big >"$OUT" 2>"$ERR" &
pid=$!
i=0
while [ -z "$(temps forced)" ] && [ "$i" -lt 300 ] && kill -0 "$pid" 2>/dev/null; do
	sleep 0.05
	i=$((i + 1))
done
kill -INT "$pid" 2>/dev/null
wait "$pid"
M=forced/imgbake-manifest.json
if [ "$(json_get $M '$j->{summary}{unfinished}')" -gt 0 ]; then
	is "$(json_get $M 'scalar @{$j->{stale}}')" 0 \
		"a --force run stopped: the unfinished sources' outputs are not stale"
	is "$(json_get $M 'scalar map { @{$_->{outputs} || []} } @{$j->{sources}}')" 8 \
		"... and every source still lists its output"
else
	skip "the run ended before it could be stopped"
fi

done_testing
