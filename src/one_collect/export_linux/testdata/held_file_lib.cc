// The shared library of the held-file tests: two processes map it, and it
// must be opened and indexed once.
extern "C" {
__attribute__((noinline)) unsigned long oc_held_lib_spin(unsigned long x, long rounds) {
  for (long i = 0; i < rounds; ++i) {
    x = (x ^ (x >> 17)) * 0x9E3779B97F4A7C15ull + static_cast<unsigned long>(i);
  }
  return x;
}
}
