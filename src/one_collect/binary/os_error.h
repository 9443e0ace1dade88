// errno -> Status for the file-reading helpers (binary/, symbols/).
// Same mapping as linux/errno_status.h, kept here so that ELF reading and
// symbolization depend on core only, not on the perf_events layer.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "one_collect/core/status.h"

namespace one_collect {

inline Status os_error(int err, std::string_view what) {
  ErrorCode code = ErrorCode::kIo;
  switch (err) {
    case EPERM:
    case EACCES: code = ErrorCode::kPermissionDenied; break;
    case ENOENT:
    case ENOTDIR:
    case ESRCH: code = ErrorCode::kNotFound; break;
    case EINVAL: code = ErrorCode::kInvalidArgument; break;
    default: break;
  }
  std::string message(what);
  message += ": ";
  message += std::strerror(err);
  return error(code, std::move(message));
}

}  // namespace one_collect
