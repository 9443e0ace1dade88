#include "one_collect/export/off_cpu_tracker.h"

namespace one_collect {

void OffCpuTracker::switch_out(std::uint32_t pid, std::uint32_t tid, std::uint16_t cpu,
                               std::uint64_t time, std::uint64_t leaf_ip, CallstackId callstack) {
  if (tid == 0) return;  // the idle task never waits
  pending_[tid] = Pending{time, leaf_ip, pid, callstack, cpu};
}

std::optional<ExportSample> OffCpuTracker::switch_in(std::uint32_t tid, std::uint64_t time,
                                                     SampleKind kind) {
  auto it = pending_.find(tid);
  if (it == pending_.end()) return std::nullopt;
  Pending p = it->second;
  pending_.erase(it);
  if (time < p.time) return std::nullopt;  // out-of-order records: no honest duration
  ExportSample s;
  s.time = p.time;
  s.value = time - p.time;
  s.leaf_ip = p.leaf_ip;
  s.pid = p.pid;
  s.tid = tid;
  s.callstack = p.callstack;
  s.cpu = p.cpu;
  s.kind = kind;
  return s;
}

}  // namespace one_collect
