#include "one_collect/symbols/kernel_symbols.h"

#include <algorithm>

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

namespace {

// One kallsyms line: "ADDRESS TYPE NAME[\tMODULE]".
struct KallsymsLine {
  std::uint64_t address = 0;
  char type = 0;
  std::string_view name;
  std::string_view module;  // "[module]" or empty
  // Only text symbols name code.
  bool is_text() const { return type == 't' || type == 'T' || type == 'w' || type == 'W'; }
};

std::optional<KallsymsLine> parse_kallsyms_line(std::string_view line) {
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 + 3 > line.size() || line[sp1 + 2] != ' ') {
    return std::nullopt;
  }
  std::optional<std::uint64_t> address = parse_hex(line.substr(0, sp1));
  if (!address) return std::nullopt;
  KallsymsLine out;
  out.address = *address;
  out.type = line[sp1 + 1];
  out.name = line.substr(sp1 + 3);
  if (std::size_t tab = out.name.find('\t'); tab != std::string_view::npos) {
    out.module = out.name.substr(tab + 1);
    out.name = out.name.substr(0, tab);
  }
  if (out.name.empty()) return std::nullopt;
  return out;
}

std::uint64_t extent_limit(std::uint64_t address) {
  return address + kMaxKernelSymbolExtent < address ? UINT64_MAX : address + kMaxKernelSymbolExtent;
}

// Adds a text symbol; a module symbol is named "name [module]".
void add_kallsyms_symbol(SymbolTable::Builder& b, const KallsymsLine& s, std::uint64_t size,
                         std::string& scratch) {
  std::uint64_t limit = extent_limit(s.address);
  if (s.module.empty()) {
    b.add(s.address, size, s.name, limit,
          s.type == 'T' ? SymbolTable::kRankHigh : SymbolTable::kRankNormal);
    return;
  }
  scratch.assign(s.name);
  scratch += ' ';
  scratch += s.module;  // already "[module]"
  b.add(s.address, size, scratch, limit, SymbolTable::kRankNormal);
}

Status hidden_or_empty(std::size_t lines, std::size_t nonzero) {
  if (lines > 0 && nonzero == 0) {
    return error(ErrorCode::kPermissionDenied,
                 "kallsyms addresses are all zero: kernel pointers are hidden "
                 "(run as root, or lower /proc/sys/kernel/kptr_restrict)");
  }
  if (lines == 0) return error(ErrorCode::kMalformed, "kallsyms is empty");
  return ok_status();
}

}  // namespace

Result<KernelSymbols> KernelSymbols::parse(std::string_view text) {
  KernelSymbols ks;
  SymbolTable::Builder b;
  std::size_t lines = 0;
  std::size_t nonzero = 0;
  std::size_t pos = 0;
  std::string scratch;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty()) continue;
    ++lines;
    auto parsed = parse_kallsyms_line(line);
    if (!parsed) {
      ++ks.malformed_;
      continue;
    }
    if (parsed->address != 0) ++nonzero;
    if (parsed->is_text()) add_kallsyms_symbol(b, *parsed, 0, scratch);
  }
  OC_RETURN_IF_ERROR(hidden_or_empty(lines, nonzero));
  ks.table_ = std::move(b).finish();
  return ks;
}

Result<KernelSymbols> KernelSymbols::read_covering(std::span<const std::uint64_t> sorted_addresses,
                                                   const std::string& path) {
  // Pass 1: every text symbol's start (8 bytes each, ~1 MiB).
  KernelSymbols ks;
  std::vector<std::uint64_t> starts;
  std::size_t lines = 0;
  std::size_t nonzero = 0;
  Status read = read_lines(
      path,
      [&](std::string_view line) {
        if (line.empty()) return;
        ++lines;
        auto parsed = parse_kallsyms_line(line);
        if (!parsed) {
          ++ks.malformed_;
          return;
        }
        if (parsed->address != 0) ++nonzero;
        if (parsed->is_text()) starts.push_back(parsed->address);
      },
      kMaxKallsymsBytes);
  if (!read.ok()) return read;
  if (Status s = hidden_or_empty(lines, nonzero); !s.ok()) return std::move(s).with_context(path);
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());

  // The start holding each address (the last start at or below it, within
  // reach), and where that symbol ends: the next start, at most 1 MiB on.
  std::vector<std::uint64_t> needed;
  for (std::uint64_t a : sorted_addresses) {
    auto it = std::upper_bound(starts.begin(), starts.end(), a);
    if (it == starts.begin()) continue;
    std::uint64_t start = *(it - 1);
    if (a >= extent_limit(start)) continue;
    if (needed.empty() || needed.back() != start) needed.push_back(start);
  }
  auto size_of = [&](std::uint64_t start) {
    auto next = std::upper_bound(starts.begin(), starts.end(), start);
    std::uint64_t end = next == starts.end() ? extent_limit(start) : *next;
    return std::min(end, extent_limit(start)) - start;
  };

  // Pass 2: the names of the needed symbols only.
  SymbolTable::Builder b;
  std::string scratch;
  read = read_lines(
      path,
      [&](std::string_view line) {
        auto parsed = parse_kallsyms_line(line);
        if (!parsed || !parsed->is_text()) return;
        if (!std::binary_search(needed.begin(), needed.end(), parsed->address)) return;
        add_kallsyms_symbol(b, *parsed, size_of(parsed->address), scratch);
      },
      kMaxKallsymsBytes);
  if (!read.ok()) return read;
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
