// Bounds-checked little-endian reads over untrusted byte spans.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace one_collect {

using ByteSpan = std::span<const std::uint8_t>;

// Reads a trivially copyable T at `offset`, or nothing when the span is too
// short. Never reads out of bounds; overflow-safe.
template <typename T>
inline std::optional<T> read_at(ByteSpan data, std::size_t offset) {
  if (offset > data.size() || data.size() - offset < sizeof(T)) return std::nullopt;
  T value;
  std::memcpy(&value, data.data() + offset, sizeof(T));
  return value;
}

// The sub-span [offset, offset + length), or nothing when it is out of bounds.
inline std::optional<ByteSpan> slice(ByteSpan data, std::size_t offset, std::size_t length) {
  if (offset > data.size() || data.size() - offset < length) return std::nullopt;
  return data.subspan(offset, length);
}

inline ByteSpan as_bytes_span(const void* data, std::size_t size) {
  return ByteSpan(static_cast<const std::uint8_t*>(data), size);
}

}  // namespace one_collect
