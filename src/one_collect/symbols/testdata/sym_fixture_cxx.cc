// Symbolization fixture (C++, -O2, standard library). Prints the runtime
// addresses of known functions and its /proc/self/maps (see sym_fixture.c).
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace fixture {

class Widget {
 public:
  explicit Widget(int seed) : seed_(seed) {}
  __attribute__((noinline)) long compute(int x) const;

 private:
  int seed_;
};

long Widget::compute(int x) const {
  std::vector<int> v;
  for (int i = 0; i < x + 16; ++i) v.push_back((i * 7919 + seed_) % 101);
  std::sort(v.begin(), v.end());
  return v.front() + v.back();
}

template <typename T>
__attribute__((noinline)) T twice(T v) {
  std::map<std::string, T> m;
  m["a"] = v;
  return m["a"] * 2;
}

}  // namespace fixture

int main(int argc, char**) {
  fixture::Widget w(argc);
  long r = w.compute(argc) + fixture::twice<long>(argc);
  long (fixture::Widget::*member)(int) const = &fixture::Widget::compute;
  void* member_addr = nullptr;
  static_assert(sizeof(member) >= sizeof(void*));
  __builtin_memcpy(&member_addr, &member, sizeof(void*));  // non-virtual: the code address
  std::printf("func fixture::Widget::compute(int) const %p\n", member_addr);
  std::printf("func long fixture::twice<long>(long) %p\n",
              reinterpret_cast<void*>(&fixture::twice<long>));
  std::printf("result %ld\n", r);
  FILE* maps = std::fopen("/proc/self/maps", "r");
  char line[4096];
  while (maps && std::fgets(line, sizeof line, maps)) std::printf("map %s", line);
  if (maps) std::fclose(maps);
  return 0;
}
