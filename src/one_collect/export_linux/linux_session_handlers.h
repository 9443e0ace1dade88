// What LinuxExportSession does with each perf record: the session state the
// handlers share, and one handler per record kind (mmap2, comm, fork, exit,
// lost, CPU sample, context switch, tracepoint). LinuxExportSession::start
// registers lambdas that only forward here. Internal header, not installed.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/event/event.h"
#include "one_collect/event/field_closures.h"
#include "one_collect/export/export_machine.h"
#include "one_collect/export/export_settings.h"
#include "one_collect/linux/perf_record_parser.h"
#include "one_collect/process/process_table.h"
#include "one_collect/sharing/shared.h"
#include "one_collect/unwind/callstack.h"

namespace one_collect {

class PerfSession;
class LinuxSymbolResolver;

namespace linux_session {

// Everything the record handlers read and write, owned by one session.
struct State {
  ExportSettings settings;
  Writable<ExportMachine> machine;
  std::unique_ptr<PerfSession> session;
  // The session's per-record fields (time, pid, callchain, ...); set once the
  // perf session exists, stable for its lifetime.
  const PerfSessionRefs* refs = nullptr;
  std::function<void(std::string_view line)> live_output;
  ProcessTable processes;
  std::unique_ptr<unwind::CallstackReader> callstacks;
  std::unique_ptr<LinuxSymbolResolver> resolver;
  std::array<std::uint64_t, 512> frames{};
  std::vector<std::uint64_t> chain_scratch;
  std::vector<std::uint64_t> regs_scratch;
  SampleKind cpu_kind = 0;
  std::uint64_t cpu_period_ns = 0;
  std::size_t bp_index = 0, sp_index = 0, ip_index = 0;  // in the user register set
  std::atomic<std::uint64_t> samples{0};
  std::atomic<std::uint64_t> lost{0};
  std::atomic<std::uint64_t> process_count{0};
  std::uint64_t unopened_files = 0;
  std::string last_file_error;
  mutable std::mutex notes_mutex;
  std::vector<std::string> notes;
  bool stopped = false;

  State();
  ~State();
  void note(std::string text);
};

// Field refs of the kernel record Events, resolved once when handlers are
// registered.
struct MmapFields {
  EventFieldRef pid, addr, len, pgoff, maj, min, ino, build_id_size, build_id, prot, filename;
  static MmapFields of(const Event& mmap2);
};
struct CommFields {
  EventFieldRef pid, tid, comm;
  static CommFields of(const Event& comm);
};
// fork and exit records share their layout.
struct TaskFields {
  EventFieldRef pid, ppid, tid;
  static TaskFields of(const Event& task);
};
struct LostFields {
  EventFieldRef lost;
  static LostFields of(const Event& lost);
};

// Where one extra tracepoint's records go.
struct TracepointTarget {
  bool as_samples = false;
  SampleKind kind = 0;            // as_samples: the sample kind
  std::uint32_t record_type = 0;  // otherwise: the ExportMachine record type
  FieldWriter writer;             // renders the payload for live output
  std::string label;              // "system:name"
};

// A sample's identity and its frames (in State::frames), innermost first.
struct UnwoundSample {
  std::uint32_t pid = 0, tid = 0, cpu = 0;
  std::uint64_t time = 0;
  std::span<const std::uint64_t> frames;
  std::uint64_t leaf() const { return frames.empty() ? 0 : frames[0]; }
  std::span<const std::uint64_t> callers() const {
    return frames.empty() ? frames : frames.subspan(1);
  }
};

// Reads a sample record's identity and stack and unwinds it right away, so the
// stack copy can be dropped; at least the sampled ip when it has one.
UnwoundSample unwind_sample(State& st, const EventData& d);

Status on_mmap(State& st, const MmapFields& f, const EventData& d);
Status on_comm(State& st, const CommFields& f, const EventData& d);
Status on_fork(State& st, const TaskFields& f, const EventData& d);
Status on_exit(State& st, const TaskFields& f, const EventData& d);
Status on_lost(State& st, const LostFields& f, const EventData& d);
Status on_cpu_sample(State& st, const EventData& d);
// The sample taken as a thread is switched out: starts an off-CPU interval.
Status on_switch_out_sample(State& st, const EventData& d);
// A SWITCH / SWITCH_CPU_WIDE record: a switch in ends the thread's interval.
Status on_switch(State& st, const EventData& d);
Status on_tracepoint(State& st, const TracepointTarget& t, const EventData& d);

}  // namespace linux_session
}  // namespace one_collect
