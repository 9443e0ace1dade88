// One frame-pointer step: [rbp] = caller's rbp, [rbp + 8] = return address.
// Internal header (unwind_steps.h).
#pragma once

#include "one_collect/unwind/unwind_steps.h"

namespace one_collect::unwind {

// Follows the frame-pointer chain one frame when [rbp] and [rbp + 8] lie in
// the stack copy and look like a saved rbp and a return address. When rbp
// points past the copy, sets `failure` to kStackExhausted unless it already
// names a CFI problem.
inline bool frame_pointer_step(const Regs& regs, const TargetMemory& mem, const AddressSpace& space,
                               Regs& caller, UnwindEnd& failure) {
  if (!regs.has(reg::kRbp)) return false;
  const std::uint64_t rsp = regs.v[reg::kRsp];
  const std::uint64_t fp = regs.v[reg::kRbp];
  std::uint64_t saved_fp, ra;
  if (fp >= rsp && mem.stack_u64(fp, saved_fp) && mem.stack_u64(fp + 8, ra) && is_code(space, ra) &&
      (saved_fp > fp || saved_fp == 0)) {
    caller = regs;
    caller.set(reg::kRa, ra);
    caller.set(reg::kRsp, fp + 16);
    caller.set(reg::kRbp, saved_fp);
    return true;
  }
  if (fp >= rsp && !mem.in_stack(fp, 16) && fp >= mem.base && failure == UnwindEnd::kNoCfi) {
    failure = UnwindEnd::kStackExhausted;
  }
  return false;
}

}  // namespace one_collect::unwind
