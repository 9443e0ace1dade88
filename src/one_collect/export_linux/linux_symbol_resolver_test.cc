// LinuxSymbolResolver over a ProcessTable (no perf events): a query naming a
// held file is answered from that file's already parsed ELF, once per file;
// a query without one opens the path.
#include "one_collect/export_linux/linux_symbol_resolver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "one_collect/process/process_table.h"

namespace one_collect {
namespace {

extern "C" __attribute__((noinline)) int oc_resolver_test_function(int x) { return x * 7 + 3; }

TEST(LinuxSymbolResolver, HeldFileQueriesReuseTheParsedElfOnce) {
  auto pid = static_cast<std::uint32_t>(::getpid());
  ProcessTable table;
  ASSERT_TRUE(table.load_from_proc(pid, 1).ok());
  auto addr = reinterpret_cast<std::uint64_t>(&oc_resolver_test_function);
  const Mapping* m = table.find(pid, addr, 2);
  ASSERT_NE(m, nullptr);
  ASSERT_NE(m->file, nullptr);
  ASSERT_NE(m->file->id(), 0u);
  ASSERT_TRUE(m->file->elf().ok());  // the unwinder's parse, say
  EXPECT_EQ(table.elf_parses(), 1u);

  LinuxSymbolResolver resolver(&table);
  SymbolQuery q;
  q.kind = SymbolQuery::Kind::kFile;
  q.pid = pid;
  q.filename = "/no/such/path";  // never opened: the held file answers
  q.file = m->file->id();
  std::vector<std::uint64_t> offsets = {m->file_offset(addr)};
  for (int round = 0; round < 2; ++round) {
    std::vector<ExportResolvedSymbol> symbols;
    std::vector<ExportResolvedLine> lines;
    Status s = resolver.resolve(q, offsets, symbols, lines);
    ASSERT_TRUE(s.ok()) << s.to_string();
    ASSERT_EQ(symbols.size(), 1u);
    EXPECT_EQ(symbols[0].name, "oc_resolver_test_function");
    EXPECT_LE(symbols[0].start, offsets[0]);
    EXPECT_GT(symbols[0].end, offsets[0]);
  }
  (void)resolver.build_id(q);  // answered from the same held module
  EXPECT_EQ(resolver.stats().held_files, 1u);
  EXPECT_EQ(resolver.stats().path_loads, 0u);
  EXPECT_EQ(resolver.cache().stats().elf_parses, 0u);
  EXPECT_EQ(resolver.cache().stats().elf_reused, 1u);
  EXPECT_EQ(table.elf_parses(), 1u);

  // Without a held file the path is what there is.
  SymbolQuery by_path = q;
  by_path.file = 0;
  std::vector<ExportResolvedSymbol> symbols;
  std::vector<ExportResolvedLine> lines;
  EXPECT_FALSE(resolver.resolve(by_path, offsets, symbols, lines).ok());
  EXPECT_EQ(resolver.stats().path_loads, 1u);
  // An id the table does not know falls back to the path too.
  by_path.file = 1u << 30;
  EXPECT_FALSE(resolver.resolve(by_path, offsets, symbols, lines).ok());
  EXPECT_EQ(resolver.stats().path_loads, 2u);
}

}  // namespace
}  // namespace one_collect
