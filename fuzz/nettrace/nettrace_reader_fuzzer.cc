// Feeds arbitrary bytes to the nettrace reader: it must return (ok or an
// error) without crashing, reading out of bounds or running away.
#include <cstddef>
#include <cstdint>

#include "one_collect/formats/nettrace/nettrace_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  one_collect::ByteSpan bytes(data, size);
  auto kept = one_collect::ntread::read_nettrace(bytes);
  if (kept.ok()) {
    // Decoded references must be consistent with what was read.
    for (const auto& e : kept->events) {
      if (e.metadata >= kept->metadata.size()) __builtin_trap();
      if (e.fields.size() != kept->metadata[e.metadata].fields.size()) __builtin_trap();
    }
  }
  one_collect::ntread::ReadOptions count_only;
  count_only.keep_events = false;
  auto counted = one_collect::ntread::read_nettrace(bytes, count_only);
  if (kept.ok() != counted.ok()) __builtin_trap();
  return 0;
}
