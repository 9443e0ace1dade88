// Text helpers every layer shares: whole-string number parsing, hex and
// decimal output, UTF-8 (encode, validate, UTF-16 conversion) and JSON/XML
// escaping. One copy each, so an edge case (overflow, a stray byte, a lone
// surrogate) is handled the same way by every parser and every format.
// OS-neutral: no system headers.
#pragma once

#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "one_collect/core/bytes.h"

namespace one_collect {

// ---------------------------------------------------------------- numbers
//
// Parsers take the whole text: nothing before or after the digits (no
// spaces, no '+'), and nullopt for empty text, any other character, or a
// value that does not fit T (so "18446744073709551616" is an error, never
// a wrapped number).

// Decimal digits, with a leading '-' only when T is signed.
template <std::integral T>
std::optional<T> parse_decimal(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Hex digits of either case, without a "0x" prefix.
template <std::integral T = std::uint64_t>
std::optional<T> parse_hex(std::string_view text) {
  // from_chars would accept a '-' for signed T; hex text here never has one.
  if (text.empty() || text.front() == '-') return std::nullopt;
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Hex after "0x" or "0X", else decimal (event specs, filter values, perf
// maps all spell numbers both ways).
std::optional<std::uint64_t> parse_number(std::string_view text);

// `v` in decimal, appended without a temporary string.
inline void append_decimal(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// Two lowercase hex digits per byte (build ids, raw field bytes).
void append_hex(std::string& out, ByteSpan bytes);
std::string to_hex(ByteSpan bytes);

// `text` without the ASCII white space (space, \t \n \v \f \r) at either end.
std::string_view trim(std::string_view text);

// ---------------------------------------------------------------- UTF-8

// The UTF-8 encoding of code point `cp`. Surrogates (U+D800..U+DFFF) and
// values past U+10FFFF are not characters: they are written as U+FFFD.
void append_utf8(std::string& out, std::uint32_t cp);

// Length (1-4) of the well-formed UTF-8 sequence starting at text[i], or 0
// when it is not one (stray continuation byte, truncated sequence, overlong
// form, surrogate, or a value past U+10FFFF). `i` must be < text.size().
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

// True when the whole text is well-formed UTF-8.
bool is_valid_utf8(std::string_view text);

// `text` with every byte that does not start a well-formed sequence
// replaced by U+FFFD (protobuf strings must be UTF-8).
std::string sanitize_utf8(std::string_view text);

// Appends the UTF-8 encoding of little-endian UTF-16 bytes; unpaired
// surrogates become U+FFFD. Returns false (appending nothing) for an odd
// byte count.
bool append_utf16le_as_utf8(ByteSpan utf16le, std::string& out);

// UTF-8 to UTF-16LE bytes (surrogate pairs for characters past U+FFFF).
// Returns false, appending nothing, on invalid UTF-8.
bool utf8_to_utf16le(std::string_view utf8, std::string& out_bytes);

// ---------------------------------------------------------------- escaping
//
// Both escapers emit well-formed UTF-8 whatever the input (symbol and
// command names come from untrusted binaries): invalid bytes become U+FFFD.

// A JSON string literal, quotes included. Control characters are escaped
// (\n \r \t, else \u00XX).
void append_json_string(std::string& out, std::string_view text);

// Text for an XML attribute value or element content: & < > " ' escaped,
// tab/newline/CR as character references (attribute normalisation would eat
// them), and characters XML 1.0 forbids (other controls, U+FFFE, U+FFFF)
// replaced by U+FFFD.
void append_xml_escaped(std::string& out, std::string_view text);

}  // namespace one_collect
