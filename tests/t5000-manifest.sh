#!/bin/sh
# The manifest: valid pretty JSON, keys in the documented order, sources
# sorted bytewise, summary counts that add up, records that match the files.
. "$(dirname "$0")/lib.sh"

M=out/imgbake-manifest.json
libvips=$(vips --version | sed 's/^vips-//')

mkimg src/B.jpg 120x80
mkimg src/a.jpg 100x60
mkimg src/a-b.png 90x90 4
mkimg src/a/b.webp 80x100
mkimg src/a/c/d.jpg 64x48
mkimg src/dup1.png 50x50
cp src/dup1.png src/dup2.png
echo 'text' >src/notes.txt

run -o out src
is "$rc" 0 "exit 0" || show_run
json_ok $M
ok $? "the manifest is valid JSON"

like "$(sed -n 2p $M)" '^  "imgbake": "0\.1\.0",$' "pretty-printed, indent 2, imgbake first"
is "$(sed -n 3p $M)" "  \"libvips\": \"$libvips\"," "then the libvips version"
is "$(sed -n 's/^  "\([a-z_]*\)":.*/\1/p' $M | tr '\n' ' ')" \
	"imgbake libvips cwd options summary sources stale " "top-level keys in order"

# Every object's keys must come in the contract's order (keys it does not
# list, such as "warning", are not checked).
order=$(perl -e '
	my %order = (
		top => [qw(imgbake libvips cwd options summary sources)],
		options => [qw(formats widths quality name keep_metadata background max_pixels)],
		quality => [qw(webp avif jpeg)],
		summary => [qw(sources converted skipped failed outputs bytes_in bytes_out)],
		sources => [qw(path type bytes width height hash status reason error outputs)],
		outputs => [qw(path format width height bytes)],
	);
	local $/;
	my $t = <STDIN>;
	my (@st, $key);
	while ($t =~ /\G\s*(?:("(?:[^"\\]|\\.)*")\s*(:?)|([{}\[\],])|([^\s{}\[\],"]+))/gcs) {
		if (defined $1 && $2) {
			$key = substr($1, 1, -1);
			push @{$st[-1]{keys}}, $key;
		} elsif (defined $3 && ($3 eq "{" || $3 eq "[")) {
			my $name = !@st ? "top" : $st[-1]{type} eq "[" ? $st[-1]{name} : $key;
			push @st, { type => $3, name => $name, keys => [] };
		} elsif (defined $3 && ($3 eq "}" || $3 eq "]")) {
			my $o = pop @st;
			my $want = $order{$o->{name}} or next;
			my %rank;
			@rank{@$want} = 0 .. $#$want;
			my @got = grep { exists $rank{$_} } @{$o->{keys}};
			my @sorted = sort { $rank{$a} <=> $rank{$b} } @got;
			print "$o->{name}: @{$o->{keys}}\n" if "@got" ne "@sorted";
		}
	}' <$M)
is "$order" "" "every object has its keys in the documented order"

is "$(json_get $M '$j->{imgbake}')" 0.1.0 "imgbake version"
is "$(json_get $M '$j->{libvips}')" "$libvips" "libvips version"
is "$(json_get $M '[map { $_->{path} } @{$j->{sources}}]')" "src/B.jpg
src/a-b.png
src/a.jpg
src/a/b.webp
src/a/c/d.jpg
src/dup1.png
src/dup2.png
src/notes.txt" "sources sorted by path, bytewise"

count() {
	json_get $M "scalar grep { \$_->{status} eq '$1' } @{\$j->{sources}}"
}
is "$(json_get $M '$j->{summary}{sources}')" 8 "summary: 8 sources"
is "$(json_get $M '$j->{summary}{sources}')" "$(json_get $M 'scalar @{$j->{sources}}')" \
	"summary: sources is the number of records"
is "$(json_get $M '$j->{summary}{converted}')" "$(count converted)" "summary: converted agrees"
is "$(json_get $M '$j->{summary}{skipped}')" "$(count skipped)" "summary: skipped agrees"
is "$(json_get $M '$j->{summary}{failed}')" "$(count failed)" "summary: failed agrees"
is "$(count converted) $(count skipped) $(count failed)" "7 1 0" "7 converted, 1 skipped"
is "$(json_get $M '$j->{summary}{outputs}')" "$(json_get $M 'my @o = outs(); scalar @o')" \
	"summary: outputs is the number of output records"
is "$(json_get $M '$j->{summary}{bytes_out}')" \
	"$(json_get $M 'my $n = 0; $n += $_->{bytes} for outs(); $n')" \
	"summary: bytes_out is the sum of the outputs"
in_conv=$(json_get $M 'my $n = 0; $n += $_->{bytes} for grep { $_->{status} eq "converted" } @{$j->{sources}}; $n')
in_all=$(json_get $M 'my $n = 0; $n += $_->{bytes} || 0 for @{$j->{sources}}; $n')
in=$(json_get $M '$j->{summary}{bytes_in}')
[ "$in" = "$in_conv" ] || [ "$in" = "$in_all" ]
ok $? "summary: bytes_in is the sum of the sources ($in; $in_conv converted, $in_all all)"

bad=
for p in $(json_get $M '[map { $_->{path} } outs()]'); do
	case $p in
	/* | out/* | ../* | */../*) bad="$bad $p(not relative)"; continue ;;
	esac
	[ -f "out/$p" ] || { bad="$bad $p(missing)"; continue; }
	want="$(wc -c <"out/$p" | tr -d ' ') $(size "out/$p")"
	got=$(json_get $M "my (\$o) = grep { \$_->{path} eq '$p' } outs(); \"\$o->{bytes} \$o->{width}x\$o->{height}\"")
	[ "$got" = "$want" ] || bad="$bad $p(record '$got', file '$want')"
done
is "$bad" "" "output paths are relative to DIR and match the files"
is "$(json_get $M 'src("src/a/b.webp")->{outputs}[0]{path}')" a/b.webp "a/b.webp recorded as such"
is "$(json_get $M 'src("src/a/b.webp")->{outputs}[0]{format}')" webp "its format"

bad=
for s in src/B.jpg src/a-b.png src/a.jpg src/a/b.webp src/a/c/d.jpg src/dup1.png; do
	want="$(file -b --mime-type "$s") $(wc -c <"$s" | tr -d ' ') $(size "$s")"
	got=$(json_get $M "my \$r = src('$s'); \"\$r->{type} \$r->{bytes} \$r->{width}x\$r->{height}\"")
	[ "$got" = "$want" ] || bad="$bad $s(record '$got', file '$want')"
done
is "$bad" "" "source records give type, bytes and size of the files"
like "$(json_get $M 'src("src/a.jpg")->{hash}')" '^xxh128:[0-9a-fA-F]{32}$' "hash is xxh128:32HEX"
is "$(json_get $M 'src("src/dup1.png")->{hash}')" "$(json_get $M 'src("src/dup2.png")->{hash}')" \
	"identical files, identical hashes"
isnt "$(json_get $M 'src("src/a.jpg")->{hash}')" "$(json_get $M 'src("src/B.jpg")->{hash}')" \
	"different files, different hashes"
is "$(json_get $M 'my $r = src("src/notes.txt"); join " ", $r->{status}, $r->{reason}, exists $r->{width} ? "width" : "-", exists $r->{height} ? "height" : "-"')" \
	"skipped not-an-image - -" "non-image: skipped, not-an-image, no width or height"
is "$(json_get $M 'scalar @{src("src/notes.txt")->{outputs} || []}')" 0 "non-image: no outputs"

# The options the contract lists (others may follow them).
options='my %o; my @k = qw(formats widths quality name keep_metadata background max_pixels); @o{@k} = @{$j->{options}}{@k}; \%o'
is "$(json_get $M "$options")" \
	'{"background":"#ffffff","formats":["webp"],"keep_metadata":false,"max_pixels":268435456,"name":"{dir}/{stem}.{ext}","quality":{"avif":50,"jpeg":80,"webp":80},"widths":[]}' \
	"default options recorded"

like "$(json_get $M '$j->{options}{memory}')" '^[1-9][0-9]*$' "the memory budget is recorded"

run -o out2 src
json_stable $M >m1.json
json_stable out2/imgbake-manifest.json >m2.json
cmp -s m1.json m2.json
ok $? "a second run writes the same manifest (memory figures aside)"
rm -f m1.json m2.json

run -f avif,png -w 64 -Q webp=70,jpeg=60 --keep-metadata --background '#000000' \
	--max-pixels 5000000 -M 300M -m custom.json -o out3 src/a.jpg
is "$rc" 0 "options run: exit 0" || show_run
[ -f custom.json ] && [ ! -e out3/imgbake-manifest.json ]
ok $? "-m FILE: the manifest goes there, not into DIR"
run -m manifests/of/a.json -o out3b src/a.jpg
is "$rc" 0 "-m into a directory that does not exist: exit 0" || show_run
json_ok manifests/of/a.json
ok $? "... the directory is made, the manifest written"
touch notadir
run -m notadir/a.json -o out3c src/a.jpg
is "$rc" 2 "-m under a file: exit 2" || show_run
run -m out3d/sub/ -o out3d src/a.jpg
is "$rc" 2 "-m naming a directory: exit 2" || show_run
like "$err" "'out3d/sub/' is a directory: a manifest needs a file name" "... and says -m wants a file"
[ ! -e out3d ]
ok $? "... leaving no directory behind"
[ ! -e out3c ]
ok $? "... and the output directory it made is gone"
is "$(json_get custom.json "$options")" \
	'{"background":"#000000","formats":["avif","png"],"keep_metadata":true,"max_pixels":5000000,"name":"{dir}/{stem}-{w}.{ext}","quality":{"avif":50,"jpeg":60,"webp":70},"widths":[64]}' \
	"options recorded as given"
is "$(json_get custom.json '$j->{options}{memory}')" 314572800 "-M 300M recorded in bytes"
is "$(json_get custom.json '[sort map { $_->{path} } outs()]')" "src/a-64.avif
src/a-64.png" "output paths relative to DIR, not to the manifest"

mkimg bad/good.jpg 60x40
head -c 300 bad/good.jpg >bad/broken.jpg
run -o out4 bad
is "$rc" 1 "a broken source: exit 1" || show_run
M=out4/imgbake-manifest.json
is "$(json_get $M 'src("bad/broken.jpg")->{status}')" failed "broken: status failed"
like "$(json_get $M 'src("bad/broken.jpg")->{reason}')" '^(corrupt|io)$' "broken: reason corrupt"
like "$(json_get $M 'src("bad/broken.jpg")->{error}')" '.' "broken: an error text"
is "$(json_get $M 'scalar @{src("bad/broken.jpg")->{outputs} || []}')" 0 "broken: no outputs"
is "$(json_get $M 'exists src("bad/good.jpg")->{reason} ? "reason" : "none"')" none \
	"a converted record has no reason"

# ---- -m, --report and --merge-manifests write only over their own files --------
# refused NAME FILE ARG...: imgbake ARG... exits 2 with a message naming
# FILE, which it leaves as it was
refused() {
	_name=$1 _file=$2
	shift 2
	cp "$_file" keep
	run "$@"
	is "$rc" 2 "$_name: refused, exit 2" || show_run
	like "$err" "'$_file'" "$_name: the message names it"
	cmp -s "$_file" keep
	ok $? "$_name: it is left as it was"
	rm keep
}

mkimg own/photo.jpg 60x40
mkimg own/b.png 40x30
printf '{\n  "name": "site",\n  "dependencies": {"imgbake": "1"}\n}\n' >own/package.json
refused "-m naming a photo" own/photo.jpg -m own/photo.jpg -o ownout own
refused "-m naming a package.json" own/package.json -m own/package.json -o ownout own
refused "--report naming a photo" own/photo.jpg --report own/photo.jpg -o ownout own
run -o ownout own
refused "--report naming the manifest" ownout/imgbake-manifest.json \
	--report ownout/imgbake-manifest.json -o ownout own
like "$err" "report and the manifest" "... which the message says"
run --report ownout/r.html -o ownout own
run --report ownout/r.html -o ownout own
is "$rc" 0 "--report over a report imgbake wrote: exit 0" || show_run
perl -MJSON::PP -i -0777 -pe '$_ = JSON::PP->new->canonical->pretty->encode(decode_json($_))' \
	ownout/imgbake-manifest.json
run -o ownout own
is "$rc" 0 "a manifest rewritten with its keys sorted is still one: exit 0" || show_run
is "$(json_get ownout/imgbake-manifest.json '$j->{summary}{up_to_date}')" 2 "... and read"

run --shard 0/2 -o sh own
run --shard 1/2 -o sh own
refused "--merge-manifests into one of its inputs" sh/imgbake-manifest.1-of-2.json \
	--merge-manifests sh/imgbake-manifest.1-of-2.json sh/imgbake-manifest.0-of-2.json \
	sh/imgbake-manifest.1-of-2.json
refused "--merge-manifests over a photo" own/photo.jpg \
	--merge-manifests own/photo.jpg sh/imgbake-manifest.0-of-2.json sh/imgbake-manifest.1-of-2.json
# a package.json cut short, naming imgbake, is still not a manifest
printf '{\n  "name": "site",\n  "devDependencies": {"imgbake": "1",}\n' >own/broken.json
refused "-m naming a broken package.json" own/broken.json -m own/broken.json -o ownout own
# a FIFO is not read (that would hang) nor replaced
mkfifo own/fifo
run -m own/fifo -o ownout own
is "$rc" 2 "-m naming a FIFO: refused, exit 2" || show_run
[ -p own/fifo ]
ok $? "... and it is still a FIFO"
run --merge-manifests own/fifo sh/imgbake-manifest.0-of-2.json sh/imgbake-manifest.1-of-2.json
is "$rc" 2 "--merge-manifests into a FIFO: refused, exit 2" || show_run
rm own/fifo
# the report named as the manifest under another spelling, or through a
# link that dangles until the manifest is written
run --report "$(pwd)/first/imgbake-manifest.json" -o first own/b.png
is "$rc" 2 "--report naming the manifest by its full path, first run: refused" || show_run
[ ! -e first ]
ok $? "... before anything is written"
ln -s later link
run --report link/imgbake-manifest.json -o later own/b.png
is "$rc" 2 "--report through a link to the manifest-to-be: exit 2" || show_run
json_ok later/imgbake-manifest.json
ok $? "... and the manifest is still the manifest"
# a manifest re-saved by an editor with a byte order mark: read as it
# is, its sources up to date
printf '\357\273\277' >bom.json
cat ownout/imgbake-manifest.json >>bom.json
mv bom.json ownout/imgbake-manifest.json
run -o ownout own
is "$rc" 0 "a manifest with a byte order mark: exit 0" || show_run
unlike "$err" "ignoring unreadable manifest" "... read without a warning"
like "$err" "^0 converted" "... and nothing converted again"
# a manifest whose size reached the disk before its data (a crash
# without --fsync): NUL bytes, read as damaged, not refused
head -c 3000 /dev/zero >ownout/imgbake-manifest.json
run -o ownout own
is "$rc" 0 "a manifest of NUL bytes: exit 0" || show_run
like "$err" "ignoring unreadable manifest.*NUL bytes" "... with a warning"
json_ok ownout/imgbake-manifest.json
ok $? "... and a manifest written over it"
# a file that starts with NUL bytes and goes on (a disk image) is no
# manifest imgbake wrote
{ head -c 4096 /dev/zero; echo precious; } >own/disk.img
refused "-m naming a file that starts with NUL bytes" own/disk.img -m own/disk.img -o ownout own
# nor is a fresh one of NUL bytes larger than any manifest
truncate -s 257M own/fresh.img
refused "-m naming 257 MB of NUL bytes" own/fresh.img -m own/fresh.img -o ownout own
rm own/fresh.img
# a manifest that cannot be read is not known to be ours
if as_unprivileged; then
	chmod 755 "$T"
	mkdir -p locked
	chmod 777 locked
	cp own/b.png locked/
	printf 'precious' >locked/keep.json
	chmod 000 locked/keep.json
	$AS_USER "$IMGBAKE" -m locked/keep.json -o locked/out locked/b.png 2>"$ERR"
	is "$?" 2 "-m naming a file nobody can read: refused, exit 2"
	like "$(cat "$ERR")" "cannot read 'locked/keep.json'" "... and the message says so"
	chmod 600 locked/keep.json
	is "$(cat locked/keep.json)" precious "... and the file is left as it was"
else
	skip "permission bits cannot be tested here"
fi

run --merge-manifests -n merged.json sh/imgbake-manifest.0-of-2.json sh/imgbake-manifest.1-of-2.json
is "$rc" 2 "--merge-manifests with -n: a usage error" || show_run
[ ! -e merged.json ]
ok $? "... and nothing is written"

# a source's outputs are listed in one order, converted or up to date
# (largest width first, formats as -f names them): a manifest kept in
# version control does not change for nothing
mkimg ord/a.png 640x480
run -f webp,png -w 320,640 -o oo ord
first=$(json_get oo/imgbake-manifest.json 'join " ", map { $_->{path} } @{$j->{sources}[0]{outputs}}')
run -f webp,png -w 320,640 -o oo ord
is "$(json_get oo/imgbake-manifest.json 'join " ", map { $_->{path} } @{$j->{sources}[0]{outputs}}')" \
	"$first" "an up-to-date source lists its outputs in the order it converted them"
is "$first" "a-640.webp a-640.png a-320.webp a-320.png" "... largest width first, formats as given"

done_testing
