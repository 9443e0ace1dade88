#include "one_collect/core/hash.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <set>
#include <string>

namespace one_collect {
namespace {

TEST(HashTest, MixIsTheMurmurFinaliser) {
  // Reference values of MurmurHash3's fmix64.
  EXPECT_EQ(hash_mix(0), 0u);
  EXPECT_EQ(hash_mix(1), 0xB456BCFC34C2CB2CULL);
  EXPECT_NE(hash_mix(2), hash_mix(1));
}

TEST(HashTest, MixAvalanchesIntoTheLowBits) {
  // Tables use the low bits: keys differing in one high bit (addresses a
  // page apart, ids) must still land in different slots most of the time.
  for (int bit = 0; bit < 64; ++bit) {
    std::uint64_t key = 0x00007f1234567000ULL;
    std::uint64_t flipped = key ^ (std::uint64_t{1} << bit);
    int changed = std::popcount(hash_mix(key) ^ hash_mix(flipped));
    EXPECT_GT(changed, 12) << "bit " << bit;
    EXPECT_LT(changed, 52) << "bit " << bit;
  }
  std::set<std::uint64_t> slots;
  for (std::uint64_t page = 0; page < 1024; ++page) slots.insert(hash_mix(page << 12) & 1023);
  EXPECT_GT(slots.size(), 600u);  // a random function fills ~647 of 1024
}

TEST(HashTest, PairDependsOnOrderAndBothWords) {
  EXPECT_NE(hash_pair(1, 2), hash_pair(2, 1));
  EXPECT_NE(hash_pair(0, 0), hash_pair(0, 1));
  EXPECT_NE(hash_pair(0, 0), hash_pair(1, 0));
  EXPECT_EQ(hash_pair(7, 9), hash_pair(7, 9));
}

TEST(HashTest, BytesCoverEveryLengthAndByte) {
  // Empty input hashes; lengths around the 8- and 16-byte steps all differ,
  // including strings that differ only in the zero padding of the tail.
  std::set<std::uint64_t> seen;
  std::string text;
  for (int n = 0; n <= 40; ++n) {
    EXPECT_TRUE(seen.insert(hash_bytes(text.data(), text.size())).second) << n;
    text.push_back('\0');
  }
  std::string a(33, 'x');
  std::uint64_t base = hash_bytes(a.data(), a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::string b = a;
    b[i] ^= 1;
    EXPECT_NE(hash_bytes(b.data(), b.size()), base) << i;
  }
  EXPECT_EQ(hash_bytes(a.data(), a.size()), base);
}

}  // namespace
}  // namespace one_collect
