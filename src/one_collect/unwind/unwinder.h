// The x86-64 user-space unwinder: (rip, rsp, rbp) + a copy of the user
// stack + the process's mappings at sample time -> return addresses.
//
// Per frame it uses, in order: DWARF CFI of the mapped file (.eh_frame via
// .eh_frame_hdr, then .debug_frame), the frame-pointer chain, and for
// anonymous (JIT) code a scan for a saved frame pointer + return address
// pair. It never emits a return address outside the known mappings, stops
// cleanly at the end of the copied stack, and says why every unwind ended.
// Rows are cached in a direct-mapped cache keyed by (file, address); the
// hot path allocates nothing.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "one_collect/core/bytes.h"
#include "one_collect/process/process_table.h"
#include "one_collect/unwind/cfi.h"
#include "one_collect/unwind/file_unwind_info.h"

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

class Unwinder {
 public:
  static constexpr std::size_t kCacheSlots = 512;

  explicit Unwinder(UnwinderOptions options = {});
  ~Unwinder();
  Unwinder(const Unwinder&) = delete;
  Unwinder& operator=(const Unwinder&) = delete;

  // Writes frames (innermost first) into `frames`. Allocates nothing.
  UnwindResult unwind(const AddressSpace& space, const UnwindInput& input,
                      std::span<std::uint64_t> frames);

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
