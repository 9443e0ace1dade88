// Workload for the held-file symbolization tests: spins in functions with
// names no other binary has until file descriptor 3 becomes readable (data
// or EOF: the test closes its end of a pipe), so the test decides when it
// exits after seeing its samples. With "lib" the spin runs in
// liboc_held_file_lib.so instead (the build linked with it); with "clock" it
// reads the clock in a loop (the [vdso]).
//   held_file_workload self|lib|clock
#include <poll.h>
#include <time.h>

#include <cstdio>
#include <cstring>

#if OC_HELD_FILE_WITH_LIB
extern "C" unsigned long oc_held_lib_spin(unsigned long x, long rounds);
#else
// Built without the library: "lib" spins in the binary itself.
extern "C" unsigned long oc_held_original_spin(unsigned long x, long rounds);
#define oc_held_lib_spin oc_held_original_spin
#endif

extern "C" {
__attribute__((noinline)) unsigned long oc_held_original_spin(unsigned long x, long rounds) {
  for (long i = 0; i < rounds; ++i) {
    x = (x ^ (x >> 11)) * 0xD6E8FEB86659FD93ull + static_cast<unsigned long>(i);
  }
  return x;
}
}

static bool told_to_stop() {
  pollfd p{3, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

int main(int argc, char** argv) {
  bool lib = argc >= 2 && std::strcmp(argv[1], "lib") == 0;
  bool clock = argc >= 2 && std::strcmp(argv[1], "clock") == 0;
  unsigned long sink = 1;
  while (clock && !told_to_stop()) {
    for (int i = 0; i < 100000; ++i) {
      timespec ts{};
      clock_gettime(CLOCK_MONOTONIC, &ts);
      sink += static_cast<unsigned long>(ts.tv_nsec);
    }
  }
  while (!clock && !told_to_stop()) {
    sink = lib ? oc_held_lib_spin(sink, 200000) : oc_held_original_spin(sink, 200000);
  }
  std::printf("%lu\n", sink & 1);
  return 0;
}
