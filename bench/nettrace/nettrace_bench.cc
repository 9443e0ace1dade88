// nettrace export: 1M samples over 100k distinct stacks (issue target: at
// most 1 s on one core). Output goes to an in-memory sink and to a file.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <random>

#include "one_collect/export/export_machine.h"
#include "one_collect/formats/nettrace/nettrace_export.h"
#include "one_collect/formats/nettrace/universal_nettrace.h"

namespace {

using namespace one_collect;

constexpr std::size_t kSamples = 1'000'000;
constexpr std::size_t kStacks = 100'000;
constexpr std::size_t kDepth = 16;  // frames per stack (plus the leaf)

// 1M cpu samples, 100k distinct 16-frame stacks, 20 processes x 5 threads,
// each process with 10 mapped files; samples are in time order.
const ExportMachine& machine() {
  static ExportMachine* m = [] {
    auto* mm = new ExportMachine();
    mm->metadata().start_time = 1'000'000;
    mm->metadata().end_time = 1'000'000 + kSamples * 1000;
    mm->metadata().start_unix_ns = 1709214330000000000ULL;
    mm->metadata().cpu_count = 8;
    for (std::uint32_t p = 0; p < 20; ++p) {
      char name[64];
      std::snprintf(name, sizeof name, "proc%u", p);
      mm->add_process_start(1000 + p, 1'000'000, name);
      for (unsigned f = 0; f < 10; ++f) {
        char file[64], build_id[16];
        std::snprintf(file, sizeof file, "/usr/lib/lib%u.so", f);
        std::snprintf(build_id, sizeof build_id, "b%u", f);
        mm->add_mapping(1000 + p, 1'000'000, 0x400000 + f * 0x1000000ULL,
                        0x400000 + (f + 1) * 0x1000000ULL, 0, file, build_id);
      }
    }
    std::mt19937_64 rng(42);
    std::vector<std::vector<std::uint64_t>> stacks(kStacks);
    for (auto& s : stacks) {
      s.resize(kDepth);
      for (auto& ip : s) ip = 0x400000 + rng() % 0xA000000;
    }
    SampleKind cpu = *mm->find_sample_kind(kCpuKind);
    mm->reserve_samples(kSamples);
    for (std::size_t i = 0; i < kSamples; ++i) {
      std::uint32_t pid = 1000 + static_cast<std::uint32_t>(i % 20);
      std::uint32_t tid = pid * 10 + static_cast<std::uint32_t>(i % 5);
      const auto& s = stacks[(i * 7919) % kStacks];
      mm->add_sample(1'000'000 + i * 1000, MetricValue::duration(1000000), pid, tid,
                     static_cast<std::uint16_t>(i % 8), cpu, s[0], std::span(s).subspan(1));
    }
    return mm;
  }();
  return *m;
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

class CountingSink : public nettrace::NetTraceSink {
 public:
  explicit CountingSink(std::uint64_t& n) : n_(n) {}
  Status write(std::span<const std::uint8_t> bytes) override {
    n_ += bytes.size();
    benchmark::DoNotOptimize(bytes.data());
    return ok_status();
  }

 private:
  std::uint64_t& n_;
};

void BM_ExportMachineToSink(benchmark::State& state) {
  const ExportMachine& m = machine();
  long before = peak_rss_kib();  // the machine alone (first run only is meaningful)
  std::uint64_t bytes = 0;
  nettrace::NetTraceOptions options;
  if (state.range(0) > 0) {
    options.segment_event_bytes = static_cast<std::size_t>(state.range(0)) << 20;
    options.segment_stack_bytes = static_cast<std::size_t>(state.range(0)) << 20;
  }
  for (auto _ : state) {
    bytes = 0;
    NetTraceExportStats stats;
    Status s = write_nettrace(m, std::make_unique<CountingSink>(bytes), {}, &stats,
                              state.range(0) > 0 ? &options : nullptr);
    if (!s.ok()) state.SkipWithError(s.to_string().c_str());
  }
  state.counters["samples"] = static_cast<double>(kSamples);
  state.counters["file_MiB"] = static_cast<double>(bytes) / (1 << 20);
  state.counters["bytes_per_sample"] = static_cast<double>(bytes) / kSamples;
  state.counters["peak_rss_MiB"] = static_cast<double>(peak_rss_kib()) / 1024;
  state.counters["rss_growth_MiB"] = static_cast<double>(peak_rss_kib() - before) / 1024;
}
// Argument: segment limit in MiB (0: the export's default).
BENCHMARK(BM_ExportMachineToSink)
    ->Arg(0)
    ->Arg(4)
    ->Arg(16)
    ->Arg(32)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

void BM_ExportMachineToFile(benchmark::State& state) {
  const ExportMachine& m = machine();
  std::string path = "/tmp/nettrace_bench_" + std::to_string(::getpid()) + ".nettrace";
  for (auto _ : state) {
    Status s = write_nettrace(m, path);
    if (!s.ok()) state.SkipWithError(s.to_string().c_str());
  }
  std::remove(path.c_str());
}
BENCHMARK(BM_ExportMachineToFile)->Unit(benchmark::kMillisecond)->Iterations(3);

// The low-level writer alone: 1M sample events over 100k stacks.
void BM_UniversalWriterSamples(benchmark::State& state) {
  std::mt19937_64 rng(7);
  std::vector<std::vector<std::uint64_t>> stacks(kStacks);
  for (auto& s : stacks) {
    s.resize(kDepth + 1);
    for (auto& ip : s) ip = rng();
  }
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    auto w = nettrace::NetTraceWriter::create(std::make_unique<CountingSink>(bytes), {});
    auto u = nettrace::UniversalNetTrace::create(std::move(w).value());
    auto cpu = (*u)->sample_kind("cpu");
    for (std::size_t i = 0; i < kSamples; ++i) {
      Status s = (*u)->sample(*cpu, i * 1000, 1000 + i % 20, 10000 + i % 100,
                              static_cast<std::uint32_t>(i % 8), 1, stacks[(i * 7919) % kStacks]);
      if (!s.ok()) state.SkipWithError(s.to_string().c_str());
    }
    if (!(*u)->finish().ok()) state.SkipWithError("finish");
  }
  state.counters["file_MiB"] = static_cast<double>(bytes) / (1 << 20);
}
BENCHMARK(BM_UniversalWriterSamples)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
