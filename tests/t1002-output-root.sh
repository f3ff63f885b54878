#!/bin/sh
# The output root, the manifest and recorded outputs are never walked as
# sources, so running twice over the same tree is stable.
. "$(dirname "$0")/lib.sh"

mkimg site/a.jpg 80x60
mkimg site/sub/b.png 60x40

paths() {
	json_get "$1" '[map { $_->{path} } @{$j->{sources}}]'
}

run -o site/out site
is "$rc" 0 "output root inside the tree: first run" || show_run
first=$(files site/out)
is "$first" "a.webp
imgbake-manifest.json
sub/b.webp" "first run: outputs and manifest"
run -o site/out site
is "$rc" 0 "second run: exit 0" || show_run
is "$(files site/out)" "$first" "second run: site/out/* was not converted again"
is "$(paths site/out/imgbake-manifest.json)" "site/a.jpg
site/sub/b.png" "second run: only the real sources in the manifest"

mkimg pub/a.jpg 80x60
mkimg pub/sub/b.png 60x40
run -o pub pub
is "$rc" 0 "output root is the source tree: first run" || show_run
is "$(size pub/a.webp)" 80x60 "outputs written beside their sources"
is "$(size pub/sub/b.webp)" 60x40 "outputs written beside their sources, in sub"
run -o pub pub
is "$rc" 0 "second run: the recorded outputs are not sources" || show_run
is "$(paths pub/imgbake-manifest.json)" "pub/a.jpg
pub/sub/b.png" "second run: no output nor manifest walked"

mkimg docs/a.jpg 80x60
run -o o2 -m docs/list.json docs
is "$rc" 0 "manifest inside the tree: first run" || show_run
run -o o2 -m docs/list.json docs
is "$rc" 0 "manifest inside the tree: second run" || show_run
is "$(paths docs/list.json)" "docs/a.jpg" "the manifest itself is not walked"

done_testing
