#include "one_collect/export/scenario_registry.h"

#include <algorithm>

#include "one_collect/export/scenario_list.h"

namespace one_collect {

const ScenarioRegistry& ScenarioRegistry::builtin() {
  static const ScenarioRegistry registry = [] {
    ScenarioRegistry r;
    register_builtin_scenarios(r);
    return r;
  }();
  return registry;
}

const Scenario* ScenarioRegistry::find(std::string_view name) const {
  for (const Scenario& s : scenarios_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string ScenarioRegistry::known_names() const {
  std::vector<std::string> names;
  for (const Scenario& s : scenarios_) names.push_back(s.name);
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace one_collect
