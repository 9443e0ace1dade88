#include "one_collect/event/data_field_ref.h"

#include <gtest/gtest.h>

#include "one_collect/testing/payload_builder.h"

namespace one_collect {
namespace {

using testing::PayloadBuilder;

TEST(DataFieldRefTest, CopiesShareTheWindow) {
  DataFieldRef time;
  DataFieldRef captured = time;  // what a closure would hold
  EXPECT_TRUE(captured.shares_window_with(time));
  EXPECT_FALSE(captured.present());

  PayloadBuilder record;
  record.put<std::uint64_t>(111).put<std::uint64_t>(222);
  time.update(8, 8);
  ASSERT_TRUE(captured.present());
  EXPECT_EQ(*captured.get_u64(record.span()), 222u);
  time.update(0, 8);
  EXPECT_EQ(*captured.get_u64(record.span()), 111u);
  EXPECT_EQ(*captured.try_get<std::uint32_t>(record.span()), 111u);

  time.reset();
  EXPECT_EQ(captured.get_u64(record.span()).status().code(), ErrorCode::kNotFound);
}

TEST(DataFieldRefTest, WindowPastTheRecordIsAnError) {
  DataFieldRef ref;
  PayloadBuilder record;
  record.put<std::uint32_t>(1);
  ref.update(2, 4);
  EXPECT_EQ(ref.get_u32(record.span()).status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(ref.get_data(record.span()).status().code(), ErrorCode::kOutOfRange);
  ref.update(0, 2);
  EXPECT_EQ(ref.get_u32(record.span()).status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(*ref.get_u16(record.span()), 1u);
  EXPECT_FALSE(ref.try_get<std::uint64_t>(record.span()).has_value());
}

}  // namespace
}  // namespace one_collect
