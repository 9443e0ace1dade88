// record-trace --help: a manual page (NAME, SYNOPSIS, DESCRIPTION, OPTIONS,
// FORMATS, EXAMPLES, EXIT STATUS, FILES). OPTIONS, FORMATS and EXIT STATUS
// are generated from the option table, the format registry
// (one_collect/formats/format_registry.h) and the exit-code table, so they
// cannot drift.
#pragma once

#include <string>

namespace one_collect::record_trace {

// Wrapped to `width` columns.
std::string help_text(std::size_t width = 80);
// "record-trace: <message>\nTry 'record-trace --help' for the options."
std::string usage_hint();
std::string version_text();

}  // namespace one_collect::record_trace
