// Interning at scale: 1M distinct strings and 16-frame callstacks, measured
// for hits (already interned, looked up in random order) and new entries.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "one_collect/intern/interned_callstacks.h"
#include "one_collect/intern/interned_strings.h"

namespace one_collect {
namespace {

constexpr std::size_t kEntries = 1'000'000;
constexpr std::size_t kFrames = 16;

const std::vector<std::string>& symbol_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    v.reserve(kEntries);
    for (std::size_t i = 0; i < kEntries; ++i) {
      v.push_back("std::vector<int>::_M_realloc_insert<int const&>_" + std::to_string(i * 7919));
    }
    return v;
  }();
  return names;
}

const std::vector<std::uint64_t>& stack_frames() {
  static const std::vector<std::uint64_t> frames = [] {
    std::mt19937_64 rng(42);
    std::vector<std::uint64_t> v(kEntries * kFrames);
    for (auto& f : v) f = 0x7f0000000000ULL + (rng() & 0xFFFFFFFFFULL);
    return v;
  }();
  return frames;
}

std::vector<std::uint32_t> shuffled_order() {
  std::vector<std::uint32_t> order(kEntries);
  for (std::uint32_t i = 0; i < kEntries; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  return order;
}

void BM_InternStringHit(benchmark::State& state) {
  const auto& names = symbol_names();
  InternedStrings strings;
  for (const auto& n : names) strings.intern(n);
  auto order = shuffled_order();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(strings.intern(names[order[i]]));
    if (++i == kEntries) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InternStringHit);

void BM_InternStringNew(benchmark::State& state) {
  const auto& names = symbol_names();
  for (auto _ : state) {
    InternedStrings strings;
    for (const auto& n : names) benchmark::DoNotOptimize(strings.intern(n));
  }
  state.SetItemsProcessed(state.iterations() * kEntries);
}
BENCHMARK(BM_InternStringNew)->Unit(benchmark::kMillisecond);

void BM_InternCallstackHit(benchmark::State& state) {
  const auto& frames = stack_frames();
  InternedCallstacks stacks;
  auto stack = [&](std::size_t i) { return std::span(frames.data() + i * kFrames, kFrames); };
  for (std::size_t i = 0; i < kEntries; ++i) stacks.intern(stack(i));
  auto order = shuffled_order();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(stacks.intern(stack(order[i])));
    if (++i == kEntries) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["MiB"] = static_cast<double>(stacks.memory_bytes()) / (1 << 20);
}
BENCHMARK(BM_InternCallstackHit);

void BM_InternCallstackNew(benchmark::State& state) {
  const auto& frames = stack_frames();
  for (auto _ : state) {
    InternedCallstacks stacks;
    for (std::size_t i = 0; i < kEntries; ++i) {
      benchmark::DoNotOptimize(stacks.intern(std::span(frames.data() + i * kFrames, kFrames)));
    }
  }
  state.SetItemsProcessed(state.iterations() * kEntries);
}
BENCHMARK(BM_InternCallstackNew)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace one_collect

BENCHMARK_MAIN();
