// EventFormat: the ordered fields of an event payload, and typed getters that
// never read out of bounds.
//
// Resolve a field's name to an EventFieldRef once, when a callback is built,
// and use the ref on every event: getters are a bounds check and a memcpy.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "one_collect/core/bytes.h"
#include "one_collect/core/status.h"
#include "one_collect/event/event_field.h"

namespace one_collect {

// A small handle to a field of one EventFormat: its index.
struct EventFieldRef {
  std::uint32_t index = std::numeric_limits<std::uint32_t>::max();
  bool valid() const { return index != std::numeric_limits<std::uint32_t>::max(); }
  friend bool operator==(EventFieldRef, EventFieldRef) = default;
};

class EventFormat {
 public:
  // Appends a field. Names must be unique. Variable-length strings before the
  // field are remembered so its getters can walk past them.
  Status add_field(EventField field);

  Result<EventFieldRef> get_field_ref(std::string_view name) const;
  const EventField* find_field(std::string_view name) const;
  // The ref must come from this format (checked: an invalid ref yields the
  // empty sentinel field named "").
  const EventField& field(EventFieldRef ref) const;
  const std::vector<EventField>& fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }

  // The field's bytes in `data` (the event payload). Strings stop before
  // their terminator; dynamic fields are decoded from their descriptor.
  Result<ByteSpan> get_data(EventFieldRef ref, ByteSpan data) const;

  Result<std::uint8_t> get_u8(EventFieldRef ref, ByteSpan data) const {
    return get<std::uint8_t>(ref, data);
  }
  Result<std::uint16_t> get_u16(EventFieldRef ref, ByteSpan data) const {
    return get<std::uint16_t>(ref, data);
  }
  Result<std::uint32_t> get_u32(EventFieldRef ref, ByteSpan data) const {
    return get<std::uint32_t>(ref, data);
  }
  Result<std::uint64_t> get_u64(EventFieldRef ref, ByteSpan data) const {
    return get<std::uint64_t>(ref, data);
  }
  Result<std::int8_t> get_s8(EventFieldRef ref, ByteSpan data) const {
    return get<std::int8_t>(ref, data);
  }
  Result<std::int16_t> get_s16(EventFieldRef ref, ByteSpan data) const {
    return get<std::int16_t>(ref, data);
  }
  Result<std::int32_t> get_s32(EventFieldRef ref, ByteSpan data) const {
    return get<std::int32_t>(ref, data);
  }
  Result<std::int64_t> get_s64(EventFieldRef ref, ByteSpan data) const {
    return get<std::int64_t>(ref, data);
  }
  Result<float> get_f32(EventFieldRef ref, ByteSpan data) const { return get<float>(ref, data); }
  Result<double> get_f64(EventFieldRef ref, ByteSpan data) const { return get<double>(ref, data); }

  // Any integer field widened to 64 bits (sign-extended for signed fields).
  Result<std::uint64_t> get_unsigned(EventFieldRef ref, ByteSpan data) const;
  Result<std::int64_t> get_signed(EventFieldRef ref, ByteSpan data) const;

  // UTF-8 text up to its NUL (validated). The view points into `data`.
  Result<std::string_view> get_str(EventFieldRef ref, ByteSpan data) const;
  // UTF-16 text up to its NUL, decoded to UTF-8.
  Result<std::string> get_utf16_as_utf8(EventFieldRef ref, ByteSpan data) const;
  // Text of either encoding, as UTF-8.
  Result<std::string> get_text(EventFieldRef ref, ByteSpan data) const;

  // Offset of the field in `data`, once variable-length strings before it
  // are skipped.
  Result<std::size_t> resolve_offset(EventFieldRef ref, ByteSpan data) const;

 private:
  // get_unsigned / get_signed: an integer field of any width, widened to W.
  template <typename W>
  Result<W> get_widened(EventFieldRef ref, ByteSpan data) const;
  template <typename T>
  Result<T> get(EventFieldRef ref, ByteSpan data) const;
  template <typename T>
  [[gnu::noinline]] Result<T> get_slow(EventFieldRef ref, ByteSpan data) const;

  Status field_error(EventFieldRef ref, ErrorCode code, std::string_view what) const;

  // What the scalar getters need, packed apart from the (large) EventField
  // so the hot path touches 8 bytes per field.
  struct FastLayout {
    std::uint32_t offset;
    std::uint32_t scalar_size;  // the field's size when it is a fixed-offset
                                // static field, else 0 (take the slow path)
  };

  std::vector<EventField> fields_;
  std::vector<FastLayout> fast_;
  std::vector<std::uint32_t> variable_field_indices_;
};

template <typename T>
inline Result<T> EventFormat::get(EventFieldRef ref, ByteSpan data) const {
  static_assert(std::is_arithmetic_v<T>);
  // Fast path: a fixed-offset scalar of the getter's width that fits.
  if (ref.index < fast_.size()) [[likely]] {
    const FastLayout& l = fast_[ref.index];
    if (l.scalar_size == sizeof(T) && std::size_t{l.offset} + sizeof(T) <= data.size()) [[likely]] {
      T value;
      std::memcpy(&value, data.data() + l.offset, sizeof(T));
      return value;
    }
  }
  // Moved out of a named local on purpose: a slow call writing straight into
  // the return slot would make that slot escape, and the caller could no
  // longer keep the fast path's Result in registers.
  Result<T> slow = get_slow<T>(ref, data);
  return Result<T>(std::move(slow));
}

template <typename T>
Result<T> EventFormat::get_slow(EventFieldRef ref, ByteSpan data) const {
  if (ref.index >= fields_.size()) {
    return field_error(ref, ErrorCode::kInvalidArgument, "invalid field ref");
  }
  const EventField& f = fields_[ref.index];
  if (f.size != sizeof(T) || f.location != LocationType::kStatic) {
    return field_error(ref, ErrorCode::kInvalidArgument, "field size does not match the getter");
  }
  auto offset = resolve_offset(ref, data);
  if (!offset.ok()) return std::move(offset).status();
  auto value = read_at<T>(data, *offset);
  if (!value) return field_error(ref, ErrorCode::kOutOfRange, "payload too short");
  return *value;
}

}  // namespace one_collect
