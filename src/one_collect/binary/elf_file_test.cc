#include "one_collect/binary/elf_file.h"

#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace one_collect {
namespace {

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
}

TEST(ElfFile, OpensFixtureWithKnownBuildId) {
  auto f = ElfFile::open(OC_ELF_FIXTURE);
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->build_id_hex(), OC_ELF_FIXTURE_BUILD_ID);
  EXPECT_TRUE(f->type() == ElfType::kShared || f->type() == ElfType::kExecutable);
  EXPECT_NE(f->entry(), 0u);
  auto text = f->section(".text");
  ASSERT_TRUE(text.ok()) << text.status().to_string();
  EXPECT_EQ(text->type, static_cast<std::uint32_t>(SHT_PROGBITS));
  EXPECT_EQ(text->size, text->data.size());
  EXPECT_NE(text->addr, 0u);
  // The entry point is in .text.
  EXPECT_GE(f->entry(), text->addr);
  EXPECT_LT(f->entry(), text->addr + text->size);
  auto bss = f->section(".bss");
  ASSERT_TRUE(bss.ok());
  EXPECT_TRUE(bss->data.empty());
  EXPECT_EQ(f->section(".no_such").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(f->debug_link().status().code(), ErrorCode::kNotFound);
  EXPECT_NE(f->inode(), 0u);
}

TEST(ElfFile, LoadSegmentsMapTextBothWays) {
  auto f = ElfFile::open(OC_ELF_FIXTURE);
  ASSERT_TRUE(f.ok());
  auto loads = f->load_segments();
  ASSERT_GE(loads.size(), 2u);
  bool has_exec = false;
  for (const auto& s : loads) has_exec |= s.executable();
  EXPECT_TRUE(has_exec);
  auto text = f->section(".text");
  ASSERT_TRUE(text.ok());
  // For an allocated section sh_offset and sh_addr are the same byte.
  EXPECT_EQ(f->file_offset_to_vaddr(text->offset), text->addr);
  EXPECT_EQ(f->vaddr_to_file_offset(text->addr + 5), text->offset + 5);
  EXPECT_FALSE(f->file_offset_to_vaddr(f->bytes().size() + 100).has_value());
}

// Our own executable, as mapped by the loader right now: mapping start +
// pgoff of its executable mapping give a bias with bias + e_entry = AT_ENTRY.
TEST(ElfFile, LoadBiasMatchesTheLoader) {
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  ASSERT_GT(n, 0);
  exe[n] = 0;
  auto f = ElfFile::open(exe);
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  std::ifstream maps("/proc/self/maps");
  std::string line;
  bool checked = false;
  while (std::getline(maps, line)) {
    std::istringstream ls(line);
    std::string range, perms, off, dev, inode, path;
    ls >> range >> perms >> off >> dev >> inode >> path;
    if (path != exe || perms.find('x') == std::string::npos) continue;
    std::uint64_t start = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    std::uint64_t pgoff = std::stoull(off, nullptr, 16);
    auto bias = f->load_bias(start, pgoff);
    ASSERT_TRUE(bias.has_value());
    EXPECT_EQ(f->entry() + static_cast<std::uint64_t>(*bias), getauxval(AT_ENTRY));
    checked = true;
  }
  EXPECT_TRUE(checked);
}

TEST(ElfFile, OpensLibc) {
  // libc is a large real shared object with a build id and .dynsym.
  auto f = ElfFile::open("/lib/x86_64-linux-gnu/libc.so.6");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->type(), ElfType::kShared);
  EXPECT_EQ(f->build_id().size(), 20u);
  EXPECT_TRUE(f->section(".dynsym").ok());
}

TEST(ElfFile, FromMemoryEqualsFile) {
  auto bytes = read_file(OC_ELF_FIXTURE);
  auto f = ElfFile::from_memory(bytes, "fixture");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->build_id_hex(), OC_ELF_FIXTURE_BUILD_ID);
  EXPECT_EQ(f->inode(), 0u);
}

TEST(ElfFile, RefusesOtherClassesMachinesAndGarbage) {
  auto bytes = read_file(OC_ELF_FIXTURE);
  auto b32 = bytes;
  b32[EI_CLASS] = ELFCLASS32;
  auto r = ElfFile::from_memory(b32, "x");
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(r.status().message().find("64-bit"), std::string::npos);
  auto be = bytes;
  be[EI_DATA] = ELFDATA2MSB;
  EXPECT_EQ(ElfFile::from_memory(be, "x").status().code(), ErrorCode::kUnsupported);
  auto arm = bytes;
  std::uint16_t aarch64 = EM_AARCH64;
  std::memcpy(arm.data() + offsetof(Elf64_Ehdr, e_machine), &aarch64, 2);
  r = ElfFile::from_memory(arm, "x");
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(r.status().message().find("x86-64"), std::string::npos);
  std::vector<std::uint8_t> text = {'#', '!', '/', 'b', 'i', 'n'};
  EXPECT_EQ(ElfFile::from_memory(text, "x").status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ElfFile::from_memory({}, "x").status().code(), ErrorCode::kMalformed);
}

TEST(ElfFile, TruncatedAtEveryLengthIsAnErrorOrConsistent) {
  auto bytes = read_file(OC_ELF_FIXTURE);
  ASSERT_GT(bytes.size(), 1000u);
  std::size_t ok_count = 0;
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    auto f = ElfFile::from_memory(ByteSpan(bytes.data(), len), "cut");
    if (!f.ok()) {
      EXPECT_FALSE(f.status().message().empty());
      continue;
    }
    ++ok_count;
    // Whatever parsed must stay inside the truncated bytes.
    for (const auto& s : f->sections()) {
      if (!s.data.empty()) {
        EXPECT_GE(s.data.data(), f->bytes().data());
        EXPECT_LE(s.data.data() + s.data.size(), f->bytes().data() + f->bytes().size());
      }
    }
    (void)f->debug_link();
    (void)f->section(".text");
  }
  // The section headers sit at the end of the file: any cut loses them.
  EXPECT_EQ(ok_count, 0u);
}

TEST(ElfFile, GarbageHeadersNeverCrash) {
  auto bytes = read_file(OC_ELF_FIXTURE);
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  std::mt19937_64 rng(1234);
  // Random bytes over the section header table and program headers.
  for (int round = 0; round < 3000; ++round) {
    auto mutated = bytes;
    std::size_t region = (round & 1) ? eh.e_shoff : eh.e_phoff;
    for (int k = 0; k < 16; ++k) {
      std::size_t pos = region + rng() % 512;
      if (pos < mutated.size()) mutated[pos] = static_cast<std::uint8_t>(rng());
    }
    auto f = ElfFile::from_memory(mutated, "garbage");
    if (f.ok()) {
      for (const auto& s : f->sections()) {
        if (!s.data.empty()) {
          ASSERT_LE(s.data.data() + s.data.size(), f->bytes().data() + f->bytes().size());
        }
      }
      (void)f->debug_link();
      (void)f->load_bias(0x1000, 0);
    }
  }
}

TEST(ElfFile, HugeCountsAndOffsetsPastEof) {
  auto bytes = read_file(OC_ELF_FIXTURE);
  auto set_ehdr = [&](auto member_offset, auto value) {
    auto copy = bytes;
    std::memcpy(copy.data() + member_offset, &value, sizeof value);
    return copy;
  };
  auto a = set_ehdr(offsetof(Elf64_Ehdr, e_shnum), std::uint16_t{0xffff});
  auto r = ElfFile::from_memory(a, "x");
  EXPECT_EQ(r.status().code(), ErrorCode::kMalformed);
  EXPECT_NE(r.status().message().find("section header table"), std::string::npos);
  auto b = set_ehdr(offsetof(Elf64_Ehdr, e_shoff), std::uint64_t{0xfffffffffffffff0ull});
  EXPECT_EQ(ElfFile::from_memory(b, "x").status().code(), ErrorCode::kMalformed);
  auto c = set_ehdr(offsetof(Elf64_Ehdr, e_phoff), std::uint64_t{1} << 40);
  EXPECT_EQ(ElfFile::from_memory(c, "x").status().code(), ErrorCode::kMalformed);
  // A section whose offset is past EOF: the file opens, the section reports.
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  auto f0 = ElfFile::from_memory(bytes, "x");
  ASSERT_TRUE(f0.ok());
  auto text = f0->section(".text");
  ASSERT_TRUE(text.ok());
  auto d = bytes;
  std::uint64_t far = std::uint64_t{1} << 50;
  std::memcpy(
      d.data() + eh.e_shoff + text->index * sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_offset),
      &far, sizeof far);
  auto f = ElfFile::from_memory(d, "x");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  auto t = f->section(".text");
  EXPECT_EQ(t.status().code(), ErrorCode::kMalformed);
  EXPECT_NE(t.status().message().find("past the end"), std::string::npos);
}

TEST(ElfFile, FifoAndDirectoryAreRefusedWithoutHanging) {
  std::string fifo = "/tmp/oc_elf_fifo_" + std::to_string(::getpid());
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = ElfFile::open(fifo);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  ::unlink(fifo.c_str());
  EXPECT_EQ(ElfFile::open("/tmp").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ElfFile::open("/nonexistent/file").status().code(), ErrorCode::kNotFound);
}

TEST(ElfFile, OpenInRootResolvesInsideTheRoot) {
  int root = ::open("/proc/self/root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(root, 0);
  auto f = ElfFile::open_in_root(root, OC_ELF_FIXTURE);
  ::close(root);
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->build_id_hex(), OC_ELF_FIXTURE_BUILD_ID);
}

TEST(ElfFile, DebugLinkCrcMatchesKnownVector) {
  const char* s = "123456789";
  EXPECT_EQ(gnu_debuglink_crc32(as_bytes_span(s, 9)), 0xCBF43926u);
  // Incremental equals one shot.
  std::uint32_t c = gnu_debuglink_crc32(as_bytes_span(s, 4));
  EXPECT_EQ(gnu_debuglink_crc32(as_bytes_span(s + 4, 5), c), 0xCBF43926u);
}

}  // namespace
}  // namespace one_collect
