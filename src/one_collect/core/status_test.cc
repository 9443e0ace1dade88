#include "one_collect/core/status.h"

#include <gtest/gtest.h>

namespace one_collect {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kOk);
  EXPECT_EQ(s.to_string(), "ok");
}

TEST(StatusTest, ErrorKeepsCodeAndMessage) {
  Status s = error(ErrorCode::kMalformed, "bad size");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kMalformed);
  EXPECT_EQ(s.message(), "bad size");
  EXPECT_EQ(s.to_string(), "malformed: bad size");
  Status copy = s;
  EXPECT_EQ(copy.message(), "bad size");
  Status with = std::move(copy).with_context("reading x");
  EXPECT_EQ(with.message(), "reading x: bad size");
}

Result<int> parse_positive(int v) {
  if (v <= 0) return error(ErrorCode::kInvalidArgument, "not positive");
  return v;
}

Result<int> doubled(int v) {
  OC_ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}

TEST(ResultTest, ValueAndErrorPropagate) {
  auto good = doubled(4);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 8);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(ResultTest, OkStatusIsNotAValue) {
  Result<int> r{Status()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
}

// Reading the value of a failed Result is a caller bug: it stops the program
// with the error's message instead of reading an empty optional.
TEST(ResultDeathTest, ValueOfAnErrorAbortsWithItsMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Result<int> bad = error(ErrorCode::kNotFound, "no such field 'pid'");
  EXPECT_DEATH((void)bad.value(),
               "Result::value\\(\\) on an error: not found: no such field 'pid'");
  EXPECT_DEATH((void)*bad, "not found: no such field 'pid'");
  EXPECT_DEATH((void)std::move(bad).value(), "no such field 'pid'");
  Result<std::string> text = error(ErrorCode::kMalformed, "bad text");
  EXPECT_DEATH((void)text->size(), "malformed: bad text");
  const Result<std::string>& view = text;
  EXPECT_DEATH((void)view.value(), "malformed: bad text");
}

TEST(ResultTest, ValueOfASuccessIsTheValue) {
  Result<std::string> r = std::string("abc");
  EXPECT_EQ(r.value(), "abc");
  EXPECT_EQ(r->size(), 3u);
  EXPECT_EQ(std::move(r).value(), "abc");
}

}  // namespace
}  // namespace one_collect
