#include "one_collect/symbols/symbol_table.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include "one_collect/binary/elf_file.h"
#include "one_collect/core/bytes.h"
#include "one_collect/symbols/demangle.h"

namespace one_collect {

void SymbolTable::Builder::add(std::uint64_t start, std::uint64_t size, std::string_view name,
                               std::uint64_t limit, Rank rank) {
  if (name.size() > kMaxNameLength) name = name.substr(0, kMaxNameLength);
  if (names_.size() > UINT32_MAX - name.size()) return;  // 4 GiB of names: refuse more
  Raw r;
  r.start = start;
  r.size = size;
  r.limit = limit;
  r.name_off = static_cast<std::uint32_t>(names_.size());
  r.name_len = static_cast<std::uint32_t>(name.size());
  r.rank = rank;
  names_.append(name);
  raw_.push_back(r);
}

SymbolTable SymbolTable::Builder::finish() && {
  // By start; among equal starts the preferred one (rank, then sized) first.
  std::sort(raw_.begin(), raw_.end(), [](const Raw& a, const Raw& b) {
    if (a.start != b.start) return a.start < b.start;
    if (a.rank != b.rank) return a.rank > b.rank;
    if ((a.size != 0) != (b.size != 0)) return a.size != 0;
    if (a.size != b.size) return a.size > b.size;
    return a.name_off < b.name_off;  // deterministic
  });
  SymbolTable t;
  t.starts_.reserve(raw_.size());
  t.entries_.reserve(raw_.size());
  std::vector<const Raw*> kept;
  kept.reserve(raw_.size());
  for (const Raw& r : raw_) {
    if (!kept.empty() && kept.back()->start == r.start) continue;
    kept.push_back(&r);
  }
  // Keep only the names of kept symbols.
  std::size_t total = 0;
  for (const Raw* r : kept) total += r->name_len;
  t.names_.reserve(total);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const Raw& r = *kept[i];
    std::uint64_t end;
    if (r.size != 0) {
      end = r.start + r.size < r.start ? UINT64_MAX : r.start + r.size;
    } else {
      std::uint64_t next = i + 1 < kept.size() ? kept[i + 1]->start : UINT64_MAX;
      end = std::min(next, r.limit);
      if (end <= r.start) end = r.start + 1;  // at least the start address itself
    }
    Entry e;
    e.end = end;
    e.name_off = static_cast<std::uint32_t>(t.names_.size());
    e.name_len = r.name_len;
    t.names_.append(names_, r.name_off, r.name_len);
    t.starts_.push_back(r.start);
    t.entries_.push_back(e);
  }
  t.demangled_slot_.assign(t.starts_.size(), kNotDemangled);
  raw_.clear();
  names_.clear();
  return t;
}

std::string_view SymbolTable::raw_name(std::size_t i) const {
  const Entry& e = entries_[i];
  return std::string_view(names_).substr(e.name_off, e.name_len);
}

SymbolInfo SymbolTable::info(std::size_t i, std::uint64_t address) const {
  std::uint32_t& slot = demangled_slot_[i];
  if (slot == kNotDemangled) {
    std::string_view raw = raw_name(i);
    if (looks_mangled(raw)) {
      std::string d = demangle(raw);
      if (d == raw) {
        slot = kPlainName;
      } else {
        demangled_.push_back(std::move(d));
        slot = static_cast<std::uint32_t>(demangled_.size());
      }
    } else {
      slot = kPlainName;
    }
  }
  SymbolInfo s;
  s.name = slot == kPlainName ? raw_name(i) : std::string_view(demangled_[slot - 1]);
  s.start = starts_[i];
  s.size = entries_[i].end - starts_[i];
  s.offset = address - starts_[i];
  return s;
}

std::optional<std::size_t> SymbolTable::find(std::uint64_t address) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), address);
  std::size_t i = static_cast<std::size_t>(it - starts_.begin());
  // The nearest start at or below; if it ends too early, a few earlier
  // symbols may still enclose the address (nested or overlapping symbols).
  for (int back = 0; back < 4 && i > 0; ++back) {
    --i;
    if (address < entries_[i].end) return i;
  }
  return std::nullopt;
}

std::optional<SymbolInfo> SymbolTable::lookup(std::uint64_t address) const {
  auto i = find(address);
  if (!i) return std::nullopt;
  return info(*i, address);
}

void SymbolTable::lookup_sorted(std::span<const std::uint64_t> sorted,
                                std::vector<std::optional<SymbolInfo>>& out) const {
  out.clear();
  out.resize(sorted.size());
  std::size_t j = 0;  // first entry with start > address, advanced monotonically
  for (std::size_t k = 0; k < sorted.size(); ++k) {
    std::uint64_t a = sorted[k];
    if (k > 0 && a < sorted[k - 1]) {  // not sorted: fall back for this one
      out[k] = lookup(a);
      continue;
    }
    while (j < starts_.size() && starts_[j] <= a) ++j;
    std::size_t i = j;
    for (int back = 0; back < 4 && i > 0; ++back) {
      --i;
      if (a < entries_[i].end) {
        out[k] = info(i, a);
        break;
      }
    }
  }
}

std::size_t SymbolTable::memory_bytes() const {
  return starts_.capacity() * sizeof(std::uint64_t) + entries_.capacity() * sizeof(Entry) +
         names_.capacity() + demangled_slot_.capacity() * sizeof(std::uint32_t);
}

namespace {

// Adds the symbols of one SHT_SYMTAB/SHT_DYNSYM section. Returns false with a
// reason when the section or its string table is unreadable.
bool add_elf_symbols(const ElfFile& file, const ElfSection& sec, SymbolTable::Builder& b,
                     std::string* why) {
  if (!sec.in_bounds || sec.type == SHT_NOBITS) {
    *why = std::string(sec.name) + " lies outside the file";
    return false;
  }
  if (sec.entsize != 0 && sec.entsize != sizeof(Elf64_Sym)) {
    *why = std::string(sec.name) + " has entry size " + std::to_string(sec.entsize);
    return false;
  }
  const ElfSection* strtab = file.section_at(sec.link);
  if (strtab == nullptr || strtab->type != SHT_STRTAB || !strtab->in_bounds) {
    *why = std::string(sec.name) + " has no readable string table";
    return false;
  }
  ByteSpan strs = strtab->data;
  std::size_t count = sec.data.size() / sizeof(Elf64_Sym);
  for (std::size_t i = 1; i < count; ++i) {
    Elf64_Sym sym = *read_at<Elf64_Sym>(sec.data, i * sizeof(Elf64_Sym));
    unsigned type = ELF64_ST_TYPE(sym.st_info);
    if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE) continue;
    if (sym.st_name == 0 || sym.st_name >= strs.size()) continue;
    const ElfSection* home = file.section_at(sym.st_shndx);
    if (home == nullptr || (home->flags & SHF_ALLOC) == 0) continue;
    bool code = (home->flags & SHF_EXECINSTR) != 0;
    SymbolTable::Rank rank;
    switch (type) {
      case STT_FUNC:
      case STT_GNU_IFUNC:
        rank = SymbolTable::kRankHigh;
        break;
      case STT_OBJECT:
        rank = SymbolTable::kRankNormal;
        break;
      case STT_NOTYPE:
        // Assembly labels in code (e.g. some libc entry points) are useful.
        if (!code) continue;
        rank = SymbolTable::kRankLow;
        break;
      default:
        continue;  // sections, files, TLS offsets
    }
    const char* p = reinterpret_cast<const char*>(strs.data()) + sym.st_name;
    std::string_view name(p, strnlen(p, strs.size() - sym.st_name));
    if (name.empty()) continue;
    if (name.size() > 2 && name[0] == '.' && name[1] == 'L') continue;  // local labels
    std::uint64_t limit = home->addr + home->size;
    if (limit < home->addr) limit = UINT64_MAX;
    if (sym.st_value < home->addr || sym.st_value >= limit) limit = UINT64_MAX;
    b.add(sym.st_value, sym.st_size, name, limit, rank);
  }
  return true;
}

}  // namespace

Result<SymbolTable> SymbolTable::from_elf(const ElfFile& file, const ElfFile* debug) {
  Builder b;
  std::string warnings;
  int found = 0;
  int read = 0;
  auto take = [&](const ElfFile& f, std::uint32_t type) {
    for (const ElfSection& s : f.sections()) {
      if (s.type != type) continue;
      ++found;
      std::string why;
      if (add_elf_symbols(f, s, b, &why)) {
        ++read;
      } else {
        if (!warnings.empty()) warnings += "; ";
        warnings += f.name() + ": " + why;
      }
    }
  };
  if (debug != nullptr) take(*debug, SHT_SYMTAB);
  take(file, SHT_SYMTAB);
  take(file, SHT_DYNSYM);
  if (found > 0 && read == 0) {
    return error(ErrorCode::kMalformed, "no readable symbol table: " + warnings);
  }
  SymbolTable t = std::move(b).finish();
  t.warnings_ = std::move(warnings);
  return t;
}

}  // namespace one_collect
