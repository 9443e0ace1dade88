// Interning at scale: 1M distinct strings and 16-frame callstacks, measured
// for hits (already interned, looked up in random order) and new entries.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "one_collect/intern/interned_callstacks.h"
#include "one_collect/intern/interned_strings.h"

namespace one_collect {
namespace {

constexpr std::size_t kEntries = 1'000'000;
constexpr std::size_t kFrames = 16;

// Symbol-like name `i`, written into `buffer` (generated on the fly, as
// for stacks above).
std::string_view make_name(std::size_t i, char (&buffer)[96]) {
  static constexpr std::string_view kPrefix = "std::vector<int>::_M_realloc_insert<int const&>_";
  std::memcpy(buffer, kPrefix.data(), kPrefix.size());
  auto [end, ec] = std::to_chars(buffer + kPrefix.size(), buffer + sizeof buffer, i * 7919);
  return std::string_view(buffer, static_cast<std::size_t>(end - buffer));
}

// Stack `i` is generated on the fly into a local buffer: in the pipeline the
// stack being interned was just unwound and sits in cache, so reading keys
// from a 128 MB table would measure this VM's memory latency, not interning.
void make_stack(std::size_t i, std::uint64_t* frames) {
  for (std::size_t f = 0; f < kFrames; ++f) {
    frames[f] = 0x7f0000000000ULL + (hash_mix(i * kFrames + f) & 0xFFFFFFFFFULL);
  }
}

// Lookup orders over the 1M entries. Uniform is the worst case (every
// lookup a cache miss); a profiler's stacks are skewed, modelled here by a
// log-uniform popularity (Zipf-like, s ~ 1) over entries placed at random.
// Pattern 2 ("hot") draws lookups from 4096 entries only: the cache-resident
// case of a profile dominated by a few hot stacks.
std::vector<std::uint32_t> lookup_order(std::int64_t pattern) {
  std::vector<std::uint32_t> order(kEntries);
  std::mt19937 rng(7);
  if (pattern == 2) {
    std::uniform_int_distribution<std::uint32_t> pick(0, kEntries - 1);
    std::vector<std::uint32_t> hot(4096);
    for (auto& h : hot) h = pick(rng);
    for (auto& o : order) o = hot[rng() % hot.size()];
    return order;
  }
  bool skewed = pattern == 1;
  if (!skewed) {
    for (std::uint32_t i = 0; i < kEntries; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    return order;
  }
  std::vector<std::uint32_t> rank(kEntries);
  for (std::uint32_t i = 0; i < kEntries; ++i) rank[i] = i;
  std::shuffle(rank.begin(), rank.end(), rng);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (auto& o : order) {
    auto r = static_cast<std::size_t>(std::pow(static_cast<double>(kEntries), u(rng))) - 1;
    o = rank[std::min(r, kEntries - 1)];
  }
  return order;
}

void BM_InternStringHit(benchmark::State& state) {
  InternedStrings strings;
  char buffer[96];
  for (std::size_t n = 0; n < kEntries; ++n) strings.intern(make_name(n, buffer));
  auto order = lookup_order(state.range(0));
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(strings.intern(make_name(order[i], buffer)));
    if (++i == kEntries) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InternStringHit)->ArgName("uniform0_zipf1_hot2")->Arg(0)->Arg(1)->Arg(2);

void BM_InternStringNew(benchmark::State& state) {
  char buffer[96];
  for (auto _ : state) {
    InternedStrings strings;
    for (std::size_t n = 0; n < kEntries; ++n) {
      benchmark::DoNotOptimize(strings.intern(make_name(n, buffer)));
    }
  }
  state.SetItemsProcessed(state.iterations() * kEntries);
}
BENCHMARK(BM_InternStringNew)->Unit(benchmark::kMillisecond);

void BM_InternCallstackHit(benchmark::State& state) {
  InternedCallstacks stacks;
  std::uint64_t frames[kFrames];
  for (std::size_t i = 0; i < kEntries; ++i) {
    make_stack(i, frames);
    stacks.intern(frames);
  }
  auto order = lookup_order(state.range(0));
  std::size_t i = 0;
  for (auto _ : state) {
    make_stack(order[i], frames);
    benchmark::DoNotOptimize(stacks.intern(frames));
    if (++i == kEntries) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["MiB"] = static_cast<double>(stacks.memory_bytes()) / (1 << 20);
}
BENCHMARK(BM_InternCallstackHit)->ArgName("uniform0_zipf1_hot2")->Arg(0)->Arg(1)->Arg(2);

void BM_InternCallstackNew(benchmark::State& state) {
  std::uint64_t frames[kFrames];
  for (auto _ : state) {
    InternedCallstacks stacks;
    for (std::size_t i = 0; i < kEntries; ++i) {
      make_stack(i, frames);
      benchmark::DoNotOptimize(stacks.intern(frames));
    }
  }
  state.SetItemsProcessed(state.iterations() * kEntries);
}
BENCHMARK(BM_InternCallstackNew)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace one_collect

BENCHMARK_MAIN();
