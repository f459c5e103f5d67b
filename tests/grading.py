#!/usr/bin/env python3
"""The grading half of IPC Labs' own tests.

It runs the real grader (build/ipcgrade) on the reference solutions, the
untouched skeletons, the mutants (wrong solutions that the suites must
catch) and the hostile corpus (submissions that attack the grader), and
checks what comes back. One line a check on stdout: "PASS: what",
"FAIL: what -- why" or "SKIP: what -- why"; tests/run counts them.

usage: tests/grading.py [cli|solutions|skeletons|cache|mutants|hostile|class|loop|xray ...]
"""
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRADER = os.path.join(ROOT, "build", "ipcgrade")
WORK = os.path.join(ROOT, "build", "test-work")
SANDBOX_UIDS = range(61000, 61256)


def say(ok, what, why=""):
    print(f"PASS: {what}" if ok else f"FAIL: {what} -- {why}", flush=True)


def skip(what, why):
    print(f"SKIP: {what} -- {why}", flush=True)


def catalogue():
    """The ids of the catalogue's labs that the toolkit ships."""
    ids = []
    with open(os.path.join(ROOT, "grader", "catalogue")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                lab = line.split("\t")[0]
                if os.path.isdir(os.path.join(ROOT, "labs", lab)):
                    ids.append(lab)
    return ids


def grade(submission, labs=(), env=None, wrap=(), args=(), timeout=600):
    """Run the grader with a JSON report; returns (exit status, report or None, stderr)."""
    cmd = list(wrap) + [GRADER, "-s", submission, "-f", "json"] + list(args) + list(labs)
    full_env = dict(os.environ, **(env or {}))
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, None, f"the grader did not finish within {timeout} s"
    try:
        report = json.loads(p.stdout)
    except ValueError:
        report = None
    return p.returncode, report, p.stderr


def lab_of(report, lab):
    for l in report["labs"] if report else []:
        if l["id"] == lab:
            return l
    return None


def test_of(lab_report, name):
    for t in lab_report["tests"] if lab_report else []:
        if t["name"] == name:
            return t
    return None


def student_files(lab):
    """The files a student edits in a lab: its .c files but main.c."""
    d = os.path.join(ROOT, "labs", lab)
    return sorted(f for f in os.listdir(d) if f.endswith(".c") and f != "main.c")


def make_submission(path, files):
    """Create a submission folder: files maps 'lab/name.c' to a source path."""
    shutil.rmtree(path, ignore_errors=True)
    for rel, src in files.items():
        os.makedirs(os.path.dirname(os.path.join(path, rel)), exist_ok=True)
        shutil.copyfile(src, os.path.join(path, rel))
    return path


# ==== The command line ====

def check_cli():
    def run(*args):
        return subprocess.run([GRADER] + list(args), capture_output=True, text=True)

    p = run("--list")
    ids = catalogue()
    say(p.returncode == 0 and all(i in p.stdout for i in ids), "ipcgrade --list names every lab",
        p.stdout + p.stderr)
    for args, what in [(["--no-such-flag"], "an unknown option"),
                       (["-f", "yaml"], "an unknown format"),
                       (["-j", "0"], "a bad job count"),
                       (["-s"], "an option without its value"),
                       (["99"], "a lab not in the catalogue"),
                       (["-s", "/nonexistent/folder"], "a missing submission folder")]:
        p = run(*args)
        clear = "ipcgrade:" in p.stderr and "Traceback" not in p.stderr and len(p.stderr) < 400
        say(p.returncode == 2 and clear, f"{what} gives exit 2 and a one-line message",
            f"exit {p.returncode}, stderr {p.stderr!r}")
    p = run("-h")
    say(p.returncode == 0 and "--submission" in p.stdout, "ipcgrade --help prints the usage")
    out = os.path.join(WORK, "report.json")
    os.makedirs(WORK, exist_ok=True)
    p = run("-s", os.path.join(ROOT, "solutions"), "-f", "json", "-o", out, ids[0])
    try:
        with open(out) as f:
            ok = json.load(f)["score"] > 0
    except (OSError, ValueError):
        ok = False
    say(p.returncode == 0 and ok and p.stdout == "", "-o writes the report to the file")
    p = run("-s", os.path.join(ROOT, "solutions"), "-f", "json", "-o", "/nonexistent/r.json",
            ids[0])
    try:
        kept = json.loads(p.stdout)["score"] > 0
    except ValueError:
        kept = False
    say(p.returncode == 2 and kept and "cannot write" in p.stderr,
        "an unwritable -o file gives exit 2 and the report on stdout, not lost",
        f"exit {p.returncode}, stderr {p.stderr!r}")


# ==== Solutions and skeletons ====

def check_solutions():
    rc, report, err = grade(os.path.join(ROOT, "solutions"), args=["-j", "2"])
    if not report:
        say(False, "the solutions are graded", err)
        return
    for lab in catalogue():
        l = lab_of(report, lab)
        bad = [f"{t['name']}: {t['status']}: {t['message']}" for t in l["tests"]
               if t["status"] != "pass"] if l else ["not in the report"]
        say(l and not bad and l["max_score"] > 0 and l["score"] == l["max_score"],
            f"solution {lab} scores full marks", "; ".join(bad)[:600])
    say(rc == 0, "grading the solutions exits 0", f"exit {rc}")


def lab_cflags(lab):
    """The extra compiler flags a lab needs (Open MPI's for an mpi lab), or None when missing."""
    with open(os.path.join(ROOT, "grader", "catalogue")) as f:
        opts = [l.rstrip("\n").split("\t")[2] for l in f if l.startswith(lab + "\t")]
    if not opts or "mpi" not in opts[0].split(","):
        return []
    p = subprocess.run(["pkg-config", "--cflags", "ompi-c"], capture_output=True, text=True)
    return p.stdout.split() if p.returncode == 0 else None


def check_skeletons():
    rc, report, err = grade(os.path.join(ROOT, "labs"), args=["-j", "2"])
    if not report:
        say(False, "the skeletons are graded", err)
        return
    for lab in catalogue():
        l = lab_of(report, lab)
        passing = [t["name"] for t in l["tests"] if t["status"] == "pass"] if l else ["?"]
        say(l and l["build"]["ok"] and l["score"] == 0 and l["max_score"] > 0 and not passing,
            f"skeleton {lab} builds and scores zero",
            f"passing: {passing}" if l else "not in the report")
        srcs = [os.path.join(ROOT, "labs", lab, f) for f in student_files(lab) + ["main.c"]]
        extra = lab_cflags(lab)
        if extra is None:
            skip(f"skeleton {lab} compiles without warnings", "Open MPI is not installed")
            continue
        p = subprocess.run(["cc", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
                            "-pthread", "-I" + os.path.join(ROOT, "labs", lab),
                            "-I" + os.path.join(ROOT, "common"), "-fsyntax-only"] + extra + srcs,
                           capture_output=True, text=True)
        say(p.returncode == 0, f"skeleton {lab} compiles without warnings", p.stderr[:600])
    say(rc == 1, "grading the skeletons exits 1", f"exit {rc}")


def newest_build_time():
    latest = 0
    for d, _, files in os.walk(os.path.join(ROOT, "build", "grade")):
        for f in files:
            latest = max(latest, os.stat(os.path.join(d, f)).st_mtime)
    return latest


def check_cache():
    sub = os.path.join(ROOT, "solutions")
    grade(sub, ["01"])  # built already by the solutions' check when it ran first
    before = newest_build_time()
    start = time.monotonic()
    rc, report, _ = grade(sub)
    took = time.monotonic() - start
    say(rc == 0 and newest_build_time() == before,
        f"re-grading unchanged code rebuilds nothing ({took:.1f} s for every lab)",
        "files under build/grade changed")


# ==== Mutants ====

def wanted_labs():
    """The labs named by LAB= (make mutants LAB=14), or every lab."""
    want = os.environ.get("LAB", "").strip()
    if not want:
        return catalogue()
    return [lab for lab in catalogue() if lab.split("-")[0] == want.zfill(2) or lab == want]


def mutant_cases():
    base = os.path.join(ROOT, "tests", "mutants")
    for lab in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        if lab not in wanted_labs():
            continue
        for name in sorted(os.listdir(os.path.join(base, lab))):
            if name.endswith(".patch"):
                yield lab, os.path.join(base, lab, name)


def caught_by(path):
    with open(path) as f:
        head = f.read(4000)
    m = re.search(r"Caught by:(.*)", head)
    return re.findall(r"test_\w+", m.group(1)) if m else []


def run_mutant(lab, path):
    try:
        return mutant_case(lab, path)
    except Exception as e:  # a broken case must be a failure, not the end of the run
        return False, f"mutant {lab}/{os.path.basename(path)}", repr(e)


def apply_patch(lab, target, patch_path, out):
    """The solution's target file with the mutant's patch applied, written to out."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    solution = os.path.join(ROOT, "solutions", lab, target)
    p = subprocess.run(["patch", "-s", "-o", out, solution, patch_path],
                       capture_output=True, text=True)
    return p.returncode == 0, p.stdout + p.stderr


def mutant_case(lab, path):
    name = os.path.basename(path)[: -len(".patch")]
    expected = caught_by(path)
    if not expected:
        return False, f"mutant {lab}/{name} names the tests that catch it", "no 'Caught by:' line"
    target = student_files(lab)[0]
    source = os.path.join(WORK, "mutant-sources", lab, f"{name}.c")
    ok, why = apply_patch(lab, target, path, source)
    if not ok:
        return False, f"mutant {lab}/{name} applies to the solution", why[:300]
    sub = make_submission(os.path.join(WORK, "mutants", f"{lab}-{name}"),
                          {f"{lab}/{target}": source})
    # Quick first: without the sanitizer's second opinion; with it only when a test survives
    # (a weak memory order, say, is caught by ThreadSanitizer alone).
    alive = expected
    for env in ({"IPCLAB_NO_SECOND_OPINION": "1"}, {}):
        rc, report, err = grade(sub, [lab], env=env)
        l = lab_of(report, lab)
        if not l:
            return False, f"mutant {lab}/{name} is graded", err[:300]
        alive = [t for t in expected if (test_of(l, t) or {}).get("status", "pass") == "pass"]
        if not alive:
            break
    msgs = [f"{t['name']}: {t['message'][:100]}" for t in l["tests"] if t["name"] in expected]
    first = next((t for t in l["tests"] if t["name"] == expected[0]), None)
    said = " ".join(first["message"].split())[:110] if first else ""
    return (not alive and l["build"]["ok"],
            f"mutant {lab}/{name} is caught by {', '.join(expected)}: \"{said}\"",
            f"still passing: {alive}; build ok: {l['build']['ok']}; {msgs}")


def check_mutants():
    cases = list(mutant_cases())
    per_lab = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        for (lab, _), (ok, what, why) in zip(cases, pool.map(lambda c: run_mutant(*c), cases)):
            say(ok, what, why)
            killed, total = per_lab.get(lab, (0, 0))
            per_lab[lab] = (killed + bool(ok), total + 1)
    for lab in wanted_labs():
        killed, total = per_lab.get(lab, (0, 0))
        say(total >= 4, f"lab {lab} has at least 4 mutants", f"it has {total}")
        print(f"kill rate {lab}: {killed}/{total}")
    killed = sum(k for k, _ in per_lab.values())
    total = sum(t for _, t in per_lab.values())
    print(f"kill rate: {killed}/{total} mutants caught ({100 * killed // max(total, 1)}%)")


# ==== The hostile corpus ====

HOSTILE_TMP = os.path.join(WORK, "tmp")


def leftovers():
    """What this run's sandboxes could leave: processes, IPC objects, folders.

    Other graders may run on the same machine: only processes of sandbox uids
    running this toolkit's binaries, and folders in this run's TMPDIR, count.
    """
    found = set()
    for d in ("/dev/shm", "/dev/mqueue"):
        if os.path.isdir(d):
            found |= {f"{d}/{n}" for n in os.listdir(d)}
    for kind in ("shm", "msg", "sem"):
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                found |= {f"sysv {kind} {line.split()[1]}" for line in f.readlines()[1:]}
        except OSError:
            pass
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                # The test binaries of this run's hostile submissions.
                mine = re.search(rb"/grade/sub/\w+_(namespace|plain)-[0-9a-f]{8}/", f.read())
            if mine and os.stat(f"/proc/{pid}").st_uid in SANDBOX_UIDS:
                found.add(f"process {pid} of a sandbox uid")
        except OSError:
            pass
    found |= {f"/tmp/{n}" for n in os.listdir("/tmp") if n.startswith("ipclab-hostile")}
    if os.path.isdir(HOSTILE_TMP):
        found |= {f"{HOSTILE_TMP}/{n}" for n in os.listdir(HOSTILE_TMP)}
    return found


def expectation(path):
    with open(path) as f:
        m = re.search(r"Expect: (\S+)(?: ([a-z|]+))? /(.*)/(.*)", f.read(2000))
    return m.groups() if m else None


def can_make_pid_namespace():
    p = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"],
                       capture_output=True)
    return p.returncode == 0


def run_hostile(path, mode):
    try:
        return hostile_case(path, mode)
    except Exception as e:  # a broken case must be a failure, not the end of the run
        return False, f"hostile {os.path.basename(path)} ({mode} sandbox)", repr(e)


def hostile_case(path, mode):
    case = os.path.basename(path)[:-2]
    what = f"hostile {case} ({mode} sandbox)"
    test, statuses, regex, flags = expectation(path)
    wrap = []
    if "pidns" in flags:
        # It signals other processes: only inside a PID namespace made here.
        if not can_make_pid_namespace():
            return None, what, "no PID namespace can be made here (needs root)"
        wrap = ["unshare", "--pid", "--fork", "--mount-proc"]
    files = {"01-processes/processes.c": path}
    files["02-threads/threads.c"] = os.path.join(ROOT, "solutions", "02-threads", "threads.c")
    sub = make_submission(os.path.join(WORK, "hostile", f"{case}-{mode}"), files)
    env = {"TMPDIR": HOSTILE_TMP}
    if mode == "plain":
        env["IPCLAB_SANDBOX"] = "plain"
    start = time.monotonic()
    rc, report, err = grade(sub, ["01", "02"], env=env, wrap=wrap, timeout=120)
    took = time.monotonic() - start
    lab, other = lab_of(report, "01-processes"), lab_of(report, "02-threads")
    if rc != 1 or not lab or not other:
        return False, what, f"exit {rc}, {err[:300]}"
    if other["score"] != other["max_score"]:
        return False, what, "the other lab of the submission lost points"
    if test == "build":
        ok = not lab["build"]["ok"] and re.search(regex, lab["build"]["log"])
        return bool(ok), what + " is a build error", lab["build"]["log"][:300]
    t = test_of(lab, test)
    ok = t and (statuses == "any" or t["status"] in statuses.split("|"))
    ok = ok and re.search(regex, t["message"])
    if "cut" in flags:
        ok = ok and t["output_truncated"]
    why = f"{t['status']}: {t['message'][:300]}" if t else "test missing"
    return bool(ok), f"{what}: {test} {statuses} in {took:.0f} s", why


def check_hostile(modes):
    cases = sorted(os.path.join(ROOT, "tests", "hostile", f)
                   for f in os.listdir(os.path.join(ROOT, "tests", "hostile")) if f.endswith(".c"))
    os.makedirs(HOSTILE_TMP, exist_ok=True)
    os.chmod(HOSTILE_TMP, 0o755)
    before = leftovers()
    jobs = [(c, m) for m in modes for c in cases]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for ok, what, why in pool.map(lambda j: run_hostile(*j), jobs):
            if ok is None:
                skip(what, why)
            else:
                say(ok, what, why)
    time.sleep(0.5)
    left = sorted(leftovers() - before)
    say(not left, "the hostile corpus leaves no process, IPC object or folder behind",
        ", ".join(left[:10]))


# ==== A class ====

CLASS_LABS = ["01-processes", "04-pipes"]


def class_members(base):
    """The class of tests/grading.py: name -> (files, the row expected or None)."""
    sol = lambda lab: os.path.join(ROOT, "solutions", lab, student_files(lab)[0])
    skel = lambda lab: os.path.join(ROOT, "labs", lab, student_files(lab)[0])
    hostile = lambda case: os.path.join(ROOT, "tests", "hostile", case + ".c")
    tamper = os.path.join(base, "tamper.c")
    with open(hostile("tamper")) as f:
        text = f.read()
    victim = os.path.join(base, "class", "ada", "01-processes", "processes.c")
    with open(tamper, "w") as f:  # the tamperer also knows where another student's file is
        f.write(text.replace('tamper(data, "../../grader/catalogue", 0);',
                             f'tamper(data, "../../grader/catalogue", 0);\n'
                             f'\t\ttamper("", "{victim}", 0);'))
    p01, p04 = "01-processes/processes.c", "04-pipes/pipes.c"
    return {
        "ada": ({p01: sol(CLASS_LABS[0]), p04: sol(CLASS_LABS[1])}, [22, 23]),
        "bob": ({"labs/" + p01: sol(CLASS_LABS[0]), "labs/" + p04: sol(CLASS_LABS[1])}, [22, 23]),
        "cat": ({p01: skel(CLASS_LABS[0]), p04: skel(CLASS_LABS[1])}, [0, 0]),
        "dan": ({p01: sol(CLASS_LABS[0]), p04: skel(CLASS_LABS[1])}, [22, 0]),
        "eve": ({p01: hostile("fork-bomb"), p04: sol(CLASS_LABS[1])}, [None, 23]),
        "fay": ({p01: hostile("output-flood"), p04: sol(CLASS_LABS[1])}, [None, 23]),
        "mal": ({p01: tamper, p04: sol(CLASS_LABS[1])}, [3, 23]),
    }


def read_csv(path):
    import csv
    with open(path, newline="") as f:
        return list(csv.reader(f))


def run_class(class_dir, book, extra_env=None, wait_for=None):
    """Grade the class; with wait_for, interrupt it (SIGINT) once stderr shows that many rows."""
    cmd = [GRADER, "--class", class_dir, "-j", "2", "-o", book] + CLASS_LABS
    env = dict(os.environ, TMPDIR=HOSTILE_TMP, **(extra_env or {}))
    if wait_for is None:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        return p.returncode, p.stdout, p.stderr
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    seen, err = 0, ""
    for line in p.stderr:
        err += line
        seen += line.startswith("[")
        if seen >= wait_for:
            p.send_signal(2)
            break
    out, rest = p.communicate(timeout=120)
    return p.returncode, out, err + rest


def twin_windows(report_path):
    with open(report_path) as f:
        r = json.load(f)
    return [tuple(map(float, m)) for t in r["labs"][0]["tests"]
            for m in re.findall(r"held every name from ([\d.]+) to ([\d.]+)", t.get("output") or "")]


def check_class_rows(book, members):
    rows = read_csv(book)
    say(rows and rows[0] == ["student"] + CLASS_LABS + ["total"],
        "--class: the gradebook's header is student, the lab ids, total", rows[:1])
    got = {r[0]: r[1:] for r in rows[1:]}
    say([r[0] for r in rows[1:]] == sorted(members),
        "--class: one row a student, in name order", [r[0] for r in rows[1:]])
    for name, (_, want) in sorted(members.items()):
        row = got.get(name)
        ok = row is not None and len(row) == len(CLASS_LABS) + 1
        ok = ok and all(w is None or int(g) == w for g, w in zip(row, want))
        ok = ok and sum(int(g) for g in row[:-1]) == int(row[-1])
        if want[0] is None and ok:  # a hostile lab: zeros and reasons, never full marks
            ok = int(row[0]) < 22
        say(ok, f"--class: {name}'s row is right ({', '.join('?' if w is None else str(w) for w in want)})",
            f"got {row}")
    return got


def twins_at_once(base, mode):
    """Grade the twins side by side; returns (rows, their windows, their outputs)."""
    class_dir = os.path.join(base, f"twins-{mode}")
    twin = os.path.join(ROOT, "tests", "class", "twin.c")
    for name in ("twin1", "twin2"):
        make_submission(os.path.join(class_dir, name), {"01-processes/processes.c": twin})
    book = os.path.join(class_dir, "gradebook.csv")
    shutil.rmtree(os.path.join(class_dir, "reports"), ignore_errors=True)  # grade afresh, no resume
    env = {"IPCLAB_SANDBOX": "plain"} if mode == "plain" else {}
    cmd = [GRADER, "--class", class_dir, "-j", "2", "-o", book, "--test", "test_exit_code_exited", "01"]
    subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, TMPDIR=HOSTILE_TMP, **env),
                   timeout=300)
    reports = [os.path.join(class_dir, "reports", f"{n}.json") for n in ("twin1", "twin2")]
    outputs = ""
    for r in reports:
        with open(r) as f:
            outputs += " ".join(t.get("output") or "" for t in json.load(f)["labs"][0]["tests"])
    return {r[0]: r[1:] for r in read_csv(book)[1:]}, [twin_windows(r) for r in reports], outputs


def check_twins(base):
    """Two submissions that take the same IPC names, graded at once, never meet."""
    what = ("--class: two submissions holding the same shm, mq, semaphore, SysV key, port, FIFO "
            "and /tmp file at the same moment never meet")
    for attempt in range(3):
        rows, (w1, w2), outputs = twins_at_once(base, "namespace")
        if any(a0 < b1 and b0 < a1 for a0, a1 in w1 for b0, b1 in w2):
            say(rows.get("twin1") == rows.get("twin2") == ["1", "1"], what, f"{rows} {outputs[:300]}")
            break
    else:
        say(False, what, f"the twins were never graded at the same moment: {w1} {w2}")
    if os.geteuid() == 0:  # without namespaces (and as root, so uids differ) they do meet
        rows, _, outputs = twins_at_once(base, "plain")
        say("is taken" in outputs, "--class: without namespaces the same twins collide (the check above can fail)",
            f"{rows} {outputs[:300]}")


def check_class():
    base = os.path.join(WORK, "class")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    os.makedirs(HOSTILE_TMP, exist_ok=True)
    members = class_members(base)
    class_dir = os.path.join(base, "class")
    for name, (files, _) in members.items():
        make_submission(os.path.join(class_dir, name), files)
    book = os.path.join(base, "gradebook.csv")
    watched = [os.path.join(ROOT, "grader", "suites", "01-processes.c"),
               os.path.join(ROOT, "grader", "catalogue"),
               os.path.join(class_dir, "ada", "01-processes", "processes.c")]
    before = {p: open(p, "rb").read() for p in watched}

    # Interrupted after two students, then resumed.
    rc, out, err = run_class(class_dir, book, wait_for=2)
    rows = read_csv(book) if os.path.exists(book) else []
    left = [f for f in os.listdir(base) + os.listdir(os.path.join(base, "reports")) if ".tmp" in f]
    say(rc != 0 and len(rows) >= 3 and all(len(r) == len(CLASS_LABS) + 2 for r in rows) and not left,
        "--class interrupted by Ctrl-C leaves a whole gradebook of the students done, no temporary file",
        f"exit {rc}, rows {rows}, temporary files {left}, stderr {err[-300:]}")
    rc, out, err = run_class(class_dir, book)
    m = re.search(r"resuming: (\d+) of 7", err)
    say(m and int(m.group(1)) >= 2, "--class resumes: the students graded before are not graded again",
        err[-400:])
    say(rc == 1, "--class exits 1 when some student failed something", f"exit {rc}: {err[-300:]}")
    got = check_class_rows(book, members)

    # Nothing a student wrote changed anything outside its own folder.
    changed = [p for p in watched if open(p, "rb").read() != before[p]]
    say(not changed and not os.path.exists(os.path.join(ROOT, "build", "grade", "tampered")),
        "--class: the tamperer changed neither the toolkit nor another student's files", changed)
    with open(os.path.join(base, "reports", "mal.json")) as f:
        outputs = " ".join(t.get("output") or "" for t in json.load(f)["labs"][0]["tests"])
    refused = re.findall(r"tamper (\S+): (Read-only file system|Permission denied)", outputs)
    say(len({r[0] for r in refused}) == 5 and "CHANGED" not in outputs,
        "--class: the tamperer's report shows each of its five writes refused", outputs[:400])

    check_twins(base)

    # The summary, on stdout and as CSV.
    summary = read_csv(os.path.join(base, "summary.csv"))
    by_lab = {r[0]: r for r in summary[1:]}
    ok = summary[0][:5] == ["lab", "max_points", "students", "mean", "median"]
    ok = ok and set(by_lab) == set(CLASS_LABS) and by_lab["04-pipes"][2] == "7"
    pipes_scores = [int(r[1]) for r in got.values()]
    ok = ok and abs(float(by_lab["04-pipes"][3]) - sum(pipes_scores) / 7) < 0.01
    ok = ok and int(by_lab["04-pipes"][7]) == pipes_scores.count(23)  # full
    ok = ok and int(by_lab["04-pipes"][8]) == pipes_scores.count(0)   # zero
    say(ok, "--class summary.csv: per-lab mean, median, full, zero and distribution", summary)
    failures = read_csv(os.path.join(base, "failures.csv"))
    top = failures[1] if len(failures) > 1 else []
    ok = failures[0] == ["lab", "test", "failed", "attempted", "hint"] and top[:1] == ["01-processes"]
    ok = ok and all(int(a[2]) >= int(b[2]) for a, b in zip(failures[1:], failures[2:]))
    say(ok and "Tests failed most often" in out and "Class summary: 7 students" in out,
        "--class failures.csv and the text summary list the tests failed most often first",
        f"{failures[:3]} {out[:300]}")

    # A changed file is graded again; the others are not.
    with open(os.path.join(class_dir, "dan", "04-pipes", "pipes.c"), "w") as f:
        f.write(open(os.path.join(ROOT, "solutions", "04-pipes", "pipes.c")).read())
    rc, out, err = run_class(class_dir, book)
    got = {r[0]: r[1:] for r in read_csv(book)[1:]}
    say("resuming: 6 of 7" in err and got.get("dan") == ["22", "23", "45"],
        "--class grades again only the student whose files changed", f"{err[-300:]} {got.get('dan')}")
    say(not [p for p in leftovers() if "ipclab" in p or "process" in p],
        "--class leaves no process, IPC object or folder behind", leftovers())


# ==== The student's loop: seeds, diffs, progress, reset ====

def check_seeds():
    """The seeded test runs with three seeds; the seed a failure prints reproduces it."""
    lab, test = "01-processes", "test_run_all_collects_statuses"
    source = os.path.join(WORK, "seeds", "processes.c")
    ok, why = apply_patch(lab, "processes.c", os.path.join(ROOT, "tests", "loop", "shell-status.patch"), source)
    if not ok:
        return say(False, "seeds: the shell-status submission applies", why)
    sub = make_submission(os.path.join(WORK, "seeds", "sub"), {f"{lab}/processes.c": source})

    def run(seed, only=True):
        args = ["--seed", str(seed)] + (["--test", test] if only else [])
        rc, report, err = grade(sub, ["01"], args=args)
        t = test_of(lab_of(report, lab), test) or {}
        return t.get("status"), t.get("seed"), t.get("message", ""), (report or {}).get("seed")

    # The command exits with 2 + seed % 254; the bug shows from 128 on: seed 126 gives 128.
    status, seed, msg, run_seed = run(1)
    say(status == "pass" and seed == 3 and run_seed == 1,
        "seeds: a seeded test runs three times, with seeds 1, 2 and 3 (statuses 3 to 5: it passes)",
        f"{status} seed {seed} run {run_seed}: {msg[:200]}")
    status, seed, msg, _ = run(125)
    say(status == "fail" and seed == 126 and "exited with status 128" in msg,
        "seeds: a bug that only some seeds show is caught by the second run (seed 126)",
        f"{status} seed {seed}: {msg[:200]}")
    again, seed2, msg2, _ = run(seed)
    say(again == "fail" and seed2 == seed and msg2 == msg,
        "seeds: --seed with the failing seed fails again, with the same message", f"{again} seed {seed2}: {msg2[:200]}")
    text = subprocess.run([GRADER, "-s", sub, "-f", "text", "--seed", "125", "01"],
                          capture_output=True, text=True).stdout
    say(f"--test {test} --seed 126" in text, "seeds: the text report prints the command that re-runs the failure",
        text[-600:])


def check_diff():
    """A test that compares output shows a unified diff, trimmed to the first differences."""
    lab = "05-pipeline"
    source = os.path.join(WORK, "loop", "pipeline.c")
    ok, why = apply_patch(lab, "pipeline.c", os.path.join(ROOT, "tests", "loop", "drops-last-stage.patch"), source)
    if not ok:
        return say(False, "diffs: the drops-last-stage submission applies", why)
    sub = make_submission(os.path.join(WORK, "loop", "diff"), {f"{lab}/pipeline.c": source})
    rc, report, err = grade(sub, ["05"], args=["--test", "test_five_stages"])
    t = test_of(lab_of(report, lab), "test_five_stages") or {}
    msg = t.get("message", "")
    lines = msg.split("\n")
    ok = t.get("status") == "fail" and "--- expected" in lines and "+++ got" in lines
    ok = ok and any(l.startswith("+ ") for l in lines) and len(lines) < 40
    say(ok, "diffs: a pipeline's wrong output is shown as a unified diff of expected and got",
        msg[:400])


def check_progress():
    """The progress file, --status and --reset, on a submission of its own."""
    sub = os.path.join(WORK, "loop", "progress")
    shutil.rmtree(sub, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "labs", "01-processes"), os.path.join(sub, "01-processes"))
    shutil.copytree(os.path.join(ROOT, "labs", "04-pipes"), os.path.join(sub, "04-pipes"))
    mine = os.path.join(sub, "01-processes", "processes.c")
    shutil.copyfile(os.path.join(ROOT, "solutions", "01-processes", "processes.c"), mine)
    grade(sub, ["01", "04"])
    state = os.path.join(sub, ".ipclab-progress")
    text = open(state).read() if os.path.exists(state) else ""
    say("lab\t01-processes\t22\t22\t22\t" in text and "lab\t04-pipes\t0\t23\t0\t" in text,
        "progress: grading keeps each lab's best and last score in the submission's .ipclab-progress",
        text)
    shutil.copyfile(os.path.join(ROOT, "labs", "01-processes", "processes.c"), mine)
    grade(sub, ["01"])
    text = open(state).read() if os.path.exists(state) else ""
    say("lab\t01-processes\t22\t22\t0\t" in text,
        "progress: a worse run keeps the best score and records the last", text)
    grade(sub, ["01"], args=["--test", "test_exit_code_exited"])
    say(open(state).read() == text, "progress: a --test run (part of a lab) changes nothing", "")
    st = subprocess.run([GRADER, "-s", sub, "--status"], capture_output=True, text=True)
    ok = st.returncode == 0 and re.search(r"01-processes\s+22/22\s+0/22", st.stdout)
    ok = ok and re.search(r"02-threads .*<- next", st.stdout) and "1 of" in st.stdout
    say(ok, "progress: --status shows best and last scores and the next lab", st.stdout[:600] + st.stderr)
    # --reset: the skeleton back, the student's file kept beside it.
    shutil.copyfile(os.path.join(ROOT, "solutions", "01-processes", "processes.c"), mine)
    r = subprocess.run([GRADER, "-s", sub, "--reset", "01"], capture_output=True, text=True)
    backups = [f for f in os.listdir(os.path.dirname(mine)) if f.startswith("processes.c.backup-")]
    same = open(mine).read() == open(os.path.join(ROOT, "labs", "01-processes", "processes.c")).read()
    kept = backups and open(os.path.join(os.path.dirname(mine), backups[0])).read() == \
        open(os.path.join(ROOT, "solutions", "01-processes", "processes.c")).read()
    say(r.returncode == 0 and same and kept,
        "reset: --reset puts the skeleton back and keeps the student's file as a backup",
        f"exit {r.returncode}: {r.stdout} {r.stderr} backups {backups}")
    rc, report, err = grade(sub, ["01"])
    say(rc == 1 and lab_of(report, "01-processes")["build"]["ok"] and report["score"] == 0,
        "reset: the backup is not built with the lab (the skeleton scores zero again)", err[-300:])
    r = subprocess.run([GRADER, "-s", sub, "--reset", "99"], capture_output=True, text=True)
    say(r.returncode == 2 and "no lab '99'" in r.stderr, "reset: an unknown lab is a usage error", r.stderr)


# ==== The X-ray ====

def xray_of(lab, mutant, test):
    """Grade test of lab on the solution with the named mutant applied.

    Returns (the test's report, the whole report, why it could not be graded).
    """
    target = student_files(lab)[0]
    source = os.path.join(WORK, "xray-sources", lab, f"{mutant}.c")
    ok, why = apply_patch(lab, target, os.path.join(ROOT, "tests", "mutants", lab, mutant + ".patch"),
                          source)
    if not ok:
        return None, None, why[:300]
    sub = make_submission(os.path.join(WORK, "xray", f"{lab}-{mutant}"), {f"{lab}/{target}": source})
    rc, report, err = grade(sub, [lab], args=["--test", test])
    t = test_of(lab_of(report, lab), test)
    return t, report, "" if t else f"exit {rc}: {err[:300]}"


def xray_lines(xray):
    """The X-ray's lines, with the lines it wrapped joined again."""
    lines = []
    for line in xray.split("\n"):
        if lines and line.startswith(" " * (len(lines[-1]) - len(lines[-1].lstrip()) + 4)):
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


def pipe_ends(xray):
    """Each pipe of the X-ray: {id: (pids holding its write end, pids holding its read end)}."""
    pipes = {}
    for line in xray_lines(xray):
        m = re.match(r"\s*pipe (\d+): write end(.*), read end(.*)", line)
        if m:
            pipes[m.group(1)] = tuple(set(re.findall(r"pid (\d+) \(fds? ", part))
                                      for part in m.group(2, 3))
    return pipes


def test_pid(xray):
    m = re.search(r"pid (\d+) \([^)]*\), the test itself", xray)
    return m.group(1) if m else None


def check_xray():
    # Lab 05's parent keeps the write end of every pipe: the stage reading it waits for ever.
    t, report, why = xray_of("05-pipeline", "parent-keeps-write-end", "test_cat_grep_wc")
    xray = (t or {}).get("xray", "")
    me = test_pid(xray)
    shared = [(p, w, r) for p, (w, r) in pipe_ends(xray).items() if me in w and len(w) >= 2 and r - {me}]
    say(t and t["status"] != "pass" and shared,
        "X-ray: a write end left open in the parent shows the pipe's write end in two processes "
        "(the test's own and a stage) and its read end in the stage waiting for end of file",
        f"{why}{t and t['status']}: {xray!r}")
    p = shared[0][0] if shared else "?"
    fd_lines = [line for line in xray_lines(xray) if line.lstrip().startswith("fds ")]
    say(len([line for line in fd_lines if f"pipe {p} write end" in line]) >= 2
        and re.search(r"\(grep\): S sleeping", xray),
        "X-ray: each process's line shows its state, and its descriptors say which pipe end they hold",
        xray)
    try:
        import jsonschema
        with open(os.path.join(ROOT, "tests", "formats", "report.schema.json")) as f:
            jsonschema.validate(report, json.load(f))
        say(True, "X-ray: a JSON report with an xray field matches tests/formats/report.schema.json")
    except ImportError:
        skip("X-ray: the JSON report with an xray matches its schema", "python3-jsonschema is missing")
    except Exception as e:  # jsonschema.ValidationError, or no report at all
        say(False, "X-ray: a JSON report with an xray field matches tests/formats/report.schema.json",
            str(e)[:300])

    # Lab 04's parent keeps the write end: it reads a pipe whose writer is itself.
    t, _, why = xray_of("04-pipes", "parent-keeps-write-end", "test_pc_eof")
    xray = (t or {}).get("xray", "")
    me = test_pid(xray)
    own = [p for p, (w, r) in pipe_ends(xray).items() if me in w and me in r]
    say(t and own and re.search(r"^\s+pid \d+ \(tests\): Z zombie", xray, re.M),
        "X-ray: lab 04's parent keeping the write end shows the reading process holding both ends "
        "of its pipe, and the producer ended (Z)", f"{why}{xray!r}")

    # A zombie left by a leak check. The child is killed mid-frame and is now and then still
    # exiting when the check looks ("still running"): the X-ray then says R, so try again.
    for attempt in range(4):
        t, _, why = xray_of("04-pipes", "no-reap-on-error", "test_pc_error_cleanup")
        xray = (t or {}).get("xray", "")
        if not t or "zombie" in t["message"]:
            break
    say(t and "zombie" in t["message"] and re.search(r"^  pid \d+ \(tests\): Z zombie", xray, re.M),
        "X-ray: a child never waited for shows under the test's process with state Z",
        f"{why}{xray!r}")

    # Children still running when the leak check looks (some may have ended: zombies then).
    t, _, why = xray_of("01-processes", "wait-nohang", "test_run_all_reaps_every_child")
    xray = (t or {}).get("xray", "")
    kids = re.findall(r"^  pid \d+ \(\S+\): ([RSD])", xray, re.M)
    say(t and re.search("still running|zombie", t["message"]) and kids,
        "X-ray: children left running show under the test's process with their state (R, S or D)",
        f"{why}{xray!r}")

    # The runner's own timeout: the X-ray is taken before anything is killed.
    sub = make_submission(os.path.join(WORK, "xray", "deadlock"),
                          {"01-processes/processes.c": os.path.join(ROOT, "tests", "hostile", "deadlock.c")})
    rc, report, err = grade(sub, ["01"], args=["--test", "test_exit_code_exited"])
    t = test_of(lab_of(report, "01-processes"), "test_exit_code_exited") or {}
    say(t.get("status") == "timeout" and re.search(r"the test itself: 2 threads: S", t.get("xray", "")),
        "X-ray: at a timeout the runner shows the hung process and each of its threads' state",
        f"{t.get('status')}: {t.get('xray')!r} {err[:200]}")

    # A test that passes has none.
    rc, report, err = grade(os.path.join(ROOT, "solutions"), ["04"])
    tests = (lab_of(report, "04-pipes") or {}).get("tests", [])
    say(tests and rc == 0 and not any("xray" in t for t in tests),
        "X-ray: the solution's passing tests carry no xray", err[:300])


def main():
    sections = sys.argv[1:] or ["cli", "solutions", "skeletons", "cache", "mutants", "hostile", "class",
                                "loop", "xray"]
    for s in sections:
        if s == "cli":
            check_cli()
        elif s == "solutions":
            check_solutions()
        elif s == "skeletons":
            check_skeletons()
        elif s == "cache":
            check_cache()
        elif s == "mutants":
            check_mutants()
        elif s == "hostile":
            check_hostile(["namespace", "plain"])
        elif s == "class":
            check_class()
        elif s == "xray":
            check_xray()
        elif s == "loop":
            check_seeds()
            check_diff()
            check_progress()
        else:
            print(f"grading.py: unknown section {s}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
