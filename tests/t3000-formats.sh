#!/bin/sh
# Every input format to every output format: the outputs decode, have the
# right size, bands and loader.
. "$(dirname "$0")/lib.sh"

have_saver avif || skip_all "this libvips cannot write AVIF"

mkimg in/j.jpg 120x80
mkimg in/p.png 120x80
mkimg in/w.webp 120x80
mkimg in/a.avif 120x80

# jpeg_out BASE: the JPEG output for BASE, whichever of .jpg/.jpeg it got.
jpeg_out() {
	for _f in "$1.jpg" "$1.jpeg"; do
		[ -e "$_f" ] && echo "$_f" && return
	done
	echo "$1.jpg"
}

run -f webp,avif,jpeg,png -o o in
is "$rc" 0 "four inputs to four formats: exit 0" || show_run
is "$(files o | wc -l | tr -d ' ')" 17 "16 outputs and a manifest"
for stem in j p w a; do
	is "$(info o/$stem.webp)" "120x80 uchar 3 srgb webpload" "$stem -> webp"
	is "$(info o/$stem.avif)" "120x80 uchar 3 srgb heifload" "$stem -> avif"
	is "$(info "$(jpeg_out o/$stem)")" "120x80 uchar 3 srgb jpegload" "$stem -> jpeg"
	is "$(info o/$stem.png)" "120x80 uchar 3 srgb pngload" "$stem -> png"
done
is "$(json_get o/imgbake-manifest.json '[sort map { $_->{format} } outs()]' | uniq -c | awk '{print $1, $2}')" \
	"4 avif
4 jpeg
4 png
4 webp" "the manifest gives each output's format"
is "$(json_get o/imgbake-manifest.json 'src("in/a.avif")->{type}')" image/avif \
	"AVIF input typed image/avif"

is "$(pixel o/p.png 7 5)" "$(pixel in/p.png 7 5)" "png to png keeps the pixels (1)"
is "$(pixel o/p.png 100 70)" "$(pixel in/p.png 100 70)" "png to png keeps the pixels (2)"

run -f jpg -o o2 in/p.png
is "$rc" 0 "-f jpg is accepted" || show_run
is "$(info "$(jpeg_out o2/in/p)")" "120x80 uchar 3 srgb jpegload" "-f jpg writes JPEG"

run -f png,webp -o o3 in/j.jpg
is "$(files o3)" "imgbake-manifest.json
in/j.png
in/j.webp" "-f png,webp: exactly those two"

# ---- AVIF through libheif itself --------------------------------------------
# imgbake sets what heifsave sets (quality, speed from the effort, 4:2:0
# below Q90, alpha), so a picture libaom does not take for screen content
# comes out byte for byte as heifsave writes it.
mkimg av/n3.png 96x64 3
mkimg av/n4.png 96x64 4
mkimg av/n1.png 96x64 1
for q in 50 92; do
	run -f avif -Q "avif=$q" -o "oav$q" av
	is "$rc" 0 "-Q avif=$q: exit 0" || show_run
	for b in 1 3 4; do
		vips copy "av/n$b.png" "ref$b.avif[Q=$q,compression=av1,effort=4,strip]"
		if cmp -s "oav$q/n$b.avif" "ref$b.avif"; then
			pass "Q$q, $b band(s): the bytes heifsave writes"
		else
			fail "Q$q, $b band(s): the bytes heifsave writes"
		fi
	done
done
is "$(info oav50/n4.avif)" "96x64 uchar 4 srgb heifload" "RGBA stays RGBA"
is "$(info oav50/n1.avif)" "96x64 uchar 3 srgb heifload" "grey becomes RGB, as heifsave makes it"

# One thing differs: libaom's intra block copy is off.  A repeating
# two-colour pattern is screen content to libaom, which would copy blocks.
mkdir -p ibc
vips xyz xyz.v 320 240 && vips extract_band xyz.v x.v 0 &&
	vips extract_band xyz.v y.v 1 && vips boolean_const x.v xa.v and 24 &&
	vips boolean_const y.v ya.v and 40 && vips boolean xa.v ya.v xor.v eor &&
	vips relational_const xor.v mask.v more 0 &&
	vips linear mask.v pat.v "0.5 0.2 0.9" "20 100 40" --uchar &&
	vips copy pat.v ibc/pat.png --interpretation srgb
vips copy ibc/pat.png "ref-pat.avif[Q=50,compression=av1,effort=4,strip]"
run -f avif -Q avif=50 -o oibc ibc
is "$rc" 0 "screen content: exit 0" || show_run
is "$(info oibc/pat.avif)" "320x240 uchar 3 srgb heifload" "screen content: a good AVIF"
if cmp -s oibc/pat.avif ref-pat.avif; then
	fail "screen content: not heifsave's bytes (intra block copy off)"
else
	pass "screen content: not heifsave's bytes (intra block copy off)"
fi
is "$(json_get oibc/imgbake-manifest.json 'my $v = $j->{options}{encoders}{avif}{intra_block_copy}; defined $v ? ($v ? "on" : "off") : "missing"')" off \
	"the manifest records intra block copy off"

# --keep-metadata takes the same path: with no metadata to keep, the
# same bytes
run -f avif -Q avif=50 --keep-metadata -o okeep ibc
is "$rc" 0 "--keep-metadata: exit 0" || show_run
is "$(info okeep/pat.avif)" "320x240 uchar 3 srgb heifload" "--keep-metadata: a good AVIF"
cmp -s okeep/pat.avif oibc/pat.avif
ok $? "--keep-metadata: the same bytes as without"
is "$(json_get okeep/imgbake-manifest.json 'my $v = $j->{options}{encoders}{avif}{intra_block_copy}; defined $v ? ($v ? "on" : "off") : "missing"')" off \
	"--keep-metadata: the manifest records intra block copy off"

# Extra bands (a TIFF's extra samples): the first four make RGBA, as
# libvips' savers take them; AVIF stays heifsave's bytes.
mkimg x5/base.v 200x120 3
vips bandjoin_const x5/base.v x5/five.tif "200 90"
rm -f x5/base.v
run -f avif,webp -Q avif=50 -o ox5 x5
is "$rc" 0 "five bands: exit 0" || show_run
is "$(info ox5/five.avif)" "200x120 uchar 4 srgb heifload" "five bands: RGBA AVIF"
is "$(info ox5/five.webp)" "200x120 uchar 4 srgb webpload" "five bands: RGBA WebP"
vips copy x5/five.tif "ref5.avif[Q=50,compression=av1,effort=4,strip]"
if cmp -s ox5/five.avif ref5.avif; then
	pass "five bands: the AVIF bytes heifsave writes"
else
	fail "five bands: the AVIF bytes heifsave writes"
fi

# float grey, as TIFF writers mean it (0 to 1) and as libvips writes it
# (0 to 255): a ramp of mean grey either way, never black or white
vips grey fl.v 64 48 && vips copy fl.v float-unit.tif
vips linear fl.v fl255.v 255 0 && vips copy fl255.v float-255.tif
vips bandjoin "fl.v fl.v" fla.v && vips copy fla.v float-unit-alpha.tif
is "$(info float-unit.tif) $(info float-255.tif)" \
	"64x48 float 1 b-w tiffload 64x48 float 1 b-w tiffload" "precondition: two float grey TIFFs"
run -f png,webp -w 32,64 -o ofl float-unit.tif float-255.tif float-unit-alpha.tif
is "$rc" 0 "float grey TIFFs: exit 0" || show_run
for f in float-unit-32.png float-unit-64.webp float-255-32.png float-255-64.webp float-unit-alpha-64.png; do
	m=$(vips avg "ofl/$f" 2>/dev/null)
	near "$m" 127.5 4
	ok $? "float grey: $f is a ramp of mean grey" || diag "mean $m"
done

# float RGB as libvips writes it (sRGB, 0 to 255), which it reads back
# as linear light from 0 to 1: the same picture, not white
mkimg rgb8.png 60x40
vips cast rgb8.png float-rgb.tif float
run -f png -o ofr float-rgb.tif
is "$rc" 0 "float RGB TIFF from 0 to 255: exit 0" || show_run
vips subtract ofr/float-rgb.png rgb8.png fr-d.v && vips abs fr-d.v fr-a.v
is "$(vips max fr-a.v 2>/dev/null)" 0.000000 "... the 8-bit picture it was made from"
# ... also a dark one, black but for one row at 20
vips black dk.v 60 40 --bands 3 && vips draw_rect dk.v 20 0 0 60 1 --fill &&
	vips cast dk.v dk8.v uchar && vips cast dk8.v dkf.v float && vips copy dkf.v float-dark.tif
run -f png -o ofd float-dark.tif
is "$(vips getpoint ofd/float-dark.png 5 0 2>/dev/null)" "20 20 20 " \
	"float RGB from 0 to 255, dark: its one row as it was" || show_run
# ... but linear light with alpha (libvips' goes to 255), or with a
# highlight over 1, stays linear light: mid grey, not black
vips black gb.v 60 40 --bands 3 && vips linear gb.v grey.v 1 128 && vips cast grey.v grey8.v uchar
vips colourspace grey8.v scrgb.tif scrgb
vips bandjoin_const grey8.v g8a.v 255 && vips colourspace g8a.v scrgba.tif scrgb
vips colourspace grey8.v lin.v scrgb && vips draw_rect lin.v 1.5 0 0 2 2 --fill &&
	vips copy lin.v hdr.tif
run -f png -o ofs scrgb.tif scrgba.tif hdr.tif
is "$rc" 0 "float RGB in linear light: exit 0" || show_run
for f in scrgb scrgba hdr; do
	m=$(vips extract_band "ofs/$f.png" fs-$f.v 0 --n 3 2>/dev/null && vips avg fs-$f.v 2>/dev/null)
	near "$m" 128 3
	ok $? "float RGB in linear light ($f): mid grey" || diag "mean $m"
done

# float RGBA with alpha from 0 to 1, as ImageMagick, GIMP and Krita
# write it: opaque on the left, half transparent on the right, not all
# but transparent; flattened for JPEG onto white
vips black ua.v 60 40 && vips draw_rect ua.v 255 0 0 30 40 --fill &&
	vips draw_rect ua.v 128 30 0 30 40 --fill && vips linear ua.v ua01.v 0.0039215686 0 &&
	vips colourspace grey8.v lin3.v scrgb && vips bandjoin "lin3.v ua01.v" lina.v &&
	vips copy lina.v unit-alpha.tif --interpretation scrgb
run -f png,jpeg -w 30,60 -o oua unit-alpha.tif
is "$rc" 0 "float RGBA, alpha from 0 to 1: exit 0" || show_run
is "$(vips getpoint oua/unit-alpha-60.png 10 10 2>/dev/null) | $(vips getpoint oua/unit-alpha-60.png 50 10 2>/dev/null)" \
	"128 128 128 255  | 128 128 128 128 " "float RGBA, alpha from 0 to 1: opaque and half transparent"
is "$(vips getpoint oua/unit-alpha-30.png 3 5 2>/dev/null) | $(vips getpoint oua/unit-alpha-30.png 27 5 2>/dev/null)" \
	"128 128 128 255  | 128 128 128 128 " "... at a smaller width too"
m=$(vips crop oua/unit-alpha-60.jpg uaj.v 40 5 15 30 2>/dev/null && vips avg uaj.v 2>/dev/null)
near "$m" 191 3
ok $? "... flattened onto white for JPEG, half and half" || diag "mean $m"

# 32-bit unsigned samples over the whole range (ImageMagick's -depth 32,
# a camera's), to 65535, or to 255 (as libvips writes them): a ramp each,
# not clipped to black and white; signed samples, which no two writers
# read alike, fail as unsupported
vips grey u8.v 256 8 --uchar && vips cast u8.v u8-in-32.tif uint
vips linear u8.v u16.v 257 0 && vips cast u16.v u16-in-32.tif uint
vips linear u8.v u32.v 16843009 0 && vips cast u32.v u32.tif uint
vips bandjoin "u32.v u32.v u32.v" u32rgb.v && vips cast u32rgb.v u32-rgb.tif uint
# RGBA whose alpha has a range of its own: full 32 bits beside colour to
# 255, and the other way round (each part read by its own range)
vips black zero.v 256 8 && vips linear zero.v full.v 1 4294967295 &&
	vips bandjoin "u8.v u8.v u8.v full.v" a32.v &&
	vips cast a32.v a32u.v uint && vips copy a32u.v alpha32.tif --interpretation srgb
vips linear zero.v a200.v 1 200 &&
	vips bandjoin "u32.v u32.v u32.v a200.v" c32.v &&
	vips cast c32.v c32u.v uint && vips copy c32u.v colour32.tif --interpretation srgb
vips linear u8.v s16.v 100 " -12800" && vips cast s16.v s16.tif short
vips cast u8.v s8.tif char
run -f png -w 128,256 -o ou u8-in-32.tif u16-in-32.tif u32.tif u32-rgb.tif s16.tif s8.tif
is "$rc" 1 "32-bit and signed TIFFs: exit 1, for the negative one" || show_run
is "$(pixel ou/s8-256.png 10 2)" 10 "signed samples none of which is negative: as they are" 
for f in u8-in-32-256:200 u16-in-32-256:200 u32-256:200 u32-rgb-256:200 u32-128:100; do
	x=${f#*:}
	f=${f%:*}
	got="$(pixel ou/$f.png 0 2 | cut -d' ' -f1) $(pixel ou/$f.png "$x" 2 | cut -d' ' -f1)"
	near "$got" "0 200" 2
	ok $? "32-bit unsigned samples ($f): the ramp they hold" || diag "got $got"
done
is "$(json_get ou/imgbake-manifest.json 'src("s16.tif")->{reason}')" unsupported \
	"negative samples: unsupported"
like "$err" "cannot convert 's16.tif': decode: negative samples" "... and says so"
run -f png -w 256 -o oa alpha32.tif colour32.tif
is "$rc" 0 "32-bit RGBA with alpha of its own range: exit 0" || show_run
near "$(pixel oa/alpha32-256.png 200 2)" "200 200 200 255" 2
ok $? "colour to 255 beside a full 32-bit alpha: the ramp, opaque" ||
	diag "got $(pixel oa/alpha32-256.png 200 2)"
near "$(pixel oa/colour32-256.png 200 2)" "200 200 200 200" 2
ok $? "full 32-bit colour beside an alpha to 255: the ramp, the alpha as it is" ||
	diag "got $(pixel oa/colour32-256.png 200 2)"
mkdir -p neg && cp s16.tif neg/
run -o oneg neg
is "$rc $(json_get oneg/imgbake-manifest.json 'src("neg/s16.tif")->{status}')" "0 skipped" \
	"negative samples met in a walk: skipped, as a type no loader reads"

# float grey from 0 to 1 with "no data" as +Inf (a depth map): a ramp,
# the infinite samples white, not a black picture
perl -e 'my ($w, $h) = (64, 48); print "Pf\n$w $h\n-1.0\n";
	for my $y (0 .. $h - 1) { for my $x (0 .. $w - 1) {
		print pack("f<", $y < 8 && $x < 8 ? 9**9**9 : $x / ($w - 1)) } }' >inf.pfm
vips copy inf.pfm float-inf.tif
run -f png -o ofi float-inf.tif
is "$rc" 0 "float grey with +Inf: exit 0" || show_run
is "$(vips getpoint ofi/float-inf.png 40 30 2>/dev/null | tr -d ' ')" 162 \
	"... a ramp from 0 to 1, read so"
like "$(vips getpoint ofi/float-inf.png 2 2 2>/dev/null) $(vips getpoint ofi/float-inf.png 2 45 2>/dev/null)" \
	'(^| )255( |$)' "... its infinite samples white"

# float grey a hair under whole levels (the nearest float to n / 255 is
# often under it) comes out at those levels: rounded, not truncated
vips grey g.v 255 4 --uchar && vips linear g.v g01.v 0.0039215686 0 &&
	vips copy g01.v float-under.tif
run -f png -o ofu float-under.tif
vips subtract ofu/float-under.png g.v fu-d.v && vips abs fu-d.v fu-a.v
is "$(vips max fu-a.v 2>/dev/null)" 0.000000 "float grey is rounded to 8 bits"

done_testing
