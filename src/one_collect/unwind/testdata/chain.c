// A program with a known call chain for the live unwinding tests:
// main -> work_a -> work_b -> work_c, where work_c spins. Built twice: with
// -fomit-frame-pointer (the unwinder must use CFI) and with frame pointers.
// Each caller keeps live state across the call so none is a tail call.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

volatile unsigned long sink;

__attribute__((noinline)) unsigned long work_c(unsigned long n) {
  unsigned long x = n;
  for (unsigned long i = 0; i < 200000; ++i) x = x * 6364136223846793005ul + i;
  sink = x;
  return x;
}

__attribute__((noinline)) unsigned long work_b(unsigned long n) {
  volatile unsigned long local[16];
  for (int i = 0; i < 16; ++i) local[i] = n + (unsigned long)i;
  unsigned long r = work_c(local[3]);
  return r + local[7];
}

__attribute__((noinline)) unsigned long work_a(unsigned long n) {
  unsigned long r = work_b(n * 3);
  return r ^ (n + 1);
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 2.0;
  // Tell the parent we are in main (its mappings are final).
  if (write(1, "r", 1) != 1) return 1;
  unsigned long total = 0;
  long rounds = (long)(seconds * 2000);
  for (long i = 0; i < rounds; ++i) total += work_a((unsigned long)i);
  return (int)(total & 1);
}
