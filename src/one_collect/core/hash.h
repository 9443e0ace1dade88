// The one 64-bit hash of one_collect, for hash tables and caches keyed by
// addresses, ids and byte strings (interning, export maps, nettrace
// segments, record ids, unwind caches). Fast rather than keyed: not for
// adversarial flooding (table growth bounds the damage anyway). Every table
// takes its slot from the low bits, so the mix must avalanche fully.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace one_collect {

// MurmurHash3's 64-bit finaliser: every input bit flips each output bit
// with probability ~1/2.
inline std::uint64_t hash_mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// Two words (a 128-bit key, or a hash combined with another value).
inline std::uint64_t hash_pair(std::uint64_t a, std::uint64_t b) {
  return hash_mix(a ^ hash_mix(b + 0x9E3779B97F4A7C15ULL));
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
