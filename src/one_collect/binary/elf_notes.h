// ELF note streams: the body of PT_NOTE segments, SHT_NOTE sections and
// /sys/kernel/notes (which is a raw note stream, not an ELF file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "one_collect/core/bytes.h"
#include "one_collect/core/status.h"

namespace one_collect {

struct ElfNote {
  std::uint32_t type = 0;
  std::string_view name;  // without the terminating NUL
  ByteSpan desc;
};

inline constexpr std::uint32_t kNoteGnuBuildId = 3;  // NT_GNU_BUILD_ID

// Calls `fn` for each note until it returns false. `align` is 4 or 8 (the
// PT_NOTE p_align; 8 for GNU property notes). Returns kMalformed when the
// stream is cut short (notes before the damage were delivered).
Status for_each_elf_note(ByteSpan data, std::size_t align,
                         const std::function<bool(const ElfNote&)>& fn);

// The NT_GNU_BUILD_ID descriptor ("GNU" owner) of a note stream; empty if
// there is none. Build ids of any length (1..64 bytes) are accepted.
std::vector<std::uint8_t> find_gnu_build_id(ByteSpan notes, std::size_t align = 4);

}  // namespace one_collect
