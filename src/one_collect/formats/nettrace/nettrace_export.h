// write_nettrace: an ExportMachine as a nettrace V6 file PerfView opens, in
// the Universal.System / Universal.Events conventions (universal_nettrace.h).
//
// What goes where:
// - Trace block: sync time = metadata().start_unix_ns / start_time, ticks are
//   session-clock nanoseconds (frequency 1e9); key/values HardwareThreadCount,
//   ExpectedCPUSamplingRate (Hz), SamplePeriodNs, DurationNs, Host, Kernel,
//   CommandLine, SystemPageSize, LostEvents and LostEvents.<kind>.
// - Processes: ExistingProcess at the trace start for processes known from
//   before collection, ProcessCreate at their start otherwise, ProcessExit.
// - Mappings: ProcessMappingMetadata once per build id ({"type":"ELF",
//   "build_id":...}), ProcessMapping per mapping, then a ProcessSymbol per
//   symbol of its table inside it (virtual addresses). The kernel mapping is
//   given to every process with samples; its symbols are written once.
// - Samples: Universal.Events, one event type per sample kind. "off_cpu"
//   becomes "cswitch" stamped at switch-in (time + duration) with the
//   switch-out stack and the wait in ns as Value; "cpu" samples have Value 1
//   (one sample; the period is in SamplePeriodNs); other kinds write their
//   magnitude (count, ns, bytes, span length). Stacks are leaf first (leaf ip,
//   then the interned frames). Attributes become label lists.
// Records (raw event payloads) are not written.
//
// Events are written in time order. Memory: the writer's segment buffers
// (by default at most 16 MiB of events and 32 MiB of stacks before a sequence
// point flushes them) plus a 16-byte (time, index) entry per sample.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "one_collect/core/status.h"
#include "one_collect/export/export_machine.h"
#include "one_collect/formats/nettrace/nettrace_writer.h"

namespace one_collect {

using PidPredicate = std::function<bool(std::uint32_t pid)>;

struct NetTraceExportStats {
  std::uint64_t events = 0;
  std::uint64_t samples = 0;
  std::uint64_t bytes = 0;
};

// Writes `path` through a temporary file renamed on success; on any error no
// file is left behind. `predicate` (optional) selects processes by pid.
Status write_nettrace(const ExportMachine& machine, const std::string& path,
                      const PidPredicate& predicate = {}, NetTraceExportStats* stats = nullptr);

// The same into any sink (tests, in-memory output).
Status write_nettrace(const ExportMachine& machine, std::unique_ptr<nettrace::NetTraceSink> sink,
                      const PidPredicate& predicate = {}, NetTraceExportStats* stats = nullptr,
                      const nettrace::NetTraceOptions* base_options = nullptr);

}  // namespace one_collect
