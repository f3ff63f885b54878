#!/bin/sh
# -Q: one quality for every lossy format or one per format; PNG is lossless.
. "$(dirname "$0")/lib.sh"

mkimg q.png 200x150

bytes() {
	wc -c <"$1" | tr -d ' '
}

run -Q 20 -f webp,jpeg,png -o lo q.png
is "$rc" 0 "-Q 20: exit 0" || show_run
run -Q 95 -f webp,jpeg,png -o hi q.png
is "$rc" 0 "-Q 95: exit 0" || show_run
cmp_ok "$(bytes lo/q.webp)" -lt "$(bytes hi/q.webp)" "webp: -Q 20 smaller than -Q 95"
cmp_ok "$(bytes "$(find lo -name 'q.jp*g')")" -lt "$(bytes "$(find hi -name 'q.jp*g')")" \
	"jpeg: -Q 20 smaller than -Q 95"
cmp -s lo/q.png hi/q.png
ok $? "png does not depend on -Q"
is "$(json_get lo/imgbake-manifest.json '$j->{options}{quality}')" \
	'{"avif":20,"jpeg":20,"webp":20}' "manifest: -Q 20 for every lossy format"

run -Q webp=20 -f webp,jpeg -o mixed q.png
is "$rc" 0 "-Q webp=20: exit 0" || show_run
cmp_ok "$(bytes mixed/q.webp)" -lt "$(bytes hi/q.webp)" "-Q webp=20 sets webp"
run -f jpeg -o dflt q.png
cmp -s "$(find mixed -name 'q.jp*g')" "$(find dflt -name 'q.jp*g')"
ok $? "-Q webp=20 leaves jpeg at its default"
is "$(json_get mixed/imgbake-manifest.json '$j->{options}{quality}')" \
	'{"avif":50,"jpeg":80,"webp":20}' "manifest: only webp changed"

run -Q webp=95,jpeg=20 -f webp,jpeg -o pair q.png
is "$rc" 0 "-Q webp=95,jpeg=20: exit 0" || show_run
cmp -s pair/q.webp hi/q.webp
ok $? "-Q webp=95,jpeg=20: webp at 95"
cmp -s "$(find pair -name 'q.jp*g')" "$(find lo -name 'q.jp*g')"
ok $? "-Q webp=95,jpeg=20: jpeg at 20"

if have_saver avif; then
	run -Q avif=10 -f avif -o alo q.png
	run -Q avif=90 -f avif -o ahi q.png
	cmp_ok "$(bytes alo/q.avif)" -lt "$(bytes ahi/q.avif)" \
		"avif: -Q avif=10 smaller than avif=90"
fi

done_testing
