// Symbols as the export model stores them (one table per file, the kernel,
// or a process's anonymous code), and the SymbolResolver interface the OS
// side implements to fill them after collection.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/intern/interned_strings.h"

namespace one_collect {

using StringId = InternedStrings::Id;

// A symbol: [start, end) in its table's address space (file offsets for
// file-backed code, virtual addresses for kernel and anonymous/JIT code).
struct ExportSymbol {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  StringId name = 0;
  StringId source_file = 0;  // 0: unknown
  std::uint32_t line = 0;    // first line of the function, 0: unknown
};

// Caller frames hold return addresses: the instruction after the call. A call
// that is a function's last instruction (a noreturn call) returns to the first
// byte of the next function, so every symbol and line lookup of a non-leaf
// frame uses the return address - 1, which lies inside the call instruction;
// the sampled leaf ip is looked up exactly. This is the one place deciding it:
// capture_and_resolve_symbols, find_symbol / find_lines callers (ExportGraph,
// pprof, nettrace) all pass addresses through it. Frames that are exact
// addresses, not return addresses (the frame a signal interrupted, the user
// frame where the thread entered the kernel), are recorded by the unwinder
// and CallstackReader one byte on, so this rule names them exactly too.
inline std::uint64_t frame_lookup_ip(std::uint64_t ip, bool leaf) {
  return (leaf || ip == 0) ? ip : ip - 1;
}

// A source position for one address (same address space as the symbols).
// An address with inlined frames has several lines, consecutive in the
// table and innermost first: the inlined callee (function = its name), ...,
// and last the real function at the line of the outermost inlined call
// (function 0: the symbol's own name).
struct ExportLine {
  std::uint64_t address = 0;
  StringId source_file = 0;
  std::uint32_t line = 0;
  StringId function = 0;            // an inlined function's name; 0: the containing symbol
  std::uint32_t function_line = 0;  // an inlined function's declaration line, 0: unknown
};
static_assert(sizeof(ExportLine) == 24, "the declaration line fits the padding");

// Symbols of one file (shared by every process mapping it), of the kernel, or
// of one process's anonymous memory. Sorted by start once resolved.
struct ExportSymbolTable {
  std::vector<ExportSymbol> symbols;
  std::vector<ExportLine> lines;   // sorted by address (stable); may be empty
  bool has_inline_frames = false;  // some address has more than one line
  // The symbol containing `address`, or nullptr.
  const ExportSymbol* find(std::uint64_t address) const;
  // The source line of the containing function recorded for exactly
  // `address` (the outermost of its lines), or nullptr.
  const ExportLine* find_line(std::uint64_t address) const;
  // Every line recorded for exactly `address`, innermost first (empty if none).
  std::span<const ExportLine> find_lines(std::uint64_t address) const;
};

// Asked of a SymbolResolver: which object the addresses belong to.
struct SymbolQuery {
  enum class Kind { kFile, kKernel, kAnonymous };
  Kind kind = Kind::kFile;
  std::uint32_t pid = 0;  // a process mapping it (for /proc/<pid>/root, perf maps)
  std::uint32_t ns_pid = 0;
  std::string_view filename;  // kFile
  std::string_view build_id;  // kFile, lowercase hex or empty
  // kFile: the OS session's held-open file (ExportMapping::file), 0: none
  // (then the resolver finds the file by filename / build id).
  std::uint32_t file = 0;
  // kFile: also fill source lines (ExportResolvedLine) for the addresses.
  bool want_lines = true;
};

struct ExportResolvedSymbol {
  std::uint64_t start = 0;
  std::uint64_t end = 0;  // exclusive
  std::string name;       // demangled when possible
  std::string source_file;
  std::uint32_t line = 0;
};

// For an address with inlined frames, one entry per frame, consecutive and
// innermost first; `function` names the inlined functions and is empty for
// the last entry (the symbol's own function).
struct ExportResolvedLine {
  std::uint64_t address = 0;
  std::string source_file;
  std::uint32_t line = 0;
  std::string function;
  std::uint32_t function_line = 0;  // `function`'s declaration line, 0: unknown
};

// Turns addresses into symbols. The symbols component implements it for ELF
// files, kallsyms and perf maps; tests use a fake. Addresses are in the
// query's space: file offsets for kFile, virtual addresses otherwise; they are
// sorted and unique. Return the symbols covering them (extra ones are fine).
class SymbolResolver {
 public:
  virtual ~SymbolResolver() = default;
  virtual Status resolve(const SymbolQuery& query, std::span<const std::uint64_t> addresses,
                         std::vector<ExportResolvedSymbol>& symbols,
                         std::vector<ExportResolvedLine>& lines) = 0;
  // The build id (lowercase hex) of a file, when the caller did not know it.
  virtual std::optional<std::string> build_id(const SymbolQuery& /*query*/) { return std::nullopt; }
};

}  // namespace one_collect
