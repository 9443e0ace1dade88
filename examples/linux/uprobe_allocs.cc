// uprobe_allocs: malloc sizes of a process, through a uprobe on libc's
// malloc whose first argument (%di on x86-64) tracefs fetches for us.
//
//   uprobe_allocs PID [SECONDS=5]
// Prints a histogram of requested sizes (power-of-two buckets).
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "one_collect/linux/perf_session.h"
#include "one_collect/linux/probe_registry.h"
#include "one_collect/linux/procfs.h"

using namespace one_collect;

namespace {

Result<std::string> find_libc(int pid) {
  OC_ASSIGN_OR_RETURN(MapsParse maps, read_maps(pid));
  for (const MapEntry& m : maps.entries) {
    auto slash = m.path.rfind('/');
    std::string base = slash == std::string::npos ? m.path : m.path.substr(slash + 1);
    if (base.rfind("libc.so", 0) == 0 || base.rfind("libc-", 0) == 0) return m.path;
  }
  return error(ErrorCode::kNotFound, "pid " + std::to_string(pid) + " has no libc mapped");
}

int fail(const Status& s) {
  std::fprintf(stderr, "uprobe_allocs: %s\n", s.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: uprobe_allocs PID [SECONDS=5]\n");
    return 2;
  }
  const int pid = std::atoi(argv[1]);
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  auto libc = find_libc(pid);
  if (!libc.ok()) return fail(libc.status());
  auto tracefs = Tracefs::open();
  if (!tracefs.ok()) return fail(tracefs.status());
  auto registry = ProbeRegistry::create(*tracefs);
  if (!registry.ok()) return fail(registry.status());
  UprobeSpec spec;
  spec.binary = *libc;
  spec.symbol = "malloc";
  spec.fetch_args = "size=%di:u64";
  auto tp = registry->add_uprobe(spec);
  if (!tp.ok()) return fail(tp.status());

  std::map<int, std::uint64_t> buckets;  // log2(size) -> count
  std::uint64_t calls = 0, bytes = 0;
  {
    auto built = RingBufSessionBuilder().with_target_pid(pid).build();
    if (!built.ok()) return fail(built.status());
    PerfSession& session = **built;
    auto event = session.add_tracepoint(*tp);
    if (!event.ok()) return fail(event.status());
    auto size_field = (*event)->format().get_field_ref("size");
    if (!size_field.ok()) return fail(size_field.status());
    EventFieldRef size_ref = *size_field;
    (*event)->add_callback([&](const EventData& d) -> Status {
      OC_ASSIGN_OR_RETURN(std::uint64_t size, d.format.get_u64(size_ref, d.event_data));
      ++calls;
      bytes += size;
      ++buckets[size == 0 ? -1 : 63 - __builtin_clzll(size)];
      return ok_status();
    });
    if (Status s = session.enable(); !s.ok()) return fail(s);
    (void)session.parse_for_duration(std::chrono::seconds(seconds));
    (void)session.stop();
    PerfSessionStats st = session.stats();
    if (st.lost + st.dropped_samples != 0) {
      std::printf("warning: %llu records lost\n",
                  static_cast<unsigned long long>(st.lost + st.dropped_samples));
    }
  }  // perf fds closed: the probe can be removed
  (void)registry->cleanup();

  std::printf("%llu malloc calls, %llu bytes requested by pid %d (%s)\n",
              static_cast<unsigned long long>(calls), static_cast<unsigned long long>(bytes), pid,
              libc->c_str());
  std::uint64_t peak = 1;
  for (auto& [b, n] : buckets) peak = std::max(peak, n);
  for (auto& [b, n] : buckets) {
    char range[48];
    if (b < 0) {
      std::snprintf(range, sizeof(range), "0");
    } else {
      std::snprintf(range, sizeof(range), "%llu..%llu", 1ull << b, (2ull << b) - 1);
    }
    std::printf("%22s %10llu %s\n", range, static_cast<unsigned long long>(n),
                std::string(static_cast<std::size_t>(40 * n / peak), '#').c_str());
  }
  return 0;
}
