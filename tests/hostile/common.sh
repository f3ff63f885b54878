# Helpers shared by the tests/t6*-hostile-*.sh scripts, sourced after
# tests/lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$TOP/tests/hostile/common.sh"
#
# The hostile inputs themselves come from mkhostile.pl beside this file,
# which makes them byte for byte the same on every machine.

MKHOSTILE=$TOP/tests/hostile/mkhostile.pl

# hostile COMMAND ARG...: make one hostile input (see mkhostile.pl).
hostile() {
	perl "$MKHOSTILE" "$@" || {
		diag "mkhostile.pl $* failed"
		return 1
	}
}

# run_within SECONDS ARG...: `run` with a time limit of SECONDS instead of
# lib.sh's two minutes, for the runs that could hang; also sets secs, the
# elapsed time in whole seconds.
run_within() {
	_limit=$1
	shift
	_t0=$(date +%s)
	timeout -k 5 "$_limit" "$IMGBAKE" "$@" >"$OUT" 2>"$ERR"
	rc=$?
	secs=$(($(date +%s) - _t0))
	out=$(cat "$OUT")
	err=$(cat "$ERR")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		diag "imgbake $* still ran after $_limit s: killed"
	fi
	return 0
}

# sr MANIFEST PATH: "STATUS REASON" of the source PATH in MANIFEST ("STATUS"
# alone if it has no reason, "missing" if MANIFEST does not list PATH or
# cannot be read).  PATH must not contain a single quote.
sr() {
	json_get "$1" "my \$s = src('$2');
		\$s ? join(' ', grep { defined } \$s->{status}, \$s->{reason}) : 'missing'" 2>/dev/null ||
		echo missing
}

# decodes FILE: FILE is an image libvips reads to the last pixel.
decodes() {
	vips avg "$1" >/dev/null 2>&1
}

# exit_0_or_1 DESCRIPTION: the last run ended on its own, with 0 or 1, not
# with a crash, a usage error or the time limit.
exit_0_or_1() {
	case $rc in
	0 | 1) pass "$1" ;;
	*) fail "$1"; show_run ;;
	esac
}

# skip DESCRIPTION: one test that does not apply here, counted as passed
# with a TAP "# SKIP" directive (lib.sh's helpers would escape the '#').
skip() {
	_tap_n=$((_tap_n + 1))
	printf 'ok %d # SKIP %s\n' "$_tap_n" "$(printf '%s' "$1" | tr '\n#' ' _')"
}
