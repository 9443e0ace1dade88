#include "one_collect/linux/perf_ring_reader.h"

#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "one_collect/core/errno_status.h"

namespace one_collect {

void SharedLayouts::add(std::uint64_t id, const SampleLayout& layout) {
  std::lock_guard<std::mutex> lock(mutex_);
  layouts_[id] = layout;
}

bool SharedLayouts::find(std::uint64_t id, SampleLayout& out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = layouts_.find(id);
  if (it == layouts_.end()) return false;
  out = it->second;
  return true;
}

class RingReaderThread::Policy : public DrainPolicy {
 public:
  Policy(const SharedLayouts& layouts, std::size_t limit, std::size_t used)
      : layouts_(layouts), limit_(limit), used_(used) {}
  void add(std::size_t bytes) { used_ += bytes; }
  Action on_sample(std::uint32_t size) override {
    if (used_ + size <= limit_ / 2) return Action::kKeep;
    // The biggest sample without a stack copy is well under 64 KiB.
    if (used_ + (64u << 10) <= limit_) return Action::kCutStack;
    return Action::kDrop;
  }
  const SampleLayout* layout_for(ByteSpan sample) override {
    auto id = read_at<std::uint64_t>(sample, 8);  // IDENTIFIER comes first
    if (!id) return nullptr;
    // Samples of one round mostly share their event: look it up once.
    if (have_layout_ && *id == layout_id_) return &layout_;
    have_layout_ = layouts_.find(*id, layout_);
    layout_id_ = *id;
    return have_layout_ ? &layout_ : nullptr;
  }

 private:
  const SharedLayouts& layouts_;
  std::size_t limit_;
  std::size_t used_;
  SampleLayout layout_;
  std::uint64_t layout_id_ = 0;
  bool have_layout_ = false;
};

RingReaderThread::RingReaderThread(std::vector<PerfRing> rings, const SharedLayouts& layouts,
                                   Options options)
    : rings_(std::move(rings)), layouts_(layouts), options_(options) {}

RingReaderThread::~RingReaderThread() {
  request_stop();
  join();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status RingReaderThread::start() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return errno_status(errno, "epoll_create1");
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return errno_status(errno, "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = ~std::uint64_t{0};
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    return errno_status(errno, "epoll_ctl(eventfd)");
  }
  for (std::size_t i = 0; i < rings_.size(); ++i) {
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, rings_[i].fd(), &ev) != 0) {
      return errno_status(errno,
                          "epoll_ctl(perf ring of cpu " + std::to_string(rings_[i].cpu()) + ")");
    }
  }
  thread_ = std::thread([this] { run(); });
  return ok_status();
}

void RingReaderThread::request_stop() {
  stop_.store(true, std::memory_order_release);
  wake();
}

void RingReaderThread::wake() {
  if (wake_fd_ < 0) return;
  std::uint64_t one = 1;
  ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  (void)n;
}

void RingReaderThread::join() {
  if (thread_.joinable()) thread_.join();
}

void RingReaderThread::run() {
  if (options_.realtime_priority > 0) {
    sched_param param{};
    param.sched_priority = options_.realtime_priority;
    if (::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &param) != 0) {
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), -10);  // best effort
    }
  }
  std::vector<epoll_event> events(rings_.size() + 1);
  while (!stop_.load(std::memory_order_acquire)) {
    int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                         options_.round_timeout_ms);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == ~std::uint64_t{0}) {
        std::uint64_t value;
        ssize_t r = ::read(wake_fd_, &value, sizeof(value));
        (void)r;
      } else if (events[i].events & (EPOLLHUP | EPOLLERR)) {
        // The monitored tasks are gone: the fd stays readable-with-HUP
        // forever, so stop watching it (its ring is still drained each round).
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, rings_[events[i].data.u64].fd(), nullptr);
      }
    }
    round(false);
  }
  round(true);
}

void RingReaderThread::round(bool final) {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  RecordBatch batch;
  batch.round_time = static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull +
                     static_cast<std::uint64_t>(ts.tv_nsec);
  batch.final = final;
  Policy policy(layouts_, options_.buffer_bytes, used_.load(std::memory_order_relaxed));
  for (PerfRing& ring : rings_) {
    if (!ring.has_data()) continue;
    RecordChunk chunk;
    chunk.cpu = ring.cpu();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!pool_.empty()) {
        chunk.bytes = std::move(pool_.back());
        pool_.pop_back();
      }
    }
    chunk.bytes.clear();
    DrainCounts counts;
    ring.drain(chunk.bytes, policy, counts);
    policy.add(chunk.bytes.size());
    used_.fetch_add(chunk.bytes.size(), std::memory_order_relaxed);
    if (counts.dropped_samples != 0 || counts.cut_stacks != 0 || counts.malformed != 0) {
      batch.drops.push_back(
          {ring.cpu(), counts.dropped_samples, counts.cut_stacks, counts.malformed});
    }
    batch.chunks.push_back(std::move(chunk));
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(batch));
  }
  ready_.notify_one();
}

bool RingReaderThread::pop(RecordBatch& out, std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!ready_.wait_for(lock, wait, [this] { return !queue_.empty(); })) return false;
  out = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

void RingReaderThread::release(RecordChunk&& chunk) {
  used_.fetch_sub(chunk.bytes.size(), std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mutex_);
  if (pool_.size() < 64) pool_.push_back(std::move(chunk.bytes));
}

}  // namespace one_collect
