#include "one_collect/unwind/unwinder.h"

#include "one_collect/core/hash.h"
#include "one_collect/unwind/cfi_step.h"
#include "one_collect/unwind/frame_pointer_step.h"
#include "one_collect/unwind/jit_scan_step.h"
#include "one_collect/unwind/unwind_steps.h"

namespace one_collect::unwind {

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

// The CFI of the file behind a mapping, when it has any we can use.
const FileUnwindInfo* usable_unwind_info(const Mapping& m) {
  if (m.anonymous || m.file == nullptr || !m.file->available()) return nullptr;
  const FileUnwindInfo* info = &unwind_info_for(*m.file);
  return info->usable() ? info : nullptr;
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
  TargetMemory mem{input.stack, input.stack_base, &space};
  Regs regs;
  regs.set(reg::kRa, input.rip);
  regs.set(reg::kRsp, input.rsp);
  regs.set(reg::kRbp, input.rbp);
  std::uint64_t pc = input.rip;
  // The first frame (and a frame after a signal frame) is not a return address.
  bool exact_pc = true;
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
    // A caller frame is looked up at its address - 1 (export's
    // frame_lookup_ip: a return address follows its call). A frame
    // interrupted by a signal holds the exact address of its next
    // instruction instead, which may be a function's first byte: it is
    // recorded one byte on, so that the same rule names it exactly.
    frames[n] = (n > 0 && exact_pc) ? pc + 1 : pc;
    ++n;

    Regs caller;
    bool caller_exact = false;
    bool stepped = false;
    bool had_row = false;
    UnwindEnd failure = UnwindEnd::kNoCfi;

    // 1. DWARF CFI of the mapped file.
    if (const FileUnwindInfo* info = usable_unwind_info(*m)) {
      auto vaddr = info->to_vaddr(m->file_offset(exact_pc ? pc : pc - 1));
      const Row* row = nullptr;
      CfiLookup found = vaddr ? cached_row(*info, *vaddr, row) : CfiLookup::kNoEntry;
      if (found == CfiLookup::kMalformed) failure = UnwindEnd::kBadCfi;
      had_row = found == CfiLookup::kFound;
      if (had_row) {
        CfiStep step =
            cfi_step(*row, info->cfi.section_bytes(row->section), regs, mem, caller, failure);
        if (step == CfiStep::kOutermost) {
          result.end = UnwindEnd::kEndOfStack;
          ++result.dwarf_frames;
          break;
        }
        if (step == CfiStep::kCaller) {
          caller_exact = row->signal_frame;
          stepped = true;
          ++result.dwarf_frames;
        }
      }
    }

    // 2. Frame pointers, only where CFI had no usable row: when a row exists
    // but its step failed (e.g. the return address lies past the copied
    // stack), rbp may be an ordinary register there and a guess would invent
    // a frame.
    if (!stepped && !had_row && frame_pointer_step(regs, mem, space, caller, failure)) {
      stepped = true;
      ++result.fp_frames;
    }

    // 3. Anonymous (JIT) code: scan for a saved fp + return address pair.
    if (!stepped && m->anonymous && options_.jit_scan) {
      failure = UnwindEnd::kJitNotFound;
      if (jit_scan_step(regs, mem, space, options_.jit_scan_slots, caller)) {
        stepped = true;
        ++result.scan_frames;
      }
    }

    if (!stepped) {
      result.end = failure;
      break;
    }
    std::uint64_t next_pc = caller.v[reg::kRa];
    if (next_pc == 0) {
      result.end = UnwindEnd::kEndOfStack;
      break;
    }
    if (!caller.has(reg::kRsp) || caller.v[reg::kRsp] <= regs.v[reg::kRsp]) {
      result.end = UnwindEnd::kBadCfa;  // must move up the stack, or we could loop
      break;
    }
    regs = caller;
    pc = next_pc;
    exact_pc = caller_exact;
  }
  result.count = n;
  return result;
}

}  // namespace one_collect::unwind
