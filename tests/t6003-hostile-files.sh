#!/bin/sh
# Files that are not what they seem, among good images: a FIFO, links to
# /dev/zero, symbolic link loops, dangling links, links out of the tree, a
# directory named x.png, non-images with image extensions, a PDF and an
# SVG.  Nothing hangs, nothing is read through a link that should not be
# followed, the good images are converted.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/hostile/common.sh"

# expect MANIFEST DESCRIPTION: every line "PATH STATUS [REASON]" on stdin
# is what MANIFEST records for PATH (an alternative "STATUS REASON" may
# follow a '|').
expect() {
	while read -r _path _want; do
		_got=$(sr "$1" "$_path")
		case "|$_want|" in
		*"|$_got|"*) pass "$2: $_path: $_got" ;;
		*) fail "$2: $_path: $_want"; diag "     got: '$_got'" ;;
		esac
	done
}

mkimg tree/good.jpg 40x30
mkimg tree/sub/real.jpg 48x32
mkimg tree/x.png/inner.jpg 32x24
mkimg outside/secret.jpg 30x20
mkfifo tree/fifo.jpg
ln -s /dev/zero tree/zero.jpg
ln -s loop-b.jpg tree/loop-a.jpg
ln -s loop-a.jpg tree/loop-b.jpg
ln -s self.jpg tree/self.jpg
ln -s missing.jpg tree/dangling.jpg
ln -s ../outside/secret.jpg tree/escape.jpg
ln -s sub/real.jpg tree/inside.jpg
ln -s . tree/dirloop
ln -s .. tree/sub/up
echo 'not a picture at all' >tree/text.jpg
hostile random tree/random.png 4096 7
printf '<!DOCTYPE html>\n<html><body><img src="a.gif"></body></html>\n' >tree/page.gif

# ---- walked, links not followed ------------------------------------------------

run_within 60 -o o1 tree
is "$rc" 0 "walk without -L: exit 0" || show_run
expect o1/imgbake-manifest.json "walk" <<'EOF'
tree/good.jpg converted
tree/sub/real.jpg converted
tree/x.png/inner.jpg converted
tree/fifo.jpg skipped not-regular
tree/zero.jpg skipped symlink
tree/loop-a.jpg skipped symlink
tree/loop-b.jpg skipped symlink
tree/self.jpg skipped symlink
tree/dangling.jpg skipped symlink
tree/escape.jpg skipped symlink
tree/inside.jpg skipped symlink
tree/dirloop skipped symlink
tree/sub/up skipped symlink
tree/text.jpg skipped not-an-image
tree/random.png skipped not-an-image
tree/page.gif skipped not-an-image
EOF
is "$(files o1)" "good.webp
imgbake-manifest.json
sub/real.webp
x.png/inner.webp" "walk: the good images and the image in x.png/, nothing else"
is "$(size o1/x.png/inner.webp)" 32x24 "walk: the directory x.png is walked like any other"
is "$(temps o1)" "" "walk: no temporary file"

# ---- walked, links followed (-L) -----------------------------------------------

run_within 60 -L -o o2 tree
cmp_ok "$secs" -lt 60 "walk with -L: finishes, no endless loop"
is "$rc" 0 "walk with -L: exit 0" || show_run
expect o2/imgbake-manifest.json "-L" <<'EOF'
tree/good.jpg converted
tree/sub/real.jpg converted
tree/x.png/inner.jpg converted
tree/inside.jpg converted
tree/fifo.jpg skipped not-regular
tree/zero.jpg skipped symlink
tree/loop-a.jpg skipped symlink
tree/loop-b.jpg skipped symlink
tree/self.jpg skipped symlink
tree/dangling.jpg skipped symlink|failed io
tree/escape.jpg skipped symlink
tree/dirloop skipped symlink
tree/sub/up skipped symlink
tree/text.jpg skipped not-an-image
tree/random.png skipped not-an-image
tree/page.gif skipped not-an-image
EOF
is "$(files o2)" "good.webp
imgbake-manifest.json
inside.webp
sub/real.webp
x.png/inner.webp" "-L: the link inside the tree is converted, no loop is walked into"
is "$(size o2/inside.webp)" 48x32 "-L: inside.jpg converted from its target"
is "$(json_get o2/imgbake-manifest.json '$j->{summary}{sources}')" 16 \
	"-L: each entry recorded once, none through a loop"
is "$(temps o2)" "" "-L: no temporary file"

run_within 60 -L --allow-outside -o o3 tree
is "$rc" 0 "walk with -L --allow-outside: exit 0" || show_run
expect o3/imgbake-manifest.json "-L --allow-outside" <<'EOF'
tree/escape.jpg converted
tree/inside.jpg converted
tree/good.jpg converted
tree/zero.jpg skipped not-regular
tree/fifo.jpg skipped not-regular
tree/loop-a.jpg skipped symlink
tree/self.jpg skipped symlink
tree/dirloop skipped symlink
tree/sub/up skipped symlink
EOF
is "$(size o3/escape.webp)" 30x20 "-L --allow-outside: the link out of the tree is converted"
is "$(files o3)" "escape.webp
good.webp
imgbake-manifest.json
inside.webp
sub/real.webp
x.png/inner.webp" "-L --allow-outside: nothing else written"
is "$(temps o3)" "" "-L --allow-outside: no temporary file"

# ---- named -------------------------------------------------------------------

mkfifo fifo.jpg
ln -s /dev/zero zero.jpg
mkimg good.jpg 40x30
run_within 60 -o o4 fifo.jpg good.jpg
cmp_ok "$secs" -lt 60 "named FIFO: no hang"
is "$rc" 1 "named FIFO: exit 1" || show_run
is "$(sr o4/imgbake-manifest.json fifo.jpg)" "failed not-regular" "named FIFO: failed, not-regular"
like "$err" "^imgbake: cannot convert 'fifo\\.jpg': ." "named FIFO: reported"
is "$(files o4)" "good.webp
imgbake-manifest.json" "named FIFO: the good file beside it is converted"
is "$(temps o4)" "" "named FIFO: no temporary file"

# A named link to a device: whether it is refused as a link or followed
# to the device, nothing is read from it.  (Which of the two, for a named
# source, is not settled: the roots that -L keeps links inside are those
# of the walks, and a named file has none.)
run_within 60 -o o5 zero.jpg good.jpg
cmp_ok "$secs" -lt 60 "named link to /dev/zero: no hang"
is "$rc" 1 "named link to /dev/zero: exit 1" || show_run
expect o5/imgbake-manifest.json "named link to /dev/zero" <<'EOF'
zero.jpg failed symlink|failed not-regular
good.jpg converted
EOF
is "$(files o5)" "good.webp
imgbake-manifest.json" "named link to /dev/zero: no output for it"
run_within 60 -L -o o6 zero.jpg good.jpg
cmp_ok "$secs" -lt 60 "named link to /dev/zero, -L: no hang"
is "$rc" 1 "named link to /dev/zero, -L: exit 1" || show_run
expect o6/imgbake-manifest.json "named link to /dev/zero, -L" <<'EOF'
zero.jpg failed symlink|failed not-regular
good.jpg converted
EOF
run_within 60 -L --allow-outside -o o7 zero.jpg good.jpg
is "$rc" 1 "named link to /dev/zero, -L --allow-outside: exit 1" || show_run
expect o7/imgbake-manifest.json "named link to /dev/zero, -L --allow-outside" <<'EOF'
zero.jpg failed not-regular
good.jpg converted
EOF
is "$(files o7)" "good.webp
imgbake-manifest.json" "named link to /dev/zero, -L --allow-outside: no output for it"
is "$(temps o7)" "" "named links: no temporary file"

run -o o8 tree/text.jpg tree/random.png tree/page.gif good.jpg
is "$rc" 1 "named non-images: exit 1" || show_run
expect o8/imgbake-manifest.json "named" <<'EOF'
tree/text.jpg failed not-an-image
tree/random.png failed not-an-image
tree/page.gif failed not-an-image
good.jpg converted
EOF
is "$(files o8)" "good.webp
imgbake-manifest.json" "named non-images: no output for them"
is "$(temps o8)" "" "named non-images: no temporary file"

run -o o9 tree/x.png
is "$rc" 0 "a directory x.png named as a source: exit 0" || show_run
is "$(files o9)" "imgbake-manifest.json
inner.webp" "a directory x.png named as a source is walked"

# ---- documents -----------------------------------------------------------------

# PDF and SVG loaders run a whole document engine: PDF is not an image
# here, SVG is an image this build refuses unless --allow-loader svgload.
mkimg docs/good.jpg 40x30
hostile pdf docs/doc.pdf
hostile pdf docs/doc-pdf.jpg
hostile svg docs/pic.svg
hostile svg docs/logo.png
is "$(file -b --mime-type docs/doc.pdf) $(file -b --mime-type docs/pic.svg)" \
	"application/pdf image/svg+xml" "precondition: libmagic knows the PDF and the SVG"

run -o d1 docs
is "$rc" 0 "walked PDF and SVG: exit 0 (both skipped)" || show_run
expect d1/imgbake-manifest.json "walked documents" <<'EOF'
docs/doc.pdf skipped not-an-image
docs/doc-pdf.jpg skipped not-an-image
docs/pic.svg skipped unsupported
docs/logo.png skipped unsupported
docs/good.jpg converted
EOF
is "$(files d1)" "good.webp
imgbake-manifest.json" "walked documents: nothing converted but the image"

run -o d2 docs/doc.pdf docs/pic.svg docs/good.jpg
is "$rc" 1 "named PDF and SVG: exit 1" || show_run
expect d2/imgbake-manifest.json "named documents" <<'EOF'
docs/doc.pdf failed not-an-image
docs/pic.svg failed unsupported
docs/good.jpg converted
EOF
is "$(files d2)" "docs/good.webp
imgbake-manifest.json" "named documents: nothing converted but the image"
is "$(temps d2)" "" "named documents: no temporary file"

if vips -l 2>/dev/null | grep -q 'svgload_source'; then
	run --allow-loader svgload -o d3 docs
	is "$rc" 0 "--allow-loader svgload: exit 0" || show_run
	expect d3/imgbake-manifest.json "--allow-loader svgload" <<'EOF'
docs/pic.svg converted
docs/logo.png converted
docs/doc.pdf skipped not-an-image
docs/good.jpg converted
EOF
	is "$(size d3/pic.webp)" 64x48 "--allow-loader svgload: the SVG is rendered"
	is "$(files d3)" "good.webp
imgbake-manifest.json
logo.webp
pic.webp" "--allow-loader svgload: the PDF still is not converted"
	is "$(json_get d3/imgbake-manifest.json 'src("docs/logo.png")->{warnings}[0]')" \
		extension-mismatch "--allow-loader svgload: an SVG named .png warns of it"
	is "$(temps d3)" "" "--allow-loader svgload: no temporary file"
	# an SVG is drawn at the largest width wanted, not at the size it
	# declares and then shrunk (8000x6000 drawn whole: 340 MB of pixels)
	mkdir svgbig
	printf '%s\n' '<svg xmlns="http://www.w3.org/2000/svg" width="8000" height="6000" viewBox="0 0 80 60">' \
		'<rect width="80" height="60" fill="#369"/><circle cx="40" cy="30" r="20" fill="#fc0"/></svg>' \
		>svgbig/big.svg
	run -v -j1 --allow-loader svgload -w 480,960 -o d3b svgbig
	is "$rc" 0 "--allow-loader svgload, an SVG of 8000x6000 at -w 480,960: exit 0" || show_run
	is "$(size d3b/big-960.webp) $(size d3b/big-480.webp)" "960x720 480x360" "... both widths made"
	is "$(json_get d3b/imgbake-manifest.json 'src("svgbig/big.svg")->{width}')" 8000 \
		"... the source's width is the one it declares"
	peak=$(printf '%s\n' "$err" | sed -n 's/.*libvips tracked peak \([0-9]*\) MB.*/\1/p')
	cmp_ok "${peak:-999}" -lt 100 "... drawn at 960 wide: libvips' pixels peak under 100 MB"
	# nested references ("billion laughs"): librsvg stops at its own
	# limit, and so is it reported
	mkdir svglaugh
	perl -e 'print q{<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100"><defs><rect id="a0" width="1" height="1"/>};
		for my $i (1 .. 7) { print qq{<g id="a$i">}, qq{<use xlink:href="#a@{[$i - 1]}"/>} x 10, "</g>" }
		print q{</defs><use xlink:href="#a7"/></svg>}' >svglaugh/laughs.svg
	run --allow-loader svgload -o d3l svglaugh
	is "$(json_get d3l/imgbake-manifest.json 'src("svglaugh/laughs.svg")->{reason}')" limit \
		"... an SVG of 10^7 nested references fails as limit" || show_run
	# the pixel limit applies to the size drawn: 20000x20000 declared
	# is 381 MP, drawn at 480 a side 0.2 MP
	mkdir svgmp
	printf '%s\n' '<svg xmlns="http://www.w3.org/2000/svg" width="20000" height="20000" viewBox="0 0 20 20">' \
		'<rect width="20" height="20" fill="#369"/></svg>' >svgmp/mp.svg
	run --allow-loader svgload -w 480 -o d3m svgmp
	is "$rc $(size d3m/mp-480.webp)" "0 480x480" \
		"... an SVG declaring 381 MP, drawn at 480: under the pixel limit" || show_run
	run --allow-loader svgload -o d3m2 svgmp
	like "$err" "mp.svg': limit: 20000x20000 is 381.5 MP" "... drawn at its size: over it"
	run --allow-loader svgload -w 4000 --max-pixels 1M -o d3m3 svgmp
	like "$err" "mp.svg': limit: 20000x20000 drawn at 4000x4000 is 15.3 MP, over the 1.0 MP limit" \
		"... over it drawn smaller: the message gives the size drawn"
	# drawn at a scale that makes both sides whole pixels: a full-bleed
	# picture of 1001x777 keeps opaque edges
	mkdir svgodd
	printf '%s\n' '<svg xmlns="http://www.w3.org/2000/svg" width="1001" height="777">' \
		'<rect width="1001" height="777" fill="red"/></svg>' >svgodd/odd.svg
	run --allow-loader svgload -w 480 -f png,webp -o d3c svgodd
	is "$(pixel d3c/odd-480.png 0 100) $(pixel d3c/odd-480.png 240 0) $(pixel d3c/odd-480.png 479 372)" \
		"255 0 0 255 255 0 0 255 255 0 0 255" "... an opaque SVG drawn at scale keeps opaque edges"
	is "$(vipsheader -f bands d3c/odd-480.webp)" 3 "... and its WebP has no alpha"
	# a size libvips cannot hold: GObject refuses it, and the loader
	# would leave a 1x1 picture
	mkdir svghuge
	printf '%s\n' '<svg xmlns="http://www.w3.org/2000/svg" width="1e9" height="1e9">' \
		'<rect width="10" height="10" fill="red"/></svg>' >svghuge/huge.svg
	run --allow-loader svgload -w 480 -o d3d svghuge
	is "$rc" 1 "--allow-loader svgload, an SVG of 1e9 pixels a side: exit 1" || show_run
	is "$(printf '%s\n' "$err" | grep -v '^0 converted')" \
		"imgbake: cannot convert 'svghuge/huge.svg': limit: its header gives a width or height libvips cannot hold (1 to 10000000 pixels)" \
		"... one line says why, and no GLib warning"
	is "$(json_get d3d/imgbake-manifest.json 'src("svghuge/huge.svg")->{reason}')" limit \
		"... a limit in the manifest"
	is "$(files d3d | grep -v manifest)" "" "... and no 1x1 output"
	run -n --allow-loader svgload -w 480 -o d3d svghuge
	like "$err" "huge.svg': limit: its header gives" "... -n says so too"
	# a long, thin picture: drawn at 0.001, the least scale the loader
	# takes, not at the 0.0005 its sides' divisor gives
	mkdir svgthin
	printf '%s\n' '<svg xmlns="http://www.w3.org/2000/svg" width="64000" height="2000">' \
		'<rect width="64000" height="2000" fill="red"/></svg>' >svgthin/thin.svg
	run --allow-loader svgload -w 32 -o d3e svgthin
	is "$rc" 0 "--allow-loader svgload, 64000x2000 at -w 32: exit 0" || show_run
	unlike "$err" "GLib|WARNING|warning" "... and no warning"
	is "$(size d3e/thin-32.webp)" 32x1 "... drawn and shrunk"
	# a BMP beside them: no loader lets it in, and in a walk it is
	# skipped as it is without --allow-loader; named, it fails
	mkdir docs2 && cp docs/good.jpg docs2/good.jpg
	convert-im6.q16 -size 16x16 xc:red docs2/x.bmp 2>/dev/null
	if [ "$(file -b --mime-type docs2/x.bmp)" = image/bmp ]; then
		run --allow-loader svgload -o d4 docs2
		is "$rc" 0 "--allow-loader svgload, a walked BMP: exit 0" || show_run
		expect d4/imgbake-manifest.json "--allow-loader svgload, a walked BMP" <<'EOF'
docs2/x.bmp skipped unsupported
docs2/good.jpg converted
EOF
		run --allow-loader svgload -o d5 docs2/x.bmp
		is "$rc" 1 "--allow-loader svgload, a named BMP: exit 1" || show_run
		like "$err" "cannot convert 'docs2/x\\.bmp': decode: no libvips loader for image/bmp" \
			"... says why"
		# an identical copy of it is skipped as it is
		cp docs2/x.bmp docs2/y.bmp
		run -j1 --allow-loader svgload -o d6 docs2
		is "$rc" 0 "--allow-loader svgload, two identical walked BMPs: exit 0" || show_run
		expect d6/imgbake-manifest.json "--allow-loader svgload, two identical walked BMPs" <<'EOF'
docs2/x.bmp skipped unsupported
docs2/y.bmp skipped unsupported
docs2/good.jpg converted
EOF
		# ... and so is a walked copy of a named one, which fails
		run -j1 --allow-loader svgload -o d7 docs2/x.bmp docs2
		is "$rc" 1 "--allow-loader svgload, a named BMP and its walked copy: exit 1" || show_run
		expect d7/imgbake-manifest.json "--allow-loader svgload, a named BMP and its walked copy" <<'EOF'
docs2/x.bmp failed unsupported
docs2/y.bmp skipped unsupported
docs2/good.jpg converted
EOF
		# a walked BMP no loader takes leaves its name to the JPEG
		# beside it; an SVG, which one does, claims it as it starts:
		# one of the two fails, and nothing is written over
		mkdir docs3 && cp docs2/x.bmp docs3/b.bmp && cp docs/good.jpg docs3/b.jpg
		cp docs/pic.svg docs3/s.svg && cp docs/good.jpg docs3/s.jpg
		run --allow-loader svgload -o d8 docs3
		is "$(json_get d8/imgbake-manifest.json 'src("docs3/b.jpg")->{status}')" converted \
			"--allow-loader svgload: b.jpg beside a walked b.bmp is converted"
		is "$(json_get d8/imgbake-manifest.json 'src("docs3/b.bmp")->{status}')" skipped \
			"... and the BMP skipped"
		is "$(json_get d8/imgbake-manifest.json 'join " ", sort map { $_->{status} } grep { $_->{path} =~ m{/s[.]} } @{$j->{sources}}')" \
			"converted failed" "... s.svg and s.jpg: one converted, one failed"
		is "$rc" 1 "... exit 1" || show_run
		# an SVG that writes what an earlier run made of another
		# source takes it over, and says so, as any source does
		mkdir to-a to-b && cp docs/good.jpg to-a/s.jpg && cp docs/pic.svg to-b/s.svg
		run -o d9 to-a
		run --allow-loader svgload -o d9 to-b
		like "$err" "'to-b/s\\.svg' took over 's\\.webp', which an earlier run made of 'to-a/s\\.jpg'" \
			"--allow-loader svgload: an SVG taking an output over says so"
	else
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12; do skip "no BMP made here"; done
	fi
else
	skip "this libvips has no SVG loader"
fi

done_testing
