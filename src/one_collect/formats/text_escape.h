// Appenders for text formats: decimal numbers, and strings escaped for JSON
// and XML. Both escapers emit valid UTF-8 whatever the input (symbol and
// command names come from untrusted binaries): invalid bytes become U+FFFD.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace one_collect {

inline void append_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// Fixed-point with `decimals` digits, e.g. 1234567 / 1000 with 3 -> "1234.567".
void append_fixed(std::string& out, std::uint64_t numerator, std::uint64_t denominator,
                  int decimals);

// A JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view text);
// Text for an XML attribute value or element content (& < > " ' escaped;
// characters XML 1.0 forbids are replaced by U+FFFD).
void append_xml_escaped(std::string& out, std::string_view text);
// `text` with every invalid UTF-8 byte replaced by U+FFFD (protobuf strings
// must be UTF-8).
std::string sanitize_utf8(std::string_view text);
// Folded-stack frame text: ';' and line breaks would split frames or lines
// (invalid UTF-8 is replaced too).
void append_folded_frame(std::string& out, std::string_view text);

}  // namespace one_collect
