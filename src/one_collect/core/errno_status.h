// Turns a failed system call's errno into a Status a person can act on.
// Used by every component that touches the OS (files, perf_events, procfs).
#pragma once

#include <string>
#include <string_view>

#include "one_collect/core/status.h"

namespace one_collect {

// "what: strerror(err)", with EPERM/EACCES mapped to kPermissionDenied,
// ENOENT/ENOTDIR/ESRCH to kNotFound, ENOSYS/EOPNOTSUPP/ENODEV to kUnsupported,
// EINVAL to kInvalidArgument, and anything else to kIo.
Status errno_status(int err, std::string_view what);

}  // namespace one_collect
