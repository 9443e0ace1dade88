// Status and Result<T>: the one error-handling style of one_collect.
//
// Every fallible call returns a Status (no value) or a Result<T> (a value or
// an error). Success costs one null pointer: the error details live on the
// heap only when there is an error, so hot paths that succeed allocate nothing.
// Exceptions are never used to report errors across our APIs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace one_collect {

enum class ErrorCode : unsigned char {
  kOk = 0,
  kInvalidArgument,   // the caller passed something we cannot use
  kNotFound,          // a named thing (field, event, file, pid) does not exist
  kOutOfRange,        // data is shorter than a field or offset needs
  kMalformed,         // bytes do not follow their format
  kUnsupported,       // the kernel / machine / build lacks a facility
  kPermissionDenied,  // the OS refused for lack of privilege
  kIo,                // a system call failed for another reason
  kInternal,          // a broken invariant of ours
  kAlreadyExists,
  kCallbackFailed,  // a user callback threw or failed
};

std::string_view error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message)
      : detail_(code == ErrorCode::kOk
                    ? nullptr
                    : std::make_unique<Detail>(Detail{code, std::move(message)})) {}

  Status(const Status& other)
      : detail_(other.detail_ ? std::make_unique<Detail>(*other.detail_) : nullptr) {}
  Status& operator=(const Status& other) {
    if (this != &other) {
      detail_ = other.detail_ ? std::make_unique<Detail>(*other.detail_) : nullptr;
    }
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status ok_status() { return Status(); }

  bool ok() const { return detail_ == nullptr; }
  explicit operator bool() const { return ok(); }
  ErrorCode code() const { return detail_ ? detail_->code : ErrorCode::kOk; }
  const std::string& message() const;

  // "code: message", or "ok".
  std::string to_string() const;

  // Prefixes the message with context ("reading /proc/1/maps: ...").
  Status with_context(std::string_view context) &&;

 private:
  struct Detail {
    ErrorCode code;
    std::string message;
  };
  std::unique_ptr<Detail> detail_;
};

inline Status ok_status() { return Status(); }
inline Status error(ErrorCode code, std::string message) {
  return Status(code, std::move(message));
}
// A literal message: built out of line, so a hot function's error branch is
// one call rather than an inlined string construction (which costs the
// success path its registers and stack frame).
[[gnu::cold]] Status error(ErrorCode code, const char* message);

// Prints "Result::value() on an error: <code>: <message>" to stderr and
// aborts. Reading the value of a failed Result is a bug in the caller; a
// loud stop naming the error beats reading an empty optional.
[[noreturn]] void die_on_error_result(const Status& status);

// A value or an error. Access the value only after checking ok(): value(),
// `*` and `->` on an error abort with the error's message.
template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit from a value and from an error, so `return value;` and
  // `return error(...);` both read naturally.
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Status(ErrorCode::kInternal, "Result built from an ok Status");
  }

  bool ok() const { return status_.ok(); }
  explicit operator bool() const { return ok(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  T& value() & { return checked(); }
  const T& value() const& { return checked(); }
  T&& value() && { return std::move(checked()); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return checked(); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &checked(); }

  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  // One predictable branch; the failure path is out of line.
  T& checked() {
    if (!status_.ok()) [[unlikely]]
      die_on_error_result(status_);
    return *value_;
  }
  const T& checked() const {
    if (!status_.ok()) [[unlikely]]
      die_on_error_result(status_);
    return *value_;
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace one_collect

// Propagates an error Status from an expression returning Status.
#define OC_RETURN_IF_ERROR(expr)               \
  do {                                         \
    ::one_collect::Status oc_status_ = (expr); \
    if (!oc_status_.ok()) return oc_status_;   \
  } while (0)

#define OC_CONCAT_INNER(a, b) a##b
#define OC_CONCAT(a, b) OC_CONCAT_INNER(a, b)

// `OC_ASSIGN_OR_RETURN(auto x, make_x());` assigns the value or returns the error.
#define OC_ASSIGN_OR_RETURN(lhs, expr) \
  OC_ASSIGN_OR_RETURN_IMPL(OC_CONCAT(oc_result_, __LINE__), lhs, expr)
#define OC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = std::move(tmp).value()
