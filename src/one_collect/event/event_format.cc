#include "one_collect/event/event_format.h"

#include <type_traits>

#include <algorithm>

#include "one_collect/core/strings.h"

namespace one_collect {
namespace {

// Length in bytes of a NUL-terminated string starting at `offset`, without
// the terminator; nothing when no terminator lies inside `data`.
std::optional<std::size_t> terminated_length(ByteSpan data, std::size_t offset, bool utf16) {
  if (offset > data.size()) return std::nullopt;
  if (!utf16) {
    const auto* begin = data.data() + offset;
    const auto* end = data.data() + data.size();
    const auto* nul = std::find(begin, end, std::uint8_t{0});
    if (nul == end) return std::nullopt;
    return static_cast<std::size_t>(nul - begin);
  }
  for (std::size_t i = offset; i + 1 < data.size(); i += 2) {
    if (data[i] == 0 && data[i + 1] == 0) return i - offset;
  }
  return std::nullopt;
}

ByteSpan trim_at_terminator(ByteSpan bytes, bool utf16) {
  if (!utf16) {
    auto nul = std::find(bytes.begin(), bytes.end(), std::uint8_t{0});
    return bytes.first(static_cast<std::size_t>(nul - bytes.begin()));
  }
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
    if (bytes[i] == 0 && bytes[i + 1] == 0) return bytes.first(i);
  }
  return bytes;
}

}  // namespace

Status EventFormat::add_field(EventField field) {
  if (find_field(field.name) != nullptr) {
    return error(ErrorCode::kAlreadyExists, "field '" + field.name + "' already exists");
  }
  if (fields_.size() >= std::numeric_limits<std::uint32_t>::max() - 1) {
    return error(ErrorCode::kOutOfRange, "too many fields");
  }
  field.variable_fields_before =
      static_cast<std::uint16_t>(std::min<std::size_t>(variable_field_indices_.size(), 0xFFFF));
  if (field.is_variable_size()) {
    variable_field_indices_.push_back(static_cast<std::uint32_t>(fields_.size()));
  }
  bool fast = field.location == LocationType::kStatic && field.variable_fields_before == 0;
  fast_.push_back(FastLayout{field.offset, fast ? field.size : 0});
  fields_.push_back(std::move(field));
  return ok_status();
}

Result<EventFieldRef> EventFormat::get_field_ref(std::string_view name) const {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return EventFieldRef{static_cast<std::uint32_t>(i)};
  }
  return error(ErrorCode::kNotFound, "no field named '" + std::string(name) + "'");
}

const EventField* EventFormat::find_field(std::string_view name) const {
  for (const auto& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const EventField& EventFormat::field(EventFieldRef ref) const {
  static const EventField kNoField;
  return ref.index < fields_.size() ? fields_[ref.index] : kNoField;
}

Status EventFormat::field_error(EventFieldRef ref, ErrorCode code, std::string_view what) const {
  std::string message(what);
  if (ref.index < fields_.size()) {
    const EventField& f = fields_[ref.index];
    message += " (field '" + f.name + "', type '" + f.type_name + "', offset " +
               std::to_string(f.offset) + ", size " + std::to_string(f.size) + ")";
  }
  return error(code, std::move(message));
}

Result<std::size_t> EventFormat::resolve_offset(EventFieldRef ref, ByteSpan data) const {
  if (ref.index >= fields_.size()) {
    return field_error(ref, ErrorCode::kInvalidArgument, "invalid field ref");
  }
  std::size_t extra = 0;
  for (std::uint32_t index : variable_field_indices_) {
    if (index >= ref.index) break;
    const EventField& v = fields_[index];
    bool utf16 = v.location == LocationType::kStaticUtf16String;
    auto length = terminated_length(data, v.offset + extra, utf16);
    if (!length) {
      return field_error(EventFieldRef{index}, ErrorCode::kMalformed,
                         "variable-length string has no terminator");
    }
    extra += *length + (utf16 ? 2 : 1);
  }
  return fields_[ref.index].offset + extra;
}

Result<ByteSpan> EventFormat::get_data(EventFieldRef ref, ByteSpan data) const {
  if (ref.index >= fields_.size()) {
    return field_error(ref, ErrorCode::kInvalidArgument, "invalid field ref");
  }
  const EventField& f = fields_[ref.index];
  OC_ASSIGN_OR_RETURN(std::size_t offset, resolve_offset(ref, data));

  switch (f.location) {
    case LocationType::kStatic: {
      auto bytes = slice(data, offset, f.size);
      if (!bytes) return field_error(ref, ErrorCode::kOutOfRange, "payload too short");
      return *bytes;
    }
    case LocationType::kStaticString:
    case LocationType::kStaticUtf16String: {
      bool utf16 = f.location == LocationType::kStaticUtf16String;
      if (f.size == 0) {
        auto length = terminated_length(data, offset, utf16);
        if (!length) {
          return field_error(ref, ErrorCode::kMalformed, "string has no terminator");
        }
        return data.subspan(offset, *length);
      }
      auto bytes = slice(data, offset, f.size);
      if (!bytes) return field_error(ref, ErrorCode::kOutOfRange, "payload too short");
      return trim_at_terminator(*bytes, utf16);
    }
    case LocationType::kDataLoc:
    case LocationType::kRelLoc: {
      auto descriptor = read_at<std::uint32_t>(data, offset);
      if (!descriptor) {
        return field_error(ref, ErrorCode::kOutOfRange, "payload too short for descriptor");
      }
      std::size_t start = *descriptor & 0xFFFF;
      std::size_t length = *descriptor >> 16;
      if (f.location == LocationType::kRelLoc) start += offset + 4;
      auto bytes = slice(data, start, length);
      if (!bytes) {
        return field_error(ref, ErrorCode::kOutOfRange,
                           "dynamic data [" + std::to_string(start) + ", +" +
                               std::to_string(length) + ") lies past the payload's " +
                               std::to_string(data.size()) + " bytes");
      }
      if (f.kind == ValueKind::kUtf8 || f.kind == ValueKind::kUtf16) {
        return trim_at_terminator(*bytes, f.kind == ValueKind::kUtf16);
      }
      return *bytes;
    }
  }
  return field_error(ref, ErrorCode::kInternal, "unknown location");
}

template <typename W>
Result<W> EventFormat::get_widened(EventFieldRef ref, ByteSpan data) const {
  // Signed W reads the field's bytes as signed (sign-extends); unsigned W
  // zero-extends.
  constexpr bool kSigned = std::is_signed_v<W>;
  const EventField& f = field(ref);
  if (f.location != LocationType::kStatic || f.is_array ||
      (f.kind != ValueKind::kUnsigned && f.kind != ValueKind::kSigned)) {
    return field_error(ref, ErrorCode::kInvalidArgument, "not an integer field");
  }
  switch (f.size) {
    case 1: {
      OC_ASSIGN_OR_RETURN(auto v,
                          (get<std::conditional_t<kSigned, std::int8_t, std::uint8_t>>(ref, data)));
      return static_cast<W>(v);
    }
    case 2: {
      OC_ASSIGN_OR_RETURN(
          auto v, (get<std::conditional_t<kSigned, std::int16_t, std::uint16_t>>(ref, data)));
      return static_cast<W>(v);
    }
    case 4: {
      OC_ASSIGN_OR_RETURN(
          auto v, (get<std::conditional_t<kSigned, std::int32_t, std::uint32_t>>(ref, data)));
      return static_cast<W>(v);
    }
    case 8: {
      OC_ASSIGN_OR_RETURN(auto v, (get<W>(ref, data)));
      return v;
    }
    default:
      break;
  }
  return field_error(ref, ErrorCode::kInvalidArgument, "unsupported integer width");
}

Result<std::uint64_t> EventFormat::get_unsigned(EventFieldRef ref, ByteSpan data) const {
  return get_widened<std::uint64_t>(ref, data);
}

Result<std::int64_t> EventFormat::get_signed(EventFieldRef ref, ByteSpan data) const {
  return get_widened<std::int64_t>(ref, data);
}

Result<std::string_view> EventFormat::get_str(EventFieldRef ref, ByteSpan data) const {
  const EventField& f = field(ref);
  if (f.kind != ValueKind::kUtf8) {
    return field_error(ref, ErrorCode::kInvalidArgument, "not a UTF-8 text field");
  }
  OC_ASSIGN_OR_RETURN(ByteSpan bytes, get_data(ref, data));
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (!is_valid_utf8(text)) return field_error(ref, ErrorCode::kMalformed, "invalid UTF-8");
  return text;
}

Result<std::string> EventFormat::get_utf16_as_utf8(EventFieldRef ref, ByteSpan data) const {
  const EventField& f = field(ref);
  if (f.kind != ValueKind::kUtf16) {
    return field_error(ref, ErrorCode::kInvalidArgument, "not a UTF-16 text field");
  }
  OC_ASSIGN_OR_RETURN(ByteSpan bytes, get_data(ref, data));
  std::string out;
  if (!append_utf16le_as_utf8(bytes, out)) {
    return field_error(ref, ErrorCode::kMalformed, "odd-length UTF-16 data");
  }
  return out;
}

Result<std::string> EventFormat::get_text(EventFieldRef ref, ByteSpan data) const {
  if (field(ref).kind == ValueKind::kUtf16) return get_utf16_as_utf8(ref, data);
  OC_ASSIGN_OR_RETURN(std::string_view text, get_str(ref, data));
  return std::string(text);
}

}  // namespace one_collect
