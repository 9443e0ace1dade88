#include "one_collect/formats/text_escape.h"

namespace one_collect {

void append_fixed(std::string& out, std::uint64_t numerator, std::uint64_t denominator,
                  int decimals) {
  if (denominator == 0) denominator = 1;
  std::uint64_t whole = numerator / denominator;
  std::uint64_t rest = numerator % denominator;
  append_decimal(out, whole);
  if (decimals <= 0) return;
  out.push_back('.');
  for (int d = 0; d < decimals; ++d) {
    // rest < denominator, so rest * 10 only overflows for huge denominators.
    unsigned __int128 scaled = static_cast<unsigned __int128>(rest) * 10;
    out.push_back(static_cast<char>('0' + static_cast<int>(scaled / denominator)));
    rest = static_cast<std::uint64_t>(scaled % denominator);
  }
}

void append_folded_frame(std::string& out, std::string_view text) {
  std::string clean = sanitize_utf8(text);
  for (char c : clean) {
    if (c == ';')
      out.push_back(':');
    else if (c == '\n' || c == '\r')
      out.push_back(' ');
    else
      out.push_back(c);
  }
}

}  // namespace one_collect
