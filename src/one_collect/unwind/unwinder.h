// The x86-64 user-space unwinder: (rip, rsp, rbp) + a copy of the user
// stack + the process's mappings at sample time -> return addresses.
//
// Per frame it uses, in order: DWARF CFI of the mapped file (.eh_frame via
// .eh_frame_hdr, then .debug_frame), the frame-pointer chain, and for
// anonymous (JIT) code a scan for a saved frame pointer + return address
// pair. It never emits a return address outside the known mappings, stops
// cleanly at the end of the copied stack, and says why every unwind ended.
// Rows are cached in a direct-mapped cache keyed by (file, address); the
// hot path allocates nothing. The three steps live in cfi_step.h,
// frame_pointer_step.h and jit_scan_step.h (unwind_steps.h); this class
// walks the frames and picks the step for each.
#pragma once

#include <cstdint>
#include <span>

#include "one_collect/process/process_table.h"
#include "one_collect/unwind/cfi.h"
#include "one_collect/unwind/file_unwind_info.h"
#include "one_collect/unwind/stack_unwinder.h"

namespace one_collect::unwind {

struct UnwinderOptions {
  std::size_t max_frames = 256;
  bool jit_scan = true;          // scan anonymous code's stack for fp/ra pairs
  unsigned jit_scan_slots = 64;  // how many stack slots a scan looks at
};

struct RuleCacheStats {
  std::uint64_t lookups = 0;
  std::uint64_t hits = 0;
  double hit_rate() const { return lookups ? static_cast<double>(hits) / lookups : 0.0; }
};

class Unwinder final : public StackUnwinder {
 public:
  static constexpr std::size_t kCacheSlots = 512;

  explicit Unwinder(UnwinderOptions options = {});
  ~Unwinder() override;
  Unwinder(const Unwinder&) = delete;
  Unwinder& operator=(const Unwinder&) = delete;

  // Writes frames (innermost first) into `frames`. Allocates nothing.
  UnwindResult unwind(const AddressSpace& space, const UnwindInput& input,
                      std::span<std::uint64_t> frames) override;

  const RuleCacheStats& cache_stats() const { return stats_; }
  void reset_cache_stats() { stats_ = {}; }

 private:
  struct Slot;
  CfiLookup cached_row(const FileUnwindInfo& info, std::uint64_t vaddr, const Row*& row);

  UnwinderOptions options_;
  Slot* slots_;
  RuleCacheStats stats_;
};

}  // namespace one_collect::unwind
