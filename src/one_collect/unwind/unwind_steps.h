// What the three ways Unwinder finds a frame's caller share: the registers
// and the target's memory. Internal header. The steps, one header each:
//
//   cfi_step            evaluate the DWARF CFI row covering the pc
//                       (cfi_step.h)
//   frame_pointer_step  follow [rbp] = caller's rbp, [rbp + 8] = return
//                       address (frame_pointer_step.h)
//   jit_scan_step       in anonymous (JIT) code, scan the stack for a saved
//                       frame pointer + return address pair (jit_scan_step.h)
//
// Each writes the caller's registers into `caller` and says whether it
// stepped. None allocates. They are inline: they run once per frame, and the
// unwinder's loop compiles as one function, as fast as with the steps written
// in place.
#pragma once

#include <cstdint>
#include <cstring>

#include "one_collect/core/bytes.h"
#include "one_collect/process/process_table.h"
#include "one_collect/unwind/cfi.h"
#include "one_collect/unwind/file_unwind_info.h"
#include "one_collect/unwind/stack_unwinder.h"

namespace one_collect::unwind {

// Register values by DWARF number, with a bit per known value.
struct Regs {
  std::uint64_t v[reg::kCount];
  std::uint32_t valid = 0;
  bool has(unsigned r) const { return (valid >> r) & 1u; }
  void set(unsigned r, std::uint64_t value) {
    v[r] = value;
    valid |= 1u << r;
  }
  void clear(unsigned r) { valid &= ~(1u << r); }
};

// Reads target memory: the stack copy first, then bytes of a mapped file.
struct TargetMemory {
  ByteSpan stack;
  std::uint64_t base;  // address of stack[0]
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
  // For the DWARF expression evaluator.
  static bool read_fn(void* ctx, std::uint64_t addr, std::uint64_t* out) {
    return static_cast<const TargetMemory*>(ctx)->any_u64(addr, *out);
  }
};

inline bool is_code(const AddressSpace& space, std::uint64_t addr) {
  const Mapping* m = space.find(addr);
  return m != nullptr && m->executable;
}

}  // namespace one_collect::unwind
