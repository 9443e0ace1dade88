#include "one_collect/event/field_closures.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "one_collect/core/strings.h"

namespace one_collect {
namespace {

template <typename T>
bool compare(T lhs, CompareOp op, T rhs) {
  switch (op) {
    case CompareOp::kEq:
      return lhs == rhs;
    case CompareOp::kNe:
      return lhs != rhs;
    case CompareOp::kLt:
      return lhs < rhs;
    case CompareOp::kLe:
      return lhs <= rhs;
    case CompareOp::kGt:
      return lhs > rhs;
    case CompareOp::kGe:
      return lhs >= rhs;
    default:
      return false;
  }
}

bool is_numeric_op(CompareOp op) {
  return op == CompareOp::kEq || op == CompareOp::kNe || op == CompareOp::kLt ||
         op == CompareOp::kLe || op == CompareOp::kGt || op == CompareOp::kGe;
}

// An optional '-', then decimal or 0x-prefixed hex.
template <typename T>
std::optional<T> parse_integer(std::string_view text) {
  bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  std::optional<std::uint64_t> parsed = parse_number(text);
  if (!parsed) return std::nullopt;
  std::uint64_t magnitude = *parsed;
  if constexpr (std::is_signed_v<T>) {
    if (negative) {
      if (magnitude > static_cast<std::uint64_t>(INT64_MAX) + 1) return std::nullopt;
      return static_cast<T>(-static_cast<std::int64_t>(magnitude - 1) - 1);
    }
    if (magnitude > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<T>(magnitude);
  } else {
    if (negative) return std::nullopt;
    return static_cast<T>(magnitude);
  }
}

std::optional<double> parse_double(std::string_view text) {
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size() || errno == ERANGE) return std::nullopt;
  return value;
}

// Text compare on encoded bytes; `unit` is 2 for UTF-16 so matches stay on
// code-unit boundaries.
bool text_matches(ByteSpan haystack, CompareOp op, std::string_view needle, std::size_t unit) {
  auto h = std::string_view(reinterpret_cast<const char*>(haystack.data()), haystack.size());
  switch (op) {
    case CompareOp::kEq:
      return h == needle;
    case CompareOp::kNe:
      return h != needle;
    case CompareOp::kStartsWith:
      return h.substr(0, needle.size()) == needle;
    case CompareOp::kEndsWith:
      return h.size() >= needle.size() && (h.size() - needle.size()) % unit == 0 &&
             h.substr(h.size() - needle.size()) == needle;
    case CompareOp::kContains:
    case CompareOp::kNotContains: {
      bool found = false;
      for (std::size_t pos = h.find(needle); pos != std::string_view::npos;
           pos = h.find(needle, pos + 1)) {
        if (pos % unit == 0) {
          found = true;
          break;
        }
      }
      return op == CompareOp::kContains ? found : !found;
    }
    default:
      return false;
  }
}

void append_number(const EventField& f, ByteSpan element, std::string& out) {
  char buffer[40];
  int n = 0;
  if (f.kind == ValueKind::kFloat) {
    if (element.size() == 4) {
      float v;
      std::memcpy(&v, element.data(), 4);
      n = std::snprintf(buffer, sizeof buffer, "%g", static_cast<double>(v));
    } else {
      double v;
      std::memcpy(&v, element.data(), 8);
      n = std::snprintf(buffer, sizeof buffer, "%g", v);
    }
  } else {
    std::uint64_t raw = 0;
    std::memcpy(&raw, element.data(), element.size());  // little-endian host
    if (f.kind == ValueKind::kSigned) {
      unsigned shift = static_cast<unsigned>(64 - 8 * element.size());
      auto v = static_cast<std::int64_t>(raw << shift) >> shift;
      n = std::snprintf(buffer, sizeof buffer, "%" PRId64, v);
    } else if (f.is_pointer) {
      n = std::snprintf(buffer, sizeof buffer, "0x%" PRIx64, raw);
    } else {
      n = std::snprintf(buffer, sizeof buffer, "%" PRIu64, raw);
    }
  }
  out.append(buffer, static_cast<std::size_t>(std::max(n, 0)));
}

void write_value(const EventFormat& format, EventFieldRef ref, ByteSpan data, std::string& out) {
  const EventField& f = format.field(ref);
  out += f.name;
  out += '=';
  auto bytes = format.get_data(ref, data);
  if (!bytes.ok()) {
    out += "<error: " + bytes.status().message() + ">";
    return;
  }
  if (f.kind == ValueKind::kUtf8) {
    out.append(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  } else if (f.kind == ValueKind::kUtf16) {
    if (!append_utf16le_as_utf8(*bytes, out)) out += "<error: odd-length UTF-16>";
  } else if (f.kind == ValueKind::kBytes) {
    append_hex(out, *bytes);
  } else if (!f.is_array) {
    append_number(f, *bytes, out);
  } else {
    out += '[';
    for (std::size_t i = 0; i + f.element_size <= bytes->size(); i += f.element_size) {
      if (i != 0) out += ',';
      append_number(f, bytes->subspan(i, f.element_size), out);
    }
    out += ']';
  }
}

}  // namespace

Result<CompareOp> parse_compare_op(std::string_view text) {
  static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
      {"==", CompareOp::kEq},
      {"!=", CompareOp::kNe},
      {"<", CompareOp::kLt},
      {"<=", CompareOp::kLe},
      {">", CompareOp::kGt},
      {">=", CompareOp::kGe},
      {"contains", CompareOp::kContains},
      {"not_contains", CompareOp::kNotContains},
      {"starts_with", CompareOp::kStartsWith},
      {"ends_with", CompareOp::kEndsWith},
  };
  for (const auto& [name, op] : kOps) {
    if (name == text) return op;
  }
  return error(ErrorCode::kInvalidArgument,
               "unknown operator '" + std::string(text) +
                   "' (expected == != < <= > >= contains not_contains starts_with ends_with)");
}

std::string_view compare_op_name(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "==";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
    case CompareOp::kContains:
      return "contains";
    case CompareOp::kNotContains:
      return "not_contains";
    case CompareOp::kStartsWith:
      return "starts_with";
    case CompareOp::kEndsWith:
      return "ends_with";
  }
  return "?";
}

Result<FieldFilter> make_field_filter(const EventFormat& format, std::string_view field_name,
                                      CompareOp op, std::string_view value) {
  OC_ASSIGN_OR_RETURN(EventFieldRef ref, format.get_field_ref(field_name));
  auto shared = std::make_shared<const EventFormat>(format);
  const EventField& f = shared->field(ref);
  auto bad_value = [&](std::string_view what) {
    return error(ErrorCode::kInvalidArgument, "filter on '" + f.name + "': value '" +
                                                  std::string(value) + "' is not " +
                                                  std::string(what));
  };

  if (f.is_text()) {
    if (op == CompareOp::kLt || op == CompareOp::kLe || op == CompareOp::kGt ||
        op == CompareOp::kGe) {
      return error(
          ErrorCode::kInvalidArgument,
          "filter on text field '" + f.name + "' cannot use " + std::string(compare_op_name(op)));
    }
    std::string needle;
    std::size_t unit = 1;
    if (f.kind == ValueKind::kUtf16) {
      if (!utf8_to_utf16le(value, needle)) return bad_value("valid UTF-8");
      unit = 2;
    } else {
      needle = std::string(value);
    }
    return FieldFilter([shared, ref, op, needle = std::move(needle), unit](ByteSpan data) {
      auto bytes = shared->get_data(ref, data);
      return bytes.ok() && text_matches(*bytes, op, needle, unit);
    });
  }

  if (!f.is_number() || f.location != LocationType::kStatic) {
    return error(ErrorCode::kInvalidArgument,
                 "filter on '" + f.name + "': only numbers and text can be compared");
  }
  if (!is_numeric_op(op)) {
    return error(
        ErrorCode::kInvalidArgument,
        "filter on number field '" + f.name + "' cannot use " + std::string(compare_op_name(op)));
  }
  if (f.kind == ValueKind::kFloat) {
    auto target = parse_double(value);
    if (!target) return bad_value("a number");
    bool is_f32 = f.size == 4;
    return FieldFilter([shared, ref, op, target = *target, is_f32](ByteSpan data) {
      if (is_f32) {
        auto v = shared->get_f32(ref, data);
        return v.ok() && compare(static_cast<double>(*v), op, target);
      }
      auto v = shared->get_f64(ref, data);
      return v.ok() && compare(*v, op, target);
    });
  }
  if (f.kind == ValueKind::kSigned) {
    auto target = parse_integer<std::int64_t>(value);
    if (!target) return bad_value("a signed integer");
    return FieldFilter([shared, ref, op, target = *target](ByteSpan data) {
      auto v = shared->get_signed(ref, data);
      return v.ok() && compare(*v, op, target);
    });
  }
  auto target = parse_integer<std::uint64_t>(value);
  if (!target) return bad_value("an unsigned integer");
  if (f.size < 8 && *target >> (8 * f.size) != 0) {
    return bad_value("within the field's " + std::to_string(f.size) + "-byte range");
  }
  return FieldFilter([shared, ref, op, target = *target](ByteSpan data) {
    auto v = shared->get_unsigned(ref, data);
    return v.ok() && compare(*v, op, target);
  });
}

Result<FieldWriter> make_field_writer(const EventFormat& format, std::string_view field_name) {
  OC_ASSIGN_OR_RETURN(EventFieldRef ref, format.get_field_ref(field_name));
  auto shared = std::make_shared<const EventFormat>(format);
  return FieldWriter(
      [shared, ref](ByteSpan data, std::string& out) { write_value(*shared, ref, data, out); });
}

FieldWriter make_event_writer(const EventFormat& format) {
  auto shared = std::make_shared<const EventFormat>(format);
  return [shared](ByteSpan data, std::string& out) {
    for (std::uint32_t i = 0; i < shared->fields().size(); ++i) {
      if (i != 0) out += ' ';
      write_value(*shared, EventFieldRef{i}, data, out);
    }
  };
}

Result<FieldReader> make_field_reader(const EventFormat& format, std::string_view field_name) {
  OC_ASSIGN_OR_RETURN(EventFieldRef ref, format.get_field_ref(field_name));
  auto shared = std::make_shared<const EventFormat>(format);
  return FieldReader([shared, ref](ByteSpan data) { return shared->get_data(ref, data); });
}

}  // namespace one_collect
