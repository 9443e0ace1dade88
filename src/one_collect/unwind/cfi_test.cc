// CFI parsing and evaluation on hand-built .eh_frame / .eh_frame_hdr /
// .debug_frame bytes, plus malformed input (truncation, garbage, huge
// lengths, deep remember_state): an error for that entry, never a crash.
#include "one_collect/unwind/cfi.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "one_collect/unwind/dwarf_expr.h"

namespace one_collect::unwind {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put64(Bytes& b, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void set32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// Builds .eh_frame: a "zR" CIE (pcrel|sdata4, code 1, data -8, RA 16, CFA
// rsp+8, RA at cfa-8) followed by FDEs.
struct EhFrameBuilder {
  Bytes b;
  std::uint64_t vaddr = 0x10000;
  std::size_t cie = 0;
  std::vector<std::size_t> fdes;

  explicit EhFrameBuilder(const Bytes& extra_cie_insns = {}) {
    std::size_t start = b.size();
    put32(b, 0);  // length, patched
    put32(b, 0);  // CIE id
    b.push_back(1);
    for (char c : std::string("zR")) b.push_back(static_cast<std::uint8_t>(c));
    b.push_back(0);
    b.push_back(1);                       // code align
    b.push_back(0x78);                    // data align -8
    b.push_back(16);                      // RA register
    b.push_back(1);                       // augmentation length
    b.push_back(0x1b);                    // FDE encoding: pcrel | sdata4
    Bytes insns = {0x0c, 7, 8, 0x90, 1};  // def_cfa rsp+8; offset r16 at cfa-8
    insns.insert(insns.end(), extra_cie_insns.begin(), extra_cie_insns.end());
    b.insert(b.end(), insns.begin(), insns.end());
    while ((b.size() - start) % 8 != 4) b.push_back(0);
    set32(b, start, static_cast<std::uint32_t>(b.size() - start - 4));
    cie = start;
  }

  void add_fde(std::uint64_t pc, std::uint32_t len, const Bytes& insns) {
    std::size_t start = b.size();
    put32(b, 0);
    put32(b, static_cast<std::uint32_t>(b.size() - cie));  // CIE pointer
    std::uint64_t here = vaddr + b.size();
    put32(b, static_cast<std::uint32_t>(pc - here));
    put32(b, len);
    b.push_back(0);  // augmentation length
    b.insert(b.end(), insns.begin(), insns.end());
    while ((b.size() - start) % 8 != 4) b.push_back(0);
    set32(b, start, static_cast<std::uint32_t>(b.size() - start - 4));
    fdes.push_back(start);
  }

  void terminate() { put32(b, 0); }
  SectionBytes section() const { return SectionBytes{ByteSpan(b.data(), b.size()), vaddr}; }
};

// A typical frame-pointer function at 0x1000, 0x40 bytes:
//   +0 push rbp; +1 mov rbp,rsp; ... +0x30 remember; pop rbp (cfa rsp+8); +0x31 ret; +0x32 restore.
Bytes fp_function_insns() {
  return {
      0x41,           // advance 1
      0x0e, 16,       // def_cfa_offset 16
      0x86, 2,        // offset r6 at cfa-16
      0x43,           // advance 3 (pc 4)
      0x0d, 6,        // def_cfa_register rbp
      0x02, 0x2c,     // advance_loc1 44 (pc 0x30)
      0x0a,           // remember_state
      0x0c, 7,    8,  // def_cfa rsp+8
      0xc6,           // restore r6
      0x42,           // advance 2 (pc 0x32)
      0x0b,           // restore_state
  };
}

CfiIndex build_index(const EhFrameBuilder& eh) {
  CfiSections s;
  s.eh_frame = eh.section();
  return CfiIndex::build(s);
}

TEST(Cfi, FramePointerFunctionRows) {
  EhFrameBuilder eh;
  eh.add_fde(0x1000, 0x40, fp_function_insns());
  eh.terminate();
  CfiIndex index = build_index(eh);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_FALSE(index.stats().used_hdr_table);
  Row row;
  ASSERT_EQ(index.find_row(0x1000, row), CfiLookup::kFound);
  EXPECT_EQ(row.cfa.kind, CfaKind::kRegOffset);
  EXPECT_EQ(row.cfa.reg, reg::kRsp);
  EXPECT_EQ(row.cfa.value, 8);
  EXPECT_EQ(row.rule(reg::kRa).kind, RuleKind::kOffset);
  EXPECT_EQ(row.rule(reg::kRa).value, -8);
  EXPECT_EQ(row.rule(reg::kRbp).kind, RuleKind::kSameValue);

  ASSERT_EQ(index.find_row(0x1001, row), CfiLookup::kFound);
  EXPECT_EQ(row.cfa.value, 16);
  EXPECT_EQ(row.rule(reg::kRbp).kind, RuleKind::kOffset);
  EXPECT_EQ(row.rule(reg::kRbp).value, -16);

  ASSERT_EQ(index.find_row(0x1010, row), CfiLookup::kFound);
  EXPECT_EQ(row.cfa.reg, reg::kRbp);
  EXPECT_EQ(row.cfa.value, 16);

  // After "pop rbp": CFA rsp+8 and rbp restored to its CIE rule.
  ASSERT_EQ(index.find_row(0x1031, row), CfiLookup::kFound);
  EXPECT_EQ(row.cfa.reg, reg::kRsp);
  EXPECT_EQ(row.cfa.value, 8);
  EXPECT_EQ(row.rule(reg::kRbp).kind, RuleKind::kSameValue);

  // restore_state brings back the CFA *and* the register rules.
  ASSERT_EQ(index.find_row(0x1035, row), CfiLookup::kFound);
  EXPECT_EQ(row.cfa.reg, reg::kRbp);
  EXPECT_EQ(row.cfa.value, 16);
  EXPECT_EQ(row.rule(reg::kRbp).kind, RuleKind::kOffset);
  EXPECT_EQ(row.pc_begin, 0x1000u);
  EXPECT_EQ(row.pc_end, 0x1040u);

  EXPECT_EQ(index.find_row(0x1040, row), CfiLookup::kNoEntry);
  EXPECT_EQ(index.find_row(0xfff, row), CfiLookup::kNoEntry);
}

TEST(Cfi, UndefinedReturnAddressValOffsetRegisterAndSameValue) {
  EhFrameBuilder eh;
  eh.add_fde(0x2000, 0x10,
             {
                 0x07, 16,              // undefined RA (outermost frame)
                 0x41, 0x14, 3, 2,      // val_offset rbx = cfa + 2*-8
                 0x09, 12, 13,          // register r12 in r13
                 0x08, 6,               // same_value rbp
                 0x41, 0x15, 14, 0x7e,  // val_offset_sf r14 = cfa + (-2)*-8 = +16
                 0x11, 15, 0x7d,        // offset_extended_sf r15 at cfa + (-3)*-8 = +24
             });
  CfiIndex index = build_index(eh);
  Row row;
  ASSERT_EQ(index.find_row(0x2000, row), CfiLookup::kFound);
  EXPECT_EQ(row.rule(reg::kRa).kind, RuleKind::kUndefined);
  ASSERT_EQ(index.find_row(0x2001, row), CfiLookup::kFound);
  EXPECT_EQ(row.rule(reg::kRbx).kind, RuleKind::kValOffset);
  EXPECT_EQ(row.rule(reg::kRbx).value, -16);
  EXPECT_EQ(row.rule(reg::kR12).kind, RuleKind::kRegister);
  EXPECT_EQ(row.rule(reg::kR12).reg, 13);
  ASSERT_EQ(index.find_row(0x2002, row), CfiLookup::kFound);
  EXPECT_EQ(row.rule(reg::kR14).kind, RuleKind::kValOffset);
  EXPECT_EQ(row.rule(reg::kR14).value, 16);
  EXPECT_EQ(row.rule(reg::kR15).kind, RuleKind::kOffset);
  EXPECT_EQ(row.rule(reg::kR15).value, 24);
}

// The two PLT forms GCC/binutils emit: CFA = rsp + 8 + ((rip & 15) >= 11 ? 8 : 0).
TEST(Cfi, PltDefCfaExpressionEvaluates) {
  const Bytes expr = {0x77, 8, 0x80, 0, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22};
  Bytes insns = {0x0f, static_cast<std::uint8_t>(expr.size())};
  insns.insert(insns.end(), expr.begin(), expr.end());
  EhFrameBuilder eh;
  eh.add_fde(0x3000, 0x100, insns);
  CfiIndex index = build_index(eh);
  Row row;
  ASSERT_EQ(index.find_row(0x3010, row), CfiLookup::kFound);
  ASSERT_EQ(row.cfa.kind, CfaKind::kExpression);
  auto bytes =
      slice(index.section_bytes(row.section), static_cast<std::size_t>(row.cfa.value), row.cfa.len);
  ASSERT_TRUE(bytes.has_value());
  std::uint64_t regs[17] = {};
  regs[reg::kRsp] = 0x7000;
  ExprRegisters er{regs, (1u << reg::kRsp) | (1u << reg::kRa)};
  regs[reg::kRa] = 0x3010 + 5;  // (rip & 15) = 5: before the push in the PLT slot
  EXPECT_EQ(evaluate_expression(*bytes, er, nullptr, nullptr, std::nullopt), 0x7008u);
  regs[reg::kRa] = 0x3010 + 12;  // after the push
  EXPECT_EQ(evaluate_expression(*bytes, er, nullptr, nullptr, std::nullopt), 0x7010u);
  er.valid = 1u << reg::kRsp;  // rip unknown: no value, no crash
  EXPECT_FALSE(evaluate_expression(*bytes, er, nullptr, nullptr, std::nullopt).has_value());
}

TEST(DwarfExpr, ArithmeticStackOpsBranchesAndDeref) {
  std::uint64_t regs[17] = {};
  regs[reg::kRbp] = 0x100;
  ExprRegisters er{regs, 1u << reg::kRbp};
  auto eval = [&](const Bytes& e) {
    return evaluate_expression(
        ByteSpan(e.data(), e.size()), er,
        [](void*, std::uint64_t a, std::uint64_t* out) {
          if (a != 0xf8) return false;
          *out = 0xabc;
          return true;
        },
        nullptr, std::nullopt);
  };
  EXPECT_EQ(eval({0x76, 0x78, 0x06}), 0xabcu);                // breg6 -8; deref
  EXPECT_EQ(eval({0x35, 0x33, 0x1c}), 2u);                    // 5 - 3
  EXPECT_EQ(eval({0x35, 0x12, 0x1e}), 25u);                   // dup; mul
  EXPECT_EQ(eval({0x10, 0xe5, 0x8e, 0x26}), 624485u);         // constu (uleb)
  EXPECT_EQ(eval({0x31, 0x28, 0x01, 0x00, 0x32, 0x33}), 3u);  // bra over lit2
  EXPECT_FALSE(eval({0x2f, 0xfd, 0xff}).has_value());         // skip -3: loops until the step limit
  EXPECT_FALSE(eval({0x1a}).has_value());                     // and on an empty stack
  EXPECT_FALSE(eval({0x71, 0x00}).has_value());               // breg1: unknown register
  EXPECT_FALSE(eval({0x76, 0x00, 0x06}).has_value());         // deref of an unreadable address
  EXPECT_FALSE(eval({0xff}).has_value());                     // unknown opcode
  EXPECT_FALSE(eval({0x30, 0x30, 0x1b}).has_value());         // division by zero
}

TEST(Cfi, EhFrameHdrTableIsUsedAndCheckedAgainstEhFrame) {
  EhFrameBuilder eh;
  eh.vaddr = 0x20000;
  eh = EhFrameBuilder();
  eh.vaddr = 0x20000;
  eh.add_fde(0x1000, 0x40, fp_function_insns());
  eh.add_fde(0x1100, 0x20, {});
  eh.terminate();
  // .eh_frame_hdr at 0x1f000: version 1, eh_frame_ptr pcrel sdata4, count udata4,
  // table datarel sdata4, entries sorted by pc.
  std::uint64_t hdr_vaddr = 0x1f000;
  Bytes hdr = {1, 0x1b, 0x03, 0x3b};
  put32(hdr, static_cast<std::uint32_t>(eh.vaddr - (hdr_vaddr + 4)));
  put32(hdr, 2);
  put32(hdr, static_cast<std::uint32_t>(0x1000 - hdr_vaddr));
  put32(hdr, static_cast<std::uint32_t>(eh.vaddr + eh.fdes[0] - hdr_vaddr));
  put32(hdr, static_cast<std::uint32_t>(0x1100 - hdr_vaddr));
  put32(hdr, static_cast<std::uint32_t>(eh.vaddr + eh.fdes[1] - hdr_vaddr));
  CfiSections s;
  s.eh_frame = eh.section();
  s.eh_frame_hdr = SectionBytes{ByteSpan(hdr.data(), hdr.size()), hdr_vaddr};
  CfiIndex index = CfiIndex::build(s);
  EXPECT_TRUE(index.stats().used_hdr_table);
  EXPECT_EQ(index.size(), 2u);
  Row row;
  EXPECT_EQ(index.find_row(0x1010, row), CfiLookup::kFound);
  EXPECT_EQ(index.find_row(0x1110, row), CfiLookup::kFound);
  EXPECT_EQ(index.find_row(0x1050, row), CfiLookup::kNoEntry);  // gap between FDEs
  EXPECT_EQ(index.find_row(0x1130, row), CfiLookup::kNoEntry);

  // A header pointing elsewhere is ignored: the linear scan takes over.
  set32(hdr, 4, 0x1234);
  CfiIndex fallback = CfiIndex::build(s);
  EXPECT_FALSE(fallback.stats().used_hdr_table);
  EXPECT_EQ(fallback.size(), 2u);
  EXPECT_EQ(fallback.find_row(0x1010, row), CfiLookup::kFound);
}

TEST(Cfi, DebugFrameFallbackWhereEhFrameHasNoEntry) {
  EhFrameBuilder eh;
  eh.add_fde(0x1000, 0x40, fp_function_insns());
  // .debug_frame: 32-bit CIE (id 0xffffffff, version 3, no augmentation),
  // an FDE for 0x5000 with absolute 8-byte addresses.
  Bytes df;
  put32(df, 0);
  put32(df, 0xffffffffu);
  df.push_back(3);
  df.push_back(0);     // ""
  df.push_back(1);     // code align
  df.push_back(0x78);  // data align -8
  df.push_back(16);    // RA (uleb in v3)
  for (std::uint8_t x : {0x0c, 7, 8, 0x90, 1}) df.push_back(x);
  set32(df, 0, static_cast<std::uint32_t>(df.size() - 4));
  std::size_t fde = df.size();
  put32(df, 0);
  put32(df, 0);  // CIE at offset 0
  put64(df, 0x5000);
  put64(df, 0x20);
  for (std::uint8_t x : {0x41, 0x0e, 32}) df.push_back(x);
  set32(df, fde, static_cast<std::uint32_t>(df.size() - fde - 4));
  CfiSections s;
  s.eh_frame = eh.section();
  s.debug_frame = SectionBytes{ByteSpan(df.data(), df.size()), 0};
  CfiIndex index = CfiIndex::build(s);
  EXPECT_EQ(index.stats().debug_frame_fdes, 1u);
  Row row;
  ASSERT_EQ(index.find_row(0x5004, row), CfiLookup::kFound);
  EXPECT_EQ(row.section, CfiSection::kDebugFrame);
  EXPECT_EQ(row.cfa.value, 32);
  ASSERT_EQ(index.find_row(0x1001, row), CfiLookup::kFound);
  EXPECT_EQ(row.section, CfiSection::kEhFrame);
}

// Every truncation of a valid section: no crash, and lookups either find a
// row or report no entry / malformed.
TEST(CfiMalformed, EveryTruncationIsSafe) {
  EhFrameBuilder eh;
  eh.add_fde(0x1000, 0x40, fp_function_insns());
  eh.add_fde(0x1100, 0x20, {0x41, 0x0e, 16});
  eh.terminate();
  for (std::size_t len = 0; len <= eh.b.size(); ++len) {
    CfiSections s;
    s.eh_frame = SectionBytes{ByteSpan(eh.b.data(), len), eh.vaddr};
    CfiIndex index = CfiIndex::build(s);
    Row row;
    for (std::uint64_t pc : {0x1000ull, 0x1031ull, 0x1110ull}) {
      CfiLookup r = index.find_row(pc, row);
      if (len == eh.b.size()) {
        EXPECT_EQ(r, CfiLookup::kFound);
      }
    }
  }
}

TEST(CfiMalformed, GarbageAndHugeLengthsNeverCrash) {
  std::mt19937_64 rng(42);
  for (int iter = 0; iter < 3000; ++iter) {
    EhFrameBuilder eh;
    eh.add_fde(0x1000, 0x40, fp_function_insns());
    // Corrupt a few bytes anywhere (lengths, pointers, opcodes).
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) eh.b[rng() % eh.b.size()] = static_cast<std::uint8_t>(rng());
    CfiSections s;
    s.eh_frame = eh.section();
    s.debug_frame = eh.section();  // parse the same garbage as .debug_frame too
    CfiIndex index = CfiIndex::build(s);
    Row row;
    for (std::uint64_t pc = 0xff0; pc < 0x1050; pc += 7) (void)index.find_row(pc, row);
  }
  // A 64-bit length claiming 2^63 bytes.
  Bytes huge;
  put32(huge, 0xffffffffu);
  put64(huge, 1ull << 63);
  put64(huge, 0);
  CfiSections s;
  s.eh_frame = SectionBytes{ByteSpan(huge.data(), huge.size()), 0};
  CfiIndex index = CfiIndex::build(s);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_GE(index.stats().bad_entries, 1u);
}

TEST(CfiMalformed, DeepRememberStateAndUnknownOpcodeAreErrors) {
  EhFrameBuilder eh;
  eh.add_fde(0x1000, 0x10, Bytes(40, 0x0a));    // 40 x remember_state: deeper than we keep
  eh.add_fde(0x2000, 0x10, {0x0b});             // restore_state with nothing remembered
  eh.add_fde(0x3000, 0x10, {0x3f});             // unknown opcode
  eh.add_fde(0x4000, 0x10, Bytes(4000, 0x40));  // thousands of zero advances: linear, ends
  CfiIndex index = build_index(eh);
  Row row;
  EXPECT_EQ(index.find_row(0x1000, row), CfiLookup::kMalformed);
  EXPECT_EQ(index.find_row(0x2000, row), CfiLookup::kMalformed);
  EXPECT_EQ(index.find_row(0x3000, row), CfiLookup::kMalformed);
  EXPECT_EQ(index.find_row(0x4008, row), CfiLookup::kFound);
}

TEST(CfiMalformed, CiePointerOutsideOrToItselfIsRejected) {
  EhFrameBuilder eh;
  eh.add_fde(0x1000, 0x10, {});
  // Point the FDE's CIE pointer past the section start.
  set32(eh.b, eh.fdes[0] + 4, 0x7fffffff);
  CfiIndex index = build_index(eh);
  Row row;
  EXPECT_EQ(index.size(), 0u);
  EXPECT_NE(index.find_row(0x1000, row), CfiLookup::kFound);
  // Pointer to the FDE itself (an FDE is not a CIE).
  EhFrameBuilder eh2;
  eh2.add_fde(0x1000, 0x10, {});
  set32(eh2.b, eh2.fdes[0] + 4, 4);
  EXPECT_EQ(build_index(eh2).size(), 0u);
}

}  // namespace
}  // namespace one_collect::unwind
