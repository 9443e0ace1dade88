#include "one_collect/symbols/kernel_symbols.h"

#include "one_collect/binary/elf_file.h"
#include "one_collect/binary/elf_notes.h"
#include "one_collect/core/strings.h"
#include "one_collect/fs/read_file.h"

namespace one_collect {

namespace {

constexpr std::size_t kMaxKallsymsBytes = 256u << 20;  // ~122k symbols is ~6 MiB
constexpr std::uint64_t kMaxKernelSymbolExtent = 1u << 20;

}  // namespace

Result<KernelSymbols> KernelSymbols::read(const std::string& path) {
  OC_ASSIGN_OR_RETURN(std::string text, read_file(path, kMaxKallsymsBytes));
  auto r = parse(text);
  if (!r.ok()) return std::move(r).status().with_context(path);
  return r;
}

Result<KernelSymbols> KernelSymbols::parse(std::string_view text) {
  KernelSymbols ks;
  SymbolTable::Builder b;
  std::size_t lines = 0;
  std::size_t nonzero = 0;
  std::size_t pos = 0;
  std::string name;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty()) continue;
    ++lines;
    std::size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 + 3 > line.size() || line[sp1 + 2] != ' ') {
      ++ks.malformed_;
      continue;
    }
    std::optional<std::uint64_t> parsed = parse_hex(line.substr(0, sp1));
    if (!parsed) {
      ++ks.malformed_;
      continue;
    }
    std::uint64_t addr = *parsed;
    char type = line[sp1 + 1];
    std::string_view rest = line.substr(sp1 + 3);
    std::string_view module;
    if (std::size_t tab = rest.find('\t'); tab != std::string_view::npos) {
      module = rest.substr(tab + 1);
      rest = rest.substr(0, tab);
    }
    if (rest.empty()) {
      ++ks.malformed_;
      continue;
    }
    if (addr != 0) ++nonzero;
    if (type != 't' && type != 'T' && type != 'w' && type != 'W') continue;
    std::uint64_t limit =
        addr + kMaxKernelSymbolExtent < addr ? UINT64_MAX : addr + kMaxKernelSymbolExtent;
    if (module.empty()) {
      b.add(addr, 0, rest, limit, type == 'T' ? SymbolTable::kRankHigh : SymbolTable::kRankNormal);
    } else {
      name.assign(rest);
      name += ' ';
      name += module;  // already "[module]"
      b.add(addr, 0, name, limit, SymbolTable::kRankNormal);
    }
  }
  if (lines > 0 && nonzero == 0) {
    return error(ErrorCode::kPermissionDenied,
                 "kallsyms addresses are all zero: kernel pointers are hidden "
                 "(run as root, or lower /proc/sys/kernel/kptr_restrict)");
  }
  if (lines == 0) return error(ErrorCode::kMalformed, "kallsyms is empty");
  ks.table_ = std::move(b).finish();
  return ks;
}

Result<std::string> read_kernel_build_id(const std::string& path) {
  OC_ASSIGN_OR_RETURN(std::string notes, read_file(path, 1u << 20));
  auto id = find_gnu_build_id(as_bytes_span(notes.data(), notes.size()), 4);
  if (id.empty()) return error(ErrorCode::kNotFound, path + ": no GNU build-id note");
  return to_hex(id);
}

}  // namespace one_collect
