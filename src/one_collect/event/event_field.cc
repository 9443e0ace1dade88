#include "one_collect/event/event_field.h"

#include <array>
#include <cctype>

#include "one_collect/core/strings.h"

namespace one_collect {
namespace {

bool consume_prefix(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  if (s.size() > prefix.size() && !std::isspace(static_cast<unsigned char>(s[prefix.size()])) &&
      prefix.back() != ' ') {
    return false;
  }
  s = trim(s.substr(prefix.size()));
  return true;
}

struct BaseType {
  std::string_view name;
  ValueKind kind;
  std::uint8_t size;
};

// Base type names we know, with their kind and size on the 64-bit Linux and
// Windows ABIs that event payloads come from (long is 8 bytes on Linux; ETW
// formats do not use `long`).
constexpr std::array kBaseTypes = {
    BaseType{"char", ValueKind::kUtf8, 1},
    BaseType{"signed char", ValueKind::kSigned, 1},
    BaseType{"unsigned char", ValueKind::kUnsigned, 1},
    BaseType{"bool", ValueKind::kUnsigned, 1},
    BaseType{"_Bool", ValueKind::kUnsigned, 1},
    BaseType{"u8", ValueKind::kUnsigned, 1},
    BaseType{"__u8", ValueKind::kUnsigned, 1},
    BaseType{"uint8_t", ValueKind::kUnsigned, 1},
    BaseType{"s8", ValueKind::kSigned, 1},
    BaseType{"__s8", ValueKind::kSigned, 1},
    BaseType{"int8_t", ValueKind::kSigned, 1},
    BaseType{"short", ValueKind::kSigned, 2},
    BaseType{"signed short", ValueKind::kSigned, 2},
    BaseType{"short int", ValueKind::kSigned, 2},
    BaseType{"unsigned short", ValueKind::kUnsigned, 2},
    BaseType{"unsigned short int", ValueKind::kUnsigned, 2},
    BaseType{"u16", ValueKind::kUnsigned, 2},
    BaseType{"__u16", ValueKind::kUnsigned, 2},
    BaseType{"uint16_t", ValueKind::kUnsigned, 2},
    BaseType{"s16", ValueKind::kSigned, 2},
    BaseType{"__s16", ValueKind::kSigned, 2},
    BaseType{"int16_t", ValueKind::kSigned, 2},
    BaseType{"wchar", ValueKind::kUtf16, 2},
    BaseType{"int", ValueKind::kSigned, 4},
    BaseType{"signed int", ValueKind::kSigned, 4},
    BaseType{"signed", ValueKind::kSigned, 4},
    BaseType{"unsigned int", ValueKind::kUnsigned, 4},
    BaseType{"unsigned", ValueKind::kUnsigned, 4},
    BaseType{"u32", ValueKind::kUnsigned, 4},
    BaseType{"__u32", ValueKind::kUnsigned, 4},
    BaseType{"uint32_t", ValueKind::kUnsigned, 4},
    BaseType{"s32", ValueKind::kSigned, 4},
    BaseType{"__s32", ValueKind::kSigned, 4},
    BaseType{"int32_t", ValueKind::kSigned, 4},
    BaseType{"float", ValueKind::kFloat, 4},
    BaseType{"long", ValueKind::kSigned, 8},
    BaseType{"long int", ValueKind::kSigned, 8},
    BaseType{"signed long", ValueKind::kSigned, 8},
    BaseType{"unsigned long", ValueKind::kUnsigned, 8},
    BaseType{"unsigned long int", ValueKind::kUnsigned, 8},
    BaseType{"long long", ValueKind::kSigned, 8},
    BaseType{"long long int", ValueKind::kSigned, 8},
    BaseType{"unsigned long long", ValueKind::kUnsigned, 8},
    BaseType{"unsigned long long int", ValueKind::kUnsigned, 8},
    BaseType{"u64", ValueKind::kUnsigned, 8},
    BaseType{"__u64", ValueKind::kUnsigned, 8},
    BaseType{"uint64_t", ValueKind::kUnsigned, 8},
    BaseType{"s64", ValueKind::kSigned, 8},
    BaseType{"__s64", ValueKind::kSigned, 8},
    BaseType{"int64_t", ValueKind::kSigned, 8},
    BaseType{"size_t", ValueKind::kUnsigned, 8},
    BaseType{"ssize_t", ValueKind::kSigned, 8},
    BaseType{"double", ValueKind::kFloat, 8},
};

const BaseType* find_base_type(std::string_view name) {
  for (const auto& base : kBaseTypes) {
    if (base.name == name) return &base;
  }
  return nullptr;
}

std::string collapse_spaces(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::string_view location_type_name(LocationType location) {
  switch (location) {
    case LocationType::kStatic:
      return "static";
    case LocationType::kStaticString:
      return "string";
    case LocationType::kStaticUtf16String:
      return "utf16 string";
    case LocationType::kDataLoc:
      return "__data_loc";
    case LocationType::kRelLoc:
      return "__rel_loc";
  }
  return "?";
}

std::string_view value_kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::kUnsigned:
      return "unsigned";
    case ValueKind::kSigned:
      return "signed";
    case ValueKind::kFloat:
      return "float";
    case ValueKind::kUtf8:
      return "utf8";
    case ValueKind::kUtf16:
      return "utf16";
    case ValueKind::kBytes:
      return "bytes";
  }
  return "?";
}

Result<EventField> EventField::create(std::string name, std::string type_name, std::uint32_t offset,
                                      std::uint32_t size, std::optional<bool> is_signed) {
  auto fail = [&](std::string why) {
    return error(ErrorCode::kInvalidArgument,
                 "field '" + name + "' of type '" + type_name + "': " + why);
  };
  if (name.empty()) return fail("empty field name");

  EventField field;
  field.offset = offset;
  field.size = size;

  std::string_view type = trim(type_name);
  if (consume_prefix(type, "__data_loc")) {
    field.location = LocationType::kDataLoc;
  } else if (consume_prefix(type, "__rel_loc")) {
    field.location = LocationType::kRelLoc;
  }

  // Array suffix: "[16]", "[]", or a macro name such as "[TASK_COMM_LEN]".
  std::optional<std::uint32_t> array_count;
  bool has_array_suffix = false;
  if (!type.empty() && type.back() == ']') {
    auto open = type.rfind('[');
    if (open == std::string_view::npos) return fail("unbalanced ']'");
    has_array_suffix = true;
    std::string_view count = trim(type.substr(open + 1, type.size() - open - 2));
    array_count = parse_decimal<std::uint32_t>(count);
    type = trim(type.substr(0, open));
  }

  // Qualifiers that do not change the layout.
  bool changed = true;
  while (changed) {
    changed = consume_prefix(type, "const") || consume_prefix(type, "volatile") ||
              consume_prefix(type, "struct") || consume_prefix(type, "enum") ||
              consume_prefix(type, "union");
  }
  bool pointer = !type.empty() && type.back() == '*';
  std::string base_name = collapse_spaces(type);

  if (pointer) {
    field.kind = ValueKind::kUnsigned;
    field.element_size = 8;
    field.is_pointer = true;
  } else if (base_name == "string") {
    field.kind = ValueKind::kUtf8;
    field.element_size = 1;
    has_array_suffix = true;
  } else if (base_name == "wstring") {
    field.kind = ValueKind::kUtf16;
    field.element_size = 2;
    has_array_suffix = true;
  } else if (const BaseType* base = find_base_type(base_name)) {
    field.kind = base->kind;
    field.element_size = base->size;
  } else if (is_signed.has_value()) {
    // A typedef we do not know (pid_t, gfp_t, dma_addr_t...): the source told
    // us its size and signedness, which is all a reader needs.
    std::uint32_t element = size;
    if (has_array_suffix && array_count && *array_count > 0) element = size / *array_count;
    if (element == 1 || element == 2 || element == 4 || element == 8) {
      field.kind = *is_signed ? ValueKind::kSigned : ValueKind::kUnsigned;
      field.element_size = static_cast<std::uint8_t>(element);
    } else {
      field.kind = ValueKind::kBytes;
      field.element_size = 1;
    }
  } else {
    return fail("unknown type '" + base_name + "'");
  }

  field.is_array = has_array_suffix;
  // A lone char is a small number; only arrays of chars are text.
  if (!field.is_array && !field.is_dynamic() && field.kind == ValueKind::kUtf8) {
    field.kind = ValueKind::kSigned;
  } else if (!field.is_array && !field.is_dynamic() && field.kind == ValueKind::kUtf16) {
    field.kind = ValueKind::kUnsigned;
  }
  if (field.is_dynamic()) {
    if (field.size == 0) field.size = 4;
    if (field.size != 4) return fail("dynamic fields are a 4-byte descriptor");
    field.is_array = true;
  } else if (field.is_text() && field.is_array) {
    field.location = field.kind == ValueKind::kUtf8 ? LocationType::kStaticString
                                                    : LocationType::kStaticUtf16String;
    if (array_count && field.size == 0) field.size = *array_count * field.element_size;
    if (field.kind == ValueKind::kUtf16 && field.size % 2 != 0) {
      return fail("UTF-16 string size " + std::to_string(field.size) + " is odd");
    }
  } else if (field.is_array) {
    if (array_count && field.size == 0) field.size = *array_count * field.element_size;
    if (field.size == 0) return fail("array without a size");
    if (field.size % field.element_size != 0) {
      return fail("size " + std::to_string(field.size) + " is not a multiple of element size " +
                  std::to_string(field.element_size));
    }
  } else {
    if (field.size == 0) field.size = field.element_size;
    if (field.size != field.element_size) {
      if (field.kind == ValueKind::kBytes || is_signed.has_value()) {
        // Opaque scalar (a struct or an unusual width): keep its bytes.
        field.kind = ValueKind::kBytes;
        field.element_size = 1;
        field.is_array = true;
      } else {
        return fail("size " + std::to_string(field.size) + " does not match the type's " +
                    std::to_string(field.element_size) + " bytes");
      }
    }
  }

  field.name = std::move(name);
  field.type_name = std::move(type_name);
  return field;
}

}  // namespace one_collect
