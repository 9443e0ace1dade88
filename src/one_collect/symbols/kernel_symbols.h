// Kernel symbols from /proc/kallsyms and the kernel build id from
// /sys/kernel/notes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/symbols/symbol_table.h"

namespace one_collect {

class KernelSymbols {
 public:
  // Reads and indexes /proc/kallsyms (or a saved copy). kPermissionDenied
  // when every address reads as 0 (kptr_restrict, or not root).
  static Result<KernelSymbols> read(const std::string& path = "/proc/kallsyms");
  // Parses kallsyms text: "ADDRESS TYPE NAME[\t[MODULE]]" per line. Only
  // text symbols (t, T, w, W) are kept; a module symbol is named
  // "name [module]". Each symbol extends to the next one (at most 1 MiB).
  static Result<KernelSymbols> parse(std::string_view text);
  // Only the symbols holding `sorted_addresses` (ascending), streamed from
  // kallsyms in two passes (the text symbols' starts, then the names of the
  // ones needed), so memory stays small: the whole file is 5+ MiB and its
  // table 5 MiB, while a recording samples a few thousand kernel functions.
  // Each kept symbol ends where it would in read() (the next text symbol,
  // at most 1 MiB on), so lookups of those addresses answer as read()'s do.
  static Result<KernelSymbols> read_covering(std::span<const std::uint64_t> sorted_addresses,
                                             const std::string& path = "/proc/kallsyms");

  std::optional<SymbolInfo> lookup(std::uint64_t address) const { return table_.lookup(address); }
  const SymbolTable& table() const { return table_; }
  std::size_t size() const { return table_.size(); }
  std::size_t malformed_lines() const { return malformed_; }

 private:
  SymbolTable table_;
  std::size_t malformed_ = 0;
};

// The running kernel's GNU build id (hex) from the raw note stream in
// /sys/kernel/notes (not an ELF file). kNotFound if it has none.
Result<std::string> read_kernel_build_id(const std::string& path = "/sys/kernel/notes");

}  // namespace one_collect
