#!/bin/sh
# Usage errors: exit 2, "imgbake: MESSAGE" then the same short usage on
# stderr, nothing on stdout, nothing written.
. "$(dirname "$0")/lib.sh"

mkimg a.jpg 40x30
usage=

# usage_error DESCRIPTION ARG...
usage_error() {
	_what=$1
	shift
	run "$@"
	is "$rc" 2 "$_what: exit status 2" || show_run
	like "$(printf '%s\n' "$err" | head -n 1)" '^imgbake: [^ ]' \
		"$_what: 'imgbake: message' first on stderr"
	rest=$(printf '%s\n' "$err" | sed 1d)
	like "$rest" '[Uu]sage' "$_what: usage follows on stderr"
	if [ -z "$usage" ]; then
		usage=$rest
	else
		is "$rest" "$usage" "$_what: the same usage text as the other errors"
	fi
	is "$out" "" "$_what: nothing on stdout"
	[ ! -e out ]
	ok $? "$_what: no output directory created"
}

usage_error "unknown long option" --bogus -o out a.jpg
usage_error "unknown short option" -Z -o out a.jpg
usage_error "missing -o" a.jpg
usage_error "-o without its argument" a.jpg -o
usage_error "no SOURCE" -o out
usage_error "bad -f value" -f gif -o out a.jpg
usage_error "bad -f element" -f webp,bmp -o out a.jpg
usage_error "empty -f" -f '' -o out a.jpg
usage_error "non-numeric -Q" -Q abc -o out a.jpg
usage_error "-Q above 100" -Q 101 -o out a.jpg
usage_error "negative -Q" -Q -5 -o out a.jpg
usage_error "-Q for an unknown format" -Q gif=80 -o out a.jpg
usage_error "-Q format without a value" -Q webp= -o out a.jpg
usage_error "non-numeric -w" -w abc -o out a.jpg
usage_error "-w 0" -w 0 -o out a.jpg
usage_error "negative -w" -w -100 -o out a.jpg
usage_error "bad element in -w" -w 100,abc -o out a.jpg
usage_error "non-numeric -j" -j abc -o out a.jpg
usage_error "bad --background" --background nocolour -o out a.jpg
usage_error "5-digit --background" --background '#12345' -o out a.jpg
usage_error "bad --max-pixels suffix" --max-pixels 12X -o out a.jpg
usage_error "non-numeric --max-pixels" --max-pixels lots -o out a.jpg

done_testing
