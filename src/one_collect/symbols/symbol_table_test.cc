#include "one_collect/symbols/symbol_table.h"

#include <gtest/gtest.h>

#include <random>

namespace one_collect {
namespace {

TEST(SymbolTable, SizedZeroSizedAndGaps) {
  SymbolTable::Builder b;
  b.add(0x1000, 0x100, "sized");
  b.add(0x1200, 0, "unsized");  // extends to 0x1300
  b.add(0x1300, 0x10, "next");
  b.add(0x2000, 0, "last", 0x2080);  // limited by its section end
  SymbolTable t = std::move(b).finish();
  ASSERT_EQ(t.size(), 4u);
  auto s = t.lookup(0x1050);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "sized");
  EXPECT_EQ(s->offset, 0x50u);
  EXPECT_FALSE(t.lookup(0x1100));  // padding after a sized symbol
  EXPECT_FALSE(t.lookup(0xfff));
  s = t.lookup(0x12ff);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "unsized");
  EXPECT_EQ(s->size, 0x100u);
  EXPECT_EQ(t.lookup(0x1300)->name, "next");
  EXPECT_FALSE(t.lookup(0x1310));
  EXPECT_EQ(t.lookup(0x207f)->name, "last");
  EXPECT_FALSE(t.lookup(0x2080));
}

TEST(SymbolTable, SameStartPrefersRankThenSize) {
  SymbolTable::Builder b;
  b.add(0x1000, 0, "label", UINT64_MAX, SymbolTable::kRankLow);
  b.add(0x1000, 0x40, "function", UINT64_MAX, SymbolTable::kRankHigh);
  b.add(0x1000, 0x40, "object", UINT64_MAX, SymbolTable::kRankNormal);
  SymbolTable t = std::move(b).finish();
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.lookup(0x1010)->name, "function");
}

TEST(SymbolTable, NestedSymbolFallsBackToEnclosingOne) {
  SymbolTable::Builder b;
  b.add(0x1000, 0x1000, "outer");
  b.add(0x1100, 0x10, "inner");
  SymbolTable t = std::move(b).finish();
  EXPECT_EQ(t.lookup(0x1105)->name, "inner");
  EXPECT_EQ(t.lookup(0x1800)->name, "outer");
}

TEST(SymbolTable, DemanglesLazilyAndOnce) {
  SymbolTable::Builder b;
  b.add(0x10, 0x10, "_ZN7fixture6WidgetC2Ei");
  SymbolTable t = std::move(b).finish();
  EXPECT_EQ(t.raw_name(0), "_ZN7fixture6WidgetC2Ei");
  auto a = t.lookup(0x11);
  auto c = t.lookup(0x12);
  EXPECT_EQ(a->name, "fixture::Widget::Widget(int)");
  EXPECT_EQ(a->name.data(), c->name.data());  // same stored string
}

TEST(SymbolTable, LookupSortedEqualsLookup) {
  std::mt19937_64 rng(7);
  SymbolTable::Builder b;
  for (int i = 0; i < 2000; ++i) {
    std::string name = "s";
    name += std::to_string(i);
    b.add(rng() % 1000000, rng() % 3 == 0 ? 0 : rng() % 500, name);
  }
  SymbolTable t = std::move(b).finish();
  std::vector<std::uint64_t> addrs;
  for (int i = 0; i < 5000; ++i) addrs.push_back(rng() % 1100000);
  std::sort(addrs.begin(), addrs.end());
  std::vector<std::optional<SymbolInfo>> out;
  t.lookup_sorted(addrs, out);
  ASSERT_EQ(out.size(), addrs.size());
  std::size_t hits = 0;
  for (std::size_t i = 0; i < addrs.size(); ++i) {
    auto one = t.lookup(addrs[i]);
    ASSERT_EQ(one.has_value(), out[i].has_value()) << addrs[i];
    if (one) {
      ++hits;
      EXPECT_EQ(one->name, out[i]->name);
      EXPECT_EQ(one->start, out[i]->start);
    }
  }
  EXPECT_GT(hits, 1000u);
}

TEST(SymbolTable, EmptyTable) {
  SymbolTable t = SymbolTable::Builder().finish();
  EXPECT_FALSE(t.lookup(0));
  EXPECT_FALSE(t.lookup(UINT64_MAX));
}

}  // namespace
}  // namespace one_collect
