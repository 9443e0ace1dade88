// Checks made before recording starts, each failing with a message a person
// can act on: processes that do not exist, a command that cannot be found,
// tracepoints that do not exist (tracefs is mounted when missing), and the
// advice printed when perf_events refuses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "one_collect/core/status.h"
#include "tools/record_trace/options.h"

namespace one_collect::record_trace {

// kNotFound naming the first pid that is not running.
Status check_pids(const std::vector<std::uint32_t>& pids);

struct CommandCheck {
  int exit_code = 0;  // 0: runnable; 127 not found; 126 not executable
  std::string message;
  std::string resolved;  // the file that will run
};
// Resolves argv[0] like execvp (a name with '/' as a path, else along PATH).
CommandCheck check_command(const std::string& argv0, const char* path_env);

// Mounts tracefs if needed and checks every event exists. kUnsupported when
// tracefs cannot be had, kNotFound for an unknown event (with the events of
// its system when the system exists), kPermissionDenied when not allowed.
Status check_events(const std::vector<TracepointName>& events);

// The paragraph shown with a permission error: who may use perf_events and
// how to get there, with the current kernel.perf_event_paranoid value.
std::string permission_advice();

}  // namespace one_collect::record_trace
