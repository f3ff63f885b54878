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
for code in 0 1 2 129 130 143; do
	like "$help" "(^|[^0-9])$code([^0-9]|\$)" "--help names exit status $code"
	sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$man" | grep -qx "\.It $code" &&
		pass "man page EXIT STATUS names $code" ||
		fail "man page EXIT STATUS names $code"
done

# shell completions, generated from --help: every long option in each
sh "$TOP/scripts/completions.sh" "$IMGBAKE" comp >comp.out 2>&1
ok $? "scripts/completions.sh generates the completions" || cat comp.out
for f in comp/imgbake.bash comp/_imgbake; do
	got=$(grep -o -- '--[a-z0-9][a-z0-9-]*' "$f" | sort -u)
	missing=$(printf '%s\n' "$help_long" | while read -r opt; do
		printf '%s\n' "$got" | grep -qx -- "$opt" || echo "$opt"
	done)
	is "$missing" "" "$f names every long option"
done
bash -n comp/imgbake.bash
ok $? "the bash completion parses"
got=$(bash -c '. comp/imgbake.bash; COMP_WORDS=(imgbake --prog); COMP_CWORD=1; _imgbake
	printf "%s\n" "${COMPREPLY[@]}"; COMP_WORDS=(imgbake -f a); COMP_CWORD=2; _imgbake
	printf "%s\n" "${COMPREPLY[@]}"')
is "$got" "--progress
avif" "bash completes option names and format values"
if command -v zsh >/dev/null; then
	zsh -n comp/_imgbake
	ok $? "the zsh completion parses"
else
	skip "zsh not installed"
fi

# clean mdoc
lint=$(mandoc -Tlint -Wwarning "$man" 2>&1)
is "$lint" "" "mandoc -Tlint finds nothing"

done_testing
