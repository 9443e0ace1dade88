#include "one_collect/event/event_field.h"

#include <gtest/gtest.h>

namespace one_collect {
namespace {

EventField make(std::string type, std::uint32_t offset, std::uint32_t size,
                std::optional<bool> is_signed = std::nullopt) {
  auto f = EventField::create("f", std::move(type), offset, size, is_signed);
  EXPECT_TRUE(f.ok()) << f.status().to_string();
  return f.ok() ? *f : EventField{};
}

TEST(EventFieldTest, Integers) {
  auto f = make("unsigned short", 8, 2);
  EXPECT_EQ(f.kind, ValueKind::kUnsigned);
  EXPECT_EQ(f.element_size, 2);
  EXPECT_EQ(f.location, LocationType::kStatic);
  EXPECT_FALSE(f.is_array);

  EXPECT_EQ(make("s64", 0, 0).size, 8u);  // natural size filled in
  EXPECT_EQ(make("int", 0, 4).kind, ValueKind::kSigned);
  EXPECT_EQ(make("long", 0, 8).kind, ValueKind::kSigned);
  EXPECT_EQ(make("u8", 0, 1).kind, ValueKind::kUnsigned);
  EXPECT_EQ(make("double", 0, 8).kind, ValueKind::kFloat);
  EXPECT_EQ(make("float", 0, 4).kind, ValueKind::kFloat);
  EXPECT_EQ(make("char", 0, 1).kind, ValueKind::kSigned);  // lone char is a number
}

TEST(EventFieldTest, PointersAreHexUnsigned) {
  auto f = make("const char *", 16, 8);
  EXPECT_EQ(f.kind, ValueKind::kUnsigned);
  EXPECT_TRUE(f.is_pointer);
}

TEST(EventFieldTest, Strings) {
  auto fixed = make("char[16]", 8, 16);
  EXPECT_EQ(fixed.location, LocationType::kStaticString);
  EXPECT_EQ(fixed.kind, ValueKind::kUtf8);
  EXPECT_EQ(fixed.size, 16u);

  auto macro_size = make("char[TASK_COMM_LEN]", 8, 16);
  EXPECT_EQ(macro_size.location, LocationType::kStaticString);

  auto variable = make("string", 4, 0);
  EXPECT_TRUE(variable.is_variable_size());

  auto wide = make("wstring", 4, 0);
  EXPECT_EQ(wide.location, LocationType::kStaticUtf16String);
  EXPECT_EQ(wide.kind, ValueKind::kUtf16);

  auto wchar_array = make("wchar[4]", 0, 0);
  EXPECT_EQ(wchar_array.size, 8u);
}

TEST(EventFieldTest, DynamicFields) {
  auto data_loc = make("__data_loc char[]", 8, 4);
  EXPECT_EQ(data_loc.location, LocationType::kDataLoc);
  EXPECT_EQ(data_loc.kind, ValueKind::kUtf8);
  auto rel_loc = make("__rel_loc u8[]", 8, 4);
  EXPECT_EQ(rel_loc.location, LocationType::kRelLoc);
  EXPECT_EQ(rel_loc.kind, ValueKind::kUnsigned);
  EXPECT_FALSE(EventField::create("f", "__data_loc char[]", 8, 8).ok());
}

TEST(EventFieldTest, Arrays) {
  auto f = make("u64[4]", 0, 32);
  EXPECT_TRUE(f.is_array);
  EXPECT_EQ(f.element_size, 8);
  EXPECT_FALSE(EventField::create("f", "u64[]", 0, 12).ok());  // not a multiple
}

TEST(EventFieldTest, TypedefsNeedAHint) {
  auto unknown = EventField::create("pid", "pid_t", 0, 4);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown type 'pid_t'"), std::string::npos);

  auto hinted = make("pid_t", 0, 4, true);
  EXPECT_EQ(hinted.kind, ValueKind::kSigned);
  EXPECT_EQ(hinted.element_size, 4);

  auto odd = make("struct foo", 0, 12, false);
  EXPECT_EQ(odd.kind, ValueKind::kBytes);
}

TEST(EventFieldTest, MismatchedSizeIsAnError) {
  auto bad = EventField::create("x", "u32", 0, 8);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(EventField::create("", "u32", 0, 4).ok());
  EXPECT_FALSE(EventField::create("s", "wchar[3]", 0, 3).ok());  // odd UTF-16 size
}

}  // namespace
}  // namespace one_collect
