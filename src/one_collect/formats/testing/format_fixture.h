// A small synthetic ExportMachine exercising what the formats must handle:
// several processes (two sharing a command name), shared and private
// libraries with build ids, kernel frames, unresolved addresses, names that
// need escaping (XML/JSON specials, ';', invalid UTF-8), CPU and off-CPU
// samples, lost events and metadata. Used by the tests and by the fixture
// writer whose outputs the independent readers check.
#pragma once

#include "one_collect/export/export_machine.h"

namespace one_collect {

// Builds the machine and resolves its symbols with a built-in fake resolver.
void build_format_fixture(ExportMachine& machine);

// The awkward symbol name the fixture uses (escaping tests look for it).
inline constexpr std::string_view kFixtureNastyName = "operator<<(a&b, \"q\" 'x';y)";

}  // namespace one_collect
