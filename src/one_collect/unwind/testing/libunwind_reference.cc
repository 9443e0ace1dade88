#include "one_collect/unwind/testing/libunwind_reference.h"

#define UNW_REMOTE_ONLY
#include <libunwind.h>

#include <cstring>

extern "C" int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip,
                                                  unw_dyn_info_t* di, unw_proc_info_t* pi,
                                                  int need_unwind_info, void* arg);

namespace one_collect::unwind::testing {
namespace {

struct Ctx {
  const AddressSpace* space;
  const UnwindInput* input;
};

bool read_mem(const Ctx& c, unw_word_t addr, unw_word_t* out) {
  const UnwindInput& in = *c.input;
  if (addr >= in.stack_base && addr - in.stack_base + 8 <= in.stack.size()) {
    std::memcpy(out, in.stack.data() + (addr - in.stack_base), 8);
    return true;
  }
  const Mapping* m = c.space->find(addr);
  if (m == nullptr || m->file == nullptr || !m->file->available()) return false;
  const auto& elf = m->file->elf();
  if (!elf.ok()) return false;
  auto v = read_at<std::uint64_t>(elf->bytes(), m->file_offset(addr));
  if (!v) return false;
  *out = *v;
  return true;
}

int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t* pi, int need_info,
                   void* arg) {
  auto& c = *static_cast<Ctx*>(arg);
  const Mapping* m = c.space->find(ip);
  if (m == nullptr || m->file == nullptr || !m->file->available()) return -UNW_ENOINFO;
  const auto& elf = m->file->elf();
  if (!elf.ok()) return -UNW_ENOINFO;
  auto hdr = elf->section(".eh_frame_hdr");
  auto bias = elf->load_bias(m->start, m->pgoff);
  if (!hdr.ok() || !bias || hdr->data.size() < 12) return -UNW_ENOINFO;
  std::uint32_t count;
  std::memcpy(&count, hdr->data.data() + 8, 4);
  unw_dyn_info_t di;
  std::memset(&di, 0, sizeof di);
  di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
  di.start_ip = m->start;
  di.end_ip = m->end;
  di.u.rti.segbase = hdr->addr + static_cast<std::uint64_t>(*bias);
  di.u.rti.table_data = di.u.rti.segbase + 12;
  di.u.rti.table_len = count * 8 / sizeof(unw_word_t);
  return _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need_info, arg);
}

// libunwind releases what its table search allocated itself.
void put_unwind_info(unw_addr_space_t, unw_proc_info_t*, void*) {}

int get_dyn_info_list_addr(unw_addr_space_t, unw_word_t*, void*) { return -UNW_ENOINFO; }

int access_mem(unw_addr_space_t, unw_word_t addr, unw_word_t* val, int write, void* arg) {
  if (write) return -UNW_EINVAL;
  if (!read_mem(*static_cast<Ctx*>(arg), addr, val)) {
    *val = 0;
    return -UNW_EINVAL;
  }
  return 0;
}

int access_reg(unw_addr_space_t, unw_regnum_t reg, unw_word_t* val, int write, void* arg) {
  if (write) return -UNW_EREADONLYREG;
  const UnwindInput& in = *static_cast<Ctx*>(arg)->input;
  switch (reg) {
    case UNW_X86_64_RIP:
      *val = in.rip;
      return 0;
    case UNW_X86_64_RSP:
      *val = in.rsp;
      return 0;
    case UNW_X86_64_RBP:
      *val = in.rbp;
      return 0;
    default:
      *val = 0;
      return -UNW_EBADREG;
  }
}

int access_fpreg(unw_addr_space_t, unw_regnum_t, unw_fpreg_t*, int, void*) { return -UNW_EINVAL; }
int resume(unw_addr_space_t, unw_cursor_t*, void*) { return -UNW_EINVAL; }
int get_proc_name(unw_addr_space_t, unw_word_t, char*, size_t, unw_word_t*, void*) {
  return -UNW_EINVAL;
}

unw_accessors_t accessors = {find_proc_info, put_unwind_info, get_dyn_info_list_addr,
                             access_mem,     access_reg,      access_fpreg,
                             resume,         get_proc_name};

}  // namespace

LibunwindReference::LibunwindReference() : address_space_(unw_create_addr_space(&accessors, 0)) {}

LibunwindReference::~LibunwindReference() {
  unw_destroy_addr_space(static_cast<unw_addr_space_t>(address_space_));
}

std::vector<std::uint64_t> LibunwindReference::unwind(const AddressSpace& space,
                                                      const UnwindInput& input,
                                                      std::size_t max_frames) {
  std::vector<std::uint64_t> frames;
  Ctx ctx{&space, &input};
  auto as = static_cast<unw_addr_space_t>(address_space_);
  unw_flush_cache(as, 0, 0);
  unw_cursor_t cursor;
  if (unw_init_remote(&cursor, as, &ctx) != 0) return frames;
  while (frames.size() < max_frames) {
    unw_word_t ip = 0;
    if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0) break;
    frames.push_back(ip);
    if (unw_step(&cursor) <= 0) break;
  }
  return frames;
}

}  // namespace one_collect::unwind::testing
