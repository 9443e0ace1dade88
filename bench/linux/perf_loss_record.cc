// perf_loss_record: our side of bench/linux/compare_loss.sh. Samples every
// CPU with cpu-clock at FREQ Hz with REGS_USER + an 8 KiB (STACK_BYTES) user
// stack copy, like `perf record -F FREQ --call-graph dwarf -a`, for SECONDS,
// and prints what reached the consumer and what was lost where.
//
// The consumer reads every stack byte of every sample (a checksum), standing
// in for the unwinder that turns them into frames right away.
//
//   perf_loss_record SECONDS FREQ STACK_BYTES [RING_BYTES]
#include <cstdio>
#include <cstdlib>

#include "one_collect/linux/perf_session.h"

using namespace one_collect;

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5;
  const std::uint64_t freq = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20000;
  const std::uint32_t stack = argc > 3 ? static_cast<std::uint32_t>(std::atoi(argv[3])) : 8192;
  PerfSessionOptions options;
  if (argc > 4) options.ring_bytes = std::strtoull(argv[4], nullptr, 10);
  StackOptions stacks;
  stacks.callchain = true;
  stacks.user_regs = true;
  stacks.user_stack_bytes = stack;
  auto built = RingBufSessionBuilder()
                   .with_options(options)
                   .with_kernel_events()
                   .with_stacks(stacks)
                   .with_cpu_sampling(freq)
                   .build();
  if (!built.ok()) {
    std::fprintf(stderr, "perf_loss_record: %s\n", built.status().to_string().c_str());
    return 1;
  }
  PerfSession& session = **built;
  const PerfSessionRefs& refs = session.refs();
  std::uint64_t samples = 0, with_stack = 0, checksum = 0;
  session.cpu_profile_event()->add_callback([&](const EventData& d) -> Status {
    ++samples;
    auto bytes = refs.stack_user.get_data(d.full_data);
    if (bytes.ok() && !bytes->empty()) {
      ++with_stack;
      for (std::uint8_t b : *bytes) checksum += b;
    }
    return ok_status();
  });
  if (Status s = session.enable(); !s.ok()) {
    std::fprintf(stderr, "perf_loss_record: %s\n", s.to_string().c_str());
    return 1;
  }
  (void)session.parse_for_duration(std::chrono::milliseconds(static_cast<long>(seconds * 1000)));
  (void)session.stop();
  PerfSessionStats st = session.stats();
  const std::uint64_t lost = st.lost + st.lost_samples + st.dropped_samples;
  std::printf(
      "samples %llu (with user stack %llu), kernel lost %llu, lost_samples %llu, "
      "dropped by us %llu, stacks cut %llu, checksum %llu\n",
      static_cast<unsigned long long>(samples), static_cast<unsigned long long>(with_stack),
      static_cast<unsigned long long>(st.lost), static_cast<unsigned long long>(st.lost_samples),
      static_cast<unsigned long long>(st.dropped_samples),
      static_cast<unsigned long long>(st.cut_stacks),
      static_cast<unsigned long long>(checksum & 0xffff));
  std::printf(
      "one_collect stack copies cut: %.2f%% of samples\n",
      samples ? 100.0 * static_cast<double>(st.cut_stacks) / static_cast<double>(samples) : 0.0);
  std::printf("one_collect loss: %.2f%%\n", samples + lost ? 100.0 * static_cast<double>(lost) /
                                                                 static_cast<double>(samples + lost)
                                                           : 0.0);
  return 0;
}
