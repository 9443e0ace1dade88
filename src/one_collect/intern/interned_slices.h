// InternedSlices<E>: stores each distinct slice of E once and names it by a
// dense id. Id 0 is always the empty slice.
//
// Slices live back to back in one arena; an open-addressing table (linear
// probing, 32-bit hash tags) maps contents to ids and doubles when 70% full,
// so lookups stay O(1) at millions of entries. Views returned by get() stay
// valid until the next intern() that adds a new slice.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "one_collect/intern/hash.h"

namespace one_collect {

template <typename E>
class InternedSlices {
  static_assert(std::is_trivially_copyable_v<E>);

 public:
  using Id = std::uint32_t;

  explicit InternedSlices(std::size_t expected_entries = 64) {
    std::size_t capacity = 16;
    while (capacity * 7 < expected_entries * 10) capacity *= 2;
    slots_.assign(capacity, Slot{});
    spans_.push_back(Span{0, 0});  // id 0: the empty slice
  }

  Id intern(std::span<const E> items) {
    if (items.empty()) return 0;
    std::uint64_t hash = hash_bytes(items.data(), items.size_bytes());
    auto tag = static_cast<std::uint32_t>(hash >> 32);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.id == 0) {
        Id id = append(items);
        slot = Slot{tag, id};
        if ((spans_.size() - 1) * 10 > slots_.size() * 7) grow();
        return id;
      }
      if (slot.tag == tag && equals(slot.id, items)) return slot.id;
    }
  }

  // The id of `items` if interned, without adding it.
  std::optional<Id> find(std::span<const E> items) const {
    if (items.empty()) return Id{0};
    std::uint64_t hash = hash_bytes(items.data(), items.size_bytes());
    auto tag = static_cast<std::uint32_t>(hash >> 32);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.id == 0) return std::nullopt;
      if (slot.tag == tag && equals(slot.id, items)) return slot.id;
    }
  }

  std::optional<std::span<const E>> get(Id id) const {
    if (id >= spans_.size()) return std::nullopt;
    const Span& s = spans_[id];
    return std::span<const E>(arena_.data() + s.start, s.length);
  }

  // Number of ids handed out, the empty slice included.
  std::size_t size() const { return spans_.size(); }
  std::size_t arena_items() const { return arena_.size(); }
  std::size_t memory_bytes() const {
    return arena_.capacity() * sizeof(E) + spans_.capacity() * sizeof(Span) +
           slots_.capacity() * sizeof(Slot);
  }

 private:
  struct Slot {
    std::uint32_t tag = 0;
    Id id = 0;  // 0: empty slot (the empty slice is never stored in the table)
  };
  struct Span {
    std::uint64_t start;
    std::uint32_t length;
  };

  bool equals(Id id, std::span<const E> items) const {
    const Span& s = spans_[id];
    return s.length == items.size() &&
           std::memcmp(arena_.data() + s.start, items.data(), items.size_bytes()) == 0;
  }

  Id append(std::span<const E> items) {
    auto id = static_cast<Id>(spans_.size());
    spans_.push_back(Span{arena_.size(), static_cast<std::uint32_t>(items.size())});
    arena_.insert(arena_.end(), items.begin(), items.end());
    return id;
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    std::size_t mask = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.id == 0) continue;
      const Span& s = spans_[slot.id];
      std::uint64_t hash = hash_bytes(arena_.data() + s.start, s.length * sizeof(E));
      std::size_t i = hash & mask;
      while (slots_[i].id != 0) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  std::vector<E> arena_;
  std::vector<Span> spans_;
  std::vector<Slot> slots_;
};

}  // namespace one_collect
