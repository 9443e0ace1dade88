#include "one_collect/formats/text_escape.h"

#include <gtest/gtest.h>

namespace one_collect {
namespace {

// JSON, XML and UTF-8 handling are tested with core/strings.

TEST(TextEscape, FixedPoint) {
  std::string out;
  append_fixed(out, 1234567, 1000, 3);
  out += ' ';
  append_fixed(out, 5, 1000000, 3);
  out += ' ';
  append_fixed(out, 7, 0, 0);
  out += ' ';
  append_fixed(out, UINT64_MAX, UINT64_MAX - 1, 2);
  EXPECT_EQ(out, "1234.567 0.000 7 1.00");
}

TEST(TextEscape, Folded) {
  std::string out;
  append_folded_frame(out, "a;b\nc\rd e");
  EXPECT_EQ(out, "a:b c d e");
  out.clear();
  append_folded_frame(out, "bad\xff;");
  EXPECT_EQ(out, "bad\xEF\xBF\xBD:");
}

}  // namespace
}  // namespace one_collect
