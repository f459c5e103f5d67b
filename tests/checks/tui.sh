#!/usr/bin/env bash
# The TUI, driven for real: tmux runs build/ipcgrade in a terminal of a
# known size, keys go in with send-keys and the screen comes back with
# capture-pane. Prints one line a check (PASS, FAIL or SKIP) on stdout and
# its diagnostics on stderr; exits 0. Run from the repository root after make.
#
# Each session runs the grader under two shells: the inner one writes its
# pid (it execs the grader), the outer one records the exit status and the
# terminal's modes afterwards, so that "q restores the terminal" is checked
# on the terminal itself (stty -g before and after).
set -u

pass() { echo "PASS: tui: $1"; }
fail() { echo "FAIL: tui: $1 -- $2"; }
skip() { echo "SKIP: tui: $1 -- $2"; }

if ! command -v tmux >/dev/null; then
	skip "driven in tmux" "tmux is not installed (apt-get install tmux)"
	exit 0
fi
if [ ! -x build/ipcgrade ]; then
	fail "build/ipcgrade exists" "run make first"
	exit 0
fi

root=$PWD
# The terminal tmux emulates, as terminfo knows it: tmux's own entry where installed.
term=tmux-256color
infocmp "$term" >/dev/null 2>&1 || term=screen
tmp=$(mktemp -d /tmp/ipcgrade-tui.XXXXXX)
sock="ipcgrade-tui-$$"
tm() { tmux -L "$sock" -f /dev/null "$@"; }
cleanup() {
	tm kill-server 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# start NAME WIDTH HEIGHT ENV ARGS...: run the grader in a new session.
start() {
	local name=$1 w=$2 h=$3 env=$4
	shift 4
	cat >"$tmp/$name.sh" <<EOF
ulimit -c 0
trap 'true' INT
stty -g >"$tmp/$name.before"
env TERM=$term $env sh -c 'echo \$\$ >"$tmp/$name.pid"; exec "$root/build/ipcgrade" "\$@"' ipcgrade $*
echo \$? >"$tmp/$name.status"
stty -g >"$tmp/$name.after"
echo "ipcgrade has exited"
exec sleep 600
EOF
	tm new-session -d -s "$name" -x "$w" -y "$h" -c "$root" "sh $tmp/$name.sh"
}

screen() { tm capture-pane -p -t "$1"; }

# wait_for NAME REGEX SECONDS: until the screen matches (grep -E). Fails on timeout.
wait_for() {
	local end=$((SECONDS + $3))
	while [ "$SECONDS" -lt "$end" ]; do
		screen "$1" | grep -Eq -- "$2" && return 0
		sleep 0.2
	done
	screen "$1" | grep -Eq -- "$2"
}

# check WHAT NAME REGEX [SECONDS]: PASS when the screen shows REGEX in time.
check() {
	if wait_for "$2" "$3" "${4:-5}"; then
		pass "$1"
	else
		fail "$1" "the screen never showed /$3/"
		echo "---- screen of $2:" >&2
		screen "$2" >&2
	fi
}

# check_gone WHAT NAME REGEX [SECONDS]: PASS when REGEX leaves the screen in time.
check_gone() {
	local end=$((SECONDS + ${4:-5}))
	while [ "$SECONDS" -lt "$end" ] && screen "$2" | grep -Eq -- "$3"; do
		sleep 0.2
	done
	if screen "$2" | grep -Eq -- "$3"; then
		fail "$1" "the screen still shows /$3/"
		screen "$2" >&2
	else
		pass "$1"
	fi
}

# finished NAME STATUS WHAT: the grader ended with STATUS and left the terminal as it found it.
finished() {
	local end=$((SECONDS + 10)) got
	while [ "$SECONDS" -lt "$end" ] && [ ! -s "$tmp/$1.after" ]; do
		sleep 0.2
	done
	got=$(cat "$tmp/$1.status" 2>/dev/null)
	if [ "$got" = "$2" ]; then
		pass "$3 ends with status $2"
	else
		fail "$3 ends with status $2" "status ${got:-none}"
	fi
	if [ -s "$tmp/$1.after" ] && cmp -s "$tmp/$1.before" "$tmp/$1.after" &&
		wait_for "$1" "ipcgrade has exited" 3; then
		pass "$3 restores the terminal (modes and screen)"
	else
		fail "$3 restores the terminal (modes and screen)" \
			"stty before: $(cat "$tmp/$1.before" 2>/dev/null), after: $(cat "$tmp/$1.after" 2>/dev/null)"
		screen "$1" >&2
	fi
}

# True when the screen (with attributes) sets a colour: SGR 30-37, 38, 40-47, 48, 90-107.
has_colour() {
	tm capture-pane -e -p -t "$1" | grep -Eq $'\e\\[([0-9;]*;)?(3[0-8]|4[0-8]|9[0-7]|10[0-7])(;[0-9;]*)?m'
}

# The title line of the detail pane.
detail_title() { screen "$1" | grep -E -- '─+ (Detail|Build of)' | head -1; }

# The header once grading is over (nothing but the total on its right).
idle_full='^ IPC Labs grader +[^ ]+ +Total ([0-9]+)/\1 *$'
idle_zero='^ IPC Labs grader +[^ ]+ +Total 0/[0-9]+ *$'

# ==== The reference solutions ====

start sol 100 30 "" -s solutions 01 04
check "the header names the grader and the submission" sol "IPC Labs grader +$root/solutions"
check "the lab list shows each lab's number and title" sol "^ 01 +Processes"
check "the lab list shows every lab asked for" sol "^ 04 +Pipes"
check "progress shows while tests run" sol "grading [0-9]+/[0-9]+ tests|Grading |Building "
check "scores appear, and every test has a result" sol "$idle_full" 90
check "a lab that passed shows a full bar, its score and pass" sol \
	"^ 01 .*\[#{10}\] +([0-9]+)/\1 +pass"
tm send-keys -t sol Enter
check "Enter moves to the tests of the lab" sol "^  PASS +test_"
tm send-keys -t sol Enter
check "Enter on a test opens its whole detail" sol "Detail: test_.*|Passed\."
tm send-keys -t sol Escape
check "Esc goes back to the lab list" sol "Labs \(2\)"
tm send-keys -t sol '?'
check "? shows the help" sol "grade every lab again"
tm send-keys -t sol Escape
check "a key leaves the help" sol "Labs \(2\)"
tm resize-window -t sol -x 60 -y 20
check "a terminal below 80x24 gets the too-small screen" sol "Terminal too small: 60x20"
tm resize-window -t sol -x 100 -y 30
check "growing back redraws the lab list" sol "Labs \(2\)"
tm resize-window -t sol -x 80 -y 24
check "80x24 shows the labs, the tests and the detail" sol "Tests of .*"
if screen sol | grep -q "Labs (2)" && screen sol | grep -Eq "Detail|Build of"; then
	pass "80x24 keeps every pane"
else
	fail "80x24 keeps every pane" "a pane is missing"
	screen sol >&2
fi
tm send-keys -t sol q
finished sol 0 "q after every test passed"

# ==== A broken submission: one lab does not compile, one is the skeleton ====

mkdir -p "$tmp/sub"
cp -r labs/01-processes labs/04-pipes "$tmp/sub/"
printf '\nint broken(void) { return 1 }\n' >>"$tmp/sub/01-processes/processes.c"
start bad 100 30 "" -s "$tmp/sub" 01 04
check "a build error is shown in the lab list" bad "^ 01 .* build error *\$" 60
check "the compiler's message is shown" bad "did not compile|error: expected"
check "every test has a result" bad "$idle_zero" 60
tm send-keys -t bad g j
check "moving to a failed lab shows a test's message" bad "FAIL +[0-9/]+ points" 5
check "the detail offers the failed test's hint" bad "Press h for a hint"
before=$(detail_title bad)
tm send-keys -t bad Tab j
sleep 0.5
after=$(detail_title bad)
if [ -n "$after" ] && [ "$before" != "$after" ]; then
	pass "moving in the tests changes the detail"
else
	fail "moving in the tests changes the detail" "detail title '$before' then '$after'"
fi
tm send-keys -t bad h
check "h opens the hint's first level" bad "^ Hint 1/[0-9]: "
tm send-keys -t bad h h h
check "h past the last level closes the hints" bad "Press h for a hint"
if grep -Eq "^hint	04-pipes	test_[a-z_]+	0$" "$tmp/sub/.ipclab-progress" 2>/dev/null ||
	grep -Eq "^lab	" "$tmp/sub/.ipclab-progress" 2>/dev/null; then
	pass "the progress file is kept in the submission"
else
	fail "the progress file is kept in the submission" "no $tmp/sub/.ipclab-progress"
fi
tm send-keys -t bad s
check "s keeps the solution closed while the lab fails" bad "opens once every test of it passes"
tm send-keys -t bad n
check "n jumps to the next lab not passed (01)" bad " Tests of 01-processes "
tm send-keys -t bad n
check "n again wraps round to 04" bad " Tests of 04-pipes "
tm send-keys -t bad R
check "R asks before resetting" bad "Put the skeleton of 04-pipes back\?"
tm send-keys -t bad x
check "any key but y keeps the file" bad "Nothing was reset"
echo "/* mine */" >>"$tmp/sub/04-pipes/pipes.c"
tm send-keys -t bad R
check "R asks again" bad "Put the skeleton of 04-pipes back\?"
tm send-keys -t bad y
check "y resets the lab" bad "04-pipes is the skeleton again"
if cmp -s "$tmp/sub/04-pipes/pipes.c" labs/04-pipes/pipes.c &&
	ls "$tmp/sub/04-pipes/" | grep -q '^pipes\.c\.backup-'; then
	pass "the reset put the skeleton back and kept the student's file"
else
	fail "the reset put the skeleton back and kept the student's file" "$(ls "$tmp/sub/04-pipes/")"
fi
check "and grades the lab again" bad "$idle_zero" 60
tm send-keys -t bad r
check "r grades the lab again" bad "graded again|running|queued|building"
check "and the results come back" bad "$idle_zero" 60
tm send-keys -t bad w
check "w turns watch on" bad "watch on"
t0=$(date +%s.%N)
cp labs/01-processes/processes.c "$tmp/sub/01-processes/processes.c"
check "saving a fixed file grades that lab again" bad "^ 01 .* fail *\$" 30
awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "tui: a save reached the screen in %.2f s\n", b - a }' >&2
tm send-keys -t bad q
finished bad 1 "q after failed tests"

# ==== Progress: the TUI opens where the student left off ====

mkdir -p "$tmp/res"
cp -r solutions/01-processes solutions/04-pipes "$tmp/res/"
printf 'lab\t01-processes\t22\t22\t22\t1\n' >"$tmp/res/.ipclab-progress"
start res 100 30 "" -s "$tmp/res" 01 04
check "with 01 passed before, the TUI opens on 04" res " Tests of 04-pipes "
check "and grading ends" res "$idle_full" 90
check "the selection stays on 04 when every test passes" res " Tests of 04-pipes "
tm send-keys -t res s
check "s shows the reference solution of a passed lab" res "solutions/04-pipes/pipes.c"
tm send-keys -t res Escape
tm send-keys -t res q
finished res 0 "q after resuming"

# ==== Colours and NO_COLOR ====

start colour 100 30 "" -s solutions 01
if wait_for colour "$idle_full" 30 && has_colour colour; then
	pass "a colour terminal gets colours"
else
	fail "a colour terminal gets colours" "no colour in the screen's attributes"
fi
start mono 100 30 "NO_COLOR=1" -s solutions 01
if wait_for mono "$idle_full" 30 && ! has_colour mono; then
	pass "NO_COLOR turns colours off"
else
	fail "NO_COLOR turns colours off" "colour escapes on the screen"
	tm capture-pane -e -p -t mono | cat -v >&2
fi
tm send-keys -t colour q
tm send-keys -t mono q
finished mono 0 "q with NO_COLOR"

# ==== Quitting while tests run ====

# descendants PID: every process below PID, from /proc's children lists,
# as pid:start-time (so that a pid used again is not taken for the same process).
descendants() {
	local kid
	for kid in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$kid:$(start_time "$kid")"
		descendants "$kid"
	done
}

# start_time PID: the process's start time, from /proc/PID/stat (empty when it is gone).
start_time() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

# alive PID:START: the process still runs (a zombie waiting for its reaper does not).
alive() {
	local state
	state=$(sed 's/^.*) //' "/proc/${1%%:*}/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$state" ] && [ "$state" != Z ] && [ "$(start_time "${1%%:*}")" = "${1#*:}" ]
}

start busy 100 30 "" -s solutions 01 04
if wait_for busy "Grading [0-9]+-[a-z-]+: test_" 30; then
	kids=""
	for _ in $(seq 40); do
		kids=$(descendants "$(cat "$tmp/busy.pid")")
		[ -n "$kids" ] && break
		sleep 0.05
	done
	tm send-keys -t busy q
	finished busy 1 "q while tests run"
	for _ in $(seq 30); do
		left=""
		for kid in $kids; do
			alive "$kid" && left="$left ${kid%%:*}"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$kids" ] && [ -z "$left" ]; then
		pass "q while tests run leaves no test process behind"
	else
		fail "q while tests run leaves no test process behind" "left:${left:- (none were seen running)}"
	fi
else
	fail "q while tests run" "the grader was never seen grading"
fi

# ==== Signals: Ctrl-C, SIGTERM and a crash restore the terminal ====

# Each waits until grading is over: these check the terminal, not the sandbox.
start int 100 30 "" -s solutions 01
wait_for int "$idle_full" 30
tm send-keys -t int C-c
finished int 130 "Ctrl-C"
start term 100 30 "" -s solutions 01
wait_for term "$idle_full" 30 && kill -TERM "$(cat "$tmp/term.pid")"
finished term 143 "SIGTERM"
start crash 100 30 "" -s solutions 01
wait_for crash "$idle_full" 30 && kill -SEGV "$(cat "$tmp/crash.pid")"
finished crash 139 "a crash (SIGSEGV)"
exit 0
