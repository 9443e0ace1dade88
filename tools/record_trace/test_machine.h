// A synthetic ExportMachine for record-trace's tests: one process running
// a demo-like program whose functions have known sample counts.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "one_collect/export/export_machine.h"

namespace one_collect::record_trace::testing {

// The resolver's output element types, whatever the export layer names them.
template <class T>
struct ResolveArgs;
template <class C, class A, class B, class S, class L>
struct ResolveArgs<Status (C::*)(A, B, S&, L&)> {
  using Symbols = S;
  using Lines = L;
};
using SymbolVec = ResolveArgs<decltype(&SymbolResolver::resolve)>::Symbols;
using LineVec = ResolveArgs<decltype(&SymbolResolver::resolve)>::Lines;

// Names file offsets of /usr/bin/demo: [0x1000 + 0x100*i, +0x100) -> names[i].
class TableResolver : public SymbolResolver {
 public:
  explicit TableResolver(std::vector<std::string> names) : names_(std::move(names)) {}
  Status resolve(const SymbolQuery& q, std::span<const std::uint64_t>, SymbolVec& out,
                 LineVec&) override {
    if (q.kind != SymbolQuery::Kind::kFile || q.filename != "/usr/bin/demo") return ok_status();
    for (std::size_t i = 0; i < names_.size(); ++i) {
      typename SymbolVec::value_type s{};
      s.start = 0x1000 + 0x100 * i;
      s.end = s.start + 0x100;
      s.name = names_[i];
      out.push_back(std::move(s));
    }
    return ok_status();
  }

 private:
  std::vector<std::string> names_;
};

inline constexpr std::uint64_t kBase = 0x400000;
// Address of function i (inside /usr/bin/demo mapped at kBase, offset 0).
inline std::uint64_t fn(std::size_t i) { return kBase + 0x1000 + 0x100 * i + 0x10; }

}  // namespace one_collect::record_trace::testing
