#include "tools/record_trace/preflight.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string_view>

#include "one_collect/core/strings.h"
#include "one_collect/fs/find_program.h"
#include "one_collect/fs/read_file.h"
#include "one_collect/linux/tracefs.h"

namespace one_collect::record_trace {

Status check_pids(const std::vector<std::uint32_t>& pids) {
  for (std::uint32_t pid : pids) {
    // kill(pid, 0) probes existence; EPERM means it exists but is not ours.
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      return error(ErrorCode::kNotFound, "--pid " + std::to_string(pid) +
                                             ": no such process (is it still running? "
                                             "see: ps -p " +
                                             std::to_string(pid) + ")");
    }
  }
  return ok_status();
}

CommandCheck check_command(const std::string& argv0, const char* path_env) {
  // The library's execvp-like lookup; its two errors are the shell's two
  // exit statuses.
  CommandCheck c;
  auto found = find_program(argv0, path_env);
  if (found.ok()) {
    c.exit_code = 0;
    c.resolved = *std::move(found);
    return c;
  }
  c.exit_code = found.status().code() == ErrorCode::kPermissionDenied ? 126 : 127;
  c.message = found.status().message();
  return c;
}

Status check_events(const std::vector<TracepointName>& events) {
  if (events.empty()) return ok_status();
  Result<Tracefs> fs = Tracefs::open();
  if (!fs.ok()) {
    ErrorCode code = fs.status().code() == ErrorCode::kPermissionDenied
                         ? ErrorCode::kPermissionDenied
                         : ErrorCode::kUnsupported;
    std::string message =
        "--event needs tracefs, which could not be found or mounted: " + fs.status().message();
    if (message.find("mount -t tracefs") == std::string::npos) {
      message += " (as root: mount -t tracefs nodev /sys/kernel/tracing)";
    }
    return error(code, std::move(message));
  }
  for (const TracepointName& e : events) {
    std::string spelled = e.system + ":" + e.name;
    if (fs->exists("events/" + e.system + "/" + e.name + "/format")) continue;
    if (!fs->exists("events/" + e.system)) {
      return error(ErrorCode::kNotFound,
                   "--event " + spelled + ": unknown event: there is no tracepoint system '" +
                       e.system + "' (list them: ls " + fs->path("events") + ")");
    }
    std::string names;
    Result<std::vector<std::pair<std::string, std::string>>> all = fs->list_events();
    if (all.ok()) {
      int shown = 0;
      for (const auto& [system, name] : *all) {
        if (system != e.system) continue;
        if (shown == 12) {
          names += ", ...";
          break;
        }
        names += (shown++ ? ", " : "") + name;
      }
    }
    return error(ErrorCode::kNotFound,
                 "--event " + spelled + ": unknown event" +
                     (names.empty() ? "" : " (" + e.system + " has: " + names + ")"));
  }
  return ok_status();
}

std::string permission_advice() {
  std::string value = "unknown";
  if (auto text = read_file("/proc/sys/kernel/perf_event_paranoid", 64); text.ok()) {
    if (auto level = parse_decimal<int>(trim(*text))) value = std::to_string(*level);
  }
  return "perf_events needs privilege here: run record-trace as root, or give it CAP_PERFMON "
         "(Linux 5.8+) or CAP_SYS_ADMIN (sudo setcap cap_perfmon,cap_sys_ptrace+ep record-trace), "
         "or lower the sysctl kernel.perf_event_paranoid (now " +
         value +
         "; 'sudo sysctl kernel.perf_event_paranoid=1' allows recording your own processes, "
         "-1 the whole machine)";
}

}  // namespace one_collect::record_trace
