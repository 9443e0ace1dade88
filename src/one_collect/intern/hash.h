// A fast 64-bit hash for interning keys (not for untrusted adversarial input
// where flooding matters; table growth bounds the damage anyway).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace one_collect {

inline std::uint64_t hash_mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// Words are folded with a multiply-rotate step, two lanes at a time so the
// multiplies overlap; the result is finalised with a full avalanche.
inline std::uint64_t hash_bytes(const void* data, std::size_t size) {
  constexpr std::uint64_t k1 = 0x9E3779B97F4A7C15ULL;
  constexpr std::uint64_t k2 = 0xC2B2AE3D27D4EB4FULL;
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t a = size * k2;
  std::uint64_t b = 0x165667B19E3779F9ULL;
  std::size_t i = 0;
  for (; i + 16 <= size; i += 16) {
    std::uint64_t w0;
    std::uint64_t w1;
    std::memcpy(&w0, p + i, 8);
    std::memcpy(&w1, p + i + 8, 8);
    a = ((a ^ w0) * k1);
    a = (a << 31) | (a >> 33);
    b = ((b ^ w1) * k2);
    b = (b << 29) | (b >> 35);
  }
  if (i + 8 <= size) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    a = ((a ^ w) * k1);
    a = (a << 31) | (a >> 33);
    i += 8;
  }
  if (i < size) {
    std::uint64_t tail = 0;
    std::memcpy(&tail, p + i, size - i);
    b = ((b ^ tail) * k2);
  }
  return hash_mix(a ^ (b * k1));
}

}  // namespace one_collect
