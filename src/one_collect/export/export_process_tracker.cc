#include "one_collect/export/export_process_tracker.h"

#include <algorithm>

namespace one_collect {

// --------------------------------------------------------------- ExportProcess

void ExportProcess::insert_mapping(const ExportMapping& mapping) {
  auto it = std::upper_bound(
      mappings_.begin(), mappings_.end(), mapping,
      [](const ExportMapping& a, const ExportMapping& b) { return a.start < b.start; });
  auto index = static_cast<std::size_t>(it - mappings_.begin());
  mappings_.insert(it, mapping);
  max_end_.resize(mappings_.size());
  for (std::size_t i = index; i < mappings_.size(); ++i) {
    std::uint64_t prev = i == 0 ? 0 : max_end_[i - 1];
    max_end_[i] = std::max(prev, mappings_[i].end);
  }
}

const ExportMapping* ExportProcess::find_mapping(std::uint64_t ip, std::uint64_t time) const {
  auto it = std::upper_bound(mappings_.begin(), mappings_.end(), ip,
                             [](std::uint64_t a, const ExportMapping& m) { return a < m.start; });
  const ExportMapping* newest_before = nullptr;
  const ExportMapping* oldest = nullptr;
  // Walk back over mappings starting at or below ip; stop once no earlier
  // mapping can reach ip.
  for (auto i = static_cast<std::size_t>(it - mappings_.begin()); i > 0; --i) {
    if (max_end_[i - 1] <= ip) break;
    const ExportMapping& m = mappings_[i - 1];
    if (!m.contains(ip)) continue;
    if (m.time <= time && (!newest_before || m.time >= newest_before->time)) newest_before = &m;
    if (!oldest || m.time < oldest->time) oldest = &m;
  }
  return newest_before ? newest_before : oldest;
}

// -------------------------------------------------------- ExportProcessTracker

ExportProcessTracker::ExportProcessTracker(StringId kernel_name) {
  kernel_mapping_.start = kKernelAddressStart;
  kernel_mapping_.end = std::numeric_limits<std::uint64_t>::max();
  kernel_mapping_.filename = kernel_name;
  kernel_mapping_.kernel = true;
  kernel_mapping_.id = next_mapping_id_++;
}

ExportProcess& ExportProcessTracker::process(std::uint32_t pid) {
  auto [it, added] = index_.emplace(pid, static_cast<std::uint32_t>(processes_.size()));
  if (added) {
    processes_.emplace_back();
    processes_.back().pid = pid;
    processes_.back().ns_pid = pid;
  }
  return processes_[it->second];
}

const ExportProcess* ExportProcessTracker::find(std::uint32_t pid) const {
  auto it = index_.find(pid);
  return it == index_.end() ? nullptr : &processes_[it->second];
}

ExportProcess* ExportProcessTracker::find(std::uint32_t pid) {
  auto it = index_.find(pid);
  return it == index_.end() ? nullptr : &processes_[it->second];
}

void ExportProcessTracker::start(std::uint32_t pid, std::uint64_t time, StringId comm) {
  ExportProcess& p = process(pid);
  p.start_time = time;
  if (comm != 0) p.comm = comm;
}

void ExportProcessTracker::exit(std::uint32_t pid, std::uint64_t time) {
  process(pid).exit_time = time;
}

void ExportProcessTracker::fork(std::uint32_t parent_pid, std::uint32_t child_pid,
                                std::uint64_t time) {
  if (parent_pid == child_pid) return;
  process(parent_pid);  // both exist; the references below stay valid
  ExportProcess& child = process(child_pid);
  const ExportProcess& parent = *find(parent_pid);
  child.start_time = time;
  child.comm = parent.comm;
  child.cmdline = parent.cmdline;
  child.anon_symbols = parent.anon_symbols;
  for (ExportMapping m : parent.mappings_) {
    m.id = next_mapping_id_++;
    child.insert_mapping(m);
  }
}

std::uint32_t ExportProcessTracker::add_mapping(std::uint32_t pid, ExportMapping mapping) {
  if (mapping.end <= mapping.start) return 0;
  mapping.id = next_mapping_id_++;
  process(pid).insert_mapping(mapping);
  return mapping.id;
}

const ExportMapping* ExportProcessTracker::find_mapping(std::uint32_t pid, std::uint64_t ip,
                                                        std::uint64_t time) const {
  if (ip >= kKernelAddressStart) {
    // Kernel modules may be registered as mappings of pid 0 or the process;
    // fall back to the machine-wide kernel mapping.
    if (const ExportProcess* p = find(pid)) {
      if (const ExportMapping* m = p->find_mapping(ip, time)) return m;
    }
    return &kernel_mapping_;
  }
  const ExportProcess* p = find(pid);
  return p ? p->find_mapping(ip, time) : nullptr;
}

std::size_t ExportProcessTracker::memory_bytes() const {
  std::size_t bytes = processes_.capacity() * sizeof(ExportProcess);
  for (const ExportProcess& p : processes_) {
    bytes += p.mappings_.capacity() * (sizeof(ExportMapping) + sizeof(std::uint64_t));
  }
  return bytes;
}

}  // namespace one_collect
