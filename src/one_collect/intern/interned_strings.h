// InternedStrings: each distinct string stored once, named by a dense id.
// Id 0 is "". Views stay valid until the next intern() of a new string.
#pragma once

#include <optional>
#include <string_view>

#include "one_collect/intern/interned_slices.h"

namespace one_collect {

class InternedStrings {
 public:
  using Id = std::uint32_t;
  explicit InternedStrings(std::size_t expected_entries = 64) : slices_(expected_entries) {}

  Id intern(std::string_view text) { return slices_.intern(std::span(text.data(), text.size())); }
  std::optional<Id> find(std::string_view text) const {
    return slices_.find(std::span(text.data(), text.size()));
  }
  std::optional<std::string_view> get(Id id) const {
    auto chars = slices_.get(id);
    if (!chars) return std::nullopt;
    return std::string_view(chars->data(), chars->size());
  }
  std::size_t size() const { return slices_.size(); }
  std::size_t memory_bytes() const { return slices_.memory_bytes(); }

 private:
  InternedSlices<char> slices_;
};

}  // namespace one_collect
