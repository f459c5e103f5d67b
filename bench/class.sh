#!/bin/sh
# The class benchmark: grade a synthetic class of 20 submissions (full,
# skeleton, half-done, fork bomb, output flood) with -j 1 and with -j 2, in
# the same run. Prints seconds per submission; the ratio of the time for 20
# (-j 2) to the time for one average submission (the -j 1 run over 20):
# ideally 20 / 2 = 10 on two free cores; and the grader's overhead: its
# wall time (-j 1) over the time the test binaries themselves ran. Figures,
# never a pass/fail: the machine may be shared.
set -eu
cd "$(dirname "$0")/.."
G=$PWD/build/ipcgrade
W=$PWD/build/bench/class
LABS="01 04"
rm -rf "$W" && mkdir -p "$W/class"
export TMPDIR=$W/tmp && mkdir -p "$TMPDIR"

copy() { # copy STUDENT LAB FROM: FROM is solutions, labs or a file
	mkdir -p "$W/class/$1/$2"
	if [ -f "$3" ]; then
		cp "$3" "$W/class/$1/$2/processes.c"
	else
		cp "$3/$2/"*.c "$W/class/$1/$2/" && rm -f "$W/class/$1/$2/main.c"
	fi
}
i=0
for kind in full full full full full full full full skeleton skeleton skeleton skeleton \
	half half half half forkbomb forkbomb flood flood; do
	i=$((i + 1))
	s=$(printf 's%02d-%s' $i $kind)
	for lab in 01-processes 04-pipes; do
		case $kind in
		full) copy $s $lab solutions ;;
		skeleton) copy $s $lab labs ;;
		half) if [ $lab = 04-pipes ]; then copy $s $lab labs; else copy $s $lab solutions; fi ;;
		forkbomb | flood)
			if [ $lab = 01-processes ]; then
				copy $s $lab tests/hostile/$([ $kind = flood ] && echo output-flood || echo fork-bomb).c
			else copy $s $lab solutions; fi ;;
		esac
	done
done

seconds() { python3 -c 'import sys,time; print(f"{time.monotonic():.3f}")'; }
run() { # run NAME CLASS JOBS: grade, print the wall time
	t0=$(seconds)
	"$G" --class "$2" -j "$3" -o "$W/$1.csv" $LABS >/dev/null 2>"$W/$1.log" || true
	t1=$(seconds)
	python3 -c "print(f'{$t1 - $t0:.2f}')"
}
test_seconds() { # the test binaries' own time, from the JSON reports
	python3 - "$1" <<'PY'
import json, os, sys
d = sys.argv[1]
print(f"{sum(t['duration_ms'] for f in os.listdir(d) if f.endswith('.json') and not f.endswith('gradescope.json') for l in json.load(open(os.path.join(d, f)))['labs'] for t in l['tests']) / 1000:.2f}")
PY
}

echo "Class benchmark: 20 submissions (8 full, 4 skeleton, 4 half-done, 2 fork bombs, 2 floods), labs $LABS"
cold=$(run cold "$W/class" 2)
export IPCLAB_NO_SECOND_OPINION=1
rm -f "$W"/reports/*.row
one=$(run one "$W/class" 1)
tests=$(test_seconds "$W/reports")
rm -f "$W"/reports/*.row
two=$(run two "$W/class" 2)
python3 - "$cold" "$one" "$two" "$tests" <<'PY'
import sys
cold, one, two, tests = map(float, sys.argv[1:])
print(f"  first run: build, test, second opinion, -j 2  {cold:7.2f} s   {cold / 20:5.2f} s a submission")
print(f"  built; without the sanitizer's second opinion:")
print(f"    -j 1                                       {one:7.2f} s   {one / 20:5.2f} s a submission")
print(f"    -j 2                                       {two:7.2f} s   {two / 20:5.2f} s a submission")
print(f"    ratio 20 (-j 2) / 1 (-j 1 over 20)         {two / (one / 20):7.2f}   (ideal 10 with two free cores; target <= 12)")
print(f"    the test binaries' own time (-j 1)         {tests:7.2f} s")
print(f"    grader overhead: wall / tests - 1 (-j 1)   {(one / tests - 1) * 100:6.1f} %  (target < 30 %)")
PY
