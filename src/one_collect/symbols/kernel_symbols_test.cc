#include "one_collect/symbols/kernel_symbols.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "one_collect/binary/elf_notes.h"
#include "one_collect/testing/privileged.h"
#include "one_collect/testing/temp_dir.h"

namespace one_collect {
namespace {

TEST(KernelSymbols, ParsesTypesModulesAndExtents) {
  const char* text =
      "ffffffff81000000 T _stext\n"
      "ffffffff81000100 t local_fn\n"
      "ffffffff81000200 D some_data\n"
      "ffffffff81000300 T schedule\n"
      "bad line\n"
      "zzzz T nothex\n"
      "ffffffffc0001000 t mod_fn\t[e1000]\n";
  auto ks = KernelSymbols::parse(text);
  ASSERT_TRUE(ks.ok()) << ks.status().to_string();
  EXPECT_EQ(ks->size(), 4u);  // the D symbol is not text
  EXPECT_EQ(ks->malformed_lines(), 2u);
  EXPECT_EQ(ks->lookup(0xffffffff81000050)->name, "_stext");
  // local_fn runs to the next text symbol (data symbols are not kept).
  auto s = ks->lookup(0xffffffff81000250);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "local_fn");
  EXPECT_EQ(s->offset, 0x150u);
  EXPECT_EQ(ks->lookup(0xffffffffc0001010)->name, "mod_fn [e1000]");
  EXPECT_FALSE(ks->lookup(0x1000));
}

TEST(KernelSymbols, HiddenAddressesAreAClearError) {
  auto ks = KernelSymbols::parse("0000000000000000 T _stext\n0000000000000000 t foo\n");
  EXPECT_EQ(ks.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(ks.status().message().find("kptr_restrict"), std::string::npos);
  EXPECT_EQ(KernelSymbols::parse("").status().code(), ErrorCode::kMalformed);
}

TEST(KernelSymbols, LiveKallsyms) {
  OC_REQUIRE_ROOT();
  auto ks = KernelSymbols::read();
  ASSERT_TRUE(ks.ok()) << ks.status().to_string();
  EXPECT_GT(ks->size(), 10000u);
  // schedule() is text in every kernel; find it by name and look it up.
  const SymbolTable& t = ks->table();
  bool found = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.raw_name(i) == "schedule") {
      auto s = ks->lookup(t.start_at(i) + 4);
      ASSERT_TRUE(s);
      EXPECT_EQ(s->name, "schedule");
      found = true;
      break;
    }
  }
  EXPECT_TRUE(found);
}

TEST(KernelSymbols, ReadCoveringKeepsOnlyTheSymbolsHoldingTheAddresses) {
  testing::TempDir tmp("oc_kallsyms");
  const char* text =
      "ffffffff81000000 T _stext\n"
      "ffffffff81000100 t local_fn\n"
      "ffffffff81000200 D some_data\n"
      "ffffffff81000300 T schedule\n"
      "ffffffff81000300 t schedule_alias\n"
      "bad line\n"
      "ffffffffc0001000 t mod_fn\t[e1000]\n";
  std::string path = tmp.write("kallsyms", text).string();
  std::vector<std::uint64_t> addresses{0xffffffff81000250, 0xffffffff81000310, 0xffffffffc0001010,
                                       0xffffffffc0201000};
  auto ks = KernelSymbols::read_covering(addresses, path);
  ASSERT_TRUE(ks.ok()) << ks.status().to_string();
  EXPECT_EQ(ks->malformed_lines(), 1u);
  // local_fn (to schedule's start, past the data symbol), schedule (T wins
  // over the alias at the same start), mod_fn; _stext is not needed, and
  // the last address is beyond mod_fn's 1 MiB reach.
  EXPECT_FALSE(ks->lookup(0xffffffff81000050));
  auto local = ks->lookup(0xffffffff81000250);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->name, "local_fn");
  EXPECT_EQ(local->offset, 0x150u);
  EXPECT_EQ(ks->lookup(0xffffffff81000300 - 1)->name, "local_fn") << "up to the next text symbol";
  EXPECT_EQ(ks->lookup(0xffffffff81000310)->name, "schedule");
  EXPECT_EQ(ks->lookup(0xffffffffc0001010)->name, "mod_fn [e1000]");
  EXPECT_FALSE(ks->lookup(0xffffffffc0201000));

  // Hidden pointers and a missing file are clear errors.
  std::string hidden = tmp.write("hidden", "0000000000000000 T _stext\n").string();
  EXPECT_EQ(KernelSymbols::read_covering(addresses, hidden).status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_FALSE(KernelSymbols::read_covering(addresses, tmp.path().string() + "/none").ok());
}

TEST(KernelSymbols, LiveReadCoveringAnswersAsTheFullTable) {
  OC_REQUIRE_ROOT();
  auto full = KernelSymbols::read();
  ASSERT_TRUE(full.ok()) << full.status().to_string();
  // Every 97th text symbol, a few bytes in, plus addresses between symbols.
  std::vector<std::uint64_t> addresses;
  const SymbolTable& t = full->table();
  for (std::size_t i = 0; i < t.size(); i += 97) {
    addresses.push_back(t.start_at(i) + 3);
    addresses.push_back(t.start_at(i) + 0x40);
  }
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  auto some = KernelSymbols::read_covering(addresses);
  ASSERT_TRUE(some.ok()) << some.status().to_string();
  EXPECT_LT(some->size(), full->size() / 20) << "only the needed symbols are kept";
  EXPECT_LT(some->table().memory_bytes(), full->table().memory_bytes() / 20);
  std::size_t named = 0;
  for (std::uint64_t a : addresses) {
    auto want = full->lookup(a);
    auto got = some->lookup(a);
    ASSERT_EQ(want.has_value(), got.has_value()) << std::hex << a;
    if (!want) continue;
    EXPECT_EQ(got->name, want->name) << std::hex << a;
    EXPECT_EQ(got->offset, want->offset) << std::hex << a;
    ++named;
  }
  EXPECT_GT(named, 1000u);
}

TEST(KernelSymbols, KernelBuildIdFromNotes) {
  // Every Linux kernel since 2.6.24 exports its notes; a machine where it is
  // unreadable must say so (and CI fails) rather than pass silently.
  OC_REQUIRE_FACILITY(::access("/sys/kernel/notes", R_OK) == 0, "/sys/kernel/notes not readable");
  auto id = read_kernel_build_id();
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_GE(id->size(), 32u);
  EXPECT_EQ(id->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(read_kernel_build_id("/nonexistent").status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace one_collect
