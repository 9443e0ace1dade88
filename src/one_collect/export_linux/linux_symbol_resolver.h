// LinuxSymbolResolver: names sampled addresses after collection, for
// ExportMachine::capture_and_resolve_symbols.
//
//   files      ELF .symtab/.dynsym (and separate debug files) through one
//              SymbolCache: each file indexed once, each address looked up
//              once; opened inside the process's root for containers. With
//              DWARF (the file's or its debug file's), each sampled address
//              also gets its source file:line and inlined frames (libdw,
//              SymbolCache::source_frames), and each symbol its source file.
//   kernel     /proc/kallsyms, read once.
//   anonymous  the process's JIT perf map (/tmp/perf-<nspid>.map in its
//              mount namespace), with the safety checks of PerfMap.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "one_collect/export/export_machine.h"
#include "one_collect/symbols/kernel_symbols.h"
#include "one_collect/symbols/symbol_cache.h"

namespace one_collect {

class LinuxSymbolResolver : public SymbolResolver {
 public:
  LinuxSymbolResolver() = default;

  Status resolve(const SymbolQuery& query, std::span<const std::uint64_t> addresses,
                 std::vector<ExportResolvedSymbol>& symbols,
                 std::vector<ExportResolvedLine>& lines) override;
  std::optional<std::string> build_id(const SymbolQuery& query) override;

 private:
  Result<ModuleId> load(const SymbolQuery& query);
  void add_file_symbols(ModuleId module, std::span<const std::uint64_t> addresses,
                        std::vector<ExportResolvedSymbol>& symbols,
                        std::vector<ExportResolvedLine>& lines);

  SymbolCache cache_;
  std::optional<KernelSymbols> kernel_;
  Status kernel_error_;
  bool kernel_tried_ = false;
};

}  // namespace one_collect
