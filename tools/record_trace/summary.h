// The end-of-recording summary: what was recorded, which files were written,
// and the hottest functions by self and by total share (a compact
// `perf report --children` computed from the ExportMachine after symbols
// were resolved).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "one_collect/export/export_machine.h"

namespace one_collect::record_trace {

struct HotFunction {
  std::string name;         // demangled function, or "0x<offset>" when unknown
  std::string module;       // short file name, "[kernel]", ...
  std::uint64_t self = 0;   // value of samples whose leaf is this function
  std::uint64_t total = 0;  // value of samples with this function anywhere (once per sample)
  double self_share = 0;    // percent of all samples' value
  double total_share = 0;
};

struct HotFunctions {
  SampleKind kind = 0;
  std::uint64_t samples = 0;
  std::uint64_t value = 0;            // sum of the samples' values (ns for cpu/off_cpu)
  std::vector<HotFunction> by_self;   // descending self, then name
  std::vector<HotFunction> by_total;  // descending total, then name
};

// Functions of every sample of `kind`, valued by the kind's metric (the
// sampling period for cpu, the wait for off_cpu), recursion counted once.
HotFunctions hottest_functions(const ExportMachine& machine, SampleKind kind,
                               std::size_t count = 10);

struct WrittenFile {
  std::string path;
  std::uint64_t bytes = 0;
};

struct RecordingFacts {
  double wall_seconds = 0;      // measured by record-trace
  std::uint64_t live_lost = 0;  // lost count reported by the session's progress
  std::vector<WrittenFile> files;
  std::vector<std::string> notes;
};

// "void std::sort<...>(...)": template arguments and parameter lists
// collapsed (names with "operator" are returned as they are).
std::string compact_function_name(std::string_view name);

// "1.5 KiB", "12.0 MiB", "512 B".
std::string human_bytes(std::uint64_t bytes);
// "12,345,678".
std::string with_commas(std::uint64_t n);

// The header (samples per kind, lost with share, duration, processes with
// samples) and the files written.
std::string format_recording_summary(const ExportMachine& machine, const RecordingFacts& facts);
// The two tables for one kind, names cut to fit `width` columns.
std::string format_hot_functions(const ExportMachine& machine, const HotFunctions& hot,
                                 std::size_t width = 100);

}  // namespace one_collect::record_trace
