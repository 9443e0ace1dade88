// Text pieces only the text formats need, on top of core/strings.h (which
// has the decimal, JSON and XML appenders every format uses).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "one_collect/core/strings.h"

namespace one_collect {

// Fixed-point with `decimals` digits, e.g. 1234567 / 1000 with 3 -> "1234.567".
void append_fixed(std::string& out, std::uint64_t numerator, std::uint64_t denominator,
                  int decimals);

// Folded-stack frame text: ';' and line breaks would split frames or lines
// (invalid UTF-8 is replaced too).
void append_folded_frame(std::string& out, std::string_view text);

}  // namespace one_collect
