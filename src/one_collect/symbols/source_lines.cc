#include "one_collect/symbols/source_lines.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <unordered_map>

#include "one_collect/core/errno_status.h"
#include "one_collect/symbols/demangle.h"

namespace one_collect {

namespace {
// One function's code range within a compilation unit.
struct FuncRange {
  Dwarf_Addr low, high;  // [low, high)
  Dwarf_Off die;
};
using UnitIndex = std::unordered_map<Dwarf_Off, std::vector<FuncRange>>;
}  // namespace

struct SourceLines::Handle {
  int fd = -1;
  Dwarf* dwarf = nullptr;
  // Per compilation unit (by DIE offset): its functions' ranges, sorted.
  // Built on the first address that falls in the unit, so each unit's DIE
  // tree is walked once instead of once per address.
  UnitIndex units;
  ~Handle() {
    if (dwarf != nullptr) dwarf_end(dwarf);
    if (fd >= 0) ::close(fd);
  }
};

SourceLines::SourceLines() = default;
SourceLines::~SourceLines() = default;

Result<SourceLines::Handle*> SourceLines::handle(const std::string& dwarf_file) {
  if (auto it = handles_.find(dwarf_file); it != handles_.end()) return it->second.get();
  if (auto it = failed_.find(dwarf_file); it != failed_.end()) return it->second;
  auto h = std::make_unique<Handle>();
  h->fd = ::open(dwarf_file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (h->fd < 0) {
    Status s = errno_status(errno, "opening " + dwarf_file);
    failed_[dwarf_file] = s;
    return s;
  }
  h->dwarf = dwarf_begin(h->fd, DWARF_C_READ);
  if (h->dwarf == nullptr) {
    Status s =
        error(ErrorCode::kNotFound, dwarf_file + ": no usable DWARF (" + dwarf_errmsg(-1) + ")");
    failed_[dwarf_file] = s;
    return s;
  }
  Handle* raw = h.get();
  handles_[dwarf_file] = std::move(h);
  return raw;
}

namespace {

// The name of a subprogram or inlined subroutine, following abstract
// origins and specifications; the linkage name (demangled) is preferred
// because it carries the namespace and class.
std::string die_function_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  const char* linkage = nullptr;
  if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) != nullptr ||
      dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr) != nullptr) {
    linkage = dwarf_formstring(&attr);
  }
  if (linkage != nullptr) return demangle(linkage);
  const char* name = dwarf_diename(die);
  if (name == nullptr && dwarf_attr_integrate(die, DW_AT_name, &attr) != nullptr) {
    name = dwarf_formstring(&attr);
  }
  return name != nullptr ? name : "??";
}

// Collects the code ranges of the subprograms under `parent` (descending
// through namespaces and types, where C++ puts member definitions).
void collect_functions(Dwarf_Die* parent, std::vector<FuncRange>& out, int depth) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  do {
    int tag = dwarf_tag(&child);
    if (tag == DW_TAG_subprogram) {
      Dwarf_Addr base, low, high;
      ptrdiff_t off = 0;
      int guard = 0;
      while ((off = dwarf_ranges(&child, off, &base, &low, &high)) > 0 && ++guard < 4096) {
        if (low < high) out.push_back({low, high, dwarf_dieoffset(&child)});
      }
    } else if (depth < 32 &&
               (tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
                tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_module)) {
      collect_functions(&child, out, depth + 1);
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

// Innermost first: the inlined subroutines holding `addr`, then the
// subprogram they were inlined into. Empty if no function covers it.
std::vector<Dwarf_Die> scope_chain(Dwarf* dwarf, UnitIndex& units, Dwarf_Die* cu,
                                   std::uint64_t addr) {
  std::vector<Dwarf_Die> chain;
  Dwarf_Off key = dwarf_dieoffset(cu);
  auto it = units.find(key);
  if (it == units.end()) {
    std::vector<FuncRange> funcs;
    collect_functions(cu, funcs, 0);
    std::sort(funcs.begin(), funcs.end(),
              [](const FuncRange& a, const FuncRange& b) { return a.low < b.low; });
    it = units.emplace(key, std::move(funcs)).first;
  }
  const std::vector<FuncRange>& funcs = it->second;
  auto pos = std::upper_bound(funcs.begin(), funcs.end(), addr,
                              [](std::uint64_t a, const FuncRange& f) { return a < f.low; });
  const FuncRange* hit = nullptr;
  for (int back = 0; back < 8 && pos != funcs.begin(); ++back) {
    --pos;
    if (addr < pos->high) {
      hit = &*pos;
      break;
    }
  }
  if (hit == nullptr) return chain;
  Dwarf_Die func;
  if (dwarf_offdie(dwarf, hit->die, &func) == nullptr) return chain;
  chain.push_back(func);
  // Descend through lexical blocks and inlined subroutines holding addr.
  Dwarf_Die cur = func;
  for (int depth = 0; depth < 64; ++depth) {
    Dwarf_Die child;
    bool descended = false;
    if (dwarf_child(&cur, &child) == 0) {
      do {
        int tag = dwarf_tag(&child);
        if ((tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block) &&
            dwarf_haspc(&child, addr) == 1) {
          if (tag == DW_TAG_inlined_subroutine) chain.push_back(child);
          cur = child;
          descended = true;
          break;
        }
      } while (dwarf_siblingof(&child, &child) == 0);
    }
    if (!descended) break;
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

// The compilation unit whose ranges hold `addr`: aranges first, then a scan.
bool find_cu(Dwarf* dwarf, Dwarf_Addr addr, Dwarf_Die* out) {
  if (dwarf_addrdie(dwarf, addr, out) != nullptr) return true;
  Dwarf_Off off = 0;
  Dwarf_Off next;
  std::size_t header_size;
  while (dwarf_nextcu(dwarf, off, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
    Dwarf_Die cu;
    if (dwarf_offdie(dwarf, off + header_size, &cu) != nullptr && dwarf_haspc(&cu, addr) == 1) {
      *out = cu;
      return true;
    }
    off = next;
  }
  return false;
}

}  // namespace

Result<std::vector<SourceFrame>> SourceLines::frames(const std::string& dwarf_file,
                                                     std::uint64_t vaddr) {
  OC_ASSIGN_OR_RETURN(Handle * h, handle(dwarf_file));
  Dwarf_Die cu;
  if (!find_cu(h->dwarf, vaddr, &cu)) {
    return error(ErrorCode::kNotFound, dwarf_file + ": no compilation unit covers the address");
  }
  std::vector<SourceFrame> out;
  // The line row of the address: file and line of the innermost frame.
  SourceFrame inner;
  if (Dwarf_Line* line = dwarf_getsrc_die(&cu, vaddr)) {
    if (const char* f = dwarf_linesrc(line, nullptr, nullptr)) inner.file = f;
    dwarf_lineno(line, &inner.line);
    dwarf_linecol(line, &inner.column);
  }
  Dwarf_Files* files = nullptr;
  std::size_t nfiles = 0;
  dwarf_getsrcfiles(&cu, &files, &nfiles);

  // Scopes from innermost to the real function: the inlined subroutines
  // holding the address, found under the function from the unit's index.
  std::vector<Dwarf_Die> chain = scope_chain(h->dwarf, h->units, &cu, vaddr);
  int n = static_cast<int>(chain.size());
  Dwarf_Die* scopes = chain.data();
  SourceFrame current = inner;
  bool have_function = false;
  for (int i = 0; i < n; ++i) {
    int tag = dwarf_tag(&scopes[i]);
    if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram) continue;
    current.function = die_function_name(&scopes[i]);
    // An inlined subroutine's declaration line is on its abstract origin,
    // which dwarf_decl_line follows.
    if (int decl = 0; dwarf_decl_line(&scopes[i], &decl) == 0) current.function_line = decl;
    have_function = true;
    if (tag == DW_TAG_subprogram) {
      current.inlined = false;
      out.push_back(current);
      break;
    }
    current.inlined = true;
    out.push_back(current);
    // The caller's location is this inlined call's site.
    SourceFrame caller;
    Dwarf_Attribute attr;
    Dwarf_Word value;
    if (dwarf_attr(&scopes[i], DW_AT_call_file, &attr) != nullptr &&
        dwarf_formudata(&attr, &value) == 0 && files != nullptr && value < nfiles) {
      if (const char* f = dwarf_filesrc(files, value, nullptr, nullptr)) caller.file = f;
    }
    if (dwarf_attr(&scopes[i], DW_AT_call_line, &attr) != nullptr &&
        dwarf_formudata(&attr, &value) == 0) {
      caller.line = static_cast<int>(value);
    }
    if (dwarf_attr(&scopes[i], DW_AT_call_column, &attr) != nullptr &&
        dwarf_formudata(&attr, &value) == 0) {
      caller.column = static_cast<int>(value);
    }
    current = caller;
  }
  if (!have_function) {
    if (inner.line == 0) {
      return error(ErrorCode::kNotFound, dwarf_file + ": no function or line at the address");
    }
    inner.function = "??";
    out.push_back(inner);
  }
  return out;
}

}  // namespace one_collect
