#include "one_collect/symbols/kernel_symbols.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "one_collect/binary/elf_notes.h"
#include "one_collect/testing/privileged.h"

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
