#!/bin/sh
# The man page and --help describe the same options, the same synopsis
# and the same exit codes; the man page is clean mdoc.
. "$(dirname "$0")/lib.sh"

man=$TOP/man/imgbake.1

run --help
is "$rc" 0 "--help exits 0"
help=$out

# long options: "--name" in --help, "Fl -name" in the man page
help_long=$(printf '%s\n' "$help" | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u)
man_long=$(grep -o 'Fl -[a-z0-9][a-z0-9-]*' "$man" | sed 's/^Fl -/--/' | sort -u)
is "$man_long" "$help_long" "the man page and --help list the same long options"
cmp_ok "$(printf '%s\n' "$help_long" | wc -l)" -ge 18 "--help lists every long option"

# short options: "-x, --long" in --help, ".It Fl x , Fl -long" in the man page
help_short=$(printf '%s\n' "$help" | sed -n 's/^ *-\([A-Za-z0-9]\), --\([a-z-]*\).*/\1 \2/p' | sort)
man_short=$(sed -n 's/^\.It Fl \([A-Za-z0-9]\) , Fl -\([a-z-]*\).*/\1 \2/p' "$man" | sort)
is "$man_short" "$help_short" "short options pair with the same long options"

# synopsis: the man page's words, lower-cased, are --help's usage line
# (mdoc sets "source ..." where the usage line has "SOURCE...")
norm() { tr 'A-Z' 'a-z' | tr -s ' ' | sed 's/ \.\.\./.../g'; }
usage=$(printf '%s\n' "$help" | sed -n '1s/^usage: //p' | norm)
synopsis=$(MANWIDTH=200 mandoc -Tascii "$man" | col -b |
	sed -n '/^SYNOPSIS/{n;p;}' | sed 's/^ *//' | norm)
is "$synopsis" "$usage" "SYNOPSIS matches the usage line"

# exit status: every code in both places
for code in 0 1 2 130 143; do
	like "$help" "(^|[^0-9])$code([^0-9]|\$)" "--help names exit status $code"
	sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$man" | grep -qx "\.It $code" &&
		pass "man page EXIT STATUS names $code" ||
		fail "man page EXIT STATUS names $code"
done

# clean mdoc
lint=$(mandoc -Tlint -Wwarning "$man" 2>&1)
is "$lint" "" "mandoc -Tlint finds nothing"

done_testing
