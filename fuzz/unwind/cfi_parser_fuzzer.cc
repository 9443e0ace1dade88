// Fuzzes CFI indexing and row evaluation (.eh_frame via .eh_frame_hdr or a
// linear scan, .debug_frame) and the DWARF expressions rows refer to.
// Input: 4 control bytes, then the bytes split into hdr / eh_frame /
// debug_frame by the control bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "one_collect/unwind/cfi.h"
#include "one_collect/unwind/dwarf_expr.h"

using namespace one_collect;
using namespace one_collect::unwind;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::size_t body = size - 4;
  const std::size_t hdr_len = body == 0 ? 0 : data[0] % (body + 1);
  const std::size_t rest = body - hdr_len;
  const std::size_t debug_len = rest == 0 ? 0 : data[1] % (rest + 1);
  const std::uint8_t* p = data + 4;
  CfiSections s;
  s.eh_frame_hdr = SectionBytes{ByteSpan(p, hdr_len), 0x1000};
  s.eh_frame = SectionBytes{ByteSpan(p + hdr_len, rest - debug_len), 0x2000};
  s.debug_frame = SectionBytes{ByteSpan(p + hdr_len + rest - debug_len, debug_len), 0};
  s.text_vaddr = 0x3000;
  CfiIndex index = CfiIndex::build(s);
  std::uint64_t regs[17];
  for (unsigned i = 0; i < 17; ++i) regs[i] = 0x7000 + 8 * i;
  ExprRegisters er{regs, 0x1ffff};
  auto read = [](void*, std::uint64_t addr, std::uint64_t* out) {
    *out = addr * 3;
    return (addr & 1) == 0;
  };
  // Probe addresses derived from the input and around the sections.
  std::uint64_t probes[8] = {0, 0x1000, 0x2000, 0x2010, 0x3000};
  std::memcpy(&probes[5], data, 4);
  probes[6] = 0x2000 + data[2] * 16;
  probes[7] = 0x1000 + data[3] * 8;
  for (std::uint64_t pc : probes) {
    Row row;
    if (index.find_row(pc, row) != CfiLookup::kFound) continue;
    ByteSpan section = index.section_bytes(row.section);
    if (row.cfa.kind == CfaKind::kExpression) {
      if (auto e = slice(section, static_cast<std::size_t>(row.cfa.value), row.cfa.len)) {
        (void)evaluate_expression(*e, er, read, nullptr, std::nullopt);
      }
    }
    for (const Rule& r : row.rules) {
      if (r.kind != RuleKind::kExpression && r.kind != RuleKind::kValExpression) continue;
      if (auto e = slice(section, static_cast<std::size_t>(r.value), r.len)) {
        (void)evaluate_expression(*e, er, read, nullptr, 0x8000);
      }
    }
  }
  // The raw input as an expression too.
  (void)evaluate_expression(ByteSpan(data, size), er, read, nullptr, std::nullopt);
  return 0;
}
