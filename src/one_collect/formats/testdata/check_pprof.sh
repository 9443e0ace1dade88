#!/usr/bin/env bash
# Independent check of the pprof writer: the pprof project's Go package
# (Parse + CheckValid) and `go tool pprof -top` read the fixture's profiles.
# Needs golang-go and golang-github-google-pprof-dev (scripts/setup); fails
# when they are missing. Builds offline from Debian's GOPATH.
set -euo pipefail
writer=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)

command -v go >/dev/null || { echo "check_pprof: go is missing: run scripts/setup" >&2; exit 1; }
[[ -d /usr/share/gocode/src/github.com/google/pprof/profile ]] ||
  { echo "check_pprof: golang-github-google-pprof-dev is missing: run scripts/setup" >&2; exit 1; }

rm -rf "$work/out"
mkdir -p "$work/out" "$work/gocache"
"$writer" "$work/out"

export GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$work/gocache" GOFLAGS= GOPROXY=off
cp "$here/pprof_check/main.go" "$work/main.go"
(cd "$work" && go build -o "$work/pprof_check" main.go)

"$work/pprof_check" -type cpu -unit nanoseconds -samples 9 -value 9000000 \
  -functions 'main,do_syscall_64,read,std::vector<int>::push_back(int const&)' \
  -comment 'lost.total: 4' "$work/out/fixture.cpu.pb.gz"
"$work/pprof_check" -type off-cpu -unit nanoseconds -samples 3 -value 10000000 \
  -functions 'schedule,read' -comment 'host: test-host' "$work/out/fixture.off_cpu.pb.gz"

top=$(HOME="$work" go tool pprof -top "$work/out/fixture.cpu.pb.gz" 2>&1)
echo "$top"
grep -q 'push_back' <<<"$top" || { echo "check_pprof: go tool pprof -top lacks push_back" >&2; exit 1; }
grep -q 'Type: cpu' <<<"$top" || { echo "check_pprof: go tool pprof -top lacks 'Type: cpu'" >&2; exit 1; }
# 3 of the 9 ms are in push_back itself (flat).
grep -Eq '^ +3ms +33\.33%.*push_back' <<<"$top" ||
  { echo "check_pprof: unexpected flat time for push_back" >&2; exit 1; }
echo "check_pprof: ok"
