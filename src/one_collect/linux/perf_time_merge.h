// Time order across CPUs.
//
// Records arrive as per-CPU chunks, each tagged with the round it was read
// in. A round starts by reading CLOCK_MONOTONIC (the clock our events stamp
// with, via use_clockid), then drains every ring. A record stamped before
// that reading was, by the time the round read its ring, already written,
// except for one still being written: the kernel stamps a record a few
// microseconds before it copies it into the ring. So after a whole round is
// in, everything stamped before (round start - slack) can be emitted in
// order: no later round can bring an older record. The slack (default 10 ms)
// covers the stamp-to-write gap, generously for a guest whose vCPU can be
// descheduled in between; a record older than what was already emitted is
// still delivered, and counted in PerfParseStats::out_of_order.
//
// Cost: records wait for one round plus the slack (memory = rate x that
// time), plus per chunk an index of (time, offset), sorted only when a ring
// holds out-of-order stamps. Merging picks the CPU with the oldest head and
// emits from it until its head passes the second-oldest: O(CPUs) per run,
// not per record.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <vector>

#include "one_collect/linux/perf_record_parser.h"

namespace one_collect {

// Whole records, copied from one CPU's ring (or a file).
struct RecordChunk {
  std::uint32_t cpu = 0;
  std::vector<std::uint8_t> bytes;
  std::size_t tag = 0;  // free for the chunk's owner (e.g. a replay slot)
};

class TimeOrderMerger {
 public:
  // `release` gets each chunk back once all its records were parsed (to
  // recycle its memory and return its bytes to the reader's budget).
  TimeOrderMerger(PerfRecordParser& parser, std::function<void(RecordChunk&&)> release);

  // Indexes a chunk's records. A record whose size does not fit ends the
  // chunk (counted as malformed: a ring cannot be resynchronised).
  void add_chunk(RecordChunk&& chunk);
  // Parses, in time order, every pending record stamped at or before
  // `watermark`.
  void emit_until(std::uint64_t watermark);
  void emit_all() { emit_until(std::numeric_limits<std::uint64_t>::max()); }
  std::size_t pending_records() const { return pending_records_; }

 private:
  struct Entry {
    std::uint64_t time;
    std::uint32_t offset;
    std::uint32_t size;
  };
  struct Pending {
    RecordChunk chunk;
    std::vector<Entry> index;
    std::size_t next = 0;
  };
  struct CpuQueue {
    std::deque<Pending> chunks;
    std::uint64_t last_time = 0;  // for records without a time
  };

  PerfRecordParser& parser_;
  std::function<void(RecordChunk&&)> release_;
  std::vector<CpuQueue> cpus_;
  std::vector<std::vector<Entry>> spare_indexes_;
  std::uint64_t last_emitted_ = 0;
  std::size_t pending_records_ = 0;
};

}  // namespace one_collect
