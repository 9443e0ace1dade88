#include "one_collect/event/field_closures.h"

#include <gtest/gtest.h>

#include "one_collect/testing/payload_builder.h"

namespace one_collect {
namespace {

using testing::PayloadBuilder;

class ClosureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    add("pid", "int", 0, 4);
    add("count", "u64", 4, 8);
    add("ratio", "double", 12, 8);
    add("comm", "char[8]", 20, 8);
    add("addr", "void *", 28, 8);
    add("path", "__data_loc wchar[]", 36, 4);
    add("vals", "u16[3]", 40, 6);
    payload.put<std::int32_t>(-5).put<std::uint64_t>(1000).put<double>(0.5);
    payload.text("python", 8).put<std::uint64_t>(0xdead).put<std::uint32_t>(0);
    payload.put<std::uint16_t>(1).put<std::uint16_t>(2).put<std::uint16_t>(3);
    auto start = static_cast<std::uint32_t>(payload.size());
    payload.utf16(u"C:\\Windows\\é.dll");
    auto length = static_cast<std::uint32_t>(payload.size()) - start;
    payload.patch_u32(36, start | (length << 16));
  }
  void add(std::string name, std::string type, std::uint32_t offset, std::uint32_t size) {
    auto f = EventField::create(std::move(name), std::move(type), offset, size);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    ASSERT_TRUE(format.add_field(std::move(*f)).ok());
  }
  bool matches(std::string_view field, std::string_view op, std::string_view value) {
    auto parsed = parse_compare_op(op);
    EXPECT_TRUE(parsed.ok());
    auto filter = make_field_filter(format, field, *parsed, value);
    EXPECT_TRUE(filter.ok()) << filter.status().to_string();
    return filter.ok() && (*filter)(payload.span());
  }
  EventFormat format;
  PayloadBuilder payload;
};

TEST_F(ClosureTest, NumericFilters) {
  EXPECT_TRUE(matches("pid", "==", "-5"));
  EXPECT_TRUE(matches("pid", "<", "0"));
  EXPECT_FALSE(matches("pid", ">=", "0"));
  EXPECT_TRUE(matches("count", ">", "999"));
  EXPECT_TRUE(matches("count", "<=", "1000"));
  EXPECT_TRUE(matches("count", "!=", "0x3e9"));
  EXPECT_TRUE(matches("count", "==", "0x3E8"));
  EXPECT_TRUE(matches("ratio", "<", "0.75"));
  EXPECT_FALSE(matches("ratio", ">", "0.75"));
}

TEST_F(ClosureTest, Utf8TextFilters) {
  EXPECT_TRUE(matches("comm", "==", "python"));
  EXPECT_FALSE(matches("comm", "==", "pytho"));
  EXPECT_TRUE(matches("comm", "starts_with", "py"));
  EXPECT_TRUE(matches("comm", "ends_with", "hon"));
  EXPECT_TRUE(matches("comm", "contains", "tho"));
  EXPECT_TRUE(matches("comm", "not_contains", "java"));
  EXPECT_FALSE(matches("comm", "contains", "Py"));  // case-sensitive
}

TEST_F(ClosureTest, Utf16TextFiltersMatchCodePoints) {
  EXPECT_TRUE(matches("path", "ends_with", "é.dll"));
  EXPECT_TRUE(matches("path", "starts_with", "C:\\Win"));
  EXPECT_TRUE(matches("path", "contains", "Windows"));
  EXPECT_TRUE(matches("path", "==", "C:\\Windows\\é.dll"));
  EXPECT_FALSE(matches("path", "contains", "windows"));
}

TEST_F(ClosureTest, FilterErrorsAreClear) {
  auto bad_value = make_field_filter(format, "pid", CompareOp::kEq, "abc");
  ASSERT_FALSE(bad_value.ok());
  EXPECT_NE(bad_value.status().message().find("'abc'"), std::string::npos);
  EXPECT_FALSE(make_field_filter(format, "count", CompareOp::kContains, "1").ok());
  EXPECT_FALSE(make_field_filter(format, "comm", CompareOp::kLt, "a").ok());
  EXPECT_FALSE(make_field_filter(format, "nope", CompareOp::kEq, "1").ok());
  EXPECT_FALSE(make_field_filter(format, "vals", CompareOp::kEq, "1").ok());
  EXPECT_FALSE(make_field_filter(format, "count", CompareOp::kEq, "-1").ok());
  EXPECT_FALSE(parse_compare_op("=~").ok());
}

TEST_F(ClosureTest, FilterOnShortPayloadNeverMatches) {
  auto filter = make_field_filter(format, "count", CompareOp::kEq, "1000");
  ASSERT_TRUE(filter.ok());
  EXPECT_TRUE((*filter)(payload.span()));
  EXPECT_FALSE((*filter)(payload.span().first(6)));
}

TEST_F(ClosureTest, WritersRenderNameValue) {
  std::string out;
  (*make_field_writer(format, "pid"))(payload.span(), out);
  EXPECT_EQ(out, "pid=-5");
  out.clear();
  make_event_writer(format)(payload.span(), out);
  EXPECT_EQ(out,
            "pid=-5 count=1000 ratio=0.5 comm=python addr=0xdead "
            "path=C:\\Windows\\é.dll vals=[1,2,3]");
  out.clear();
  make_event_writer(format)(payload.span().first(10), out);
  EXPECT_NE(out.find("count=<error: payload too short"), std::string::npos);
}

TEST_F(ClosureTest, ReaderFindsFieldAfterVariableStrings) {
  EventFormat etw;
  for (auto [name, type, off, size] :
       {std::tuple{"a", "u16", 0u, 2u}, std::tuple{"s1", "string", 2u, 0u},
        std::tuple{"s2", "wstring", 2u, 0u}, std::tuple{"b", "u32", 2u, 4u}}) {
    auto f = EventField::create(name, type, off, size);
    ASSERT_TRUE(etw.add_field(*f).ok());
  }
  PayloadBuilder p;
  p.put<std::uint16_t>(9).text("abc").utf16(u"xy").put<std::uint32_t>(0xCAFE);
  auto reader = make_field_reader(etw, "b");
  ASSERT_TRUE(reader.ok());
  auto bytes = (*reader)(p.span());
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(read_at<std::uint32_t>(*bytes, 0), 0xCAFEu);
  EXPECT_FALSE((*reader)(p.span().first(5)).ok());
}

}  // namespace
}  // namespace one_collect
