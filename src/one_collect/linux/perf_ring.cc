#include "one_collect/linux/perf_ring.h"

#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>

#include "one_collect/core/errno_status.h"

namespace one_collect {

std::size_t ring_data_bytes(std::size_t bytes) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::size_t pages = (bytes + page - 1) / page;
  if (pages == 0) pages = 1;
  return std::bit_ceil(pages) * page;
}

std::optional<StackSection> find_stack_section(ByteSpan s, const SampleLayout& l) {
  const std::uint64_t st = l.sample_type;
  if ((st & PERF_SAMPLE_STACK_USER) == 0) return std::nullopt;
  const std::uint64_t size = s.size();
  std::uint64_t off = 8;
  auto u64 = [&](std::uint64_t at) -> std::optional<std::uint64_t> {
    return read_at<std::uint64_t>(s, static_cast<std::size_t>(at));
  };
  for (std::uint64_t bit : {std::uint64_t{PERF_SAMPLE_IDENTIFIER}, std::uint64_t{PERF_SAMPLE_IP},
                            std::uint64_t{PERF_SAMPLE_TID}, std::uint64_t{PERF_SAMPLE_TIME},
                            std::uint64_t{PERF_SAMPLE_ADDR}, std::uint64_t{PERF_SAMPLE_ID},
                            std::uint64_t{PERF_SAMPLE_STREAM_ID}, std::uint64_t{PERF_SAMPLE_CPU},
                            std::uint64_t{PERF_SAMPLE_PERIOD}}) {
    if (st & bit) off += 8;
  }
  if (st & PERF_SAMPLE_READ) {
    const std::uint64_t rf = l.read_format;
    std::uint64_t head = ((rf & PERF_FORMAT_TOTAL_TIME_ENABLED) ? 8 : 0) +
                         ((rf & PERF_FORMAT_TOTAL_TIME_RUNNING) ? 8 : 0);
    if (rf & PERF_FORMAT_GROUP) {
      auto nr = u64(off);
      if (!nr || *nr > size / 8) return std::nullopt;
      off += 8 + head +
             *nr * (8 + ((rf & PERF_FORMAT_ID) ? 8 : 0) + ((rf & PERF_FORMAT_LOST) ? 8 : 0));
    } else {
      off += 8 + head + ((rf & PERF_FORMAT_ID) ? 8 : 0) + ((rf & PERF_FORMAT_LOST) ? 8 : 0);
    }
  }
  if (st & PERF_SAMPLE_CALLCHAIN) {
    auto nr = u64(off);
    if (!nr || *nr > size / 8) return std::nullopt;
    off += 8 + *nr * 8;
  }
  if (st & PERF_SAMPLE_RAW) {
    auto n = read_at<std::uint32_t>(s, static_cast<std::size_t>(off));
    if (!n) return std::nullopt;
    off += 4 + *n;
  }
  if (st & PERF_SAMPLE_BRANCH_STACK) {
    auto nr = u64(off);
    if (!nr || *nr > size / 24) return std::nullopt;
    off += 8 + ((l.branch_sample_type & PERF_SAMPLE_BRANCH_HW_INDEX) ? 8 : 0) + *nr * 24;
  }
  if (st & PERF_SAMPLE_REGS_USER) {
    auto abi = u64(off);
    if (!abi) return std::nullopt;
    off += 8 + (*abi == PERF_SAMPLE_REGS_ABI_NONE ? 0 : std::uint64_t{l.regs_user_count} * 8);
  }
  auto n = u64(off);
  if (!n || off > size) return std::nullopt;
  std::uint64_t length = *n == 0 ? 8 : 16 + *n;
  if (length > size - off) return std::nullopt;
  return StackSection{static_cast<std::uint32_t>(off), static_cast<std::uint32_t>(length)};
}

bool append_without_stack(ByteSpan sample, const SampleLayout& layout,
                          std::vector<std::uint8_t>& out) {
  auto section = find_stack_section(sample, layout);
  if (!section || section->length <= 8) return false;
  const std::size_t start = out.size();
  out.insert(out.end(), sample.begin(), sample.begin() + section->offset);
  const std::uint64_t zero = 0;
  const auto* z = reinterpret_cast<const std::uint8_t*>(&zero);
  out.insert(out.end(), z, z + 8);
  out.insert(out.end(), sample.begin() + section->offset + section->length, sample.end());
  const std::uint16_t new_size = static_cast<std::uint16_t>(out.size() - start);
  std::memcpy(out.data() + start + 6, &new_size, 2);
  return true;
}

bool append_with_trimmed_stack(ByteSpan sample, const SampleLayout& layout,
                               std::vector<std::uint8_t>& out) {
  auto section = find_stack_section(sample, layout);
  if (!section || section->length <= 8) return false;
  const std::size_t off = section->offset;
  const std::uint64_t size = section->length - 16;  // the data bytes
  auto dyn = read_at<std::uint64_t>(sample, off + 8 + static_cast<std::size_t>(size));
  if (!dyn) return false;
  const std::uint64_t keep = std::min<std::uint64_t>((*dyn + 7) & ~std::uint64_t{7}, size);
  if (keep == size) return false;
  const std::size_t start = out.size();
  out.insert(out.end(), sample.begin(), sample.begin() + off);
  const auto* k = reinterpret_cast<const std::uint8_t*>(&keep);
  out.insert(out.end(), k, k + 8);
  out.insert(out.end(), sample.begin() + off + 8, sample.begin() + off + 8 + keep);
  out.insert(out.end(), sample.begin() + off + 8 + size, sample.end());  // dyn_size and the rest
  const std::uint16_t new_size = static_cast<std::uint16_t>(out.size() - start);
  std::memcpy(out.data() + start + 6, &new_size, 2);
  return true;
}

Result<PerfRing> PerfRing::map(int fd, std::size_t data_bytes, std::uint32_t cpu) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t data = ring_data_bytes(data_bytes);
  void* base = ::mmap(nullptr, page + data, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    int err = errno;
    Status s = errno_status(err, "mapping a " + std::to_string(data) + "-byte perf ring for cpu " +
                                     std::to_string(cpu));
    if (err == EPERM || err == ENOMEM) {
      return error(s.code(), s.message() +
                                 " (locked-memory limit: see "
                                 "/proc/sys/kernel/perf_event_mlock_kb and `ulimit -l`)");
    }
    return s;
  }
  PerfRing ring;
  ring.fd_ = fd;
  ring.cpu_ = cpu;
  ring.base_ = base;
  ring.map_size_ = page + data;
  auto* meta = static_cast<perf_event_mmap_page*>(base);
  std::size_t offset = meta->data_offset != 0 ? meta->data_offset : page;
  std::size_t size = meta->data_size != 0 ? meta->data_size : data;
  if (offset + size > ring.map_size_) {
    return error(ErrorCode::kInternal, "perf ring control page reports data outside the mapping");
  }
  ring.data_ = static_cast<std::uint8_t*>(base) + offset;
  ring.data_size_ = size;
  return ring;
}

PerfRing::PerfRing(PerfRing&& o) noexcept { *this = std::move(o); }

PerfRing& PerfRing::operator=(PerfRing&& o) noexcept {
  if (this != &o) {
    if (base_ != nullptr) ::munmap(base_, map_size_);
    fd_ = o.fd_;
    cpu_ = o.cpu_;
    base_ = o.base_;
    map_size_ = o.map_size_;
    data_ = o.data_;
    data_size_ = o.data_size_;
    o.base_ = nullptr;
    o.fd_ = -1;
  }
  return *this;
}

PerfRing::~PerfRing() {
  if (base_ != nullptr) ::munmap(base_, map_size_);
}

bool PerfRing::has_data() const {
  auto* meta = static_cast<perf_event_mmap_page*>(base_);
  std::uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
  return head != meta->data_tail;
}

void PerfRing::copy_out(std::uint64_t pos, std::size_t n, std::uint8_t* dst) const {
  std::size_t at = static_cast<std::size_t>(pos & (data_size_ - 1));
  std::size_t first = std::min(n, data_size_ - at);
  std::memcpy(dst, data_ + at, first);
  if (first < n) std::memcpy(dst + first, data_, n - first);
}

ByteSpan PerfRing::in_place(std::uint64_t pos, std::size_t n) const {
  std::size_t at = static_cast<std::size_t>(pos & (data_size_ - 1));
  if (n > data_size_ - at) return {};
  return ByteSpan(data_ + at, n);
}

void PerfRing::drain(std::vector<std::uint8_t>& out, DrainPolicy& policy, DrainCounts& counts) {
  auto* meta = static_cast<perf_event_mmap_page*>(base_);
  // The kernel publishes data_head after writing the records (acquire pairs
  // with its release); we publish data_tail after reading them.
  const std::uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
  std::uint64_t tail = meta->data_tail;
  while (tail < head) {
    const std::uint64_t avail = head - tail;
    perf_event_header header;
    if (avail < sizeof(header)) {
      ++counts.malformed;
      break;
    }
    copy_out(tail, sizeof(header), reinterpret_cast<std::uint8_t*>(&header));
    if (header.size < sizeof(header) || header.size > avail || (header.size & 7) != 0) {
      ++counts.malformed;  // cannot resynchronise inside a ring: skip the rest
      break;
    }
    if (header.type == PERF_RECORD_SAMPLE) {
      // Samples this big carry a user stack copy: keep only its filled part.
      constexpr std::uint32_t kTrimFrom = 4096;
      DrainPolicy::Action action = policy.on_sample(header.size);
      if (action == DrainPolicy::Action::kDrop) {
        ++counts.dropped_samples;
        tail += header.size;
        continue;
      }
      if (action == DrainPolicy::Action::kCutStack) {
        scratch_.resize(header.size);
        copy_out(tail, header.size, scratch_.data());
        const SampleLayout* layout = policy.layout_for(ByteSpan(scratch_));
        std::size_t before = out.size();
        if (layout != nullptr && append_without_stack(ByteSpan(scratch_), *layout, out)) {
          ++counts.cut_stacks;
          ++counts.records;
          counts.bytes += out.size() - before;
          tail += header.size;
          continue;
        }
        // No stack to cut: keep it whole.
      }
      if (action == DrainPolicy::Action::kKeep && header.size >= kTrimFrom) {
        ByteSpan record = in_place(tail, header.size);
        if (record.empty()) {  // wraps around the ring's end
          scratch_.resize(header.size);
          copy_out(tail, header.size, scratch_.data());
          record = ByteSpan(scratch_);
        }
        const SampleLayout* layout = policy.layout_for(record);
        std::size_t before = out.size();
        if (layout == nullptr || !append_with_trimmed_stack(record, *layout, out)) {
          out.insert(out.end(), record.begin(), record.end());
        }
        ++counts.records;
        counts.bytes += out.size() - before;
        tail += header.size;
        continue;
      }
    }
    const std::size_t at = out.size();
    out.resize(at + header.size);
    copy_out(tail, header.size, out.data() + at);
    ++counts.records;
    counts.bytes += header.size;
    tail += header.size;
  }
  __atomic_store_n(&meta->data_tail, head, __ATOMIC_RELEASE);
}

}  // namespace one_collect
