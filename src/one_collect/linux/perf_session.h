// RingBufSessionBuilder -> PerfSession: a perf_events collection session.
//
// Layout of the kernel objects, per CPU:
//  - a "leader" (software dummy event) per target, carrying the kernel
//    records asked for (mmap2, comm+exec, fork/exit, context switches...);
//    the first target's leader owns the CPU's one mmapped ring;
//  - every other event of that CPU (samplers, tracepoints, probes) writes
//    into that ring (PERF_EVENT_IOC_SET_OUTPUT).
// Targets: the whole system (pid -1), pids with all their threads and the
// children they start (inherit=1, opened per CPU since inherited events
// cannot be mmapped with cpu -1), a command the session launches (enabled on
// exec; the session ends when it exits), or a cgroup.
//
// A RingReaderThread drains the rings into a bounded buffer; parsing, time
// ordering and callbacks run in the caller's thread inside parse_*().
// Timestamps are CLOCK_MONOTONIC nanoseconds (use_clockid).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/event/event.h"
#include "one_collect/linux/perf_event_spec.h"
#include "one_collect/linux/perf_record_parser.h"
#include "one_collect/linux/perf_ring_reader.h"
#include "one_collect/linux/perf_time_merge.h"
#include "one_collect/linux/tracefs.h"

namespace one_collect {

struct KernelRecordOptions {
  bool mmap = true;            // PERF_RECORD_MMAP2 (executable and data-less mappings)
  bool build_id = false;       // MMAP2 in its build-id form (misc MMAP_BUILD_ID)
  bool comm = true;            // COMM, including at exec (comm_exec)
  bool task = true;            // FORK / EXIT
  bool context_switch = true;  // SWITCH_CPU_WIDE system-wide, SWITCH per task
  bool ksymbol = false;        // KSYMBOL (BPF/JIT kernel symbols)
  bool namespaces = false;     // NAMESPACES
  bool cgroup = false;         // CGROUP
};

struct PerfSessionOptions {
  // Per CPU, rounded up to 2^n pages. 0: 1 MiB, or 8 MiB when samples carry
  // user stack copies (40k samples/s of 8 KiB is 320 MB/s: the ring must
  // absorb the reader's scheduling delays).
  std::size_t ring_bytes = 0;
  std::size_t user_buffer_bytes = 64u << 20;  // bound of the reader thread's queue
  int round_timeout_ms = 50;                  // longest reader sleep without a wake-up
  int reader_realtime_priority = 1;           // SCHED_FIFO for the ring reader (0: none)
  std::uint64_t reorder_slack_ns = 10'000'000;
};

struct PerfSessionStats {
  PerfParseStats parse;
  std::vector<PerfCpuCounters> per_cpu;
  std::uint64_t lost = 0;             // kernel: records lost (ring full)
  std::uint64_t lost_samples = 0;     // kernel: LOST_SAMPLES
  std::uint64_t dropped_samples = 0;  // ours: buffer full
  std::uint64_t cut_stacks = 0;       // ours: stack copies removed under pressure
  std::uint64_t ring_malformed = 0;   // ring headers that did not add up
};

class PerfSession;

class RingBufSessionBuilder {
 public:
  RingBufSessionBuilder& with_options(const PerfSessionOptions& options);
  RingBufSessionBuilder& with_ring_bytes(std::size_t bytes);
  RingBufSessionBuilder& with_user_buffer_bytes(std::size_t bytes);

  // Targets (system-wide when none is given). Pids and a command or cgroup
  // do not mix; several pids do.
  RingBufSessionBuilder& with_target_pid(pid_t pid);
  RingBufSessionBuilder& with_command(std::vector<std::string> argv);
  RingBufSessionBuilder& with_cgroup(std::string cgroup_dir);

  RingBufSessionBuilder& with_kernel_events(KernelRecordOptions options = {});
  // Stack options of sampling events that do not set their own.
  RingBufSessionBuilder& with_stacks(StackOptions stacks);
  // cpu-clock at `frequency` Hz (or a named sampler: perf_event_by_name("cpu")).
  RingBufSessionBuilder& with_cpu_sampling(std::uint64_t frequency);
  RingBufSessionBuilder& with_cpu_sampling(PerfEventSpec spec);
  // A sample at every context switch.
  RingBufSessionBuilder& with_cswitch_sampling();
  // Any other event, opened at build(). Its Event may already hold callbacks.
  RingBufSessionBuilder& with_event(PerfEventSpec spec, Event event);

  Result<std::unique_ptr<PerfSession>> build();

 private:
  friend class PerfSession;
  PerfSessionOptions options_;
  std::vector<pid_t> pids_;
  std::vector<std::string> command_;
  std::string cgroup_;
  std::optional<KernelRecordOptions> kernel_;
  StackOptions stacks_;
  std::optional<PerfEventSpec> cpu_sampling_;
  bool cswitch_sampling_ = false;
  std::vector<std::pair<PerfEventSpec, Event>> events_;
};

class PerfSession {
 public:
  ~PerfSession();
  PerfSession(const PerfSession&) = delete;
  PerfSession& operator=(const PerfSession&) = delete;

  // Starts collection (for a command: lets it exec).
  Status enable();
  // Stops the events; records already in the rings are still delivered.
  Status disable();

  // Opens another event now, also while the session runs. The returned
  // Event lives as long as the session; add callbacks before records flow.
  Result<Event*> add_event(PerfEventSpec spec, Event event);
  // A tracepoint from its tracefs format: the Event's format is the
  // payload's, and event_data is the RAW payload.
  Result<Event*> add_tracepoint(const TracepointFormat& tracepoint);
  // "system:name" (or "system/name"), looked up in tracefs (mounted if needed).
  Result<Event*> add_tracepoint(std::string_view system_and_name);

  // Reads and dispatches records in time order until `duration` passed.
  Status parse_for_duration(std::chrono::nanoseconds duration);
  // ... until `done()` (checked after each round) or the session ends.
  Status parse_until(const std::function<bool()>& done);
  // ... until the session ends: the command exited, or request_stop().
  Status parse_all();
  // Ends the session: disables the events, drains the rings and delivers
  // every remaining record. Idempotent.
  Status stop();
  // Asks parse_*() to end the session (thread- and signal-safe).
  void request_stop() { stop_requested_.store(true, std::memory_order_relaxed); }
  bool finished() const { return finished_; }

  // COMM and MMAP2 records for processes already running (targets only, or
  // every process system-wide), synthesized from /proc and parsed like the
  // kernel's own, so consumers see one code path.
  Status capture_environment();

  PerfKernelEvents& kernel_events() { return parser_.kernel_events(); }
  // The cpu sampler / context-switch sampler, or null when not requested.
  Event* cpu_profile_event() { return cpu_profile_; }
  Event* cswitch_profile_event() { return cswitch_profile_; }
  // An event opened through the builder or add_event, by name (first match),
  // or null.
  Event* find_event(std::string_view name);
  const PerfSessionRefs& refs() const { return parser_.refs(); }
  EventErrors& errors() { return parser_.errors(); }
  PerfSessionStats stats() const;
  PerfRecordParser& parser() { return parser_; }

  const std::vector<int>& cpus() const { return cpus_; }
  // The launched command's pid (0 when none) and its wait status once it exited.
  pid_t command_pid() const { return child_; }
  std::optional<int> command_exit_code() const;
  // User + system CPU seconds of the command (and the children it waited
  // for), known once it exited.
  double command_cpu_seconds() const { return child_cpu_seconds_; }
  // Notes such as "no PMU: 'cpu' sampling uses cpu-clock".
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  friend class RingBufSessionBuilder;
  struct Target {
    pid_t pid;
    unsigned long flags;
    bool inherit;
    bool enable_on_exec;
  };
  PerfSession();
  Status open_leaders(const std::optional<KernelRecordOptions>& kernel);
  Result<Event*> open_event(PerfEventSpec spec, std::unique_ptr<Event> event);
  Status open_on_all(perf_event_attr& attr, const PerfEventSpec& spec, const SampleLayout* layout,
                     Event* event, bool raw_payload);
  perf_event_attr base_attr() const;
  void apply_stacks(perf_event_attr& attr, const StackOptions& stacks) const;
  bool pump(std::chrono::milliseconds wait);
  void begin_stop();
  void check_command();

  PerfSessionOptions options_;
  std::vector<int> cpus_;
  std::vector<Target> targets_;
  std::vector<int> leader_fds_;  // ring owner per cpu index
  std::vector<int> fds_;
  std::vector<int> exec_enabled_fds_;
  StackOptions stacks_;
  int cgroup_fd_ = -1;
  pid_t child_ = 0;
  int go_fd_ = -1;
  std::optional<int> child_status_;
  double child_cpu_seconds_ = 0;
  bool enabled_ = false;
  bool stopping_ = false;
  bool finished_ = false;
  std::atomic<bool> stop_requested_{false};
  std::uint64_t last_round_time_ = 0;

  PerfRecordParser parser_;
  SharedLayouts shared_layouts_;
  std::unique_ptr<TimeOrderMerger> merger_;
  std::unique_ptr<RingReaderThread> reader_;
  std::vector<PerfRing> pending_rings_;
  std::deque<std::unique_ptr<Event>> events_;
  Event* cpu_profile_ = nullptr;
  Event* cswitch_profile_ = nullptr;
  std::vector<std::string> notes_;
  std::uint64_t ring_malformed_ = 0;
};

// Online CPUs, from /sys/devices/system/cpu/online ("0-3,6").
Result<std::vector<int>> online_cpus();

}  // namespace one_collect
