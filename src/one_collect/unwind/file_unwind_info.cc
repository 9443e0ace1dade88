#include "one_collect/unwind/file_unwind_info.h"

#include <elf.h>
#include <sys/stat.h>

namespace one_collect::unwind {
namespace {

SectionBytes section_bytes(const ElfFile& elf, std::string_view name) {
  auto s = elf.section(name);
  if (!s.ok() || !s->in_bounds || s->type == SHT_NOBITS) return {};
  return SectionBytes{s->data, s->addr};
}

// A separate debug file found by build id: <root>/.build-id/ab/cdef....debug
std::optional<ElfFile> open_debug_file(const ElfFile& elf, const std::string& debug_root) {
  if (debug_root.empty() || elf.build_id().size() < 2) return std::nullopt;
  std::string hex = elf.build_id_hex();
  std::string path = debug_root + "/.build-id/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  auto debug = ElfFile::open(path);
  if (!debug.ok() || debug->build_id() != elf.build_id()) return std::nullopt;
  return std::move(debug).value();
}

}  // namespace

FileUnwindInfo FileUnwindInfo::build(const ElfFile& elf, const std::string& debug_root) {
  FileUnwindInfo info;
  info.elf = &elf;
  for (const ElfSegment& seg : elf.load_segments()) {
    info.segments.push_back(Segment{seg.offset, seg.vaddr, seg.filesz});
  }
  CfiSections sections;
  sections.eh_frame = section_bytes(elf, ".eh_frame");
  sections.eh_frame_hdr = section_bytes(elf, ".eh_frame_hdr");
  sections.debug_frame = section_bytes(elf, ".debug_frame");
  if (auto text = elf.section(".text"); text.ok()) sections.text_vaddr = text->addr;
  if (auto got = elf.section(".got"); got.ok()) sections.got_vaddr = got->addr;
  if (!sections.debug_frame.present()) {
    info.debug_file = open_debug_file(elf, debug_root);
    if (info.debug_file) sections.debug_frame = section_bytes(*info.debug_file, ".debug_frame");
  }
  info.cfi = CfiIndex::build(sections);
  if (info.cfi.size() == 0 && info.cfi.stats().debug_frame_fdes == 0) {
    info.status = error(ErrorCode::kNotFound, elf.name() + ": no call frame information");
  }
  return info;
}

const FileUnwindInfo& unwind_info_for(const MappedFile& file) {
  return file.attachment<FileUnwindInfo>(FileAttachment::kUnwind, [&file] {
    const Result<ElfFile>& elf = file.elf();
    if (!elf.ok()) {
      FileUnwindInfo info;
      info.status = elf.status();
      return info;
    }
    return FileUnwindInfo::build(*elf, "/usr/lib/debug");
  });
}

}  // namespace one_collect::unwind
