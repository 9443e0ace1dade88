// FlatMap64: an open-addressing map from 64-bit keys to 32-bit values, for
// the export's hot caches (millions of entries, no per-entry allocation).
// Key ~0 is reserved as the empty marker.
#pragma once

#include <cstdint>
#include <vector>

#include "one_collect/core/hash.h"

namespace one_collect {

class FlatMap64 {
 public:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};

  explicit FlatMap64(std::size_t expected = 16) {
    std::size_t capacity = 16;
    while (capacity * 7 < expected * 10) capacity *= 2;
    slots_.assign(capacity, Slot{kEmpty, 0});
  }

  // The value for key, or nullptr.
  const std::uint32_t* find(std::uint64_t key) const {
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash_mix(key) & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
    }
  }

  // Inserts (key, value) unless key is present; returns the stored value.
  std::uint32_t insert(std::uint64_t key, std::uint32_t value) {
    if ((size_ + 1) * 10 > slots_.size() * 7) grow();
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash_mix(key) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.key == key) return s.value;
      if (s.key == kEmpty) {
        s = Slot{key, value};
        ++size_;
        return value;
      }
    }
  }

  std::size_t size() const { return size_; }
  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(Slot); }
  void clear() {
    slots_.assign(16, Slot{kEmpty, 0});
    size_ = 0;
  }

 private:
  struct Slot {
    std::uint64_t key;
    std::uint32_t value;
  };
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{kEmpty, 0});
    std::size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.key == kEmpty) continue;
      std::size_t i = hash_mix(s.key) & mask;
      while (slots_[i].key != kEmpty) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace one_collect

namespace one_collect {

// FlatMap128: the same for 128-bit keys (two words); (~0, ~0) is reserved.
class FlatMap128 {
 public:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};

  explicit FlatMap128(std::size_t expected = 16) {
    std::size_t capacity = 16;
    while (capacity * 7 < expected * 10) capacity *= 2;
    slots_.assign(capacity, Slot{kEmpty, kEmpty, 0});
  }

  const std::uint32_t* find(std::uint64_t a, std::uint64_t b) const {
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash(a, b) & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.a == a && s.b == b) return &s.value;
      if (s.a == kEmpty && s.b == kEmpty) return nullptr;
    }
  }

  std::uint32_t insert(std::uint64_t a, std::uint64_t b, std::uint32_t value) {
    if ((size_ + 1) * 10 > slots_.size() * 7) grow();
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash(a, b) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.a == a && s.b == b) return s.value;
      if (s.a == kEmpty && s.b == kEmpty) {
        s = Slot{a, b, value};
        ++size_;
        return value;
      }
    }
  }

  std::size_t size() const { return size_; }
  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(Slot); }
  void clear() {
    slots_.assign(16, Slot{kEmpty, kEmpty, 0});
    size_ = 0;
  }

 private:
  struct Slot {
    std::uint64_t a;
    std::uint64_t b;
    std::uint32_t value;
  };
  static std::uint64_t hash(std::uint64_t a, std::uint64_t b) { return hash_pair(a, b); }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{kEmpty, kEmpty, 0});
    std::size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.a == kEmpty && s.b == kEmpty) continue;
      std::size_t i = hash(s.a, s.b) & mask;
      while (!(slots_[i].a == kEmpty && slots_[i].b == kEmpty)) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace one_collect
