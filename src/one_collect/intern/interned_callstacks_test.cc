#include "one_collect/intern/interned_callstacks.h"

#include <gtest/gtest.h>

#include <vector>

namespace one_collect {
namespace {

TEST(InternedCallstacksTest, DeduplicatesStacks) {
  InternedCallstacks stacks;
  std::vector<std::uint64_t> frames{0x7FF123456789, 0x7FF987654321, 0x7FF111222333};
  auto id = stacks.intern(frames);
  EXPECT_EQ(stacks.intern(frames), id);
  std::vector<std::uint64_t> reversed(frames.rbegin(), frames.rend());
  EXPECT_NE(stacks.intern(reversed), id);
  std::vector<std::uint64_t> out;
  ASSERT_TRUE(stacks.copy_to(id, out));
  EXPECT_EQ(out, frames);
  EXPECT_FALSE(stacks.copy_to(999, out));
}

TEST(InternedCallstacksTest, EmptyStackIsIdZero) {
  InternedCallstacks stacks;
  EXPECT_EQ(stacks.intern({}), 0u);
  EXPECT_TRUE(stacks.get(0)->empty());
}

TEST(InternedCallstacksTest, PrefixStacksAreDistinct) {
  InternedCallstacks stacks;
  std::vector<std::uint64_t> a{1, 2, 3};
  std::vector<std::uint64_t> b{1, 2};
  EXPECT_NE(stacks.intern(a), stacks.intern(b));
}

TEST(InternedCallstacksTest, ManyStacksStayFindable) {
  InternedCallstacks stacks(8);
  std::vector<std::uint64_t> frames(16);
  for (std::uint64_t i = 0; i < 200000; ++i) {
    for (std::size_t f = 0; f < frames.size(); ++f) frames[f] = 0x400000 + i * 16 + f;
    ASSERT_EQ(stacks.intern(frames), i + 1);
  }
  for (std::uint64_t i = 0; i < 200000; i += 1013) {
    for (std::size_t f = 0; f < frames.size(); ++f) frames[f] = 0x400000 + i * 16 + f;
    EXPECT_EQ(*stacks.find(frames), i + 1);
    auto got = stacks.get(static_cast<InternedCallstacks::Id>(i + 1));
    ASSERT_TRUE(got.has_value());
    EXPECT_TRUE(std::equal(got->begin(), got->end(), frames.begin(), frames.end()));
  }
}

}  // namespace
}  // namespace one_collect
