// InternedCallstacks: each distinct frame sequence stored once, named by a
// dense id. Id 0 is the empty stack. Spans stay valid until the next intern()
// of a new stack.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "one_collect/intern/interned_slices.h"

namespace one_collect {

class InternedCallstacks {
 public:
  using Id = std::uint32_t;
  explicit InternedCallstacks(std::size_t expected_entries = 512) : slices_(expected_entries) {}

  Id intern(std::span<const std::uint64_t> frames) { return slices_.intern(frames); }
  std::optional<Id> find(std::span<const std::uint64_t> frames) const {
    return slices_.find(frames);
  }
  std::optional<std::span<const std::uint64_t>> get(Id id) const { return slices_.get(id); }
  // Copies the frames into `out` (replacing its contents); false for an unknown id.
  bool copy_to(Id id, std::vector<std::uint64_t>& out) const {
    auto frames = slices_.get(id);
    if (!frames) return false;
    out.assign(frames->begin(), frames->end());
    return true;
  }
  std::size_t size() const { return slices_.size(); }
  std::size_t memory_bytes() const { return slices_.memory_bytes(); }

 private:
  InternedSlices<std::uint64_t> slices_;
};

}  // namespace one_collect
