#include "one_collect/binary/elf_notes.h"

namespace one_collect {

namespace {
// Rounds up without overflow; returns false if the result would overflow.
bool align_up(std::size_t value, std::size_t align, std::size_t* out) {
  std::size_t rem = value % align;
  if (rem == 0) {
    *out = value;
    return true;
  }
  std::size_t add = align - rem;
  if (value > SIZE_MAX - add) return false;
  *out = value + add;
  return true;
}
}  // namespace

Status for_each_elf_note(ByteSpan data, std::size_t align,
                         const std::function<bool(const ElfNote&)>& fn) {
  if (align != 4 && align != 8) align = 4;
  std::size_t pos = 0;
  while (pos < data.size()) {
    auto namesz = read_at<std::uint32_t>(data, pos);
    auto descsz = read_at<std::uint32_t>(data, pos + 4);
    auto type = read_at<std::uint32_t>(data, pos + 8);
    if (!namesz || !descsz || !type) {
      return error(ErrorCode::kMalformed,
                   "ELF note header cut short at offset " + std::to_string(pos));
    }
    std::size_t name_off = pos + 12;
    auto name = slice(data, name_off, *namesz);
    std::size_t desc_off = 0;
    if (!name || !align_up(name_off + *namesz, align, &desc_off)) {
      return error(ErrorCode::kMalformed,
                   "ELF note name runs past the end at offset " + std::to_string(pos));
    }
    auto desc = slice(data, desc_off, *descsz);
    if (!desc) {
      return error(ErrorCode::kMalformed,
                   "ELF note descriptor runs past the end at offset " + std::to_string(pos));
    }
    ElfNote note;
    note.type = *type;
    std::string_view n(reinterpret_cast<const char*>(name->data()), name->size());
    while (!n.empty() && n.back() == '\0') n.remove_suffix(1);
    note.name = n;
    note.desc = *desc;
    if (!fn(note)) return ok_status();
    std::size_t next = 0;
    if (!align_up(desc_off + *descsz, align, &next) || next <= pos) break;
    pos = next;
  }
  return ok_status();
}

std::vector<std::uint8_t> find_gnu_build_id(ByteSpan notes, std::size_t align) {
  std::vector<std::uint8_t> id;
  // A damaged tail after the build-id note does not matter: ignore the status.
  (void)for_each_elf_note(notes, align, [&](const ElfNote& note) {
    if (note.type == kNoteGnuBuildId && note.name == "GNU" && !note.desc.empty() &&
        note.desc.size() <= 64) {
      id.assign(note.desc.begin(), note.desc.end());
      return false;
    }
    return true;
  });
  return id;
}

}  // namespace one_collect
