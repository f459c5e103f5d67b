#!/usr/bin/env python3
"""Checks of ipcgrade's report formats that need more than a shell, for
tests/checks/formats.sh. Each command prints nothing and exits 0 when the
check holds; otherwise it prints why on one line and exits 1.

  formats.py schema SCHEMA FILE        FILE (JSON) is valid against SCHEMA
  formats.py agree JSON TAP JUNIT GS   TAP, JUnit and Gradescope carry JSON's numbers
  formats.py hostile JSON TAP JUNIT GS TEXT
                                       the hostile bytes came through escaped and intact
"""
import json
import re
import sys
import xml.etree.ElementTree as ET

# What the hostile suite and submission print; see tests/checks/formats.sh.
HOSTILE_TEXT = '<&"\''
ESC = "\x1b"
DEL = "\x7f"


def fail(why):
    print(why)
    sys.exit(1)


def load_json(path):
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def schema(schema_path, path):
    import jsonschema

    try:
        jsonschema.validate(load_json(path), load_json(schema_path))
    except jsonschema.ValidationError as e:
        fail("%s: %s (at %s)" % (path, e.message, "/".join(str(p) for p in e.absolute_path)))


def expected(report):
    """What every format must say, from the JSON report: per lab and in all."""
    labs = {}
    for lab in report["labs"]:
        not_built = lab["state"] in ("build error", "error")
        tests = lab["tests"] or [None]  # a lab without tests still gets one failing entry
        labs[lab["id"]] = {
            "tests": len(tests),
            "passed": sum(1 for t in lab["tests"] if t["status"] == "pass"),
            "skipped": sum(1 for t in lab["tests"] if t["status"] == "skipped" and not not_built),
            "score": lab["score"],
            "max_score": lab["max_score"],
        }
    return labs


def tap_counts(path):
    oks, not_oks, skips = 0, 0, 0
    with open(path, "rb") as f:
        for line in f.read().decode("utf-8").splitlines():
            if re.match(r"^ok \d+ - ", line):
                oks += 1
                skips += " # SKIP " in line
            elif re.match(r"^not ok \d+ - ", line):
                not_oks += 1
    return oks, not_oks, skips


def agree(json_path, tap_path, junit_path, gs_path):
    report = load_json(json_path)
    labs = expected(report)
    tests = sum(l["tests"] for l in labs.values())
    passed = sum(l["passed"] for l in labs.values())
    skipped = sum(l["skipped"] for l in labs.values())

    oks, not_oks, skips = tap_counts(tap_path)
    if (oks, not_oks, skips) != (passed + skipped, tests - passed - skipped, skipped):
        fail("TAP has %d ok (%d skipped) and %d not ok; the JSON report says %d passed, %d "
             "skipped of %d" % (oks, skips, not_oks, passed, skipped, tests))

    root = ET.parse(junit_path).getroot()
    if int(root.get("tests")) != tests or int(root.get("skipped")) != skipped:
        fail("JUnit says %s tests, %s skipped; JSON %d, %d"
             % (root.get("tests"), root.get("skipped"), tests, skipped))
    if int(root.get("failures")) + int(root.get("errors")) != tests - passed - skipped:
        fail("JUnit's failures and errors do not add up to the JSON report's failed tests")
    for suite in root.iter("testsuite"):
        lab = labs.get(suite.get("name"))
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        if not lab or int(suite.get("tests")) != lab["tests"] \
                or int(props["score"]) != lab["score"] or int(props["max_score"]) != lab["max_score"]:
            fail("JUnit's suite %s does not match the JSON report" % suite.get("name"))

    gs = load_json(gs_path)
    listed = sum(len(l["tests"]) for l in report["labs"])
    if gs["score"] != report["score"] or len(gs["tests"]) != listed:
        fail("Gradescope: score %s over %d tests; JSON: %s over %d"
             % (gs["score"], len(gs["tests"]), report["score"], listed))
    if sum(t["max_score"] for t in gs["tests"]) != report["max_score"]:
        fail("Gradescope's max_score do not add up to the JSON report's")
    if sum(t["status"] == "passed" for t in gs["tests"]) != passed:
        fail("Gradescope's passed tests are not the JSON report's")


def raw_controls(data):
    """Control bytes a report must never hold raw (all but tab and newline)."""
    return [b for b in data if (b < 0x20 and b not in (9, 10)) or b == 0x7f]


def hostile(json_path, tap_path, junit_path, gs_path, text_path):
    report = load_json(json_path)
    tests = [t for lab in report["labs"] for t in lab["tests"]]
    bad = [t for t in tests if t["name"] == "test_hostile_bytes"]
    if not bad:
        fail("the JSON report has no test_hostile_bytes")
    t = bad[0]
    # The runner drops most control characters from messages and hints; DEL stays.
    for field in ("message", "hint"):
        if HOSTILE_TEXT not in t[field] or DEL not in t[field] or "\ufffd" not in t[field]:
            fail("JSON %s lost the hostile bytes: %r" % (field, t[field]))
    if not any(ESC in x["output"] and HOSTILE_TEXT in x["output"] for x in tests):
        fail("no JSON test output holds the hostile output")
    if not any(ESC in lab["build"]["log"] for lab in report["labs"]):
        fail("no JSON build log holds the hostile compiler message")
    if ESC not in report["submission"] or HOSTILE_TEXT not in report["submission"]:
        fail("the JSON submission path lost its hostile characters")

    for path in (tap_path, junit_path, text_path):
        with open(path, "rb") as f:
            data = f.read()
        if raw_controls(data):
            fail("%s holds raw control bytes %r" % (path, sorted(set(raw_controls(data)))[:5]))
        data.decode("utf-8")  # raises on invalid UTF-8

    root = ET.parse(junit_path).getroot()
    case = [c for c in root.iter("testcase") if c.get("name") == "test_hostile_bytes"][0]
    problem = case.find("failure")
    if problem is None or HOSTILE_TEXT not in problem.get("message") \
            or "\u2421" not in problem.get("message") or "\u2421" not in problem.text:
        fail("JUnit's failure of test_hostile_bytes lost the hostile bytes")
    if not any(HOSTILE_TEXT in (c.findtext("system-out") or "") and "\u241b" in c.findtext("system-out")
               for c in root.iter("testcase")):
        fail("no JUnit system-out holds the hostile output, its ESC shown as U+241B")

    gs = load_json(gs_path)
    g = [x for x in gs["tests"] if x["name"].endswith("test_hostile_bytes")][0]
    if HOSTILE_TEXT not in g["output"] or ESC not in g["output"]:
        fail("Gradescope's output of test_hostile_bytes lost the hostile bytes")


def main():
    commands = {"schema": (schema, 2), "agree": (agree, 4), "hostile": (hostile, 5)}
    if len(sys.argv) < 2 or sys.argv[1] not in commands \
            or len(sys.argv) - 2 != commands[sys.argv[1]][1]:
        fail(__doc__)
    try:
        commands[sys.argv[1]][0](*sys.argv[2:])
    except (OSError, ValueError, KeyError, IndexError, ET.ParseError) as e:
        fail("%s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    main()
