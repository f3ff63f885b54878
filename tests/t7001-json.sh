#!/bin/sh
# Pipelines: --json lines on stdout, --print0 for xargs -0, --list-formats.
. "$(dirname "$0")/lib.sh"

mkimg src/a.jpg 300x200
mkimg src/b/c.png 200x150 4
mkimg src/d.webp 120x90
head -c 500 src/a.jpg >src/broken.jpg
echo text >src/notes.txt
mkimg 'src/sp ace.jpg' 100x100

run --json -w 64,128 -o out src
is "$rc" 1 "--json: exit 1 for the broken file" || show_run
M=out/imgbake-manifest.json
n=$(printf '%s\n' "$out" | grep -c .)
is "$n" 7 "--json: one line per source, then the summary"
perl -MJSON::PP -ne 'decode_json($_); END { exit 0 }' "$OUT" 2>/dev/null
ok $? "--json: every line is valid JSON"
is "$(last_line "$out" | perl -MJSON::PP -ne 'print join ",", sort keys %{decode_json($_)}')" \
	summary "--json: the last line is the summary"
# the lines, minus the summary, are the manifest's sources, record for record
lines=$(printf '%s\n' "$out" | sed '$d' | perl -MJSON::PP -ne '
	print JSON::PP->new->canonical->encode(decode_json($_)), "\n"')
recs=$(perl -MJSON::PP -e 'local $/; my $m = decode_json(<>);
	print JSON::PP->new->canonical->encode($_), "\n" for @{$m->{sources}}' "$M")
is "$lines" "$recs" "--json: the lines are the manifest's source records, in order"
summary=$(last_line "$out" | perl -MJSON::PP -ne '
	my $s = decode_json($_)->{summary}; delete $s->{memory};
	print JSON::PP->new->canonical->encode($s)')
msum=$(perl -MJSON::PP -e 'local $/; my $s = decode_json(<>)->{summary};
	delete $s->{memory}; print JSON::PP->new->canonical->encode($s)' "$M")
is "$summary" "$msum" "--json: the summary line matches the manifest's"
like "$err" "cannot convert 'src/broken.jpg'" "--json: errors stay on stderr"

# a source that fails now keeps the outputs an earlier run made of it:
# its line says so, as its manifest record does
run --json --force --max-file-size 1K -w 64,128 -o out src
lines=$(printf '%s\n' "$out" | sed '$d' | perl -MJSON::PP -ne '
	print JSON::PP->new->canonical->encode(decode_json($_)), "\n"')
recs=$(perl -MJSON::PP -e 'local $/; my $m = decode_json(<>);
	print JSON::PP->new->canonical->encode($_), "\n" for @{$m->{sources}}' "$M")
is "$lines" "$recs" "--json, failures that keep outputs: the lines are the manifest's records"
like "$(printf '%s\n' "$out" | grep '"src/a.jpg"')" '"outputs":\[' "... a.jpg's line lists its outputs"

# --json lines arrive while the run goes: each is flushed (a pipe, not a file)
"$IMGBAKE" --json -j1 -w 64 -o out2 src 2>/dev/null | head -n 1 >first.line
like "$(cat first.line)" '^\{"path":' "--json through a pipe: the first line arrives whole"

# --print0: the outputs written, NUL-terminated, usable by xargs -0
run -q --print0 -w 64,128 -o out3 src
is "$rc" 1 "--print0: exit 1 for the broken file"
got=$(tr '\0' '\n' <"$OUT" | sort)
want=$(cd out3 && find . -name '*.webp' | sed 's|^\./|out3/|' | sort)
is "$got" "$want" "--print0: exactly the outputs written"
is "$(tr -dc '\0' <"$OUT" | wc -c)" "$(printf '%s\n' "$want" | grep -c .)" \
	"--print0: one NUL per path"
xargs -0 vipsheader -f width <"$OUT" >widths 2>&1
ok $? "--print0 | xargs -0 vipsheader: every path opens"
is "$(sort -n widths | uniq | tr '\n' ' ')" "64 128 " "... at the widths asked for"
run -q --print0 -w 64,128 -o out3 src
is "$(tr '\0' '\n' <"$OUT")" "" "--print0 on a no-op run: nothing was written, nothing printed"

run --json --print0 -o out4 src
is "$rc" 2 "--json with --print0 is a usage error"
run -n --json -o out4 src
is "$rc" 2 "-n with --json is a usage error"

# -n --print0: the dry run's list, NUL-terminated, for names holding a
# newline
mkimg nl/"a
b.png" 40x30
mkimg nl/c.png 40x30
run -n --print0 -o out5 nl
is "$rc" 0 "-n --print0: exit 0" || show_run
is "$(tr '\0' '|' <"$OUT")" "out5/a
b.webp|out5/c.webp|" "-n --print0: each output ended by a NUL, a newline in a name kept"
[ ! -e out5 ]
ok $? "-n --print0: nothing written"

# --list-formats
run --list-formats
is "$rc" 0 "--list-formats: exit 0"
like "$out" '  JPEG +jpegload +yes' "--list-formats: JPEG and its loader"
like "$out" '  svgload +blocked' "--list-formats: SVG's loader is blocked"
like "$out" '  avif +libheif +yes' "--list-formats: AVIF output, by libheif's AV1 encoder"
like "$out" '  webp +libwebp +yes' "--list-formats: WebP output, by libwebp"
run --list-formats --allow-loader svgload
like "$out" '  svgload +allowed' "--list-formats: --allow-loader shows as allowed"

done_testing
