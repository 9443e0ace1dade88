// Test workload for the Linux export session, built -O2 without frame
// pointers. "cpu MS": burns about MS milliseconds of CPU in two known
// functions, about 2:1. "sleep N MS": sleeps N times for MS milliseconds.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" {
__attribute__((noinline)) unsigned long oc_hot_sort(std::vector<unsigned>& v, unsigned seed) {
  for (auto& x : v) x = seed = seed * 1103515245u + 12345u;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

__attribute__((noinline)) unsigned long oc_hot_mix(unsigned long x, long rounds) {
  for (long i = 0; i < rounds; ++i)
    x = (x ^ (x >> 13)) * 0x9E3779B97F4A7C15ull + static_cast<unsigned long>(i);
  return x;
}

__attribute__((noinline)) void oc_sleep_once(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);
}
}

static double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "cpu") == 0) {
    double target = std::atof(argv[2]) / 1000.0;
    std::vector<unsigned> v(20000);
    unsigned long sink = 0;
    double start = cpu_seconds();
    while (cpu_seconds() - start < target) {
      sink += oc_hot_sort(v, static_cast<unsigned>(sink));
      sink += oc_hot_mix(sink, 400000);
    }
    std::printf("%lu\n", sink & 1);
    return 0;
  }
  if (argc >= 4 && std::strcmp(argv[1], "sleep") == 0) {
    int n = std::atoi(argv[2]);
    long ms = std::atol(argv[3]);
    for (int i = 0; i < n; ++i) oc_sleep_once(ms);
    return 0;
  }
  std::fprintf(stderr, "usage: export_workload cpu MS | sleep N MS\n");
  return 2;
}
