/* A small program with a known build id (set at link time by CMake), used by
 * the ELF reader tests. */
#include <stdio.h>

int fixture_global = 42;

__attribute__((noinline)) int fixture_function(int x) { return x * 3 + fixture_global; }

int main(int argc, char** argv) {
  (void)argv;
  printf("%d\n", fixture_function(argc));
  return 0;
}
