// FileUnwindInfo: what the unwinder needs from one ELF file, built once per
// file (MappedFile attachment) and shared by every process mapping it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "one_collect/binary/elf_file.h"
#include "one_collect/core/status.h"
#include "one_collect/process/mapped_file.h"
#include "one_collect/unwind/cfi.h"

namespace one_collect::unwind {

struct FileUnwindInfo {
  struct Segment {
    std::uint64_t offset = 0;
    std::uint64_t vaddr = 0;
    std::uint64_t filesz = 0;
  };

  Status status;                      // why there is no CFI, if so
  const ElfFile* elf = nullptr;       // owned by the MappedFile
  std::optional<ElfFile> debug_file;  // separate debug file holding .debug_frame
  std::vector<Segment> segments;      // PT_LOAD
  CfiIndex cfi;

  bool usable() const { return status.ok(); }
  // File offset -> linked vaddr.
  std::optional<std::uint64_t> to_vaddr(std::uint64_t file_offset) const {
    for (const Segment& s : segments) {
      if (file_offset >= s.offset && file_offset - s.offset < s.filesz) {
        return file_offset - s.offset + s.vaddr;
      }
    }
    return std::nullopt;
  }
  // The file's bytes (for reads of mapped file data), empty if unavailable.
  ByteSpan bytes() const { return elf != nullptr ? elf->bytes() : ByteSpan(); }

  // Builds the info of an already parsed ELF file. `debug_root` is where
  // separate debug files live ("/usr/lib/debug"); empty: don't look.
  static FileUnwindInfo build(const ElfFile& elf, const std::string& debug_root);
};

// The info of `file`, built on first use.
const FileUnwindInfo& unwind_info_for(const MappedFile& file);

}  // namespace one_collect::unwind
