// A forward reader over untrusted DWARF bytes (CFI, expressions).
//
// Every read is bounds-checked; a failed read sets a sticky error flag and
// returns 0, so parsers can read a whole record and check ok() once. Nothing
// here allocates, so it can run on the unwinding hot path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "one_collect/core/bytes.h"

namespace one_collect::unwind {

// DW_EH_PE_* pointer encodings (LSB: format, bits 4-6: application).
namespace pe {
inline constexpr std::uint8_t kAbsptr = 0x00;
inline constexpr std::uint8_t kUleb128 = 0x01;
inline constexpr std::uint8_t kUdata2 = 0x02;
inline constexpr std::uint8_t kUdata4 = 0x03;
inline constexpr std::uint8_t kUdata8 = 0x04;
inline constexpr std::uint8_t kSleb128 = 0x09;
inline constexpr std::uint8_t kSdata2 = 0x0a;
inline constexpr std::uint8_t kSdata4 = 0x0b;
inline constexpr std::uint8_t kSdata8 = 0x0c;
inline constexpr std::uint8_t kPcrel = 0x10;
inline constexpr std::uint8_t kTextrel = 0x20;
inline constexpr std::uint8_t kDatarel = 0x30;
inline constexpr std::uint8_t kFuncrel = 0x40;
inline constexpr std::uint8_t kAligned = 0x50;
inline constexpr std::uint8_t kIndirect = 0x80;
inline constexpr std::uint8_t kOmit = 0xff;
}  // namespace pe

// Bases that relative pointer encodings apply to (virtual addresses).
struct PointerBases {
  std::uint64_t section_vaddr = 0;  // vaddr of byte 0 of the cursor's span (pcrel)
  std::uint64_t data = 0;           // datarel base (.eh_frame_hdr start, or .got)
  std::uint64_t text = 0;           // textrel base
  std::uint64_t func = 0;           // funcrel base
};

class DwarfCursor {
 public:
  DwarfCursor() = default;
  DwarfCursor(ByteSpan data, std::size_t pos = 0) : data_(data), pos_(pos) {
    if (pos > data.size()) ok_ = false;
  }

  bool ok() const { return ok_; }
  void fail() { ok_ = false; }
  std::size_t pos() const { return pos_; }
  std::size_t size() const { return data_.size(); }
  bool at_end() const { return pos_ >= data_.size(); }
  std::size_t remaining() const { return pos_ < data_.size() ? data_.size() - pos_ : 0; }
  ByteSpan span() const { return data_; }

  void seek(std::size_t pos) {
    if (pos > data_.size())
      ok_ = false;
    else
      pos_ = pos;
  }
  void skip(std::uint64_t n) {
    if (n > remaining()) {
      ok_ = false;
      pos_ = data_.size();
    } else
      pos_ += n;
  }

  template <typename T>
  T read() {
    if (sizeof(T) > remaining()) {
      ok_ = false;
      pos_ = data_.size();
      return T{};
    }
    T v;
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::uint8_t u8() { return read<std::uint8_t>(); }
  std::uint16_t u16() { return read<std::uint16_t>(); }
  std::uint32_t u32() { return read<std::uint32_t>(); }
  std::uint64_t u64() { return read<std::uint64_t>(); }

  std::uint64_t uleb() {
    std::uint64_t result = 0;
    unsigned shift = 0;
    while (true) {
      if (pos_ >= data_.size()) {
        ok_ = false;
        return 0;
      }
      std::uint8_t b = data_[pos_++];
      if (shift < 64) result |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) return result;
      if (shift > 70) {
        ok_ = false;
        return 0;
      }  // absurdly long encoding
    }
  }
  std::int64_t sleb() {
    std::uint64_t result = 0;
    unsigned shift = 0;
    std::uint8_t b = 0;
    while (true) {
      if (pos_ >= data_.size()) {
        ok_ = false;
        return 0;
      }
      b = data_[pos_++];
      if (shift < 64) result |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) break;
      if (shift > 70) {
        ok_ = false;
        return 0;
      }
    }
    if (shift < 64 && (b & 0x40)) result |= ~std::uint64_t{0} << shift;
    return static_cast<std::int64_t>(result);
  }

  // Reads a NUL-terminated string; returns its bytes (without the NUL).
  ByteSpan cstr() {
    std::size_t start = pos_;
    while (pos_ < data_.size() && data_[pos_] != 0) ++pos_;
    if (pos_ >= data_.size()) {
      ok_ = false;
      return {};
    }
    ByteSpan s = data_.subspan(start, pos_ - start);
    ++pos_;
    return s;
  }

  // Reads a pointer in `encoding`. Indirect pointers are not dereferenced
  // (we only need them for personality routines, which we skip).
  std::uint64_t encoded(std::uint8_t encoding, const PointerBases& bases) {
    if (encoding == pe::kOmit) return 0;
    std::uint64_t here = bases.section_vaddr + pos_;
    std::uint64_t v = 0;
    switch (encoding & 0x0f) {
      case pe::kAbsptr:
        v = u64();
        break;
      case pe::kUleb128:
        v = uleb();
        break;
      case pe::kUdata2:
        v = u16();
        break;
      case pe::kUdata4:
        v = u32();
        break;
      case pe::kUdata8:
        v = u64();
        break;
      case pe::kSleb128:
        v = static_cast<std::uint64_t>(sleb());
        break;
      case pe::kSdata2:
        v = static_cast<std::uint64_t>(static_cast<std::int64_t>(read<std::int16_t>()));
        break;
      case pe::kSdata4:
        v = static_cast<std::uint64_t>(static_cast<std::int64_t>(read<std::int32_t>()));
        break;
      case pe::kSdata8:
        v = u64();
        break;
      default:
        ok_ = false;
        return 0;
    }
    switch (encoding & 0x70) {
      case 0:
        break;
      case pe::kPcrel:
        v += here;
        break;
      case pe::kTextrel:
        v += bases.text;
        break;
      case pe::kDatarel:
        v += bases.data;
        break;
      case pe::kFuncrel:
        v += bases.func;
        break;
      default:
        ok_ = false;
        return 0;  // aligned and unknown: not used in CFI we read
    }
    return v;
  }

  // Size in bytes of a fixed-size encoding, 0 for variable or invalid ones.
  static std::size_t encoded_size(std::uint8_t encoding) {
    switch (encoding & 0x0f) {
      case pe::kUdata2:
      case pe::kSdata2:
        return 2;
      case pe::kUdata4:
      case pe::kSdata4:
        return 4;
      case pe::kAbsptr:
      case pe::kUdata8:
      case pe::kSdata8:
        return 8;
      default:
        return 0;
    }
  }

 private:
  ByteSpan data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace one_collect::unwind
