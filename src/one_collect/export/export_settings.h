// ExportSettings: what a collection gathers and where its output goes.
//
// Options can be set one by one or through named scenarios ("cpu",
// "off_cpu", ...): a scenario is a recipe that turns on what it needs. Each
// scenario lives in its own file under export/scenarios/ (see
// scenario_registry.h); an unknown name is an error listing the known ones.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/callstack_mode.h"
#include "one_collect/core/status.h"
#include "one_collect/export/export_machine.h"

namespace one_collect {

// An extra event (a tracepoint "system/name") to collect.
struct ExtraEvent {
  std::string system;
  std::string name;
  // true: each occurrence becomes a sample of kind `sample_kind` (default:
  // the event name) with a stack; false: its payload is kept as a record.
  bool as_samples = false;
  std::string sample_kind;
  bool with_callstack = true;  // as_samples only
};

class ExportSettings {
 public:
  ExportSettings() = default;

  // ---- CPU sampling
  // Sampling by frequency (Hz) or by interval (ns): the last call wins.
  Status set_cpu_sampling_frequency(std::uint64_t hz);
  Status set_cpu_sampling_interval_ns(std::uint64_t ns);
  void enable_cpu_sampling(bool on) { cpu_sampling_ = on; }
  bool cpu_sampling() const { return cpu_sampling_; }
  // Frequency in Hz when sampling by frequency, 0 otherwise.
  std::uint64_t cpu_frequency_hz() const { return interval_ns_ ? 0 : frequency_hz_; }
  // Interval in ns when sampling by interval, 0 otherwise.
  std::uint64_t cpu_interval_ns() const { return interval_ns_; }
  // The nominal ns between two samples of one CPU, either way.
  std::uint64_t cpu_period_ns() const;

  // ---- callstacks
  void enable_callstacks(bool on);
  void set_callstack_mode(CallstackMode mode) { callstack_mode_ = mode; }
  CallstackMode callstack_mode() const { return callstack_mode_; }
  bool callstacks() const { return callstack_mode_ != CallstackMode::kNone; }

  // ---- symbols: source file:line and inlined frames of sampled addresses
  // (DWARF, read after collection). On by default; off saves the time and
  // memory of reading debug info when no output shows lines (record-trace
  // turns it off unless a format such as pprof or speedscope is asked for).
  void enable_source_lines(bool on) { source_lines_ = on; }
  bool source_lines() const { return source_lines_; }

  // ---- context switches (off-CPU samples)
  void enable_context_switches(bool on) { context_switches_ = on; }
  bool context_switches() const { return context_switches_; }

  // ---- targets (empty: the whole machine)
  void add_target_pid(std::uint32_t pid);
  const std::vector<std::uint32_t>& target_pids() const { return target_pids_; }

  // ---- extra events
  Status add_event(ExtraEvent event);
  const std::vector<ExtraEvent>& events() const { return events_; }

  // ---- sample hooks: each sample is kept only if every hook says so
  void add_sample_hook(SampleHook hook) { hooks_.push_back(std::move(hook)); }
  const std::vector<SampleHook>& sample_hooks() const { return hooks_; }

  // ---- output
  void set_output_path(std::string path) { output_path_ = std::move(path); }
  const std::string& output_path() const { return output_path_; }

  // ---- scenarios
  // Applies the named scenario (see scenario_registry.h). Unknown name: an
  // error listing the known ones. Applying one twice is harmless.
  Status add_scenario(std::string_view name);
  const std::vector<std::string>& scenarios() const { return scenarios_; }

  // A settings object that would collect nothing is an error.
  Status validate() const;

 private:
  bool cpu_sampling_ = false;
  std::uint64_t frequency_hz_ = 1000;
  std::uint64_t interval_ns_ = 0;
  CallstackMode callstack_mode_ = CallstackMode::kNone;
  bool context_switches_ = false;
  bool source_lines_ = true;
  std::vector<std::uint32_t> target_pids_;
  std::vector<ExtraEvent> events_;
  std::vector<SampleHook> hooks_;
  std::string output_path_;
  std::vector<std::string> scenarios_;
};

}  // namespace one_collect
