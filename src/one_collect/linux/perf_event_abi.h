// The perf_events ABI, taken from the kernel's own header (linux-libc-dev),
// plus the few helpers every part of the engine needs: the system call, and
// the layout of the sample fields an attribute asks for.
//
// Nothing here copies a kernel struct by hand: record bodies are read field
// by field at offsets the header's documentation defines (PERF_RECORD_*), so
// a newer header only adds to what we can read.
#pragma once

#include <linux/perf_event.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "one_collect/core/status.h"

namespace one_collect {

// perf_event_open(2). Returns the fd or the errno as a Status whose message
// names `what`.
Result<int> perf_event_open_fd(const perf_event_attr& attr, pid_t pid, int cpu, int group_fd,
                               unsigned long flags, std::string_view what);

// Where the sample fields of one attribute sit, computed once per attribute
// from sample_type/read_format/register masks. Records name their attribute
// by the IDENTIFIER value (first u64 of a SAMPLE, last u64 of the
// sample_id_all trailer of other records).
struct SampleLayout {
  std::uint64_t sample_type = 0;
  std::uint64_t read_format = 0;
  std::uint64_t regs_user_mask = 0;
  std::uint64_t regs_intr_mask = 0;
  std::uint64_t branch_sample_type = 0;
  bool sample_id_all = false;

  // Derived by finish().
  std::uint32_t regs_user_count = 0;
  std::uint32_t regs_intr_count = 0;
  std::uint32_t trailer_size = 0;  // sample_id_all trailer bytes (0 without sample_id_all)
  // Offset of TIME in a SAMPLE record from the record start, or -1 when TIME
  // is absent (or not at a fixed offset, which cannot happen: only
  // IDENTIFIER, IP and TID precede it).
  std::int32_t sample_time_offset = -1;
  // Offsets counted back from the record end of trailer fields, or -1.
  std::int32_t trailer_tid_from_end = -1;
  std::int32_t trailer_time_from_end = -1;
  std::int32_t trailer_id_from_end = -1;
  std::int32_t trailer_stream_id_from_end = -1;
  std::int32_t trailer_cpu_from_end = -1;

  static SampleLayout from_attr(const perf_event_attr& attr);
  void finish();
  bool has(std::uint64_t bit) const { return (sample_type & bit) != 0; }
};

// Name of a PERF_RECORD_* type ("mmap2", "sample"...), "unknown" otherwise.
const char* perf_record_type_name(std::uint32_t type);

}  // namespace one_collect
