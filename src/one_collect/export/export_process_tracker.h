// ExportProcessTracker: the processes of a collection and the mappings of
// their address spaces over time, as the export model keeps them.
//
// Fed by the OS session (process starts, exits, forks, mappings; the Linux
// session forwards what process/ProcessTable recorded) and read by the
// formats and symbolization. Mappings are time-aware: the mapping holding an
// address at time t is the newest one created at or before t.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "one_collect/intern/interned_strings.h"

namespace one_collect {

using StringId = InternedStrings::Id;

// Kernel addresses on x86-64 / aarch64 Linux start here; everything at or
// above is resolved against the kernel's symbols, not a process mapping.
inline constexpr std::uint64_t kKernelAddressStart = 0xFFFF800000000000ULL;
inline constexpr std::uint64_t kUnknownTime = std::numeric_limits<std::uint64_t>::max();

// A mapping of a process's address space, valid from `time` on (until a later
// mapping over the same addresses replaces it).
struct ExportMapping {
  std::uint64_t start = 0;
  std::uint64_t end = 0;  // exclusive
  std::uint64_t file_offset = 0;
  std::uint64_t time = 0;
  StringId filename = 0;
  StringId build_id = 0;      // lowercase hex, 0: unknown
  std::uint32_t id = 0;       // machine-unique, 1-based
  std::uint32_t symbols = 0;  // symbol table id, 0: none yet
  // The OS session's held-open file behind the mapping (Linux: the
  // ProcessTable's MappedFile id), 0: none. Symbolization groups addresses by
  // it and reads that file, not whatever the path names after collection.
  std::uint32_t file = 0;
  bool anon = false;  // anonymous, JIT, [heap], /memfd:, /dev/zero, ... (core/mapping_name.h)
  bool kernel = false;

  bool contains(std::uint64_t ip) const { return ip >= start && ip < end; }
  // The address in the symbol table's space: a file offset for file-backed
  // mappings, the address itself for anonymous and kernel ones.
  std::uint64_t symbol_address(std::uint64_t ip) const {
    return (anon || kernel) ? ip : ip - start + file_offset;
  }
};

class ExportProcess {
 public:
  std::uint32_t pid = 0;
  std::uint32_t ns_pid = 0;  // the pid inside its namespace (perf maps use it)
  StringId comm = 0;
  StringId cmdline = 0;
  std::uint64_t start_time = kUnknownTime;  // kUnknownTime: existed before collection
  std::uint64_t exit_time = kUnknownTime;   // kUnknownTime: still running
  std::uint32_t anon_symbols = 0;           // symbol table of its anonymous code, 0: none

  const std::vector<ExportMapping>& mappings() const { return mappings_; }
  // Mappings may have their symbols / build id filled in after collection.
  std::vector<ExportMapping>& mutable_mappings() { return mappings_; }
  // The mapping containing ip at `time`: among the mappings containing ip, the
  // newest one created at or before `time`; if all are newer, the oldest.
  const ExportMapping* find_mapping(std::uint64_t ip, std::uint64_t time) const;

 private:
  friend class ExportProcessTracker;
  void insert_mapping(const ExportMapping& mapping);
  // Sorted by start; max_end_[i] = max end over mappings_[0..i], which bounds
  // the backward scan of find_mapping.
  std::vector<ExportMapping> mappings_;
  std::vector<std::uint64_t> max_end_;
};

class ExportProcessTracker {
 public:
  // `kernel_name` names the machine-wide kernel mapping.
  explicit ExportProcessTracker(StringId kernel_name);

  // Found or added (pid 0, the idle task, is accepted: kernel samples land there).
  ExportProcess& process(std::uint32_t pid);
  const ExportProcess* find(std::uint32_t pid) const;
  ExportProcess* find(std::uint32_t pid);
  const std::vector<ExportProcess>& processes() const { return processes_; }
  std::vector<ExportProcess>& mutable_processes() { return processes_; }

  void start(std::uint32_t pid, std::uint64_t time, StringId comm);  // comm 0: keep
  void exit(std::uint32_t pid, std::uint64_t time);
  // A fork: the child starts with the parent's comm, command line, anonymous
  // symbols and mappings (copied under new ids).
  void fork(std::uint32_t parent_pid, std::uint32_t child_pid, std::uint64_t time);
  // Adds `mapping` (its id is assigned here) to pid; returns the id, 0 when
  // the range is empty.
  std::uint32_t add_mapping(std::uint32_t pid, ExportMapping mapping);

  // The machine-wide kernel mapping [kKernelAddressStart, max).
  const ExportMapping& kernel_mapping() const { return kernel_mapping_; }
  ExportMapping& mutable_kernel_mapping() { return kernel_mapping_; }
  // The mapping that covers ip for this process at this time (kernel ips
  // resolve to the process's own kernel-module mappings, else kernel_mapping()).
  const ExportMapping* find_mapping(std::uint32_t pid, std::uint64_t ip, std::uint64_t time) const;

  std::size_t memory_bytes() const;

 private:
  std::vector<ExportProcess> processes_;
  std::unordered_map<std::uint32_t, std::uint32_t> index_;
  ExportMapping kernel_mapping_;
  std::uint32_t next_mapping_id_ = 1;
};

}  // namespace one_collect
