#!/usr/bin/env bash
# ipcbench, the side-by-side IPC benchmark, in its quick mode: it runs, every
# mechanism's row carries a positive round trip and stream rate, the limits
# are measured, and nothing is left behind (no FIFO folder, no process of its
# session). Prints one line a check (PASS, FAIL or SKIP) on stdout, the run's
# output on stderr when something fails; exits 1 if a check failed, else 0.
# Run from the repository root; it builds build/bench/ipcbench if needed.
set -u

failed=0
pass() { echo "PASS: ipcbench: $1"; }
fail() {
	echo "FAIL: ipcbench: $1 -- $2"
	failed=1
}
skip() { echo "SKIP: ipcbench: $1 -- $2"; }

B=build/bench/ipcbench
mechanisms=(pipe fifo mqueue shm+sem shm+spin unix tcp eventfd signal)

if ! out=$(make --no-print-directory -s "$B" 2>&1); then
	fail "build/bench/ipcbench builds" "$(echo "$out" | tail -1)"
	exit 1
fi
tmp=$(mktemp -d /tmp/ipcbench-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

# ==== A quick run, in a session of its own, with a private TMPDIR ====

mkdir "$tmp/tmpdir"
start=$(date +%s.%N)
(TMPDIR="$tmp/tmpdir" exec setsid "$B" -q -o "$tmp/chart.png" >"$tmp/out" 2>"$tmp/err") &
sid=$!
wait "$sid"
status=$?
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
if [ "$status" -eq 0 ]; then
	pass "-q runs and exits 0 (in $took s)"
else
	fail "-q runs and exits 0" "exit status $status after $took s: $(tail -1 "$tmp/err")"
	cat "$tmp/out" "$tmp/err" >&2
fi

# ==== Every row, with its figures ====

# row NAME: the first row of NAME that holds figures, or else its first line.
row() {
	awk -v m="$1" '$1 == m && $2 !~ /^(skipped|failed|only)/ { print; found = 1; exit }
		END { if (!found) exit 1 }' "$tmp/out" ||
		awk -v m="$1" '$1 == m { print; exit }' "$tmp/out"
}

# positive TEXT: whether TEXT is a number above zero.
positive() { awk -v v="$1" 'BEGIN { exit !(v + 0 > 0) }'; }

for m in "${mechanisms[@]}"; do
	line=$(row "$m")
	read -r _ _ median _ _ rate _ <<<"$line"
	if [ -z "$line" ]; then
		fail "a $m row" "no row named $m in the output"
	elif [ "$m" = mqueue ] && echo "$line" | grep -q "skipped: mq_open"; then
		read -r _ why <<<"$line"
		skip "a mqueue row" "$why"
	elif positive "$median" && positive "$rate"; then
		pass "the $m row has a positive round trip ($median µs) and stream ($rate msg/s)"
	else
		fail "the $m row has a positive round trip and stream" "$line"
	fi
done

line=$(row memcpy)
read -r _ _ _ _ _ rate _ <<<"$line"
if positive "$rate"; then
	pass "the memcpy limit is measured ($rate copies/s)"
else
	fail "the memcpy limit is measured" "${line:-no memcpy row}"
fi
line=$(row cacheline)
read -r _ _ median _ <<<"$line"
if echo "$line" | grep -q "skipped: one core"; then
	skip "the cache-line limit" "one core only on this machine"
elif positive "$median"; then
	pass "the cache-line limit is measured ($median µs)"
else
	fail "the cache-line limit is measured" "${line:-no cacheline row}"
fi

# ==== Nothing left behind ====

left=$(find "$tmp/tmpdir" -mindepth 1 -maxdepth 1 -printf '%f ')
if [ -z "$left" ]; then
	pass "leaves no FIFO folder behind"
else
	fail "leaves no FIFO folder behind" "left: $left"
fi
sleep 0.2 # a child killed with its parent may take a moment to go
left=$(pgrep -s "$sid" | tr '\n' ' ')
if [ -z "$left" ]; then
	pass "leaves no process behind"
else
	fail "leaves no process behind" "still running in its session: $left"
	pkill -KILL -s "$sid"
fi
# Its queues are unlinked as soon as they are open; where /dev/mqueue is mounted, check.
queues=$(compgen -G "/dev/mqueue/ipcbench.$sid.*")
if [ -n "$queues" ]; then
	fail "leaves no message queue behind" "$queues"
fi

# ==== The command line ====

if "$B" -h 2>&1 | grep -q "signal .*sigqueue"; then
	pass "-h lists the mechanisms"
else
	fail "-h lists the mechanisms" "no signal line in -h"
fi
"$B" -s 3 >/dev/null 2>&1
status=$?
if [ "$status" -eq 2 ]; then
	pass "a size below 8 bytes is a usage error (exit 2)"
else
	fail "a size below 8 bytes is a usage error (exit 2)" "exit status $status"
fi
exit "$failed"
