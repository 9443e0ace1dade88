#include "one_collect/binary/elf_file.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "one_collect/binary/elf_notes.h"
#include "one_collect/core/errno_status.h"
#include "one_collect/core/strings.h"
#include "one_collect/fs/open_in_root.h"

namespace one_collect {

// Owns the bytes: an mmap'ed file or a heap copy.
struct ElfFile::Storage {
  void* map = nullptr;
  std::size_t map_size = 0;
  std::vector<std::uint8_t> copy;
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (map != nullptr) ::munmap(map, map_size);
  }
  ByteSpan bytes() const {
    if (map != nullptr) return ByteSpan(static_cast<const std::uint8_t*>(map), map_size);
    return ByteSpan(copy.data(), copy.size());
  }
};

namespace {

Status malformed(const std::string& name, const std::string& what) {
  return error(ErrorCode::kMalformed, name + ": " + what);
}

std::string hex64(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// True if [offset, offset + size) fits in `total` (overflow-safe).
bool fits(std::uint64_t offset, std::uint64_t size, std::uint64_t total) {
  return offset <= total && total - offset >= size;
}

}  // namespace

Result<ElfFile> ElfFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return errno_status(errno, "opening " + path);
  auto result = open_fd(fd, path);
  ::close(fd);
  return result;
}

Result<ElfFile> ElfFile::open_in_root(int root_fd, const std::string& path) {
  int fd = one_collect::open_in_root(root_fd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return errno_status(errno, "opening " + path + " in process root");
  auto result = open_fd(fd, path);
  ::close(fd);
  return result;
}

Result<ElfFile> ElfFile::open_fd(int fd, std::string name) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return errno_status(errno, "fstat " + name);
  if (!S_ISREG(st.st_mode)) {
    return error(ErrorCode::kInvalidArgument, name + ": not a regular file");
  }
  if (st.st_size <= 0) return malformed(name, "empty file");
  auto storage = std::make_shared<Storage>();
  std::size_t size = static_cast<std::size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) return errno_status(errno, "mmap " + name);
  storage->map = map;
  storage->map_size = size;
  auto result = parse(std::move(storage), std::move(name));
  if (result.ok()) {
    result->dev_ = static_cast<std::uint64_t>(st.st_dev);
    result->ino_ = static_cast<std::uint64_t>(st.st_ino);
  }
  return result;
}

Result<ElfFile> ElfFile::from_memory(ByteSpan bytes, std::string name) {
  auto storage = std::make_shared<Storage>();
  storage->copy.assign(bytes.begin(), bytes.end());
  return parse(std::move(storage), std::move(name));
}

Result<ElfFile> ElfFile::parse(std::shared_ptr<const Storage> storage, std::string name) {
  ByteSpan data = storage->bytes();
  auto ehdr_opt = read_at<Elf64_Ehdr>(data, 0);
  if (data.size() < EI_NIDENT || std::memcmp(data.data(), ELFMAG, SELFMAG) != 0) {
    return malformed(name, "not an ELF file (bad magic)");
  }
  if (data[EI_CLASS] != ELFCLASS64) {
    return error(ErrorCode::kUnsupported, name + ": only 64-bit ELF is supported");
  }
  if (data[EI_DATA] != ELFDATA2LSB) {
    return error(ErrorCode::kUnsupported, name + ": only little-endian ELF is supported");
  }
  if (!ehdr_opt) return malformed(name, "ELF header cut short");
  const Elf64_Ehdr& eh = *ehdr_opt;
  if (eh.e_machine != EM_X86_64) {
    return error(ErrorCode::kUnsupported, name + ": only x86-64 ELF is supported (e_machine " +
                                              std::to_string(eh.e_machine) + ")");
  }

  ElfFile file;
  file.bytes_ = data;
  file.name_ = std::move(name);
  file.storage_ = std::move(storage);
  switch (eh.e_type) {
    case ET_NONE:
      file.type_ = ElfType::kNone;
      break;
    case ET_REL:
      file.type_ = ElfType::kRelocatable;
      break;
    case ET_EXEC:
      file.type_ = ElfType::kExecutable;
      break;
    case ET_DYN:
      file.type_ = ElfType::kShared;
      break;
    case ET_CORE:
      file.type_ = ElfType::kCore;
      break;
    default:
      file.type_ = ElfType::kOther;
      break;
  }
  file.entry_ = eh.e_entry;
  const std::string& nm = file.name_;

  // Section headers. Extended numbering: e_shnum == 0 and e_shstrndx ==
  // SHN_XINDEX put the real values in section 0; e_phnum == PN_XNUM too.
  std::uint64_t shnum = eh.e_shnum;
  std::uint64_t shstrndx = eh.e_shstrndx;
  std::uint64_t phnum = eh.e_phnum;
  std::vector<Elf64_Shdr> shdrs;
  if (eh.e_shoff != 0) {
    if (eh.e_shentsize != sizeof(Elf64_Shdr)) {
      return malformed(nm, "unexpected section header size " + std::to_string(eh.e_shentsize));
    }
    auto sh0 = read_at<Elf64_Shdr>(data, eh.e_shoff);
    if (!sh0)
      return malformed(
          nm, "section header table at " + hex64(eh.e_shoff) + " is past the end of the file");
    if (shnum == 0) shnum = sh0->sh_size;
    if (shstrndx == SHN_XINDEX) shstrndx = sh0->sh_link;
    if (phnum == PN_XNUM) phnum = sh0->sh_info;
    // The whole table must be inside the file: this also bounds the count.
    if (shnum > data.size() / sizeof(Elf64_Shdr) ||
        !fits(eh.e_shoff, shnum * sizeof(Elf64_Shdr), data.size())) {
      return malformed(nm, "section header table (" + std::to_string(shnum) + " entries at " +
                               hex64(eh.e_shoff) + ") runs past the end of the file (" +
                               std::to_string(data.size()) + " bytes)");
    }
    shdrs.reserve(shnum);
    for (std::uint64_t i = 0; i < shnum; ++i) {
      shdrs.push_back(*read_at<Elf64_Shdr>(data, eh.e_shoff + i * sizeof(Elf64_Shdr)));
    }
  }

  // Section name table (optional: a bad one leaves names empty).
  ByteSpan shstr;
  if (shstrndx < shdrs.size() && shdrs[shstrndx].sh_type != SHT_NOBITS) {
    if (auto s = slice(data, shdrs[shstrndx].sh_offset, shdrs[shstrndx].sh_size)) shstr = *s;
  }
  file.sections_.reserve(shdrs.size());
  for (std::uint64_t i = 0; i < shdrs.size(); ++i) {
    const Elf64_Shdr& sh = shdrs[i];
    ElfSection s;
    s.index = static_cast<std::uint32_t>(i);
    s.type = sh.sh_type;
    s.flags = sh.sh_flags;
    s.addr = sh.sh_addr;
    s.offset = sh.sh_offset;
    s.size = sh.sh_size;
    s.link = sh.sh_link;
    s.info = sh.sh_info;
    s.entsize = sh.sh_entsize;
    if (sh.sh_name < shstr.size()) {
      const char* p = reinterpret_cast<const char*>(shstr.data()) + sh.sh_name;
      std::size_t max = shstr.size() - sh.sh_name;
      s.name = std::string_view(p, strnlen(p, max));
    }
    if (sh.sh_type == SHT_NOBITS || sh.sh_type == SHT_NULL) {
      s.in_bounds = true;
    } else if (auto d = slice(data, sh.sh_offset, sh.sh_size)) {
      s.data = *d;
      s.in_bounds = true;
    }
    file.sections_.push_back(s);
  }

  // Program headers: the table must be inside the file when present.
  if (eh.e_phoff != 0 && phnum != 0) {
    if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
      return malformed(nm, "unexpected program header size " + std::to_string(eh.e_phentsize));
    }
    if (phnum > data.size() / sizeof(Elf64_Phdr) ||
        !fits(eh.e_phoff, phnum * sizeof(Elf64_Phdr), data.size())) {
      return malformed(nm, "program header table (" + std::to_string(phnum) + " entries at " +
                               hex64(eh.e_phoff) + ") runs past the end of the file (" +
                               std::to_string(data.size()) + " bytes)");
    }
    file.segments_.reserve(phnum);
    for (std::uint64_t i = 0; i < phnum; ++i) {
      Elf64_Phdr ph = *read_at<Elf64_Phdr>(data, eh.e_phoff + i * sizeof(Elf64_Phdr));
      ElfSegment seg;
      seg.type = ph.p_type;
      seg.flags = ph.p_flags;
      seg.offset = ph.p_offset;
      seg.vaddr = ph.p_vaddr;
      seg.filesz = ph.p_filesz;
      seg.memsz = ph.p_memsz;
      seg.align = ph.p_align;
      file.segments_.push_back(seg);
    }
  }
  if (file.sections_.empty() && file.segments_.empty()) {
    return malformed(nm, "neither section headers nor program headers");
  }

  // Build id: PT_NOTE segments (what the loader sees), then note sections.
  for (const ElfSegment& seg : file.segments_) {
    if (seg.type != PT_NOTE) continue;
    if (auto notes = slice(data, seg.offset, seg.filesz)) {
      file.build_id_ = find_gnu_build_id(*notes, seg.align == 8 ? 8 : 4);
      if (!file.build_id_.empty()) break;
    }
  }
  if (file.build_id_.empty()) {
    for (const ElfSection& s : file.sections_) {
      if (s.type != SHT_NOTE || s.data.empty()) continue;
      file.build_id_ = find_gnu_build_id(s.data, 4);
      if (!file.build_id_.empty()) break;
    }
  }
  return file;
}

Result<ElfSection> ElfFile::section(std::string_view section_name) const {
  for (const ElfSection& s : sections_) {
    if (s.name != section_name) continue;
    if (!s.in_bounds) {
      return malformed(name_, "section " + std::string(section_name) + " [" + hex64(s.offset) +
                                  ", +" + hex64(s.size) + ") lies past the end of the file (" +
                                  std::to_string(bytes_.size()) + " bytes)");
    }
    return s;
  }
  return error(ErrorCode::kNotFound, name_ + ": no section " + std::string(section_name));
}

const ElfSection* ElfFile::section_at(std::uint32_t index) const {
  return index < sections_.size() ? &sections_[index] : nullptr;
}

std::vector<ElfSegment> ElfFile::load_segments() const {
  std::vector<ElfSegment> out;
  for (const ElfSegment& s : segments_) {
    if (s.type == PT_LOAD) out.push_back(s);
  }
  return out;
}

std::optional<std::uint64_t> ElfFile::file_offset_to_vaddr(std::uint64_t offset) const {
  for (const ElfSegment& s : segments_) {
    if (s.type != PT_LOAD) continue;
    if (offset >= s.offset && offset - s.offset < s.filesz) return s.vaddr + (offset - s.offset);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> ElfFile::vaddr_to_file_offset(std::uint64_t vaddr) const {
  for (const ElfSegment& s : segments_) {
    if (s.type != PT_LOAD) continue;
    if (vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz) return s.offset + (vaddr - s.vaddr);
  }
  return std::nullopt;
}

std::optional<std::int64_t> ElfFile::load_bias(std::uint64_t map_start, std::uint64_t pgoff) const {
  constexpr std::uint64_t kPage = 4096;
  for (const ElfSegment& s : segments_) {
    if (s.type != PT_LOAD) continue;
    // The mapping of a segment starts at its p_offset rounded down to a page.
    std::uint64_t first = s.offset & ~(kPage - 1);
    if (pgoff < first) continue;
    if (pgoff >= s.offset && pgoff - s.offset >= s.filesz) continue;
    // vaddr of the byte at file offset pgoff (may precede p_vaddr by < 1 page).
    std::uint64_t vaddr = s.vaddr - (s.offset - pgoff);
    return static_cast<std::int64_t>(map_start - vaddr);
  }
  return std::nullopt;
}

std::string ElfFile::build_id_hex() const { return to_hex(build_id_); }

Result<ElfDebugLink> ElfFile::debug_link() const {
  OC_ASSIGN_OR_RETURN(ElfSection s, section(".gnu_debuglink"));
  ByteSpan d = s.data;
  const char* p = reinterpret_cast<const char*>(d.data());
  // An empty section may have no data pointer at all: strnlen must not see it.
  std::size_t len = d.empty() ? 0 : strnlen(p, d.size());
  if (len == 0 || len == d.size()) return malformed(name_, ".gnu_debuglink has no terminated name");
  std::size_t crc_off = (len + 1 + 3) & ~std::size_t{3};
  auto crc = read_at<std::uint32_t>(d, crc_off);
  if (!crc) return malformed(name_, ".gnu_debuglink is cut short before its CRC");
  ElfDebugLink link;
  link.name.assign(p, len);
  link.crc = *crc;
  return link;
}

std::uint32_t gnu_debuglink_crc32(ByteSpan bytes, std::uint32_t crc) {
  static const auto kTable = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (std::uint8_t b : bytes) crc = kTable[(crc ^ b) & 0xff] ^ (crc >> 8);
  return ~crc;
}

}  // namespace one_collect
