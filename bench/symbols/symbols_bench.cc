// Symbolization speed against real tables: libc, libstdc++ and the running
// kernel's kallsyms (needs root; skipped otherwise).
//   build-<dir>/bin/symbols_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <random>
#include <unordered_set>
#include <vector>

#include "one_collect/binary/elf_file.h"
#include "one_collect/fs/read_file.h"
#include "one_collect/symbols/kernel_symbols.h"
#include "one_collect/symbols/source_lines.h"
#include "one_collect/symbols/symbol_cache.h"
#include "one_collect/symbols/symbol_table.h"

namespace one_collect {
namespace {

const char* kLibc = "/lib/x86_64-linux-gnu/libc.so.6";
const char* kLibstdcxx = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";

void BM_BuildElfTable(benchmark::State& state, const char* path) {
  auto file = ElfFile::open(path);
  if (!file.ok()) {
    state.SkipWithError(file.status().to_string().c_str());
    return;
  }
  std::size_t n = 0;
  for (auto _ : state) {
    auto t = SymbolTable::from_elf(*file);
    n = t->size();
    benchmark::DoNotOptimize(t);
  }
  state.counters["symbols"] = static_cast<double>(n);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK_CAPTURE(BM_BuildElfTable, libc, kLibc)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_BuildElfTable, libstdcxx, kLibstdcxx)->Unit(benchmark::kMillisecond);

void BM_BuildKallsyms(benchmark::State& state) {
  auto text = read_file("/proc/kallsyms", 256u << 20);
  if (!text.ok()) {
    state.SkipWithError(text.status().to_string().c_str());
    return;
  }
  std::size_t n = 0;
  for (auto _ : state) {
    auto ks = KernelSymbols::parse(*text);
    if (!ks.ok()) {
      state.SkipWithError(ks.status().to_string().c_str());
      return;
    }
    n = ks->size();
    benchmark::DoNotOptimize(ks);
  }
  state.counters["symbols"] = static_cast<double>(n);
}
BENCHMARK(BM_BuildKallsyms)->Unit(benchmark::kMillisecond);

// One SymbolCache module load (open, debug-file search, index) end to end.
void BM_LoadModule(benchmark::State& state, const char* path) {
  for (auto _ : state) {
    SymbolCache cache;
    auto id = cache.load(path);
    benchmark::DoNotOptimize(id);
  }
}
BENCHMARK_CAPTURE(BM_LoadModule, libstdcxx, kLibstdcxx)->Unit(benchmark::kMillisecond);

struct Workload {
  std::vector<std::unique_ptr<SymbolTable>> tables;  // libc, libstdc++, kernel
  std::unique_ptr<KernelSymbols> kernel;
  // 1M unique (table index, address) pairs in random order.
  std::vector<std::pair<int, std::uint64_t>> queries;
};

std::unique_ptr<Workload> make_workload() {
  auto w = std::make_unique<Workload>();
  for (const char* p : {kLibc, kLibstdcxx}) {
    auto f = ElfFile::open(p);
    if (!f.ok()) return nullptr;
    auto t = SymbolTable::from_elf(*f);
    if (!t.ok()) return nullptr;
    w->tables.push_back(std::make_unique<SymbolTable>(std::move(t).value()));
  }
  auto ks = KernelSymbols::read();
  const SymbolTable* kt = nullptr;
  if (ks.ok()) {
    w->kernel = std::make_unique<KernelSymbols>(std::move(ks).value());
    kt = &w->kernel->table();
  }
  std::mt19937_64 rng(42);
  std::unordered_set<std::uint64_t> seen;
  const std::size_t kUnique = 1000000;
  int ntables = kt ? 3 : 2;
  while (w->queries.size() < kUnique) {
    int ti = static_cast<int>(rng() % ntables);
    const SymbolTable& t = ti < 2 ? *w->tables[ti] : *kt;
    std::size_t i = rng() % t.size();
    std::uint64_t span = std::min<std::uint64_t>(t.end_at(i) - t.start_at(i), 4096);
    std::uint64_t a = t.start_at(i) + rng() % span;
    std::uint64_t key = a ^ (static_cast<std::uint64_t>(ti) << 62);
    if (seen.insert(key).second) w->queries.emplace_back(ti, a);
  }
  return w;
}

const SymbolTable& table_of(const Workload& w, int ti) {
  return ti < 2 ? *w.tables[ti] : w.kernel->table();
}

// 1M unique addresses, each looked up once (random order), name touched.
void BM_Symbolize1MUnique(benchmark::State& state) {
  auto w = make_workload();
  if (!w) {
    state.SkipWithError("libc/libstdc++ not found");
    return;
  }
  std::size_t hits = 0;
  for (auto _ : state) {
    hits = 0;
    for (const auto& [ti, a] : w->queries) {
      auto s = table_of(*w, ti).lookup(a);
      if (s) hits += s->name.size() != 0;
    }
    benchmark::DoNotOptimize(hits);
  }
  state.counters["hits"] = static_cast<double>(hits);
  state.counters["kernel"] = w->kernel ? 1 : 0;
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w->queries.size()));
}
BENCHMARK(BM_Symbolize1MUnique)->Unit(benchmark::kMillisecond);

// The same, batch style: sort per table, then one merge walk per table.
void BM_Symbolize1MUniqueSorted(benchmark::State& state) {
  auto w = make_workload();
  if (!w) {
    state.SkipWithError("libc/libstdc++ not found");
    return;
  }
  std::vector<std::vector<std::uint64_t>> per(3);
  std::vector<std::optional<SymbolInfo>> out;
  for (auto _ : state) {
    for (auto& v : per) v.clear();
    for (const auto& [ti, a] : w->queries) per[ti].push_back(a);
    std::size_t hits = 0;
    for (int ti = 0; ti < 3; ++ti) {
      if (per[ti].empty()) continue;
      std::sort(per[ti].begin(), per[ti].end());
      table_of(*w, ti).lookup_sorted(per[ti], out);
      for (const auto& s : out) hits += s.has_value();
    }
    benchmark::DoNotOptimize(hits);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w->queries.size()));
}
BENCHMARK(BM_Symbolize1MUniqueSorted)->Unit(benchmark::kMillisecond);

// Cold: fresh tables every iteration (build + first-time demangling + 1M
// lookups): what one export costs from scratch.
void BM_Symbolize1MUniqueCold(benchmark::State& state) {
  auto w = make_workload();
  if (!w) {
    state.SkipWithError("libc/libstdc++ not found");
    return;
  }
  auto libc = ElfFile::open(kLibc);
  auto cxx = ElfFile::open(kLibstdcxx);
  auto ktext = read_file("/proc/kallsyms", 256u << 20);
  for (auto _ : state) {
    SymbolTable a = std::move(SymbolTable::from_elf(*libc).value());
    SymbolTable b = std::move(SymbolTable::from_elf(*cxx).value());
    std::optional<KernelSymbols> k;
    if (w->kernel) k = std::move(KernelSymbols::parse(*ktext).value());
    const SymbolTable* ts[3] = {&a, &b, k ? &k->table() : nullptr};
    std::size_t hits = 0;
    for (const auto& [ti, addr] : w->queries) {
      auto s = ts[ti]->lookup(addr);
      if (s) hits += s->name.size() != 0;
    }
    benchmark::DoNotOptimize(hits);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w->queries.size()));
}
BENCHMARK(BM_Symbolize1MUniqueCold)->Unit(benchmark::kMillisecond);

#ifdef OC_SYM_FIXTURE
// file:line + inlined frames for every byte address of the fixture's .text
// that DWARF covers, one SourceLines (libdw handle kept open).
void BM_SourceLinesEveryTextByte(benchmark::State& state) {
  auto f = ElfFile::open(OC_SYM_FIXTURE);
  auto text = f->section(".text");
  if (!text.ok()) {
    state.SkipWithError("fixture has no .text");
    return;
  }
  // Only the addresses that DWARF covers (the C runtime's code has none).
  std::vector<std::uint64_t> covered;
  {
    SourceLines probe;
    for (std::uint64_t a = text->addr; a < text->addr + text->size; ++a) {
      if (probe.frames(OC_SYM_FIXTURE, a).ok()) covered.push_back(a);
    }
  }
  SourceLines lines;
  std::size_t found = 0;
  for (auto _ : state) {
    found = 0;
    for (std::uint64_t a : covered) {
      auto r = lines.frames(OC_SYM_FIXTURE, a);
      found += r.ok() ? r->size() : 0;
    }
    benchmark::DoNotOptimize(found);
  }
  state.counters["addresses"] = static_cast<double>(covered.size());
  state.counters["frames"] = static_cast<double>(found);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(covered.size()));
}
BENCHMARK(BM_SourceLinesEveryTextByte)->Unit(benchmark::kMillisecond);

// Any binary with DWARF, named by OC_BENCH_DWARF_FILE (skipped if unset):
// 2000 addresses spread evenly over .text, a fresh SourceLines per
// iteration, so the per-unit function index is built inside the timing.
void BM_SourceLinesSpreadOverBinary(benchmark::State& state) {
  const char* path = std::getenv("OC_BENCH_DWARF_FILE");
  if (path == nullptr) {
    state.SkipWithError("set OC_BENCH_DWARF_FILE to a binary with DWARF");
    return;
  }
  auto f = ElfFile::open(path);
  if (!f.ok() || !f->section(".text").ok()) {
    state.SkipWithError("cannot read the file's .text");
    return;
  }
  auto text = f->section(".text");
  const int kAddresses = 2000;
  std::size_t found = 0;
  for (auto _ : state) {
    SourceLines lines;
    found = 0;
    for (int i = 0; i < kAddresses; ++i) {
      auto r = lines.frames(path, text->addr + (text->size / kAddresses) * i);
      found += r.ok() ? r->size() : 0;
    }
    benchmark::DoNotOptimize(found);
  }
  state.counters["frames"] = static_cast<double>(found);
  state.SetItemsProcessed(state.iterations() * kAddresses);
}
BENCHMARK(BM_SourceLinesSpreadOverBinary)->Unit(benchmark::kMillisecond);
#endif

}  // namespace
}  // namespace one_collect

BENCHMARK_MAIN();
