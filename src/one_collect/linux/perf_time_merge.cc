#include "one_collect/linux/perf_time_merge.h"

#include <algorithm>

namespace one_collect {

TimeOrderMerger::TimeOrderMerger(PerfRecordParser& parser,
                                 std::function<void(RecordChunk&&)> release)
    : parser_(parser), release_(std::move(release)) {}

void TimeOrderMerger::add_chunk(RecordChunk&& chunk) {
  const std::uint32_t cpu = std::min<std::uint32_t>(chunk.cpu, 4095);
  if (cpu >= cpus_.size()) cpus_.resize(cpu + 1);
  CpuQueue& q = cpus_[cpu];
  Pending p;
  if (!spare_indexes_.empty()) {
    p.index = std::move(spare_indexes_.back());
    spare_indexes_.pop_back();
    p.index.clear();
  }
  ByteSpan bytes(chunk.bytes);
  std::size_t off = 0;
  bool sorted = true;
  std::uint64_t prev = 0;
  while (off + 8 <= bytes.size()) {
    std::uint16_t size = read_at<std::uint16_t>(bytes, off + 6).value_or(0);
    if (size < 8 || size > bytes.size() - off) {
      ++parser_.mutable_stats().malformed;
      break;
    }
    ByteSpan rec = bytes.subspan(off, size);
    std::uint64_t t = parser_.time_of(rec).value_or(q.last_time);
    q.last_time = t;
    if (t < prev) sorted = false;
    prev = t;
    p.index.push_back(Entry{t, static_cast<std::uint32_t>(off), size});
    off += size;
  }
  if (off != bytes.size() && off + 8 > bytes.size()) ++parser_.mutable_stats().malformed;
  if (!sorted) {
    std::stable_sort(p.index.begin(), p.index.end(),
                     [](const Entry& a, const Entry& b) { return a.time < b.time; });
  }
  if (p.index.empty()) {
    spare_indexes_.push_back(std::move(p.index));
    release_(std::move(chunk));
    return;
  }
  pending_records_ += p.index.size();
  p.chunk = std::move(chunk);
  p.chunk.cpu = cpu;
  q.chunks.push_back(std::move(p));
}

void TimeOrderMerger::emit_until(std::uint64_t watermark) {
  constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();
  for (;;) {
    // Oldest and second-oldest heads.
    std::size_t best = cpus_.size();
    std::uint64_t best_time = kNone, second_time = kNone;
    for (std::size_t c = 0; c < cpus_.size(); ++c) {
      const CpuQueue& q = cpus_[c];
      if (q.chunks.empty()) continue;
      const Pending& p = q.chunks.front();
      std::uint64_t t = p.index[p.next].time;
      if (best == cpus_.size() || t < best_time) {
        second_time = best_time;
        best_time = t;
        best = c;
      } else if (t < second_time) {
        second_time = t;
      }
    }
    if (best == cpus_.size() || best_time > watermark) return;
    const std::uint64_t limit = std::min(second_time, watermark);
    CpuQueue& q = cpus_[best];
    // Emit from this CPU while it stays the oldest (ties go to it).
    while (!q.chunks.empty()) {
      Pending& p = q.chunks.front();
      const Entry& e = p.index[p.next];
      if (e.time > limit) break;
      if (e.time < last_emitted_) {
        ++parser_.mutable_stats().out_of_order;
      } else {
        last_emitted_ = e.time;
      }
      parser_.parse(ByteSpan(p.chunk.bytes).subspan(e.offset, e.size), p.chunk.cpu);
      --pending_records_;
      if (++p.next == p.index.size()) {
        spare_indexes_.push_back(std::move(p.index));
        release_(std::move(p.chunk));
        q.chunks.pop_front();
      }
    }
  }
}

}  // namespace one_collect
