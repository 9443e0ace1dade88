// Source file:line and inlined frames for an address, through libdw
// (elfutils). One DWARF handle per file, opened on first use and kept.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "one_collect/core/status.h"

namespace one_collect {

struct SourceFrame {
  std::string function;  // demangled when the DWARF gives a linkage name
  std::string file;      // as recorded in the DWARF (often absolute)
  int line = 0;          // 0 when unknown
  int column = 0;
  bool inlined = false;   // true if this frame was inlined into the next one
  int function_line = 0;  // where the function is declared (DW_AT_decl_line), 0: unknown
};

class SourceLines {
 public:
  SourceLines();
  ~SourceLines();
  SourceLines(const SourceLines&) = delete;
  SourceLines& operator=(const SourceLines&) = delete;

  // Frames for ELF virtual address `vaddr` in `dwarf_file` (a file with
  // .debug_info: the binary or its separate debug file), innermost first:
  // [inlined callee at file:line, ..., the real function at the line of
  // the outermost inlined call site]. kNotFound if no DWARF covers it.
  Result<std::vector<SourceFrame>> frames(const std::string& dwarf_file, std::uint64_t vaddr);

 private:
  struct Handle;
  Result<Handle*> handle(const std::string& dwarf_file);
  std::map<std::string, std::unique_ptr<Handle>> handles_;
  std::map<std::string, Status> failed_;
};

}  // namespace one_collect
