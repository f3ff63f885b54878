#!/bin/sh
# --fsync: every output, the manifest and every directory created reach
# the disk in an order a crash cannot break: the file before its rename,
# the rename (and each new directory) by a sync of its directory after.
# Checked on the system calls, as traced by strace(1).
. "$(dirname "$0")/lib.sh"

mkimg src/a.jpg 80x60
mkimg src/sub/deep/b.png 60x40
cp src/a.jpg src/copy.jpg

command -v strace >/dev/null 2>&1 || skip_all "strace is not installed"

# traced ARG...: run imgbake under strace, one trace file per thread
# (LeakSanitizer cannot run under ptrace: off in a sanitized build)
traced() {
	rm -rf tr && mkdir tr
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		timeout -k 5 120 strace -f -ff -y -qq -e trace=fsync,rename,renameat2,mkdir \
		-o tr/t "$IMGBAKE" "$@" >/dev/null 2>err.txt
	rc=$?
}

# In each thread's trace: a rename (for an output a renameat2, which
# keeps the file it replaces until its job is done) is preceded by an
# fsync of the file renamed (not always just before: a job renames its
# outputs together once all are written) and followed by one of its
# directory; a successful mkdir is followed by an fsync of its parent.  Prints the renames, those with
# the file flushed before, those with the directory flushed after, the
# mkdirs and those with the parent flushed after.
check='
	my ($ren, $before, $after, $mk, $mk_ok) = (0, 0, 0, 0, 0);
	sub dir_of { my $p = shift; $p =~ s{/[^/]+$}{}; $p }
	for my $f (glob "tr/t.*") {
		open my $h, "<", $f or die;
		my @l = grep { /^(fsync|rename|renameat2|mkdir)\(/ } <$h>;
		my %flushed;
		for my $i (0 .. $#l) {
			$flushed{$1} = 1 if $l[$i] =~ /^fsync\(\d+<([^>]+)>\)\s+= 0/;
			my $next = $i < $#l ? $l[$i + 1] : "";
			if ($l[$i] =~ /^rename(?:at2)?\((?:AT_FDCWD[^,]*, )?"([^"]+)", (?:AT_FDCWD[^,]*, )?"([^"]+)"(?:, RENAME_\w+)?\)\s+= 0/) {
				my ($tmp, $dst) = ($1, $2);
				my $d = dir_of($dst);
				$ren++;
				$before++ if $flushed{$tmp};
				$after++ if $next =~ /^fsync\(\d+<\Q$d\E>\)\s+= 0/;
			} elsif ($l[$i] =~ /^mkdir\("([^"]+)", \d+\)\s+= 0/) {
				my $d = dir_of($1);
				$mk++;
				$mk_ok++ if $next =~ /^fsync\(\d+<\Q$d\E>\)\s+= 0/;
			}
		}
	}
	print "$ren $before $after $mk $mk_ok\n";
'

out=$(pwd)/o
traced --fsync -j2 -f webp,jpeg -w 40,80 -o "$out" src
is "$rc" 0 "--fsync: exit 0" || diag "$(cat err.txt)"
is "$(files o | grep -c '\.\(webp\|jpg\)$')" 10 "--fsync: every output written"
set -- $(perl -e "$check")
# a.jpg and its copy at 40 and 80 px, b.png at 40 only, in two formats
is "$1" 11 "11 renames: 10 outputs and the manifest"
is "$2" "$1" "each output flushed before its rename"
is "$3" "$1" "... and its directory after"
is "$4" 3 "3 directories created: o, o/sub and o/sub/deep"
is "$5" "$4" "each new directory's parent flushed after the mkdir"

traced --fsync --link-duplicates --force -f webp -o "$out" src
is "$rc" 0 "--fsync --link-duplicates: exit 0" || diag "$(cat err.txt)"
is "$(stat -c %h o/copy.webp)" 2 "the duplicate is a hard link"
set -- $(perl -e "$check")
is "$1" 4 "4 renames: a, the link to it, b and the manifest"
is "$2" 3 "the three files written are flushed before their rename"
is "$3" "$1" "every rename, the link's too, is flushed by its directory"

# Across threads: once a worker has made a directory, no worker creates
# a file or a directory in it before the maker has flushed the parent.
# One trace for all threads, in the order strace saw the calls.
rm -rf src && mkdir src
for d in 01 02 03 04 05 06 07 08 09 10 11 12; do
	mkimg src/d$d/a.png 90x70
	mkimg src/d$d/b.png 90x70
done
out=$(pwd)/o3
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	timeout -k 5 120 strace -f -y -qq -e trace=fsync,mkdir,openat \
	-o tr1 "$IMGBAKE" --fsync -j2 -f webp,jpeg -w 30,60 -o "$out" src \
	>/dev/null 2>err.txt
is "$?" 0 "--fsync -j2, 24 sources in 12 directories: exit 0" || diag "$(cat err.txt)"
set -- $(perl -e '
	my (%call, %unsynced);
	my ($made, $early) = (0, 0);
	sub dir_of { my $p = shift; $p =~ s{/[^/]+$}{}; $p }
	open my $h, "<", "tr1" or die;
	while (<$h>) {
		chomp;
		my ($pid, $rest) = /^(\d+)\s+(.*)$/ or next;
		my ($entry, $exit);
		if ($rest =~ /^<\.\.\. \w+ resumed>(.*)$/) {
			$exit = ($call{$pid} // next) . $1;	# a split call ends
		} elsif ($rest =~ /^(.*) <unfinished \.\.\.>$/) {
			$entry = $call{$pid} = $1;		# ... or begins
		} else {
			$entry = $exit = $rest;
		}
		$early++ if defined $entry &&
		    $entry =~ /^openat\(AT_FDCWD, "([^"]+)", [^,]*O_CREAT/ &&
		    exists $unsynced{dir_of($1)};
		next unless defined $exit;
		if ($exit =~ /^mkdir\("([^"]+)", \d+\)\s+= 0/) {
			$made++;
			$unsynced{$1} = dir_of($1);
		} elsif ($exit =~ /^fsync\(\d+<([^>]+)>\)\s+= 0/) {
			my $p = $1;
			delete @unsynced{grep { $unsynced{$_} eq $p } keys %unsynced};
		}
	}
	print "$made $early\n";
')
is "$1" 13 "13 directories made: o3 and its 12"
is "$2" 0 "nothing created in a directory before its entry was flushed"

traced -f webp -o "$(pwd)/o2" src
is "$rc" 0 "without --fsync: exit 0"
is "$(cat tr/t.* | grep -c '^fsync(')" 0 "without --fsync: no fsync at all"

done_testing
