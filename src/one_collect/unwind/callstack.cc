#include "one_collect/unwind/callstack.h"

#include <linux/perf_event.h>

namespace one_collect::unwind {

Status validate(const CallstackOptions& options) {
  if (options.mode == CallstackMode::kDwarf) {
#if !defined(__x86_64__)
    return error(ErrorCode::kUnsupported, "DWARF user-space unwinding is x86-64 only");
#endif
    if (options.stack_size == 0 || options.stack_size > 65528 || options.stack_size % 8 != 0) {
      return error(ErrorCode::kInvalidArgument,
                   "stack copy size must be a multiple of 8 in (0, 65528], got " +
                       std::to_string(options.stack_size));
    }
  }
  if (options.max_frames == 0) return error(ErrorCode::kInvalidArgument, "max_frames is 0");
  return Status();
}

PerfSampleRequest perf_request(const CallstackOptions& options) {
  PerfSampleRequest r;
  switch (options.mode) {
    case CallstackMode::kNone:
      r.sample_type = PERF_SAMPLE_IP;
      break;
    case CallstackMode::kFramePointer:
      r.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_CALLCHAIN;
      break;
    case CallstackMode::kDwarf:
      r.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_REGS_USER |
                      PERF_SAMPLE_STACK_USER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME;
      r.sample_regs_user = (1ull << 6) | (1ull << 7) | (1ull << 8);  // PERF_REG_X86_BP/SP/IP
      r.sample_stack_user = options.stack_size;
      r.exclude_callchain_user = true;
      r.needs_mmap_tracking = true;
      break;
  }
  return r;
}

CallstackReader::CallstackReader(const ProcessTable& processes, CallstackOptions options)
    : CallstackReader(processes, options, nullptr) {}

CallstackReader::CallstackReader(const ProcessTable& processes, CallstackOptions options,
                                 std::unique_ptr<StackUnwinder> unwinder)
    : processes_(processes), options_(options), unwinder_(std::move(unwinder)) {
  if (!unwinder_) {
    unwinder_ = std::make_unique<Unwinder>(UnwinderOptions{options.max_frames, true, 64});
  }
}

CallstackResult CallstackReader::read(const SampleStackInput& sample,
                                      std::span<std::uint64_t> frames) {
  CallstackResult result;
  std::size_t limit = frames.size() < options_.max_frames ? frames.size() : options_.max_frames;
  std::size_t n = 0;
  switch (options_.mode) {
    case CallstackMode::kNone:
      if (limit > 0) frames[n++] = sample.ip;
      break;
    case CallstackMode::kFramePointer:
    case CallstackMode::kDwarf: {
      // The kernel's chain; markers (PERF_CONTEXT_*) are the top 4095 values.
      bool in_user = false;
      for (std::uint64_t a : sample.callchain) {
        if (a >= static_cast<std::uint64_t>(-4095)) {
          in_user = a == PERF_CONTEXT_USER;
          continue;
        }
        if (n >= limit) break;
        frames[n++] = a;
        if (!in_user) ++result.kernel_frames;
      }
      if (sample.callchain.empty() && limit > 0 && options_.mode == CallstackMode::kFramePointer) {
        frames[n++] = sample.ip;
      }
      if (options_.mode == CallstackMode::kDwarf && sample.regs_abi != PERF_SAMPLE_REGS_ABI_NONE &&
          sample.user_regs.size() >= 3 && n < limit) {
        UnwindInput in;
        in.rbp = sample.user_regs[0];
        in.rsp = sample.user_regs[1];
        in.rip = sample.user_regs[2];
        in.stack = sample.user_stack;
        in.stack_base = in.rsp;
        auto space = processes_.view(sample.pid, sample.time);
        result.user = unwinder_->unwind(space, in, frames.subspan(n, limit - n));
        result.user_unwound = true;
        n += result.user.count;
      }
      break;
    }
  }
  // Below kernel frames, the first user frame is where the thread entered the
  // kernel (a trap, a fault, an interrupt, a syscall): an exact address, not
  // a return address. It is recorded one byte on, as the unwinder records
  // frames interrupted by signals, so that caller-frame lookups (address - 1)
  // name it exactly even when it is a function's first byte.
  if (result.kernel_frames > 0 && n > result.kernel_frames) ++frames[result.kernel_frames];
  result.count = n;
  return result;
}

}  // namespace one_collect::unwind
