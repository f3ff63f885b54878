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
usage_error "--allow-outside without -L" --allow-outside -o out a.jpg
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
usage_error "-T twice" -T a.txt -T b.txt -o out
usage_error "empty --report" --report '' -o out a.jpg
usage_error "{w} without -w" --name '{stem}-{w}.{ext}' -o out a.jpg
usage_error "an option after the first source" -o out a.jpg --base /
like "$err" "option '--base' after the first source" "an option after the first source: named"
usage_error "a short option after the first source" -o out a.jpg -w480
usage_error "a long option cut short after the first source" -o out a.jpg --bas /
run -n -o -- a.jpg --base /
is "$rc" 2 "an output directory named '--' is no '--': an option after it is refused" || show_run
rm -rf ./--
run -n -o out -- a.jpg -w
like "$err" "cannot convert '-w'" "after --, '-w' is a source like any other name" || show_run
cp a.jpg ./-j
run -n -o out a.jpg -j
is "$rc" 0 "a file named like an option is a source" || show_run
rm -f ./-j
usage_error "AVIF into names ending .webp" -f avif --name '{dir}/{stem}.webp' -o out a.jpg
like "$err" "ends in '\\.webp', but an output is avif" "AVIF into .webp: the message says why"
usage_error "AVIF into .webp, {ext} only in a directory" -f avif,webp --name '{ext}/{stem}.webp' -o out a.jpg
usage_error "-M under 16M" -M 15M -o out a.jpg
unlike "$err" "did you mean" "-M 15M: no suffix suggested over its own"
usage_error "-M in bytes under 16M" -M 1024 -o out a.jpg
like "$err" "did you mean 1024M\\?" "-M 1024: 1024M suggested"
usage_error "-M in bytes just under 16M" -M 16777215 -o out a.jpg
unlike "$err" "did you mean" "-M 16777215: no 16777215M suggested"

# the message says what is wrong with the option as given
message() {
	_what=$1 _want=$2
	shift 2
	run "$@"
	is "$rc" 2 "$_what: exit status 2" || show_run
	is "$(printf '%s\n' "$err" | head -n 1)" "imgbake: $_want" "$_what: says so"
}
message "-o without its argument" "option '-o' needs an argument" -f webp -o
message "--base without its argument" "option '--base' needs an argument" -o out --base
message "-j without its argument, in a cluster" "option '-j' needs an argument" -o out -qj
message "an argument to --dry-run" "option '--dry-run' takes no argument" --dry-run=1 -o out a.jpg
message "an ambiguous abbreviation" "ambiguous option '--pr' (--prune, --progress, --print0)" \
	--pr -o out a.jpg
message "an unknown option after a long one" "unknown option '-Z'" --force -qZ -o out a.jpg
message "an unknown long option" "unknown option '--bogus'" --bogus=1 -o out a.jpg
message "a width over the largest" "invalid width list '200000' (1-100000, as 480,960,1920)" \
	-w 200000 -o out a.jpg
message "standard input named twice" "standard input given twice" -o out - -
message "standard input as a list and as -T" "standard input given twice" -o out -T - -

# 0 is no limit where the man page says so
run -n -o out a.jpg -Z
is "$rc" 1 "a name like no option after a source is a source: exit 1" || show_run
like "$err" "cannot convert '-Z': .*an option\\? options go before the first source" \
	"... and the failure says options go first"
run -n --max-file-size 0 -o out a.jpg
is "$rc" 0 "--max-file-size 0: no limit, exit 0" || show_run

# the last --shard counts, auto or not
PARALLEL_SEQ=1 run -n --shard auto --shard 0/1 -o out a.jpg
is "$rc" 0 "--shard auto then --shard 0/1: exit 0" || show_run
is "$out" "out/a.webp" "--shard auto then --shard 0/1: the whole tree, not PARALLEL_SEQ's share"
PARALLEL_SEQ=0 run -n --shards 3 --shard auto -o out a.jpg
like "$err" "PARALLEL_SEQ=0 is outside 1\.\.3" "an engine counting from 1: the range says so"

run -o out --base a.jpg a.jpg
is "$rc" 2 "--base naming a file: exit 2" || show_run
like "$err" "cannot use base directory 'a.jpg': Not a directory" "... saying so"
[ ! -e out ]
ok $? "... making nothing"

done_testing
