#include "one_collect/symbols/symbol_cache.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "one_collect/core/errno_status.h"
#include "one_collect/fs/open_in_root.h"

namespace one_collect {

namespace {

bool has_section(const ElfFile& f, std::string_view name) {
  for (const ElfSection& s : f.sections()) {
    if (s.name == name && s.type != SHT_NOBITS) return true;
  }
  return false;
}

}  // namespace

Result<ModuleId> SymbolCache::load(const std::string& path, int root_fd) {
  int fd = open_in_root(root_fd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return errno_status(errno, "opening " + path);
  auto r = load_fd(fd, path, root_fd);
  ::close(fd);
  return r;
}

Result<ModuleId> SymbolCache::load_fd(int fd, const std::string& path, int root_fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return errno_status(errno, "fstat " + path);
  auto key =
      std::make_pair(static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino));
  if (auto it = by_inode_.find(key); it != by_inode_.end()) return it->second;
  if (auto it = failed_.find(key); it != failed_.end()) return it->second;
  auto r = index(fd, path, root_fd);
  if (r.ok()) {
    by_inode_[key] = *r;
  } else {
    failed_[key] = r.status();
  }
  return r;
}

Result<ModuleId> SymbolCache::load_elf(const ElfFile& elf, const std::string& path, int root_fd,
                                       int fd) {
  auto key = std::make_pair(elf.device(), elf.inode());
  bool keyed = key.first != 0 || key.second != 0;
  if (keyed) {
    if (auto it = by_inode_.find(key); it != by_inode_.end()) return it->second;
    if (auto it = failed_.find(key); it != failed_.end()) return it->second;
  }
  // Source lines of the file itself read through the held fd: /proc/self/fd/N
  // reopens the same inode, deleted or in another mount namespace.
  std::string self_dwarf = fd >= 0 ? "/proc/self/fd/" + std::to_string(fd) : path;
  std::size_t before = modules_.size();
  auto r = index_elf(elf, path, root_fd, self_dwarf);
  if (r.ok() && modules_.size() != before) {  // a new module, not a build-id match
    modules_[*r].from_parsed_elf = true;
    ++stats_.elf_reused;
  }
  if (keyed) {
    if (r.ok()) {
      by_inode_[key] = *r;
    } else {
      failed_[key] = r.status();
    }
  }
  return r;
}

Result<ModuleId> SymbolCache::index(int fd, const std::string& path, int root_fd) {
  OC_ASSIGN_OR_RETURN(ElfFile elf, ElfFile::open_fd(fd, path));
  ++stats_.elf_parses;
  return index_elf(elf, path, root_fd, path);
}

Result<ModuleId> SymbolCache::index_elf(const ElfFile& elf, const std::string& path, int root_fd,
                                        const std::string& self_dwarf_path) {
  std::string build_id = elf.build_id_hex();
  if (!build_id.empty()) {
    if (auto it = by_build_id_.find(build_id); it != by_build_id_.end()) return it->second;
  }
  ModuleSymbols m;
  m.id = static_cast<ModuleId>(modules_.size());
  m.path = path;
  m.build_id = build_id;
  m.device = elf.device();
  m.inode = elf.inode();
  m.type = elf.type();
  m.loads = elf.load_segments();
  std::optional<ElfFile> debug;
  // Only look for a debug file when the binary lacks a full symbol table
  // or line information.
  if (!has_section(elf, ".symtab") || !has_section(elf, ".debug_info")) {
    auto d = find_debug_file(elf, path, root_fd, options_);
    if (d.ok()) {
      debug = std::move(d).value();
      m.debug_file = debug->name();
      ++stats_.debug_files;
    }
  }
  if (debug && has_section(*debug, ".debug_info")) {
    m.dwarf_file = debug->name();
  } else if (has_section(elf, ".debug_info")) {
    m.dwarf_file = self_dwarf_path;
  }
  OC_ASSIGN_OR_RETURN(m.table, SymbolTable::from_elf(elf, debug ? &*debug : nullptr));
  modules_.push_back(std::move(m));
  if (!build_id.empty()) by_build_id_[build_id] = modules_.back().id;
  return modules_.back().id;
}

const ModuleSymbols* SymbolCache::module(ModuleId id) const {
  return id < modules_.size() ? &modules_[id] : nullptr;
}

std::optional<ResolvedSymbol> SymbolCache::resolve(ModuleId id, std::uint64_t vaddr) const {
  const ModuleSymbols* m = module(id);
  if (m == nullptr) return std::nullopt;
  auto s = m->table.lookup(vaddr);
  if (!s) return std::nullopt;
  return ResolvedSymbol{s->name, s->start, s->size, s->offset, id};
}

std::optional<std::uint64_t> SymbolCache::process_to_vaddr(ModuleId id, std::uint64_t ip,
                                                           std::uint64_t map_start,
                                                           std::uint64_t pgoff) const {
  if (ip < map_start) return std::nullopt;
  const ModuleSymbols* m = module(id);
  if (m == nullptr) return std::nullopt;
  std::uint64_t off = ip - map_start + pgoff;
  for (const ElfSegment& s : m->loads) {
    if (off >= s.offset && off - s.offset < s.filesz) return s.vaddr + (off - s.offset);
  }
  return std::nullopt;
}

std::optional<ResolvedSymbol> SymbolCache::resolve_file_offset(ModuleId id,
                                                               std::uint64_t file_offset) const {
  const ModuleSymbols* m = module(id);
  if (m == nullptr) return std::nullopt;
  for (const ElfSegment& s : m->loads) {
    if (file_offset >= s.offset && file_offset - s.offset < s.filesz) {
      return resolve(id, s.vaddr + (file_offset - s.offset));
    }
  }
  return std::nullopt;
}

std::vector<std::pair<std::uint64_t, std::optional<ResolvedSymbol>>> SymbolCache::resolve_unique(
    ModuleId id, std::vector<std::uint64_t> vaddrs) const {
  std::sort(vaddrs.begin(), vaddrs.end());
  vaddrs.erase(std::unique(vaddrs.begin(), vaddrs.end()), vaddrs.end());
  std::vector<std::pair<std::uint64_t, std::optional<ResolvedSymbol>>> out;
  out.reserve(vaddrs.size());
  const ModuleSymbols* m = module(id);
  std::vector<std::optional<SymbolInfo>> infos;
  if (m != nullptr) m->table.lookup_sorted(vaddrs, infos);
  for (std::size_t i = 0; i < vaddrs.size(); ++i) {
    std::optional<ResolvedSymbol> r;
    if (m != nullptr && infos[i]) {
      r = ResolvedSymbol{infos[i]->name, infos[i]->start, infos[i]->size, infos[i]->offset, id};
    }
    out.emplace_back(vaddrs[i], r);
  }
  return out;
}

Result<std::vector<SourceFrame>> SymbolCache::source_frames(ModuleId id, std::uint64_t vaddr) {
  const ModuleSymbols* m = module(id);
  if (m == nullptr) return error(ErrorCode::kInvalidArgument, "unknown module id");
  if (m->dwarf_file.empty()) {
    return error(ErrorCode::kNotFound, m->path + ": no DWARF (no debug file found)");
  }
  return source_lines_.frames(m->dwarf_file, vaddr);
}

}  // namespace one_collect
