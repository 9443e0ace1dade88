// LinuxSymbolResolver: names sampled addresses after collection, for
// ExportMachine::capture_and_resolve_symbols.
//
//   files      ELF .symtab/.dynsym (and separate debug files) through one
//              SymbolCache: each file indexed once, each address looked up
//              once. A query naming a held file (SymbolQuery::file, the
//              session's ProcessTable MappedFile id) is read through that
//              file, the inode mapped at mmap time, parsed once for the
//              unwinder and the symbols alike (MappedFile::elf()); the module
//              is remembered in the file's kSymbols attachment. Only queries
//              without one open the path, inside the process's root. With
//              DWARF (the file's or its debug file's), each sampled address
//              also gets its source file:line and inlined frames (libdw,
//              SymbolCache::source_frames), and each symbol its source file.
//   kernel     /proc/kallsyms, streamed: only the symbols holding sampled
//              addresses are kept.
//   anonymous  the process's JIT perf map (/tmp/perf-<nspid>.map in its
//              mount namespace), with the safety checks of PerfMap.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "one_collect/export/export_machine.h"
#include "one_collect/process/process_table.h"
#include "one_collect/symbols/kernel_symbols.h"
#include "one_collect/symbols/symbol_cache.h"

namespace one_collect {

// What the resolver did, for tests and notes.
struct LinuxSymbolResolverStats {
  std::uint64_t held_files = 0;  // distinct held files indexed through MappedFile::elf()
  std::uint64_t path_loads = 0;  // file queries answered by opening a path
};

class LinuxSymbolResolver : public SymbolResolver {
 public:
  // `files`: the session's process table, whose held files SymbolQuery::file
  // names (null: every file is opened by path). It must outlive the resolver.
  explicit LinuxSymbolResolver(const ProcessTable* files = nullptr) : files_(files) {}

  const SymbolCache& cache() const { return cache_; }
  const ProcessTable* files() const { return files_; }
  const LinuxSymbolResolverStats& stats() const { return stats_; }

  Status resolve(const SymbolQuery& query, std::span<const std::uint64_t> addresses,
                 std::vector<ExportResolvedSymbol>& symbols,
                 std::vector<ExportResolvedLine>& lines) override;
  std::optional<std::string> build_id(const SymbolQuery& query) override;

 private:
  Result<ModuleId> load(const SymbolQuery& query);
  Result<ModuleId> load_held(const MappedFile& file, std::uint32_t pid);
  void add_file_symbols(ModuleId module, std::span<const std::uint64_t> addresses,
                        std::vector<ExportResolvedSymbol>& symbols,
                        std::vector<ExportResolvedLine>& lines, bool source_lines);

  const ProcessTable* files_ = nullptr;
  SymbolCache cache_;
  LinuxSymbolResolverStats stats_;
};

}  // namespace one_collect
