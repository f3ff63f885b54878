#!/bin/sh
# A hostile output tree: a file where a directory should be, a symbolic
# link where a directory (or an output) should be, a read-only directory,
# a disk that fills up, and a second Ctrl-C in the middle of long encodes.
# The source that cannot be written fails (io, or unsafe-path for a link),
# nothing is written through a link, no temporary is ever left.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/hostile/common.sh"

# the tmpfs of the full-disk case is unmounted whatever happens
trap 'umount "$T/disk" "$T/ino" 2>/dev/null; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T" "$_L"' EXIT

mkimg src/a/b/c.jpg 40x30
mkimg src/sub/s.jpg 40x30
mkimg src/d.jpg 40x30
mkimg src/e.jpg 40x30

# ---- a file where a directory should be ------------------------------------------

# -o below a regular file: no output can be written at all, a fatal
# error like an unwritable manifest (exit 2), before any conversion.
echo 'a file' >blocker
run -m m0.json -o blocker/out src
is "$rc" 2 "-o below a regular file: exit 2" || show_run
like "$err" "^imgbake: cannot create output directory 'blocker/out': Not a directory" \
	"-o below a regular file: said so"
is "$(cat blocker)" "a file" "-o below a regular file: the file is untouched"
[ ! -e m0.json ]
ok $? "-o below a regular file: no manifest"

# a file where the output tree needs the directory a/
mkdir o1
echo 'keep me' >o1/a
run -o o1 src
is "$rc" 1 "output directory a/ is a file: exit 1" || show_run
M=o1/imgbake-manifest.json
is "$(sr $M src/a/b/c.jpg)" "failed io" "output directory a/ is a file: a/b/c.jpg failed, io"
is "$(cat o1/a)" "keep me" "the file in the way is untouched"
is "$(files o1)" "a
d.webp
e.webp
imgbake-manifest.json
sub/s.webp" "output directory a/ is a file: the other sources are converted"
is "$(temps o1)" "" "output directory a/ is a file: no temporary file"

# ---- a rename that fails halfway ----------------------------------------------------

# A source's outputs are renamed into place together once all are
# written.  When one rename fails (a directory now stands where the
# PNG was), the outputs already renamed must not cost the earlier
# run's files: those are put back, byte for byte, and no temporary is
# left.
mkimg half/p.jpg 40x30
run -o ohalf -f webp,png half
is "$rc" 0 "halfway: the first run converts" || show_run
cksum ohalf/p.webp ohalf/p.png >half.sums
rm ohalf/p.png
mkdir -p ohalf/p.png/x
run -o ohalf -f webp,png -Q 40 half
is "$rc" 1 "halfway: the PNG's rename fails, exit 1" || show_run
like "$err" "cannot convert 'half/p.jpg': write: cannot rename to 'ohalf/p.png'" \
	"halfway: said so"
is "$(cksum ohalf/p.webp)" "$(grep p.webp half.sums)" \
	"halfway: the WebP of the earlier run is back, byte for byte"
is "$(sr ohalf/imgbake-manifest.json half/p.jpg)" "failed io" "halfway: failed, io"
is "$(temps ohalf)" "" "halfway: no temporary file"
# and the other way round: the WebP fails, the PNG came first or not
rm -r ohalf/p.png
mv ohalf/p.webp half.webp
mkdir -p ohalf/p.webp/x
run -o ohalf -f webp,png -Q 40 half
is "$rc" 1 "halfway, the WebP's rename fails: exit 1" || show_run
is "$(files ohalf | grep -c '^p\.png$')" 0 \
	"halfway: a PNG that had no predecessor is not left behind"
is "$(temps ohalf)" "" "halfway, the WebP's rename fails: no temporary file"

# ---- links inside the output tree --------------------------------------------------

# o2/sub and o2/a/b lead out of the output tree; o2/e.webp is a link to a
# file elsewhere.  Nothing is written through any of them.
mkdir o2 o2/a elsewhere elsewhere2
ln -s ../elsewhere o2/sub
ln -s ../../elsewhere2 o2/a/b
echo 'precious' >victim.webp
ln -s ../victim.webp o2/e.webp
run -o o2 src
is "$rc" 1 "links in the output tree: exit 1" || show_run
M=o2/imgbake-manifest.json
is "$(sr $M src/sub/s.jpg)" "failed unsafe-path" "o2/sub is a link: sub/s.jpg failed, unsafe-path"
is "$(sr $M src/a/b/c.jpg)" "failed unsafe-path" "o2/a/b is a link: a/b/c.jpg failed, unsafe-path"
is "$(find elsewhere elsewhere2 | sort | tr '\n' ' ')" "elsewhere elsewhere2 " \
	"nothing written through the directory links"
is "$(cat victim.webp)" "precious" "nothing written through the link at e.webp"
if [ -L o2/e.webp ]; then
	is "$(sr $M src/e.jpg)" "failed unsafe-path" "e.webp left a link: e.jpg failed, unsafe-path"
else
	is "$(size o2/e.webp)" 40x30 "e.webp: the link replaced by the output"
fi
is "$(size o2/d.webp)" 40x30 "links in the output tree: d.jpg converted"
is "$(temps o2)" "" "links in the output tree: no temporary file"

# The output root itself may be a link: only links inside it are refused.
mkdir realout
ln -s realout linkout
mkimg plain/p.jpg 40x30
run -o linkout plain
is "$rc" 0 "-o naming a link to a directory: exit 0" || show_run
is "$(files realout)" "imgbake-manifest.json
p.webp" "-o naming a link to a directory: written into its target"

# ---- a read-only output directory ----------------------------------------------------

# Root ignores permission bits, so as root imgbake runs as nobody on a
# world-readable tree; an output directory it may not write to fails
# its source, reason io.
can_ro=yes
as_unprivileged || can_ro=no
as_user=$AS_USER
if [ $can_ro = yes ]; then
	chmod 755 "$T"
	mkimg rosrc/ro/r.jpg 40x30
	mkimg rosrc/w.jpg 40x30
	mkdir -p o3/ro
	[ -n "$as_user" ] && chown -R 65534:65534 o3
	chmod 555 o3/ro
	if $as_user sh -c ': >o3/ro/probe' 2>/dev/null; then
		rm -f o3/ro/probe
		can_ro=no
	fi
fi
if [ $can_ro = yes ]; then
	timeout -k 5 120 $as_user "$IMGBAKE" -o o3 rosrc >"$OUT" 2>"$ERR"
	rc=$?
	err=$(cat "$ERR")
	is "$rc" 1 "read-only output directory: exit 1" || diag "$err"
	M=o3/imgbake-manifest.json
	is "$(sr $M rosrc/ro/r.jpg)" "failed io" "read-only output directory: ro/r.jpg failed, io"
	is "$(size o3/w.webp)" 40x30 "read-only output directory: w.jpg converted"
	is "$(ls -A o3/ro)" "" "read-only output directory: nothing in it"
	is "$(temps o3)" "" "read-only output directory: no temporary file"
	chmod 700 "$T"
else
	skip "permission bits cannot be tested here (root without setpriv, or not enforced)"
fi

# ---- a full disk ------------------------------------------------------------------

# Lossless noise PNGs of ~270 kB each into a 640 kB tmpfs: the third
# fills it.  The source being written fails with io, the run stops
# taking new jobs and exits 2, and what is on the disk is complete and
# (if the manifest could still be written) what the manifest says.
mkdir disk
if mount -t tmpfs -o size=640k tmpfs disk 2>/dev/null; then
	for i in 1 2 3 4 5 6; do
		mkimg "full/n$i.png" 300x300
	done
	run -j1 -f png -o disk full
	is "$rc" 2 "full disk: exit 2" || show_run
	is "$(temps disk)" "" "full disk: no temporary file"
	M=disk/imgbake-manifest.json
	if [ -f $M ]; then
		json_ok $M
		ok $? "full disk: the manifest is valid JSON"
		like "$(json_get $M 'map { $_->{reason} // "" } @{$j->{sources}}')" '^io$' \
			"full disk: a source failed with reason io"
		is "$(cd disk && find . -name '*.png' | sed 's|^\./||' | sort)" \
			"$(json_get $M '[map { $_->{path} } outs()]' | grep . | sort)" \
			"full disk: the outputs on disk are those in the manifest"
	else
		like "$err" "^imgbake: .*(space|full)" "full disk: no manifest, and stderr says why"
	fi
	bad=0
	for f in disk/*.png; do
		[ -e "$f" ] || continue
		decodes "$f" || { diag "does not decode: $f"; bad=1; }
	done
	ok $bad "full disk: every output left is complete"
	like "$err" "^imgbake: cannot convert 'full/n[0-9]\\.png': ." "full disk: the failure is reported"
	umount disk
	# two jobs failing at once each keep their own cause, whatever the
	# format: libvips' one error buffer does not carry it
	for f in png jpeg webp; do
		lines=
		for t in 1 2 3; do
			mount -t tmpfs -o size=200k tmpfs disk
			run -j2 -f $f -o disk full
			lines="$lines$(printf '%s\n' "$err" | grep 'cannot convert' | sed 's/n[0-9]\./nX./')
"
			umount disk
		done
		is "$(printf '%s' "$lines" | sort -u)" \
			"imgbake: cannot convert 'full/nX.png': write: No space left on device" \
			"full disk, -j2 -f $f: every failure says why, three runs out of three"
	done
	# damaged sources beside them: each fails for its own cause, its
	# damage or its own write, never with another job's (two decoders
	# failing at one instant can still leave one of them without
	# libvips' text: then it is damaged all the same)
	for i in 1 2 3 4 5 6; do
		mkimg "mix/n$i.png" 163x163
		head -c $(($(wc -c <"mix/n$i.png") - 30)) "mix/n$i.png" >"mix/t$i.png"
	done
	lines=
	for t in 1 2 3 4 5; do
		mount -t tmpfs -o size=200k tmpfs disk
		run -j4 -f png -o disk mix
		lines="$lines$(printf '%s\n' "$err" | grep "cannot convert 'mix/t" | sed 's/t[0-9]\./tX./')
"
		umount disk
	done
	is "$(printf '%s' "$lines" | sort -u | grep -v -x -e \
		"imgbake: cannot convert 'mix/tX.png': decode: vipspng: libpng read error" -e \
		"imgbake: cannot convert 'mix/tX.png': decode: damaged or truncated data" -e \
		"imgbake: cannot convert 'mix/tX.png': write: No space left on device")" "" \
		"full disk, damaged sources at -j4: each its own cause, five runs"
	# the biggest source starts first and is reported last: the run
	# stops when it fails, not when its turn to be reported comes
	for i in 1 2 3; do
		mkimg "full2/a$i.png" 100x100
	done
	mkimg full2/z.png 1000x1000
	mount -t tmpfs -o size=640k tmpfs disk
	run -j1 -f png -o disk full2
	is "$rc" 2 "full disk, the biggest source last by name: exit 2" || show_run
	like "$err" "stopping" "... the run stops"
	is "$(find disk -name 'a*.png' | wc -l | tr -d ' ')" 0 \
		"... before the smaller sources start" || show_run
	umount disk
	# a signal while the run stops for a full disk is its first: the
	# run goes on stopping, writes its manifest (kept off the disk)
	# and exits 2, as it would have
	mkimg full3/big.jpg 1200x1200
	mkimg full3/small.png 300x300
	mount -t tmpfs -o size=16k tmpfs disk
	perl -e '$SIG{INT} = $SIG{TERM} = "DEFAULT"; exec @ARGV or die' \
		"$IMGBAKE" -j2 -f avif -m full3.json -o disk full3 >"$OUT" 2>"$ERR" &
	pid=$!
	i=0
	while ! grep -q "device is full" "$ERR" && [ "$i" -lt 300 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
	done
	if grep -q "device is full" "$ERR"; then
		sleep 0.3
		kill -TERM "$pid" 2>/dev/null
		wait "$pid"
		is "$?" 2 "full disk, then a signal: exit 2" || diag "$(cat "$ERR")"
		json_ok full3.json
		ok $? "... and the manifest is written"
	else
		# not full in time (a slow build): nothing to test
		kill -KILL "$pid" 2>/dev/null
		wait "$pid"
		skip "the disk did not fill in time"
		skip "the disk did not fill in time"
	fi
	umount disk
else
	skip "cannot mount a tmpfs here (not root?)"
fi

# no inode left for the manifest: the summary still says what the run
# did, and the journal keeps it for the next run
mkdir ino
if mount -t tmpfs -o size=4m,nr_inodes=12 tmpfs ino 2>/dev/null; then
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		mkimg "ino-src/a$i.png" 20x20
	done
	run -j1 -f webp -o ino ino-src
	is "$rc" 2 "no inode left: exit 2" || show_run
	like "$err" "cannot create '[^']*imgbake-manifest.json'" "... the manifest cannot be written"
	like "$err" "[0-9]+ converted, 0 skipped, 1 failed" "... and the summary says what the run did"
	[ -s ino/imgbake-manifest.json.journal ]
	ok $? "... its journal stays, for the next run"
	umount ino
else
	for _ in 1 2 3 4; do skip "cannot mount a tmpfs here (not root?)"; done
fi

# a full disk under a name with an apostrophe is still a full disk, for
# a conversion and for the copy of an identical source (no inodes left:
# the file cannot even be created)
for i in 1 2 3 4 5 6 7 8; do
	mkimg "few/n$i.png" 20x20
done
mkimg same/s1.png 20x20
for i in 2 3 4 5 6 7 8; do
	cp same/s1.png "same/s$i.png"
done
mkdir disk2
for src in few same; do
	if mount -t tmpfs -o size=640k,nr_inodes=6 tmpfs disk2 2>/dev/null; then
		run -j1 -f png -o "disk2/Bob's" $src
		is "$rc" 2 "no inodes left under Bob's, $src: exit 2" || show_run
		like "$err" "output device is full" \
			"no inodes left under Bob's, $src: the run stops, and says why"
		umount disk2
	else
		skip "cannot mount a tmpfs here (not root?)"
	fi
done

# nor one that says it before a ";", as libvips joins its lines
long=$(printf '%0251d' 0 | tr 0 a)
mkimg "semi/No space left on device;/$long.png" 20x20
mkimg semi/w1.png 20x20
mkimg semi/w2.png 21x21
run -j1 -o semi-out semi
is "$rc" 1 "a name too long under 'No space left on device;': exit 1, not 2" || show_run
unlike "$err" "output device is full" "... the run does not stop as if the disk were full"

# a path that says "No space left on device" is not a full disk
mkimg "nospace/No space left on device/x.png" 20x20
mkimg nospace/y.png 20x20
mkimg nospace/z.png 20x20
mkdir nospace-out
: >"nospace-out/No space left on device"
run -j1 -o nospace-out nospace
is "$rc" 1 "a directory named after ENOSPC that is a file: exit 1, not 2" || show_run
unlike "$err" "output device is full" "... the run does not stop as if the disk were full"
is "$(ls nospace-out | grep -c webp)" 2 "... and the other sources are converted"

# ---- a file size limit ---------------------------------------------------------------

# jpegsave's libjpeg errors are logged under the name libjpeg's loader
# uses: a JPEG output that cannot be written keeps its own line, and a
# damaged JPEG converted after it is not told of it
mkimg fsz/a.png 256x256
mkimg fsz/whole.jpg 256x256
head -c 3000 fsz/whole.jpg >fsz/z.jpg && rm fsz/whole.jpg
(trap '' XFSZ; ulimit -f 8; exec "$IMGBAKE" -j1 -f jpeg -o fszout fsz) >"$OUT" 2>"$ERR"
rc=$?
err=$(cat "$ERR")
is "$rc" 1 "an output over the file size limit: exit 1" || show_run
like "$err" "cannot convert 'fsz/a\\.png': write: .*File too large" "... the output's failure says why"
like "$err" "cannot convert 'fsz/z\\.jpg': decode: VipsJpeg: Premature end of input file\$" \
	"... and the damaged JPEG after it fails as damaged, with its own text alone"
is "$(temps fszout)" "" "... no temporary file"
# the same without the shell ignoring SIGXFSZ: imgbake does itself
(ulimit -f 8; exec "$IMGBAKE" -j1 -f jpeg -o fszout2 fsz) >"$OUT" 2>"$ERR"
rc=$?
err=$(cat "$ERR")
is "$rc" 1 "an output over the file size limit, SIGXFSZ not ignored by the caller: exit 1" ||
	show_run
like "$err" "cannot convert 'fsz/a\\.png': write: .*File too large" "... the output's failure says why"
is "$(temps fszout2)" "" "... no temporary file"
[ ! -e fszout2/imgbake-manifest.json.journal ]
ok $? "... nor a journal"

# ---- a second SIGINT ---------------------------------------------------------------

# Two large AVIF encodes in flight (libaom cannot be interrupted, and each
# takes many seconds); the first SIGINT asks for a clean stop, the second
# one must end the run at once, still removing the temporary files.
if have_saver avif; then
	mkimg sig/n1.jpg 3000x2000
	mkimg sig/n2.jpg 3000x2000
	res=$(perl -MTime::HiRes=time,sleep -MPOSIX=:sys_wait_h -e '
		my $pid = fork // die "fork: $!\n";
		if (!$pid) {
			$SIG{INT} = "DEFAULT";
			open STDOUT, ">", $ARGV[0]; open STDERR, ">", $ARGV[1];
			exec @ARGV[2 .. $#ARGV] or die "exec: $!\n";
		}
		sleep 1.5;
		kill "INT", $pid;
		sleep 0.2;
		my $alive = waitpid($pid, WNOHANG) == 0;
		my $st = $?;
		kill "INT", $pid;
		my $t = time;
		while ($alive && waitpid($pid, WNOHANG) == 0) {
			if (time - $t > 60) { kill "KILL", $pid; waitpid($pid, 0); last }
			sleep 0.05;
		}
		$st = $? if $alive;
		printf "%d %.1f %s\n", WIFEXITED($st) ? WEXITSTATUS($st) : 128 + WTERMSIG($st),
			time - $t, $alive ? "running" : "gone";
	' "$OUT" "$ERR" "$IMGBAKE" -j2 -f avif -o osig sig)
	set -- $res
	rc=$1
	after=$2
	[ "$3" = running ] ||
		diag "the first SIGINT had already ended the run: the second one was not needed"
	is "$rc" 130 "second SIGINT: exit 130" || diag "$(cat "$ERR")"
	# how soon it ends is a timing, not asserted here (a ThreadSanitizer
	# build delivers signals late); the hang guard above bounds it
	diag "second SIGINT: the run ended ${after} s after it"
	is "$(temps osig)" "" "second SIGINT: no temporary file"
	bad=0
	for f in osig/*.avif; do
		[ -e "$f" ] || continue
		decodes "$f" || { diag "partial output: $f"; bad=1; }
	done
	ok $bad "second SIGINT: no partial output"
else
	skip "this libvips cannot write AVIF"
fi

done_testing
