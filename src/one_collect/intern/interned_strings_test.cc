#include "one_collect/intern/interned_strings.h"

#include <gtest/gtest.h>

#include <string>

namespace one_collect {
namespace {

TEST(InternedStringsTest, SameStringSameId) {
  InternedStrings strings;
  auto a = strings.intern("kernel32.dll");
  auto b = strings.intern("kernel32.dll");
  auto c = strings.intern("ntdll.dll");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(*strings.get(a), "kernel32.dll");
  EXPECT_EQ(*strings.get(c), "ntdll.dll");
}

TEST(InternedStringsTest, IdZeroIsEmpty) {
  InternedStrings strings;
  EXPECT_EQ(strings.intern(""), 0u);
  EXPECT_EQ(*strings.get(0), "");
  EXPECT_FALSE(strings.get(12345).has_value());
  EXPECT_EQ(strings.size(), 1u);
}

TEST(InternedStringsTest, GrowsPastItsInitialSizeKeepingIds) {
  InternedStrings strings(4);
  std::vector<InternedStrings::Id> ids;
  for (int i = 0; i < 100000; ++i) ids.push_back(strings.intern("symbol_" + std::to_string(i)));
  EXPECT_EQ(strings.size(), 100001u);
  for (int i = 0; i < 100000; i += 997) {
    std::string name = "symbol_" + std::to_string(i);
    EXPECT_EQ(strings.intern(name), ids[i]);
    EXPECT_EQ(*strings.find(name), ids[i]);
    EXPECT_EQ(*strings.get(ids[i]), name);
  }
  EXPECT_FALSE(strings.find("absent").has_value());
  EXPECT_EQ(strings.size(), 100001u);
}

TEST(InternedStringsTest, EmbeddedNulsAndPrefixesAreDistinct) {
  InternedStrings strings;
  auto a = strings.intern(std::string_view("a\0b", 3));
  auto b = strings.intern("a");
  auto c = strings.intern("ab");
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_EQ(strings.get(a)->size(), 3u);
}

}  // namespace
}  // namespace one_collect
