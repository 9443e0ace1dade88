// record-trace's exit codes: one table, used by the code, --help and tests.
#pragma once

#include <span>
#include <string_view>

#include "one_collect/core/status.h"

namespace one_collect::record_trace {

enum ExitCode : int {
  kExitOk = 0,
  kExitRuntime = 1,      // collection or export failed
  kExitUsage = 2,        // bad option, value, format, event, pid or output path
  kExitPermission = 3,   // perf_events / tracefs refused for lack of privilege
  kExitUnsupported = 4,  // a facility is missing (scripting, tracefs, perf_events)
  kExitNotExecutable = 126,
  kExitCommandNotFound = 127,
  kExitAborted = 130,  // a second Ctrl-C: stopped without exporting
};

struct ExitCodeDoc {
  int code;
  std::string_view meaning;
};

// In the order --help lists them.
std::span<const ExitCodeDoc> exit_code_docs();

// The exit code for an error Status raised before or during collection.
int exit_code_for(const Status& status);

}  // namespace one_collect::record_trace
