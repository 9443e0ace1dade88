// ElfFile: a read-only view of an ELF64 x86-64 little-endian file.
//
// The file is mapped once (mmap, read-only, shared by every copy of the
// ElfFile through a shared_ptr) and every header, offset and size in it is
// checked before use: a truncated or hostile file gives a Status naming the
// problem, never an out-of-bounds read. Other classes, byte orders and
// machines are refused with a clear error.
//
// Address spaces (see also docs in symbols/symbol_cache.h):
//   - "virtual address" (vaddr): the address the linker assigned (st_value,
//     sh_addr, p_vaddr). Symbols and DWARF use it.
//   - "file offset": a byte position in the file. A process mapping of the
//     file at [start, end) with page offset pgoff covers file offsets
//     [pgoff, pgoff + end - start), so an instruction pointer ip in that
//     mapping has file offset `ip - start + pgoff`; `file_offset_to_vaddr`
//     then turns it into the vaddr through the PT_LOAD segment holding it.
//
// Known limit: if the file is truncated by someone else while it is mapped,
// touching the vanished pages raises SIGBUS (inherent to mmap). Callers
// that hold files open from the moment they are mapped (process/) do not
// replace them in place; package managers rename a new file over the old.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/bytes.h"
#include "one_collect/core/status.h"

namespace one_collect {

enum class ElfType : std::uint16_t {
  kNone = 0,
  kRelocatable = 1,  // ET_REL
  kExecutable = 2,   // ET_EXEC
  kShared = 3,       // ET_DYN (shared objects and PIE executables)
  kCore = 4,
  kOther = 0xffff,
};

struct ElfSection {
  std::string_view name;  // points into the mapped file (empty if unnamed)
  std::uint32_t index = 0;
  std::uint32_t type = 0;    // SHT_*
  std::uint64_t flags = 0;   // SHF_*
  std::uint64_t addr = 0;    // sh_addr
  std::uint64_t offset = 0;  // sh_offset
  std::uint64_t size = 0;    // sh_size
  std::uint32_t link = 0;
  std::uint32_t info = 0;
  std::uint64_t entsize = 0;
  // The section's bytes: empty for SHT_NOBITS. Only set when the whole
  // [offset, offset + size) lies inside the file (see `in_bounds`).
  ByteSpan data;
  bool in_bounds = false;
};

struct ElfSegment {
  std::uint32_t type = 0;   // PT_*
  std::uint32_t flags = 0;  // PF_R / PF_W / PF_X
  std::uint64_t offset = 0;
  std::uint64_t vaddr = 0;
  std::uint64_t filesz = 0;
  std::uint64_t memsz = 0;
  std::uint64_t align = 0;
  bool executable() const { return (flags & 1u) != 0; }  // PF_X
};

struct ElfDebugLink {
  std::string name;
  std::uint32_t crc = 0;
};

class ElfFile {
 public:
  // Opens and maps `path` (O_NOFOLLOW is not used: binaries are often reached
  // through symlinks; O_NONBLOCK is, so a FIFO cannot hang us, and only
  // regular files are accepted).
  static Result<ElfFile> open(const std::string& path);

  // Opens `path` relative to the directory `root_fd` (e.g. an fd on
  // /proc/PID/root), resolving absolute symlinks inside that root
  // (openat2 RESOLVE_IN_ROOT, falling back to openat). `path` may be
  // absolute; it is taken relative to the root.
  static Result<ElfFile> open_in_root(int root_fd, const std::string& path);

  // Maps an already open file. The fd is NOT closed and not retained: the
  // mapping stays valid after the caller closes it. `name` is used in errors.
  static Result<ElfFile> open_fd(int fd, std::string name);

  // Parses a copy of `bytes` (fuzzing, tests, in-memory images).
  static Result<ElfFile> from_memory(ByteSpan bytes, std::string name);

  const std::string& name() const { return name_; }
  ByteSpan bytes() const { return bytes_; }
  ElfType type() const { return type_; }
  std::uint64_t entry() const { return entry_; }
  // Identity of the underlying file (0 for from_memory).
  std::uint64_t device() const { return dev_; }
  std::uint64_t inode() const { return ino_; }

  const std::vector<ElfSection>& sections() const { return sections_; }
  const std::vector<ElfSegment>& segments() const { return segments_; }

  // The first section with this name: kNotFound if absent, kMalformed if its
  // bytes lie outside the file (NOBITS sections are in bounds, with no data).
  Result<ElfSection> section(std::string_view name) const;
  // The section at `index`, or nullptr.
  const ElfSection* section_at(std::uint32_t index) const;

  // PT_LOAD segments only, in file order.
  std::vector<ElfSegment> load_segments() const;

  // File offset -> vaddr through the PT_LOAD segment whose file range holds
  // it; nothing when no segment does.
  std::optional<std::uint64_t> file_offset_to_vaddr(std::uint64_t offset) const;
  // Vaddr -> file offset through the PT_LOAD segment whose file-backed range
  // [vaddr, vaddr + filesz) holds it.
  std::optional<std::uint64_t> vaddr_to_file_offset(std::uint64_t vaddr) const;
  // The bias to add to a vaddr to get a process address, for a mapping that
  // starts at `map_start` with page offset `pgoff` (the mmap record's fields):
  // process_address = vaddr + bias. Nothing if pgoff lies in no PT_LOAD.
  std::optional<std::int64_t> load_bias(std::uint64_t map_start, std::uint64_t pgoff) const;

  // NT_GNU_BUILD_ID bytes (PT_NOTE segments first, then SHT_NOTE sections);
  // empty when the file has none.
  const std::vector<std::uint8_t>& build_id() const { return build_id_; }
  // Lower-case hex of build_id().
  std::string build_id_hex() const;

  // `.gnu_debuglink`: kNotFound if absent, kMalformed if it is cut short.
  Result<ElfDebugLink> debug_link() const;

 private:
  struct Storage;
  ElfFile() = default;
  static Result<ElfFile> parse(std::shared_ptr<const Storage> storage, std::string name);

  std::shared_ptr<const Storage> storage_;
  ByteSpan bytes_;
  std::string name_;
  ElfType type_ = ElfType::kNone;
  std::uint64_t entry_ = 0;
  std::uint64_t dev_ = 0;
  std::uint64_t ino_ = 0;
  std::vector<ElfSection> sections_;
  std::vector<ElfSegment> segments_;
  std::vector<std::uint8_t> build_id_;
};

// CRC-32 as used by .gnu_debuglink (the zlib/IEEE polynomial, reflected).
std::uint32_t gnu_debuglink_crc32(ByteSpan bytes, std::uint32_t crc = 0);

}  // namespace one_collect
