// PerfSession::capture_environment: COMM and MMAP2 records for processes that
// run before the session starts, built from /proc in the kernel's own record
// layout and handed to the same parser, so consumers need one code path.
#include <sys/mman.h>
#include <time.h>

#include <cstring>

#include "one_collect/fs/read_file.h"
#include "one_collect/linux/perf_session.h"
#include "one_collect/linux/procfs.h"

namespace one_collect {
namespace {

class RecordWriter {
 public:
  void begin(std::uint32_t type, std::uint16_t misc) {
    bytes_.clear();
    put<std::uint32_t>(type);
    put<std::uint16_t>(misc);
    put<std::uint16_t>(0);  // size, patched in finish()
  }
  template <typename T>
  void put(T v) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &v, sizeof(T));
  }
  // NUL-terminated, padded to 8 bytes like the kernel does.
  void put_string(std::string_view s) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + s.size() + 1, 0);
    if (!s.empty()) std::memcpy(bytes_.data() + at, s.data(), s.size());
    while (bytes_.size() % 8 != 0) bytes_.push_back(0);
  }
  // The sample_id trailer for IDENTIFIER|TID|TIME|CPU: pid, tid, time, cpu,
  // res, identifier (0: no kernel id, so the session's default layout applies).
  bool finish(const SampleLayout& layout, std::uint32_t pid, std::uint32_t tid,
              std::uint64_t time) {
    if (layout.sample_id_all) {
      if (layout.has(PERF_SAMPLE_TID)) {
        put<std::uint32_t>(pid);
        put<std::uint32_t>(tid);
      }
      if (layout.has(PERF_SAMPLE_TIME)) put<std::uint64_t>(time);
      if (layout.has(PERF_SAMPLE_ID)) put<std::uint64_t>(0);
      if (layout.has(PERF_SAMPLE_STREAM_ID)) put<std::uint64_t>(0);
      if (layout.has(PERF_SAMPLE_CPU)) put<std::uint64_t>(0);
      if (layout.has(PERF_SAMPLE_IDENTIFIER)) put<std::uint64_t>(0);
    }
    if (bytes_.size() > 0xFFFF) return false;
    std::uint16_t size = static_cast<std::uint16_t>(bytes_.size());
    std::memcpy(bytes_.data() + 6, &size, 2);
    return true;
  }
  ByteSpan span() const { return ByteSpan(bytes_); }

 private:
  std::vector<std::uint8_t> bytes_;
};

}  // namespace

Status PerfSession::capture_environment() {
  const SampleLayout* layout = parser_.default_layout();
  if (layout == nullptr) return error(ErrorCode::kInternal, "session has no record layout");
  std::vector<int> pids;
  bool system_wide = false;
  for (const Target& t : targets_) {
    if (t.pid == -1 || (t.flags & PERF_FLAG_PID_CGROUP) != 0) system_wide = true;
  }
  if (system_wide) {
    OC_ASSIGN_OR_RETURN(pids, list_pids());
  } else {
    for (const Target& t : targets_) {
      // Threads of one process share its maps: one pass per process.
      std::string status_path = "/proc/" + std::to_string(t.pid) + "/status";
      auto status = read_file(status_path);
      int tgid = t.pid;
      if (status.ok()) {
        auto pos = status->find("\nTgid:");
        if (pos != std::string::npos) tgid = std::atoi(status->c_str() + pos + 6);
      }
      bool seen = false;
      for (int p : pids) seen |= (p == tgid);
      if (!seen) pids.push_back(tgid);
    }
  }
  // Deliver what is already due before the synthesized records, so they
  // land roughly in time order when the session already runs.
  if (last_round_time_ > options_.reorder_slack_ns) {
    merger_->emit_until(last_round_time_ - options_.reorder_slack_ns);
  }
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const std::uint64_t now = static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull +
                            static_cast<std::uint64_t>(ts.tv_nsec);
  RecordWriter w;
  for (int pid : pids) {
    auto comm = read_comm(pid);
    if (!comm.ok()) continue;  // exited meanwhile
    const auto upid = static_cast<std::uint32_t>(pid);
    w.begin(PERF_RECORD_COMM, 0);
    w.put<std::uint32_t>(upid);
    w.put<std::uint32_t>(upid);
    w.put_string(*comm);
    if (w.finish(*layout, upid, upid, now)) parser_.parse(w.span(), 0);

    auto maps = read_maps(pid);
    if (!maps.ok()) continue;
    for (const MapEntry& m : maps->entries) {
      if (!m.exec) continue;
      if (m.kind != MapKind::kFile && m.kind != MapKind::kVdso) continue;
      w.begin(PERF_RECORD_MMAP2, PERF_RECORD_MISC_USER);
      w.put<std::uint32_t>(upid);
      w.put<std::uint32_t>(upid);
      w.put<std::uint64_t>(m.start);
      w.put<std::uint64_t>(m.end - m.start);
      w.put<std::uint64_t>(m.offset);
      w.put<std::uint32_t>(m.dev_major);
      w.put<std::uint32_t>(m.dev_minor);
      w.put<std::uint64_t>(m.inode);
      w.put<std::uint64_t>(0);  // ino_generation
      std::uint32_t prot =
          (m.read ? PROT_READ : 0) | (m.write ? PROT_WRITE : 0) | (m.exec ? PROT_EXEC : 0);
      w.put<std::uint32_t>(prot);
      w.put<std::uint32_t>(m.shared ? MAP_SHARED : MAP_PRIVATE);
      w.put_string(m.kind == MapKind::kVdso ? std::string_view("[vdso]")
                                            : std::string_view(m.path));
      if (w.finish(*layout, upid, upid, now)) parser_.parse(w.span(), 0);
    }
  }
  return ok_status();
}

}  // namespace one_collect
