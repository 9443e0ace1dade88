// FileUnwindInfo on real files: .debug_frame found in a separate debug file
// by build id when the binary itself was stripped of it.
#include "one_collect/unwind/file_unwind_info.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "one_collect/testing/temp_dir.h"

namespace one_collect::unwind {
namespace {

namespace fs = std::filesystem;

const std::string kDir = OC_UNWIND_TESTPROG_DIR;

std::uint64_t symbol_vaddr(const ElfFile& elf, std::string_view name) {
  auto symtab = elf.section(".symtab");
  if (!symtab.ok()) return 0;
  const ElfSection* strtab = elf.section_at(symtab->link);
  for (std::size_t off = 0; off + sizeof(Elf64_Sym) <= symtab->data.size();
       off += sizeof(Elf64_Sym)) {
    auto sym = read_at<Elf64_Sym>(symtab->data, off);
    if (!sym || sym->st_name >= strtab->data.size()) continue;
    if (name == reinterpret_cast<const char*>(strtab->data.data()) + sym->st_name)
      return sym->st_value;
  }
  return 0;
}

TEST(FileUnwindInfo, DebugFrameInTheBinary) {
  auto elf = ElfFile::open(kDir + "/chain_debugframe");
  ASSERT_TRUE(elf.ok()) << elf.status().to_string();
  FileUnwindInfo info = FileUnwindInfo::build(*elf, "");
  ASSERT_TRUE(info.usable());
  EXPECT_GT(info.cfi.stats().debug_frame_fdes, 0u);
  std::uint64_t work_c = symbol_vaddr(*elf, "work_c");
  ASSERT_NE(work_c, 0u);
  Row row;
  ASSERT_EQ(info.cfi.find_row(work_c + 1, row), CfiLookup::kFound);
  EXPECT_EQ(row.section, CfiSection::kDebugFrame);
}

TEST(FileUnwindInfo, DebugFrameFromSeparateDebugFileByBuildId) {
  auto stripped = ElfFile::open(kDir + "/chain_debugframe.stripped");
  ASSERT_TRUE(stripped.ok()) << stripped.status().to_string();
  ASSERT_FALSE(stripped->section(".debug_frame").ok());
  ASSERT_FALSE(stripped->build_id().empty());
  testing::TempDir tmp("oc_debug_root");
  const fs::path& root = tmp.path();
  std::string hex = stripped->build_id_hex();
  fs::path debug = root / ".build-id" / hex.substr(0, 2) / (hex.substr(2) + ".debug");
  fs::create_directories(debug.parent_path());
  fs::copy_file(kDir + "/chain_debugframe.debug", debug);

  FileUnwindInfo without = FileUnwindInfo::build(*stripped, "");
  EXPECT_EQ(without.cfi.stats().debug_frame_fdes, 0u);
  FileUnwindInfo with = FileUnwindInfo::build(*stripped, root.string());
  EXPECT_TRUE(with.debug_file.has_value());
  EXPECT_GT(with.cfi.stats().debug_frame_fdes, 0u);
  auto full = ElfFile::open(kDir + "/chain_debugframe");
  ASSERT_TRUE(full.ok());
  Row row;
  EXPECT_EQ(with.cfi.find_row(symbol_vaddr(*full, "work_b") + 4, row), CfiLookup::kFound);
  EXPECT_EQ(without.cfi.find_row(symbol_vaddr(*full, "work_b") + 4, row), CfiLookup::kNoEntry);
}

TEST(FileUnwindInfo, EhFrameHdrOfARealBinaryMatchesTheLinearScan) {
  auto elf = ElfFile::open(kDir + "/containers");
  ASSERT_TRUE(elf.ok());
  FileUnwindInfo info = FileUnwindInfo::build(*elf, "");
  EXPECT_TRUE(info.cfi.stats().used_hdr_table);
  CfiSections no_hdr = info.cfi.sections();
  no_hdr.eh_frame_hdr = {};
  CfiIndex linear = CfiIndex::build(no_hdr);
  EXPECT_FALSE(linear.stats().used_hdr_table);
  EXPECT_EQ(linear.size(), info.cfi.size());
  // Every address of .text gives the same answer both ways.
  auto text = elf->section(".text");
  ASSERT_TRUE(text.ok());
  std::size_t found = 0;
  for (std::uint64_t pc = text->addr; pc < text->addr + text->size; pc += 3) {
    Row a, b;
    CfiLookup ra = info.cfi.find_row(pc, a);
    CfiLookup rb = linear.find_row(pc, b);
    ASSERT_EQ(ra, rb) << std::hex << pc;
    if (ra == CfiLookup::kFound) {
      ++found;
      EXPECT_EQ(a.cfa.reg, b.cfa.reg);
      EXPECT_EQ(a.cfa.value, b.cfa.value);
    }
  }
  EXPECT_GT(found, 100u);
}

}  // namespace
}  // namespace one_collect::unwind
