#!/usr/bin/env bash
# Watch mode's loop, measured: the time from saving a lab file to the
# grader's fresh report of that lab, with `ipcgrade --watch -f text` on a
# scratch copy of the lab's reference solution. A benchmark, not a test: it
# prints figures and always exits 0. Run from the repository root after make.
#
#   tests/bench/watch.sh [LAB] [SAVES]     LAB defaults to 01, SAVES to 10
#
# Each save appends a comment to the lab's .c file, so the lab is rebuilt
# (a real edit) before its tests run. "seen" is when the grader noticed the
# save (it waits WATCH_SETTLE_MS for the editor to finish), "report" when
# the whole lab's block was printed.
set -u
lab=${1:-01}
saves=${2:-10}
dir=$(cd solutions && ls -d "$lab"* "0$lab"* 2>/dev/null | head -1)
if [ -z "$dir" ] || [ ! -x build/ipcgrade ]; then
	echo "usage: tests/bench/watch.sh [LAB] [SAVES], from the repository root after make" >&2
	exit 0
fi
tmp=$(mktemp -d /tmp/ipcgrade-bench.XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cp -r "solutions/$dir" "$tmp/"
src=""
for c in "$tmp/$dir"/*.c; do
	[ "${c##*/}" = main.c ] || src=${src:-$c}
done
build/ipcgrade --watch -f text -s "$tmp" "$dir" >"$tmp/log" 2>&1 &
pid=$!

now() { date +%s.%N; }
count() { grep -c -- "$1" "$tmp/log"; }
# until COUNT lines match PATTERN; prints the time then
until_count() {
	while [ "$(count "$1")" -lt "$2" ]; do
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.01
	done
	now
}

until_count "^Watching " 1 >/dev/null || { cat "$tmp/log"; exit 0; }
echo "lab $dir, $saves saves (each one an edit of $(basename "$src"))"
printf '%6s %10s %10s\n' save "seen (s)" "report (s)"
for i in $(seq "$saves"); do
	t0=$(now)
	echo "/* save $i */" >>"$src"
	seen=$(until_count "changed, grading it again" "$i") || break
	done_at=$(until_count "^Total: " $((i + 1))) || break
	awk -v i="$i" -v a="$t0" -v b="$seen" -v c="$done_at" \
		'BEGIN { printf "%6d %10.3f %10.3f\n", i, b - a, c - a }' | tee -a "$tmp/times"
	sleep 0.3
done
sort -n -k3 "$tmp/times" | awk '{ r[NR] = $3; s[NR] = $2 } END {
	if (NR) printf "report after a save: median %.3f s, best %.3f s, worst %.3f s\n",
		r[int((NR + 1) / 2)], r[1], r[NR] }'
