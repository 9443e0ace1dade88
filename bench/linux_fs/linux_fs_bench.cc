// tracefs/procfs parsing costs: what a session start pays (format files of
// the tracepoints it adds, /proc/PID/maps of every running process).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <string>

#include "one_collect/fs/read_file.h"
#include "one_collect/linux/procfs.h"
#include "one_collect/linux/tracefs.h"

namespace {

using namespace one_collect;

constexpr std::string_view kSchedSwitch =
    "name: sched_switch\nID: 316\nformat:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
    "\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
    "\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
    "\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n"
    "\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n"
    "\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n"
    "\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n"
    "\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n\n"
    "print fmt: \"prev_comm=%s prev_pid=%d\", REC->prev_comm, REC->prev_pid\n";

void BM_ParseSchedSwitchFormat(benchmark::State& state) {
  for (auto _ : state) {
    auto tp = parse_tracepoint_format(kSchedSwitch, "sched", "sched_switch");
    benchmark::DoNotOptimize(tp);
  }
}
BENCHMARK(BM_ParseSchedSwitchFormat);

// Text of our own maps, parsed repeatedly (no file I/O in the loop).
void BM_ParseMaps(benchmark::State& state) {
  auto text = read_file("/proc/self/maps");
  if (!text.ok()) {
    state.SkipWithError("cannot read /proc/self/maps");
    return;
  }
  std::size_t lines = 0;
  for (auto _ : state) {
    auto maps = parse_maps(*text);
    lines = maps.entries.size();
    benchmark::DoNotOptimize(maps);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines));
  state.counters["lines"] = static_cast<double>(lines);
}
BENCHMARK(BM_ParseMaps);

// What capture_environment pays per process: read and parse comm and maps.
void BM_ReadCommAndMapsOfSelf(benchmark::State& state) {
  const int self = static_cast<int>(::getpid());
  for (auto _ : state) {
    auto comm = read_comm(self);
    auto maps = read_maps(self);
    benchmark::DoNotOptimize(comm);
    benchmark::DoNotOptimize(maps);
  }
}
BENCHMARK(BM_ReadCommAndMapsOfSelf);

// Every format file of this machine (root, tracefs mounted).
void BM_LoadAllTracepointFormats(benchmark::State& state) {
  auto t = Tracefs::find();
  if (!t.ok()) {
    state.SkipWithError("tracefs not mounted");
    return;
  }
  auto events = t->list_events();
  if (!events.ok()) {
    state.SkipWithError("cannot list events");
    return;
  }
  for (auto _ : state) {
    for (const auto& [sys, name] : *events) {
      auto tp = t->load_tracepoint(sys, name);
      benchmark::DoNotOptimize(tp);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events->size()));
}
BENCHMARK(BM_LoadAllTracepointFormats)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
