// A C++ program spending its time in the standard library: std::sort with
// a comparator and std::map inserts and lookups, below run_sort/run_map.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <vector>

volatile unsigned long sink;

__attribute__((noinline)) bool compare_values(unsigned a, unsigned b) {
  return (a ^ 0x5555u) < (b ^ 0x5555u);
}

__attribute__((noinline)) unsigned long run_sort(unsigned seed) {
  std::vector<unsigned> v(20000);
  unsigned x = seed;
  for (auto& e : v) e = x = x * 1103515245u + 12345u;
  std::sort(v.begin(), v.end(), compare_values);
  return v[v.size() / 2];
}

__attribute__((noinline)) unsigned long run_map(unsigned seed) {
  std::map<unsigned, unsigned> m;
  unsigned x = seed;
  for (int i = 0; i < 20000; ++i) m[x = x * 1103515245u + 12345u] = static_cast<unsigned>(i);
  unsigned long hits = 0;
  for (int i = 0; i < 20000; ++i) hits += m.count(x = x * 1103515245u + 12345u);
  return hits + m.size();
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 2.0;
  if (write(1, "r", 1) != 1) return 1;
  long rounds = static_cast<long>(seconds * 40);
  unsigned long total = 0;
  for (long i = 0; i < rounds; ++i) {
    total += run_sort(static_cast<unsigned>(i));
    total += run_map(static_cast<unsigned>(i));
  }
  sink = total;
  return 0;
}
