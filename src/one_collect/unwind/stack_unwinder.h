// StackUnwinder: the user-space unwinder as its users see it. One sample's
// registers (rip, rsp, rbp) and copy of the user stack, plus the process's
// mappings at sample time, in; return addresses and why the walk ended, out.
//
// The library's implementation is Unwinder (unwind/unwinder.h: CFI, frame
// pointers, JIT scan). CallstackReader and LinuxExportSession take any
// StackUnwinder, so tests can plug in a fake.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "one_collect/core/bytes.h"
#include "one_collect/process/process_table.h"

namespace one_collect::unwind {

enum class UnwindEnd : std::uint8_t {
  kEndOfStack = 0,   // the return address is undefined (DW_CFA_undefined) or 0: complete
  kOutsideMappings,  // the next address lies in no known mapping
  kNoCfi,            // no CFI for the address, and frame pointers did not help
  kBadCfi,           // CFI exists but is malformed or uses what we cannot evaluate
  kBadCfa,           // the CFA is unknown or does not move up the stack
  kStackExhausted,   // a needed read lies beyond the copied stack (copy too small)
  kMaxDepth,         // the frame limit was reached
  kJitNotFound,      // in anonymous code, neither frame pointer nor scan found a caller
  kNoRegisters,      // the sample had no usable registers
};
std::string_view unwind_end_name(UnwindEnd end);

struct UnwindInput {
  std::uint64_t rip = 0;
  std::uint64_t rsp = 0;
  std::uint64_t rbp = 0;
  ByteSpan stack;                // the copied user stack
  std::uint64_t stack_base = 0;  // address of stack[0] (the sample's rsp for perf)
};

struct UnwindResult {
  std::size_t count = 0;  // frames written (the first is rip)
  UnwindEnd end = UnwindEnd::kEndOfStack;
  std::uint16_t dwarf_frames = 0;
  std::uint16_t fp_frames = 0;
  std::uint16_t scan_frames = 0;
};

class StackUnwinder {
 public:
  virtual ~StackUnwinder() = default;

  // Writes frames (innermost first) into `frames`, at most frames.size().
  // Called once per sample: implementations should allocate nothing.
  virtual UnwindResult unwind(const AddressSpace& space, const UnwindInput& input,
                              std::span<std::uint64_t> frames) = 0;
};

}  // namespace one_collect::unwind
