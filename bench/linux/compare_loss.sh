#!/usr/bin/env bash
# Loss under load: both CPUs busy, sampling every CPU at 20 kHz with 8 KiB
# user stacks, by `perf record --call-graph dwarf -a` (default buffers, to a
# file) and by one_collect (perf_loss_record: default 1 MiB rings per CPU and
# the reader thread). Prints each side's loss percentage:
#   loss = lost samples / (received + lost samples).
# Usage (root): bench/linux/compare_loss.sh [SECONDS=5] [FREQ=20000]
# BIN (default build/bin) holds perf_loss_record and perf_test_target.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-5}
freq=${2:-20000}
bin=${BIN:-build/bin}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

load() {  # one CPU-bound process per CPU for the duration
  for _ in $(seq "$(nproc)"); do
    "$bin/perf_test_target" spin $(( (seconds + 2) * 1000 )) &
  done
  sleep 0.3
}

load
perf record -q -o "$tmp/perf.data" -F "$freq" --call-graph dwarf -a -- sleep "$seconds" >/dev/null 2>&1 || true
wait
# perf's per-event stats blocks ("cpu-clock:ppp stats:") count the samples
# received and, as "LOST_SAMPLES events", the samples lost (from its LOST and
# LOST_SAMPLES records).
stats=$(perf report -i "$tmp/perf.data" --stats 2>/dev/null)
samples=$(awk '/ stats:$/ {ev=1} ev && /SAMPLE events:/ && !/LOST/ {s += $3} END {print s + 0}' <<<"$stats")
perf_lost=$(awk '/ stats:$/ {ev=1} ev && /LOST_SAMPLES events:/ {s += $3} END {print s + 0}' <<<"$stats")
echo "perf record: samples $samples, lost $perf_lost"
awk -v s="$samples" -v l="$perf_lost" 'BEGIN {printf "perf loss: %.2f%%\n", (s + l) ? 100 * l / (s + l) : 0}'

load
"$bin/perf_loss_record" "$seconds" "$freq" 8192
wait
