#!/usr/bin/env bash
# Measures every speed target of the core/export issue in one run and prints
# a table against the targets:
#   dispatch of one callback reading three fields (and the empty callback),
#   interning hits (strings and 16-frame stacks; uniform over 1M, hot set),
#   export of 1M samples / 100k stacks to each format.
#
#   bench/run_targets.sh BUILD_DIR [BASE_BUILD_DIR] [REPETITIONS]
#
# BUILD_DIR (and BASE_BUILD_DIR) are Release build trees with benchmarks
# (their bin/ holds event_bench, intern_bench, export_bench). With a base,
# both builds run alternately, REPETITIONS times each (default 5), so a
# shared machine's load hits both alike; the table shows medians of each and
# the ratio new/base. Figures are CPU time per item (dispatch, interning) or
# per export; interning also as items/s. Needs python3.
set -euo pipefail

build=${1:?usage: bench/run_targets.sh BUILD_DIR [BASE_BUILD_DIR] [REPETITIONS]}
base=${2:-}
reps=${3:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run_one() {  # label bin_dir iteration
  local label=$1 dir=$2 i=$3
  "$dir/bin/event_bench" --benchmark_filter='Dispatch' --benchmark_format=json \
    >"$out/$label.event.$i.json" 2>/dev/null
  "$dir/bin/intern_bench" --benchmark_filter='Hit/.*:(0|2)$' --benchmark_format=json \
    >"$out/$label.intern.$i.json" 2>/dev/null
  "$dir/bin/export_bench" --benchmark_filter='Graph|Pprof|Speedscope|Folded|Chrome|PerfView' \
    --benchmark_format=json >"$out/$label.export.$i.json" 2>/dev/null
}

for i in $(seq 1 "$reps"); do
  echo "repetition $i/$reps" >&2
  run_one new "$build" "$i"
  if [[ -n $base ]]; then run_one base "$base" "$i"; fi
done

python3 - "$out" "$reps" "${base:+yes}" <<'EOF'
import glob, json, statistics, sys

out, reps, with_base = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "yes"

def times(label):
    t = {}
    for f in glob.glob(f"{out}/{label}.*.json"):
        with open(f) as fh:
            text = fh.read()
        if not text.strip():
            continue
        for b in json.loads(text)["benchmarks"]:
            scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b.get("time_unit", "ns")]
            t.setdefault(b["name"], []).append(b["cpu_time"] * scale)
    return {k: statistics.median(v) for k, v in t.items()}

new = times("new")
old = times("base") if with_base else {}

# (benchmark name, row label, unit, target, how the target reads)
rows = [
    ("BM_DispatchOneCallbackThreeFields", "dispatch, 1 callback reading 3 fields", "ns", 5e-9, "<="),
    ("BM_DispatchEmptyCallback", "dispatch, 1 empty callback", "ns", None, ""),
    ("BM_InternStringHit/uniform0_zipf1_hot2:0", "string hit, uniform over 1M", "M/s", 5e6, ">="),
    ("BM_InternStringHit/uniform0_zipf1_hot2:2", "string hit, 4096 hot of 1M", "M/s", 20e6, ">="),
    ("BM_InternCallstackHit/uniform0_zipf1_hot2:0", "stack hit, uniform over 1M", "M/s", 5e6, ">="),
    ("BM_InternCallstackHit/uniform0_zipf1_hot2:2", "stack hit, 4096 hot of 1M", "M/s", 20e6, ">="),
    ("BM_Graph/iterations:1", "export: ExportGraph alone", "s", None, ""),
    ("BM_Pprof/iterations:1", "export: pprof", "s", 0.5, "<="),
    ("BM_Speedscope/iterations:1", "export: speedscope", "s", 0.5, "<="),
    ("BM_Folded/iterations:1", "export: folded", "s", 0.5, "<="),
    ("BM_ChromeTrace/iterations:1", "export: Chrome trace", "s", 0.5, "<="),
    ("BM_PerfViewXml/iterations:1", "export: PerfView XML", "s", 0.5, "<="),
]

def show(seconds, unit):
    if seconds is None:
        return "-"
    if unit == "ns":
        return f"{seconds * 1e9:.2f} ns"
    if unit == "M/s":
        return f"{1 / seconds / 1e6:.2f} M/s"
    return f"{seconds:.3f} s"

def value(seconds, unit):
    return 1 / seconds if unit == "M/s" else seconds

header = f"{'measure':42} {'new':>12}"
if with_base:
    header += f" {'base':>12} {'new/base':>9}"
header += f" {'target':>12}  met?"
print(f"medians of {reps} repetitions, CPU time")
print(header)
for name, label, unit, target, how in rows:
    n = new.get(name)
    line = f"{label:42} {show(n, unit):>12}"
    if with_base:
        b = old.get(name)
        ratio = f"{n / b:.2f}" if n and b else "-"
        line += f" {show(b, unit):>12} {ratio:>9}"
    if target is None or n is None:
        line += f" {'':>12}"
    else:
        v = value(n, unit)
        met = v <= target if how == "<=" else v >= target
        line += f" {how + show(target if unit != 'M/s' else 1 / target, unit):>12}  {'yes' if met else 'NO'}"
    print(line)
if with_base:
    print("new/base: time ratio (below 1 = faster)")
EOF
