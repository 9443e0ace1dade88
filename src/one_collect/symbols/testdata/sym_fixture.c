/* Symbolization fixture (C, -O2 -fomit-frame-pointer -g). When run it prints
 * the runtime addresses of its own functions and objects, a return address
 * inside an always-inlined function with the source lines involved, then
 * its /proc/self/maps, so tests learn the expected answers without nm. */
#include <stdio.h>

int fixture_table[64] = {1};
static int sink;
static void* recorded_return;
static int recorded_line;
static int recorded_call_line;

__attribute__((noinline)) static int local_helper(int x) {
  sink += x;
  return sink * 7;
}

__attribute__((noinline)) int exported_work(int x) { return local_helper(x) + fixture_table[x & 63]; }

__attribute__((noinline)) void record_caller(int line) {
  recorded_return = __builtin_return_address(0);
  recorded_line = line;
  __asm__ volatile("" ::: "memory");
}

static inline __attribute__((always_inline)) int inlined_step(int x) {
  record_caller(__LINE__); /* INLINE_LINE */
  return x * 5 + sink;
}

__attribute__((noinline)) int outer_function(int x) {
  int r = inlined_step(x); int call_line = __LINE__;
  recorded_call_line = call_line;
  return r;
}

int main(int argc, char** argv) {
  (void)argv;
  int r = exported_work(argc) + outer_function(argc);
  printf("func local_helper %p\n", (void*)&local_helper);
  printf("func exported_work %p\n", (void*)&exported_work);
  printf("func outer_function %p\n", (void*)&outer_function);
  printf("func main %p\n", (void*)&main);
  printf("object fixture_table %p\n", (void*)&fixture_table[0]);
  printf("inline %p %d %d\n", recorded_return, recorded_line, recorded_call_line);
  printf("result %d\n", r);
  FILE* maps = fopen("/proc/self/maps", "r");
  char line[4096];
  while (maps && fgets(line, sizeof line, maps)) printf("map %s", line);
  if (maps) fclose(maps);
  return 0;
}
