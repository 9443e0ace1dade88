#include "one_collect/formats/text_escape.h"

#include <gtest/gtest.h>

namespace one_collect {
namespace {

std::string json(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}
std::string xml(std::string_view s) {
  std::string out;
  append_xml_escaped(out, s);
  return out;
}

TEST(TextEscape, Numbers) {
  std::string out;
  append_u64(out, 0);
  out += ' ';
  append_u64(out, 18446744073709551615ULL);
  out += ' ';
  append_fixed(out, 1234567, 1000, 3);
  out += ' ';
  append_fixed(out, 5, 1000000, 3);
  out += ' ';
  append_fixed(out, 7, 0, 0);
  EXPECT_EQ(out, "0 18446744073709551615 1234.567 0.000 7");
}

TEST(TextEscape, Json) {
  EXPECT_EQ(json("plain"), "\"plain\"");
  EXPECT_EQ(json("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json("l1\nl2\t\x01"), "\"l1\\nl2\\t\\u0001\"");
  EXPECT_EQ(json("caf\xc3\xa9"), "\"caf\xc3\xa9\"");            // valid UTF-8 kept
  EXPECT_EQ(json("bad\xff"), "\"bad\xEF\xBF\xBD\"");              // invalid byte replaced
  EXPECT_EQ(json("\xe2\x82"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");  // truncated sequence
  EXPECT_EQ(json("\xed\xa0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
  EXPECT_EQ(json(std::string_view("a\0b", 3)), "\"a\\u0000b\"");
}

TEST(TextEscape, Xml) {
  EXPECT_EQ(xml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(xml("t\tn\nr\r"), "t&#9;n&#10;r&#13;");
  EXPECT_EQ(xml("\x01"), "\xEF\xBF\xBD");
  EXPECT_EQ(xml("\xef\xbf\xbf"), "\xEF\xBF\xBD");  // U+FFFF is no XML character
  EXPECT_EQ(xml("x\xc3"), "x\xEF\xBF\xBD");
}

TEST(TextEscape, Folded) {
  std::string out;
  append_folded_frame(out, "a;b\nc\rd e");
  EXPECT_EQ(out, "a:b c d e");
}

}  // namespace
}  // namespace one_collect
