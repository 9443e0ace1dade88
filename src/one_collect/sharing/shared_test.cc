#include "one_collect/sharing/shared.h"

#include <gtest/gtest.h>

#include <vector>

namespace one_collect {
namespace {

TEST(SharedTest, CopiesShareOneValue) {
  Writable<std::vector<int>> list;
  auto closure_copy = list;
  closure_copy.write([](std::vector<int>& v) { v.push_back(3); });
  EXPECT_EQ(list.read([](const std::vector<int>& v) { return v.size(); }), 1u);
  EXPECT_EQ(list.use_count(), 2);
}

TEST(SharedTest, DirectCopiesOfNonConstValuesShare) {
  Writable<std::vector<int>> list;
  Writable<std::vector<int>> copy(list);  // direct-init from a non-const lvalue
  auto lambda = [list]() { list.write([](std::vector<int>& v) { v.push_back(1); }); };
  lambda();
  EXPECT_EQ(copy.read([](const std::vector<int>& v) { return v.size(); }), 1u);
}

TEST(SharedTest, ReadOnlySeesWrites) {
  Writable<int> counter(1);
  ReadOnly<int> view = counter.read_only();
  counter.set(5);
  EXPECT_EQ(view.value(), 5);
  EXPECT_EQ(view.read([](const int& v) { return v * 2; }), 10);
}

TEST(SharedTest, NestedReadsAreAllowed) {
  Writable<int> value(3);
  int sum =
      value.read([&](const int& a) { return a + value.read([](const int& b) { return b; }); });
  EXPECT_EQ(sum, 6);
}

TEST(SharedDeathTest, WriteDuringReadTerminates) {
  Writable<int> value(3);
  EXPECT_DEATH(value.read([&](const int&) { value.set(4); }), "written while being read");
  EXPECT_DEATH(value.write([&](int&) { (void)value.value(); }), "read while it is being written");
}

}  // namespace
}  // namespace one_collect
