// Feeds arbitrary bytes to the ELF reader and the symbol-table builder.
// Seed: corpus/elf_reader_fuzzer/tiny_static.elf, built from seed_tiny.c with
//   gcc -O1 -nostdlib -static -Wl,-n -Wl,--build-id
//       -fno-asynchronous-unwind-tables -o tiny seed_tiny.c   (one command)
//   objcopy --add-gnu-debuglink=tiny tiny tiny_static.elf
#include <cstddef>
#include <cstdint>

#include "one_collect/binary/elf_file.h"
#include "one_collect/binary/elf_notes.h"
#include "one_collect/symbols/symbol_table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace one_collect;
  auto file = ElfFile::from_memory(ByteSpan(data, size), "fuzz");
  if (!file.ok()) return 0;
  (void)file->debug_link();
  (void)file->section(".text");
  (void)file->build_id_hex();
  for (const ElfSegment& s : file->load_segments()) {
    (void)file->load_bias(0x400000, s.offset & ~std::uint64_t{4095});
    (void)file->file_offset_to_vaddr(s.offset);
    (void)file->vaddr_to_file_offset(s.vaddr);
  }
  for (const ElfSection& s : file->sections()) {
    if (!s.data.empty()) (void)find_gnu_build_id(s.data);
  }
  auto table = SymbolTable::from_elf(*file, &*file);
  if (!table.ok()) return 0;
  for (std::size_t i = 0; i < table->size() && i < 64; ++i) {
    (void)table->lookup(table->start_at(i));
    (void)table->lookup(table->end_at(i) - 1);
  }
  return 0;
}
