#!/usr/bin/env python3
"""Independent checks of the fixture's PerfView XML, Chrome trace and folded
outputs with python's own parsers (xml.etree, json). Usage:
check_formats.py WRITER WORKDIR"""
import glob
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

NASTY = "operator<<(a&b, \"q\" 'x';y)"
WEIRD_COMM = "we<ird> & \"name\" 'x'"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def perfview(out):
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "*.PerfView.xml")))
    check(files == ["fixture.app.cpu.PerfView.xml", "fixture.app.off_cpu.PerfView.xml",
                    "fixture.we_ird_____name___x_.cpu.PerfView.xml"], f"perfview files {files}")
    all_frames = set()
    totals = {}
    for name in files:
        root = ET.parse(os.path.join(out, name)).getroot()
        check(root.tag == "StackWindow", f"{name}: root {root.tag}")
        source = root.find("StackSource")
        frames = source.find("Frames")
        stacks = source.find("Stacks")
        samples = source.find("Samples")
        check(None not in (frames, stacks, samples), f"{name}: missing sections")
        frame_ids = {}
        for f in frames.findall("Frame"):
            frame_ids[int(f.get("ID"))] = f.text
            all_frames.add(f.text)
        check(int(frames.get("Count")) == len(frame_ids), f"{name}: frame count")
        check(sorted(frame_ids) == list(range(len(frame_ids))), f"{name}: frame ids not dense")
        stack_ids = {}
        for s in stacks.findall("Stack"):
            stack_ids[int(s.get("ID"))] = (int(s.get("CallerID")), int(s.get("FrameID")))
        check(int(stacks.get("Count")) == len(stack_ids), f"{name}: stack count")
        for sid, (caller, frame) in stack_ids.items():
            check(caller == -1 or (caller in stack_ids and caller < sid), f"{name}: caller of {sid}")
            check(frame in frame_ids, f"{name}: frame of {sid}")
        metric = 0.0
        count = 0
        for s in samples.findall("Sample"):
            check(int(s.get("StackID")) in stack_ids, f"{name}: sample stack")
            metric += float(s.get("Metric"))
            count += int(s.get("Count"))
        check(int(samples.get("Count")) == len(samples.findall("Sample")), f"{name}: sample count")
        totals[name] = (count, round(metric, 3))
    check(totals.get("fixture.app.cpu.PerfView.xml") == (7, 7.0), f"app cpu totals {totals}")
    check(totals.get("fixture.app.off_cpu.PerfView.xml") == (3, 10.0), f"app off-cpu totals {totals}")
    # Escaping round-trips: the parser gives back the exact names.
    check("app!" + NASTY in all_frames, "nasty frame name did not round-trip")
    check(WEIRD_COMM + " (200)" in all_frames, "weird comm did not round-trip")
    check("app!std::vector<int>::push_back(int const&)" in all_frames, "template name")


def chrome(out):
    with open(os.path.join(out, "fixture.trace.json"), encoding="utf-8") as f:
        trace = json.load(f)
    events = trace["traceEvents"]
    frames = trace["stackFrames"]
    other = trace["otherData"]
    check(other.get("host") == "test-host" and other.get("lost.total") == "4", f"otherData {other}")
    cpu = [e for e in events if e.get("cat") == "cpu"]
    off = [e for e in events if e.get("cat") == "off_cpu"]
    meta = [e for e in events if e["ph"] == "M"]
    check(len(cpu) == 9 and len(off) == 3, f"cpu {len(cpu)} off {len(off)}")
    check(len(meta) == 7, f"metadata events {len(meta)}")
    check(abs(sum(e["dur"] for e in off) - 10000.0) < 1e-6, "off-cpu durations")
    for e in cpu + off:
        check(e["ph"] == "X" and e["sf"] in frames, f"event {e}")
    for key, fr in frames.items():
        check("parent" not in fr or fr["parent"] in frames, f"frame {key} parent")
    names = {fr["name"] for fr in frames.values()}
    check("app!" + NASTY in names, "nasty name in stackFrames")
    # Per thread, slices never overlap (Perfetto needs nesting).
    by_thread = {}
    for e in cpu + off:
        by_thread.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["dur"]))
    for key, slices in by_thread.items():
        slices.sort()
        for (t0, d0), (t1, _) in zip(slices, slices[1:]):
            check(t0 + d0 <= t1 + 1e-9, f"overlap on {key}")


def folded(out):
    total = 0
    # Strict UTF-8: invalid bytes in symbol names must have been replaced.
    with open(os.path.join(out, "fixture.cpu.folded"), encoding="utf-8", errors="strict") as f:
        lines = f.read().split("\n")
    check(lines[-1] == "", "folded must end with a newline")
    for line in lines[:-1]:
        stack, _, value = line.rpartition(" ")
        check(value.isdigit(), f"folded value {line!r}")
        frames = stack.split(";")
        check(all(frames) and len(frames) >= 2, f"folded frames {line!r}")
        total += int(value)
    check(total == 9, f"folded total {total}")


def speedscope(out):
    for name in ("fixture.cpu.speedscope.json", "fixture.off_cpu.speedscope.json"):
        with open(os.path.join(out, name), encoding="utf-8") as f:
            doc = json.load(f)
        n = len(doc["shared"]["frames"])
        for p in doc["profiles"]:
            check(len(p["samples"]) == len(p["weights"]), f"{name}: samples/weights")
            for s in p["samples"]:
                check(all(0 <= i < n for i in s), f"{name}: frame index")


def main():
    writer, work = sys.argv[1], sys.argv[2]
    out = os.path.join(work, "out")
    subprocess.run(["rm", "-rf", out], check=True)
    os.makedirs(out)
    subprocess.run([writer, out], check=True)
    perfview(out)
    chrome(out)
    folded(out)
    speedscope(out)
    if failures:
        for f in failures:
            print("check_formats: FAIL:", f, file=sys.stderr)
        sys.exit(1)
    print("check_formats: ok")


if __name__ == "__main__":
    main()
