// DataFieldRef: a shared window into the current source record.
//
// A data source (the perf ring reader, the ETW session) owns one DataFieldRef
// per source-level field (time, pid, callchain...) and moves its window on
// every record. Closures keep copies, which share the window, so they read the
// current record's field with no lookup. Copies share state: single-threaded,
// like the pipeline that updates them.
#pragma once

#include <cstdint>
#include <memory>

#include "one_collect/core/bytes.h"
#include "one_collect/core/status.h"

namespace one_collect {

class DataFieldRef {
 public:
  DataFieldRef() : window_(std::make_shared<Window>()) {}

  // Points the window at full_data[start, start + length).
  void update(std::uint32_t start, std::uint32_t length) const {
    window_->start = start;
    window_->length = length;
    window_->present = true;
  }
  // The current record has no such field.
  void reset() const { *window_ = Window{}; }

  bool present() const { return window_->present; }
  std::uint32_t start() const { return window_->start; }
  std::uint32_t length() const { return window_->length; }

  Result<ByteSpan> get_data(ByteSpan full_data) const {
    if (!window_->present) return error(ErrorCode::kNotFound, "field absent from this record");
    auto bytes = slice(full_data, window_->start, window_->length);
    if (!bytes) return error(ErrorCode::kOutOfRange, "field window lies past the record");
    return *bytes;
  }

  Result<std::uint64_t> get_u64(ByteSpan full_data) const { return get<std::uint64_t>(full_data); }
  Result<std::uint32_t> get_u32(ByteSpan full_data) const { return get<std::uint32_t>(full_data); }
  Result<std::uint16_t> get_u16(ByteSpan full_data) const { return get<std::uint16_t>(full_data); }
  Result<std::uint8_t> get_u8(ByteSpan full_data) const { return get<std::uint8_t>(full_data); }

  template <typename T>
  std::optional<T> try_get(ByteSpan full_data) const {
    if (!window_->present || window_->length < sizeof(T)) return std::nullopt;
    return read_at<T>(full_data, window_->start);
  }

  // True when both refer to the same window.
  bool shares_window_with(const DataFieldRef& other) const { return window_ == other.window_; }

 private:
  struct Window {
    std::uint32_t start = 0;
    std::uint32_t length = 0;
    bool present = false;
  };

  template <typename T>
  Result<T> get(ByteSpan full_data) const {
    if (!window_->present) [[unlikely]] {
      return error(ErrorCode::kNotFound, "field absent from this record");
    }
    if (window_->length < sizeof(T)) [[unlikely]] {
      return error(ErrorCode::kOutOfRange, "field window smaller than the value");
    }
    auto value = read_at<T>(full_data, window_->start);
    if (!value) [[unlikely]] {
      return error(ErrorCode::kOutOfRange, "field window lies past the record");
    }
    return *value;
  }

  std::shared_ptr<Window> window_;
};

}  // namespace one_collect
