// InternedSlices<E>: stores each distinct slice of E once and names it by a
// dense id. Id 0 is always the empty slice.
//
// Slices live back to back in one arena; an open-addressing table (linear
// probing, 32-bit hash tags, arena position in the slot) maps contents to ids
// and doubles when 70% full,
// so lookups stay O(1) at millions of entries. Views returned by get() stay
// valid until the next intern() that adds a new slice.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "one_collect/core/hash.h"
#include "one_collect/intern/huge_page_allocator.h"

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
        slot = make_slot(tag, id);
        if ((spans_.size() - 1) * 10 > slots_.size() * 7) grow();
        return id;
      }
      if (slot.tag == tag && equals(slot, items)) return slot.id;
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
      if (slot.tag == tag && equals(slot, items)) return slot.id;
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
  // A slot carries where its slice lives in the arena (offset and length
  // packed in 64 bits), so a hit touches the slot and the arena only.
  static constexpr std::uint64_t kLengthBits = 24;
  static constexpr std::uint64_t kLongSlice = (1u << kLengthBits) - 1;  // length in spans_
  struct Slot {
    std::uint32_t tag = 0;
    Id id = 0;  // 0: empty slot (the empty slice is never stored in the table)
    std::uint64_t where = 0;
  };
  struct Span {
    std::uint64_t start;
    std::uint32_t length;
  };

  Slot make_slot(std::uint32_t tag, Id id) const {
    const Span& s = spans_[id];
    std::uint64_t length = s.length < kLongSlice ? s.length : kLongSlice;
    return Slot{tag, id, (s.start << kLengthBits) | length};
  }

  bool equals(const Slot& slot, std::span<const E> items) const {
    std::uint64_t length = slot.where & kLongSlice;
    if (length == kLongSlice) length = spans_[slot.id].length;
    return length == items.size() && std::memcmp(arena_.data() + (slot.where >> kLengthBits),
                                                 items.data(), items.size_bytes()) == 0;
  }

  Id append(std::span<const E> items) {
    auto id = static_cast<Id>(spans_.size());
    spans_.push_back(Span{arena_.size(), static_cast<std::uint32_t>(items.size())});
    arena_.insert(arena_.end(), items.begin(), items.end());
    return id;
  }

  // Rebuilds the table twice as large, walking ids in order so the arena is
  // read sequentially, and prefetching a batch of target slots before
  // writing them so their cache misses overlap.
  void grow() {
    slots_.assign(slots_.size() * 2, Slot{});
    std::size_t mask = slots_.size() - 1;
    constexpr Id kBatch = 16;
    std::uint64_t hashes[kBatch];
    for (Id first = 1; first < spans_.size(); first += kBatch) {
      Id count = static_cast<Id>(std::min<std::size_t>(kBatch, spans_.size() - first));
      for (Id k = 0; k < count; ++k) {
        const Span& s = spans_[first + k];
        hashes[k] = hash_bytes(arena_.data() + s.start, s.length * sizeof(E));
        __builtin_prefetch(&slots_[hashes[k] & mask], 1);
      }
      for (Id k = 0; k < count; ++k) {
        std::size_t i = hashes[k] & mask;
        while (slots_[i].id != 0) i = (i + 1) & mask;
        slots_[i] = make_slot(static_cast<std::uint32_t>(hashes[k] >> 32), first + k);
      }
    }
  }

  std::vector<E, HugePageAllocator<E>> arena_;
  std::vector<Span, HugePageAllocator<Span>> spans_;
  std::vector<Slot, HugePageAllocator<Slot>> slots_;
};

}  // namespace one_collect
