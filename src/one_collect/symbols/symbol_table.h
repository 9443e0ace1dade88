// SymbolTable: a sorted, immutable index of named address ranges.
//
// Built once per file (ELF .symtab/.dynsym, kallsyms, a perf map) and then
// shared: a lookup is a binary search over a contiguous array of start
// addresses, and names are demangled lazily, once per symbol, the first time
// a lookup returns them. Not thread-safe (the demangled-name cache mutates);
// the pipeline is single-threaded.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/status.h"

namespace one_collect {

class ElfFile;

struct SymbolInfo {
  std::string_view name;  // demangled; valid as long as the table lives
  std::uint64_t start = 0;
  std::uint64_t size = 0;    // for zero-size symbols: extended to the next one
  std::uint64_t offset = 0;  // queried address - start
};

class SymbolTable {
 public:
  // How strongly a symbol is preferred when several start at one address.
  enum Rank : std::uint8_t { kRankLow = 0, kRankNormal = 1, kRankHigh = 2 };

  class Builder {
   public:
    // `size` 0 means unknown: the symbol extends to the next symbol's start,
    // but never past `limit` (e.g. the end of its section). Names longer
    // than kMaxNameLength are cut.
    void add(std::uint64_t start, std::uint64_t size, std::string_view name,
             std::uint64_t limit = UINT64_MAX, Rank rank = kRankNormal);
    std::size_t count() const { return raw_.size(); }
    SymbolTable finish() &&;

   private:
    friend class SymbolTable;
    struct Raw {
      std::uint64_t start, size, limit;
      std::uint32_t name_off, name_len;
      std::uint8_t rank;
    };
    std::vector<Raw> raw_;
    std::string names_;
  };

  static constexpr std::size_t kMaxNameLength = 16 * 1024;

  // Functions, objects and ifuncs of `.symtab` and `.dynsym` of `file`, plus
  // the `.symtab` of `debug` (a separate debug file of the same link) if
  // given. Addresses are ELF virtual addresses. Fails only when a symbol
  // section exists but none could be read; a file without symbols gives an
  // empty table.
  static Result<SymbolTable> from_elf(const ElfFile& file, const ElfFile* debug = nullptr);

  SymbolTable() = default;
  SymbolTable(SymbolTable&&) = default;
  SymbolTable& operator=(SymbolTable&&) = default;

  // The symbol whose [start, start + size) holds `address`.
  std::optional<SymbolInfo> lookup(std::uint64_t address) const;

  // Resolves many addresses sorted ascending in one merge walk (each table
  // entry visited at most once): out[i] is the answer for sorted[i].
  void lookup_sorted(std::span<const std::uint64_t> sorted,
                     std::vector<std::optional<SymbolInfo>>& out) const;

  std::size_t size() const { return starts_.size(); }
  bool empty() const { return starts_.empty(); }
  // The raw (mangled) name of entry i.
  std::string_view raw_name(std::size_t i) const;
  std::uint64_t start_at(std::size_t i) const { return starts_[i]; }
  std::uint64_t end_at(std::size_t i) const { return entries_[i].end; }
  // Problems met while building (bad sections skipped), empty if none.
  const std::string& warnings() const { return warnings_; }
  // Bytes used by the index and names (for benchmarks and budgets).
  std::size_t memory_bytes() const;

 private:
  struct Entry {
    std::uint64_t end;
    std::uint32_t name_off;
    std::uint32_t name_len;
  };
  static constexpr std::uint32_t kNotDemangled = 0;
  static constexpr std::uint32_t kPlainName = 0xffffffffu;

  SymbolInfo info(std::size_t i, std::uint64_t address) const;
  std::optional<std::size_t> find(std::uint64_t address) const;

  std::vector<std::uint64_t> starts_;  // sorted, unique
  std::vector<Entry> entries_;
  std::string names_;
  std::string warnings_;
  // Lazily demangled names: slot 0 = not yet, kPlainName = same as raw,
  // otherwise index + 1 into demangled_ (a deque: stable references).
  mutable std::vector<std::uint32_t> demangled_slot_;
  mutable std::deque<std::string> demangled_;
};

}  // namespace one_collect
