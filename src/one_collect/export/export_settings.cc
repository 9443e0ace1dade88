#include "one_collect/export/export_settings.h"

#include <algorithm>

#include "one_collect/export/scenario_registry.h"

namespace one_collect {

Status ExportSettings::set_cpu_sampling_frequency(std::uint64_t hz) {
  if (hz == 0 || hz > 1000000) {
    return error(ErrorCode::kInvalidArgument,
                 "cpu sampling frequency must be 1..1000000 Hz, got " + std::to_string(hz));
  }
  frequency_hz_ = hz;
  interval_ns_ = 0;
  cpu_sampling_ = true;
  return ok_status();
}

Status ExportSettings::set_cpu_sampling_interval_ns(std::uint64_t ns) {
  if (ns < 1000) {
    return error(ErrorCode::kInvalidArgument,
                 "cpu sampling interval must be at least 1000 ns, got " + std::to_string(ns));
  }
  interval_ns_ = ns;
  cpu_sampling_ = true;
  return ok_status();
}

std::uint64_t ExportSettings::cpu_period_ns() const {
  if (interval_ns_) return interval_ns_;
  return frequency_hz_ ? 1000000000ULL / frequency_hz_ : 0;
}

void ExportSettings::enable_callstacks(bool on) {
  if (!on) {
    callstack_mode_ = CallstackMode::kNone;
  } else if (callstack_mode_ == CallstackMode::kNone) {
    callstack_mode_ = CallstackMode::kDwarf;
  }
}

void ExportSettings::add_target_pid(std::uint32_t pid) {
  if (std::find(target_pids_.begin(), target_pids_.end(), pid) == target_pids_.end()) {
    target_pids_.push_back(pid);
  }
}

Status ExportSettings::add_event(ExtraEvent event) {
  if (event.system.empty() || event.name.empty() || event.system.find('/') != std::string::npos ||
      event.name.find('/') != std::string::npos) {
    return error(ErrorCode::kInvalidArgument,
                 "extra event needs a system and a name without '/', got '" + event.system + "/" +
                     event.name + "'");
  }
  if (event.as_samples && event.sample_kind.empty()) event.sample_kind = event.name;
  events_.push_back(std::move(event));
  return ok_status();
}

Status ExportSettings::add_scenario(std::string_view name) {
  const ScenarioRegistry& registry = ScenarioRegistry::builtin();
  const Scenario* s = registry.find(name);
  if (!s) {
    return error(ErrorCode::kNotFound, "unknown scenario '" + std::string(name) +
                                           "'; known scenarios: " + registry.known_names());
  }
  OC_RETURN_IF_ERROR(s->apply(*this));
  if (std::find(scenarios_.begin(), scenarios_.end(), s->name) == scenarios_.end()) {
    scenarios_.push_back(s->name);
  }
  return ok_status();
}

Status ExportSettings::validate() const {
  if (!cpu_sampling_ && !context_switches_ && events_.empty()) {
    return error(ErrorCode::kInvalidArgument,
                 "nothing to collect: enable cpu sampling, context switches, an extra event "
                 "or a scenario (" +
                     ScenarioRegistry::builtin().known_names() + ")");
  }
  return ok_status();
}

}  // namespace one_collect
