#!/bin/sh
# Source lists: '-' (stdin) and -T FILE, newline- or NUL-separated (-0),
# with spaces and newlines in names.
. "$(dirname "$0")/lib.sh"

nl='
'
mkimg 'my pics/a b.jpg' 60x40
mkimg 'my pics/c.png' 50x40
mkimg "odd/new${nl}line.jpg" 40x30
printf 'text\n' >"odd/bad${nl}name.txt"

printf 'my pics/a b.jpg\nmy pics/c.png\n' >list.txt
printf 'my pics/a b.jpg\0odd/new\nline.jpg\0' >list0

run -o o1 - <list.txt
is "$rc" 0 "- reads a newline list from stdin" || show_run
is "$(size 'o1/my pics/a b.webp')" 60x40 "stdin list: name with a space"
is "$(size 'o1/my pics/c.webp')" 50x40 "stdin list: second entry"

run -o o2 -T list.txt
is "$rc" 0 "-T FILE reads a newline list" || show_run
is "$(files o2)" "imgbake-manifest.json
my pics/a b.webp
my pics/c.webp" "-T FILE: both listed files, nothing else"

run -0 -o o3 - <list0
is "$rc" 0 "-0 -: NUL list from stdin" || show_run
is "$(size "o3/odd/new${nl}line.webp")" 40x30 "-0 -: a name with a newline"
is "$(size 'o3/my pics/a b.webp')" 60x40 "-0 -: a name with a space"
is "$(json_get o3/imgbake-manifest.json 'src("odd/new\nline.jpg")->{status}')" \
	converted "-0 -: the manifest records the name with its newline"

# a NUL list read without -0 would convert its first name alone
run -o o3b - <list0
is "$rc" 2 "a NUL list without -0: exit 2" || show_run
like "$err" "holds NUL bytes.*needs -0" "... and says to use -0"
[ ! -e o3b ]
ok $? "... converting nothing, and leaving no output directory"
mkdir kept
run -o kept/deep/er/o3c -m m3c/of/it.json - <list0
is "$rc" 2 "a NUL list, -o and -m three levels down: exit 2" || show_run
[ ! -e kept/deep ] && [ ! -e m3c ]
ok $? "... every directory it made is gone"
[ -d kept ]
ok $? "... and the one that was there before stays"
mkdir was-there
run -o o3d -m not-there/../was-there/m.json - <list0
is "$rc" 2 "a NUL list, -m through '..': exit 2" || show_run
[ -d was-there ]
ok $? "... a directory that was there, named through a missing one, stays"

# A, refused, made p for its output root p/a; B has started in p since
# (it holds its lock, waiting for its list): A leaves p to B
mkfifo fa fb
"$IMGBAKE" -o p/a -m ma.json - <fa 2>/dev/null &
pa=$!
exec 7>fa
wait_for p/a
"$IMGBAKE" -q -o p -m mb.json - <fb 2>/dev/null 7>&- &
pb=$!
exec 8>fb
_i=0
while [ $_i -lt 100 ] && flock -n -x p true; do sleep 0.1; _i=$((_i + 1)); done
cat list0 >&7
exec 7>&-
wait $pa
is "$?" 2 "A, refused with B started in its p: exit 2"
[ -d p ] && [ ! -e p/a ]
ok $? "... A removed p/a, and left p, which B holds"
exec 8>&-
wait $pb
run -o o3d/. - <list0
[ ! -e o3d ]
ok $? "... also when the output directory is named 'o3d/.'"

# a list with CRLF line ends names files ending in CR: each fails,
# saying so
printf 'my pics/c.png\r\n' >list-crlf
run -o o3c -T list-crlf
is "$rc" 1 "a CRLF list: exit 1" || show_run
like "$err" "cannot convert 'my pics/c\\.png\\\\x0d':.*carriage return.*CRLF" \
	"... and the failure says the name ends in a carriage return"

run --null -o o4 --files-from list0
is "$rc" 0 "--null --files-from FILE" || show_run
is "$(size "o4/odd/new${nl}line.webp")" 40x30 "-T FILE -0: a name with a newline"

printf 'my pics/c.png' >list-noeol
run -o o5 - <list-noeol
is "$rc" 0 "last entry without a newline" || show_run
is "$(size 'o5/my pics/c.webp')" 50x40 "last entry without a newline is read"

printf 'my pics/c.png\0odd/bad\nname.txt\0' >list-bad0
run -0 -o o6 - <list-bad0
is "$rc" 1 "a non-image in a list fails" || show_run
is "$(json_get o6/imgbake-manifest.json 'src("odd/bad\nname.txt")->{reason}')" \
	not-an-image "listed non-image: reason not-an-image"
like "$err" "^imgbake: cannot convert 'odd/bad.+name\.txt': ." \
	"the failure line escapes the newline in the name"
unlike "$err" "^name\.txt'" "no raw newline in the failure line"
is "$(size 'o6/my pics/c.webp')" 50x40 "the rest of the list is converted"

printf 'my pics/c.png\nno-such-file.jpg\n' >list-missing
run -o o7 - <list-missing
is "$rc" 1 "a missing listed file fails" || show_run
like "$err" "^imgbake: cannot convert 'no-such-file.jpg': ." "and is reported"
is "$(json_get o7/imgbake-manifest.json 'src("no-such-file.jpg")->{status}')" \
	failed "missing listed file: failed record"

# find over a tree that holds the output root lists the run's own
# manifest and outputs: none is a source, on any run
mkimg fw/photos/a.jpg 80x60
for i in 1 2; do
	(cd fw && find . -type f -print0 | "$IMGBAKE" -q -0 -f jpeg -w 48 -o thumbs -) \
		2>"$ERR"
	is "$?" 0 "find over the output root, run $i: exit 0" || diag "$(cat "$ERR")"
done
is "$(files fw/thumbs)" "imgbake-manifest.json
photos/a-48.jpg" "... and no output made of an output"

run -o o8 -T no-such-list.txt
is "$rc" 2 "unreadable -T list: exit 2" || show_run
like "$err" '^imgbake: ' "unreadable -T list: an imgbake: message"

# -L follows a link from one source directory into another whether the
# directories are named or listed, in any order
mkdir -p la/a la/b
mkimg la/b/x.png 40x30
ln -s ../b/x.png la/a/l.png
for order in 'la/a la/b' 'la/b la/a'; do
	printf '%s\n' $order | run -L -f webp -o "lo-${order%% *}" -
	is "$(json_get "lo-${order%% *}/imgbake-manifest.json" 'src("la/a/l.png")->{status}')" converted \
		"-L, directories listed ($order): a link into the other is followed" || show_run
done

done_testing
