#!/usr/bin/perl
# mkhostile.pl: the hostile inputs of the t6*-hostile-*.sh tests, made
# byte for byte the same on every machine.  Core perl modules only.
#
#	perl mkhostile.pl COMMAND ARG...
#
#	trunc IN OUT N          the first N bytes of IN; a negative N drops the
#	                        last -N bytes, N ending in % keeps that share
#	flip IN OUT SEED N      IN with N bits flipped at places drawn from a
#	                        xorshift32 generator seeded with SEED; the first
#	                        16 bytes (the signatures libmagic reads) are left
#	png-bomb OUT W H        a PNG whose IHDR (with a correct CRC) claims WxH
#	                        grey pixels, followed by a few bytes of IDAT
#	png-solid OUT W H       a real, complete WxH black grey PNG (deflate 9)
#	jpeg-bomb OUT W H       a baseline JPEG whose SOF claims WxH, with
#	                        tables and a few hundred bytes of scan data
#	webp-bomb OUT W H       a VP8L (lossless) WebP whose header claims WxH;
#	                        its bitstream is a real, valid one-colour image
#	                        at 0 bits per pixel
#	gif-bomb OUT W H        a GIF89a whose screen and frame claim WxH
#	tiff-bomb OUT W H       a little-endian TIFF whose IFD claims WxH
#	gif-anim OUT W H N      a valid GIF89a of N frames of WxH pixels
#	pdf OUT                 a small valid one-page PDF
#	svg OUT                 a small valid SVG of 64x48
#	random OUT N SEED       N bytes from the xorshift32 generator
#	names DIR SRC           copy SRC into DIR under each hostile name
#	                        (the extension of SRC is kept) and print the
#	                        names, NUL-terminated, on stdout
#
# Every command exits 0 on success and dies with a message otherwise.

use strict;
use warnings;
use Compress::Zlib;	# crc32, compress, deflateInit, Z_* constants

sub slurp {
	my ($path) = @_;
	open my $fh, '<:raw', $path or die "mkhostile: $path: $!\n";
	local $/;
	my $data = <$fh>;
	close $fh;
	return $data;
}

sub spew {
	my ($path, $data) = @_;
	open my $fh, '>:raw', $path or die "mkhostile: $path: $!\n";
	print {$fh} $data or die "mkhostile: $path: $!\n";
	close $fh or die "mkhostile: $path: $!\n";
}

sub number {
	my ($what, $v) = @_;
	die "mkhostile: $what: not a number: '$v'\n"
		unless defined $v && $v =~ /^-?\d+$/;
	return $v;
}

# xorshift32 (Marsaglia): the same sequence on every perl, unlike rand().
sub rng {
	my ($seed) = @_;
	my $x = ($seed & 0xffffffff) || 0x9e3779b9;
	return sub {
		$x ^= ($x << 13) & 0xffffffff;
		$x ^= $x >> 17;
		$x ^= ($x << 5) & 0xffffffff;
		return $x;
	};
}

# ---- PNG ---------------------------------------------------------------------

sub png_chunk {
	my ($type, $data) = @_;
	return pack('N', length $data) . $type . $data . pack('N', crc32($type . $data));
}

sub png_ihdr {
	my ($w, $h) = @_;
	# 8-bit greyscale, deflate, adaptive filtering, not interlaced
	return png_chunk('IHDR', pack('NNCCCCC', $w, $h, 8, 0, 0, 0, 0));
}

my $png_sig = "\x89PNG\r\n\x1a\n";

sub png_bomb {
	my ($out, $w, $h) = @_;
	# One complete zlib stream of two all-zero rows' worth of bytes: the
	# file is well formed up to where a decoder would ask for more rows.
	my $idat = compress("\0" x 64, 9);
	spew($out, $png_sig . png_ihdr($w, $h) . png_chunk('IDAT', $idat) .
	     png_chunk('IEND', ''));
}

sub png_solid {
	my ($out, $w, $h) = @_;
	my ($d, $status) = deflateInit(-Level => Z_BEST_COMPRESSION());
	die "mkhostile: deflateInit: $status\n" unless $d;
	open my $fh, '>:raw', $out or die "mkhostile: $out: $!\n";
	print {$fh} $png_sig . png_ihdr($w, $h);
	my $row = "\0" x ($w + 1);	# filter byte 0, then black pixels
	my $z = '';
	my $flush = sub {
		my ($final) = @_;
		while (length $z >= 65536 || ($final && length $z)) {
			my $part = substr($z, 0, 65536, '');
			print {$fh} png_chunk('IDAT', $part);
		}
	};
	for (1 .. $h) {
		my ($piece, $st) = $d->deflate($row);
		die "mkhostile: deflate: $st\n" if $st != Z_OK();
		$z .= $piece;
		$flush->(0);
	}
	my ($piece, $st) = $d->flush();
	die "mkhostile: deflate: $st\n" if $st != Z_OK();
	$z .= $piece;
	$flush->(1);
	print {$fh} png_chunk('IEND', '');
	close $fh or die "mkhostile: $out: $!\n";
}

# ---- JPEG ----------------------------------------------------------------------

sub jpeg_segment {
	my ($marker, $data) = @_;
	return pack('CCn', 0xff, $marker, 2 + length $data) . $data;
}

sub jpeg_bomb {
	my ($out, $w, $h) = @_;
	die "mkhostile: a JPEG is at most 65535x65535\n" if $w > 65535 || $h > 65535;
	# Huffman tables of one 1-bit code each: DC difference 0, AC EOB, so
	# every 0 bit pair of the scan is one flat 8x8 block.
	my $one_code = pack('C16', 1, (0) x 15);
	my $jpeg = "\xff\xd8" .
		jpeg_segment(0xe0, "JFIF\0" . pack('CCCnnCC', 1, 1, 0, 1, 1, 0, 0)) .
		jpeg_segment(0xdb, pack('C', 0) . ("\x01" x 64)) .
		jpeg_segment(0xc0, pack('CnnC', 8, $h, $w, 1) . pack('CCC', 1, 0x11, 0)) .
		jpeg_segment(0xc4, pack('C', 0x00) . $one_code . "\x00") .
		jpeg_segment(0xc4, pack('C', 0x10) . $one_code . "\x00") .
		jpeg_segment(0xda, pack('C', 1) . pack('CC', 1, 0x00) . pack('CCC', 0, 63, 0)) .
		("\0" x 440) . "\xff\xd9";
	spew($out, $jpeg);
}

# ---- WebP ----------------------------------------------------------------------

# Bits in VP8L order: least significant first, within bytes filled from bit 0.
sub lsb_bits {
	my (@fields) = @_;	# pairs: value, bit count
	my ($bytes, $acc, $n) = ('', 0, 0);
	while (@fields) {
		my ($v, $bits) = splice(@fields, 0, 2);
		for my $i (0 .. $bits - 1) {
			$acc |= (($v >> $i) & 1) << $n;
			if (++$n == 8) {
				$bytes .= chr $acc;
				($acc, $n) = (0, 0);
			}
		}
	}
	$bytes .= chr $acc if $n;
	return $bytes;
}

sub webp_bomb {
	my ($out, $w, $h) = @_;
	die "mkhostile: a VP8L image is at most 16384x16384\n" if $w > 16384 || $h > 16384;
	# A simple prefix code with one 8-bit symbol: 1 (simple), 0 (one
	# symbol), 1 (8 bits wide), the symbol.  With one symbol in every
	# code a pixel takes no bits at all.
	my @one8 = map { ($_, 1) } 1, 0, 1;
	my @one1 = (1, 1, 0, 1, 0, 1, 0, 1);	# simple, one symbol, 1 bit wide, 0
	my $bits = lsb_bits(
		0x2f, 8,		# VP8L signature
		$w - 1, 14, $h - 1, 14,
		1, 1,			# alpha is used
		0, 3,			# version 0
		0, 1,			# no transform
		0, 1,			# no colour cache
		0, 1,			# no meta prefix codes
		@one8, 0x40, 8,		# green: always 0x40
		@one1,			# red: always 0
		@one8, 0x80, 8,		# blue: always 0x80
		@one8, 0xff, 8,		# alpha: always 0xff
		@one1,			# distance: unused
	);
	$bits .= "\0" x (18 - length $bits);	# pad to an even 18-byte chunk
	my $chunk = 'VP8L' . pack('V', length $bits) . $bits;
	spew($out, 'RIFF' . pack('V', 4 + length $chunk) . 'WEBP' . $chunk);
}

# ---- GIF -----------------------------------------------------------------------

# LZW data for the pixels in @idx (each < 128) with a minimum code size
# of 7: codes are 8 bits wide, and a clear code every 126 literals keeps
# them so, so the "compressed" stream is just bytes.
sub gif_lzw {
	my (@idx) = @_;
	my $codes = '';
	while (@idx) {
		$codes .= "\x80" . join('', map { chr } splice(@idx, 0, 126));
	}
	$codes .= "\x81";
	my $blocks = '';
	while (length $codes) {
		my $part = substr($codes, 0, 255, '');
		$blocks .= chr(length $part) . $part;
	}
	return "\x07" . $blocks . "\x00";
}

sub gif_screen {
	my ($w, $h) = @_;
	# a global colour table of two entries: black and white
	return 'GIF89a' . pack('vvCCC', $w, $h, 0x80, 0, 0) . "\0\0\0\xff\xff\xff";
}

sub gif_frame {
	my ($w, $h, $pixels) = @_;
	return "\x21\xf9\x04" . pack('CvCC', 0x04, 10, 0, 0) .	# keep, 0.1 s
		"\x2c" . pack('vvvvC', 0, 0, $w, $h, 0) . $pixels;
}

sub gif_bomb {
	my ($out, $w, $h) = @_;
	die "mkhostile: a GIF is at most 65535x65535\n" if $w > 65535 || $h > 65535;
	spew($out, gif_screen($w, $h) . gif_frame($w, $h, gif_lzw((0) x 256)) . ';');
}

sub gif_anim {
	my ($out, $w, $h, $n) = @_;
	my $gif = gif_screen($w, $h) .
		"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00";	# loop forever
	for my $f (1 .. $n) {
		# frame f: stripes f pixels wide
		my @idx = map { int(($_ % $w) / $f) % 2 } 0 .. $w * $h - 1;
		$gif .= gif_frame($w, $h, gif_lzw(@idx));
	}
	spew($out, $gif . ';');
}

# ---- TIFF ----------------------------------------------------------------------

sub tiff_bomb {
	my ($out, $w, $h) = @_;
	my $strip = compress("\0" x 256, 9);
	my @entries = (		# tag, type (3 SHORT, 4 LONG), value
		[256, 4, $w], [257, 4, $h], [258, 3, 8], [259, 3, 8],	# deflate
		[262, 3, 1], [273, 4, 0], [277, 3, 1], [278, 4, $h],
		[279, 4, length $strip],
	);
	my $ifd_len = 2 + 12 * @entries + 4;
	my $strip_at = 8 + $ifd_len;
	my $ifd = pack('v', scalar @entries);
	for my $e (@entries) {
		my ($tag, $type, $v) = @$e;
		$v = $strip_at if $tag == 273;
		$ifd .= pack('vvV', $tag, $type, 1) .
			($type == 3 ? pack('vv', $v, 0) : pack('V', $v));
	}
	$ifd .= pack('V', 0);
	spew($out, "II*\0" . pack('V', 8) . $ifd . $strip);
}

# ---- documents -----------------------------------------------------------------

sub pdf {
	my ($out) = @_;
	my $content = "0 0 1 rg 0 0 72 48 re f\n";
	my @objs = (
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 48] " .
			"/Resources << >> /Contents 4 0 R >>",
		"<< /Length " . length($content) . " >>\nstream\n${content}endstream",
	);
	my $pdf = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
	my @at;
	for my $i (0 .. $#objs) {
		push @at, length $pdf;
		$pdf .= ($i + 1) . " 0 obj\n$objs[$i]\nendobj\n";
	}
	my $xref = length $pdf;
	$pdf .= "xref\n0 " . (@objs + 1) . "\n0000000000 65535 f \n";
	$pdf .= sprintf("%010d 00000 n \n", $_) for @at;
	$pdf .= "trailer\n<< /Size " . (@objs + 1) . " /Root 1 0 R >>\n" .
		"startxref\n$xref\n%%EOF\n";
	spew($out, $pdf);
}

sub svg {
	my ($out) = @_;
	spew($out, <<'EOF');
<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48" viewBox="0 0 64 48">
  <rect width="64" height="48" fill="#20a040"/>
  <circle cx="32" cy="24" r="16" fill="#ffffff"/>
</svg>
EOF
}

# ---- names ---------------------------------------------------------------------

# The stems every image-handling program should survive; the test scripts
# know them by the same list.
my @hostile_stems = (
	"new\nline",		# a newline
	"-dash",		# looks like an option
	"--help",		# looks like a long option
	"it's \"quoted\"",	# both quote characters
	"back\\slash",		# a backslash
	"bad\xff\xfeutf8",	# bytes that are not UTF-8
	"esc\e[31mred",		# a terminal escape sequence
	"csi\xc2\x9b31mred",	# the same with CSI, a C1 control in UTF-8
	"tab\there",		# a tab
	" space ",		# leading and trailing spaces
	"caf\xc3\xa9",		# valid UTF-8, not ASCII
);

sub names {
	my ($dir, $src) = @_;
	my ($ext) = $src =~ /(\.[^.\/]+)$/ or die "mkhostile: $src: no extension\n";
	my $data = slurp($src);
	for my $stem (@hostile_stems) {
		spew("$dir/$stem$ext", $data);
		print "$stem$ext\0";
	}
}

# ---- main ----------------------------------------------------------------------

my %usage = (
	trunc => 3, flip => 4, 'png-bomb' => 3, 'png-solid' => 3,
	'jpeg-bomb' => 3, 'webp-bomb' => 3, 'gif-bomb' => 3, 'tiff-bomb' => 3,
	'gif-anim' => 4, pdf => 1, svg => 1, random => 3, names => 2,
);
my $cmd = shift @ARGV;
die "usage: mkhostile.pl COMMAND ARG... (see the comment at the top)\n"
	unless defined $cmd && exists $usage{$cmd};
die "mkhostile: $cmd takes $usage{$cmd} arguments\n" if @ARGV != $usage{$cmd};

if ($cmd eq 'trunc') {
	my ($in, $out, $n) = @ARGV;
	my $data = slurp($in);
	my $len = length $data;
	if ($n =~ /^(\d+)%$/) {
		$n = int($len * $1 / 100);
	} else {
		$n = number('N', $n);
		$n = $len + $n if $n < 0;
	}
	die "mkhostile: trunc: $n is not inside $in ($len bytes)\n" if $n < 0 || $n >= $len;
	spew($out, substr($data, 0, $n));
} elsif ($cmd eq 'flip') {
	my ($in, $out, $seed, $n) = @ARGV;
	my $data = slurp($in);
	my $next = rng(number('SEED', $seed));
	my $span = length($data) - 16;
	die "mkhostile: flip: $in is too short\n" if $span < 1;
	for (1 .. number('N', $n)) {
		my $bit = $next->() % (8 * $span);
		my $at = 16 + int($bit / 8);
		vec($data, $at, 8) ^= 1 << ($bit % 8);
	}
	spew($out, $data);
} elsif ($cmd eq 'random') {
	my ($out, $n, $seed) = @ARGV;
	my $next = rng(number('SEED', $seed));
	spew($out, join('', map { chr($next->() & 0xff) } 1 .. number('N', $n)));
} elsif ($cmd eq "pdf") {
	pdf(@ARGV);
} elsif ($cmd eq "svg") {
	svg(@ARGV);
} elsif ($cmd eq 'names') {
	names(@ARGV);
} elsif ($cmd eq 'gif-anim') {
	my ($out, @n) = @ARGV;
	gif_anim($out, map { number('size', $_) } @n);
} else {
	my ($out, $w, $h) = @ARGV;
	my %make = ('png-bomb' => \&png_bomb, 'png-solid' => \&png_solid,
		'jpeg-bomb' => \&jpeg_bomb, 'webp-bomb' => \&webp_bomb,
		'gif-bomb' => \&gif_bomb, 'tiff-bomb' => \&tiff_bomb);
	$make{$cmd}->($out, number('W', $w), number('H', $h));
}
exit 0;
