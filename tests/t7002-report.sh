#!/bin/sh
# The HTML report (--report FILE): one self-contained page, inside or
# outside the output root, that names every source, says why the failed
# and skipped ones were not converted, and whose every image is an
# output, reached by a relative URL from the page.  With chromium
# installed the page is rendered headless: it must draw something, log
# nothing to the console, and its sort script must run.
. "$(dirname "$0")/lib.sh"

# skip REASON: one test that does not apply here (TAP "ok N # skip").
skip() {
	_tap_n=$((_tap_n + 1))
	printf 'ok %d # skip %s\n' "$_tap_n" "$1"
}

# imgs PAGE: the src of every <img> in PAGE, one a line, as written.
imgs() {
	perl -ne 'print "$1\n" while /<img\b[^>]*?\ssrc="([^"]*)"/g' "$1"
}

# unresolved PAGE: each <img> src of PAGE that is not a relative URL to
# a regular file inside the directory ROOT (second argument), decoded
# from its percent-encoding against the page's directory.
unresolved() {
	imgs "$1" | perl -MCwd=realpath -e '
		my ($page, $root) = @ARGV;
		(my $dir = $page) =~ s{/[^/]*$}{};
		$dir = "." if $dir eq $page;
		my $real_root = realpath($root);
		while (my $url = <STDIN>) {
			chomp $url;
			if ($url =~ m{^(?:[a-z][a-z0-9+.-]*:|/)}i || $url =~ /[^A-Za-z0-9._~\/%-]/) {
				print "not a plain relative URL: $url\n";
				next;
			}
			(my $rel = $url) =~ s/%([0-9A-F]{2})/chr hex $1/ge;
			my $file = "$dir/$rel";
			my $real = realpath($file);
			print "missing: $url\n" and next unless -f $file && defined $real;
			print "outside the output root: $url\n"
				unless index($real, "$real_root/") == 0;
		}' "$1" "$2"
}

# stat_of PAGE LABEL: the value shown for LABEL in the page's summary.
stat_of() {
	sed -n "s|.*<dt>$2</dt><dd>\\([^<]*\\)</dd>.*|\\1|p" "$1"
}

# row_order PAGE: "data-i in out" of each source row, in page order.
row_order() {
	sed -n 's/^<tr data-i="\([0-9]*\)" data-in="\([0-9]*\)" data-out="\([0-9]*\)".*/\1 \2 \3/p' "$1"
}

mkimg src/a.jpg 300x200
mkimg src/b.png 200x120 4
mkimg src/sub/c.webp 160x160
mkimg src/tiny.jpg 40x30
# markup characters, a space, '#' and '%' in a name; and a name that is
# not UTF-8 (Latin-1 e acute)
mkimg src/w.png 100x80
mv src/w.png 'src/sub/we<ird> & "q" #1 %.png'
mkimg src/l.png 90x60
mv src/l.png "src/caf$(printf '\351').png"
head -c 300 src/a.jpg >src/broken.jpg
echo 'plain text' >src/notes.txt

FW='-f webp,avif -w 64,128'

# ---- the page beside the outputs ------------------------------------------

run $FW -o out --report out/report.html src
is "$rc" 1 "a corrupt source among good ones: exit 1" || show_run
unlike "$err" 'report' "no complaint about the report"
P=out/report.html
M=out/imgbake-manifest.json
[ -f $P ] && [ -s $P ]
ok $? "the page is written"
is "$(temps out)" "" "no temporary file left beside it"

if command -v xmllint >/dev/null 2>&1; then
	lint=$(xmllint --html --noout $P 2>&1)
	is "$lint" "" "xmllint --html finds nothing wrong with the page"
else
	skip "xmllint not installed (libxml2-utils)"
fi
like "$(head -n 1 $P)" '^<!DOCTYPE html>$' "an HTML5 doctype"
like "$(cat $P)" '<meta charset="utf-8">' "declares UTF-8"

# self-contained: no network, no other file than the outputs
unlike "$(cat $P)" '[Hh][Tt][Tt][Pp][Ss]?://' "no http(s) URL anywhere"
unlike "$(cat $P)" '<link|<script[^>]* src=|@import|url\(|<iframe|<object|<embed' \
	"no external style, script or frame"
like "$(cat $P)" "Content-Security-Policy\" content=\"default-src 'none'" \
	"a policy that blocks every fetch it does not allow"
is "$(grep -c '<style>' $P) $(grep -c '<script>' $P)" "1 1" "one inline style, one inline script"

# every source, escaped
for s in src/a.jpg src/b.png src/sub/c.webp src/tiny.jpg src/broken.jpg src/notes.txt; do
	grep -Fq ">$s<" $P
	ok $? "names $s" || diag "$(grep -F "$s" $P | head -n 3)"
done
grep -Fq '>src/sub/we&lt;ird&gt; &amp; &quot;q&quot; #1 %.png<' $P
ok $? "a name with markup characters, escaped"
unlike "$(cat $P)" '<ird>|"q"' "and never raw"
grep -Fq '>src/caf\xe9.png<' $P
ok $? "a name that is not UTF-8 shows its byte as \\xe9"
perl -e 'local $/; $_ = <STDIN>;
	exit !/\A(?:[\x00-\x7f]|[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3})*\z/' <$P
ok $? "the page is valid UTF-8"

# failed and skipped, with their reason and error
failed_row=$(grep -F '>src/broken.jpg<' $P)
like "$failed_row" '^<tr class="failed">' "the corrupt file is in the failed list"
like "$failed_row" '>corrupt<' "with its reason class"
error=$(json_get $M 'src("src/broken.jpg")->{error}')
isnt "$error" "" "the manifest has its error text"
grep -Fq "<td class=\"err\">$error</td>" $P
ok $? "the page shows the same error text" || diag "error: $error" "row: $failed_row"
like "$(grep -F '>src/notes.txt<' $P)" '^<tr class="skipped">.*>not-an-image<' \
	"the text file: skipped, not-an-image"

# the summary agrees with the manifest
for k in Sources:sources Converted:converted Skipped:skipped Failed:failed Outputs:outputs; do
	is "$(stat_of $P "${k%%:*}")" "$(json_get $M "\$j->{summary}{${k#*:}}")" \
		"summary: ${k%%:*} as in the manifest"
done
like "$(stat_of $P 'Bytes in &rarr; out (converted)')" '^[0-9.]+ [kM]?B &rarr; [0-9.]+ [kM]?B$' \
	"summary: bytes in and out"
like "$(stat_of $P Saving)" '^[0-9]+\.[0-9]%$' "summary: the saving in %"
like "$(stat_of $P 'Wall time')" '^[0-9]+\.[0-9]+ s$' "summary: the wall time"
like "$(stat_of $P 'Memory budget')" '^[0-9.]+ [kMG]B$' "summary: the memory budget"
like "$(stat_of $P 'Peak RSS')" '^[0-9.]+ [kMG]B$' "summary: the peak RSS"

# savings by format and width
like "$(cat $P)" '<tr><td class="l">webp</td><td>[0-9]+</td>' "a row for webp"
like "$(cat $P)" '<tr><td class="l">avif</td><td>[0-9]+</td>' "a row for avif"
like "$(cat $P)" '<tr><td class="l">64 px</td>' "a row for width 64"
like "$(cat $P)" '<tr><td class="l">128 px</td>' "a row for width 128"
like "$(cat $P)" '<tr><td class="l">source width</td><td>2</td>' \
	"tiny.jpg's two outputs under source width"

# the outputs: one <img> per output, each a file of the output tree
n_out=$(json_get $M 'scalar outs()')
is "$(imgs $P | wc -l | tr -d ' ')" "$n_out" "one <img> per output ($n_out)"
is "$(imgs $P | sort -u | wc -l | tr -d ' ')" "$n_out" "each output once"
is "$(unresolved $P out)" "" "every <img> resolves to an output, relative to the page"
like "$(imgs $P)" '^sub/we%3Cird%3E%20%26%20%22q%22%20%231%20%25-64\.webp$' \
	"a strange name percent-encoded"
like "$(imgs $P)" '^caf%E9-64\.avif$' "a byte that is not UTF-8 percent-encoded"
is "$(grep -c '<img [^>]*loading=lazy' $P)" "$(grep -c '<img ' $P)" "every image loads lazily"
like "$(cat $P)" 'max-height:96px' "thumbnails at most 96 px high"
like "$(grep -F '>src/a.jpg<' $P)" '<span>webp 128w<br>[0-9.]+ [kM]?B</span>' \
	"each thumbnail with its format, width and size"
is "$(row_order $P | wc -l | tr -d ' ')" 6 "a row per converted source"
row_order $P | awk 'NR > 1 && $2 - $3 > prev { bad = 1 } { prev = $2 - $3 } END { exit bad }'
ok $? "rows in order of saving, biggest first" || diag "$(row_order $P)"

# ---- elsewhere: outside the output root, and below it ----------------------

run $FW -o out2 --report reports/deep/report.html src
is "$rc" 1 "a page outside the output root: exit 1" || show_run
P2=reports/deep/report.html
[ -s $P2 ]
ok $? "written, its directories created"
is "$(imgs $P2 | wc -l | tr -d ' ')" "$n_out" "the same images"
like "$(imgs $P2)" '^\.\./\.\./out2/sub/c-64\.webp$' "named from the page's directory"
is "$(unresolved $P2 out2)" "" "every <img> resolves from outside the root"

run $FW -o out3 --report out3/pages/report.html src
is "$(unresolved out3/pages/report.html out3)" "" "and from a directory below the root"
like "$(imgs out3/pages/report.html)" '^\.\./sub/c-64\.webp$' "as ../"

ln -s out3 link
run $FW -o link --report "$T/link/pages/r.html" src
is "$(unresolved "$T/link/pages/r.html" link)" "" "through a symbolic link to the root"

# ---- the same results, the same page -----------------------------------------

strip_timing() {
	grep -v -e '<dt>Wall time</dt>' -e '<dt>Peak RSS</dt>' "$1"
}
run $FW -j1 --force -o out --report out/again.html src
strip_timing out/again.html >again1
run $FW -j3 --force -o out --report out/again.html src
strip_timing out/again.html >again2
cmp -s again1 again2
ok $? "identical runs give identical pages but for the timings" ||
	diag "$(diff again1 again2 | head -n 20)"

run $FW -o out --report out/up.html src
is "$(stat_of out/up.html 'Up to date')" 6 "a second run: six sources up to date"
is "$(imgs out/up.html | wc -l | tr -d ' ')" "$n_out" "whose outputs are still shown"
is "$(grep -c '(up to date)' out/up.html)" 6 "and marked up to date"
is "$(stat_of out/up.html Pruned)" "" "nothing pruned: no count"

run $FW -o out --prune --report out/pruned.html -w 64 src
is "$(stat_of out/pruned.html Pruned)" "$(json_get out/imgbake-manifest.json '$j->{summary}{pruned}')" \
	"--prune: the page counts what was pruned, as the manifest does"
cmp_ok "$(stat_of out/pruned.html Pruned)" -gt 0 "... which is something"

# ---- failures to write ----------------------------------------------------------

echo x >blocker
run $FW -o out4 --report blocker/report.html src
is "$rc" 2 "a page that cannot be written: exit 2" || show_run
like "$err" "^imgbake: cannot create 'blocker/report\\.html': Not a directory\$" "says why"
[ -f out4/imgbake-manifest.json ]
ok $? "the manifest is written all the same"

if [ "$(id -u)" -eq 0 ] && mkdir full && unshare -m sh -c \
	'mount -t tmpfs -o size=64k tmpfs full && umount full' 2>/dev/null; then
	unshare -m sh -c '
		mount -t tmpfs -o size=64k tmpfs full || exit 9
		dd if=/dev/zero of=full/filler bs=1k count=1000 2>/dev/null
		timeout -k 5 120 "$1" -f webp -o out5 --report full/report.html src \
			>stdout 2>stderr
		echo $? >rc
		ls -A full >left' sh "$IMGBAKE"
	is "$(cat rc)" 2 "a full disk under the page: exit 2"
	like "$(cat stderr)" "^imgbake: cannot write report 'full/report.html': No space left on device$" \
		"the error names the page and ENOSPC"
	is "$(cat left)" filler "no temporary file left on the full disk"
else
	skip "needs root and unshare to mount a small tmpfs"
	skip "needs root and unshare to mount a small tmpfs"
	skip "needs root and unshare to mount a small tmpfs"
fi

# ---- rendered -------------------------------------------------------------------

# chrome URL: a file:// URL for an absolute path
url() {
	printf 'file://%s' "$1" | perl -pe 's{([^A-Za-z0-9._~/:-])}{sprintf "%%%02X", ord $1}ge'
}

# chrome OUT URL [FLAG...]: render URL headless with a private profile,
# home and temporary directory under T, the DOM after the scripts ran
# into OUT.dom and the log into OUT.log.
chrome() {
	_o=$1 _u=$2
	shift 2
	mkdir -p "$T/chrome-home" "$T/chrome-tmp"
	HOME=$T/chrome-home TMPDIR=$T/chrome-tmp \
	timeout -k 5 90 chromium --headless --no-sandbox --disable-gpu \
		--user-data-dir="$T/chrome-profile" --no-first-run --hide-scrollbars \
		--window-size=1200,1600 --enable-logging=stderr --v=0 \
		--dump-dom "$@" "$_u" >"$_o.dom" 2>"$_o.log"
}

if ! command -v chromium >/dev/null 2>&1; then
	skip "chromium not installed"
	done_testing
fi

shot=$T/screenshot.png
chrome page "$(url "$T/$P2")" --screenshot="$shot"
ok $? "chromium renders the page"
[ -s "$shot" ]
ok $? "and saves a screenshot"
diag "screenshot: $shot"
cp "$shot" "${TMPDIR:-/tmp}/imgbake-report-screenshot.png" 2>/dev/null &&
	diag "copied to ${TMPDIR:-/tmp}/imgbake-report-screenshot.png"
is "$(vipsheader -f width "$shot")x$(vipsheader -f height "$shot")" 1200x1600 \
	"the screenshot is 1200x1600"
sd=$(vips deviate "$shot")
perl -e 'exit !($ARGV[0] > 10)' "$sd"
ok $? "the screenshot is not blank (standard deviation $sd)"
is "$(grep -E ':CONSOLE|Uncaught' page.log)" "" "nothing on the console"
like "$(cat page.dom)" '<table id="sources" data-sort="saved descending">' \
	"the script ran and marked the table as sorted by saving"
like "$(cat page.dom)" '<th data-key="saved" aria-sort="descending">' "and its header"
unlike "$(cat page.dom)" '<img [^>]*data-broken|<p class="alert" id="broken">' \
	"every thumbnail on screen loaded"

chrome sorted "$(url "$T/$P")#sort=path-asc"
like "$(cat sorted.dom)" 'data-sort="path ascending"' "#sort=path-asc: sorted by path"
is "$(perl -ne 'print "$1 " while /<tr data-i="(\d+)"/g' sorted.dom)" \
	"$(row_order $P | sort -n | cut -d' ' -f1 | tr '\n' ' ')" "rows in plan order"
is "$(grep -E ':CONSOLE|Uncaught' sorted.log)" "" "nothing on the console"

# the same page away from its outputs: the check above can fail
mkdir moved
cp $P moved/report.html
chrome moved "$(url "$T/moved/report.html")"
like "$(cat moved.dom)" '<p class="alert" id="broken">[0-9]+ thumbnails did not load' \
	"moved away from its outputs, the page says its thumbnails did not load"

done_testing
