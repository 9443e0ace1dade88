#include "one_collect/core/strings.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace one_collect {
namespace {

// U+FFFD as a literal, so expectations concatenate at compile time.
#define FFFD "\xEF\xBF\xBD"
constexpr std::string_view kFffd = FFFD;

TEST(StringsTest, ParseDecimal) {
  EXPECT_EQ(parse_decimal<std::uint64_t>("0"), 0u);
  EXPECT_EQ(parse_decimal<std::uint64_t>("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(parse_decimal<std::int32_t>("-2147483648"), INT32_MIN);
  EXPECT_EQ(parse_decimal<int>("0042"), 42);
  // Overflow is an error, never a wrapped value.
  EXPECT_EQ(parse_decimal<std::uint64_t>("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parse_decimal<std::uint8_t>("256"), std::nullopt);
  EXPECT_EQ(parse_decimal<std::int32_t>("2147483648"), std::nullopt);
  // The whole text, digits only.
  EXPECT_EQ(parse_decimal<int>(""), std::nullopt);
  EXPECT_EQ(parse_decimal<int>(" 1"), std::nullopt);
  EXPECT_EQ(parse_decimal<int>("1 "), std::nullopt);
  EXPECT_EQ(parse_decimal<int>("+1"), std::nullopt);
  EXPECT_EQ(parse_decimal<int>("1x"), std::nullopt);
  EXPECT_EQ(parse_decimal<int>("-"), std::nullopt);
  EXPECT_EQ(parse_decimal<unsigned>("-1"), std::nullopt);
  EXPECT_EQ(parse_decimal<int>("0x10"), std::nullopt);
}

TEST(StringsTest, ParseHex) {
  EXPECT_EQ(parse_hex("ffffffff81000000"), 0xffffffff81000000ULL);
  EXPECT_EQ(parse_hex("DeadBeef"), 0xdeadbeefULL);
  EXPECT_EQ(parse_hex("0"), 0u);
  EXPECT_EQ(parse_hex("ffffffffffffffff"), UINT64_MAX);
  EXPECT_EQ(parse_hex<std::uint32_t>("1f"), 31u);
  // Overflow, invalid digits, prefixes, signs, empty text.
  EXPECT_EQ(parse_hex("10000000000000000"), std::nullopt);
  EXPECT_EQ(parse_hex<std::uint16_t>("10000"), std::nullopt);
  EXPECT_EQ(parse_hex("12g4"), std::nullopt);
  EXPECT_EQ(parse_hex("0x10"), std::nullopt);
  EXPECT_EQ(parse_hex("-1"), std::nullopt);
  EXPECT_EQ(parse_hex<int>("-1"), std::nullopt);
  EXPECT_EQ(parse_hex(""), std::nullopt);
  EXPECT_EQ(parse_hex(" a"), std::nullopt);
}

TEST(StringsTest, ParseNumberTakesEitherBase) {
  EXPECT_EQ(parse_number("4096"), 4096u);
  EXPECT_EQ(parse_number("0x1000"), 4096u);
  EXPECT_EQ(parse_number("0X1000"), 4096u);
  EXPECT_EQ(parse_number("0"), 0u);
  EXPECT_EQ(parse_number("0x"), std::nullopt);
  EXPECT_EQ(parse_number("0x-1"), std::nullopt);
  EXPECT_EQ(parse_number("1000h"), std::nullopt);
  EXPECT_EQ(parse_number("0x10000000000000000"), std::nullopt);
  EXPECT_EQ(parse_number(""), std::nullopt);
}

TEST(StringsTest, TrimRemovesAsciiSpaceAtBothEnds) {
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \t\n\v\f\r"), "");
  EXPECT_EQ(trim("  a b\t\n"), "a b");
  EXPECT_EQ(trim("x"), "x");
  EXPECT_EQ(trim("\xC2\xA0x"), "\xC2\xA0x");  // no-break space is not ASCII space
}

TEST(StringsTest, DecimalAndHexOutput) {
  std::string out;
  append_decimal(out, 0);
  out += ' ';
  append_decimal(out, UINT64_MAX);
  EXPECT_EQ(out, "0 18446744073709551615");
  const std::uint8_t bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(to_hex(bytes), "000fa5ff");
  EXPECT_EQ(to_hex({}), "");
  std::string hex = "id=";
  append_hex(hex, bytes);
  EXPECT_EQ(hex, "id=000fa5ff");
}

TEST(StringsTest, AppendUtf8EncodesCodePoints) {
  auto enc = [](std::uint32_t cp) {
    std::string s;
    append_utf8(s, cp);
    return s;
  };
  EXPECT_EQ(enc(0), std::string(1, '\0'));
  EXPECT_EQ(enc('A'), "A");
  EXPECT_EQ(enc(0x7F), "\x7F");
  EXPECT_EQ(enc(0x80), "\xC2\x80");
  EXPECT_EQ(enc(0xE9), "\xC3\xA9");
  EXPECT_EQ(enc(0x7FF), "\xDF\xBF");
  EXPECT_EQ(enc(0x800), "\xE0\xA0\x80");
  EXPECT_EQ(enc(0x20AC), "\xE2\x82\xAC");
  EXPECT_EQ(enc(0xFFFF), "\xEF\xBF\xBF");
  EXPECT_EQ(enc(0x10000), "\xF0\x90\x80\x80");
  EXPECT_EQ(enc(0x1F600), "\xF0\x9F\x98\x80");
  EXPECT_EQ(enc(0x10FFFF), "\xF4\x8F\xBF\xBF");
  // Surrogates and values past U+10FFFF are no characters.
  EXPECT_EQ(enc(0xD800), kFffd);
  EXPECT_EQ(enc(0xDBFF), kFffd);
  EXPECT_EQ(enc(0xDC00), kFffd);
  EXPECT_EQ(enc(0xDFFF), kFffd);
  EXPECT_EQ(enc(0x110000), kFffd);
  EXPECT_EQ(enc(0xFFFFFFFF), kFffd);
  // Everything it writes is valid.
  for (std::uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0xD7FFu, 0xD800u, 0xE000u, 0x10FFFFu, 0x110000u}) {
    EXPECT_TRUE(is_valid_utf8(enc(cp))) << cp;
  }
}

TEST(StringsTest, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_TRUE(is_valid_utf8(std::string_view("a\0b", 3)));
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // a surrogate (U+D800)
  EXPECT_FALSE(is_valid_utf8("\xED\xBF\xBF"));      // a surrogate (U+DFFF)
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\x80"));              // stray continuation byte
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xC1\xBF"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xF0\x80\x80\xAF"));  // overlong
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_FALSE(
      is_valid_utf8("\xC3"
                    "A"));  // continuation missing
  EXPECT_EQ(utf8_sequence_length("a\xC3\xA9", 1), 2u);
  EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x98\x80", 0), 4u);
  EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x98", 0), 0u);
}

TEST(StringsTest, SanitizeReplacesEachBadByte) {
  EXPECT_EQ(sanitize_utf8(""), "");
  EXPECT_EQ(sanitize_utf8("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(sanitize_utf8("a\xFF"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(sanitize_utf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(is_valid_utf8(sanitize_utf8("\xED\xA0\x80\xC0\xAF\xF5")));
}

TEST(StringsTest, Utf16Conversions) {
  auto from16 = [](std::u16string_view units) {
    std::string bytes;
    for (char16_t u : units) {
      bytes += static_cast<char>(u & 0xFF);
      bytes += static_cast<char>(u >> 8);
    }
    std::string out;
    EXPECT_TRUE(append_utf16le_as_utf8(as_bytes_span(bytes.data(), bytes.size()), out));
    return out;
  };
  EXPECT_EQ(from16(u""), "");
  EXPECT_EQ(from16(u"h\u00e9llo"), "h\xC3\xA9llo");
  EXPECT_EQ(from16(u"\U0001F600"), "\xF0\x9F\x98\x80");
  // Unpaired surrogates (high alone, high at the end, low alone).
  EXPECT_EQ(from16(std::u16string{0xD800, 'a'}), FFFD "a");
  EXPECT_EQ(from16(std::u16string{'a', 0xD83D}), "a" FFFD);
  EXPECT_EQ(from16(std::u16string{0xDE00, 0xD83D}), FFFD FFFD);

  std::string out = "kept";
  const std::uint8_t odd[] = {'a', 0, 'b'};
  EXPECT_FALSE(append_utf16le_as_utf8(odd, out));
  EXPECT_EQ(out, "kept");

  std::string le;
  ASSERT_TRUE(utf8_to_utf16le("a\xC3\xA9\xF0\x9F\x98\x80", le));
  EXPECT_EQ(le, std::string("a\0\xE9\0\x3D\xD8\x00\xDE", 8));
  std::string untouched = "x";
  EXPECT_FALSE(utf8_to_utf16le("bad\xFF", untouched));
  EXPECT_FALSE(utf8_to_utf16le("\xED\xA0\x80", untouched));
  EXPECT_EQ(untouched, "x");
}

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

TEST(StringsTest, JsonEscaping) {
  EXPECT_EQ(json(""), "\"\"");
  EXPECT_EQ(json("plain"), "\"plain\"");
  EXPECT_EQ(json("a\"b\\c/"), "\"a\\\"b\\\\c/\"");
  EXPECT_EQ(json("l1\nl2\r\t\x01\x1f\x7f"), "\"l1\\nl2\\r\\t\\u0001\\u001f\x7f\"");
  EXPECT_EQ(json(std::string_view("a\0b", 3)), "\"a\\u0000b\"");
  EXPECT_EQ(json("caf\xc3\xa9"), "\"caf\xc3\xa9\"");            // valid UTF-8 kept
  EXPECT_EQ(json("bad\xff"), "\"bad\xEF\xBF\xBD\"");            // invalid byte replaced
  EXPECT_EQ(json("\xe2\x82"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");  // truncated sequence
  EXPECT_EQ(json("\xed\xa0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
  EXPECT_TRUE(is_valid_utf8(json("\xC0\xAF\xF5\x80")));
}

TEST(StringsTest, XmlEscaping) {
  EXPECT_EQ(xml(""), "");
  EXPECT_EQ(xml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(xml("t\tn\nr\r"), "t&#9;n&#10;r&#13;");
  EXPECT_EQ(xml("\x01"), kFffd);  // controls XML forbids
  EXPECT_EQ(xml(std::string_view("\0", 1)), kFffd);
  EXPECT_EQ(xml("\xef\xbf\xbf"), kFffd);      // U+FFFF is no XML character
  EXPECT_EQ(xml("\xef\xbf\xbe!"), FFFD "!");  // nor U+FFFE
  EXPECT_EQ(xml("\xef\xbf\xbd"), kFffd);      // U+FFFD itself is kept
  EXPECT_EQ(xml("x\xc3"), "x\xEF\xBF\xBD");
  EXPECT_EQ(xml("\xed\xa0\x80"), FFFD FFFD FFFD);
  EXPECT_EQ(xml("caf\xc3\xa9"), "caf\xc3\xa9");
}

}  // namespace
}  // namespace one_collect
