// EventField: one named field of an event's payload, and how to find it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "one_collect/core/status.h"

namespace one_collect {

// Where a field's bytes live inside the event payload.
enum class LocationType : std::uint8_t {
  kStatic,             // fixed bytes at [offset, offset + size)
  kStaticString,       // NUL-terminated UTF-8 at offset; size 0 means variable length
  kStaticUtf16String,  // NUL-terminated UTF-16LE at offset; size 0 means variable length
  kDataLoc,            // __data_loc: u32 at offset; low 16 bits = offset from payload start,
                       // high 16 bits = length
  kRelLoc,             // __rel_loc: like __data_loc but the offset counts from the end of
                       // the u32 itself
};

// What one element of the field holds.
enum class ValueKind : std::uint8_t {
  kUnsigned,
  kSigned,
  kFloat,
  kUtf8,   // text, one byte per code unit
  kUtf16,  // text, two bytes per code unit, little-endian
  kBytes,  // opaque bytes (structs, unknown sized types)
};

std::string_view location_type_name(LocationType location);
std::string_view value_kind_name(ValueKind kind);

struct EventField {
  std::string name;
  std::string type_name;  // raw type as the source spelled it: "unsigned short",
                          // "char[16]", "__data_loc char[]", "u32", "wstring"
  LocationType location = LocationType::kStatic;
  std::uint32_t offset = 0;
  std::uint32_t size = 0;  // bytes; 0 for variable-length strings

  // Derived from type_name by create().
  ValueKind kind = ValueKind::kBytes;
  std::uint8_t element_size = 1;  // bytes per element: 1, 2, 4 or 8 for numbers
  bool is_array = false;          // fixed-size or dynamic array of elements
  bool is_pointer = false;        // a C pointer: shown in hex

  // Number of variable-length string fields placed before this one. Their
  // bytes are not counted in `offset`, so reading this field walks past them.
  std::uint16_t variable_fields_before = 0;

  bool is_dynamic() const {
    return location == LocationType::kDataLoc || location == LocationType::kRelLoc;
  }
  bool is_text() const { return kind == ValueKind::kUtf8 || kind == ValueKind::kUtf16; }
  bool is_variable_size() const {
    return size == 0 && (location == LocationType::kStaticString ||
                         location == LocationType::kStaticUtf16String);
  }
  bool is_number() const {
    return !is_array && (kind == ValueKind::kUnsigned || kind == ValueKind::kSigned ||
                         kind == ValueKind::kFloat);
  }

  // Builds a field from its raw type string. `size` may be 0 for scalar types
  // (their natural size is used) and for variable-length strings.
  // `is_signed` is a hint for types we cannot name (kernel typedefs such as
  // pid_t); without it an unknown type string is an error.
  static Result<EventField> create(std::string name, std::string type_name, std::uint32_t offset,
                                   std::uint32_t size,
                                   std::optional<bool> is_signed = std::nullopt);
};

}  // namespace one_collect
