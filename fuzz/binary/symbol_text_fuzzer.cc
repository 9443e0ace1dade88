// Feeds arbitrary text to the perf-map and kallsyms parsers.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "one_collect/symbols/kernel_symbols.h"
#include "one_collect/symbols/perf_map.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace one_collect;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  PerfMapOptions opts;
  opts.max_entries = 10000;
  PerfMap map = PerfMap::parse(text, opts);
  for (std::size_t i = 0; i < map.table().size() && i < 64; ++i) {
    (void)map.lookup(map.table().start_at(i));
  }
  auto ks = KernelSymbols::parse(text);
  if (ks.ok()) (void)ks->lookup(0xffffffff81000000ull);
  return 0;
}
