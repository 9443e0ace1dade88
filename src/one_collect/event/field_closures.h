// Closure factories over a field: built once from a name (all parsing and
// lookups happen here), then cheap on every event.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "one_collect/core/bytes.h"
#include "one_collect/core/status.h"
#include "one_collect/event/event_format.h"

namespace one_collect {

enum class CompareOp {
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kContains,
  kNotContains,
  kStartsWith,
  kEndsWith,
};

// "==", "!=", "<", "<=", ">", ">=", "contains", "not_contains",
// "starts_with", "ends_with".
Result<CompareOp> parse_compare_op(std::string_view text);
std::string_view compare_op_name(CompareOp op);

// True when the event payload's field compares as asked against `value`.
// Numbers support == != < <= > >=; text (UTF-8 or UTF-16, matched by code
// points, case-sensitive) supports == != contains not_contains starts_with
// ends_with. A payload whose field cannot be read never matches.
using FieldFilter = std::function<bool(ByteSpan event_data)>;
Result<FieldFilter> make_field_filter(const EventFormat& format, std::string_view field,
                                      CompareOp op, std::string_view value);

// Appends "name=value" for live views: numbers in decimal (pointers in hex),
// arrays as [a,b,c], text as text, anything else as hex bytes. Unreadable
// data renders as "name=<error: ...>".
using FieldWriter = std::function<void(ByteSpan event_data, std::string& out)>;
Result<FieldWriter> make_field_writer(const EventFormat& format, std::string_view field);
// All fields, separated by spaces.
FieldWriter make_event_writer(const EventFormat& format);

// Returns the field's bytes, walking past variable-length strings placed
// before it (the ETW / .NET payload layout).
using FieldReader = std::function<Result<ByteSpan>(ByteSpan event_data)>;
Result<FieldReader> make_field_reader(const EventFormat& format, std::string_view field);

}  // namespace one_collect
