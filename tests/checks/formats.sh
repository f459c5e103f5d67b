#!/usr/bin/env bash
# The report formats, each read by a real consumer: TAP by prove, JUnit XML
# by xmllint (well-formed, then against tests/formats/junit.xsd), the
# Gradescope results and the JSON report by a JSON schema
# (tests/formats/*.schema.json); then the same numbers in every format, a
# submission full of hostile bytes, the per-student reports of --class, and
# watch mode in text. Prints one line a check (PASS, FAIL or SKIP) on stdout,
# diagnostics on stderr; exits 0. Run from the repository root after make.
set -u

pass() { echo "PASS: formats: $1"; }
fail() { echo "FAIL: formats: $1 -- $2"; }
skip() { echo "SKIP: formats: $1 -- $2"; }

# ok WHAT COMMAND...: PASS when the command succeeds; its output goes to stderr.
ok() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$what"
	else
		fail "$what" "$(echo "$out" | tail -1)"
		echo "$out" >&2
	fi
}

if [ ! -x build/ipcgrade ]; then
	fail "build/ipcgrade exists" "run make first"
	exit 0
fi

G=build/ipcgrade
F=tests/formats
labs=(01 04) # two labs keep the run short; every format covers each of them
tmp=$(mktemp -d /tmp/ipcgrade-formats.XXXXXX)
watcher=""
cleanup() {
	if [ -n "$watcher" ]; then
		kill -TERM "$watcher" 2>/dev/null
		wait "$watcher" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

have_prove=$(command -v prove)
have_xmllint=$(command -v xmllint)
have_jsonschema=$(python3 -c 'import jsonschema; print(1)' 2>/dev/null)

# ==== The submissions ====

# A hostile one, in a folder whose name holds < & " ' and an escape: lab 01
# is the solution printing hostile bytes, lab 04 does not compile and its
# compiler messages quote them, and the suites (--tests) add a test whose
# message, hint and output hold them.
HOSTILE_C='"<&\"'"'"'\x1b[31m]]>\xff\xfe\xc3\x28\xed\xa0\x80\xc0\xaf\x01\x7f\r end\n"'
hostile="$tmp/hostile <&\"'"$'\e[1m'
make_hostile() {
	mkdir -p "$hostile" "$tmp/suites"
	cp -r solutions/01-processes "$hostile/"
	cp -r labs/04-pipes "$hostile/"
	python3 - "$hostile/01-processes/processes.c" "$HOSTILE_C" <<'PY'
import sys
path, text = sys.argv[1], sys.argv[2]
src = open(path).read()
head = "int exit_code(int status)\n{\n"
assert head in src, "no exit_code() in the solution"
src = src.replace(head, head + "\tfputs(" + text + ", stderr);\n", 1)
open(path, "w").write("#include <stdio.h>\n" + src)
PY
	printf '#error "<&\\"\047\033[31m]]>\377\303\050 end"\n' >>"$hostile/04-pipes/pipes.c"
	cp grader/suites/*.c "$tmp/suites/"
	sed -i 's/^void suite_define(void)$/static void base_suite_define(void)/' \
		"$tmp/suites/01-processes.c"
	cat >>"$tmp/suites/01-processes.c" <<EOF

START_TEST(test_hostile_bytes)
{
	fputs("out: " $HOSTILE_C, stderr);
	ck_assert_msg(0, "msg: " $HOSTILE_C);
}
END_TEST

void suite_define(void)
{
	base_suite_define();
	SUITE_TEST(test_hostile_bytes, 1, "hint: " $HOSTILE_C);
}
EOF
}
make_hostile

# report NAME FORMAT ARGS...: write build/ipcgrade's report of NAME in FORMAT to $tmp/NAME.FORMAT.
report() {
	local name=$1 fmt=$2
	shift 2
	"$G" -f "$fmt" -o "$tmp/$name.$fmt" "$@" "${labs[@]}" 2>>"$tmp/$name.stderr"
	local st=$?
	if [ "$st" -gt 1 ] || [ ! -s "$tmp/$name.$fmt" ]; then
		fail "-f $fmt writes a report of the $name" "exit status $st"
		cat "$tmp/$name.stderr" >&2
		return 1
	fi
}

# One submission after the other: the toolkit's side is rebuilt when the suites change.
for fmt in json tap junit gradescope text; do
	report hostile "$fmt" -s "$hostile" --tests "$tmp/suites"
done
for fmt in json tap junit gradescope text; do
	report solutions "$fmt" -s solutions
	report skeletons "$fmt" -s labs
done

# ==== TAP through prove ====

if [ -z "$have_prove" ]; then
	skip "TAP read by prove" "prove is not installed (perl)"
else
	ok "the solutions' TAP passes prove" prove -e cat "$tmp/solutions.tap"
	for name in skeletons hostile; do
		out=$(prove -v -e cat "$tmp/$name.tap" 2>&1)
		if echo "$out" | grep -q "^Result: FAIL" && ! echo "$out" | grep -Eq "Parse errors|Bad plan|YAML"; then
			pass "the $name' TAP is read by prove, with its failures"
		else
			fail "the $name' TAP is read by prove, with its failures" "$(echo "$out" | grep -E 'Parse|Bad|YAML|Result' | head -2)"
			echo "$out" >&2
		fi
	done
fi

# ==== JUnit XML through xmllint ====

if [ -z "$have_xmllint" ]; then
	skip "JUnit read by xmllint" "xmllint is not installed (libxml2-utils)"
else
	for name in solutions skeletons hostile; do
		ok "the $name' JUnit XML is well-formed" xmllint --noout "$tmp/$name.junit"
		ok "the $name' JUnit XML is valid against $F/junit.xsd" \
			xmllint --noout --schema "$F/junit.xsd" "$tmp/$name.junit"
	done
fi

# ==== Gradescope and the JSON report through their schemas ====

if [ -z "$have_jsonschema" ]; then
	skip "JSON schemas" "python3-jsonschema is not installed"
else
	for name in solutions skeletons hostile; do
		ok "the $name' Gradescope results.json follows $F/gradescope.schema.json" \
			python3 "$F/formats.py" schema "$F/gradescope.schema.json" "$tmp/$name.gradescope"
		ok "the $name' JSON report follows $F/report.schema.json" \
			python3 "$F/formats.py" schema "$F/report.schema.json" "$tmp/$name.json"
	done
fi

# ==== The same numbers everywhere, hostile bytes escaped ====

for name in solutions skeletons hostile; do
	ok "TAP, JUnit and Gradescope carry the $name' numbers of the JSON report" \
		python3 "$F/formats.py" agree "$tmp/$name.json" "$tmp/$name.tap" \
		"$tmp/$name.junit" "$tmp/$name.gradescope"
done
ok "hostile bytes (< & \" ESC, invalid UTF-8) come out escaped and intact in every format" \
	python3 "$F/formats.py" hostile "$tmp/hostile.json" "$tmp/hostile.tap" \
	"$tmp/hostile.junit" "$tmp/hostile.gradescope" "$tmp/hostile.text"

# ==== The command line ====

usage() {
	local what=$1
	shift
	"$G" "$@" </dev/null >"$tmp/usage.out" 2>&1
	local st=$?
	if [ "$st" -eq 2 ]; then
		pass "$what exits 2"
	else
		fail "$what exits 2" "exit status $st"
		cat "$tmp/usage.out" >&2
	fi
}
usage "-f tui with -o" -f tui -o "$tmp/x" 01
usage "-f tui without a terminal" -f tui 01
usage "--watch with -f json" --watch -f json 01
usage "--watch with --class" --watch --class "$tmp" 01
out=$("$G" -s solutions 01 </dev/null 2>&1 | head -1)
if echo "$out" | grep -q "^IPC Labs grader: "; then
	pass "without a terminal, the default format is text"
else
	fail "without a terminal, the default format is text" "first line: $out"
fi

# ==== --class writes every format for every student ====

mkdir -p "$tmp/class/ada" "$tmp/class/bob"
cp -r solutions/01-processes "$tmp/class/ada/"
cp -r labs/01-processes "$tmp/class/bob/"
"$G" --class "$tmp/class" -o "$tmp/class/gradebook.csv" 01 2>"$tmp/class.stderr" >/dev/null
missing=""
for student in ada bob; do
	for suffix in txt json tap junit.xml gradescope.json; do
		[ -s "$tmp/class/reports/$student.$suffix" ] || missing="$missing $student.$suffix"
	done
done
if [ -z "$missing" ]; then
	pass "--class writes text, JSON, TAP, JUnit and Gradescope reports for each student"
else
	fail "--class writes text, JSON, TAP, JUnit and Gradescope reports for each student" "missing:$missing"
	cat "$tmp/class.stderr" >&2
fi

# ==== --watch in text ====

# wait_log PATTERN COUNT SECONDS: until the log holds COUNT lines matching PATTERN.
wait_log() {
	local end=$((SECONDS + $3))
	while [ "$SECONDS" -lt "$end" ]; do
		[ "$(grep -Ec -- "$1" "$tmp/watch.log")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

mkdir -p "$tmp/watch"
cp -r solutions/01-processes "$tmp/watch/"
"$G" --watch -f text -s "$tmp/watch" 01 >"$tmp/watch.log" 2>&1 &
watcher=$!
if ! wait_log "^Watching " 1 90; then
	fail "--watch grades, then watches" "no 'Watching' line"
	cat "$tmp/watch.log" >&2
else
	pass "--watch grades, then watches"
	t0=$(date +%s.%N)
	echo "/* a comment, to change the file */" >>"$tmp/watch/01-processes/processes.c"
	if wait_log "^Total: " 2 20 && grep -q "01-processes changed, grading it again" "$tmp/watch.log"; then
		pass "--watch prints a fresh report when a lab's .c changes"
		awk -v a="$t0" -v b="$(date +%s.%N)" \
			'BEGIN { printf "formats: --watch: a save to a fresh report in %.2f s\n", b - a }' >&2
	else
		fail "--watch prints a fresh report when a lab's .c changes" "no second report in 20 s"
		cat "$tmp/watch.log" >&2
	fi
	echo "int broken(void) { return 1 }" >>"$tmp/watch/01-processes/processes.c"
	if wait_log "BUILD ERROR" 1 20 && wait_log "^Total: " 3 5; then
		pass "--watch reports a build error on the next save"
	else
		fail "--watch reports a build error on the next save" "no BUILD ERROR block"
		cat "$tmp/watch.log" >&2
	fi
	touch "$tmp/watch/01-processes/notes.txt"
	sleep 1
	if [ "$(grep -c '^Total: ' "$tmp/watch.log")" -eq 3 ]; then
		pass "--watch ignores files other than .c and .h"
	else
		fail "--watch ignores files other than .c and .h" "a report followed notes.txt"
	fi
fi
kill -TERM "$watcher" 2>/dev/null
for _ in $(seq 50); do
	kill -0 "$watcher" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$watcher" 2>/dev/null; then
	fail "--watch stops on a signal" "still running after 5 s"
else
	pass "--watch stops on a signal"
	wait "$watcher" 2>/dev/null
	watcher=""
fi
exit 0
