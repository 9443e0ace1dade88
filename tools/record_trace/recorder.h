// record-trace's whole run: parse, check, record with LinuxExportSession
// through UniversalExporter, write the files, print the summary. Returns the
// process exit status (exit_codes.h).
#pragma once

#include <span>
#include <string>

namespace one_collect::record_trace {

int run_record_trace(std::span<const std::string> args);

}  // namespace one_collect::record_trace
