#include "one_collect/unwind/unwinder.h"

#include <cstring>

#include "one_collect/core/hash.h"
#include "one_collect/unwind/dwarf_expr.h"

namespace one_collect::unwind {

std::string_view unwind_end_name(UnwindEnd end) {
  switch (end) {
    case UnwindEnd::kEndOfStack:
      return "end of stack";
    case UnwindEnd::kOutsideMappings:
      return "address outside known mappings";
    case UnwindEnd::kNoCfi:
      return "no CFI and no frame pointer";
    case UnwindEnd::kBadCfi:
      return "malformed or unsupported CFI";
    case UnwindEnd::kBadCfa:
      return "bad CFA";
    case UnwindEnd::kStackExhausted:
      return "out of copied stack";
    case UnwindEnd::kMaxDepth:
      return "max depth";
    case UnwindEnd::kJitNotFound:
      return "no caller found in anonymous code";
    case UnwindEnd::kNoRegisters:
      return "no registers";
  }
  return "unknown";
}

struct Unwinder::Slot {
  const FileUnwindInfo* file = nullptr;
  std::uint64_t vaddr = 0;
  CfiLookup result = CfiLookup::kNoEntry;
  Row row;
};

Unwinder::Unwinder(UnwinderOptions options) : options_(options), slots_(new Slot[kCacheSlots]) {}
Unwinder::~Unwinder() { delete[] slots_; }

CfiLookup Unwinder::cached_row(const FileUnwindInfo& info, std::uint64_t vaddr, const Row*& row) {
  ++stats_.lookups;
  std::uint64_t h = hash_mix(vaddr ^ (reinterpret_cast<std::uintptr_t>(&info) >> 4));
  Slot& s = slots_[h % kCacheSlots];
  if (s.file == &info && s.vaddr == vaddr) {
    ++stats_.hits;
  } else {
    s.file = &info;
    s.vaddr = vaddr;
    s.result = info.cfi.find_row(vaddr, s.row);
  }
  row = &s.row;
  return s.result;
}

namespace {

constexpr unsigned kRegCount = reg::kCount;

struct Regs {
  std::uint64_t v[kRegCount];
  std::uint32_t valid = 0;
  bool has(unsigned r) const { return (valid >> r) & 1u; }
  void set(unsigned r, std::uint64_t value) {
    v[r] = value;
    valid |= 1u << r;
  }
  void clear(unsigned r) { valid &= ~(1u << r); }
};

// Reads target memory: the stack copy first, then bytes of a mapped file.
struct Memory {
  ByteSpan stack;
  std::uint64_t base;
  const AddressSpace* space;

  bool in_stack(std::uint64_t addr, std::uint64_t size = 8) const {
    return addr >= base && addr - base <= stack.size() && stack.size() - (addr - base) >= size;
  }
  bool stack_u64(std::uint64_t addr, std::uint64_t& out) const {
    if (!in_stack(addr)) return false;
    std::memcpy(&out, stack.data() + (addr - base), 8);
    return true;
  }
  bool any_u64(std::uint64_t addr, std::uint64_t& out) const {
    if (stack_u64(addr, out)) return true;
    const Mapping* m = space->find(addr);
    if (m == nullptr || m->file == nullptr || !m->file->available()) return false;
    const FileUnwindInfo& info = unwind_info_for(*m->file);
    auto v = read_at<std::uint64_t>(info.bytes(), m->file_offset(addr));
    if (!v) return false;
    out = *v;
    return true;
  }
  static bool read_fn(void* ctx, std::uint64_t addr, std::uint64_t* out) {
    return static_cast<const Memory*>(ctx)->any_u64(addr, *out);
  }
};

enum class Step : std::uint8_t { kOk, kNoEntry, kFail };

bool is_code(const AddressSpace& space, std::uint64_t addr) {
  const Mapping* m = space.find(addr);
  return m != nullptr && m->executable;
}

}  // namespace

UnwindResult Unwinder::unwind(const AddressSpace& space, const UnwindInput& input,
                              std::span<std::uint64_t> frames) {
  UnwindResult result;
  const std::size_t limit =
      frames.size() < options_.max_frames ? frames.size() : options_.max_frames;
  if (input.rip == 0 || input.rsp == 0) {
    result.end = UnwindEnd::kNoRegisters;
    return result;
  }
  Memory mem{input.stack, input.stack_base, &space};
  Regs regs;
  regs.set(reg::kRa, input.rip);
  regs.set(reg::kRsp, input.rsp);
  regs.set(reg::kRbp, input.rbp);
  std::uint64_t pc = input.rip;
  bool exact_pc =
      true;  // the first frame (and a frame after a signal frame) is not a return address
  std::size_t n = 0;

  while (true) {
    if (n >= limit) {
      result.end = UnwindEnd::kMaxDepth;
      break;
    }
    const Mapping* m = space.find(pc);
    if (m == nullptr) {
      if (n == 0) frames[n++] = pc;  // the sampled ip itself is a fact
      result.end = UnwindEnd::kOutsideMappings;
      break;
    }
    frames[n++] = pc;

    const std::uint64_t rsp = regs.v[reg::kRsp];
    Regs next = regs;
    bool next_exact = false;
    bool stepped = false;
    bool had_row = false;
    UnwindEnd failure = UnwindEnd::kNoCfi;

    // 1. DWARF CFI of the mapped file.
    const FileUnwindInfo* info = nullptr;
    if (!m->anonymous && m->file != nullptr && m->file->available()) {
      info = &unwind_info_for(*m->file);
      if (!info->usable()) info = nullptr;
    }
    if (info != nullptr) {
      auto vaddr = info->to_vaddr(m->file_offset(exact_pc ? pc : pc - 1));
      const Row* row = nullptr;
      CfiLookup found = vaddr ? cached_row(*info, *vaddr, row) : CfiLookup::kNoEntry;
      if (found == CfiLookup::kMalformed) failure = UnwindEnd::kBadCfi;
      had_row = found == CfiLookup::kFound;
      if (found == CfiLookup::kFound) {
        ByteSpan section = info->cfi.section_bytes(row->section);
        ExprRegisters eregs{regs.v, regs.valid};
        // CFA.
        std::uint64_t cfa = 0;
        bool cfa_ok = false;
        if (row->cfa.kind == CfaKind::kRegOffset) {
          if (row->cfa.reg < kRegCount && regs.has(row->cfa.reg)) {
            cfa = regs.v[row->cfa.reg] + static_cast<std::int64_t>(row->cfa.value);
            cfa_ok = true;
          }
          if (!cfa_ok) failure = UnwindEnd::kBadCfa;
        } else {
          auto expr = slice(section, static_cast<std::size_t>(row->cfa.value), row->cfa.len);
          auto v = expr ? evaluate_expression(*expr, eregs, &Memory::read_fn, &mem, std::nullopt)
                        : std::nullopt;
          if (v) {
            cfa = *v;
            cfa_ok = true;
          } else {
            failure = UnwindEnd::kBadCfi;
          }
        }
        if (cfa_ok) {
          bool ok = true;
          for (std::size_t i = 0; i < kTrackedRegs.size() && ok; ++i) {
            const unsigned r = kTrackedRegs[i];
            const Rule& rule = row->rules[i];
            switch (rule.kind) {
              case RuleKind::kSameValue:
                break;
              case RuleKind::kUndefined:
                next.clear(r);
                break;
              case RuleKind::kOffset: {
                std::uint64_t val;
                std::uint64_t addr = cfa + static_cast<std::int64_t>(rule.value);
                if (mem.any_u64(addr, val)) {
                  next.set(r, val);
                } else if (r == reg::kRa) {
                  ok = false;
                  failure = mem.in_stack(addr, 1) || addr >= input.stack_base
                                ? UnwindEnd::kStackExhausted
                                : UnwindEnd::kBadCfa;
                } else {
                  next.clear(r);
                }
                break;
              }
              case RuleKind::kValOffset:
                next.set(r, cfa + static_cast<std::int64_t>(rule.value));
                break;
              case RuleKind::kRegister:
                if (rule.reg < kRegCount && regs.has(rule.reg))
                  next.set(r, regs.v[rule.reg]);
                else
                  next.clear(r);
                break;
              case RuleKind::kExpression:
              case RuleKind::kValExpression: {
                auto expr = slice(section, static_cast<std::size_t>(rule.value), rule.len);
                auto v = expr ? evaluate_expression(*expr, eregs, &Memory::read_fn, &mem, cfa)
                              : std::nullopt;
                std::uint64_t val = 0;
                bool got = v.has_value();
                if (got && rule.kind == RuleKind::kExpression)
                  got = mem.any_u64(*v, val);
                else if (got)
                  val = *v;
                if (got)
                  next.set(r, val);
                else if (r == reg::kRa) {
                  ok = false;
                  failure = UnwindEnd::kBadCfi;
                } else
                  next.clear(r);
                break;
              }
            }
          }
          if (ok) {
            if (!next.has(reg::kRa)) {
              result.end = UnwindEnd::kEndOfStack;  // DW_CFA_undefined rip: the outermost frame
              ++result.dwarf_frames;
              break;
            }
            next.set(reg::kRsp, cfa);
            next_exact = row->signal_frame;
            stepped = true;
            ++result.dwarf_frames;
          }
        }
      }
    }

    // 2. Frame pointers: [rbp] = caller's rbp, [rbp + 8] = return address.
    // Only where CFI had no usable row: when a row exists but its step
    // failed (e.g. the return address lies past the copied stack), rbp may
    // be an ordinary register there and a guess would invent a frame.
    if (!stepped && !had_row && regs.has(reg::kRbp)) {
      std::uint64_t fp = regs.v[reg::kRbp];
      std::uint64_t saved_fp, ra;
      if (fp >= rsp && mem.stack_u64(fp, saved_fp) && mem.stack_u64(fp + 8, ra) &&
          is_code(space, ra) && (saved_fp > fp || saved_fp == 0)) {
        next = regs;
        next.set(reg::kRa, ra);
        next.set(reg::kRsp, fp + 16);
        next.set(reg::kRbp, saved_fp);
        stepped = true;
        ++result.fp_frames;
      } else if (fp >= rsp && !mem.in_stack(fp, 16) && fp >= input.stack_base) {
        if (info == nullptr || failure == UnwindEnd::kNoCfi) failure = UnwindEnd::kStackExhausted;
      }
    }

    // 3. Anonymous (JIT) code: scan for a saved fp + return address pair.
    if (!stepped && m->anonymous && options_.jit_scan) {
      failure = UnwindEnd::kJitNotFound;
      for (unsigned i = 0; i < options_.jit_scan_slots; ++i) {
        std::uint64_t slot = rsp + 8ull * i;
        std::uint64_t cand_fp, cand_ra;
        if (!mem.stack_u64(slot, cand_fp) || !mem.stack_u64(slot + 8, cand_ra)) break;
        if (cand_fp > slot + 8 && mem.in_stack(cand_fp, 16) && is_code(space, cand_ra)) {
          next = regs;
          next.set(reg::kRa, cand_ra);
          next.set(reg::kRsp, slot + 16);
          next.set(reg::kRbp, cand_fp);
          stepped = true;
          ++result.scan_frames;
          break;
        }
      }
    }

    if (!stepped) {
      result.end = failure;
      break;
    }
    std::uint64_t next_pc = next.v[reg::kRa];
    if (next_pc == 0) {
      result.end = UnwindEnd::kEndOfStack;
      break;
    }
    if (!next.has(reg::kRsp) || next.v[reg::kRsp] <= rsp) {
      result.end = UnwindEnd::kBadCfa;  // must move up the stack, or we could loop
      break;
    }
    regs = next;
    pc = next_pc;
    exact_pc = next_exact;
  }
  result.count = n;
  return result;
}

}  // namespace one_collect::unwind
