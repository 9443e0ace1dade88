#include "one_collect/export/export_records.h"

#include <gtest/gtest.h>

#include <vector>

namespace one_collect {
namespace {

ExportRecordType named(StringId name) {
  ExportRecordType t;
  t.name = name;
  return t;
}

TEST(ExportRecordStore, TypesAreFoundByName) {
  ExportRecordStore store;
  std::uint32_t a = store.type(named(3));
  std::uint32_t b = store.type(named(4));
  EXPECT_NE(a, b);
  EXPECT_EQ(store.type(named(3)), a);
  EXPECT_EQ(store.types().size(), 2u);
}

TEST(ExportRecordStore, PayloadsComeBackByIdAndZeroMeansNone) {
  ExportRecordStore store;
  std::uint32_t type = store.type(named(3));
  std::vector<std::uint8_t> one{1, 2, 3};
  std::vector<std::uint8_t> two{9};
  std::uint32_t id1 = store.add(type, one);
  std::uint32_t id2 = store.add(type, two);
  EXPECT_EQ(id1, 1u);
  EXPECT_EQ(id2, 2u);
  auto d1 = store.data(id1);
  EXPECT_EQ(std::vector<std::uint8_t>(d1.begin(), d1.end()), one);
  auto d2 = store.data(id2);
  EXPECT_EQ(std::vector<std::uint8_t>(d2.begin(), d2.end()), two);
  EXPECT_EQ(store.get(0), nullptr);
  EXPECT_EQ(store.get(3), nullptr);
  EXPECT_TRUE(store.data(3).empty());
  EXPECT_EQ(store.size(), 2u);
}

TEST(ExportRecordStore, UnknownTypeIsRefused) {
  ExportRecordStore store;
  std::vector<std::uint8_t> bytes{1};
  EXPECT_EQ(store.add(0, bytes), 0u);
  EXPECT_EQ(store.size(), 0u);
}

}  // namespace
}  // namespace one_collect
