// A tiny program for uprobe tests: calls oc_uprobe_target_fn N times
// (argv[1], default 10) with arguments 0..N-1, then exits 0. The function is
// exported, not inlined and has its own symbol, so a uprobe on it fires
// exactly N times and a uretprobe sees each return value (arg * 2).
#include <cstdlib>

extern "C" __attribute__((noinline, used, visibility("default"))) int oc_uprobe_target_fn(int arg) {
  // The asm keeps the call and the body from being folded away.
  asm volatile("" ::: "memory");
  return arg * 2;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 10;
  volatile int sink = 0;
  for (long i = 0; i < n; ++i) sink = sink + oc_uprobe_target_fn(static_cast<int>(i));
  return sink < 0 ? 1 : 0;
}
