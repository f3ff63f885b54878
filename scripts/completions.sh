#!/bin/sh
# Generate the bash and zsh completions of imgbake from its --help, which
# imgbake prints from its option table: the completions cannot drift from
# the options.
#
#   scripts/completions.sh IMGBAKE OUTDIR
#
# writes OUTDIR/imgbake.bash and OUTDIR/_imgbake.
set -eu

[ $# -eq 2 ] || { echo "usage: scripts/completions.sh IMGBAKE OUTDIR" >&2; exit 2; }
imgbake=$1 out=$2
mkdir -p "$out"
help=$("$imgbake" --help)
loaders=$("$imgbake" --list-formats |
	awk '/^Other libvips loaders/ { on = 1; next } /^[A-Z]/ { on = 0 } on { printf "%s ", $1 }')

# One line per option: short (or -), long, argument (or -), description.
table=$(printf '%s\n' "$help" | awk '
	/^  (-[A-Za-z0-9], |    )--[a-z]/ {
		line = $0
		short = "-"
		if (match(line, /^  -[A-Za-z0-9],/))
			short = substr(line, 3, 2)
		match(line, /--[a-z0-9-]+/)
		long = substr(line, RSTART, RLENGTH)
		rest = substr(line, RSTART + RLENGTH)
		arg = "-"
		if (match(rest, /^ [A-Z]+/))
			arg = substr(rest, 2, RLENGTH - 1)
		sub(/^ [A-Z]+/, "", rest)
		sub(/^ +/, "", rest)
		printf "%s\t%s\t%s\t%s\n", short, long, arg, rest
	}')
[ -n "$table" ] || { echo "completions.sh: no options in '$imgbake --help'" >&2; exit 1; }

# the values some arguments take
values() {
	case $1 in
	--format) echo "webp avif jpeg png" ;;
	--progress) echo "auto bar plain none" ;;
	--allow-loader) echo "$loaders" ;;
	esac
}
kind() {
	case $1 in
	--output|--base) echo dir ;;
	--files-from|--manifest|--report) echo file ;;
	--format|--progress|--allow-loader) echo list ;;
	*) echo free ;;
	esac
}

{
	echo "# bash completion for imgbake; generated from 'imgbake --help'."
	echo "_imgbake()"
	echo "{"
	echo "	local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}"
	echo "	case \$prev in"
	printf '%s\n' "$table" | while IFS='	' read -r short long arg desc; do
		[ "$arg" != - ] || continue
		names=$long
		[ "$short" = - ] || names="$short|$long"
		case $(kind "$long") in
		dir) echo "	$names) COMPREPLY=(\$(compgen -d -- \"\$cur\")); return ;;" ;;
		file) echo "	$names) COMPREPLY=(\$(compgen -f -- \"\$cur\")); return ;;" ;;
		list) echo "	$names) COMPREPLY=(\$(compgen -W \"$(values "$long")\" -- \"\$cur\")); return ;;" ;;
		*) echo "	$names) return ;;" ;;
		esac
	done
	echo "	esac"
	echo "	case \$cur in"
	printf '	-*) COMPREPLY=($(compgen -W "'
	printf '%s\n' "$table" | awk -F'\t' '{ if ($1 != "-") printf "%s ", $1; printf "%s ", $2 }'
	echo '" -- "$cur")) ;;'
	echo "	*) COMPREPLY=(\$(compgen -f -- \"\$cur\")) ;;"
	echo "	esac"
	echo "}"
	echo "complete -o filenames -F _imgbake imgbake"
} >"$out/imgbake.bash"

{
	echo "#compdef imgbake"
	echo "# zsh completion for imgbake; generated from 'imgbake --help'."
	echo "_arguments -s -S \\"
	printf '%s\n' "$table" | while IFS='	' read -r short long arg desc; do
		# brackets and colons end fields in _arguments specs
		desc=$(printf '%s' "$desc" | sed "s/[]:[]/ /g; s/'/'\\\\''/g")
		if [ "$short" = - ]; then
			names="'$long"
			excl=
		else
			names="'($short $long)'{$short,$long}'"
			excl=1
		fi
		[ -n "$excl" ] || names="$names"
		spec="[$desc]"
		if [ "$arg" != - ]; then
			case $(kind "$long") in
			dir) spec="$spec:$arg:_files -/" ;;
			file) spec="$spec:$arg:_files" ;;
			list) spec="$spec:$arg:($(values "$long"))" ;;
			*) spec="$spec:$arg: " ;;
			esac
			[ -n "$excl" ] || names="$names="
		fi
		echo "	$names$spec' \\"
	done
	echo "	'*:source:_files'"
} >"$out/_imgbake"
