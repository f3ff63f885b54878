#!/bin/sh
# Regenerate samples/: small synthetic test images for imgbake, made with
# the vips command-line tool only.  Every generator is seeded, so a rerun
# with the same libvips gives the same bytes.
#
#   scripts/mksamples.sh            rewrite samples/ at the repository top
#   scripts/mksamples.sh DIR        write the sample tree to DIR instead
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$top/samples}

command -v vips >/dev/null || { echo "mksamples.sh: vips not found" >&2; exit 1; }
vips_version=$(vips --version)
vips_version=${vips_version#vips-}
vips_version=${vips_version%%-*}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgbake-samples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
out=$tmp/out

# vips linear, with "--" so that negative constants are not read as options.
lin() {
	vips linear -- "$@"
}

# Distance image from the point ($4, $5) for a $2 x $3 canvas, written to $1.
# Leaves $tmp/x.v, $tmp/y.v (coordinate planes) and $tmp/dx.v, $tmp/dy.v.
radial() {
	vips xyz "$tmp/xy.v" "$2" "$3"
	vips extract_band "$tmp/xy.v" "$tmp/x.v" 0
	vips extract_band "$tmp/xy.v" "$tmp/y.v" 1
	lin "$tmp/x.v" "$tmp/dx.v" 1 "-$4"
	lin "$tmp/y.v" "$tmp/dy.v" 1 "-$5"
	vips multiply "$tmp/dx.v" "$tmp/dx.v" "$tmp/dx2.v"
	vips multiply "$tmp/dy.v" "$tmp/dy.v" "$tmp/dy2.v"
	vips add "$tmp/dx2.v" "$tmp/dy2.v" "$tmp/d2.v"
	vips math2_const "$tmp/d2.v" "$1" pow 0.5
}

# Vertical ramp from colour $3 (at y = 0) to colour $4 (at y = $5) over the
# coordinate plane $2, written to $1 as a float RGB image; colours are
# "r g b" strings of integers.  Shell arithmetic is integral, so the slope
# is computed in thousandths and scaled back.
ramp() {
	# shellcheck disable=SC2086
	set -- "$1" "$2" $3 $4 "$5"
	lin "$2" "$tmp/ramp.v" \
		"$(( ($6 - $3) * 1000 / $9 )) $(( ($7 - $4) * 1000 / $9 )) $(( ($8 - $5) * 1000 / $9 ))" \
		"$(( $3 * 1000 )) $(( $4 * 1000 )) $(( $5 * 1000 ))"
	lin "$tmp/ramp.v" "$1" 0.001 0
}

# Render a landscape (sky, sun glow, clouds, rolling hills, grain) as an
# 8-bit sRGB .v file.
#   landscape OUT W H SEED SKY_TOP SKY_HORIZON LAND_FAR LAND_NEAR SUN_X SUN_Y SUN_RGB
landscape() {
	ls_out=$1 w=$2 h=$3 seed=$4
	horizon=$(( h * 58 / 100 ))

	radial "$tmp/sun.v" "$w" "$h" "$9" "${10}"

	# Sky: vertical ramp, a sun glow, then clouds blended over it.
	ramp "$tmp/sky0.v" "$tmp/y.v" "$5" "$6" "$horizon"
	lin "$tmp/sun.v" "$tmp/g0.v" -0.0065 0
	vips math "$tmp/g0.v" "$tmp/g1.v" exp
	lin "$tmp/g1.v" "$tmp/glow.v" "${11}" "0 0 0"
	vips add "$tmp/sky0.v" "$tmp/glow.v" "$tmp/sky1.v"
	vips perlin "$tmp/c0.v" "$w" "$h" --cell-size 260 --seed $(( seed + 1 ))
	vips perlin "$tmp/c1.v" "$w" "$h" --cell-size 70 --seed $(( seed + 2 ))
	lin "$tmp/c1.v" "$tmp/c1s.v" 0.45 0
	vips add "$tmp/c0.v" "$tmp/c1s.v" "$tmp/c.v"
	lin "$tmp/c.v" "$tmp/cm.v" 380 -90
	vips cast "$tmp/cm.v" "$tmp/cloud.v" uchar
	vips black "$tmp/k.v" "$w" "$h" --bands 3
	lin "$tmp/k.v" "$tmp/white.v" 1 "244 243 247"
	vips ifthenelse "$tmp/cloud.v" "$tmp/white.v" "$tmp/sky1.v" "$tmp/sky.v" --blend

	# Horizon line: two octaves of 1-D Perlin noise stretched down the image.
	vips perlin "$tmp/r0.v" "$w" 1 --cell-size 420 --seed $(( seed + 3 ))
	vips perlin "$tmp/r1.v" "$w" 1 --cell-size 90 --seed $(( seed + 4 ))
	lin "$tmp/r1.v" "$tmp/r1s.v" 0.25 0
	vips add "$tmp/r0.v" "$tmp/r1s.v" "$tmp/r.v"
	vips zoom "$tmp/r.v" "$tmp/rz.v" 1 "$h"
	lin "$tmp/rz.v" "$tmp/hz.v" $(( h / 7 )) "$horizon"
	vips subtract "$tmp/y.v" "$tmp/hz.v" "$tmp/above.v"
	lin "$tmp/above.v" "$tmp/la.v" 120 0
	vips cast "$tmp/la.v" "$tmp/land.v" uchar

	# Ground: hazy far away, saturated near, with fields and fine texture.
	ramp "$tmp/g.v" "$tmp/y.v" "$7" "$8" "$h"
	vips perlin "$tmp/t0.v" "$w" "$h" --cell-size 160 --seed $(( seed + 5 ))
	vips perlin "$tmp/t1.v" "$w" "$h" --cell-size 28 --seed $(( seed + 6 ))
	vips perlin "$tmp/t2.v" "$w" "$h" --cell-size 6 --seed $(( seed + 7 ))
	lin "$tmp/t0.v" "$tmp/t0c.v" "34 22 -6" "0 0 0"
	lin "$tmp/t1.v" "$tmp/t1c.v" "22 26 10" "0 0 0"
	lin "$tmp/t2.v" "$tmp/t2c.v" "14 16 8" "0 0 0"
	vips add "$tmp/g.v" "$tmp/t0c.v" "$tmp/ga.v"
	vips add "$tmp/ga.v" "$tmp/t1c.v" "$tmp/gb.v"
	vips add "$tmp/gb.v" "$tmp/t2c.v" "$tmp/ground.v"

	vips ifthenelse "$tmp/land.v" "$tmp/ground.v" "$tmp/sky.v" "$tmp/scene.v" --blend
	vips gaussblur "$tmp/scene.v" "$tmp/soft.v" 0.7
	vips gaussnoise "$tmp/n.v" "$w" "$h" --sigma 2.2 --mean 0 --seed $(( seed + 8 ))
	vips add "$tmp/soft.v" "$tmp/n.v" "$tmp/grain.v"
	vips cast "$tmp/grain.v" "$tmp/u8.v" uchar
	vips copy "$tmp/u8.v" "$ls_out" --interpretation srgb
}

# A close-up flower on a blurred bokeh background, as an 8-bit sRGB .v file.
#   flower OUT W H SEED
flower() {
	w=$2 h=$3 seed=$4 cx=$(( $2 / 2 )) cy=$(( $3 * 45 / 100 ))

	# Background: blurred Worley cells, warm green, with soft light discs.
	vips worley "$tmp/wo.v" "$w" "$h" --cell-size 170 --seed "$seed"
	vips gaussblur "$tmp/wo.v" "$tmp/wob.v" 30
	lin "$tmp/wob.v" "$tmp/bg0.v" "0.55 0.75 0.3" "28 60 22"
	vips worley "$tmp/wl.v" "$w" "$h" --cell-size 240 --seed $(( seed + 4 ))
	lin "$tmp/wl.v" "$tmp/sp0.v" -14 420
	vips cast "$tmp/sp0.v" "$tmp/sp1.v" uchar
	vips gaussblur "$tmp/sp1.v" "$tmp/sp2.v" 6
	lin "$tmp/sp2.v" "$tmp/spots.v" "0.35 0.4 0.2" "0 0 0"
	vips add "$tmp/bg0.v" "$tmp/spots.v" "$tmp/bg.v"

	# Petals: r < R(theta), six lobes, veins along theta, darker at the base.
	radial "$tmp/r.v" "$w" "$h" "$cx" "$cy"
	vips math2 "$tmp/dy.v" "$tmp/dx.v" "$tmp/th.v" atan2
	lin "$tmp/th.v" "$tmp/th6.v" 6 0
	vips math "$tmp/th6.v" "$tmp/c6.v" cos
	lin "$tmp/c6.v" "$tmp/R.v" $(( w * 7 / 100 )) $(( w * 27 / 100 ))
	vips subtract "$tmp/R.v" "$tmp/r.v" "$tmp/in.v"
	lin "$tmp/in.v" "$tmp/pm.v" 90 0
	vips cast "$tmp/pm.v" "$tmp/petal_mask.v" uchar
	lin "$tmp/r.v" "$tmp/p0.v" "0.25 0.1 0.2" "150 36 104"
	lin "$tmp/th.v" "$tmp/th60.v" 60 0
	vips math "$tmp/th60.v" "$tmp/vein.v" cos
	lin "$tmp/vein.v" "$tmp/veinc.v" "10 7 9" "0 0 0"
	vips perlin "$tmp/pt.v" "$w" "$h" --cell-size 18 --seed $(( seed + 1 ))
	lin "$tmp/pt.v" "$tmp/ptc.v" "16 8 12" "0 0 0"
	vips add "$tmp/p0.v" "$tmp/veinc.v" "$tmp/p1.v"
	vips add "$tmp/p1.v" "$tmp/ptc.v" "$tmp/petals.v"

	# Centre: a seeded disc of yellow-orange dots.
	lin "$tmp/r.v" "$tmp/cm0.v" -60 $(( w * 6 * 60 / 100 ))
	vips cast "$tmp/cm0.v" "$tmp/centre_mask.v" uchar
	vips worley "$tmp/cw.v" "$w" "$h" --cell-size 7 --seed $(( seed + 2 ))
	lin "$tmp/cw.v" "$tmp/centre.v" "-9 -11 -3" "236 178 40"

	vips ifthenelse "$tmp/petal_mask.v" "$tmp/petals.v" "$tmp/bg.v" "$tmp/f0.v" --blend
	vips ifthenelse "$tmp/centre_mask.v" "$tmp/centre.v" "$tmp/f0.v" "$tmp/f1.v" --blend
	vips gaussblur "$tmp/f1.v" "$tmp/f2.v" 0.8
	vips gaussnoise "$tmp/n.v" "$w" "$h" --sigma 2 --mean 0 --seed $(( seed + 3 ))
	vips add "$tmp/f2.v" "$tmp/n.v" "$tmp/f3.v"
	vips cast "$tmp/f3.v" "$tmp/f4.v" uchar
	vips copy "$tmp/f4.v" "$1" --interpretation srgb
}

# Rewrite the metadata of the uncompressed .v file $1 (8-bit, $2 bands) so
# that it carries EXIF orientation $3; vips' savers write that field as the
# EXIF Orientation tag.  A .v file is a 64-byte header, the pixels, then XML.
set_orientation() {
	w=$(vipsheader -f width "$1")
	h=$(vipsheader -f height "$1")
	head -c $(( 64 + w * h * $2 )) "$1" >"$tmp/orient.v"
	printf '%s\n' \
		'<?xml version="1.0"?>' \
		"<root xmlns=\"http://www.vips.ecs.soton.ac.uk/vips/$vips_version\">" \
		'  <header>' \
		'  </header>' \
		'  <meta>' \
		"    <field type=\"gint\" name=\"orientation\">$3</field>" \
		'  </meta>' \
		'</root>' >>"$tmp/orient.v"
	mv "$tmp/orient.v" "$1"
}

jpeg='[Q=84,optimize_coding,strip]'

mkdir -p "$out/photos/travel/2024" "$out/graphics" "$out/extras"

# photos/meadow.jpg: landscape, daylight.
landscape "$tmp/meadow.v" 1600 1066 100 \
	"38 92 176" "186 206 228" "128 150 118" "46 98 30" 1180 300 "230 205 150"
vips copy "$tmp/meadow.v" "$out/photos/meadow.jpg$jpeg"

# photos/bloom.jpg: portrait close-up.
flower "$tmp/bloom.v" 1200 1600 200
vips copy "$tmp/bloom.v" "$out/photos/bloom.jpg$jpeg"

# photos/travel/2024/hills-dusk.jpg: nested folder, evening palette.
landscape "$tmp/dusk.v" 1400 933 300 \
	"40 40 92" "236 150 96" "96 82 104" "34 40 30" 380 520 "250 170 80"
vips copy "$tmp/dusk.v" "$out/photos/travel/2024/hills-dusk.jpg$jpeg"

# photos/portrait-exif6.jpg: a portrait scene stored rotated 90 degrees
# anticlockwise (1200x900 pixels) with EXIF orientation 6, so that viewers
# which honour EXIF show it upright at 900x1200.
landscape "$tmp/tall.v" 900 1200 400 \
	"60 110 190" "200 216 232" "120 140 110" "60 90 36" 640 260 "220 210 170"
vips rot "$tmp/tall.v" "$tmp/stored.v" d270
set_orientation "$tmp/stored.v" 3 6
vips copy "$tmp/stored.v" "$out/photos/portrait-exif6.jpg[Q=84,optimize_coding]"

# photos/grey-meadow.jpg: one-band greyscale JPEG.
vips colourspace "$tmp/meadow.v" "$tmp/grey.v" b-w
vips resize "$tmp/grey.v" "$tmp/grey_small.v" 0.625
vips copy "$tmp/grey_small.v" "$out/photos/grey-meadow.jpg$jpeg"

# graphics/badge-alpha.png: RGBA colour wheel ring on a transparent canvas.
s=512 c=256
radial "$tmp/br.v" $s $s $c $c
vips math2 "$tmp/dy.v" "$tmp/dx.v" "$tmp/bth.v" atan2
vips math "$tmp/bth.v" "$tmp/bc0.v" cos
lin "$tmp/bth.v" "$tmp/bt1.v" 1 -120
vips math "$tmp/bt1.v" "$tmp/bc1.v" cos
lin "$tmp/bth.v" "$tmp/bt2.v" 1 120
vips math "$tmp/bt2.v" "$tmp/bc2.v" cos
vips bandjoin "$tmp/bc0.v $tmp/bc1.v $tmp/bc2.v" "$tmp/bwheel.v"
lin "$tmp/bwheel.v" "$tmp/brgb.v" 100 140
lin "$tmp/br.v" "$tmp/bo.v" -16 $(( 230 * 16 ))
lin "$tmp/br.v" "$tmp/bi.v" 16 $(( -96 * 16 ))
vips cast "$tmp/bo.v" "$tmp/bou.v" uchar
vips cast "$tmp/bi.v" "$tmp/biu.v" uchar
vips boolean "$tmp/bou.v" "$tmp/biu.v" "$tmp/ring.v" and
vips gaussblur "$tmp/ring.v" "$tmp/ringb.v" 1.2
lin "$tmp/br.v" "$tmp/shadow.v" -1.2 300
vips cast "$tmp/shadow.v" "$tmp/shadowu.v" uchar
lin "$tmp/shadowu.v" "$tmp/shadowa.v" 0.25 0
vips ifthenelse "$tmp/ringb.v" "$tmp/ringb.v" "$tmp/shadowa.v" "$tmp/alpha.v" --blend
vips bandjoin "$tmp/brgb.v $tmp/alpha.v" "$tmp/rgba.v"
vips cast "$tmp/rgba.v" "$tmp/rgbau.v" uchar
vips copy "$tmp/rgbau.v" "$tmp/rgbas.v" --interpretation srgb
vips copy "$tmp/rgbas.v" "$out/graphics/badge-alpha.png[compression=9,filter=all,strip]"

# extras/cmyk.jpg: small CMYK JPEG without an embedded profile.
vips resize "$tmp/meadow.v" "$tmp/cm_small.v" 0.25
vips colourspace "$tmp/cm_small.v" "$tmp/cmyk.v" cmyk
vips copy "$tmp/cmyk.v" "$out/extras/cmyk.jpg[Q=80,strip]"

# extras/ramp-16bit.png: smooth 16-bit RGB gradient.
vips xyz "$tmp/rxy.v" 256 192
vips extract_band "$tmp/rxy.v" "$tmp/rx.v" 0
vips extract_band "$tmp/rxy.v" "$tmp/ry.v" 1
lin "$tmp/rx.v" "$tmp/r16.v" 257 0
lin "$tmp/ry.v" "$tmp/g16.v" 341 0
vips add "$tmp/rx.v" "$tmp/ry.v" "$tmp/rs.v"
lin "$tmp/rs.v" "$tmp/b16.v" -146 65535
vips bandjoin "$tmp/r16.v $tmp/g16.v $tmp/b16.v" "$tmp/rgb16.v"
vips cast "$tmp/rgb16.v" "$tmp/rgb16u.v" ushort
vips copy "$tmp/rgb16u.v" "$tmp/rgb16i.v" --interpretation rgb16
vips copy "$tmp/rgb16i.v" "$out/extras/ramp-16bit.png[compression=9,filter=all,strip]"

printf '%s\n' 'imgbake sample images, made by scripts/mksamples.sh: synthetic photos (one nested, one EXIF-rotated, one greyscale), an RGBA PNG, a CMYK JPEG and a 16-bit PNG.' \
	>"$out/README.txt"

# Check that the special cases really are special (\$3 is a case pattern).
check() {
	got=$(vipsheader -f "$2" "$out/$1")
	# shellcheck disable=SC2254
	case $got in
	$3) ;;
	*)	echo "mksamples.sh: $1: $2 is '$got', expected '$3'" >&2
		exit 1 ;;
	esac
}
check photos/portrait-exif6.jpg orientation 6
check photos/portrait-exif6.jpg width 1200
check photos/grey-meadow.jpg bands 1
check graphics/badge-alpha.png bands 4
check extras/cmyk.jpg interpretation '*CMYK*'
check extras/ramp-16bit.png format '*USHORT*'

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -R "$out" "$dest"
du -sh "$dest"
