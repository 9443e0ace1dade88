// OffCpuTracker: pairs each thread's switch-out with its next switch-in and
// turns the wait between them into an off_cpu sample (value: nanoseconds
// waited; stack: the one captured at switch-out, where the thread blocked).
//
// One pending switch per thread: a second switch-out before a switch-in
// (a lost record) replaces the first. The idle task (tid 0) never waits, and
// a switch-in earlier than its switch-out (records out of order) yields no
// sample, since there is no honest duration to report.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "one_collect/export/export_sample.h"

namespace one_collect {

class OffCpuTracker {
 public:
  void switch_out(std::uint32_t pid, std::uint32_t tid, std::uint16_t cpu, std::uint64_t time,
                  std::uint64_t leaf_ip, CallstackId callstack);
  // The finished wait of `tid` as a sample of `kind`, or nothing when no
  // switch-out is pending for it (or the times are out of order).
  std::optional<ExportSample> switch_in(std::uint32_t tid, std::uint64_t time, SampleKind kind);
  std::size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    std::uint64_t time;
    std::uint64_t leaf_ip;
    std::uint32_t pid;
    CallstackId callstack;
    std::uint16_t cpu;
  };
  std::unordered_map<std::uint32_t, Pending> pending_;
};

}  // namespace one_collect
