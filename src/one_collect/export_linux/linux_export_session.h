// LinuxExportSession: the Linux side of UniversalExporter.
//
// It turns ExportSettings into a perf_events session (cpu-clock sampling,
// context switches, tracepoints, targets), keeps a ProcessTable from the
// kernel's mmap2/comm/fork/exit records (and the /proc rundown of processes
// already running), unwinds every sample right away (DWARF, frame pointers
// or none), and writes processes, mappings, samples, off-CPU intervals,
// records and lost counts into the ExportMachine. After collection its
// symbol resolver names addresses from ELF files, the kernel and perf maps.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/export/export_session.h"
#include "one_collect/unwind/stack_unwinder.h"

namespace one_collect {

namespace linux_session {
struct State;
}

struct LinuxSessionOptions {
  // Launch this command and record until it exits (empty: no command).
  std::vector<std::string> command;
  // Ring buffer bytes per CPU (0: the engine's default).
  std::size_t ring_bytes = 0;
  // User stack bytes copied per sample in DWARF mode.
  std::uint32_t stack_size = 16384;
  // When set, each sample and tracepoint record is rendered as one line
  // ("time cpu comm pid/tid kind ip" or "name field=value ...") as it arrives.
  std::function<void(std::string_view line)> live_output;
  // Makes the unwinder for the user part of DWARF-mode samples. Empty: the
  // library's (CFI, frame pointers, JIT scan). Tests plug in a fake here.
  std::function<std::unique_ptr<unwind::StackUnwinder>()> make_unwinder;
};

// Counters readable from any thread while collection runs.
struct LinuxSessionProgress {
  std::uint64_t samples = 0;
  std::uint64_t lost = 0;  // kernel-lost records + samples + our own drops
  std::uint64_t processes = 0;
};

class LinuxExportSession : public ExportSession {
 public:
  explicit LinuxExportSession(LinuxSessionOptions options = {});
  ~LinuxExportSession() override;

  Status start(std::string_view name, const ExportSettings& settings,
               const Writable<ExportMachine>& machine) override;
  Status parse_until(const std::function<bool()>& should_stop) override;
  Status stop() override;
  SymbolResolver* symbol_resolver() override;

  LinuxSessionProgress progress() const;
  // Thread- and signal-safe: ends parse_until soon.
  void request_stop();
  // The launched command's exit code once it exited (128+signal if killed).
  std::optional<int> command_exit_code() const;
  // Notes worth showing a person (fallbacks taken, files that could not be
  // opened, errors raised by callbacks), collected during the session.
  std::vector<std::string> notes() const;

 private:
  LinuxSessionOptions options_;
  std::unique_ptr<linux_session::State> state_;
};

}  // namespace one_collect
