// Test helper: builds event payloads byte by byte.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/bytes.h"

namespace one_collect::testing {

class PayloadBuilder {
 public:
  template <typename T>
  PayloadBuilder& put(T value) {
    auto old = bytes_.size();
    bytes_.resize(old + sizeof(T));
    std::memcpy(bytes_.data() + old, &value, sizeof(T));
    return *this;
  }
  // Text plus its NUL, padded with NULs to a field of `width` bytes.
  PayloadBuilder& text(std::string_view s, std::size_t width = 0) {
    std::size_t old = bytes_.size();
    std::size_t total = s.size() + 1;
    if (width > total) total = width;
    bytes_.resize(old + total, 0);
    if (!s.empty()) std::memcpy(bytes_.data() + old, s.data(), s.size());
    return *this;
  }
  PayloadBuilder& utf16(std::u16string_view s) {
    for (char16_t c : s) put<std::uint16_t>(static_cast<std::uint16_t>(c));
    return put<std::uint16_t>(0);
  }
  PayloadBuilder& pad_to(std::size_t size) {
    bytes_.resize(size, 0);
    return *this;
  }
  // Overwrites a u32 at `offset` (for descriptors written after their data).
  PayloadBuilder& patch_u32(std::size_t offset, std::uint32_t value) {
    std::memcpy(bytes_.data() + offset, &value, 4);
    return *this;
  }
  std::size_t size() const { return bytes_.size(); }
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }
  ByteSpan span() const { return ByteSpan(bytes_); }

 private:
  std::vector<std::uint8_t> bytes_;
};

}  // namespace one_collect::testing
