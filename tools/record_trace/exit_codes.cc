#include "tools/record_trace/exit_codes.h"

namespace one_collect::record_trace {

namespace {
constexpr ExitCodeDoc kDocs[] = {
    {kExitOk, "success: recorded and every output file written"},
    {kExitRuntime, "collection or export failed (the message says why)"},
    {kExitUsage,
     "usage error: unknown option or format, bad number, unknown event or pid, missing output "
     "directory, an output path that cannot be written (a parent that is a file, /proc, a "
     "device)"},
    {kExitPermission,
     "not permitted: perf_events or tracefs refused (run as root, grant CAP_PERFMON or "
     "CAP_SYS_ADMIN, or lower kernel.perf_event_paranoid), or an output directory this user "
     "may not write"},
    {kExitUnsupported,
     "not available: scripting (not implemented yet), tracefs that cannot be mounted, or a "
     "kernel without perf_events"},
    {kExitNotExecutable, "the command after -- exists but cannot be executed"},
    {kExitCommandNotFound, "the command after -- was not found"},
    {kExitAborted, "a second Ctrl-C aborted the recording before export"},
};
}  // namespace

std::span<const ExitCodeDoc> exit_code_docs() { return kDocs; }

int exit_code_for(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk:
      return kExitOk;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNotFound:
      return kExitUsage;
    case ErrorCode::kPermissionDenied:
      return kExitPermission;
    case ErrorCode::kUnsupported:
      return kExitUnsupported;
    default:
      return kExitRuntime;
  }
}

}  // namespace one_collect::record_trace
