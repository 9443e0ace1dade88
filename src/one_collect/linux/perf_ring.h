// PerfRing: one CPU's mmapped perf ring buffer, and draining it.
//
// Draining copies the available records out (so the kernel can reuse the
// space at once) through a DrainPolicy that decides, per sample, whether it
// is kept whole, kept without its user stack copy, or dropped, and counts
// what it did. Non-sample records (mmap, comm, fork, exit, lost...) are
// always kept: consumers cannot rebuild processes without them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/linux/perf_event_abi.h"
#include "one_collect/linux/perf_record_parser.h"

namespace one_collect {

// Finds the PERF_SAMPLE_STACK_USER section of a sample: offset of its `size`
// u64 and the section's total length (size u64 + data + dyn_size u64, or 8
// when empty). Nothing when the layout has no stack or the bytes do not add up.
struct StackSection {
  std::uint32_t offset;
  std::uint32_t length;
};
std::optional<StackSection> find_stack_section(ByteSpan sample, const SampleLayout& layout);

// Appends `sample` to `out` with its stack copy removed (size 0, no data, no
// dyn_size) and the header size fixed. Returns false when there is no stack
// to cut.
bool append_without_stack(ByteSpan sample, const SampleLayout& layout,
                          std::vector<std::uint8_t>& out);

// Appends `sample` to `out` with its user stack copy trimmed to the bytes the
// kernel filled (dyn_size, rounded up to 8), the header size fixed. The copy
// is the requested size (16 KiB by default) whatever the thread's stack
// depth, so most of it is unused: trimming keeps DWARF recordings' queued
// bytes (and memory) to what unwinding reads. A full stack (dyn_size = size,
// the truncation signal) is kept whole. Returns false, appending nothing,
// when there is no stack section or nothing to trim.
bool append_with_trimmed_stack(ByteSpan sample, const SampleLayout& layout,
                               std::vector<std::uint8_t>& out);

class DrainPolicy {
 public:
  virtual ~DrainPolicy() = default;
  enum class Action { kKeep, kCutStack, kDrop };
  // Called for SAMPLE records only.
  virtual Action on_sample(std::uint32_t size) = 0;
  // Layout of a sample (for cutting and trimming its stack), or null.
  virtual const SampleLayout* layout_for(ByteSpan sample) = 0;
};

struct DrainCounts {
  std::uint64_t bytes = 0;
  std::uint64_t records = 0;
  std::uint64_t dropped_samples = 0;
  std::uint64_t cut_stacks = 0;
  std::uint64_t malformed = 0;  // a header size the ring cannot hold; rest skipped
};

class PerfRing {
 public:
  // Maps `data_bytes` (a power-of-two multiple of the page size) plus the
  // control page on `fd`.
  static Result<PerfRing> map(int fd, std::size_t data_bytes, std::uint32_t cpu);
  PerfRing(PerfRing&& other) noexcept;
  PerfRing& operator=(PerfRing&& other) noexcept;
  PerfRing(const PerfRing&) = delete;
  PerfRing& operator=(const PerfRing&) = delete;
  ~PerfRing();

  int fd() const { return fd_; }
  std::uint32_t cpu() const { return cpu_; }
  std::size_t data_bytes() const { return data_size_; }
  bool has_data() const;
  // Copies every available record into `out` (appending), frees the ring
  // space, and adds what it did to `counts`.
  void drain(std::vector<std::uint8_t>& out, DrainPolicy& policy, DrainCounts& counts);

 private:
  PerfRing() = default;
  void copy_out(std::uint64_t pos, std::size_t n, std::uint8_t* dst) const;
  // The n bytes at `pos` where they lie in the ring, or empty when they wrap
  // around its end.
  ByteSpan in_place(std::uint64_t pos, std::size_t n) const;

  int fd_ = -1;
  std::uint32_t cpu_ = 0;
  void* base_ = nullptr;
  std::size_t map_size_ = 0;
  std::uint8_t* data_ = nullptr;
  std::size_t data_size_ = 0;
  std::vector<std::uint8_t> scratch_;
};

// Rounds `bytes` up to a power-of-two number of pages (at least one page).
std::size_t ring_data_bytes(std::size_t bytes);

}  // namespace one_collect
