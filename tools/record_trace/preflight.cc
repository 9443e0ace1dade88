#include "tools/record_trace/preflight.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <string_view>

#include "one_collect/linux/tracefs.h"

namespace one_collect::record_trace {

namespace {

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

Status check_pids(const std::vector<std::uint32_t>& pids) {
  for (std::uint32_t pid : pids) {
    // kill(pid, 0) probes existence; EPERM means it exists but is not ours.
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      return error(ErrorCode::kNotFound,
                   "--pid " + std::to_string(pid) + ": no such process (is it still running? "
                   "see: ps -p " + std::to_string(pid) + ")");
    }
  }
  return ok_status();
}

CommandCheck check_command(const std::string& argv0, const char* path_env) {
  CommandCheck c;
  if (argv0.empty()) {
    c.exit_code = 127;
    c.message = "empty command name";
    return c;
  }
  auto check_file = [&](const std::string& file) -> bool {
    if (!is_regular_file(file)) return false;
    if (::access(file.c_str(), X_OK) != 0) {
      c.exit_code = 126;
      c.message = "command '" + file + "' is not executable (chmod +x " + file + "?)";
    } else {
      c.exit_code = 0;
      c.message.clear();
      c.resolved = file;
    }
    return true;
  };
  if (argv0.find('/') != std::string::npos) {
    if (!check_file(argv0)) {
      struct stat st {};
      bool dir = ::stat(argv0.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      c.exit_code = dir ? 126 : 127;
      c.message = dir ? "command '" + argv0 + "' is a directory"
                      : "command not found: '" + argv0 + "' does not exist";
    }
    return c;
  }
  std::string_view path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  bool found_unexecutable = false;
  std::string unexecutable_message;
  while (true) {
    std::size_t colon = path.find(':');
    std::string dir(path.substr(0, colon));
    if (dir.empty()) dir = ".";
    if (check_file(dir + "/" + argv0)) {
      if (c.exit_code == 0) return c;
      // execvp keeps looking after an unexecutable match.
      found_unexecutable = true;
      unexecutable_message = c.message;
    }
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  if (found_unexecutable) {
    c.exit_code = 126;
    c.message = unexecutable_message;
  } else {
    c.exit_code = 127;
    c.message = "command not found: '" + argv0 + "' is not in PATH";
  }
  return c;
}

Status check_events(const std::vector<TracepointName>& events) {
  if (events.empty()) return ok_status();
  Result<Tracefs> fs = Tracefs::open();
  if (!fs.ok()) {
    ErrorCode code = fs.status().code() == ErrorCode::kPermissionDenied
                         ? ErrorCode::kPermissionDenied
                         : ErrorCode::kUnsupported;
    std::string message = "--event needs tracefs, which could not be found or mounted: " +
                          fs.status().message();
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
    return error(ErrorCode::kNotFound, "--event " + spelled + ": unknown event" +
                                           (names.empty() ? "" : " (" + e.system + " has: " +
                                                                     names + ")"));
  }
  return ok_status();
}

std::string permission_advice() {
  std::string value = "unknown";
  std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
  if (in) std::getline(in, value);
  return "perf_events needs privilege here: run record-trace as root, or give it CAP_PERFMON "
         "(Linux 5.8+) or CAP_SYS_ADMIN (sudo setcap cap_perfmon,cap_sys_ptrace+ep record-trace), "
         "or lower the sysctl kernel.perf_event_paranoid (now " + value +
         "; 'sudo sysctl kernel.perf_event_paranoid=1' allows recording your own processes, "
         "-1 the whole machine)";
}

}  // namespace one_collect::record_trace
