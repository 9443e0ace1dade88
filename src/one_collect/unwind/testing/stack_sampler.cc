#include "one_collect/unwind/testing/stack_sampler.h"

#include <fcntl.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "one_collect/core/errno_status.h"
#include "one_collect/linux/procfs.h"

namespace one_collect::unwind::testing {
namespace {

constexpr std::size_t kDataPages = 256;  // 1 MiB ring per thread

double now_seconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

void parse_sample(const std::uint8_t* p, std::size_t size, Capture& out) {
  std::size_t off = sizeof(perf_event_header);
  auto u64 = [&](std::uint64_t& v) {
    if (off + 8 > size) return false;
    std::memcpy(&v, p + off, 8);
    off += 8;
    return true;
  };
  CapturedSample s;
  std::uint64_t pid_tid, abi;
  if (!u64(s.ip) || !u64(pid_tid) || !u64(s.time) || !u64(abi)) return;
  if (abi == PERF_SAMPLE_REGS_ABI_NONE) return;  // kernel-mode sample without user regs
  // Mask order: BP (6), SP (7), IP (8).
  std::uint64_t ip;
  if (!u64(s.rbp) || !u64(s.rsp) || !u64(ip)) return;
  s.ip = ip;
  std::uint64_t stack_size;
  if (!u64(stack_size) || stack_size == 0 || off + stack_size + 8 > size) return;
  const std::uint8_t* stack = p + off;
  off += stack_size;
  std::uint64_t dyn_size;
  if (!u64(dyn_size)) return;
  if (dyn_size > stack_size) dyn_size = stack_size;
  s.stack.assign(stack, stack + dyn_size);
  out.samples.push_back(std::move(s));
}

}  // namespace

Result<Capture> capture_program(const CaptureOptions& options) {
  if (options.argv.empty()) return error(ErrorCode::kInvalidArgument, "no program");
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return errno_status(errno, "pipe");
  std::vector<char*> args;
  for (const auto& a : options.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return errno_status(errno, "fork");
  if (pid == 0) {
    ::dup2(pipe_fds[1], 1);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  Capture capture;
  capture.pid = pid;
  auto finish = [&](Status st) -> Result<Capture> {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    ::close(pipe_fds[0]);
    if (!st.ok()) return st;
    return std::move(capture);
  };
  pollfd pfd{pipe_fds[0], POLLIN, 0};
  char ready = 0;
  if (::poll(&pfd, 1, 10000) != 1 || ::read(pipe_fds[0], &ready, 1) != 1) {
    return finish(error(ErrorCode::kIo, "program did not start: " + options.argv[0]));
  }
  auto maps = read_maps(pid);
  if (!maps.ok()) return finish(maps.status());
  for (const MapEntry& e : maps->entries) {
    CapturedMapping m{e.start, e.end,  e.offset, makedev(e.dev_major, e.dev_minor),
                      e.inode, e.exec, e.path};
    capture.mappings.push_back(std::move(m));
  }

  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.sample_period = options.period_ns;
  attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_REGS_USER |
                     PERF_SAMPLE_STACK_USER;
  attr.sample_regs_user = (1ull << 6) | (1ull << 7) | (1ull << 8);  // BP, SP, IP
  attr.sample_stack_user = options.stack_size;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  attr.disabled = 1;
  // One event and ring per thread alive now (per-task rings cannot be
  // shared between tasks): the JVM runs main() in a thread of its own.
  struct Ring {
    int fd = -1;
    void* map = nullptr;
  };
  std::vector<Ring> rings;
  long page = ::sysconf(_SC_PAGESIZE);
  const std::size_t map_size = static_cast<std::size_t>(page) * (kDataPages + 1);
  auto close_rings = [&] {
    for (Ring& r : rings) {
      ::ioctl(r.fd, PERF_EVENT_IOC_DISABLE, 0);
      if (r.map != nullptr) ::munmap(r.map, map_size);
      ::close(r.fd);
    }
    rings.clear();
  };
  auto tids = list_threads(pid);
  std::vector<int> threads = tids.ok() ? *tids : std::vector<int>{pid};
  for (int tid : threads) {
    int fd =
        static_cast<int>(::syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC));
    if (fd < 0) {
      if (tid != pid) continue;  // a thread that just exited
      Status st = errno_status(errno, "perf_event_open");
      close_rings();
      return finish(std::move(st));
    }
    void* map = ::mmap(nullptr, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
      Status st = errno_status(errno, "mmap perf ring");
      ::close(fd);
      close_rings();
      return finish(std::move(st));
    }
    rings.push_back(Ring{fd, map});
  }
  for (Ring& r : rings) ::ioctl(r.fd, PERF_EVENT_IOC_ENABLE, 0);
  std::vector<std::uint8_t> record;
  double deadline = now_seconds() + options.max_seconds;
  std::vector<pollfd> pfds;
  for (Ring& r : rings) pfds.push_back(pollfd{r.fd, POLLIN, 0});
  while (capture.samples.size() < options.max_samples && now_seconds() < deadline) {
    ::poll(pfds.data(), pfds.size(), 2);
    for (Ring& r : rings) {
      auto* meta = static_cast<perf_event_mmap_page*>(r.map);
      const std::uint8_t* data = static_cast<const std::uint8_t*>(r.map) + meta->data_offset;
      const std::uint64_t data_size = meta->data_size;
      std::uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
      std::uint64_t tail = meta->data_tail;
      while (tail < head) {
        perf_event_header h;
        for (std::size_t i = 0; i < sizeof h; ++i) {
          reinterpret_cast<std::uint8_t*>(&h)[i] = data[(tail + i) % data_size];
        }
        if (h.size < sizeof h) break;
        record.resize(h.size);
        for (std::size_t i = 0; i < h.size; ++i) record[i] = data[(tail + i) % data_size];
        if (h.type == PERF_RECORD_SAMPLE && capture.samples.size() < options.max_samples) {
          parse_sample(record.data(), record.size(), capture);
        }
        tail += h.size;
      }
      __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) break;  // the program ended
  }
  close_rings();
  // Code mapped while we sampled (JIT code pages, dlopen) joins the set.
  if (auto later = read_maps(pid); later.ok()) {
    for (const MapEntry& e : later->entries) {
      bool known = false;
      for (const auto& m : capture.mappings) {
        known = known || (m.start == e.start && m.end == e.end && m.path == e.path);
      }
      if (!known) {
        capture.mappings.push_back(CapturedMapping{
            e.start, e.end, e.offset, makedev(e.dev_major, e.dev_minor), e.inode, e.exec, e.path});
      }
    }
  }
  return finish(Status());
}

void load_mappings(const Capture& capture, ProcessTable& table) {
  for (const CapturedMapping& m : capture.mappings) {
    MmapEvent ev;
    ev.pid = static_cast<std::uint32_t>(capture.pid);
    ev.start = m.start;
    ev.len = m.end - m.start;
    ev.pgoff = m.pgoff;
    ev.path = m.path;
    ev.dev = m.dev;
    ev.ino = m.ino;
    ev.time = 0;
    ev.executable = m.exec;
    (void)table.on_mmap(ev);
  }
}

}  // namespace one_collect::unwind::testing
