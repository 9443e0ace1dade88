// A small program the live perf tests run and probe.
//   perf_test_target spin MS          burn MS milliseconds of CPU time
//   perf_test_target calls N          call oc_probe_target N times
//   perf_test_target family MS        after a line on stdin: start a thread
//                                     and fork a child, each burning MS of CPU
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" {
volatile unsigned long oc_probe_sink = 0;
__attribute__((noinline, used)) void oc_probe_target(unsigned long v) {
  oc_probe_sink = oc_probe_sink + v;
  __asm__ volatile("" ::: "memory");
}
}

namespace {

double cpu_ms(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

void spin_thread_ms(double ms) {
  double start = cpu_ms(CLOCK_THREAD_CPUTIME_ID);
  volatile unsigned long x = 0;
  while (cpu_ms(CLOCK_THREAD_CPUTIME_ID) - start < ms) {
    for (int i = 0; i < 10000; ++i) x = x + static_cast<unsigned long>(i);
  }
}

void* thread_main(void* arg) {
  spin_thread_ms(*static_cast<double*>(arg));
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s spin MS | calls N | family MS\n", argv[0]);
    return 2;
  }
  if (std::strcmp(argv[1], "spin") == 0) {
    spin_thread_ms(std::atof(argv[2]));
    return 0;
  }
  if (std::strcmp(argv[1], "calls") == 0) {
    unsigned long n = std::strtoul(argv[2], nullptr, 10);
    for (unsigned long i = 0; i < n; ++i) oc_probe_target(i);
    return 0;
  }
  if (std::strcmp(argv[1], "family") == 0) {
    double ms = std::atof(argv[2]);
    char line[16];
    if (std::fgets(line, sizeof(line), stdin) == nullptr) return 3;
    pthread_t t;
    pthread_create(&t, nullptr, thread_main, &ms);
    pid_t child = fork();
    if (child == 0) {
      spin_thread_ms(ms);
      _exit(0);
    }
    std::printf("%d\n", static_cast<int>(child));
    std::fflush(stdout);
    pthread_join(t, nullptr);
    int status = 0;
    waitpid(child, &status, 0);
    return 0;
  }
  return 2;
}
