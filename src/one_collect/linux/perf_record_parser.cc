#include "one_collect/linux/perf_record_parser.h"

#include <cstring>
#include <string>

#include "one_collect/core/hash.h"

namespace one_collect {
namespace {

// Bit positions of PerfSessionRefs members in the `touched_` mask; the order
// matches the struct and PerfRecordParser's ref_list_.
enum RefBit : std::uint32_t {
  kRecordType,
  kMisc,
  kId,
  kIp,
  kPid,
  kTid,
  kTime,
  kAddr,
  kStreamId,
  kCpu,
  kPeriod,
  kRead,
  kCallchain,
  kRaw,
  kBranchStack,
  kRegsUserAbi,
  kRegsUser,
  kStackUser,
  kWeight,
  kDataSrc,
  kTransaction,
  kRegsIntr,
  kPhysAddr,
  kCgroup,
  kDataPageSize,
  kCodePageSize,
  kAux,
  kRefCount
};

void add(Event& event, const char* name, const char* type, std::uint32_t offset,
         std::uint32_t size) {
  auto field = EventField::create(name, type, offset, size);
  // The formats are ours and fixed: a failure is a programming error caught
  // by the tests (every kernel event's format is checked there).
  if (field.ok()) (void)event.format().add_field(std::move(field).value());
}

}  // namespace

PerfKernelEvents::PerfKernelEvents()
    : mmap(PERF_RECORD_MMAP, "mmap"),
      mmap2(PERF_RECORD_MMAP2, "mmap2"),
      comm(PERF_RECORD_COMM, "comm"),
      exit(PERF_RECORD_EXIT, "exit"),
      fork(PERF_RECORD_FORK, "fork"),
      lost(PERF_RECORD_LOST, "lost"),
      lost_samples(PERF_RECORD_LOST_SAMPLES, "lost_samples"),
      throttle(PERF_RECORD_THROTTLE, "throttle"),
      unthrottle(PERF_RECORD_UNTHROTTLE, "unthrottle"),
      switch_task(PERF_RECORD_SWITCH, "switch"),
      switch_cpu_wide(PERF_RECORD_SWITCH_CPU_WIDE, "switch_cpu_wide"),
      ksymbol(PERF_RECORD_KSYMBOL, "ksymbol"),
      namespaces(PERF_RECORD_NAMESPACES, "namespaces"),
      cgroup(PERF_RECORD_CGROUP, "cgroup") {
  // Offsets are from the body start (after the 8-byte header).
  add(mmap, "pid", "u32", 0, 4);
  add(mmap, "tid", "u32", 4, 4);
  add(mmap, "addr", "u64", 8, 8);
  add(mmap, "len", "u64", 16, 8);
  add(mmap, "pgoff", "u64", 24, 8);
  add(mmap, "filename", "char[]", 32, 0);

  add(mmap2, "pid", "u32", 0, 4);
  add(mmap2, "tid", "u32", 4, 4);
  add(mmap2, "addr", "u64", 8, 8);
  add(mmap2, "len", "u64", 16, 8);
  add(mmap2, "pgoff", "u64", 24, 8);
  // A union: device/inode normally, a build id when misc has
  // PERF_RECORD_MISC_MMAP_BUILD_ID. Both views are fields; read the one misc
  // selects.
  add(mmap2, "maj", "u32", 32, 4);
  add(mmap2, "min", "u32", 36, 4);
  add(mmap2, "ino", "u64", 40, 8);
  add(mmap2, "ino_generation", "u64", 48, 8);
  add(mmap2, "build_id_size", "u8", 32, 1);
  add(mmap2, "build_id", "u8[20]", 36, 20);
  add(mmap2, "prot", "u32", 56, 4);
  add(mmap2, "flags", "u32", 60, 4);
  add(mmap2, "filename", "char[]", 64, 0);

  add(comm, "pid", "u32", 0, 4);
  add(comm, "tid", "u32", 4, 4);
  add(comm, "comm", "char[]", 8, 0);

  for (Event* e : {&exit, &fork}) {
    add(*e, "pid", "u32", 0, 4);
    add(*e, "ppid", "u32", 4, 4);
    add(*e, "tid", "u32", 8, 4);
    add(*e, "ptid", "u32", 12, 4);
    add(*e, "time", "u64", 16, 8);
  }

  add(lost, "id", "u64", 0, 8);
  add(lost, "lost", "u64", 8, 8);
  add(lost_samples, "lost", "u64", 0, 8);

  for (Event* e : {&throttle, &unthrottle}) {
    add(*e, "time", "u64", 0, 8);
    add(*e, "id", "u64", 8, 8);
    add(*e, "stream_id", "u64", 16, 8);
  }

  add(switch_cpu_wide, "next_prev_pid", "u32", 0, 4);
  add(switch_cpu_wide, "next_prev_tid", "u32", 4, 4);

  add(ksymbol, "addr", "u64", 0, 8);
  add(ksymbol, "len", "u32", 8, 4);
  add(ksymbol, "ksym_type", "u16", 12, 2);
  add(ksymbol, "flags", "u16", 14, 2);
  add(ksymbol, "name", "char[]", 16, 0);

  add(namespaces, "pid", "u32", 0, 4);
  add(namespaces, "tid", "u32", 4, 4);
  add(namespaces, "nr_namespaces", "u64", 8, 8);

  add(cgroup, "id", "u64", 0, 8);
  add(cgroup, "path", "char[]", 8, 0);
}

Event* PerfKernelEvents::for_type(std::uint32_t type) {
  switch (type) {
    case PERF_RECORD_MMAP:
      return &mmap;
    case PERF_RECORD_MMAP2:
      return &mmap2;
    case PERF_RECORD_COMM:
      return &comm;
    case PERF_RECORD_EXIT:
      return &exit;
    case PERF_RECORD_FORK:
      return &fork;
    case PERF_RECORD_LOST:
      return &lost;
    case PERF_RECORD_LOST_SAMPLES:
      return &lost_samples;
    case PERF_RECORD_THROTTLE:
      return &throttle;
    case PERF_RECORD_UNTHROTTLE:
      return &unthrottle;
    case PERF_RECORD_SWITCH:
      return &switch_task;
    case PERF_RECORD_SWITCH_CPU_WIDE:
      return &switch_cpu_wide;
    case PERF_RECORD_KSYMBOL:
      return &ksymbol;
    case PERF_RECORD_NAMESPACES:
      return &namespaces;
    case PERF_RECORD_CGROUP:
      return &cgroup;
    default:
      return nullptr;
  }
}

PerfRecordParser::PerfRecordParser() {
  const PerfSessionRefs& r = refs_;
  ref_list_ = {&r.record_type,
               &r.misc,
               &r.id,
               &r.ip,
               &r.pid,
               &r.tid,
               &r.time,
               &r.addr,
               &r.stream_id,
               &r.cpu,
               &r.period,
               &r.read,
               &r.callchain,
               &r.raw,
               &r.branch_stack,
               &r.regs_user_abi,
               &r.regs_user,
               &r.stack_user,
               &r.weight,
               &r.data_src,
               &r.transaction,
               &r.regs_intr,
               &r.phys_addr,
               &r.cgroup,
               &r.data_page_size,
               &r.code_page_size,
               &r.aux};
  static_assert(kRefCount == 27);
  table_.resize(64);
}

const SampleLayout* PerfRecordParser::add_layout(const SampleLayout& layout) {
  layouts_.push_back(layout);
  layouts_.back().finish();
  if (default_layout_ == nullptr) default_layout_ = &layouts_.back();
  return &layouts_.back();
}

void PerfRecordParser::add_id(std::uint64_t id, const SampleLayout* layout, Event* sample_event,
                              bool raw_payload) {
  last_entry_ = nullptr;  // the table may move
  if ((table_count_ + 1) * 10 > table_.size() * 7) {
    std::vector<IdEntry> old = std::move(table_);
    table_.assign(old.size() * 2, IdEntry{});
    table_count_ = 0;
    for (const IdEntry& e : old) {
      if (e.used) add_id(e.id, e.layout, e.event, e.raw_payload);
    }
  }
  std::size_t mask = table_.size() - 1;
  for (std::size_t i = hash_mix(id) & mask;; i = (i + 1) & mask) {
    IdEntry& e = table_[i];
    if (!e.used || e.id == id) {
      if (!e.used) ++table_count_;
      e = IdEntry{id, layout, sample_event, raw_payload, true};
      return;
    }
  }
}

const PerfRecordParser::IdEntry* PerfRecordParser::find_id(std::uint64_t id) const {
  if (last_entry_ != nullptr && last_entry_->id == id) [[likely]]
    return last_entry_;
  const IdEntry* e = find_id_slow(id);
  if (e != nullptr) last_entry_ = e;
  return e;
}

const PerfRecordParser::IdEntry* PerfRecordParser::find_id_slow(std::uint64_t id) const {
  std::size_t mask = table_.size() - 1;
  for (std::size_t i = hash_mix(id) & mask;; i = (i + 1) & mask) {
    const IdEntry& e = table_[i];
    if (!e.used) return nullptr;
    if (e.id == id) return &e;
  }
}

const SampleLayout* PerfRecordParser::layout_of(ByteSpan record) const {
  auto type = read_at<std::uint32_t>(record, 0);
  if (!type) return nullptr;
  std::optional<std::uint64_t> id;
  if (*type == PERF_RECORD_SAMPLE) {
    // IDENTIFIER, when used, is the first sample field.
    if (default_layout_ == nullptr || default_layout_->has(PERF_SAMPLE_IDENTIFIER)) {
      id = read_at<std::uint64_t>(record, 8);
    }
  } else if (record.size() >= 16 &&
             (default_layout_ == nullptr || default_layout_->has(PERF_SAMPLE_IDENTIFIER))) {
    id = read_at<std::uint64_t>(record, record.size() - 8);
  }
  if (id) {
    if (const IdEntry* e = find_id(*id)) return e->layout;
  }
  return default_layout_;
}

std::optional<std::uint64_t> PerfRecordParser::time_of(ByteSpan record) const {
  const SampleLayout* layout = layout_of(record);
  if (layout == nullptr) return std::nullopt;
  auto type = read_at<std::uint32_t>(record, 0);
  if (*type == PERF_RECORD_SAMPLE) {
    if (layout->sample_time_offset < 0) return std::nullopt;
    return read_at<std::uint64_t>(record, static_cast<std::size_t>(layout->sample_time_offset));
  }
  if (layout->trailer_time_from_end < 0 || record.size() < layout->trailer_size + 8u) {
    return std::nullopt;
  }
  return read_at<std::uint64_t>(record, record.size() - layout->trailer_time_from_end);
}

PerfCpuCounters& PerfRecordParser::cpu_counters(std::uint32_t cpu) {
  if (cpu >= cpu_counters_.size()) cpu_counters_.resize(std::min<std::uint32_t>(cpu, 65535) + 1);
  return cpu_counters_[std::min<std::uint32_t>(cpu, 65535)];
}

void PerfRecordParser::reset_refs(std::uint64_t stale) {
  std::uint64_t t = stale;
  while (t != 0) {
    int bit = __builtin_ctzll(t);
    ref_list_[bit]->reset();
    t &= t - 1;
  }
}

void PerfRecordParser::parse(ByteSpan record, std::uint32_t cpu_hint) {
  // Refs the previous record set and this one does not are reset before
  // the callbacks run (in parse_sample / parse_other); the others are simply
  // overwritten.
  previous_ = touched_;
  touched_ = 0;
  auto type = read_at<std::uint32_t>(record, 0);
  auto size = read_at<std::uint16_t>(record, 6);
  if (!type || !size || *size != record.size() || *size < 8) [[unlikely]] {
    ++stats_.malformed;
    reset_refs(previous_);
    return;
  }
  ++stats_.records;
  set(refs_.record_type, 0, 4, kRecordType);
  set(refs_.misc, 4, 2, kMisc);
  if (*type == PERF_RECORD_SAMPLE) {
    ++stats_.samples;
    const IdEntry* entry = nullptr;
    if (default_layout_ == nullptr || default_layout_->has(PERF_SAMPLE_IDENTIFIER)) {
      auto id = read_at<std::uint64_t>(record, 8);
      if (id) entry = find_id(*id);
    }
    if (entry == nullptr) [[unlikely]] {
      ++stats_.unknown_id;
      reset_refs(previous_ & ~touched_);
      return;
    }
    if (!parse_sample(record, entry, cpu_hint)) [[unlikely]] {
      ++stats_.malformed;
      reset_refs(previous_ & ~touched_);
    }
    return;
  }
  if (!parse_other(record, *type, cpu_hint)) [[unlikely]] {
    ++stats_.malformed;
    reset_refs(previous_ & ~touched_);
  }
}

bool PerfRecordParser::parse_sample(ByteSpan record, const IdEntry* entry, std::uint32_t cpu_hint) {
  const SampleLayout& l = *entry->layout;
  const std::uint64_t st = l.sample_type;
  const std::uint32_t size = static_cast<std::uint32_t>(record.size());
  std::uint32_t off = 8;
  // Checks that `n` more bytes exist at `off`.
  auto fits = [&](std::uint64_t n) __attribute__((always_inline)) {
    return n <= size && off <= size - n;
  };
  auto u64_at = [&](std::uint32_t at) {
    std::uint64_t v;
    std::memcpy(&v, record.data() + at, 8);
    return v;
  };
  auto fixed8 = [&](std::uint64_t bit, const DataFieldRef& ref, std::uint32_t ref_bit)
      __attribute__((always_inline)) {
    if ((st & bit) == 0) return true;
    if (!fits(8)) return false;
    set(ref, off, 8, ref_bit);
    off += 8;
    return true;
  };

  if (!fixed8(PERF_SAMPLE_IDENTIFIER, refs_.id, kId)) return false;
  if (!fixed8(PERF_SAMPLE_IP, refs_.ip, kIp)) return false;
  if (st & PERF_SAMPLE_TID) {
    if (!fits(8)) return false;
    set(refs_.pid, off, 4, kPid);
    set(refs_.tid, off + 4, 4, kTid);
    off += 8;
  }
  if (!fixed8(PERF_SAMPLE_TIME, refs_.time, kTime)) return false;
  if (!fixed8(PERF_SAMPLE_ADDR, refs_.addr, kAddr)) return false;
  if (!fixed8(PERF_SAMPLE_ID, refs_.id, kId)) return false;
  if (!fixed8(PERF_SAMPLE_STREAM_ID, refs_.stream_id, kStreamId)) return false;
  if (st & PERF_SAMPLE_CPU) {
    if (!fits(8)) return false;
    set(refs_.cpu, off, 4, kCpu);
    off += 8;
  }
  if (!fixed8(PERF_SAMPLE_PERIOD, refs_.period, kPeriod)) return false;
  if (st & PERF_SAMPLE_READ) {
    const std::uint64_t rf = l.read_format;
    std::uint64_t n;
    if (rf & PERF_FORMAT_GROUP) {
      if (!fits(8)) return false;
      std::uint64_t nr = u64_at(off);
      std::uint64_t per = 8 + ((rf & PERF_FORMAT_ID) ? 8 : 0) + ((rf & PERF_FORMAT_LOST) ? 8 : 0);
      if (nr > size / 8) return false;
      n = 8 + ((rf & PERF_FORMAT_TOTAL_TIME_ENABLED) ? 8 : 0) +
          ((rf & PERF_FORMAT_TOTAL_TIME_RUNNING) ? 8 : 0) + nr * per;
    } else {
      n = 8 + ((rf & PERF_FORMAT_TOTAL_TIME_ENABLED) ? 8 : 0) +
          ((rf & PERF_FORMAT_TOTAL_TIME_RUNNING) ? 8 : 0) + ((rf & PERF_FORMAT_ID) ? 8 : 0) +
          ((rf & PERF_FORMAT_LOST) ? 8 : 0);
    }
    if (!fits(n)) return false;
    set(refs_.read, off, static_cast<std::uint32_t>(n), kRead);
    off += static_cast<std::uint32_t>(n);
  }
  if (st & PERF_SAMPLE_CALLCHAIN) {
    if (!fits(8)) return false;
    std::uint64_t nr = u64_at(off);
    if (nr > size / 8) return false;
    off += 8;
    if (!fits(nr * 8)) return false;
    set(refs_.callchain, off, static_cast<std::uint32_t>(nr * 8), kCallchain);
    off += static_cast<std::uint32_t>(nr * 8);
  }
  std::uint32_t raw_start = 0, raw_size = 0;
  if (st & PERF_SAMPLE_RAW) {
    if (!fits(4)) return false;
    std::uint32_t n;
    std::memcpy(&n, record.data() + off, 4);
    off += 4;
    if (!fits(n)) return false;
    raw_start = off;
    raw_size = n;
    set(refs_.raw, off, n, kRaw);
    off += n;
  }
  if (st & PERF_SAMPLE_BRANCH_STACK) {
    if (!fits(8)) return false;
    std::uint64_t nr = u64_at(off);
    if (nr > size / 24) return false;
    off += 8;
    if (l.branch_sample_type & PERF_SAMPLE_BRANCH_HW_INDEX) {
      if (!fits(8)) return false;
      off += 8;
    }
    if (!fits(nr * 24)) return false;
    set(refs_.branch_stack, off, static_cast<std::uint32_t>(nr * 24), kBranchStack);
    off += static_cast<std::uint32_t>(nr * 24);
  }
  auto regs = [&](std::uint32_t count, const DataFieldRef* abi_ref, std::uint32_t abi_bit,
                  const DataFieldRef& ref, std::uint32_t bit) {
    if (!fits(8)) return false;
    std::uint64_t abi = u64_at(off);
    if (abi_ref != nullptr) set(*abi_ref, off, 8, abi_bit);
    off += 8;
    if (abi == PERF_SAMPLE_REGS_ABI_NONE) return true;
    if (!fits(std::uint64_t{count} * 8)) return false;
    set(ref, off, count * 8, bit);
    off += count * 8;
    return true;
  };
  if (st & PERF_SAMPLE_REGS_USER) {
    if (!regs(l.regs_user_count, &refs_.regs_user_abi, kRegsUserAbi, refs_.regs_user, kRegsUser)) {
      return false;
    }
  }
  if (st & PERF_SAMPLE_STACK_USER) {
    if (!fits(8)) return false;
    std::uint64_t n = u64_at(off);
    off += 8;
    if (n != 0) {
      if (n > size || !fits(n + 8)) return false;
      std::uint64_t dyn = u64_at(off + static_cast<std::uint32_t>(n));
      set(refs_.stack_user, off, static_cast<std::uint32_t>(dyn < n ? dyn : n), kStackUser);
      off += static_cast<std::uint32_t>(n) + 8;
    }
  }
  if (st & (PERF_SAMPLE_WEIGHT | PERF_SAMPLE_WEIGHT_STRUCT)) {
    if (!fits(8)) return false;
    set(refs_.weight, off, 8, kWeight);
    off += 8;
  }
  if (!fixed8(PERF_SAMPLE_DATA_SRC, refs_.data_src, kDataSrc)) return false;
  if (!fixed8(PERF_SAMPLE_TRANSACTION, refs_.transaction, kTransaction)) return false;
  if (st & PERF_SAMPLE_REGS_INTR) {
    if (!regs(l.regs_intr_count, nullptr, 0, refs_.regs_intr, kRegsIntr)) return false;
  }
  if (!fixed8(PERF_SAMPLE_PHYS_ADDR, refs_.phys_addr, kPhysAddr)) return false;
  if (!fixed8(PERF_SAMPLE_CGROUP, refs_.cgroup, kCgroup)) return false;
  if (!fixed8(PERF_SAMPLE_DATA_PAGE_SIZE, refs_.data_page_size, kDataPageSize)) return false;
  if (!fixed8(PERF_SAMPLE_CODE_PAGE_SIZE, refs_.code_page_size, kCodePageSize)) return false;
  if (st & PERF_SAMPLE_AUX) {
    if (!fits(8)) return false;
    std::uint64_t n = u64_at(off);
    off += 8;
    if (!fits(n)) return false;
    set(refs_.aux, off, static_cast<std::uint32_t>(n), kAux);
    off += static_cast<std::uint32_t>(n);
  }
  (void)cpu_hint;

  reset_refs(previous_ & ~touched_);
  Event* event = entry->event;
  if (event == nullptr) return true;
  ByteSpan body = record.subspan(8);
  if (entry->raw_payload) body = record.subspan(raw_start, raw_size);
  event->process(record, body, errors_);
  return true;
}

bool PerfRecordParser::parse_other(ByteSpan record, std::uint32_t type, std::uint32_t cpu_hint) {
  const std::uint32_t size = static_cast<std::uint32_t>(record.size());
  const SampleLayout* layout = nullptr;
  if (default_layout_ == nullptr || default_layout_->has(PERF_SAMPLE_IDENTIFIER)) {
    if (size >= 16) {
      if (const IdEntry* e = find_id(read_at<std::uint64_t>(record, size - 8).value_or(0))) {
        layout = e->layout;
      }
    }
  }
  if (layout == nullptr) layout = default_layout_;
  std::uint32_t body_end = size;
  std::uint32_t cpu = cpu_hint;
  if (layout != nullptr && layout->sample_id_all) {
    if (size < 8 + layout->trailer_size) return false;
    body_end = size - layout->trailer_size;
    auto at = [&](std::int32_t from_end) { return size - static_cast<std::uint32_t>(from_end); };
    if (layout->trailer_tid_from_end > 0) {
      set(refs_.pid, at(layout->trailer_tid_from_end), 4, kPid);
      set(refs_.tid, at(layout->trailer_tid_from_end) + 4, 4, kTid);
    }
    if (layout->trailer_time_from_end > 0)
      set(refs_.time, at(layout->trailer_time_from_end), 8, kTime);
    if (layout->trailer_id_from_end > 0) set(refs_.id, at(layout->trailer_id_from_end), 8, kId);
    if (layout->trailer_stream_id_from_end > 0) {
      set(refs_.stream_id, at(layout->trailer_stream_id_from_end), 8, kStreamId);
    }
    if (layout->trailer_cpu_from_end > 0) {
      set(refs_.cpu, at(layout->trailer_cpu_from_end), 4, kCpu);
      cpu = read_at<std::uint32_t>(record, at(layout->trailer_cpu_from_end)).value_or(cpu_hint);
    }
  }
  ByteSpan body = record.subspan(8, body_end - 8);
  reset_refs(previous_ & ~touched_);

  // Minimum body sizes, so a short record is reported instead of silently
  // yielding "payload too short" in every callback.
  std::uint32_t min_body = 0;
  switch (type) {
    case PERF_RECORD_MMAP:
      min_body = 33;
      break;
    case PERF_RECORD_MMAP2:
      min_body = 65;
      break;
    case PERF_RECORD_COMM:
      min_body = 9;
      break;
    case PERF_RECORD_EXIT:
    case PERF_RECORD_FORK:
      min_body = 24;
      break;
    case PERF_RECORD_LOST:
      min_body = 16;
      break;
    case PERF_RECORD_LOST_SAMPLES:
      min_body = 8;
      break;
    case PERF_RECORD_THROTTLE:
    case PERF_RECORD_UNTHROTTLE:
      min_body = 24;
      break;
    case PERF_RECORD_SWITCH_CPU_WIDE:
      min_body = 8;
      break;
    case PERF_RECORD_KSYMBOL:
      min_body = 17;
      break;
    case PERF_RECORD_NAMESPACES:
      min_body = 16;
      break;
    case PERF_RECORD_CGROUP:
      min_body = 9;
      break;
    default:
      break;
  }
  if (body.size() < min_body) return false;

  if (type == PERF_RECORD_LOST) {
    cpu_counters(cpu).lost += read_at<std::uint64_t>(body, 8).value_or(0);
  } else if (type == PERF_RECORD_LOST_SAMPLES) {
    cpu_counters(cpu).lost_samples += read_at<std::uint64_t>(body, 0).value_or(0);
  }
  Event* event = kernel_.for_type(type);
  if (event == nullptr) {
    ++stats_.unhandled;
    return true;
  }
  event->process(record, body, errors_);
  return true;
}

Status PerfRecordParser::parse_stream(ByteSpan bytes, std::uint32_t cpu_hint) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    auto size = read_at<std::uint16_t>(bytes, off + 6);
    if (!size || *size < 8 || *size > bytes.size() - off) {
      ++stats_.malformed;
      return error(ErrorCode::kMalformed,
                   "record at offset " + std::to_string(off) + " has size " +
                       (size ? std::to_string(*size) : std::string("(truncated header)")) +
                       ", which does not fit the " + std::to_string(bytes.size() - off) +
                       " bytes left; the rest of the buffer is skipped");
    }
    parse(bytes.subspan(off, *size), cpu_hint);
    off += *size;
  }
  return ok_status();
}

}  // namespace one_collect
