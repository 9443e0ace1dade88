#include "one_collect/core/errno_status.h"

#include <cerrno>
#include <cstring>

namespace one_collect {

Status errno_status(int err, std::string_view what) {
  ErrorCode code = ErrorCode::kIo;
  switch (err) {
    case EPERM:
    case EACCES:
      code = ErrorCode::kPermissionDenied;
      break;
    case ENOENT:
    case ENOTDIR:
    case ESRCH:
      code = ErrorCode::kNotFound;
      break;
    case ENOSYS:
#if defined(EOPNOTSUPP) && EOPNOTSUPP != ENOSYS
    case EOPNOTSUPP:
#endif
    case ENODEV:
      code = ErrorCode::kUnsupported;
      break;
    case EINVAL:
      code = ErrorCode::kInvalidArgument;
      break;
    case EEXIST:
      code = ErrorCode::kAlreadyExists;
      break;
    default:
      break;
  }
  std::string message(what);
  message += ": ";
  message += std::strerror(err);
  return error(code, std::move(message));
}

}  // namespace one_collect
