// One JIT scan step: anonymous code has no CFI, and JIT compilers often keep
// frame pointers, so look near rsp for a saved rbp + return address pair.
// Internal header (unwind_steps.h).
#pragma once

#include "one_collect/unwind/unwind_steps.h"

namespace one_collect::unwind {

// Looks at up to `slots` stack slots from rsp for a saved frame pointer that
// points further up the copy followed by an address in executable code.
inline bool jit_scan_step(const Regs& regs, const TargetMemory& mem, const AddressSpace& space,
                          unsigned slots, Regs& caller) {
  const std::uint64_t rsp = regs.v[reg::kRsp];
  for (unsigned i = 0; i < slots; ++i) {
    std::uint64_t slot = rsp + 8ull * i;
    std::uint64_t cand_fp, cand_ra;
    if (!mem.stack_u64(slot, cand_fp) || !mem.stack_u64(slot + 8, cand_ra)) return false;
    if (cand_fp > slot + 8 && mem.in_stack(cand_fp, 16) && is_code(space, cand_ra)) {
      caller = regs;
      caller.set(reg::kRa, cand_ra);
      caller.set(reg::kRsp, slot + 16);
      caller.set(reg::kRbp, cand_fp);
      return true;
    }
  }
  return false;
}

}  // namespace one_collect::unwind
