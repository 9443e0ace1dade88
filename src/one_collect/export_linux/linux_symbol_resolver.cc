#include "one_collect/export_linux/linux_symbol_resolver.h"

#include <unistd.h>

#include "one_collect/fs/open_in_root.h"
#include "one_collect/symbols/perf_map.h"

namespace one_collect {
namespace {

// An fd on /proc/<pid>/root (the process's view of the file system), or -1
// for the host's root when the process is gone or pid is 0.
int open_root(std::uint32_t pid) {
  return pid == 0 ? -1 : open_process_root(static_cast<int>(pid));
}

template <typename Lookup>
void add_symbols(std::span<const std::uint64_t> addresses, Lookup&& lookup,
                 std::vector<ExportResolvedSymbol>& out) {
  std::uint64_t last_start = ~std::uint64_t{0};
  for (std::uint64_t address : addresses) {
    auto found = lookup(address);
    if (!found) continue;
    std::uint64_t start = address - found->offset;
    if (start == last_start) continue;  // addresses are sorted: same symbol as before
    last_start = start;
    out.push_back(ExportResolvedSymbol{
        start, start + (found->size ? found->size : 1), std::string(found->name), {}, 0});
  }
}

}  // namespace

void LinuxSymbolResolver::add_file_symbols(ModuleId module,
                                           std::span<const std::uint64_t> addresses,
                                           std::vector<ExportResolvedSymbol>& symbols,
                                           std::vector<ExportResolvedLine>& lines,
                                           bool source_lines) {
  const ModuleSymbols* m = cache_.module(module);
  // Lines only when asked for and the module has DWARF, and only for the
  // sampled addresses (each looked up once: they are sorted and unique).
  bool want_lines = source_lines && m != nullptr && !m->dwarf_file.empty();
  std::uint64_t last_start = ~std::uint64_t{0};
  bool need_file = false;  // the last symbol has no source file yet
  for (std::uint64_t address : addresses) {
    auto found = cache_.resolve_file_offset(module, address);
    if (!found) continue;
    std::uint64_t start = address - found->offset;
    if (start != last_start) {  // addresses are sorted: a new symbol
      last_start = start;
      symbols.push_back(ExportResolvedSymbol{
          start, start + (found->size ? found->size : 1), std::string(found->name), {}, 0});
      need_file = true;
    }
    if (!want_lines) continue;
    auto frames = cache_.source_frames(module, found->start + found->offset);
    if (!frames.ok() || frames->empty()) continue;
    const SourceFrame& own = frames->back();  // the real function, outermost
    if (own.line <= 0 && own.file.empty() && frames->size() == 1) continue;
    for (const SourceFrame& f : *frames) {
      lines.push_back(ExportResolvedLine{
          address, f.file, static_cast<std::uint32_t>(f.line > 0 ? f.line : 0),
          f.inlined ? f.function : std::string(),
          f.inlined ? static_cast<std::uint32_t>(f.function_line > 0 ? f.function_line : 0) : 0u});
    }
    // The function's file (pprof's -list reads it): where its own line is;
    // its first line: where it is declared.
    if (need_file && !own.file.empty()) {
      symbols.back().source_file = own.file;
      if (own.function_line > 0)
        symbols.back().line = static_cast<std::uint32_t>(own.function_line);
      need_file = false;
    }
  }
}

namespace {

// The module a held file was indexed as, kept in its kSymbols attachment.
struct HeldModule {
  const void* resolver = nullptr;  // whose SymbolCache the id belongs to
  Result<ModuleId> module;
};

}  // namespace

Result<ModuleId> LinuxSymbolResolver::load_held(const MappedFile& file, std::uint32_t pid) {
  auto index = [&]() -> Result<ModuleId> {
    const Result<ElfFile>& elf = file.elf();
    if (!elf.ok()) return elf.status();
    // The process root only helps find a separate debug file; the binary
    // itself is the held inode.
    int root = open_root(pid);
    auto module = cache_.load_elf(*elf, file.path(), root, file.fd());
    if (root >= 0) ::close(root);
    ++stats_.held_files;
    return module;
  };
  const HeldModule& held = file.attachment<HeldModule>(FileAttachment::kSymbols, [&] {
    return HeldModule{this, index()};
  });
  if (held.resolver == this) return held.module;
  return index();  // another resolver's attachment: our cache keys by inode anyway
}

Result<ModuleId> LinuxSymbolResolver::load(const SymbolQuery& query) {
  if (query.file != 0 && files_ != nullptr) {
    std::shared_ptr<MappedFile> file = files_->file(query.file);
    if (file && file->available()) return load_held(*file, query.pid);
  }
  ++stats_.path_loads;
  int root = open_root(query.pid);
  auto module = cache_.load(std::string(query.filename), root);
  if (!module.ok() && root >= 0) module = cache_.load(std::string(query.filename), -1);
  if (root >= 0) ::close(root);
  return module;
}

Status LinuxSymbolResolver::resolve(const SymbolQuery& query,
                                    std::span<const std::uint64_t> addresses,
                                    std::vector<ExportResolvedSymbol>& symbols,
                                    std::vector<ExportResolvedLine>& lines) {
  switch (query.kind) {
    case SymbolQuery::Kind::kFile: {
      OC_ASSIGN_OR_RETURN(ModuleId module, load(query));
      add_file_symbols(module, addresses, symbols, lines, query.want_lines);
      return ok_status();
    }
    case SymbolQuery::Kind::kKernel: {
      // Only the symbols the samples need: kallsyms streamed, never held
      // whole (it is 5+ MiB; the full table would be 5 MiB more).
      OC_ASSIGN_OR_RETURN(KernelSymbols kernel, KernelSymbols::read_covering(addresses));
      add_symbols(
          addresses, [&](std::uint64_t a) { return kernel.lookup(a); }, symbols);
      return ok_status();
    }
    case SymbolQuery::Kind::kAnonymous: {
      int nspid = static_cast<int>(query.ns_pid != 0 ? query.ns_pid : query.pid);
      auto map = PerfMap::read_for_process(static_cast<int>(query.pid), nspid);
      if (!map.ok()) {
        // The process may have exited: its map is still in the host's /tmp
        // when it ran in our mount namespace. Accept only a root-owned file
        // then, since the owner can no longer be checked against the process.
        auto host = PerfMap::read_file("/tmp/perf-" + std::to_string(query.pid) + ".map", 0);
        if (!host.ok()) return std::move(map).status();
        map = std::move(host);
      }
      add_symbols(
          addresses, [&](std::uint64_t a) { return map->lookup(a); }, symbols);
      return ok_status();
    }
  }
  return error(ErrorCode::kInternal, "unknown symbol query kind");
}

std::optional<std::string> LinuxSymbolResolver::build_id(const SymbolQuery& query) {
  if (query.kind != SymbolQuery::Kind::kFile) return std::nullopt;
  auto module = load(query);
  if (!module.ok()) return std::nullopt;
  const ModuleSymbols* m = cache_.module(*module);
  if (m == nullptr || m->build_id.empty()) return std::nullopt;
  return m->build_id;
}

}  // namespace one_collect
