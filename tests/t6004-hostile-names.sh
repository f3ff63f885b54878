#!/bin/sh
# File names built to break things: a newline, a tab, a terminal escape,
# a leading dash, quotes, a backslash, bytes that are not UTF-8.  They
# convert like any other name, in a walk, in a NUL-separated list and on
# the command line; the manifest stays valid JSON and says which file is
# which; stderr never carries a raw control character.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/hostile/common.sh"

# check_names MANIFEST OUTDIR SRCDIR OUTPREFIX LIST: for each raw name in
# the NUL-separated LIST, one line "0 NAME" or "1 NAME: WHY" (NAME printable)
# telling whether MANIFEST records SRCDIR/NAME as converted into
# OUTPREFIX/STEM.webp, and that file is in OUTDIR and decodes.  In the
# manifest a name is its UTF-8 text, any byte that is not UTF-8 written
# as the four characters \xNN.
check_names() {
	perl -e '
use strict;
use warnings;
use JSON::PP;
use Encode qw(decode);
my ($manifest, $outdir, $srcdir, $outprefix, $list) = @ARGV;
sub slurp { open my $f, "<:raw", $_[0] or die "$_[0]: $!\n"; local $/; <$f> }
sub text {
	my ($b, $s) = (shift, "");
	while (length $b) {
		if ($b =~ s/^([\x00-\x7f]|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2})//) {
			$s .= decode("UTF-8", $1);
		} else {
			$b =~ s/^(.)//s;
			$s .= sprintf("\\x%02x", ord $1);
		}
	}
	return $s;
}
sub norm { my $s = shift; $s =~ s/\\x([0-9a-fA-F]{2})/\\x\L$1/g; $s }
sub printable { my $s = shift; $s =~ s/([^\x21-\x7e])/sprintf("<%02x>", ord $1)/ge; $s }
my $j = JSON::PP->new->utf8->decode(slurp($manifest));
open my $stdout, ">&", \*STDOUT or die;
open STDOUT, ">", "/dev/null" or die;
my @res;
my %src = map { norm($_->{path}) => $_ } @{$j->{sources}};
for my $name (split /\0/, slurp($list)) {
	(my $stem = $name) =~ s/\.[^.\/]*$//;
	my $want_src = norm(text("$srcdir/$name"));
	my $want_out = norm(text(($outprefix eq "." ? "" : "$outprefix/") . "$stem.webp"));
	my $disk = "$outdir/" . ($outprefix eq "." ? "" : "$outprefix/") . "$stem.webp";
	my $s = $src{$want_src};
	my $why = !$s ? "not in the manifest"
		: $s->{status} ne "converted" ? "status $s->{status}"
		: !grep({ norm($_->{path}) eq $want_out } @{$s->{outputs}}) ? "no output record " . printable($want_out)
		: !-f $disk ? "no output file " . printable($disk)
		: system("vips", "avg", $disk) != 0 ? "the output does not decode"
		: "";
	push @res, ($why eq "" ? "0 " : "1 ") . printable($name) . ($why eq "" ? "" : ": $why") . "\n";
}
print {$stdout} @res;' "$@" 2>/dev/null
}

# tap_lines PREFIX: each "STATUS DESCRIPTION" line on stdin as one test.
tap_lines() {
	while read -r _st _desc; do
		ok "$_st" "$1: $_desc"
	done
}

mkdir names good-names bad-names
mkimg pic.jpg 40x30
hostile names names pic.jpg >"$_L/names"
mkimg names/plain.jpg 30x20
# the same names for directories
mkdir "names/dir
name" names/-d
cp pic.jpg "names/dir
name/inner.jpg"
cp pic.jpg names/-d/inner.jpg
printf 'dir\nname/inner.jpg\0-d/inner.jpg\0' >>"$_L/names"
n_names=$(tr -cd '\0' <"$_L/names" | wc -c)
is "$n_names" 13 "precondition: thirteen hostile names made"

# ---- walked ------------------------------------------------------------------

run -v -o o1 names
is "$rc" 0 "walk over hostile names: exit 0" || show_run
json_ok o1/imgbake-manifest.json
ok $? "walk: the manifest is valid JSON"
check_names o1/imgbake-manifest.json o1 names . "$_L/names" >"$_L/res"
is "$(wc -l <"$_L/res")" "$n_names" "walk: every name checked" || diag "$(cat "$_L/res")"
tap_lines "walk" <"$_L/res"
is "$(size o1/plain.webp)" 30x20 "walk: the plain name beside them is converted"
is "$(json_get o1/imgbake-manifest.json '$j->{summary}{converted}')" $((n_names + 1)) \
	"walk: all $((n_names + 1)) converted"
is "$(temps o1)" "" "walk: no temporary file"
# -v: a line per source, and every line of stderr is one of imgbake's
# own, none the tail of a name that brought its own line break.
is "$(grep -c "^imgbake: converted 'names/" "$ERR")" $((n_names + 1)) "walk -v: one line per source"
is "$(grep -v -e "^imgbake: " -e "^[0-9]* converted, " "$ERR")" "" \
	"walk -v: every stderr line is imgbake's own"
unlike "$err" '^(line|name)' "walk -v: no name split across lines"
is "$(tr -cd '\033\t\r' <"$ERR" | wc -c)" 0 "walk -v: no raw escape, tab or carriage return on stderr"

# ---- a NUL-separated list ------------------------------------------------------

perl -0ne 'print "names/$_"' "$_L/names" >"$_L/list"
run -0 -o o2 - <"$_L/list"
is "$rc" 0 "NUL-separated list of hostile names: exit 0" || show_run
json_ok o2/imgbake-manifest.json
ok $? "list: the manifest is valid JSON"
check_names o2/imgbake-manifest.json o2 names names "$_L/names" >"$_L/res"
is "$(wc -l <"$_L/res")" "$n_names" "list: every name checked"
tap_lines "list" <"$_L/res"
is "$(temps o2)" "" "list: no temporary file"

# ---- the command line ------------------------------------------------------------

cd names || exit 1
run -o ../o3 -- -dash.jpg --help.jpg "it's \"quoted\".jpg" 'back\slash.jpg' plain.jpg
cd .. || exit 1
is "$rc" 0 "names after --: exit 0" || show_run
is "$(files o3)" "--help.webp
-dash.webp
back\\slash.webp
imgbake-manifest.json
it's \"quoted\".webp
plain.webp" "names after --: converted, not taken for options"
is "$(json_get o3/imgbake-manifest.json 'src("--help.jpg")->{status}')" converted \
	"'--help.jpg' after --: a source, not --help"

# ---- errors on stderr --------------------------------------------------------------

# Not images, under every hostile name, named one by one: each failure is
# one line of stderr, whatever the name holds.
echo 'not an image' >bad.txt
hostile names bad-names bad.txt >"$_L/bad"
perl -0ne 'chomp; print "bad-names/$_\0"' "$_L/bad" >"$_L/badlist"
n_bad=$(tr -cd '\0' <"$_L/bad" | wc -c)
mkimg bad-names/ok.jpg 20x20
printf 'bad-names/ok.jpg\0' >>"$_L/badlist"
run -0 -o o4 - <"$_L/badlist"
is "$rc" 1 "non-images under hostile names: exit 1" || show_run
json_ok o4/imgbake-manifest.json
ok $? "errors: the manifest is valid JSON"
is "$(json_get o4/imgbake-manifest.json '$j->{summary}{failed} . " " . $j->{summary}{converted}')" \
	"$n_bad 1" "errors: $n_bad failed, the image converted"
is "$(grep -c "^imgbake: cannot convert 'bad-names/" "$ERR")" "$n_bad" \
	"errors: one 'cannot convert' line per file"
is "$(wc -l <"$ERR" | tr -d ' ')" $((n_bad + 1)) \
	"errors: stderr is those lines and the summary, no name broke a line" || diag "$err"
unlike "$err" '^line' "errors: no line starts inside a name"
is "$(tr -cd '\033\t\r' <"$ERR" | wc -c | tr -d ' ')" 0 "errors: no raw escape, tab or carriage return on stderr"
like "$err" "^imgbake: cannot convert 'bad-names/new.+line\\.txt': " \
	"errors: the name with a newline is on one line, escaped"
like "$err" "^imgbake: cannot convert 'bad-names/esc.+\\[31mred\\.txt': " \
	"errors: the escape sequence is shown, escaped"
like "$err" "^imgbake: cannot convert 'bad-names/csi\\\\xc2\\\\x9b31mred\\.txt': " \
	"errors: CSI as UTF-8 is shown, escaped"
like "$err" "^imgbake: cannot convert 'bad-names/back\\\\\\\\slash\\.txt': " \
	"errors: a backslash is shown doubled, apart from an escape"

# "\xe9" as text in a UTF-8 name, beside the Latin-1 byte 0xe9: two
# sources, recorded apart, each up to date on the next run
mkimg 'esc-names/caf\xe9.png' 20x20
mkimg "esc-names/caf$(printf '\351').png" 30x20
run -o esc-out esc-names
run -o esc-out esc-names
is "$rc" 0 "\\xe9 as text and as a byte: exit 0" || show_run
is "$(json_get esc-out/imgbake-manifest.json '$j->{summary}{up_to_date}')" 2 \
	"\\xe9 as text and as a byte: both up to date on a second run"
is "$(json_get esc-out/imgbake-manifest.json 'join " ", map { $_->{path} } @{$j->{sources}}')" \
	'esc-names/caf\x5cxe9.png esc-names/caf\xe9.png' \
	"\\xe9 as text and as a byte: the text's backslash written \\x5c"

# an output name of 255 bytes, the most a name may have: its temporary
# file, ".NAME.imgbake-XXXXXX", takes the start of NAME
long=$(printf '%0250d' 0 | tr 0 x)
mkimg "long-names/$long.png" 20x20
run -o long-out long-names
is "$rc" 0 "a 255-byte output name: exit 0" || show_run
is "$(size "long-out/$long.webp")" 20x20 "a 255-byte output name: written"
is "$(temps long-out)" "" "a 255-byte output name: no temporary file left"

# an output root named with a newline, blocked by a file: the message
# says so on one line
printf x >'blocked
root'
run -o 'blocked
root/out' names/plain.jpg
is "$rc" 2 "an output root that cannot be made: exit 2" || show_run
is "$err" "imgbake: cannot create output directory 'blocked\\nroot/out': Not a directory" \
	"an output root that cannot be made: named escaped, on one line"

# every message is one line with nothing a terminal obeys, whatever
# path it names: a manifest path, a list, a base directory
nl='q
x'
run -n -o oq --report "oq/$nl.json" -m "oq/$nl.json" names/plain.jpg
is "$rc $(wc -l <"$ERR" | tr -d ' ')" "2 1" "a manifest path with a newline: exit 2, one line" || show_run
like "$(head -n 1 "$ERR")" "would be one file, 'oq/q\\\\nx\\.json'" "... the newline escaped"
run -n -o oq -T "$(printf 'l\302\2331m')"
like "$err" "cannot open list 'l\\\\xc2\\\\x9b1m'" "a list named with CSI: escaped" || show_run
is "$(tr -cd '\033\233' <"$ERR" | wc -c | tr -d ' ')" 0 "... no raw escape on stderr"

done_testing
