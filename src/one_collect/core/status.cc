#include "one_collect/core/status.h"

#include <cstdio>
#include <cstdlib>

namespace one_collect {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kOutOfRange:
      return "out of range";
    case ErrorCode::kMalformed:
      return "malformed";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kPermissionDenied:
      return "permission denied";
    case ErrorCode::kIo:
      return "i/o error";
    case ErrorCode::kInternal:
      return "internal error";
    case ErrorCode::kAlreadyExists:
      return "already exists";
    case ErrorCode::kCallbackFailed:
      return "callback failed";
  }
  return "unknown error";
}

Status error(ErrorCode code, const char* message) {
  return Status(code, message != nullptr ? std::string(message) : std::string());
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return detail_ ? detail_->message : kEmpty;
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string out(error_code_name(detail_->code));
  out += ": ";
  out += detail_->message;
  return out;
}

Status Status::with_context(std::string_view context) && {
  if (ok()) return std::move(*this);
  std::string message(context);
  message += ": ";
  message += detail_->message;
  detail_->message = std::move(message);
  return std::move(*this);
}

void die_on_error_result(const Status& status) {
  std::string text = status.to_string();
  std::fprintf(stderr, "one_collect: Result::value() on an error: %s\n", text.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace one_collect
