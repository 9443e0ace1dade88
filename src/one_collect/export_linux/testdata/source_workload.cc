// Test workload for source lines and caller naming, built -O2 -g with
// functions unaligned and kept in source order (see CMakeLists.txt).
// "run MS": main -> oc_tail_caller -> oc_burn_and_exit (noreturn) ->
// oc_lines_outer, which burns about MS ms of CPU in the loop of
// oc_lines_inner, inlined into it (the line marked OC_INNER_LINE).
// oc_tail_caller's call is its last instruction, so its return address is
// the first byte of oc_after_tail_caller.
// "fault MS": oc_fault_first's first instruction (ud2) raises SIGILL; the
// handler, oc_fault_handler, burns CPU and resumes past it, for about MS ms.
// Stacks sampled in the handler hold oc_fault_first interrupted at its first
// byte, right after oc_before_fault's last one.
#include <signal.h>
#include <time.h>
#include <ucontext.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" {

volatile unsigned long oc_sink;

static double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

static inline __attribute__((always_inline)) unsigned long oc_lines_inner(unsigned long x,
                                                                          long rounds) {
  for (long i = 0; i < rounds; ++i)
    x = (x ^ (x >> 7)) * 0x9E3779B97F4A7C15ull + static_cast<unsigned long>(i);  // OC_INNER_LINE
  return x;
}

__attribute__((noinline)) unsigned long oc_lines_outer(unsigned long x, long rounds) {
  x = oc_lines_inner(x, rounds);
  return x ^ 1;
}

__attribute__((noinline, noreturn)) void oc_burn_and_exit(double seconds) {
  double start = cpu_seconds();
  unsigned long x = 1;
  while (cpu_seconds() - start < seconds) x = oc_lines_outer(x, 200000);
  oc_sink = x;
  std::exit(0);
}

// Ends with the call: nothing follows it, not even padding.
__attribute__((noinline)) void oc_tail_caller(double seconds) {
  oc_sink = 7;
  oc_burn_and_exit(seconds);
}

__attribute__((noinline, used)) void oc_after_tail_caller() { oc_sink = 2; }

// Written in assembly to fix the layout: oc_before_fault is one byte (ret)
// and oc_fault_first starts right after it.
__asm__(
    ".text\n"
    ".globl oc_before_fault\n"
    ".type oc_before_fault, @function\n"
    "oc_before_fault:\n"
    ".cfi_startproc\n"
    "  ret\n"
    ".cfi_endproc\n"
    ".size oc_before_fault, .-oc_before_fault\n"
    ".globl oc_fault_first\n"
    ".type oc_fault_first, @function\n"
    "oc_fault_first:\n"
    ".cfi_startproc\n"
    "  ud2\n"
    "  ret\n"
    ".cfi_endproc\n"
    ".size oc_fault_first, .-oc_fault_first\n");
void oc_before_fault();
void oc_fault_first();

__attribute__((noinline)) void oc_fault_handler(int, siginfo_t*, void* context) {
  unsigned long x = oc_sink;
  for (long i = 0; i < 2000000; ++i) x = (x ^ (x >> 7)) * 0x9E3779B97F4A7C15ull + i;
  oc_sink = x;
  static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_RIP] += 2;  // past the ud2
}

}  // extern "C"

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "run") == 0) {
    oc_tail_caller(std::atof(argv[2]) / 1000.0);
  }
  if (argc >= 2 && std::strcmp(argv[1], "after") == 0) oc_after_tail_caller();
  if (argc >= 3 && std::strcmp(argv[1], "fault") == 0) {
    struct sigaction sa {};
    sa.sa_sigaction = oc_fault_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGILL, &sa, nullptr);
    double seconds = std::atof(argv[2]) / 1000.0;
    double start = cpu_seconds();
    while (cpu_seconds() - start < seconds) oc_fault_first();
    oc_before_fault();
    return 0;
  }
  std::fprintf(stderr, "usage: source_workload run MS | fault MS\n");
  return 2;
}
