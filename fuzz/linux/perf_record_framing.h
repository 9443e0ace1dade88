// The input framing of perf_record_fuzzer, shared with the corpus writer so
// that the seeds it writes are read exactly as the fuzzer reads them.
//
// An input is 24 bytes of attribute layout, then perf records:
//   u64 sample_type   (PERF_SAMPLE_* bits 0..24)
//   u64 flags         bits 0..4: read_format; bit 5: branch stacks carry
//                     hw_idx; bit 6: sample_id_all
//   u64 regs          regs_user_mask; regs_intr_mask is regs >> 7
// Records whose IDENTIFIER is kSampleId go to a plain sample Event, those
// with kRawId to an Event that gets the RAW payload (a tracepoint).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "one_collect/linux/perf_event_abi.h"

namespace one_collect::fuzz {

inline constexpr std::size_t kLayoutHeaderBytes = 24;
inline constexpr std::uint64_t kSampleId = 1;
inline constexpr std::uint64_t kRawId = 2;

inline SampleLayout decode_layout_header(const std::uint8_t* header) {
  std::uint64_t sample_type, flags, regs;
  std::memcpy(&sample_type, header, 8);
  std::memcpy(&flags, header + 8, 8);
  std::memcpy(&regs, header + 16, 8);
  SampleLayout layout;
  layout.sample_type = sample_type & ((std::uint64_t{1} << 25) - 1);
  layout.read_format = flags & 0x1F;
  layout.regs_user_mask = regs;
  layout.regs_intr_mask = regs >> 7;
  layout.branch_sample_type = (flags & 0x20) ? PERF_SAMPLE_BRANCH_HW_INDEX : 0;
  layout.sample_id_all = (flags & 0x40) != 0;
  return layout;
}

// The header of a real attribute's layout. It round-trips through
// decode_layout_header for every layout without PERF_SAMPLE_REGS_INTR (whose
// mask the framing derives from the user one).
inline void encode_layout_header(const SampleLayout& layout, std::uint8_t* header) {
  const std::uint64_t flags =
      (layout.read_format & 0x1F) |
      ((layout.branch_sample_type & PERF_SAMPLE_BRANCH_HW_INDEX) ? 0x20 : 0) |
      (layout.sample_id_all ? 0x40 : 0);
  std::memcpy(header, &layout.sample_type, 8);
  std::memcpy(header + 8, &flags, 8);
  std::memcpy(header + 16, &layout.regs_user_mask, 8);
}

}  // namespace one_collect::fuzz
