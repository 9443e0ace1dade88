#include "one_collect/linux/perf_session.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "one_collect/core/errno_status.h"
#include "one_collect/linux/procfs.h"

namespace one_collect {

Result<std::vector<int>> online_cpus() {
  std::ifstream in("/sys/devices/system/cpu/online");
  std::string text;
  std::vector<int> cpus;
  if (in && std::getline(in, text)) {
    std::stringstream ss(text);
    std::string part;
    while (std::getline(ss, part, ',')) {
      int a = 0, b = 0;
      if (std::sscanf(part.c_str(), "%d-%d", &a, &b) == 2) {
        for (int c = a; c <= b && c < 65536; ++c) cpus.push_back(c);
      } else if (std::sscanf(part.c_str(), "%d", &a) == 1) {
        cpus.push_back(a);
      }
    }
  }
  if (cpus.empty()) {
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    for (long c = 0; c < n; ++c) cpus.push_back(static_cast<int>(c));
  }
  if (cpus.empty()) return error(ErrorCode::kIo, "cannot tell which CPUs are online");
  return cpus;
}

// ---------------------------------------------------------------- builder

RingBufSessionBuilder& RingBufSessionBuilder::with_options(const PerfSessionOptions& options) {
  options_ = options;
  return *this;
}
RingBufSessionBuilder& RingBufSessionBuilder::with_ring_bytes(std::size_t bytes) {
  options_.ring_bytes = bytes;
  return *this;
}
RingBufSessionBuilder& RingBufSessionBuilder::with_user_buffer_bytes(std::size_t bytes) {
  options_.user_buffer_bytes = bytes;
  return *this;
}
RingBufSessionBuilder& RingBufSessionBuilder::with_target_pid(pid_t pid) {
  pids_.push_back(pid);
  return *this;
}
RingBufSessionBuilder& RingBufSessionBuilder::with_command(std::vector<std::string> argv) {
  command_ = std::move(argv);
  return *this;
}
RingBufSessionBuilder& RingBufSessionBuilder::with_cgroup(std::string cgroup_dir) {
  cgroup_ = std::move(cgroup_dir);
  return *this;
}
RingBufSessionBuilder& RingBufSessionBuilder::with_kernel_events(KernelRecordOptions options) {
  kernel_ = options;
  return *this;
}
RingBufSessionBuilder& RingBufSessionBuilder::with_stacks(StackOptions stacks) {
  stacks_ = stacks;
  return *this;
}
RingBufSessionBuilder& RingBufSessionBuilder::with_cpu_sampling(std::uint64_t frequency) {
  cpu_sampling_ = cpu_clock_spec(frequency);
  return *this;
}
RingBufSessionBuilder& RingBufSessionBuilder::with_cpu_sampling(PerfEventSpec spec) {
  cpu_sampling_ = std::move(spec);
  return *this;
}
RingBufSessionBuilder& RingBufSessionBuilder::with_cswitch_sampling() {
  cswitch_sampling_ = true;
  return *this;
}
RingBufSessionBuilder& RingBufSessionBuilder::with_event(PerfEventSpec spec, Event event) {
  events_.emplace_back(std::move(spec), std::move(event));
  return *this;
}

Result<std::unique_ptr<PerfSession>> RingBufSessionBuilder::build() {
  int kinds = (!pids_.empty() ? 1 : 0) + (!command_.empty() ? 1 : 0) + (!cgroup_.empty() ? 1 : 0);
  if (kinds > 1) {
    return error(ErrorCode::kInvalidArgument,
                 "a session targets pids, a command or a cgroup, not several of these");
  }
  if (stacks_.user_stack_bytes > kMaxUserStackBytes) {
    return error(ErrorCode::kInvalidArgument, "user stack copy of " +
                                                  std::to_string(stacks_.user_stack_bytes) +
                                                  " bytes is over the kernel's maximum of 65528");
  }
  std::unique_ptr<PerfSession> s(new PerfSession());
  s->options_ = options_;
  if (s->options_.ring_bytes == 0) {
    bool stack_copies = stacks_.user_stack_bytes != 0;
    for (auto& [spec, event] : events_) {
      stack_copies |= spec.stacks && spec.stacks->user_stack_bytes != 0;
    }
    if (cpu_sampling_ && cpu_sampling_->stacks) {
      stack_copies |= cpu_sampling_->stacks->user_stack_bytes != 0;
    }
    s->options_.ring_bytes = stack_copies ? (8u << 20) : (1u << 20);
  }
  s->stacks_ = stacks_;
  s->stacks_.user_stack_bytes &= ~7u;  // the kernel wants a multiple of 8
  OC_ASSIGN_OR_RETURN(s->cpus_, online_cpus());

  if (!pids_.empty()) {
    for (pid_t pid : pids_) {
      auto tids = list_threads(pid);
      if (!tids.ok())
        return std::move(tids).status().with_context("target pid " + std::to_string(pid));
      for (int tid : *tids) s->targets_.push_back({tid, 0, true, false});
    }
  } else if (!cgroup_.empty()) {
    s->cgroup_fd_ = ::open(cgroup_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->cgroup_fd_ < 0) return errno_status(errno, "opening cgroup directory " + cgroup_);
    s->targets_.push_back({s->cgroup_fd_, PERF_FLAG_PID_CGROUP, false, false});
  } else if (!command_.empty()) {
    // The child waits on a pipe until enable(), then execs: the events are
    // opened on it meanwhile and switch on at exec (enable_on_exec).
    int go[2];
    if (::pipe2(go, O_CLOEXEC) != 0) return errno_status(errno, "pipe2");
    std::vector<char*> argv;
    for (std::string& a : command_) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t child = ::fork();
    if (child < 0) {
      int err = errno;
      ::close(go[0]);
      ::close(go[1]);
      return errno_status(err, "fork");
    }
    if (child == 0) {
      ::close(go[1]);
      char c;
      if (::read(go[0], &c, 1) != 1) ::_exit(127);  // the session went away
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(go[0]);
    s->child_ = child;
    s->go_fd_ = go[1];
    s->targets_.push_back({child, 0, true, true});
  } else {
    s->targets_.push_back({-1, 0, false, false});
  }

  OC_RETURN_IF_ERROR(s->open_leaders(kernel_));
  if (cpu_sampling_) {
    OC_ASSIGN_OR_RETURN(
        s->cpu_profile_,
        s->open_event(*cpu_sampling_, std::make_unique<Event>(1, cpu_sampling_->name)));
  }
  if (cswitch_sampling_) {
    OC_ASSIGN_OR_RETURN(
        s->cswitch_profile_,
        s->open_event(context_switch_spec(), std::make_unique<Event>(2, "context-switches")));
  }
  for (auto& [spec, event] : events_) {
    OC_RETURN_IF_ERROR(s->open_event(spec, std::make_unique<Event>(std::move(event))).status());
  }
  events_.clear();

  PerfSession* raw = s.get();
  s->merger_ = std::make_unique<TimeOrderMerger>(
      s->parser_, [raw](RecordChunk&& chunk) { raw->reader_->release(std::move(chunk)); });
  RingReaderThread::Options ro;
  ro.buffer_bytes = options_.user_buffer_bytes;
  ro.round_timeout_ms = options_.round_timeout_ms;
  ro.realtime_priority = options_.reader_realtime_priority;
  s->reader_ =
      std::make_unique<RingReaderThread>(std::move(s->pending_rings_), s->shared_layouts_, ro);
  OC_RETURN_IF_ERROR(s->reader_->start());
  return s;
}

// ---------------------------------------------------------------- session

PerfSession::PerfSession() = default;

PerfSession::~PerfSession() {
  if (reader_) {
    reader_->request_stop();
    reader_->join();
  }
  reader_.reset();  // unmaps the rings
  for (int fd : fds_) ::close(fd);
  if (go_fd_ >= 0) ::close(go_fd_);
  if (child_ > 0 && !child_status_) {
    ::kill(child_, SIGKILL);
    int status = 0;
    ::waitpid(child_, &status, 0);
  }
  if (cgroup_fd_ >= 0) ::close(cgroup_fd_);
}

perf_event_attr PerfSession::base_attr() const {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.disabled = 1;
  attr.sample_id_all = 1;
  attr.use_clockid = 1;
  attr.clockid = CLOCK_MONOTONIC;
  attr.exclude_hv = 1;
  attr.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
  return attr;
}

void PerfSession::apply_stacks(perf_event_attr& attr, const StackOptions& stacks) const {
  if (stacks.callchain) {
    attr.sample_type |= PERF_SAMPLE_CALLCHAIN;
    attr.exclude_callchain_kernel = stacks.exclude_kernel_callchain ? 1 : 0;
    attr.exclude_callchain_user = stacks.exclude_user_callchain ? 1 : 0;
  }
  if (stacks.user_regs) {
    attr.sample_type |= PERF_SAMPLE_REGS_USER;
    attr.sample_regs_user = default_user_regs_mask();
  }
  if (stacks.user_stack_bytes != 0) {
    attr.sample_type |= PERF_SAMPLE_STACK_USER;
    attr.sample_stack_user = std::min(stacks.user_stack_bytes, kMaxUserStackBytes) & ~7u;
  }
}

Status PerfSession::open_leaders(const std::optional<KernelRecordOptions>& kernel) {
  perf_event_attr attr = base_attr();
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_DUMMY;
  attr.sample_period = 1;
  if (kernel) {
    attr.mmap = kernel->mmap ? 1 : 0;
    attr.mmap2 = kernel->mmap ? 1 : 0;
    attr.build_id = (kernel->mmap && kernel->build_id) ? 1 : 0;
    attr.comm = kernel->comm ? 1 : 0;
    attr.comm_exec = kernel->comm ? 1 : 0;
    attr.task = kernel->task ? 1 : 0;
    attr.context_switch = kernel->context_switch ? 1 : 0;
    attr.ksymbol = kernel->ksymbol ? 1 : 0;
    attr.namespaces = kernel->namespaces ? 1 : 0;
    attr.cgroup = kernel->cgroup ? 1 : 0;
  }
  // Wake the reader when a quarter of the ring is used.
  const std::size_t ring = ring_data_bytes(options_.ring_bytes);
  attr.watermark = 1;
  attr.wakeup_watermark = static_cast<std::uint32_t>(std::max<std::size_t>(ring / 4, 1));
  const SampleLayout* layout = parser_.add_layout(SampleLayout::from_attr(attr));
  parser_.set_default_layout(layout);

  leader_fds_.assign(cpus_.size(), -1);
  for (std::size_t i = 0; i < cpus_.size(); ++i) {
    for (const Target& t : targets_) {
      attr.inherit = t.inherit ? 1 : 0;
      attr.enable_on_exec = t.enable_on_exec ? 1 : 0;
      auto fd = perf_event_open_fd(attr, t.pid, cpus_[i], -1, t.flags, "kernel records (dummy)");
      if (!fd.ok()) {
        if (fd.status().code() == ErrorCode::kNotFound && t.pid > 0 && t.flags == 0) {
          continue;  // a thread that exited meanwhile
        }
        return std::move(fd).status();
      }
      fds_.push_back(*fd);
      if (t.enable_on_exec) exec_enabled_fds_.push_back(*fd);
      if (leader_fds_[i] < 0) {
        leader_fds_[i] = *fd;
        OC_ASSIGN_OR_RETURN(PerfRing r, PerfRing::map(*fd, options_.ring_bytes,
                                                      static_cast<std::uint32_t>(cpus_[i])));
        pending_rings_.push_back(std::move(r));
      } else if (::ioctl(*fd, PERF_EVENT_IOC_SET_OUTPUT, leader_fds_[i]) != 0) {
        return errno_status(
            errno, "redirecting kernel records to the ring of cpu " + std::to_string(cpus_[i]));
      }
      std::uint64_t id = 0;
      if (::ioctl(*fd, PERF_EVENT_IOC_ID, &id) != 0)
        return errno_status(errno, "PERF_EVENT_IOC_ID");
      parser_.add_id(id, layout, nullptr, false);
      shared_layouts_.add(id, *layout);
    }
    if (leader_fds_[i] < 0) {
      return error(ErrorCode::kNotFound, "no target could be opened (all exited?)");
    }
  }
  return ok_status();
}

Status PerfSession::open_on_all(perf_event_attr& attr, const PerfEventSpec& spec,
                                const SampleLayout* layout, Event* event, bool raw_payload) {
  std::vector<int> opened;
  auto fail = [&](Status s) {
    for (int fd : opened) {
      ::close(fd);
      fds_.pop_back();
    }
    return s;
  };
  for (std::size_t i = 0; i < cpus_.size(); ++i) {
    for (const Target& t : targets_) {
      attr.inherit = t.inherit ? 1 : 0;
      attr.enable_on_exec = t.enable_on_exec ? 1 : 0;
      auto fd = perf_event_open_fd(attr, t.pid, cpus_[i], -1, t.flags, spec.name);
      if (!fd.ok()) {
        if (fd.status().code() == ErrorCode::kNotFound && t.pid > 0 && t.flags == 0 &&
            attr.type != PERF_TYPE_HARDWARE) {
          continue;
        }
        return fail(std::move(fd).status());
      }
      opened.push_back(*fd);
      fds_.push_back(*fd);
      if (::ioctl(*fd, PERF_EVENT_IOC_SET_OUTPUT, leader_fds_[i]) != 0) {
        return fail(errno_status(errno, "redirecting '" + spec.name + "' to the ring of cpu " +
                                            std::to_string(cpus_[i])));
      }
      std::uint64_t id = 0;
      if (::ioctl(*fd, PERF_EVENT_IOC_ID, &id) != 0) {
        return fail(errno_status(errno, "PERF_EVENT_IOC_ID"));
      }
      parser_.add_id(id, layout, event, raw_payload);
      shared_layouts_.add(id, *layout);
    }
  }
  for (int fd : opened) {
    if (attr.enable_on_exec) exec_enabled_fds_.push_back(fd);
    if (enabled_ && ::ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
      return errno_status(errno, "enabling '" + spec.name + "'");
    }
  }
  return ok_status();
}

Result<Event*> PerfSession::open_event(PerfEventSpec spec, std::unique_ptr<Event> event) {
  if (finished_ || stopping_) {
    return error(ErrorCode::kInvalidArgument, "the session has ended: no events can be added");
  }
  perf_event_attr attr = base_attr();
  attr.type = spec.type;
  attr.config = spec.config;
  attr.config1 = spec.config1;
  attr.config2 = spec.config2;
  if (!spec.probe_path.empty()) {
    // uprobe PMU: config1 points to the path (kprobe PMU: to the symbol).
    attr.config1 = reinterpret_cast<std::uint64_t>(spec.probe_path.c_str());
  }
  if (spec.frequency != 0) {
    attr.freq = 1;
    attr.sample_freq = spec.frequency;
  } else {
    attr.sample_period = spec.period;
  }
  const bool sampler = !spec.raw_payload && spec.probe_path.empty();
  attr.sample_type |= PERF_SAMPLE_IP;
  if (sampler) attr.sample_type |= PERF_SAMPLE_PERIOD;
  if (spec.raw_payload) attr.sample_type |= PERF_SAMPLE_RAW;
  StackOptions stacks = spec.stacks.value_or(stacks_);
  if (event->no_callstack()) stacks = StackOptions{};
  if (stacks.user_stack_bytes > kMaxUserStackBytes) {
    return error(ErrorCode::kInvalidArgument, "user stack copy over 65528 bytes");
  }
  apply_stacks(attr, stacks);

  const SampleLayout* layout = parser_.add_layout(SampleLayout::from_attr(attr));
  Status st = open_on_all(attr, spec, layout, event.get(), spec.raw_payload);
  if (!st.ok() && spec.fallback_to_cpu_clock && st.code() == ErrorCode::kUnsupported) {
    notes_.push_back("no hardware PMU (virtualized): '" + spec.name +
                     "' sampling uses cpu-clock instead");
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    st = open_on_all(attr, spec, layout, event.get(), spec.raw_payload);
  }
  if (!st.ok()) return std::move(st).with_context("opening event '" + spec.name + "'");
  events_.push_back(std::move(event));
  return events_.back().get();
}

Event* PerfSession::find_event(std::string_view name) {
  for (auto& e : events_) {
    if (e->name() == name) return e.get();
  }
  return nullptr;
}

Result<Event*> PerfSession::add_event(PerfEventSpec spec, Event event) {
  return open_event(std::move(spec), std::make_unique<Event>(std::move(event)));
}

Result<Event*> PerfSession::add_tracepoint(const TracepointFormat& tp) {
  auto event = std::make_unique<Event>(tp.id, tp.system + ":" + tp.name);
  event->format() = tp.format;
  return open_event(tracepoint_spec(tp.system + ":" + tp.name, tp.id), std::move(event));
}

Result<Event*> PerfSession::add_tracepoint(std::string_view system_and_name) {
  auto sep = system_and_name.find_first_of(":/");
  if (sep == std::string_view::npos || sep == 0 || sep + 1 == system_and_name.size()) {
    return error(ErrorCode::kInvalidArgument,
                 "tracepoint '" + std::string(system_and_name) + "' is not 'system:name'");
  }
  OC_ASSIGN_OR_RETURN(Tracefs tracefs, Tracefs::open());
  OC_ASSIGN_OR_RETURN(
      TracepointFormat tp,
      tracefs.load_tracepoint(system_and_name.substr(0, sep), system_and_name.substr(sep + 1)));
  return add_tracepoint(tp);
}

Status PerfSession::enable() {
  if (finished_) return error(ErrorCode::kInvalidArgument, "the session has ended");
  for (int fd : fds_) {
    bool on_exec = false;
    for (int e : exec_enabled_fds_) on_exec |= (e == fd);
    if (on_exec) continue;  // switched on by the command's exec
    if (::ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) != 0) return errno_status(errno, "enabling events");
  }
  enabled_ = true;
  if (go_fd_ >= 0) {
    char c = 1;
    ssize_t n = ::write(go_fd_, &c, 1);
    ::close(go_fd_);
    go_fd_ = -1;
    if (n != 1) return errno_status(errno, "starting the command");
  }
  return ok_status();
}

Status PerfSession::disable() {
  Status result;
  for (int fd : fds_) {
    if (::ioctl(fd, PERF_EVENT_IOC_DISABLE, 0) != 0 && result.ok()) {
      result = errno_status(errno, "disabling events");
    }
  }
  enabled_ = false;
  return result;
}

void PerfSession::check_command() {
  if (child_ <= 0 || child_status_) return;
  int status = 0;
  rusage usage{};
  pid_t r = ::wait4(child_, &status, WNOHANG, &usage);
  if (r == child_) {
    child_status_ = status;
    auto secs = [](const timeval& tv) {
      return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    child_cpu_seconds_ = secs(usage.ru_utime) + secs(usage.ru_stime);
    begin_stop();
  }
}

std::optional<int> PerfSession::command_exit_code() const {
  if (!child_status_) return std::nullopt;
  if (WIFEXITED(*child_status_)) return WEXITSTATUS(*child_status_);
  if (WIFSIGNALED(*child_status_)) return 128 + WTERMSIG(*child_status_);
  return std::nullopt;
}

void PerfSession::begin_stop() {
  if (stopping_) return;
  stopping_ = true;
  (void)disable();
  // Disabled events write nothing more: the reader's final round (started
  // after this point) holds everything left.
  reader_->request_stop();
}

bool PerfSession::pump(std::chrono::milliseconds wait) {
  if (finished_) return true;
  check_command();
  if (stop_requested_.load(std::memory_order_relaxed)) begin_stop();
  RecordBatch batch;
  if (!reader_->pop(batch, wait)) return false;
  for (const auto& d : batch.drops) {
    PerfCpuCounters& c = parser_.cpu_counters(d.cpu);
    c.dropped_samples += d.dropped_samples;
    c.cut_stacks += d.cut_stacks;
    ring_malformed_ += d.malformed;
  }
  for (RecordChunk& chunk : batch.chunks) merger_->add_chunk(std::move(chunk));
  last_round_time_ = batch.round_time;
  if (batch.final) {
    merger_->emit_all();
    finished_ = true;
    return true;
  }
  const std::uint64_t slack = options_.reorder_slack_ns;
  merger_->emit_until(batch.round_time > slack ? batch.round_time - slack : 0);
  return false;
}

Status PerfSession::parse_for_duration(std::chrono::nanoseconds duration) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (!finished_) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    pump(std::min(left + std::chrono::milliseconds(1), std::chrono::milliseconds(100)));
  }
  return ok_status();
}

Status PerfSession::parse_until(const std::function<bool()>& done) {
  while (!finished_) {
    pump(std::chrono::milliseconds(100));
    if (done()) break;
  }
  return ok_status();
}

Status PerfSession::parse_all() {
  if (child_ <= 0) {
    // Without a command, only request_stop() ends the session.
  }
  while (!finished_) pump(std::chrono::milliseconds(100));
  return ok_status();
}

Status PerfSession::stop() {
  if (!reader_) return ok_status();
  begin_stop();
  while (!finished_) pump(std::chrono::milliseconds(100));
  return ok_status();
}

PerfSessionStats PerfSession::stats() const {
  PerfSessionStats s;
  s.parse = parser_.stats();
  s.per_cpu = parser_.all_cpu_counters();
  for (const PerfCpuCounters& c : s.per_cpu) {
    s.lost += c.lost;
    s.lost_samples += c.lost_samples;
    s.dropped_samples += c.dropped_samples;
    s.cut_stacks += c.cut_stacks;
  }
  s.ring_malformed = ring_malformed_;
  return s;
}

}  // namespace one_collect
