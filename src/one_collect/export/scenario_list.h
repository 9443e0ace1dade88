// Registers every scenario of export/scenarios/ (the definition is generated
// by CMake from the file names: scenario_<name>.cc registers <name>).
#pragma once

namespace one_collect {
class ScenarioRegistry;
void register_builtin_scenarios(ScenarioRegistry& registry);
}  // namespace one_collect
