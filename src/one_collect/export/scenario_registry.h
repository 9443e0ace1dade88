// Scenarios: named recipes that configure ExportSettings.
//
// Adding a scenario is one file: export/scenarios/scenario_<name>.cc holding
//
//   OC_EXPORT_SCENARIO(name, "what it collects") {
//     settings.enable_cpu_sampling(true);  // `settings` is ExportSettings&
//     return ok_status();
//   }
//
// CMake globs that folder and generates the list that registers every one,
// so no central table needs editing (and the linker cannot drop them).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/status.h"

namespace one_collect {

class ExportSettings;

struct Scenario {
  std::string name;
  std::string description;
  std::function<Status(ExportSettings&)> apply;
};

class ScenarioRegistry {
 public:
  // Every scenario built into this binary.
  static const ScenarioRegistry& builtin();

  void add(Scenario scenario) { scenarios_.push_back(std::move(scenario)); }
  const Scenario* find(std::string_view name) const;
  const std::vector<Scenario>& scenarios() const { return scenarios_; }
  // "cpu, off_cpu" (sorted).
  std::string known_names() const;

 private:
  std::vector<Scenario> scenarios_;
};

}  // namespace one_collect

#define OC_EXPORT_SCENARIO(name, description)                  \
  namespace one_collect::scenarios {                           \
  static Status apply_##name(ExportSettings& settings);        \
  void register_##name(ScenarioRegistry& registry) {           \
    registry.add(Scenario{#name, description, &apply_##name}); \
  }                                                            \
  }                                                            \
  ::one_collect::Status one_collect::scenarios::apply_##name(  \
      ::one_collect::ExportSettings& settings)
