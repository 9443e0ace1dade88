// Work inside a signal handler: the unwinder must step through the
// kernel's signal frame (__restore_rt, whose CFI restores every register
// from the ucontext with DW_CFA_expression rules) back into main.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

volatile unsigned long sink;

__attribute__((noinline)) void spin_handler(int sig) {
  unsigned long x = (unsigned long)sig;
  for (unsigned long i = 0; i < 300000; ++i) x = x * 6364136223846793005ul + i;
  sink = x;
}

__attribute__((noinline)) void interrupted(long i) {
  volatile unsigned long pad[8];
  pad[0] = (unsigned long)i;
  raise(SIGUSR1);
  sink += pad[0];
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 2.0;
  struct sigaction sa = {0};
  sa.sa_handler = spin_handler;
  sigaction(SIGUSR1, &sa, 0);
  if (write(1, "r", 1) != 1) return 1;
  long rounds = (long)(seconds * 2000);
  for (long i = 0; i < rounds; ++i) interrupted(i);
  return 0;
}
