#!/bin/sh
# Transparent huge pages: where the kernel gives them only on request,
# imgbake runs with glibc asking for them (GLIBC_TUNABLES
# glibc.malloc.hugetlb=1) unless the user's GLIBC_TUNABLES says
# otherwise; -v tells which.  Huge pages change no output byte.
. "$(dirname "$0")/lib.sh"

[ -n "${IMGBAKE_SANITIZED-}" ] && skip_all "sanitizer builds use an allocator of their own"

mode=$(sed -n 's/.*\[\([a-z]*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
diag "transparent_hugepage: ${mode:-unknown}"
case $mode in
always) want=yes; want_off=yes ;;
madvise) want=yes; want_off=no ;;
*) want=no; want_off=no ;;
esac

mkimg src/a.jpg 900x700
mkimg src/b.png 640x480 4
mkimg src/c.webp 300x200

unset GLIBC_TUNABLES
run -v -f webp,png -w 200,600 -o o1 src
is "$rc" 0 "a plain run: exit 0"
like "$err" "huge pages: $want" "-v: huge pages $want with transparent_hugepage $mode"

GLIBC_TUNABLES=glibc.malloc.hugetlb=0 run -v -f webp,png -w 200,600 -o o2 src
is "$rc" 0 "GLIBC_TUNABLES=glibc.malloc.hugetlb=0: exit 0"
like "$err" "huge pages: $want_off" "the user's setting is kept: huge pages $want_off"

GLIBC_TUNABLES=glibc.malloc.tcache_count=0 run -v -f webp,png -w 200,600 -o o3 src
is "$rc" 0 "another tunable in GLIBC_TUNABLES: exit 0"
like "$err" "huge pages: $want" "huge pages are added to it: $want"

same=1
for f in $(files o1 | grep -v manifest); do
	cmp -s "o1/$f" "o2/$f" && cmp -s "o1/$f" "o3/$f" || { same=0; diag "$f differs"; }
done
is "$(files o2 | grep -vc manifest)" 10 "ten outputs: two formats, two widths, one for c"
is "$same" 1 "the outputs are the same bytes with and without huge pages"

# under valgrind (its preload), the run stays in this process
LD_PRELOAD=/nonexistent/vgpreload_memcheck-amd64-linux.so run -v -o o4 src
is "$rc" 0 "a valgrind preload in LD_PRELOAD: exit 0"
like "$err" "huge pages: $want_off" "no second run under valgrind: huge pages $want_off"

# Running again through /proc/self/exe, the process keeps its name, the
# one ps, top, pgrep and killall go by.
mkimg slow/a.png 1000x800
mkimg slow/b.png 1000x800
unset GLIBC_TUNABLES
"$IMGBAKE" -q -j1 -f avif -o o5 slow 2>/dev/null &
pid=$!
n=0
while [ ! -d o5 ] && [ "$n" -lt 300 ]; do
	sleep 0.1
	n=$((n + 1))
done
name=$(cat "/proc/$pid/comm" 2>/dev/null)
wait "$pid"
is "$?" 0 "a run watched from outside: exit 0"
want_name=$(basename "$IMGBAKE" | cut -c1-15)
is "$name" "$want_name" "the process is still named $want_name"

done_testing
