#!/bin/sh
# --help and --version: stdout only, exit 0, no -o needed, nothing written.
. "$(dirname "$0")/lib.sh"

libvips=$(vips --version | sed 's/^vips-//')

run --help
is "$rc" 0 "--help exits 0"
is "$err" "" "--help writes nothing on stderr"
like "$out" '[Uu]sage:.*imgbake' "--help shows a usage line"
help=$out

for opt in --output --files-from --null --base --name --format --quality \
	--width --jobs --manifest --dry-run --verbose --quiet --keep-metadata \
	--background --max-pixels --help --version; do
	like "$help" "(^|[^-a-z])$opt([^-a-z]|\$)" "--help documents $opt"
done
for opt in -o -T -0 -f -Q -w -j -m -n -v -q -h -V; do
	like "$help" "(^|[^-a-zA-Z0-9])$opt([^-a-zA-Z0-9]|\$)" "--help documents $opt"
done

run -h
is "$rc" 0 "-h exits 0"
is "$out" "$help" "-h prints the same text as --help"

run --version
is "$rc" 0 "--version exits 0"
is "$out" "imgbake 0.1.0 (libvips $libvips)" "--version names imgbake and libvips"
is "$err" "" "--version writes nothing on stderr"

run -V
is "$rc" 0 "-V exits 0"
is "$out" "imgbake 0.1.0 (libvips $libvips)" "-V prints the version line"

is "$(files .)" "" "--help and --version create no file"

done_testing
