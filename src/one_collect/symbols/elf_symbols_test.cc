// ELF symbolization against real programs: the fixtures print the runtime
// addresses of their own functions, and we must name them exactly.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elf.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>

#include "one_collect/binary/elf_file.h"
#include "one_collect/symbols/symbol_cache.h"
#include "one_collect/symbols/symbol_table.h"
#include "one_collect/symbols/testing/fixture_output.h"
#include "one_collect/testing/temp_dir.h"

namespace one_collect {
namespace {

namespace fs = std::filesystem;
using testing::run_fixture;

// Resolves every function/object the fixture printed, through its own maps.
void expect_fixture_names(SymbolCache& cache, ModuleId id, const testing::FixtureOutput& out,
                          const std::string& expected_path, std::size_t min_functions) {
  ASSERT_GE(out.functions.size(), min_functions);
  for (const auto& [name, addr] : out.functions) {
    const auto* m = out.mapping_of(addr);
    ASSERT_NE(m, nullptr) << name;
    EXPECT_EQ(fs::canonical(m->path), fs::canonical(expected_path));
    auto vaddr = cache.process_to_vaddr(id, addr, m->start, m->pgoff);
    ASSERT_TRUE(vaddr.has_value()) << name;
    auto s = cache.resolve(id, *vaddr);
    ASSERT_TRUE(s.has_value()) << name;
    EXPECT_EQ(s->name, name);
    EXPECT_EQ(s->offset, 0u) << name;
    // A few bytes into the function still names it.
    auto inside = cache.resolve(id, *vaddr + 3);
    ASSERT_TRUE(inside.has_value());
    EXPECT_EQ(inside->name, name);
    EXPECT_EQ(inside->offset, 3u);
  }
  for (const auto& [name, addr] : out.objects) {
    const auto* m = out.mapping_of(addr);
    ASSERT_NE(m, nullptr) << name;
    auto vaddr = cache.process_to_vaddr(id, addr + 8, m->start, m->pgoff);
    ASSERT_TRUE(vaddr.has_value()) << name;
    auto s = cache.resolve(id, *vaddr);
    ASSERT_TRUE(s.has_value()) << name;
    EXPECT_EQ(s->name, name);
    EXPECT_EQ(s->offset, 8u);
  }
}

TEST(ElfSymbols, CProgramBuiltO2WithoutFramePointers) {
  auto out = run_fixture(OC_SYM_FIXTURE);
  ASSERT_TRUE(out.has_value());
  SymbolCache cache;
  auto id = cache.load(OC_SYM_FIXTURE);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  expect_fixture_names(cache, *id, *out, OC_SYM_FIXTURE, 4);
  // Not stripped: no separate debug file needed, DWARF in the binary.
  EXPECT_TRUE(cache.module(*id)->debug_file.empty());
  EXPECT_EQ(cache.module(*id)->dwarf_file, OC_SYM_FIXTURE);
}

TEST(ElfSymbols, CxxProgramNamesAreDemangled) {
  auto out = run_fixture(OC_SYM_FIXTURE_CXX);
  ASSERT_TRUE(out.has_value());
  SymbolCache cache;
  auto id = cache.load(OC_SYM_FIXTURE_CXX);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  expect_fixture_names(cache, *id, *out, OC_SYM_FIXTURE_CXX, 2);
}

TEST(ElfSymbols, StrippedBinaryUsesDebugLinkNextToIt) {
  std::string stripped = std::string(OC_SYM_STRIPPED_DIR) + "/oc_sym_fixture";
  auto bin = ElfFile::open(stripped);
  ASSERT_TRUE(bin.ok());
  EXPECT_EQ(bin->section(".symtab").status().code(), ErrorCode::kNotFound);
  auto link = bin->debug_link();
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->name, "oc_sym_fixture.debug");

  // The stripped binary alone knows no static function.
  auto alone = SymbolTable::from_elf(*bin);
  ASSERT_TRUE(alone.ok());

  auto out = run_fixture(stripped);
  ASSERT_TRUE(out.has_value());
  SymbolCache cache;
  auto id = cache.load(stripped);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_EQ(cache.module(*id)->debug_file, stripped + ".debug");
  EXPECT_EQ(cache.module(*id)->dwarf_file, stripped + ".debug");
  expect_fixture_names(cache, *id, *out, stripped, 4);
}

// An ELF file parsed by its owner (a held MappedFile, whose elf() also
// feeds the unwinder) is indexed without a second open or parse; source
// lines of a file with its own DWARF are read through the held fd.
TEST(ElfSymbols, AlreadyParsedElfIsIndexedWithoutReparsing) {
  auto out = run_fixture(OC_SYM_FIXTURE);
  ASSERT_TRUE(out.has_value());
  int fd = ::open(OC_SYM_FIXTURE, O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto elf = ElfFile::open_fd(fd, OC_SYM_FIXTURE);
  ASSERT_TRUE(elf.ok()) << elf.status().to_string();
  SymbolCache cache;
  auto id = cache.load_elf(*elf, OC_SYM_FIXTURE, -1, fd);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  expect_fixture_names(cache, *id, *out, OC_SYM_FIXTURE, 4);
  EXPECT_TRUE(cache.module(*id)->from_parsed_elf);
  EXPECT_EQ(cache.module(*id)->dwarf_file, "/proc/self/fd/" + std::to_string(fd));
  auto again = cache.load_elf(*elf, OC_SYM_FIXTURE, -1, fd);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *id);
  // The same inode loaded by path is the same module: nothing parsed again.
  auto by_path = cache.load(OC_SYM_FIXTURE);
  ASSERT_TRUE(by_path.ok());
  EXPECT_EQ(*by_path, *id);
  EXPECT_EQ(cache.module_count(), 1u);
  EXPECT_EQ(cache.stats().elf_parses, 0u);
  EXPECT_EQ(cache.stats().elf_reused, 1u);
  // Source lines come through the held fd.
  const auto& [name, addr] = *out->functions.begin();
  const auto* m = out->mapping_of(addr);
  ASSERT_NE(m, nullptr);
  auto vaddr = cache.process_to_vaddr(*id, addr, m->start, m->pgoff);
  ASSERT_TRUE(vaddr.has_value());
  auto frames = cache.source_frames(*id, *vaddr);
  ASSERT_TRUE(frames.ok()) << name << ": " << frames.status().to_string();
  EXPECT_FALSE(frames->empty());
  ::close(fd);
}

TEST(ElfSymbols, StrippedWithoutBuildIdIsCheckedByCrc) {
  std::string dir = std::string(OC_SYM_STRIPPED_DIR);
  std::string stripped = dir + "/oc_sym_fixture_noid";
  auto bin = ElfFile::open(stripped);
  ASSERT_TRUE(bin.ok());
  EXPECT_TRUE(bin->build_id().empty());
  auto found = find_debug_file(*bin, stripped, -1);
  ASSERT_TRUE(found.ok()) << found.status().to_string();
  EXPECT_EQ(found->name(), stripped + ".debug");

  // A wrong file under the debuglink name (another program's debug file)
  // fails the CRC check and is not used.
  testing::TempDir tmp_dir("oc_crc");
  const fs::path& tmp = tmp_dir.path();
  fs::copy_file(stripped, tmp / "oc_sym_fixture_noid");
  fs::copy_file(dir + "/oc_sym_fixture.debug", tmp / "oc_sym_fixture_noid.debug");
  auto bin2 = ElfFile::open((tmp / "oc_sym_fixture_noid").string());
  ASSERT_TRUE(bin2.ok());
  DebugFileOptions opts;
  opts.debug_dirs = {(tmp / "none").string()};
  auto wrong = find_debug_file(*bin2, (tmp / "oc_sym_fixture_noid").string(), -1, opts);
  EXPECT_EQ(wrong.status().code(), ErrorCode::kNotFound);
}

TEST(ElfSymbols, BuildIdTreeAndDotDebugDirectory) {
  std::string dir = std::string(OC_SYM_STRIPPED_DIR);
  auto bin = ElfFile::open(dir + "/oc_sym_fixture");
  ASSERT_TRUE(bin.ok());
  std::string id = bin->build_id_hex();
  ASSERT_GT(id.size(), 2u);
  testing::TempDir tmp_dir("oc_bid");
  const fs::path& tmp = tmp_dir.path();
  fs::create_directories(tmp / "bin");
  fs::create_directories(tmp / "debug" / ".build-id" / id.substr(0, 2));
  fs::copy_file(dir + "/oc_sym_fixture", tmp / "bin" / "prog");
  fs::copy_file(dir + "/oc_sym_fixture.debug",
                tmp / "debug" / ".build-id" / id.substr(0, 2) / (id.substr(2) + ".debug"));
  DebugFileOptions opts;
  opts.debug_dirs = {(tmp / "debug").string()};
  auto b = ElfFile::open((tmp / "bin" / "prog").string());
  ASSERT_TRUE(b.ok());
  auto found = find_debug_file(*b, (tmp / "bin" / "prog").string(), -1, opts);
  ASSERT_TRUE(found.ok()) << found.status().to_string();
  EXPECT_NE(found->name().find(".build-id"), std::string::npos);

  // The .debug/ directory next to the binary (debuglink name).
  fs::remove_all(tmp / "debug");
  fs::create_directories(tmp / "bin" / ".debug");
  fs::copy_file(dir + "/oc_sym_fixture.debug", tmp / "bin" / ".debug" / "oc_sym_fixture.debug");
  found = find_debug_file(*b, (tmp / "bin" / "prog").string(), -1, opts);
  ASSERT_TRUE(found.ok()) << found.status().to_string();
  EXPECT_EQ(found->name(), (tmp / "bin" / ".debug" / "oc_sym_fixture.debug").string());

  // A debug file with another build id is refused.
  fs::remove_all(tmp / "bin" / ".debug");
  fs::create_directories(tmp / "bin" / ".debug");
  fs::copy_file(dir + "/oc_sym_fixture_cxx.debug", tmp / "bin" / ".debug" / "oc_sym_fixture.debug");
  found = find_debug_file(*b, (tmp / "bin" / "prog").string(), -1, opts);
  EXPECT_EQ(found.status().code(), ErrorCode::kNotFound);
}

TEST(ElfSymbols, ProcessRootIsHonoured) {
  // Through /proc/self/root (what a container's /proc/PID/root looks like).
  int root = ::open("/proc/self/root", O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(root, 0);
  std::string stripped = std::string(OC_SYM_STRIPPED_DIR) + "/oc_sym_fixture";
  SymbolCache cache;
  auto id = cache.load(stripped, root);
  ::close(root);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_FALSE(cache.module(*id)->debug_file.empty());
}

TEST(ElfSymbols, OneModulePerFileAndPerBuildId) {
  SymbolCache cache;
  auto a = cache.load(OC_SYM_FIXTURE);
  auto b = cache.load(OC_SYM_FIXTURE);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  // A copy of the file (another inode) with the same build id shares it.
  testing::TempDir tmp_dir("oc_same");
  fs::path tmp = tmp_dir / "copy";
  fs::copy_file(OC_SYM_FIXTURE, tmp);
  auto c = cache.load(tmp.string());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, *a);
  EXPECT_EQ(cache.module_count(), 1u);
  // Failures are reported clearly and remembered.
  EXPECT_EQ(cache.load("/nonexistent/lib.so").status().code(), ErrorCode::kNotFound);
  auto bad = cache.load("/proc/self/status");
  EXPECT_FALSE(bad.ok());
}

// A function of this test binary: resolve it through /proc/self/maps.
extern "C" __attribute__((noinline)) int oc_symbols_test_probe(int x) { return x * 31 + 7; }

TEST(ElfSymbols, OwnFunctionThroughSelfMaps) {
  volatile int v = oc_symbols_test_probe(3);
  (void)v;
  auto addr = reinterpret_cast<std::uint64_t>(&oc_symbols_test_probe);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  SymbolCache cache;
  bool checked = false;
  while (std::getline(maps, line)) {
    std::istringstream ls(line);
    std::string range, perms, off, dev, inode, path;
    ls >> range >> perms >> off >> dev >> inode >> path;
    std::uint64_t start = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    std::uint64_t end = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
    if (addr < start || addr >= end) continue;
    auto id = cache.load(path);
    ASSERT_TRUE(id.ok()) << id.status().to_string();
    auto va = cache.process_to_vaddr(*id, addr + 1, start, std::stoull(off, nullptr, 16));
    ASSERT_TRUE(va.has_value());
    auto s = cache.resolve(*id, *va);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->name, "oc_symbols_test_probe");
    EXPECT_EQ(s->offset, 1u);
    checked = true;
  }
  EXPECT_TRUE(checked);
}

TEST(ElfSymbols, LibcDynsymNamesKnownFunctions) {
  // libc's own exported functions, located through dladdr-free means: the
  // address of a libc function taken here, and our maps.
  auto addr = reinterpret_cast<std::uint64_t>(&::getpid);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  SymbolCache cache;
  bool checked = false;
  while (std::getline(maps, line)) {
    std::istringstream ls(line);
    std::string range, perms, off, dev, inode, path;
    ls >> range >> perms >> off >> dev >> inode >> path;
    std::uint64_t start = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    std::uint64_t end = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
    if (addr < start || addr >= end) continue;
    auto id = cache.load(path);
    ASSERT_TRUE(id.ok()) << id.status().to_string();
    auto va = cache.process_to_vaddr(*id, addr, start, std::stoull(off, nullptr, 16));
    ASSERT_TRUE(va.has_value());
    auto s = cache.resolve(*id, *va);
    ASSERT_TRUE(s.has_value());
    // getpid may carry a version or alias (__getpid) at the same address.
    EXPECT_NE(std::string(s->name).find("getpid"), std::string::npos) << s->name;
    checked = true;
  }
  EXPECT_TRUE(checked);
}

TEST(ElfSymbols, ResolveUniqueSortsAndDeduplicates) {
  SymbolCache cache;
  auto id = cache.load(OC_SYM_FIXTURE);
  ASSERT_TRUE(id.ok());
  const auto& t = cache.module(*id)->table;
  ASSERT_GT(t.size(), 3u);
  std::vector<std::uint64_t> addrs = {t.start_at(2), t.start_at(0), t.start_at(2), t.start_at(1)};
  auto r = cache.resolve_unique(*id, addrs);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_LT(r[0].first, r[1].first);
  for (auto& [a, s] : r) {
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->start, a);
  }
}

std::vector<std::uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
}

TEST(ElfSymbols, MalformedSymbolSectionsAreReportedNotFatal) {
  auto bytes = file_bytes(OC_SYM_FIXTURE);
  auto f = ElfFile::from_memory(bytes, "fixture");
  ASSERT_TRUE(f.ok());
  auto symtab = f->section(".symtab");
  ASSERT_TRUE(symtab.ok());
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  std::size_t shdr = eh.e_shoff + symtab->index * sizeof(Elf64_Shdr);

  // A string-table link to nowhere: .symtab is skipped with a warning,
  // .dynsym still gives the exported names.
  auto bad_link = bytes;
  std::uint32_t link = 9999;
  std::memcpy(bad_link.data() + shdr + offsetof(Elf64_Shdr, sh_link), &link, 4);
  auto f1 = ElfFile::from_memory(bad_link, "bad_link");
  ASSERT_TRUE(f1.ok());
  auto t1 = SymbolTable::from_elf(*f1);
  ASSERT_TRUE(t1.ok()) << t1.status().to_string();
  EXPECT_NE(t1->warnings().find("string table"), std::string::npos) << t1->warnings();

  // A wrong entry size.
  auto bad_ent = bytes;
  std::uint64_t ent = 7;
  std::memcpy(bad_ent.data() + shdr + offsetof(Elf64_Shdr, sh_entsize), &ent, 8);
  auto f2 = ElfFile::from_memory(bad_ent, "bad_ent");
  ASSERT_TRUE(f2.ok());
  auto t2 = SymbolTable::from_elf(*f2);
  ASSERT_TRUE(t2.ok());
  EXPECT_NE(t2->warnings().find("entry size"), std::string::npos);

  // Random garbage over the symbol entries: never a crash, and every entry
  // that comes out is a well-formed range with a name inside the table.
  std::mt19937_64 rng(99);
  for (int round = 0; round < 500; ++round) {
    auto g = bytes;
    for (int k = 0; k < 64; ++k) {
      g[symtab->offset + rng() % symtab->size] = static_cast<std::uint8_t>(rng());
    }
    auto fg = ElfFile::from_memory(g, "garbage");
    ASSERT_TRUE(fg.ok());
    auto tg = SymbolTable::from_elf(*fg);
    ASSERT_TRUE(tg.ok());
    for (std::size_t i = 0; i < tg->size(); ++i) {
      ASSERT_LT(tg->start_at(i), tg->end_at(i));
      auto s = tg->lookup(tg->start_at(i));
      ASSERT_TRUE(s.has_value());
      ASSERT_LE(s->name.size(), SymbolTable::kMaxNameLength);
    }
  }
}

}  // namespace
}  // namespace one_collect
