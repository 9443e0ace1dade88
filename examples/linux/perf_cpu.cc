// perf_cpu: live per-CPU utilisation from cpu-clock samples.
//
// A system-wide cpu-clock sampler fires on every CPU at a fixed rate whether
// it is busy or idle; a sample whose pid is 0 landed in the idle task. Busy
// share per CPU = non-idle samples / all samples, printed once a second.
//
//   perf_cpu [SECONDS=5] [FREQUENCY_HZ=1000]
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "one_collect/linux/perf_session.h"

using namespace one_collect;

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 5;
  const std::uint64_t frequency = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000;
  auto built = RingBufSessionBuilder().with_cpu_sampling(frequency).build();
  if (!built.ok()) {
    std::fprintf(stderr, "perf_cpu: %s\n", built.status().to_string().c_str());
    return 1;
  }
  PerfSession& session = **built;
  const PerfSessionRefs& refs = session.refs();
  std::vector<std::uint64_t> busy(1024), total(1024);
  session.cpu_profile_event()->add_callback([&](const EventData& d) -> Status {
    std::uint32_t cpu = refs.cpu.try_get<std::uint32_t>(d.full_data).value_or(0) & 1023;
    ++total[cpu];
    if (refs.pid.try_get<std::uint32_t>(d.full_data).value_or(0) != 0) ++busy[cpu];
    return ok_status();
  });
  if (Status s = session.enable(); !s.ok()) {
    std::fprintf(stderr, "perf_cpu: %s\n", s.to_string().c_str());
    return 1;
  }
  for (int second = 0; second < seconds; ++second) {
    (void)session.parse_for_duration(std::chrono::seconds(1));
    std::printf("%3ds ", second + 1);
    for (int cpu : session.cpus()) {
      auto c = static_cast<std::size_t>(cpu) & 1023;
      double pct =
          total[c] ? 100.0 * static_cast<double>(busy[c]) / static_cast<double>(total[c]) : 0.0;
      std::printf(" cpu%-2d %5.1f%%", cpu, pct);
      busy[c] = total[c] = 0;
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  (void)session.stop();
  PerfSessionStats st = session.stats();
  std::printf("records %llu, lost %llu, dropped %llu\n",
              static_cast<unsigned long long>(st.parse.records),
              static_cast<unsigned long long>(st.lost + st.lost_samples),
              static_cast<unsigned long long>(st.dropped_samples));
  return 0;
}
