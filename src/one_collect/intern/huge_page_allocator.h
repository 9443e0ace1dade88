// An allocator for large tables that asks Linux for transparent huge pages.
//
// Interning tables reach hundreds of MB and are read at random: with 4 KiB
// pages nearly every lookup also misses the TLB. Blocks of 2 MiB or more are
// aligned to 2 MiB and advised MADV_HUGEPAGE (THP is in "madvise" mode on
// these machines); smaller blocks and other systems use plain operator new.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace one_collect {

template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT(google-explicit-constructor)

  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    std::size_t bytes = n * sizeof(T);
#if defined(__linux__)
    if (bytes >= kHugePage) {
      std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
      void* p = std::aligned_alloc(kHugePage, rounded);
      if (p == nullptr) throw std::bad_alloc();
      ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure is harmless
      return static_cast<T*>(p);
    }
#endif
    return static_cast<T*>(::operator new(bytes));
  }

  void deallocate(T* p, std::size_t n) {
#if defined(__linux__)
    if (n * sizeof(T) >= kHugePage) {
      std::free(p);
      return;
    }
#endif
    ::operator delete(p);
  }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

}  // namespace one_collect
