// SymbolCache: ELF symbol tables indexed once per file and shared by every
// process that maps the file.
//
// A module is identified by its build id when it has one, otherwise by the
// (device, inode) of the file: a library mapped by 100 processes, or the
// same build seen through two container roots, is opened, searched for a
// debug file and indexed once. Lookups are binary searches; names are
// demangled once per symbol.
//
// Addresses. Tables hold ELF virtual addresses (st_value). A sampled
// instruction pointer `ip` inside a process mapping [map_start, map_end)
// with page offset `pgoff` (the mmap2 record's fields, or /proc/PID/maps) is
// converted this way:
//     file_offset = ip - map_start + pgoff
//     vaddr       = p_vaddr + (file_offset - p_offset)   for the PT_LOAD
//                   segment whose [p_offset, p_offset + p_filesz) holds it
// `process_to_vaddr` does exactly that; `ElfFile::load_bias` gives the
// equivalent constant bias (vaddr = ip - bias) for one mapping.
//
// Not thread-safe: one owner (the export pipeline) uses it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "one_collect/binary/elf_file.h"
#include "one_collect/core/status.h"
#include "one_collect/symbols/debug_file.h"
#include "one_collect/symbols/source_lines.h"
#include "one_collect/symbols/symbol_table.h"

namespace one_collect {

using ModuleId = std::uint32_t;

struct ModuleSymbols {
  ModuleId id = 0;
  std::string path;      // as given to load()
  std::string build_id;  // lower-case hex, empty if none
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  ElfType type = ElfType::kNone;
  std::vector<ElfSegment> loads;  // PT_LOAD segments of the binary
  std::string debug_file;         // path of the separate debug file, empty if none
  // The file holding .debug_info (the debug file or the binary itself), for
  // source lines; empty if neither has DWARF.
  std::string dwarf_file;
  SymbolTable table;
  // Indexed from an ElfFile its owner had already parsed (load_elf), not
  // opened and parsed by the cache.
  bool from_parsed_elf = false;
};

// How much work the cache did: tests assert "opened and indexed once".
struct SymbolCacheStats {
  std::uint64_t elf_parses = 0;   // binaries the cache opened and parsed itself (load, load_fd)
  std::uint64_t elf_reused = 0;   // modules indexed from an already parsed ElfFile (load_elf)
  std::uint64_t debug_files = 0;  // separate debug files found and parsed
};

struct ResolvedSymbol {
  std::string_view name;    // demangled, valid while the cache lives
  std::uint64_t start = 0;  // ELF virtual address of the symbol
  std::uint64_t size = 0;
  std::uint64_t offset = 0;  // from start
  ModuleId module = 0;
};

class SymbolCache {
 public:
  explicit SymbolCache(DebugFileOptions options = {}) : options_(std::move(options)) {}
  SymbolCache(const SymbolCache&) = delete;
  SymbolCache& operator=(const SymbolCache&) = delete;

  // Opens `path` inside `root_fd` (an fd on /proc/PID/root for containers,
  // or -1 for the host root), finds its debug file and indexes its symbols,
  // unless the same file or build id is already loaded. Failures are
  // remembered per (device, inode), so a bad file is parsed once.
  Result<ModuleId> load(const std::string& path, int root_fd = -1);
  // The same for an already open file (e.g. one held open since it was
  // mapped). The fd is not closed. `path` is used for debuglink searches.
  Result<ModuleId> load_fd(int fd, const std::string& path, int root_fd = -1);
  // The same for an ELF file its owner already parsed (a MappedFile's
  // elf(), which the unwinder's CFI index reads too): nothing is opened or
  // parsed again except a separate debug file. `path` is the file's path in
  // the process (debuglink searches); `fd` (-1: none) is a held fd on the
  // file, through which source lines are read when the file itself has
  // DWARF, so they come from the mapped inode even if the path changed.
  // Keyed by the ElfFile's (device, inode) and build id like load().
  Result<ModuleId> load_elf(const ElfFile& elf, const std::string& path, int root_fd = -1,
                            int fd = -1);

  const ModuleSymbols* module(ModuleId id) const;
  std::size_t module_count() const { return modules_.size(); }
  const SymbolCacheStats& stats() const { return stats_; }

  // The symbol holding ELF virtual address `vaddr` in module `id`.
  std::optional<ResolvedSymbol> resolve(ModuleId id, std::uint64_t vaddr) const;
  // The same for a file offset (converted through the PT_LOAD segments).
  std::optional<ResolvedSymbol> resolve_file_offset(ModuleId id, std::uint64_t file_offset) const;
  // ip in a process mapping (map_start, pgoff) -> ELF virtual address.
  std::optional<std::uint64_t> process_to_vaddr(ModuleId id, std::uint64_t ip,
                                                std::uint64_t map_start, std::uint64_t pgoff) const;

  // Symbolizes each unique address of `vaddrs` once: the result is sorted by
  // address, duplicates removed, one merge walk over the table.
  std::vector<std::pair<std::uint64_t, std::optional<ResolvedSymbol>>> resolve_unique(
      ModuleId id, std::vector<std::uint64_t> vaddrs) const;

  // Source file:line and inlined frames (innermost first) for `vaddr`,
  // through the module's DWARF (its separate debug file or itself).
  // kNotFound when the module has no DWARF or none covers the address.
  Result<std::vector<SourceFrame>> source_frames(ModuleId id, std::uint64_t vaddr);

 private:
  Result<ModuleId> index(int fd, const std::string& path, int root_fd);
  Result<ModuleId> index_elf(const ElfFile& elf, const std::string& path, int root_fd,
                             const std::string& self_dwarf_path);

  DebugFileOptions options_;
  std::deque<ModuleSymbols> modules_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, ModuleId> by_inode_;
  std::unordered_map<std::string, ModuleId> by_build_id_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, Status> failed_;
  SourceLines source_lines_;
  SymbolCacheStats stats_;
};

}  // namespace one_collect
