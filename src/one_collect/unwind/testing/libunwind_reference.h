// Test support: an independent unwinder (libunwind, remote mode) over the
// same captured stack, registers and mappings, to cross-check our frames.
// Memory reads come from the stack copy, else from the mapped files' bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "one_collect/process/process_table.h"
#include "one_collect/unwind/unwinder.h"

namespace one_collect::unwind::testing {

class LibunwindReference {
 public:
  LibunwindReference();
  ~LibunwindReference();
  LibunwindReference(const LibunwindReference&) = delete;
  LibunwindReference& operator=(const LibunwindReference&) = delete;

  // Frames (innermost first), at most `max_frames`.
  std::vector<std::uint64_t> unwind(const AddressSpace& space, const UnwindInput& input,
                                    std::size_t max_frames = 256);

 private:
  void* address_space_;
};

}  // namespace one_collect::unwind::testing
