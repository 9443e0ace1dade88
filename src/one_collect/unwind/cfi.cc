#include "one_collect/unwind/cfi.h"

#include <algorithm>

#include "one_collect/unwind/dwarf_cursor.h"

namespace one_collect::unwind {
namespace {

// DW_CFA_* opcodes.
enum : std::uint8_t {
  kNop = 0x00,
  kSetLoc = 0x01,
  kAdvanceLoc1 = 0x02,
  kAdvanceLoc2 = 0x03,
  kAdvanceLoc4 = 0x04,
  kOffsetExtended = 0x05,
  kRestoreExtended = 0x06,
  kUndefined = 0x07,
  kSameValue = 0x08,
  kRegister = 0x09,
  kRememberState = 0x0a,
  kRestoreState = 0x0b,
  kDefCfa = 0x0c,
  kDefCfaRegister = 0x0d,
  kDefCfaOffset = 0x0e,
  kDefCfaExpression = 0x0f,
  kExpression = 0x10,
  kOffsetExtendedSf = 0x11,
  kDefCfaSf = 0x12,
  kDefCfaOffsetSf = 0x13,
  kValOffset = 0x14,
  kValOffsetSf = 0x15,
  kValExpression = 0x16,
  kGnuWindowSave = 0x2d,
  kGnuArgsSize = 0x2e,
  kGnuNegativeOffsetExtended = 0x2f,
  kAdvanceLoc = 0x40,
  kOffset = 0x80,
  kRestore = 0xc0,
};

// Depth of DW_CFA_remember_state nesting we keep (compilers use 1 or 2).
constexpr int kStateStackDepth = 8;

struct Cie {
  std::uint64_t code_align = 1;
  std::int64_t data_align = -8;
  std::uint64_t ra_reg = reg::kRa;
  std::uint8_t fde_encoding = pe::kAbsptr;
  std::uint8_t lsda_encoding = pe::kOmit;
  std::uint8_t address_size = 8;
  bool has_augmentation_data = false;
  bool signal_frame = false;
  std::size_t insn_begin = 0;
  std::size_t insn_end = 0;
};

struct Fde {
  std::uint64_t pc_begin = 0;
  std::uint64_t pc_range = 0;
  std::size_t insn_begin = 0;
  std::size_t insn_end = 0;
  std::size_t cie_offset = 0;
};

// The header of any CFI entry: length (32 or 64-bit) and the id/pointer field.
struct EntryHeader {
  std::size_t start = 0;   // offset of the length field
  std::size_t id_pos = 0;  // offset of the CIE id / CIE pointer field
  std::size_t end = 0;     // one past the entry
  std::uint64_t id = 0;
  bool is64 = false;
  bool terminator = false;  // zero length (end of .eh_frame)
};

bool read_header(ByteSpan bytes, std::size_t offset, EntryHeader& h) {
  DwarfCursor c(bytes, offset);
  h.start = offset;
  std::uint64_t length = c.u32();
  if (!c.ok()) return false;
  h.is64 = false;
  if (length == 0xffffffffu) {
    h.is64 = true;
    length = c.u64();
    if (!c.ok()) return false;
  }
  if (length == 0) {
    h.terminator = true;
    h.end = c.pos();
    return true;
  }
  h.terminator = false;
  if (length > c.remaining()) return false;
  h.end = c.pos() + static_cast<std::size_t>(length);
  h.id_pos = c.pos();
  h.id = h.is64 ? c.u64() : c.u32();
  return c.ok() && c.pos() <= h.end;
}

bool is_cie(const EntryHeader& h, CfiSection section) {
  if (section == CfiSection::kEhFrame) return h.id == 0;
  return h.is64 ? h.id == ~std::uint64_t{0} : h.id == 0xffffffffu;
}

PointerBases bases_for(const CfiSections& s, CfiSection section) {
  PointerBases b;
  b.section_vaddr = section == CfiSection::kEhFrame ? s.eh_frame.vaddr : s.debug_frame.vaddr;
  b.data = s.got_vaddr;
  b.text = s.text_vaddr;
  return b;
}

bool parse_cie(ByteSpan bytes, const PointerBases& bases, CfiSection section, std::size_t offset,
               Cie& cie) {
  EntryHeader h;
  if (!read_header(bytes, offset, h) || h.terminator || !is_cie(h, section)) return false;
  DwarfCursor c(bytes.first(h.end), h.id_pos + (h.is64 ? 8 : 4));
  std::uint8_t version = c.u8();
  if (version != 1 && version != 3 && version != 4) return false;
  ByteSpan aug = c.cstr();
  if (!c.ok()) return false;
  if (version == 4) {
    cie.address_size = c.u8();
    std::uint8_t segment_size = c.u8();
    if (segment_size != 0 || (cie.address_size != 8 && cie.address_size != 4)) return false;
  }
  // "eh" (GCC 2.x) carries an extra pointer; it is long obsolete.
  if (aug.size() >= 2 && aug[0] == 'e' && aug[1] == 'h') return false;
  cie.code_align = c.uleb();
  cie.data_align = c.sleb();
  cie.ra_reg = version == 1 ? c.u8() : c.uleb();
  if (!c.ok()) return false;
  cie.fde_encoding = pe::kAbsptr;
  if (!aug.empty() && aug[0] == 'z') {
    cie.has_augmentation_data = true;
    std::uint64_t aug_len = c.uleb();
    if (!c.ok() || aug_len > c.remaining()) return false;
    std::size_t aug_end = c.pos() + static_cast<std::size_t>(aug_len);
    for (std::size_t i = 1; i < aug.size(); ++i) {
      switch (aug[i]) {
        case 'L':
          cie.lsda_encoding = c.u8();
          break;
        case 'R':
          cie.fde_encoding = c.u8();
          break;
        case 'P': {
          std::uint8_t enc = c.u8();
          PointerBases pb = bases;
          c.encoded(static_cast<std::uint8_t>(enc & ~pe::kIndirect), pb);
          break;
        }
        case 'S':
          cie.signal_frame = true;
          break;
        case 'B':
          break;  // AArch64 BTI marker: no data
        default:
          i = aug.size();
          break;  // unknown: the rest is skipped via aug_len
      }
      if (!c.ok()) return false;
    }
    c.seek(aug_end);
  } else if (!aug.empty()) {
    return false;  // unknown augmentation without 'z': cannot find the instructions
  }
  if (!c.ok()) return false;
  cie.insn_begin = c.pos();
  cie.insn_end = h.end;
  return true;
}

// Parses the FDE at `offset` (and its CIE).
bool parse_fde(ByteSpan bytes, const PointerBases& bases, CfiSection section, std::size_t offset,
               Fde& fde, Cie& cie) {
  EntryHeader h;
  if (!read_header(bytes, offset, h) || h.terminator || is_cie(h, section)) return false;
  std::size_t cie_offset;
  if (section == CfiSection::kEhFrame) {
    if (h.id > h.id_pos) return false;  // CIE pointer is relative to this field, backwards
    cie_offset = h.id_pos - static_cast<std::size_t>(h.id);
  } else {
    if (h.id >= bytes.size()) return false;
    cie_offset = static_cast<std::size_t>(h.id);
  }
  if (!parse_cie(bytes, bases, section, cie_offset, cie)) return false;
  fde.cie_offset = cie_offset;
  DwarfCursor c(bytes.first(h.end), h.id_pos + (h.is64 ? 8 : 4));
  std::uint8_t enc = cie.fde_encoding;
  if (section == CfiSection::kDebugFrame) enc = cie.address_size == 4 ? pe::kUdata4 : pe::kUdata8;
  if (enc & pe::kIndirect) return false;
  fde.pc_begin = c.encoded(enc, bases);
  fde.pc_range = c.encoded(static_cast<std::uint8_t>(enc & 0x0f), bases);
  if (cie.has_augmentation_data) {
    std::uint64_t len = c.uleb();
    c.skip(len);
  }
  if (!c.ok()) return false;
  fde.insn_begin = c.pos();
  fde.insn_end = h.end;
  return true;
}

// An offset operand times the CIE's data alignment. Hostile CFI can make
// the product overflow: it wraps (the rule is garbage, but defined).
std::int64_t factored(std::uint64_t operand, std::int64_t data_align) {
  return static_cast<std::int64_t>(operand * static_cast<std::uint64_t>(data_align));
}
std::int64_t factored(std::int64_t operand, std::int64_t data_align) {
  return factored(static_cast<std::uint64_t>(operand), data_align);
}

// Register rule state while running a CFA program: all tracked rules + CFA.
struct State {
  CfaRule cfa;
  std::array<Rule, kTrackedRegs.size()> rules{};
};

class Interpreter {
 public:
  Interpreter(ByteSpan bytes, const PointerBases& bases, const Cie& cie, std::uint64_t target)
      : bytes_(bytes), bases_(bases), cie_(cie), target_(target) {}

  // Runs [begin, end). Returns false on malformed input. Stops early (true)
  // once the location passes the target address.
  bool run(std::size_t begin, std::size_t end, std::uint64_t start_loc, bool is_cie) {
    if (end > bytes_.size() || begin > end) return false;
    DwarfCursor c(bytes_.first(end), begin);
    loc_ = start_loc;
    while (!c.at_end()) {
      std::uint8_t op = c.u8();
      std::uint8_t low = op & 0x3f;
      switch (op & 0xc0) {
        case kAdvanceLoc:
          if (!advance(low * cie_.code_align)) return true;
          continue;
        case kOffset:
          set_rule(low, RuleKind::kOffset, factored(c.uleb(), cie_.data_align));
          break;
        case kRestore:
          if (is_cie) return false;
          restore(low);
          break;
        default:
          switch (op) {
            case kNop:
              break;
            case kSetLoc: {
              std::uint64_t new_loc = c.encoded(cie_.fde_encoding, bases_);
              if (!c.ok()) return false;
              if (new_loc > target_) return true;
              loc_ = new_loc;
              break;
            }
            case kAdvanceLoc1:
              if (!advance(c.u8() * cie_.code_align)) return c.ok();
              break;
            case kAdvanceLoc2:
              if (!advance(c.u16() * cie_.code_align)) return c.ok();
              break;
            case kAdvanceLoc4:
              if (!advance(c.u32() * cie_.code_align)) return c.ok();
              break;
            case kOffsetExtended: {
              std::uint64_t r = c.uleb();
              set_rule(r, RuleKind::kOffset, factored(c.uleb(), cie_.data_align));
              break;
            }
            case kOffsetExtendedSf: {
              std::uint64_t r = c.uleb();
              set_rule(r, RuleKind::kOffset, factored(c.sleb(), cie_.data_align));
              break;
            }
            case kGnuNegativeOffsetExtended: {
              std::uint64_t r = c.uleb();
              set_rule(r, RuleKind::kOffset,
                       factored(std::uint64_t{0} - c.uleb(), cie_.data_align));
              break;
            }
            case kValOffset: {
              std::uint64_t r = c.uleb();
              set_rule(r, RuleKind::kValOffset, factored(c.uleb(), cie_.data_align));
              break;
            }
            case kValOffsetSf: {
              std::uint64_t r = c.uleb();
              set_rule(r, RuleKind::kValOffset, factored(c.sleb(), cie_.data_align));
              break;
            }
            case kRestoreExtended:
              if (is_cie) return false;
              restore(c.uleb());
              break;
            case kUndefined:
              set_rule(c.uleb(), RuleKind::kUndefined, 0);
              break;
            case kSameValue:
              set_rule(c.uleb(), RuleKind::kSameValue, 0);
              break;
            case kRegister: {
              std::uint64_t r = c.uleb();
              std::uint64_t r2 = c.uleb();
              if (r2 >= reg::kCount) {
                if (c.ok()) bad_ = true;
                break;
              }
              set_rule(r, RuleKind::kRegister, 0, static_cast<std::uint8_t>(r2));
              break;
            }
            case kRememberState:
              if (depth_ >= kStateStackDepth) return false;
              stack_[depth_++] = state_;
              break;
            case kRestoreState: {
              if (depth_ == 0) return false;
              // The CFA and the register rules both come back (DWARF 5 6.4.2.4).
              state_ = stack_[--depth_];
              break;
            }
            case kDefCfa: {
              std::uint64_t r = c.uleb();
              std::uint64_t off = c.uleb();
              if (!set_cfa(r, static_cast<std::int64_t>(off))) return false;
              break;
            }
            case kDefCfaSf: {
              std::uint64_t r = c.uleb();
              std::int64_t off = factored(c.sleb(), cie_.data_align);
              if (!set_cfa(r, off)) return false;
              break;
            }
            case kDefCfaRegister: {
              std::uint64_t r = c.uleb();
              if (state_.cfa.kind != CfaKind::kRegOffset) {
                if (!c.ok()) return false;
                bad_ = true;  // register change of an expression CFA: undefined
                break;
              }
              if (!set_cfa(r, state_.cfa.value)) return false;
              break;
            }
            case kDefCfaOffset: {
              std::uint64_t off = c.uleb();
              if (state_.cfa.kind != CfaKind::kRegOffset) {
                if (c.ok()) bad_ = true;
                break;
              }
              if (!set_cfa(state_.cfa.reg, static_cast<std::int64_t>(off))) return false;
              break;
            }
            case kDefCfaOffsetSf: {
              std::int64_t off = factored(c.sleb(), cie_.data_align);
              if (state_.cfa.kind != CfaKind::kRegOffset) {
                if (c.ok()) bad_ = true;
                break;
              }
              if (!set_cfa(state_.cfa.reg, off)) return false;
              break;
            }
            case kDefCfaExpression: {
              std::uint64_t len = c.uleb();
              std::size_t at = c.pos();
              c.skip(len);
              if (!c.ok() || len > 0xffff || at > 0x7fffffff) return false;
              state_.cfa = CfaRule{CfaKind::kExpression, 0, static_cast<std::uint16_t>(len),
                                   static_cast<std::int32_t>(at)};
              break;
            }
            case kExpression:
            case kValExpression: {
              std::uint64_t r = c.uleb();
              std::uint64_t len = c.uleb();
              std::size_t at = c.pos();
              c.skip(len);
              if (!c.ok() || len > 0xffff || at > 0x7fffffff) return false;
              int idx = r < reg::kCount ? tracked_index(static_cast<unsigned>(r)) : -1;
              if (idx >= 0) {
                Rule& rule = state_.rules[static_cast<std::size_t>(idx)];
                rule.kind = op == kExpression ? RuleKind::kExpression : RuleKind::kValExpression;
                rule.reg = 0;
                rule.len = static_cast<std::uint16_t>(len);
                rule.value = static_cast<std::int32_t>(at);
              }
              break;
            }
            case kGnuArgsSize:
              c.uleb();
              break;
            case kGnuWindowSave:
              break;  // SPARC/AArch64 only
            default:
              return false;  // unknown opcode: cannot continue
          }
      }
      if (!c.ok()) return false;
    }
    return c.ok();
  }

  void snapshot_initial() { initial_ = state_; }
  const State& state() const { return state_; }
  bool bad() const { return bad_; }
  bool passed_target() const { return passed_; }

 private:
  // Moves the location; false when it passes the target (stop, row found).
  bool advance(std::uint64_t delta) {
    if (loc_ + delta < loc_ || loc_ + delta > target_) {
      passed_ = true;
      return false;
    }
    loc_ += delta;
    return true;
  }

  void set_rule(std::uint64_t r, RuleKind kind, std::int64_t value, std::uint8_t other = 0) {
    if (r == cie_.ra_reg) r = reg::kRa;  // the CIE names the return-address column
    if (r >= reg::kCount) return;        // e.g. vector registers: irrelevant here
    int idx = tracked_index(static_cast<unsigned>(r));
    if (idx < 0) return;
    if (value < INT32_MIN || value > INT32_MAX) {
      bad_ = true;
      return;
    }
    state_.rules[static_cast<std::size_t>(idx)] =
        Rule{kind, other, 0, static_cast<std::int32_t>(value)};
  }

  void restore(std::uint64_t r) {
    if (r == cie_.ra_reg) r = reg::kRa;
    if (r >= reg::kCount) return;
    int idx = tracked_index(static_cast<unsigned>(r));
    if (idx < 0) return;
    state_.rules[static_cast<std::size_t>(idx)] = initial_.rules[static_cast<std::size_t>(idx)];
  }

  bool set_cfa(std::uint64_t r, std::int64_t off) {
    if (r >= reg::kCount || off < INT32_MIN || off > INT32_MAX) return false;
    state_.cfa = CfaRule{CfaKind::kRegOffset, static_cast<std::uint8_t>(r), 0,
                         static_cast<std::int32_t>(off)};
    return true;
  }

  ByteSpan bytes_;
  PointerBases bases_;
  const Cie& cie_;
  std::uint64_t target_;
  std::uint64_t loc_ = 0;
  State state_;
  State initial_;
  State stack_[kStateStackDepth];
  int depth_ = 0;
  bool bad_ = false;
  bool passed_ = false;
};

}  // namespace

CfiLookup evaluate_fde(const CfiSections& sections, CfiSection section, std::uint32_t fde_offset,
                       std::uint64_t pc, Row& out) {
  ByteSpan bytes =
      section == CfiSection::kEhFrame ? sections.eh_frame.bytes : sections.debug_frame.bytes;
  PointerBases bases = bases_for(sections, section);
  Fde fde;
  Cie cie;
  if (!parse_fde(bytes, bases, section, fde_offset, fde, cie)) return CfiLookup::kMalformed;
  if (pc < fde.pc_begin || pc - fde.pc_begin >= fde.pc_range) return CfiLookup::kNoEntry;
  bases.func = fde.pc_begin;
  Interpreter interp(bytes, bases, cie, pc);
  if (!interp.run(cie.insn_begin, cie.insn_end, fde.pc_begin, /*is_cie=*/true)) {
    return CfiLookup::kMalformed;
  }
  interp.snapshot_initial();
  if (!interp.run(fde.insn_begin, fde.insn_end, fde.pc_begin, /*is_cie=*/false)) {
    return CfiLookup::kMalformed;
  }
  const State& st = interp.state();
  if (interp.bad() || st.cfa.kind == CfaKind::kInvalid) return CfiLookup::kMalformed;
  out.cfa = st.cfa;
  out.rules = st.rules;
  out.section = section;
  out.signal_frame = cie.signal_frame;
  out.pc_begin = fde.pc_begin;
  out.pc_end = fde.pc_begin + fde.pc_range;
  return CfiLookup::kFound;
}

void CfiIndex::sort_entries(std::vector<Entry>& v) {
  if (!std::is_sorted(v.begin(), v.end(),
                      [](const Entry& a, const Entry& b) { return a.pc_begin < b.pc_begin; })) {
    std::stable_sort(v.begin(), v.end(),
                     [](const Entry& a, const Entry& b) { return a.pc_begin < b.pc_begin; });
  }
}

void CfiIndex::index_eh_frame_linear() {
  ByteSpan bytes = sections_.eh_frame.bytes;
  PointerBases bases = bases_for(sections_, CfiSection::kEhFrame);
  std::size_t off = 0;
  while (off < bytes.size()) {
    EntryHeader h;
    if (!read_header(bytes, off, h)) {
      ++stats_.bad_entries;
      break;
    }
    if (h.terminator) break;
    if (!is_cie(h, CfiSection::kEhFrame)) {
      Fde fde;
      Cie cie;
      if (off <= 0xffffffffu && parse_fde(bytes, bases, CfiSection::kEhFrame, off, fde, cie) &&
          fde.pc_range != 0 && fde.pc_begin + fde.pc_range > fde.pc_begin) {
        entries_.push_back(Entry{fde.pc_begin, fde.pc_begin + fde.pc_range,
                                 static_cast<std::uint32_t>(off), CfiSection::kEhFrame});
      } else if (fde.pc_range != 0 || fde.pc_begin != 0) {
        ++stats_.bad_entries;
      }
    }
    off = h.end;
  }
}

bool CfiIndex::index_eh_frame_hdr() {
  const SectionBytes& hdr = sections_.eh_frame_hdr;
  if (!hdr.present() || !sections_.eh_frame.present()) return false;
  PointerBases bases;
  bases.section_vaddr = hdr.vaddr;
  bases.data = hdr.vaddr;  // table entries are relative to the hdr start
  DwarfCursor c(hdr.bytes);
  std::uint8_t version = c.u8();
  std::uint8_t eh_frame_ptr_enc = c.u8();
  std::uint8_t fde_count_enc = c.u8();
  std::uint8_t table_enc = c.u8();
  if (!c.ok() || version != 1) return false;
  std::uint64_t eh_frame_ptr = c.encoded(eh_frame_ptr_enc, bases);
  if (fde_count_enc == pe::kOmit || table_enc == pe::kOmit) return false;
  std::uint64_t count = c.encoded(fde_count_enc, bases);
  if (!c.ok()) return false;
  // Trust the table only if it points at the .eh_frame we have.
  if (eh_frame_ptr != sections_.eh_frame.vaddr) return false;
  std::size_t entry_size = 2 * DwarfCursor::encoded_size(table_enc);
  if (entry_size == 0 || count > c.remaining() / entry_size) return false;
  std::vector<Entry> table;
  table.reserve(static_cast<std::size_t>(count));
  const std::uint64_t eh_start = sections_.eh_frame.vaddr;
  const std::uint64_t eh_size = sections_.eh_frame.bytes.size();
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t pc = c.encoded(table_enc, bases);
    std::uint64_t fde = c.encoded(table_enc, bases);
    if (!c.ok()) return false;
    if (fde < eh_start || fde - eh_start >= eh_size || fde - eh_start > 0xffffffffu) {
      ++stats_.bad_entries;
      continue;
    }
    table.push_back(Entry{pc, 0, static_cast<std::uint32_t>(fde - eh_start), CfiSection::kEhFrame});
  }
  entries_ = std::move(table);
  stats_.used_hdr_table = true;
  return true;
}

void CfiIndex::index_debug_frame() {
  ByteSpan bytes = sections_.debug_frame.bytes;
  PointerBases bases = bases_for(sections_, CfiSection::kDebugFrame);
  std::size_t off = 0;
  while (off < bytes.size()) {
    EntryHeader h;
    if (!read_header(bytes, off, h)) {
      ++stats_.bad_entries;
      break;
    }
    if (h.terminator) {
      off = h.end;
      continue;
    }  // zero length: padding
    if (!is_cie(h, CfiSection::kDebugFrame)) {
      Fde fde;
      Cie cie;
      if (off <= 0xffffffffu && parse_fde(bytes, bases, CfiSection::kDebugFrame, off, fde, cie) &&
          fde.pc_range != 0 && fde.pc_begin + fde.pc_range > fde.pc_begin) {
        debug_entries_.push_back(Entry{fde.pc_begin, fde.pc_begin + fde.pc_range,
                                       static_cast<std::uint32_t>(off), CfiSection::kDebugFrame});
      } else {
        ++stats_.bad_entries;
      }
    }
    off = h.end;
  }
}

CfiIndex CfiIndex::build(const CfiSections& sections) {
  CfiIndex index;
  index.sections_ = sections;
  if (sections.eh_frame.present()) {
    if (!index.index_eh_frame_hdr()) index.index_eh_frame_linear();
    sort_entries(index.entries_);
  }
  if (sections.debug_frame.present()) {
    index.index_debug_frame();
    sort_entries(index.debug_entries_);
  }
  index.stats_.eh_frame_fdes = static_cast<std::uint32_t>(index.entries_.size());
  index.stats_.debug_frame_fdes = static_cast<std::uint32_t>(index.debug_entries_.size());
  return index;
}

CfiLookup CfiIndex::find_in(const std::vector<Entry>& entries, std::uint64_t pc, Row& out) const {
  auto it = std::upper_bound(entries.begin(), entries.end(), pc,
                             [](std::uint64_t v, const Entry& e) { return v < e.pc_begin; });
  if (it == entries.begin()) return CfiLookup::kNoEntry;
  --it;
  if (it->pc_end != 0 && pc >= it->pc_end) return CfiLookup::kNoEntry;
  return evaluate_fde(sections_, it->section, it->fde_offset, pc, out);
}

CfiLookup CfiIndex::find_row(std::uint64_t pc, Row& out) const {
  CfiLookup r = find_in(entries_, pc, out);
  if (r == CfiLookup::kFound || debug_entries_.empty()) return r;
  CfiLookup d = find_in(debug_entries_, pc, out);
  if (d == CfiLookup::kFound) return d;
  return r == CfiLookup::kMalformed ? r : d;
}

}  // namespace one_collect::unwind
