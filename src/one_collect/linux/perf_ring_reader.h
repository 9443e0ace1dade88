// RingReaderThread: drains every CPU's ring promptly on its own thread, so a
// slow consumer (unwinding, symbolizing, exporting) never makes the kernel
// drop records.
//
// The thread sleeps in epoll_wait on the ring fds (the kernel wakes it when a
// ring passes its wakeup_watermark) with a timeout that bounds latency when
// little is happening; it never sleeps for a fixed time. Each wake-up is a
// "round": read CLOCK_MONOTONIC, then copy every ring's records into per-CPU
// chunks, and queue them as one batch stamped with that time (see
// perf_time_merge.h for why the stamp makes time ordering safe).
//
// The queue is bounded by bytes (simpleperf's RecordReadThread idea). When
// it is more than half full, samples lose their user stack copy; when a
// sample would not fit at all, it is dropped. Both are counted per CPU.
// Non-sample records are always kept, over the bound if need be.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "one_collect/linux/perf_ring.h"
#include "one_collect/linux/perf_time_merge.h"

namespace one_collect {

// Layouts by sample id, shared with the reader thread (used only to cut
// stacks, so the lock is taken only under pressure).
class SharedLayouts {
 public:
  void add(std::uint64_t id, const SampleLayout& layout);
  bool find(std::uint64_t id, SampleLayout& out) const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, SampleLayout> layouts_;
};

struct RecordBatch {
  std::uint64_t round_time = 0;  // CLOCK_MONOTONIC ns read before the rings
  bool final = false;            // the last batch: the reader has stopped
  std::vector<RecordChunk> chunks;
  // What the drain policy did in this round, per CPU index of `chunks`.
  struct CpuDrops {
    std::uint32_t cpu;
    std::uint64_t dropped_samples;
    std::uint64_t cut_stacks;
    std::uint64_t malformed;
  };
  std::vector<CpuDrops> drops;
};

class RingReaderThread {
 public:
  struct Options {
    std::size_t buffer_bytes = 64u << 20;  // bound of queued bytes
    int round_timeout_ms = 50;             // longest wait without a watermark wake-up
    // SCHED_FIFO priority for the reader (0: leave the default). Draining is
    // a little work that must happen on time: a real-time reader keeps
    // draining when every CPU is busy. Silently skipped when not permitted.
    int realtime_priority = 1;
  };

  RingReaderThread(std::vector<PerfRing> rings, const SharedLayouts& layouts, Options options);
  ~RingReaderThread();
  RingReaderThread(const RingReaderThread&) = delete;
  RingReaderThread& operator=(const RingReaderThread&) = delete;

  Status start();
  // Asks for one last round and the end of the thread; returns at once.
  void request_stop();
  // Asks for a round now (e.g. after disabling the events).
  void wake();
  void join();

  // Consumer side. Waits up to `wait` for a batch.
  bool pop(RecordBatch& out, std::chrono::milliseconds wait);
  // Gives a parsed chunk back (its bytes leave the budget; its memory is reused).
  void release(RecordChunk&& chunk);
  std::size_t queued_bytes() const { return used_.load(std::memory_order_relaxed); }

 private:
  class Policy;
  void run();
  void round(bool final);

  std::vector<PerfRing> rings_;
  const SharedLayouts& layouts_;
  Options options_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> used_{0};

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<RecordBatch> queue_;
  std::vector<std::vector<std::uint8_t>> pool_;
};

}  // namespace one_collect
