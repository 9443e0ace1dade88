// The callstack helper: a sample's frames for a CallstackMode
// (core/callstack_mode.h), independent of the perf session types (the
// session passes plain values and spans).
//
//   kNone          the sample IP only.
//   kFramePointer  the kernel's callchain (kernel + user frame-pointer walk).
//   kDwarf         the kernel callchain for the kernel part; user registers
//                  plus a copy of the user stack unwound here by a
//                  StackUnwinder (CFI, frame pointers, JIT scan). The default
//                  on x86-64.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "one_collect/core/bytes.h"
#include "one_collect/core/callstack_mode.h"
#include "one_collect/core/status.h"
#include "one_collect/process/process_table.h"
#include "one_collect/unwind/unwinder.h"

namespace one_collect::unwind {

struct CallstackOptions {
#if defined(__x86_64__)
  CallstackMode mode = CallstackMode::kDwarf;
#else
  CallstackMode mode = CallstackMode::kFramePointer;
#endif
  // Bytes of user stack copied per sample (kernel max 65528; a multiple of 8).
  std::uint32_t stack_size = 16384;
  std::size_t max_frames = 256;
};

// Validates options: kDwarf only on x86-64, stack size in (0, 65528] and a
// multiple of 8.
Status validate(const CallstackOptions& options);

// What the perf_event_attr of a sampled event must request for a mode
// (plain values of the kernel ABI, for the session glue to OR in).
struct PerfSampleRequest {
  std::uint64_t sample_type = 0;       // PERF_SAMPLE_* bits to add
  std::uint64_t sample_regs_user = 0;  // register mask (BP, SP, IP on x86-64)
  std::uint32_t sample_stack_user = 0;
  bool exclude_callchain_user = false;
  bool needs_mmap_tracking = false;  // mmap2 + comm + task records for the process table
};
PerfSampleRequest perf_request(const CallstackOptions& options);

// One sample's stack inputs, as the kernel delivered them.
struct SampleStackInput {
  std::uint32_t pid = 0;
  std::uint64_t time = 0;
  std::uint64_t ip = 0;
  std::span<const std::uint64_t> callchain;  // PERF_SAMPLE_CALLCHAIN entries, markers included
  std::uint64_t regs_abi = 0;                // PERF_SAMPLE_REGS_ABI_*; 0: none (kernel thread)
  std::span<const std::uint64_t> user_regs;  // values in mask order: BP, SP, IP
  ByteSpan user_stack;                       // the copy, already cut to dyn_size
};

struct CallstackResult {
  std::size_t count = 0;          // frames written
  std::size_t kernel_frames = 0;  // the first kernel_frames are kernel addresses
  bool user_unwound = false;      // the DWARF user unwinder ran
  UnwindResult user;              // its result (frames counted in `count`)
};

class CallstackReader {
 public:
  // With the library's Unwinder (CFI, frame pointers, JIT scan) for DWARF mode.
  CallstackReader(const ProcessTable& processes, CallstackOptions options);
  // With `unwinder` for the user part in DWARF mode (null: the library's).
  CallstackReader(const ProcessTable& processes, CallstackOptions options,
                  std::unique_ptr<StackUnwinder> unwinder);

  // Writes the sample's frames, innermost first: kernel frames, then user
  // frames. Allocates nothing.
  CallstackResult read(const SampleStackInput& sample, std::span<std::uint64_t> frames);

  const CallstackOptions& options() const { return options_; }
  StackUnwinder& unwinder() { return *unwinder_; }

 private:
  const ProcessTable& processes_;
  CallstackOptions options_;
  std::unique_ptr<StackUnwinder> unwinder_;
};

}  // namespace one_collect::unwind
