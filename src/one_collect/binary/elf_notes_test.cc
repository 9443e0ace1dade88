#include "one_collect/binary/elf_notes.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "one_collect/testing/privileged.h"

namespace one_collect {
namespace {

void put32(std::vector<std::uint8_t>& v, std::uint32_t x) {
  for (int i = 0; i < 4; ++i) v.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
}

// One note: header, padded name, padded descriptor.
void add_note(std::vector<std::uint8_t>& v, const char* name, std::uint32_t type,
              const std::vector<std::uint8_t>& desc, std::size_t align = 4) {
  std::size_t namesz = std::strlen(name) + 1;
  put32(v, static_cast<std::uint32_t>(namesz));
  put32(v, static_cast<std::uint32_t>(desc.size()));
  put32(v, type);
  v.insert(v.end(), name, name + namesz);
  while (v.size() % align) v.push_back(0);
  v.insert(v.end(), desc.begin(), desc.end());
  while (v.size() % align) v.push_back(0);
}

TEST(ElfNotes, FindsBuildIdAfterOtherNotes) {
  std::vector<std::uint8_t> v;
  add_note(v, "Xen", 6, {1, 2, 3});
  add_note(v, "GNU", 1, {0, 0, 0, 0, 3, 0, 0, 0});  // ABI tag, not a build id
  add_note(v, "GNU", kNoteGnuBuildId, {0xde, 0xad, 0xbe, 0xef, 0x01});
  EXPECT_EQ(find_gnu_build_id(v), (std::vector<std::uint8_t>{0xde, 0xad, 0xbe, 0xef, 0x01}));
}

TEST(ElfNotes, EightByteAlignment) {
  std::vector<std::uint8_t> v;
  add_note(v, "GNU", 5, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 8);
  add_note(v, "GNU", kNoteGnuBuildId, {7, 7, 7}, 8);
  EXPECT_EQ(find_gnu_build_id(v, 8), (std::vector<std::uint8_t>{7, 7, 7}));
}

TEST(ElfNotes, TruncatedStreamIsAnErrorAtEveryLength) {
  std::vector<std::uint8_t> v;
  add_note(v, "GNU", 1, {1, 2, 3, 4});
  add_note(v, "GNU", kNoteGnuBuildId, {9, 9, 9, 9, 9, 9, 9, 9});
  for (std::size_t len = 1; len < v.size(); ++len) {
    ByteSpan cut(v.data(), len);
    int seen = 0;
    Status s = for_each_elf_note(cut, 4, [&](const ElfNote&) {
      ++seen;
      return true;
    });
    // Cuts at a note boundary are clean; all others are reported.
    if (len == 20) {
      EXPECT_TRUE(s.ok());
      EXPECT_EQ(seen, 1);
    } else {
      EXPECT_EQ(s.code(), ErrorCode::kMalformed) << len;
    }
    EXPECT_TRUE(find_gnu_build_id(cut).empty()) << len;
  }
}

TEST(ElfNotes, HugeSizesAreRejected) {
  std::vector<std::uint8_t> v;
  put32(v, 0xfffffff0u);
  put32(v, 0xfffffff0u);
  put32(v, 3);
  v.resize(64, 0);
  Status s = for_each_elf_note(v, 4, [](const ElfNote&) { return true; });
  EXPECT_EQ(s.code(), ErrorCode::kMalformed);
}

// /sys/kernel/notes is a raw note stream; the running kernel has a build id.
TEST(ElfNotes, KernelNotesHaveABuildId) {
  std::ifstream in("/sys/kernel/notes", std::ios::binary);
  OC_REQUIRE_FACILITY(in.good(), "/sys/kernel/notes is not readable here");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  auto id = find_gnu_build_id(bytes);
  EXPECT_GE(id.size(), 16u);
}

}  // namespace
}  // namespace one_collect
