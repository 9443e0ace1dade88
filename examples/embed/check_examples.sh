#!/usr/bin/env bash
# Runs the embedding examples as the ctest tests examples.embed.* and checks
# their output (examples/embed/CMakeLists.txt):
#   check_examples.sh tracepoint  TRACEPOINT_FIELDS
#   check_examples.sh cpu_command CPU_PROFILE DEMO_WORKLOAD WORKDIR
#   check_examples.sh cpu_pid     CPU_PROFILE DEMO_WORKLOAD WORKDIR
# They need root (perf_events, tracefs). Without it: a skip (exit 77), or a
# failure when ONE_COLLECT_REQUIRE_PRIVILEGED=1 (CI). The pprof files are read
# by `go tool pprof` (golang-go, installed by scripts/setup; missing: failure).
set -euo pipefail
mode=$1
shift

fail() { echo "check_examples ($mode): $*" >&2; exit 1; }

if [[ $(id -u) != 0 ]]; then
  [[ ${ONE_COLLECT_REQUIRE_PRIVILEGED:-} == 1 ]] &&
    fail "needs root, and ONE_COLLECT_REQUIRE_PRIVILEGED=1 forbids skipping"
  echo "examples.embed.$mode: Skipped"
  echo "needs root (perf_events / tracefs); run as root to include it"
  exit 77
fi

# The pprof file must hold CPU samples naming the demo workload's functions.
check_pprof() {
  local profile=$1 work=$2
  [[ -s $profile ]] || fail "no profile written at $profile"
  command -v go >/dev/null || fail "go is missing: run scripts/setup (golang-go)"
  local top
  top=$(HOME="$work" GOCACHE="$work/gocache" go tool pprof -top "$profile" 2>&1) ||
    fail "go tool pprof could not read $profile: $top"
  echo "$top" | head -n 15
  grep -q 'Type: cpu' <<<"$top" || fail "go tool pprof -top lacks 'Type: cpu'"
  grep -Eq 'sort_work|map_work|hash_work' <<<"$top" ||
    fail "no demo_workload function (sort_work, map_work, hash_work) in the profile"
}

# "N samples written to FILE" with N > 0.
check_summary() {
  local output=$1 profile=$2
  echo "$output"
  grep -Eq "^[1-9][0-9]* samples written to $profile\$" <<<"$output" ||
    fail "expected 'N samples written to $profile' with N > 0"
}

case $mode in
  tracepoint)
    out=$("$1" 5) || fail "exit status $?"
    echo "$out"
    lines=$(grep -c . <<<"$out" || true)
    [[ $lines == 5 ]] || fail "expected 5 lines, got $lines"
    bad=$(grep -Ev '^prev_comm=.+ prev_pid=[0-9]+ next_comm=.+$' <<<"$out" || true)
    [[ -z $bad ]] || fail "lines without the three fields: $bad"
    ;;
  cpu_command)
    profile_bin=$1 workload=$2 work=$3
    rm -rf "$work" && mkdir -p "$work"
    out=$("$profile_bin" "$work/cpu.pb.gz" -- "$workload" --seconds 1 --threads 1) ||
      fail "exit status $?"
    check_summary "$out" "$work/cpu.pb.gz"
    check_pprof "$work/cpu.pb.gz" "$work"
    ;;
  cpu_pid)
    profile_bin=$1 workload=$2 work=$3
    rm -rf "$work" && mkdir -p "$work"
    "$workload" --seconds 4 --threads 1 >"$work/workload.out" &
    pid=$!
    trap 'kill $pid 2>/dev/null || true' EXIT
    sleep 0.2  # let it reach its hot loop
    out=$("$profile_bin" "$work/cpu.pb.gz" --pid "$pid" 1) || fail "exit status $?"
    check_summary "$out" "$work/cpu.pb.gz"
    check_pprof "$work/cpu.pb.gz" "$work"
    ;;
  *) fail "unknown mode" ;;
esac
echo "check_examples ($mode): ok"
