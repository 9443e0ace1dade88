#include "one_collect/formats/text_escape.h"

namespace one_collect {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at text[i], or 0 if invalid.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = b(i);
  std::size_t n = text.size() - i;
  if (c < 0x80) return 1;
  auto cont = [&](std::size_t k) { return k < text.size() && (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return n >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;
    return 4;
  }
  return 0;
}

}  // namespace

void append_fixed(std::string& out, std::uint64_t numerator, std::uint64_t denominator,
                  int decimals) {
  if (denominator == 0) denominator = 1;
  std::uint64_t whole = numerator / denominator;
  std::uint64_t rest = numerator % denominator;
  append_u64(out, whole);
  if (decimals <= 0) return;
  out.push_back('.');
  for (int d = 0; d < decimals; ++d) {
    // rest < denominator, so rest * 10 only overflows for huge denominators.
    unsigned __int128 scaled = static_cast<unsigned __int128>(rest) * 10;
    out.push_back(static_cast<char>('0' + static_cast<int>(scaled / denominator)));
    rest = static_cast<std::uint64_t>(scaled % denominator);
  }
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      // Copy the run of plain ASCII at once.
      std::size_t j = i + 1;
      while (j < text.size()) {
        auto d = static_cast<unsigned char>(text[j]);
        if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\') break;
        ++j;
      }
      out.append(text.data() + i, j - i);
      i = j;
      continue;
    }
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
      }
      ++i;
    } else {
      std::size_t n = utf8_length(text, i);
      if (n == 0) {
        out += kReplacement;
        ++i;
      } else {
        out.append(text.data() + i, n);
        i += n;
      }
    }
  }
  out.push_back('"');
}

void append_xml_escaped(std::string& out, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '&': out += "&amp;"; ++i; continue;
      case '<': out += "&lt;"; ++i; continue;
      case '>': out += "&gt;"; ++i; continue;
      case '"': out += "&quot;"; ++i; continue;
      case '\'': out += "&apos;"; ++i; continue;
      default: break;
    }
    if (c < 0x20) {
      // Only tab, newline and carriage return are XML 1.0 characters; keep
      // them as references so attribute normalisation cannot eat them.
      if (c == '\t') out += "&#9;";
      else if (c == '\n') out += "&#10;";
      else if (c == '\r') out += "&#13;";
      else out += kReplacement;
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else {
      std::size_t n = utf8_length(text, i);
      // U+FFFE and U+FFFF are not XML characters either.
      if (n == 3 && c == 0xEF && static_cast<unsigned char>(text[i + 1]) == 0xBF &&
          static_cast<unsigned char>(text[i + 2]) >= 0xBE) {
        n = 0;
        i += 2;
      }
      if (n == 0) {
        out += kReplacement;
        ++i;
      } else {
        out.append(text.data() + i, n);
        i += n;
      }
    }
  }
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t n = utf8_length(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.data() + i, n);
      i += n;
    }
  }
  return out;
}

void append_folded_frame(std::string& out, std::string_view text) {
  std::string clean = sanitize_utf8(text);
  for (char c : clean) {
    if (c == ';') out.push_back(':');
    else if (c == '\n' || c == '\r') out.push_back(' ');
    else out.push_back(c);
  }
}

}  // namespace one_collect
