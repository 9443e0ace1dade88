// Export of 1M samples over 100k distinct stacks to each format, plus the
// machine's memory per sample. Each benchmark reports the extra peak RSS of
// one export ("peak_MiB", measured by resetting VmHWM through
// /proc/self/clear_refs) next to its time.
//
//   build/bin/export_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "one_collect/export/export_graph.h"
#include "one_collect/export/export_machine.h"
#include "one_collect/formats/chrome_trace.h"
#include "one_collect/formats/folded.h"
#include "one_collect/formats/perfview_xml.h"
#include "one_collect/formats/pprof.h"
#include "one_collect/formats/speedscope.h"

namespace one_collect {
namespace {

constexpr std::size_t kSamples = 1000000;
constexpr std::size_t kStacks = 100000;
constexpr std::uint64_t kApp = 0x400000;
constexpr std::uint64_t kLibc = 0x7f0000000000ULL;
constexpr std::uint64_t kKernel = 0xffffffff81000000ULL;
constexpr std::uint64_t kFunctions = 50000;  // per object, 64 bytes each

// Every address gets a 64-byte function named after its slot, with a line.
class BenchResolver : public SymbolResolver {
 public:
  Status resolve(const SymbolQuery& q, std::span<const std::uint64_t> addresses,
                 std::vector<ExportResolvedSymbol>& out,
                 std::vector<ExportResolvedLine>& lines) override {
    std::uint64_t last = ~0ULL;
    for (std::uint64_t a : addresses) {
      std::uint64_t start = a & ~63ULL;
      if (start == last) continue;
      last = start;
      std::string name =
          (q.kind == SymbolQuery::Kind::kKernel ? "kernel_fn_" : "ns::Class::method_") +
          std::to_string(start >> 6) + "(int, std::string const&)";
      out.push_back({start, start + 64, std::move(name), "src/file.cc", 100});
      lines.push_back({a, "src/file.cc", static_cast<std::uint32_t>(100 + (a & 63)), ""});
    }
    return ok_status();
  }
};

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 31;
  x *= 0x9E3779B97F4A7C15ULL;
  x ^= x >> 29;
  return x;
}

// Stacks share prefixes like real ones: stack i follows the base-4 digits of
// i down a call tree (9 levels), under 4 common outer frames; a quarter end
// in two kernel frames.
std::unique_ptr<ExportMachine> build_machine() {
  auto m = std::make_unique<ExportMachine>();
  CollectionMetadata& md = m->metadata();
  md.start_time = 1000000000;
  md.end_time = md.start_time + kSamples * 1000;
  md.start_unix_ns = 1700000000000000000ULL;
  md.sample_frequency_hz = 1000;
  md.sample_period_ns = 1000000;
  md.host = "bench";
  const char* comms[] = {"server", "worker", "db", "cache"};
  for (std::uint32_t p = 0; p < 8; ++p) {
    std::uint32_t pid = 1000 + p;
    m->add_process_start(pid, 0, comms[p % 4]);
    m->add_mapping(pid, 0, kApp, kApp + kFunctions * 64, 0, "/usr/bin/app", "0123abcd");
    m->add_mapping(pid, 0, kLibc, kLibc + kFunctions * 64, 0, "/lib/libc.so.6", "4567ef");
  }
  std::vector<std::vector<std::uint64_t>> stacks(kStacks);
  std::vector<std::uint64_t> leaves(kStacks);
  for (std::size_t i = 0; i < kStacks; ++i) {
    std::vector<std::uint64_t>& s = stacks[i];  // built root first, reversed below
    s.push_back(kLibc + 64 * 1 + 8);
    s.push_back(kLibc + 64 * 2 + 8);
    s.push_back(kApp + 64 * 3 + 8);
    s.push_back(kApp + 64 * 4 + 8);
    std::uint64_t prefix = 1;
    for (int level = 8; level >= 0; --level) {
      prefix = prefix * 4 + ((i >> (2 * level)) & 3);
      s.push_back(kApp + 64 * (mix(prefix) % kFunctions) + 8 + (prefix & 31));
    }
    if (i % 4 == 0) {
      s.push_back(kKernel + 64 * (mix(prefix + 7) % kFunctions) + 8);
      leaves[i] = kKernel + 64 * (mix(prefix + 9) % kFunctions) + 16;
    } else {
      leaves[i] = kApp + 64 * (mix(prefix + 9) % kFunctions) + 16;
    }
    std::reverse(s.begin(), s.end());  // leaf side first
  }
  m->reserve_samples(kSamples);
  SampleKind cpu = m->sample_kind("cpu");
  for (std::size_t j = 0; j < kSamples; ++j) {
    std::size_t i = (j * 7919) % kStacks;
    std::uint32_t pid = 1000 + static_cast<std::uint32_t>(i % 8);
    std::uint32_t tid = pid * 10 + static_cast<std::uint32_t>(j % 4);
    m->add_sample(md.start_time + j * 1000, MetricValue::duration(1000000), pid, tid,
                  static_cast<std::uint16_t>(j % 2), cpu, leaves[i], stacks[i]);
  }
  BenchResolver resolver;
  (void)m->capture_and_resolve_symbols(resolver);
  return m;
}

ExportMachine& machine() {
  static std::unique_ptr<ExportMachine> m = build_machine();
  return *m;
}

// OC_BENCH_KEEP_OUTPUT=<dir>: write the outputs there and keep them (to
// compare two builds' files byte for byte).
const char* kept_output_dir() { return std::getenv("OC_BENCH_KEEP_OUTPUT"); }

std::string out_dir() {
  static std::string dir = [] {
    if (const char* keep = kept_output_dir()) {
      std::filesystem::create_directories(keep);
      return std::string(keep);
    }
    std::string d =
        std::filesystem::temp_directory_path() / ("oc_export_bench_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

std::uint64_t status_kib(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::stoull(line.substr(std::string(key).size()));
  }
  return 0;
}

void reset_peak() { std::ofstream("/proc/self/clear_refs") << "5"; }

template <typename F>
void run_export(benchmark::State& state, F&& export_once) {
  ExportMachine& m = machine();
  std::uint64_t peak_extra = 0;
  for (auto _ : state) {
    // Return freed heap to the OS first so the peak counts this export only.
    malloc_trim(0);
    std::uint64_t base = status_kib("VmRSS:");
    reset_peak();
    Status s = export_once(m);
    if (!s.ok()) state.SkipWithError(s.to_string().c_str());
    std::uint64_t hwm = status_kib("VmHWM:");
    peak_extra = std::max(peak_extra, hwm > base ? hwm - base : 0);
  }
  state.counters["peak_MiB"] = static_cast<double>(peak_extra) / 1024.0;
  std::uint64_t out_bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(out_dir())) out_bytes += e.file_size();
  if (!kept_output_dir()) {
    std::filesystem::remove_all(out_dir());
    std::filesystem::create_directories(out_dir());
  }
  state.counters["out_MiB"] = static_cast<double>(out_bytes) / (1024.0 * 1024.0);
  state.counters["samples"] = static_cast<double>(m.samples().size());
}

void BM_BuildMachine(benchmark::State& state) {
  for (auto _ : state) {
    auto m = build_machine();
    double n = static_cast<double>(m->samples().size());
    // The bounded part: compact samples plus the interned stacks they name.
    state.counters["sample_and_stack_B_per_sample"] =
        static_cast<double>(m->samples().capacity() * sizeof(ExportSample) +
                            m->callstacks().memory_bytes()) /
        n;
    // Everything, symbol names and per-address line tables included.
    state.counters["total_B_per_sample"] = static_cast<double>(m->memory_bytes()) / n;
    state.counters["stacks"] = static_cast<double>(m->callstacks().size() - 1);
    state.counters["sample_bytes"] = static_cast<double>(sizeof(ExportSample));
  }
}

void BM_Graph(benchmark::State& state) {
  run_export(state, [](const ExportMachine& m) {
    ExportGraph g(m);
    g.add_samples(0);
    benchmark::DoNotOptimize(g.nodes().size());
    return ok_status();
  });
}

void BM_Pprof(benchmark::State& state) {
  run_export(state,
             [](const ExportMachine& m) { return write_pprof(m, out_dir() + "/cpu.pb.gz"); });
}

void BM_Speedscope(benchmark::State& state) {
  run_export(state, [](const ExportMachine& m) {
    return write_speedscope(m, out_dir() + "/cpu.speedscope.json");
  });
}

void BM_Folded(benchmark::State& state) {
  run_export(state,
             [](const ExportMachine& m) { return write_folded(m, out_dir() + "/cpu.folded"); });
}

void BM_ChromeTrace(benchmark::State& state) {
  run_export(state, [](const ExportMachine& m) {
    return write_chrome_trace(m, out_dir() + "/trace.json");
  });
}

void BM_PerfViewXml(benchmark::State& state) {
  run_export(state, [](const ExportMachine& m) {
    return write_perfview_xml(m, out_dir() + "/trace").status();
  });
}

BENCHMARK(BM_BuildMachine)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_Graph)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_Pprof)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_Speedscope)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_Folded)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_ChromeTrace)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_PerfViewXml)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace one_collect

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (!one_collect::kept_output_dir()) std::filesystem::remove_all(one_collect::out_dir());
  return 0;
}
