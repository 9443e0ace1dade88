#!/usr/bin/env python3
"""Reads the JUnit/GoogleTest XML reports of one scripts/test run and prints
the summary: passed, failed and skipped apart, each failure and each skip by
name with its reason.

A skip is expected only when scripts/expected-skips names the test (with why
it cannot run on this machine kind). With --require-expected (CI) any other
skip fails the run, as a failure does.

usage: test_report.py [--require-expected] EXPECTED_SKIPS LABEL=REPORT.xml...
Exit status: 0 all passed (and skips allowed), 1 otherwise.
"""
import re
import sys
import xml.etree.ElementTree as ET


def load_expected(path):
    expected = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, why = line.partition(":")
            if not sep or not why.strip():
                sys.exit(f"{path}:{number}: expected 'Suite.Test: why it cannot run here'")
            expected[name.strip()] = why.strip()
    return expected


def skip_reason(case):
    """The message GoogleTest printed after 'Skipped' (ctest keeps the test's
    output in system-out; GoogleTest's own XML puts it in the message)."""
    skipped = case.find("skipped")
    message = skipped.get("message", "") if skipped is not None else ""
    out = case.findtext("system-out") or ""
    lines = out.splitlines()
    for i, text in enumerate(lines):
        if re.search(r": Skipped$", text):
            reason = []
            for following in lines[i + 1:]:
                if following.startswith("["):  # GoogleTest's next status line
                    break
                reason.append(following.strip())
            return " ".join(reason).strip() or "(no reason given)"
    if message and message != "SKIP_REGULAR_EXPRESSION_MATCHED":
        return " ".join(message.splitlines()[1:] or message.splitlines()).strip()
    return "(no reason given)"


def failure_reason(case):
    """GoogleTest's first failure message when the output has one, else the
    runner's (ctest: "Failed", "Timeout", ...)."""
    out = (case.findtext("system-out") or "").splitlines()
    for i, text in enumerate(out):
        if text.endswith(": Failure") and i + 1 < len(out):
            return f"{text[:-len(': Failure')]}: {out[i + 1].strip()}"
    node = case.find("failure")
    if node is None:
        node = case.find("error")
    message = node.get("message", "") if node is not None else ""
    return message.splitlines()[0] if message else "failed"


def read_report(label, path):
    """Yields (label, test name, outcome, reason) for every test case."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        yield label, "(report)", "failed", f"no readable report {path}: {e}"
        return
    for case in root.iter("testcase"):
        classname = case.get("classname", "")
        name = case.get("name", "")
        # GoogleTest's XML: name is the test, classname the suite.
        full = name if "." in name or not classname else f"{classname}.{name}"
        status = case.get("status", "")
        result = case.get("result", "")
        if case.find("failure") is not None or case.find("error") is not None or status == "fail":
            yield label, full, "failed", failure_reason(case)
        elif case.find("skipped") is not None or status == "notrun" or result == "skipped":
            yield label, full, "skipped", skip_reason(case)
        else:
            yield label, full, "passed", ""


def main(argv):
    require = "--require-expected" in argv
    args = [a for a in argv if a != "--require-expected"]
    if len(args) < 2:
        sys.exit(__doc__)
    expected = load_expected(args[0])
    rows = []
    for spec in args[1:]:
        label, _, path = spec.partition("=")
        rows.extend(read_report(label, path))

    passed = sum(1 for r in rows if r[2] == "passed")
    failed = [r for r in rows if r[2] == "failed"]
    skipped = [r for r in rows if r[2] == "skipped"]
    unexpected = [r for r in skipped if r[1] not in expected]

    for label, name, _, reason in failed:
        print(f"FAILED  [{label}] {name}: {reason}")
    for label, name, _, reason in skipped:
        if name in expected:
            print(f"SKIPPED [{label}] {name}: {reason} (expected: {expected[name]})")
        else:
            tag = "UNEXPECTED SKIP" if require else "SKIPPED"
            print(f"{tag} [{label}] {name}: {reason}")
    print(f"tests: {passed} passed, {len(failed)} failed, {len(skipped)} skipped"
          f" ({len(unexpected)} not expected on this machine kind)")
    if require and unexpected:
        print("a skip not listed in scripts/expected-skips fails the run "
              "(ONE_COLLECT_REQUIRE_PRIVILEGED=1)")
    return 1 if failed or (require and unexpected) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
