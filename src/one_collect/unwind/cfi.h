// DWARF call frame information (CFI) for x86-64: CIE/FDE parsing, the FDE
// index of one file, and evaluation of a CFA program into an unwind row.
//
// Works on raw section bytes plus the virtual address each section is
// loaded at (as linked, i.e. before the process's load bias), so it needs no
// ELF reader and can be fuzzed directly. The index is built once per file
// and shared by every process mapping that file; rows are computed on
// demand (callers cache them, see RuleCache) and computing one allocates
// nothing.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "one_collect/core/bytes.h"
#include "one_collect/core/status.h"

namespace one_collect::unwind {

// DWARF register numbers of x86-64 (System V psABI).
namespace reg {
inline constexpr unsigned kRax = 0, kRdx = 1, kRcx = 2, kRbx = 3, kRsi = 4, kRdi = 5, kRbp = 6,
                          kRsp = 7, kR12 = 12, kR13 = 13, kR14 = 14, kR15 = 15, kRa = 16;
inline constexpr unsigned kCount = 17;
}  // namespace reg

// The registers a row tracks: the callee-saved ones plus the return address.
// Caller-saved registers are dead after a call, so no unwinder needs them.
inline constexpr std::array<std::uint8_t, 7> kTrackedRegs = {3, 6, 12, 13, 14, 15, 16};
// Index into Row::rules for a DWARF register, or -1 when not tracked.
constexpr int tracked_index(unsigned dwarf_reg) {
  switch (dwarf_reg) {
    case 3:
      return 0;
    case 6:
      return 1;
    case 12:
      return 2;
    case 13:
      return 3;
    case 14:
      return 4;
    case 15:
      return 5;
    case 16:
      return 6;
    default:
      return -1;
  }
}

enum class RuleKind : std::uint8_t {
  kSameValue = 0,  // also "unspecified": callee-saved registers keep their value
  kUndefined,      // for the return address: the outermost frame
  kOffset,         // saved at CFA + value
  kValOffset,      // value is CFA + value
  kRegister,       // value is in register `reg`
  kExpression,     // saved at the address an expression computes
  kValExpression,  // value is what an expression computes
};

// One register rule, 8 bytes. For expression kinds, `value` is the byte
// offset of the expression within its section and `len` its length.
struct Rule {
  RuleKind kind = RuleKind::kSameValue;
  std::uint8_t reg = 0;
  std::uint16_t len = 0;
  std::int32_t value = 0;
};

enum class CfaKind : std::uint8_t {
  kInvalid = 0,
  kRegOffset,   // CFA = reg + offset
  kExpression,  // CFA = expression (PLT entries, realigned stacks)
};

struct CfaRule {
  CfaKind kind = CfaKind::kInvalid;
  std::uint8_t reg = 0;
  std::uint16_t len = 0;   // expression length
  std::int32_t value = 0;  // offset, or expression offset in its section
};

enum class CfiSection : std::uint8_t { kEhFrame = 0, kDebugFrame = 1 };

// The unwind rules in effect at one instruction address.
struct Row {
  CfaRule cfa;
  std::array<Rule, kTrackedRegs.size()> rules{};
  CfiSection section = CfiSection::kEhFrame;  // where expression bytes live
  bool signal_frame = false;                  // CIE augmentation 'S'
  std::uint64_t pc_begin = 0;                 // the FDE's range, linked vaddrs
  std::uint64_t pc_end = 0;

  Rule& rule(unsigned dwarf_reg) {
    return rules[static_cast<std::size_t>(tracked_index(dwarf_reg))];
  }
  const Rule& rule(unsigned dwarf_reg) const {
    return rules[static_cast<std::size_t>(tracked_index(dwarf_reg))];
  }
};

// A section as loaded: its bytes and the linked vaddr of its first byte.
// Empty bytes mean "absent".
struct SectionBytes {
  ByteSpan bytes;
  std::uint64_t vaddr = 0;
  bool present() const { return !bytes.empty(); }
};

// The CFI sections of one ELF file (or of a separate debug file for
// .debug_frame). `got_vaddr` is the datarel base some toolchains use.
struct CfiSections {
  SectionBytes eh_frame;
  SectionBytes eh_frame_hdr;
  SectionBytes debug_frame;
  std::uint64_t text_vaddr = 0;
  std::uint64_t got_vaddr = 0;
};

// Why a lookup found no row.
enum class CfiLookup : std::uint8_t {
  kFound = 0,
  kNoEntry,    // no FDE covers the address
  kMalformed,  // an FDE/CIE covers it but cannot be parsed or evaluated
};

struct CfiStats {
  std::uint32_t eh_frame_fdes = 0;     // entries indexed from .eh_frame
  std::uint32_t debug_frame_fdes = 0;  // entries indexed from .debug_frame
  std::uint32_t bad_entries = 0;       // entries skipped while indexing
  bool used_hdr_table = false;         // .eh_frame_hdr's table was used
};

// The FDE index of one file: sorted start addresses pointing at FDEs.
// Immutable once built: share it between processes and threads freely.
class CfiIndex {
 public:
  // Builds the index. Never fails: bad entries are skipped (and counted),
  // an unusable .eh_frame_hdr falls back to a linear scan of .eh_frame.
  // The bytes must stay alive as long as the index.
  static CfiIndex build(const CfiSections& sections);

  // The row for `pc` (a linked vaddr). `is_return_address` is handled by the
  // caller (it passes pc - 1 for a return address). Allocates nothing.
  CfiLookup find_row(std::uint64_t pc, Row& out) const;

  const CfiStats& stats() const { return stats_; }
  const CfiSections& sections() const { return sections_; }
  std::size_t size() const { return entries_.size(); }
  ByteSpan section_bytes(CfiSection s) const {
    return s == CfiSection::kEhFrame ? sections_.eh_frame.bytes : sections_.debug_frame.bytes;
  }

 private:
  struct Entry {
    std::uint64_t pc_begin;
    std::uint64_t pc_end;  // 0 when unknown (from the hdr table): parse the FDE to learn it
    std::uint32_t fde_offset;
    CfiSection section;
  };

  void index_eh_frame_linear();
  bool index_eh_frame_hdr();
  void index_debug_frame();
  static void sort_entries(std::vector<Entry>& v);
  CfiLookup find_in(const std::vector<Entry>& entries, std::uint64_t pc, Row& out) const;

  CfiSections sections_;
  std::vector<Entry> entries_;        // .eh_frame
  std::vector<Entry> debug_entries_;  // .debug_frame
  CfiStats stats_;
};

// Evaluates the FDE at `fde_offset` of `section` up to `pc`. Exposed for
// tests and the fuzzer; CfiIndex::find_row is the normal entry point.
CfiLookup evaluate_fde(const CfiSections& sections, CfiSection section, std::uint32_t fde_offset,
                       std::uint64_t pc, Row& out);

}  // namespace one_collect::unwind
