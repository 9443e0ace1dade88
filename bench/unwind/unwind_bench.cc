// Frames unwound per second on real recorded stacks: at startup the
// benchmark samples real programs with perf_event_open (REGS_USER +
// STACK_USER 16 KiB; needs root), then unwinds those samples repeatedly.
//   - chain_nofp: a C program without frame pointers (shallow, few PCs)
//   - containers: C++ std::sort / std::map (libstdc++, libc)
//   - python: CPython running a recursive workload (deep stacks through
//     libpython's CFI, many distinct PCs)
// Counters: frames/s, the rule cache's hit rate, mean frames per stack.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "one_collect/process/process_table.h"
#include "one_collect/unwind/testing/stack_sampler.h"
#include "one_collect/unwind/unwinder.h"

namespace {

using namespace one_collect;
using namespace one_collect::unwind;

struct Recorded {
  std::unique_ptr<ProcessTable> table = std::make_unique<ProcessTable>();
  testing::Capture capture;
  bool ok = false;
  std::string error;
};

Recorded record(std::vector<std::string> argv) {
  Recorded r;
  testing::CaptureOptions opt;
  opt.argv = std::move(argv);
  opt.max_samples = 3000;
  opt.period_ns = 100000;
  auto cap = testing::capture_program(opt);
  if (!cap.ok()) {
    r.error = cap.status().to_string();
    return r;
  }
  r.capture = std::move(cap).value();
  testing::load_mappings(r.capture, *r.table);
  r.ok = !r.capture.samples.empty();
  if (!r.ok) r.error = "no samples";
  return r;
}

Recorded& recorded(int which) {
  static Recorded sets[3] = {
      record({OC_UNWIND_TESTPROG_DIR "/chain_nofp", "8"}),
      record({OC_UNWIND_TESTPROG_DIR "/containers", "8"}),
      record(
          {"/usr/bin/python3", "-c",
           "import sys\n"
           "def fib(n): return n if n < 2 else fib(n-1) + fib(n-2)\n"
           "def work(d):\n"
           "    if d: return work(d-1)\n"
           "    return sum(sorted(str(fib(i)) for i in range(22)).__len__() for _ in range(50))\n"
           "sys.stdout.write('r'); sys.stdout.flush()\n"
           "while True: work(20)\n"}),
  };
  return sets[which];
}

void BM_Unwind(benchmark::State& state) {
  Recorded& rec = recorded(static_cast<int>(state.range(0)));
  if (!rec.ok) {
    state.SkipWithError(("recording failed: " + rec.error).c_str());
    return;
  }
  Unwinder unwinder;
  auto view = rec.table->view(static_cast<std::uint32_t>(rec.capture.pid), 1);
  std::uint64_t frames[256];
  std::uint64_t total_frames = 0, stacks = 0;
  // First pass (cold cache, in sample order, as a live session sees them)
  // also builds the per-file indexes outside the timing.
  std::uint64_t complete = 0;
  for (const auto& s : rec.capture.samples) {
    UnwindInput in{s.ip, s.rsp, s.rbp, ByteSpan(s.stack.data(), s.stack.size()), s.rsp};
    complete += unwinder.unwind(view, in, frames).end == UnwindEnd::kEndOfStack;
  }
  state.counters["cold_hit%"] = 100.0 * unwinder.cache_stats().hit_rate();
  state.counters["complete%"] =
      100.0 * static_cast<double>(complete) / static_cast<double>(rec.capture.samples.size());
  unwinder.reset_cache_stats();
  for (auto _ : state) {
    for (const auto& s : rec.capture.samples) {
      UnwindInput in{s.ip, s.rsp, s.rbp, ByteSpan(s.stack.data(), s.stack.size()), s.rsp};
      UnwindResult r = unwinder.unwind(view, in, frames);
      total_frames += r.count;
      ++stacks;
      benchmark::DoNotOptimize(frames[0]);
    }
  }
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(total_frames), benchmark::Counter::kIsRate);
  state.counters["hit%"] = 100.0 * unwinder.cache_stats().hit_rate();
  state.counters["frames/stack"] = stacks ? static_cast<double>(total_frames) / stacks : 0;
  state.counters["stacks"] = static_cast<double>(rec.capture.samples.size());
}
BENCHMARK(BM_Unwind)->Arg(0)->ArgName("chain_nofp");
BENCHMARK(BM_Unwind)->Arg(1)->ArgName("containers");
BENCHMARK(BM_Unwind)->Arg(2)->ArgName("python");

}  // namespace

BENCHMARK_MAIN();
