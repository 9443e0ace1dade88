// demo_workload: a small CPU-bound C++ program with three known hot
// functions, each given a fixed share of every 10 ms round:
//
//   sort_work   5 ms std::sort of random integers (self time in std::sort's internals)
//   map_work    3 ms std::map inserts, lookups and erases (self time in the tree and malloc)
//   hash_work   2 ms FNV-1a-style hashing of a buffer (self time in hash_work itself)
//
// so all three show up near the top of a profile's totals, under main.
// Built with -O2 -fomit-frame-pointer: frame-pointer stacks break, DWARF
// stacks do not.
//
// The exact shares depend on how long each chunk runs past its slice's end,
// so check a profile against another profiler's on the same run rather than
// against the nominal 5/3/2 ms slices. On exit it prints the chunks done per
// function (throughput, to measure a profiler's slowdown) and its CPU time.
//
// usage: demo_workload [--seconds S] [--threads N] [--exit-code C]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Counters {
  std::uint64_t sort_chunks = 0;
  std::uint64_t map_chunks = 0;
  std::uint64_t hash_chunks = 0;
  std::uint64_t checksum = 0;
};

}  // namespace

// Not static and never inlined: the profile must show these names. GCC may
// also clone a function (sort_work.constprop.0...), which noclone forbids;
// clang has no such attribute (-Wunknown-attributes under -Werror) and does
// not rename what it specializes, so noinline is enough there.
#if defined(__clang__)
#define DEMO_HOT __attribute__((noinline))
#else
#define DEMO_HOT __attribute__((noinline, noclone))
#endif
DEMO_HOT void sort_work(Clock::time_point until, std::mt19937_64& rng, Counters& c) {
  std::vector<std::uint32_t> v(4096);
  do {
    for (auto& x : v) x = static_cast<std::uint32_t>(rng());
    std::sort(v.begin(), v.end());
    c.checksum += v[v.size() / 2];
    ++c.sort_chunks;
  } while (Clock::now() < until);
}

DEMO_HOT void map_work(Clock::time_point until, std::mt19937_64& rng, Counters& c) {
  std::map<std::uint64_t, std::uint64_t> m;
  do {
    for (int i = 0; i < 512; ++i) m[rng() & 0xffff] += static_cast<std::uint64_t>(i);
    for (int i = 0; i < 512; ++i) {
      auto it = m.find(rng() & 0xffff);
      if (it != m.end()) c.checksum += it->second;
    }
    if (m.size() > 8192) m.clear();
    ++c.map_chunks;
  } while (Clock::now() < until);
}

DEMO_HOT void hash_work(Clock::time_point until, std::vector<std::uint8_t>& buf, Counters& c) {
  do {
    std::uint64_t h = 1469598103934665603ull;
    for (std::uint8_t b : buf) {
      h ^= b;
      h *= 1099511628211ull;
    }
    buf[h % buf.size()] ^= static_cast<std::uint8_t>(h);
    c.checksum += h;
    ++c.hash_chunks;
  } while (Clock::now() < until);
}

DEMO_HOT void worker(double seconds, unsigned seed, Counters* out) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> buf(16384);
  for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
  Counters c;
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(seconds));
  using std::chrono::microseconds;
  for (Clock::time_point now = Clock::now(); now < end; now = Clock::now()) {
    sort_work(now + microseconds(5000), rng, c);
    map_work(Clock::now() + microseconds(3000), rng, c);
    hash_work(Clock::now() + microseconds(2000), buf, c);
  }
  *out = c;
}

int main(int argc, char** argv) {
  double seconds = 2;
  unsigned threads = 1;
  int exit_code = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "demo_workload: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--seconds") {
      seconds = std::atof(value());
    } else if (arg == "--threads") {
      threads = static_cast<unsigned>(std::max(1, std::atoi(value())));
    } else if (arg == "--exit-code") {
      exit_code = std::atoi(value());
    } else {
      std::fprintf(stderr, "usage: demo_workload [--seconds S] [--threads N] [--exit-code C]\n");
      return 2;
    }
  }
  std::vector<Counters> results(threads);
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker, seconds, 42 + t, &results[t]);
  worker(seconds, 42, &results[0]);
  for (auto& th : pool) th.join();
  Counters sum;
  for (const Counters& c : results) {
    sum.sort_chunks += c.sort_chunks;
    sum.map_chunks += c.map_chunks;
    sum.hash_chunks += c.hash_chunks;
    sum.checksum += c.checksum;
  }
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf(
      "demo_workload: %.1f s x %u threads: sort %llu, map %llu, hash %llu chunks, "
      "cpu %.3f s (checksum %llx)\n",
      seconds, threads, static_cast<unsigned long long>(sum.sort_chunks),
      static_cast<unsigned long long>(sum.map_chunks),
      static_cast<unsigned long long>(sum.hash_chunks), cpu,
      static_cast<unsigned long long>(sum.checksum));
  return exit_code;
}
