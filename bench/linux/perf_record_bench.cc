// Records per second through the Linux engine's consumer side: index a
// replayed per-CPU chunk (time extraction), merge two CPUs in time order,
// parse every record (all session refs moved) and run one callback that
// reads pid and time. The copy out of the ring (reader thread) is not included.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <vector>

#include "one_collect/linux/perf_record_parser.h"
#include "one_collect/linux/perf_time_merge.h"

namespace one_collect {
namespace {

constexpr std::uint64_t kSampleType = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID |
                                      PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD |
                                      PERF_SAMPLE_CALLCHAIN;

void put64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  std::size_t at = out.size();
  out.resize(at + 8);
  std::memcpy(out.data() + at, &v, 8);
}

// `count` samples with `frames` callchain entries, one SWITCH record every
// 16 samples; times interleave with the other CPU.
std::vector<std::uint8_t> make_chunk(std::uint32_t cpu, int count, int frames, std::uint64_t base) {
  std::vector<std::uint8_t> out;
  for (int i = 0; i < count; ++i) {
    const std::uint64_t time = base + static_cast<std::uint64_t>(i) * 2 + cpu;
    if (i % 16 == 15) {
      std::size_t start = out.size();
      put64(out, std::uint64_t{PERF_RECORD_SWITCH} | (std::uint64_t{40} << 48));
      put64(out, 1234 | (std::uint64_t{1234} << 32));
      put64(out, time);
      put64(out, cpu);
      put64(out, 100 + cpu);
      (void)start;
      continue;
    }
    const std::uint16_t size = static_cast<std::uint16_t>(8 + 8 * 6 + 8 + 8 * frames);
    put64(out, std::uint64_t{PERF_RECORD_SAMPLE} | (std::uint64_t{PERF_RECORD_MISC_USER} << 32) |
                   (std::uint64_t{size} << 48));
    put64(out, 200 + cpu);                                 // IDENTIFIER
    put64(out, 0x401000 + static_cast<std::uint64_t>(i));  // IP
    put64(out, 1234 | (std::uint64_t{1234} << 32));        // TID
    put64(out, time);                                      // TIME
    put64(out, cpu);                                       // CPU
    put64(out, 1000000);                                   // PERIOD
    put64(out, static_cast<std::uint64_t>(frames));        // CALLCHAIN nr
    for (int f = 0; f < frames; ++f) put64(out, 0x400000 + static_cast<std::uint64_t>(f) * 16);
  }
  return out;
}

void BM_ParseMergeDispatch(benchmark::State& state) {
  const int frames = static_cast<int>(state.range(0));
  constexpr int kPerChunk = 4096;
  PerfRecordParser parser;
  SampleLayout leader;
  leader.sample_type =
      PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
  leader.sample_id_all = true;
  SampleLayout sampler = leader;
  sampler.sample_type = kSampleType;
  const SampleLayout* l0 = parser.add_layout(leader);
  const SampleLayout* l1 = parser.add_layout(sampler);
  Event cpu_event(1, "cpu-clock");
  const PerfSessionRefs& refs = parser.refs();
  std::uint64_t sum = 0;
  cpu_event.add_callback([&](const EventData& d) -> Status {
    sum += refs.pid.try_get<std::uint32_t>(d.full_data).value_or(0) +
           refs.time.try_get<std::uint64_t>(d.full_data).value_or(0);
    return ok_status();
  });
  parser.kernel_events().switch_task.add_callback([&](const EventData& d) -> Status {
    sum += refs.time.try_get<std::uint64_t>(d.full_data).value_or(0);
    return ok_status();
  });
  for (std::uint32_t cpu = 0; cpu < 2; ++cpu) {
    parser.add_id(100 + cpu, l0, nullptr, false);
    parser.add_id(200 + cpu, l1, &cpu_event, false);
  }
  // Replayed data: kRounds pairs of chunks with rising times; when the
  // replay wraps, a fresh merger starts (times go back to the beginning).
  constexpr int kRounds = 32;
  std::vector<std::vector<std::uint8_t>> src;
  for (int r = 0; r < kRounds; ++r) {
    for (std::uint32_t cpu = 0; cpu < 2; ++cpu) {
      src.push_back(
          make_chunk(cpu, kPerChunk, frames, static_cast<std::uint64_t>(r) * kPerChunk * 2));
    }
  }
  // Chunks are lent to the merger and come back when parsed: the copy out
  // of the ring happens on the reader thread, not on this one.
  auto give_back = [&](RecordChunk&& c) { src[c.tag] = std::move(c.bytes); };
  auto merger = std::make_unique<TimeOrderMerger>(parser, give_back);
  int round = 0;
  for (auto _ : state) {
    if (round == kRounds) {
      merger->emit_all();
      merger = std::make_unique<TimeOrderMerger>(parser, give_back);
      round = 0;
    }
    for (std::uint32_t cpu = 0; cpu < 2; ++cpu) {
      RecordChunk c;
      c.cpu = cpu;
      c.tag = static_cast<std::size_t>(round) * 2 + cpu;
      c.bytes = std::move(src[c.tag]);
      merger->add_chunk(std::move(c));
    }
    merger->emit_until(static_cast<std::uint64_t>(round + 1) * kPerChunk * 2);
    ++round;
  }
  merger->emit_all();
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kPerChunk * 2);
  if (parser.stats().malformed != 0 || parser.stats().out_of_order != 0) {
    state.SkipWithError("replayed data did not parse cleanly");
  }
}
BENCHMARK(BM_ParseMergeDispatch)->Arg(1)->Arg(16)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace one_collect

BENCHMARK_MAIN();
