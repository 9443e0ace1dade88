#include "one_collect/event/event_format.h"

#include <gtest/gtest.h>

#include "one_collect/testing/payload_builder.h"

namespace one_collect {
namespace {

using testing::PayloadBuilder;

void add(EventFormat& format, std::string name, std::string type, std::uint32_t offset,
         std::uint32_t size, std::optional<bool> is_signed = std::nullopt) {
  auto field = EventField::create(std::move(name), std::move(type), offset, size, is_signed);
  ASSERT_TRUE(field.ok()) << field.status().to_string();
  ASSERT_TRUE(format.add_field(std::move(*field)).ok());
}

// Mirrors sched_process_exec: __data_loc char[] filename; pid_t pid; pid_t old_pid.
class SchedExecFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    add(format, "common_type", "unsigned short", 0, 2);
    add(format, "common_pid", "int", 4, 4);
    add(format, "filename", "__data_loc char[]", 8, 4);
    add(format, "pid", "pid_t", 12, 4, true);
    add(format, "old_pid", "pid_t", 16, 4, true);
    add(format, "comm", "char[16]", 20, 16);
    payload.put<std::uint16_t>(311).put<std::uint16_t>(0).put<std::int32_t>(4242);
    payload.put<std::uint32_t>(0).put<std::int32_t>(4242).put<std::int32_t>(-7);
    payload.text("bash", 16);
    std::uint32_t start = static_cast<std::uint32_t>(payload.size());
    payload.text("/usr/bin/ls");
    payload.patch_u32(8, start | (12u << 16));
  }
  EventFormat format;
  PayloadBuilder payload;
};

TEST_F(SchedExecFormat, ReadsNumbers) {
  auto type = format.get_field_ref("common_type");
  ASSERT_TRUE(type.ok());
  EXPECT_EQ(*format.get_u16(*type, payload.span()), 311);
  EXPECT_EQ(*format.get_s32(*format.get_field_ref("common_pid"), payload.span()), 4242);
  EXPECT_EQ(*format.get_s32(*format.get_field_ref("old_pid"), payload.span()), -7);
  EXPECT_EQ(*format.get_signed(*format.get_field_ref("old_pid"), payload.span()), -7);
  EXPECT_EQ(*format.get_unsigned(*format.get_field_ref("common_type"), payload.span()), 311u);
}

TEST_F(SchedExecFormat, DecodesDataLocAndFixedStrings) {
  auto filename = format.get_str(*format.get_field_ref("filename"), payload.span());
  ASSERT_TRUE(filename.ok()) << filename.status().to_string();
  EXPECT_EQ(*filename, "/usr/bin/ls");
  auto comm = format.get_str(*format.get_field_ref("comm"), payload.span());
  ASSERT_TRUE(comm.ok());
  EXPECT_EQ(*comm, "bash");
}

TEST_F(SchedExecFormat, DataLocPastTheEndIsAnError) {
  payload.patch_u32(8, 60u | (12u << 16));
  auto filename = format.get_str(*format.get_field_ref("filename"), payload.span());
  ASSERT_FALSE(filename.ok());
  EXPECT_EQ(filename.status().code(), ErrorCode::kOutOfRange);
  EXPECT_NE(filename.status().message().find("filename"), std::string::npos);
}

TEST_F(SchedExecFormat, TruncatedPayloadIsAnError) {
  for (std::size_t cut = 0; cut < payload.size(); ++cut) {
    ByteSpan truncated = payload.span().first(cut);
    for (const auto& f : format.fields()) {
      auto ref = *format.get_field_ref(f.name);
      // Must not crash or read past `truncated`; ASan checks the latter.
      (void)format.get_data(ref, truncated);
      (void)format.get_text(ref, truncated);
    }
  }
  auto pid = format.get_s32(*format.get_field_ref("pid"), payload.span().first(14));
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.status().code(), ErrorCode::kOutOfRange);
}

TEST_F(SchedExecFormat, WrongGetterWidthIsAnError) {
  auto r = format.get_u64(*format.get_field_ref("pid"), payload.span());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(format.get_u8(EventFieldRef{}, payload.span()).ok());
  EXPECT_FALSE(format.get_u8(EventFieldRef{99}, payload.span()).ok());
}

TEST(EventFormatTest, UnknownAndDuplicateFields) {
  EventFormat format;
  add(format, "a", "u32", 0, 4);
  EXPECT_EQ(format.get_field_ref("b").status().code(), ErrorCode::kNotFound);
  auto dup = EventField::create("a", "u32", 4, 4);
  EXPECT_EQ(format.add_field(*dup).code(), ErrorCode::kAlreadyExists);
}

TEST(EventFormatTest, RelLocCountsFromTheEndOfItsDescriptor) {
  EventFormat format;
  add(format, "x", "u32", 0, 4);
  add(format, "data", "__rel_loc u8[]", 4, 4);
  PayloadBuilder p;
  p.put<std::uint32_t>(1).put<std::uint32_t>(0u | (3u << 16));
  p.put<std::uint8_t>(7).put<std::uint8_t>(8).put<std::uint8_t>(9);
  auto data = format.get_data(*format.get_field_ref("data"), p.span());
  ASSERT_TRUE(data.ok());
  ASSERT_EQ(data->size(), 3u);
  EXPECT_EQ((*data)[0], 7);
  EXPECT_EQ((*data)[2], 9);
  p.patch_u32(4, 1u | (3u << 16));  // one byte too far
  EXPECT_EQ(format.get_data(*format.get_field_ref("data"), p.span()).status().code(),
            ErrorCode::kOutOfRange);
}

TEST(EventFormatTest, FieldsAfterVariableStringsAreFound) {
  // An ETW-style payload: u32 id; wstring name; string tag; u64 value.
  EventFormat format;
  add(format, "id", "u32", 0, 4);
  add(format, "name", "wstring", 4, 0);
  add(format, "tag", "string", 4, 0);
  add(format, "value", "u64", 4, 8);
  PayloadBuilder p;
  p.put<std::uint32_t>(5).utf16(u"héllo").text("tag!").put<std::uint64_t>(0x1122334455667788);
  auto value = format.get_u64(*format.get_field_ref("value"), p.span());
  ASSERT_TRUE(value.ok()) << value.status().to_string();
  EXPECT_EQ(*value, 0x1122334455667788u);
  EXPECT_EQ(*format.get_text(*format.get_field_ref("name"), p.span()), "héllo");
  EXPECT_EQ(*format.get_str(*format.get_field_ref("tag"), p.span()), "tag!");

  // Without the string's terminator the later field cannot be located.
  auto cut = p.span().first(8);
  EXPECT_EQ(format.get_u64(*format.get_field_ref("value"), cut).status().code(),
            ErrorCode::kMalformed);
}

TEST(EventFormatTest, Utf16OddLengthAndSurrogates) {
  EventFormat format;
  add(format, "s", "__data_loc wchar[]", 0, 4);
  PayloadBuilder p;
  p.put<std::uint32_t>(4u | (3u << 16))
      .put<std::uint8_t>('a')
      .put<std::uint8_t>(0)
      .put<std::uint8_t>('b');
  auto odd = format.get_utf16_as_utf8(*format.get_field_ref("s"), p.span());
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), ErrorCode::kMalformed);

  PayloadBuilder q;
  q.put<std::uint32_t>(4u | (6u << 16)).utf16(u"\U0001F600");  // surrogate pair + NUL
  auto emoji = format.get_utf16_as_utf8(*format.get_field_ref("s"), q.span());
  ASSERT_TRUE(emoji.ok());
  EXPECT_EQ(*emoji, "\xF0\x9F\x98\x80");
}

TEST(EventFormatTest, InvalidUtf8IsRejected) {
  EventFormat format;
  add(format, "s", "char[4]", 0, 4);
  PayloadBuilder p;
  p.put<std::uint8_t>(0xC0).put<std::uint8_t>(0x80).put<std::uint16_t>(0);
  EXPECT_EQ(format.get_str(*format.get_field_ref("s"), p.span()).status().code(),
            ErrorCode::kMalformed);
}

TEST(EventFormatTest, VariableStringWithoutTerminatorIsAnError) {
  EventFormat format;
  add(format, "s", "string", 0, 0);
  PayloadBuilder p;
  p.put<std::uint8_t>('a').put<std::uint8_t>('b');
  EXPECT_EQ(format.get_str(*format.get_field_ref("s"), p.span()).status().code(),
            ErrorCode::kMalformed);
}

}  // namespace
}  // namespace one_collect
