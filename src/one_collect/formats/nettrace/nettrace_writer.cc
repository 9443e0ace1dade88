#include "one_collect/formats/nettrace/nettrace_writer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "one_collect/core/hash.h"

namespace one_collect::nettrace {
namespace {

// Block kinds and limits of the V6 stream.
constexpr std::uint8_t kEndOfStream = 0;
constexpr std::uint8_t kTraceBlock = 1;
constexpr std::uint8_t kEventBlock = 2;
constexpr std::uint8_t kMetadataBlock = 3;
constexpr std::uint8_t kSequencePointBlock = 4;
constexpr std::uint8_t kStackBlock = 5;
constexpr std::uint8_t kThreadBlock = 6;
constexpr std::uint8_t kRemoveThreadBlock = 7;
constexpr std::uint8_t kLabelListBlock = 8;
constexpr std::size_t kMaxBlockBody = (1u << 24) - 1;  // 24-bit block size
// Blocks we build are split well below the hard limit.
constexpr std::size_t kEventBlockTarget = 1u << 20;
constexpr std::size_t kSplitTarget = 4u << 20;
constexpr std::size_t kEventBlockHeaderSize = 20;
constexpr std::size_t kMaxStackFrames = 1u << 16;

// Compressed event header flag bits.
constexpr std::uint8_t kFlagMetadataId = 1;
constexpr std::uint8_t kFlagCaptureThreadAndSequence = 2;
constexpr std::uint8_t kFlagThreadIndex = 4;
constexpr std::uint8_t kFlagStackId = 8;
constexpr std::uint8_t kFlagLabelListId = 16;
constexpr std::uint8_t kFlagSorted = 64;
constexpr std::uint8_t kFlagPayloadSize = 128;

inline void put_varuint(std::vector<std::uint8_t>& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

template <typename T>
inline void put(std::vector<std::uint8_t>& out, T value) {
  std::uint8_t bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.insert(out.end(), bytes, bytes + sizeof(T));
}

template <typename T>
inline void patch(std::vector<std::uint8_t>& out, std::size_t offset, T value) {
  std::memcpy(out.data() + offset, &value, sizeof(T));
}

inline void put_string(std::vector<std::uint8_t>& out, std::string_view text) {
  put_varuint(out, text.size());
  out.insert(out.end(), text.begin(), text.end());
}

inline std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

bool is_scalar(TypeCode t) {
  switch (t) {
    case TypeCode::kObject:
    case TypeCode::kNullTerminatedUtf16String:
    case TypeCode::kArray:
    case TypeCode::kFixedLengthArray:
    case TypeCode::kRelLoc:
    case TypeCode::kDataLoc:
    case TypeCode::kVarInt:
    case TypeCode::kVarUInt:
      return false;
    default:
      return true;
  }
}

bool is_known(TypeCode t) {
  auto v = static_cast<unsigned>(t);
  return v == 1 || (v >= 3 && v <= 14) || (v >= 16 && v <= 26);
}

Status encode_field(std::vector<std::uint8_t>& out, const FieldSpec& field) {
  if (!is_known(field.type) || field.type == TypeCode::kObject) {
    return error(ErrorCode::kInvalidArgument,
                 "nettrace field '" + field.name + "': unsupported type code " +
                     std::to_string(static_cast<unsigned>(field.type)));
  }
  std::vector<std::uint8_t> body;
  put_string(body, field.name);
  body.push_back(static_cast<std::uint8_t>(field.type));
  switch (field.type) {
    case TypeCode::kArray:
    case TypeCode::kFixedLengthArray:
    case TypeCode::kRelLoc:
    case TypeCode::kDataLoc:
      if (!is_known(field.element) ||
          (field.type != TypeCode::kArray && !is_scalar(field.element)) ||
          field.element == TypeCode::kObject || field.element == TypeCode::kArray ||
          field.element == TypeCode::kFixedLengthArray || field.element == TypeCode::kRelLoc ||
          field.element == TypeCode::kDataLoc) {
        return error(ErrorCode::kInvalidArgument,
                     "nettrace field '" + field.name + "': unsupported element type");
      }
      body.push_back(static_cast<std::uint8_t>(field.element));
      if (field.type == TypeCode::kFixedLengthArray) put<std::uint16_t>(body, field.count);
      break;
    default:
      break;
  }
  if (body.size() > 0xFFFF) {
    return error(ErrorCode::kInvalidArgument, "nettrace field '" + field.name + "': name too long");
  }
  put<std::uint16_t>(out, static_cast<std::uint16_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return ok_status();
}

std::atomic<std::uint64_t> temp_counter{0};

}  // namespace

// ---------------------------------------------------------------- SyncTime

SyncTime SyncTime::from_unix_ns(std::uint64_t unix_ns) {
  using namespace std::chrono;
  sys_time<nanoseconds> tp{nanoseconds{static_cast<std::int64_t>(unix_ns)}};
  auto day = floor<days>(tp);
  year_month_day ymd{day};
  hh_mm_ss<nanoseconds> tod{tp - day};
  SyncTime t;
  t.year = static_cast<std::int16_t>(static_cast<int>(ymd.year()));
  t.month = static_cast<std::int16_t>(static_cast<unsigned>(ymd.month()));
  t.day = static_cast<std::int16_t>(static_cast<unsigned>(ymd.day()));
  t.day_of_week = static_cast<std::int16_t>(weekday{day}.c_encoding());  // Sunday = 0
  t.hour = static_cast<std::int16_t>(tod.hours().count());
  t.minute = static_cast<std::int16_t>(tod.minutes().count());
  t.second = static_cast<std::int16_t>(tod.seconds().count());
  t.millisecond = static_cast<std::int16_t>(duration_cast<milliseconds>(tod.subseconds()).count());
  return t;
}

// ---------------------------------------------------------------- sinks

Result<std::unique_ptr<TempFileSink>> TempFileSink::open(const std::string& path) {
  if (path.empty()) return error(ErrorCode::kInvalidArgument, "nettrace: empty output path");
  std::string temp =
      path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(temp_counter.fetch_add(1));
  std::FILE* file = std::fopen(temp.c_str(), "wbx");
  if (file == nullptr) {
    int err = errno;
    ErrorCode code = err == ENOENT || err == ENOTDIR                 ? ErrorCode::kNotFound
                     : err == EACCES || err == EPERM || err == EROFS ? ErrorCode::kPermissionDenied
                                                                     : ErrorCode::kIo;
    return error(code, "nettrace: cannot write '" + path + "' (creating " + temp +
                           "): " + std::strerror(err));
  }
  return std::unique_ptr<TempFileSink>(new TempFileSink(path, std::move(temp), file));
}

TempFileSink::~TempFileSink() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) std::remove(temp_.c_str());
}

Status TempFileSink::write(std::span<const std::uint8_t> bytes) {
  if (file_ == nullptr) return error(ErrorCode::kInternal, "nettrace: write after commit");
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    return error(ErrorCode::kIo, "nettrace: writing " + temp_ + ": " + std::strerror(errno));
  }
  return ok_status();
}

Status TempFileSink::commit() {
  if (file_ == nullptr) return error(ErrorCode::kInternal, "nettrace: commit twice");
  bool bad = std::fflush(file_) != 0 || std::ferror(file_) != 0;
  int err = errno;
  bad = (std::fclose(file_) != 0) || bad;
  file_ = nullptr;
  if (bad) {
    return error(ErrorCode::kIo, "nettrace: writing " + temp_ + ": " + std::strerror(err));
  }
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
    return error(ErrorCode::kIo,
                 "nettrace: renaming " + temp_ + " to " + path_ + ": " + std::strerror(errno));
  }
  committed_ = true;
  return ok_status();
}

// ---------------------------------------------------------------- payloads

PayloadEncoder& PayloadEncoder::varuint(std::uint64_t value) {
  put_varuint(bytes_, value);
  return *this;
}

PayloadEncoder& PayloadEncoder::varint(std::int64_t value) {
  put_varuint(bytes_, zigzag(value));
  return *this;
}

PayloadEncoder& PayloadEncoder::short_utf8(std::string_view text) {
  if (text.size() > 0xFFFF) {
    // Cut on a UTF-8 boundary so the text stays well formed.
    std::size_t n = 0xFFFF;
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    text = text.substr(0, n);
  }
  put<std::uint16_t>(bytes_, static_cast<std::uint16_t>(text.size()));
  bytes_.insert(bytes_.end(), text.begin(), text.end());
  return *this;
}

// ---------------------------------------------------------------- SegmentTable

std::uint32_t NetTraceWriter::SegmentTable::intern(std::span<const std::uint8_t> bytes,
                                                   bool size_prefix) {
  if ((count_ + 1) * 10 >= slots_.size() * 7) grow();
  std::uint64_t h = hash_bytes(bytes.data(), bytes.size());
  std::uint32_t tag = static_cast<std::uint32_t>(h >> 32) | 1u;
  std::size_t mask = slots_.size() - 1;
  std::size_t prefix = size_prefix ? 4 : 0;
  for (std::size_t i = hash_mix(tag) & mask;; i = (i + 1) & mask) {
    std::uint64_t slot = slots_[i];
    if (slot == 0) {
      if (size_prefix) put<std::uint32_t>(body_, static_cast<std::uint32_t>(bytes.size()));
      body_.insert(body_.end(), bytes.begin(), bytes.end());
      ends_.push_back(static_cast<std::uint32_t>(body_.size()));
      ++count_;
      slots_[i] = (std::uint64_t{tag} << 32) | count_;
      return count_;
    }
    if (static_cast<std::uint32_t>(slot >> 32) != tag) continue;
    std::uint32_t id = static_cast<std::uint32_t>(slot);
    std::size_t begin = id == 1 ? 0 : ends_[id - 2];
    std::size_t end = ends_[id - 1];
    if (end - begin - prefix == bytes.size() &&
        std::memcmp(body_.data() + begin + prefix, bytes.data(), bytes.size()) == 0) {
      return id;
    }
  }
}

void NetTraceWriter::SegmentTable::grow() {
  std::size_t size = slots_.empty() ? 1024 : slots_.size() * 2;
  std::vector<std::uint64_t> old;
  old.swap(slots_);
  slots_.assign(size, 0);
  std::size_t mask = size - 1;
  // The probe start derives from the stored tag, so entries move without
  // re-hashing their bytes.
  for (std::uint64_t slot : old) {
    if (slot == 0) continue;
    std::size_t i = hash_mix(slot >> 32) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

void NetTraceWriter::SegmentTable::clear() {
  body_.clear();
  ends_.clear();
  std::fill(slots_.begin(), slots_.end(), 0);
  count_ = 0;
}

// ---------------------------------------------------------------- writer

NetTraceWriter::NetTraceWriter(std::unique_ptr<NetTraceSink> sink, NetTraceOptions options)
    : sink_(std::move(sink)), options_(std::move(options)) {}

Result<std::unique_ptr<NetTraceWriter>> NetTraceWriter::create(std::unique_ptr<NetTraceSink> sink,
                                                               NetTraceOptions options) {
  if (!sink) return error(ErrorCode::kInvalidArgument, "nettrace: no sink");
  if (options.pointer_size != 4 && options.pointer_size != 8) {
    return error(ErrorCode::kInvalidArgument, "nettrace: pointer size must be 4 or 8");
  }
  if (options.tick_frequency == 0) {
    return error(ErrorCode::kInvalidArgument, "nettrace: tick frequency must not be 0");
  }
  options.segment_event_bytes = std::max<std::size_t>(options.segment_event_bytes, 1);
  options.segment_stack_bytes = std::max<std::size_t>(options.segment_stack_bytes, 1);
  std::unique_ptr<NetTraceWriter> writer(new NetTraceWriter(std::move(sink), std::move(options)));
  OC_RETURN_IF_ERROR(writer->write_header_and_trace_block());
  writer->start_event_block();
  return writer;
}

Result<std::unique_ptr<NetTraceWriter>> NetTraceWriter::open_file(const std::string& path,
                                                                  NetTraceOptions options) {
  OC_ASSIGN_OR_RETURN(auto sink, TempFileSink::open(path));
  return create(std::move(sink), std::move(options));
}

Status NetTraceWriter::write_block(std::uint8_t kind, std::span<const std::uint8_t> body) {
  if (body.size() > kMaxBlockBody) {
    return error(ErrorCode::kInternal, "nettrace: block of " + std::to_string(body.size()) +
                                           " bytes exceeds the 24-bit block size");
  }
  std::uint32_t header = static_cast<std::uint32_t>(body.size()) | (std::uint32_t{kind} << 24);
  std::uint8_t h[4];
  std::memcpy(h, &header, 4);
  OC_RETURN_IF_ERROR(sink_->write(h));
  OC_RETURN_IF_ERROR(sink_->write(body));
  bytes_written_ += 4 + body.size();
  return ok_status();
}

Status NetTraceWriter::write_header_and_trace_block() {
  std::vector<std::uint8_t> out;
  const char magic[] = {'N', 'e', 't', 't', 'r', 'a', 'c', 'e'};
  out.insert(out.end(), magic, magic + 8);
  put<std::uint32_t>(out, 0);  // reserved
  put<std::uint32_t>(out, 6);  // major
  put<std::uint32_t>(out, 0);  // minor
  OC_RETURN_IF_ERROR(sink_->write(out));
  bytes_written_ += out.size();

  std::vector<std::uint8_t> body;
  const SyncTime& t = options_.sync_time;
  for (std::int16_t v :
       {t.year, t.month, t.day_of_week, t.day, t.hour, t.minute, t.second, t.millisecond}) {
    put<std::int16_t>(body, v);
  }
  put<std::int64_t>(body, static_cast<std::int64_t>(options_.sync_ticks));
  put<std::int64_t>(body, static_cast<std::int64_t>(options_.tick_frequency));
  put<std::int32_t>(body, static_cast<std::int32_t>(options_.pointer_size));
  put<std::int32_t>(body, static_cast<std::int32_t>(options_.key_values.size()));
  for (const auto& [key, value] : options_.key_values) {
    put_string(body, key);
    put_string(body, value);
  }
  return write_block(kTraceBlock, body);
}

Result<std::uint32_t> NetTraceWriter::define_event(const EventSpec& spec) {
  if (finished_) return error(ErrorCode::kInvalidArgument, "nettrace: define_event after finish");
  std::vector<std::uint8_t> row;
  std::uint32_t id = next_metadata_id_;
  put_varuint(row, id);
  put_string(row, spec.provider);
  put_varuint(row, spec.event_id);
  put_string(row, spec.name);
  if (spec.fields.size() > 0xFFFF) {
    return error(ErrorCode::kInvalidArgument,
                 "nettrace event '" + spec.name + "': too many fields");
  }
  put<std::uint16_t>(row, static_cast<std::uint16_t>(spec.fields.size()));
  for (const FieldSpec& field : spec.fields) {
    OC_RETURN_IF_ERROR(encode_field(row, field));
  }
  std::vector<std::uint8_t> optional;
  if (spec.opcode >= 0) {
    optional.push_back(1);
    optional.push_back(static_cast<std::uint8_t>(spec.opcode));
  }
  if (spec.keywords != 0) {
    optional.push_back(3);
    put<std::uint64_t>(optional, spec.keywords);
  }
  if (!spec.description.empty()) {
    optional.push_back(5);
    put_string(optional, spec.description);
  }
  if (spec.level >= 0) {
    optional.push_back(8);
    optional.push_back(static_cast<std::uint8_t>(spec.level));
  }
  if (spec.version >= 0) {
    optional.push_back(9);
    optional.push_back(static_cast<std::uint8_t>(spec.version));
  }
  put<std::uint16_t>(row, static_cast<std::uint16_t>(optional.size()));
  row.insert(row.end(), optional.begin(), optional.end());
  if (row.size() > 0xFFFF) {
    return error(ErrorCode::kInvalidArgument,
                 "nettrace event '" + spec.name + "': metadata row exceeds 65535 bytes");
  }
  if (pending_metadata_.empty()) put<std::uint16_t>(pending_metadata_, 0);  // header size
  put<std::uint16_t>(pending_metadata_, static_cast<std::uint16_t>(row.size()));
  pending_metadata_.insert(pending_metadata_.end(), row.begin(), row.end());
  ++next_metadata_id_;
  // Metadata stays valid across sequence points, so a large batch can go now.
  if (pending_metadata_.size() >= kSplitTarget) {
    OC_RETURN_IF_ERROR(write_block(kMetadataBlock, pending_metadata_));
    pending_metadata_.clear();
  }
  return id;
}

std::uint64_t NetTraceWriter::thread(std::uint64_t pid, std::uint64_t tid, std::string_view name) {
  std::uint64_t key = (pid << 32) ^ tid;
  auto [it, added] = thread_index_.try_emplace(key, 0);
  if (!added) {
    const auto& k = thread_keys_[it->second - 1];
    if (k.first == pid && k.second == tid && !threads_[it->second - 1].removed) return it->second;
    if (k.first == pid && k.second == tid) {
      added = true;  // retired: give the reused (pid, tid) a new index
    } else {
      // A 64-bit key collision (pids or tids above 32 bits): scan.
      for (std::size_t i = 0; i < thread_keys_.size(); ++i) {
        if (thread_keys_[i].first == pid && thread_keys_[i].second == tid && !threads_[i].removed) {
          return i + 1;
        }
      }
    }
  }
  std::uint64_t index = thread_keys_.size() + 1;
  if (added) it->second = index;
  thread_keys_.emplace_back(pid, tid);
  threads_.push_back({});
  threads_by_pid_[pid].push_back(index);
  std::vector<std::uint8_t>& row = scratch_;
  row.clear();
  put_varuint(row, index);
  if (!name.empty()) {
    row.push_back(1);
    put_string(row, name.substr(0, 1000));
  }
  row.push_back(2);
  put_varuint(row, pid);
  row.push_back(3);
  put_varuint(row, tid);
  put<std::uint16_t>(pending_threads_, static_cast<std::uint16_t>(row.size()));
  pending_threads_.insert(pending_threads_.end(), row.begin(), row.end());
  return index;
}

void NetTraceWriter::remove_threads_of(std::uint64_t pid) {
  auto it = threads_by_pid_.find(pid);
  if (it == threads_by_pid_.end()) return;
  for (std::uint64_t index : it->second) {
    threads_[index - 1].removed = true;
    pending_removals_.push_back(index);
  }
  threads_by_pid_.erase(it);
}

Result<std::uint32_t> NetTraceWriter::stack(std::span<const std::uint64_t> ips) {
  if (ips.empty()) return 0u;
  if (ips.size() > kMaxStackFrames) {
    return error(ErrorCode::kInvalidArgument,
                 "nettrace: stack of " + std::to_string(ips.size()) + " frames is too deep");
  }
  std::vector<std::uint8_t>& bytes = scratch_;
  bytes.clear();
  if (options_.pointer_size == 8) {
    bytes.resize(ips.size() * 8);
    std::memcpy(bytes.data(), ips.data(), bytes.size());
  } else {
    for (std::uint64_t ip : ips) put<std::uint32_t>(bytes, static_cast<std::uint32_t>(ip));
  }
  return stacks_.intern(bytes, true);
}

Result<std::uint32_t> NetTraceWriter::label_list(std::span<const Label> labels) {
  if (labels.empty()) return 0u;
  std::vector<std::uint8_t>& bytes = scratch_;
  bytes.clear();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const Label& label = labels[i];
    std::uint8_t kind = static_cast<std::uint8_t>(label.kind);
    if (kind != 5 && kind != 6) {
      return error(ErrorCode::kInvalidArgument, "nettrace: unsupported label kind");
    }
    bytes.push_back(kind | (i + 1 == labels.size() ? 0x80 : 0));
    put_string(bytes, label.key);
    if (label.kind == Label::Kind::kString) {
      put_string(bytes, label.text);
    } else {
      put_varuint(bytes, zigzag(label.number));
    }
  }
  if (bytes.size() > kSplitTarget) {
    return error(ErrorCode::kInvalidArgument, "nettrace: label list too large");
  }
  return labels_.intern(bytes, false);
}

void NetTraceWriter::start_event_block() {
  block_.clear();
  block_.resize(4 + kEventBlockHeaderSize);  // block header + event block header
  block_events_ = 0;
  prev_ = EventHeader{};
  prev_payload_size_ = 0;
  prev_sequence_ = 0;
  prev_capture_ = 0;
}

void NetTraceWriter::close_event_block() {
  if (block_events_ == 0) return;
  std::uint32_t body = static_cast<std::uint32_t>(block_.size() - 4);
  patch<std::uint32_t>(block_, 0, body | (std::uint32_t{kEventBlock} << 24));
  patch<std::uint16_t>(block_, 4, static_cast<std::uint16_t>(kEventBlockHeaderSize));
  patch<std::uint16_t>(block_, 6, 1);  // header compression
  patch<std::uint64_t>(block_, 8, block_min_ts_);
  patch<std::uint64_t>(block_, 16, block_max_ts_);
  closed_blocks_.insert(closed_blocks_.end(), block_.begin(), block_.end());
  start_event_block();
}

Status NetTraceWriter::write_event(const EventHeader& h, std::span<const std::uint8_t> payload) {
  if (failed_) return error(ErrorCode::kInvalidArgument, "nettrace: writer already failed");
  if (finished_) return error(ErrorCode::kInvalidArgument, "nettrace: write_event after finish");
  if (h.metadata_id == 0 || h.metadata_id >= next_metadata_id_) {
    return error(ErrorCode::kInvalidArgument,
                 "nettrace: event uses undefined metadata id " + std::to_string(h.metadata_id));
  }
  if (h.thread == 0 || h.thread > threads_.size() || threads_[h.thread - 1].removed) {
    return error(ErrorCode::kInvalidArgument,
                 "nettrace: event uses unknown thread index " + std::to_string(h.thread));
  }
  if (h.stack > stacks_.count()) {
    return error(ErrorCode::kInvalidArgument, "nettrace: event uses stack id " +
                                                  std::to_string(h.stack) +
                                                  " not defined in this segment");
  }
  if (h.label_list > labels_.count()) {
    return error(ErrorCode::kInvalidArgument, "nettrace: event uses label list id " +
                                                  std::to_string(h.label_list) +
                                                  " not defined in this segment");
  }
  if (h.timestamp < last_ts_) {
    return error(ErrorCode::kInvalidArgument,
                 "nettrace: event timestamp " + std::to_string(h.timestamp) +
                     " is earlier than the previous event's " + std::to_string(last_ts_));
  }
  if (payload.size() > kMaxBlockBody - kEventBlockHeaderSize - 64) {
    return error(ErrorCode::kInvalidArgument, "nettrace: event payload too large");
  }
  if (block_events_ > 0 && block_.size() + payload.size() + 64 > kEventBlockTarget) {
    close_event_block();
  }

  ThreadState& ts = threads_[h.thread - 1];
  if (!ts.active_in_segment) {
    ts.active_in_segment = true;
    segment_threads_.push_back(h.thread);
  }
  std::uint32_t sequence = ++ts.last_sequence;  // starts at 1, wraps to 0 as the spec says

  std::size_t flags_at = block_.size();
  block_.push_back(0);
  std::uint8_t flags = kFlagSorted;  // timestamps never decrease, so every event is sorted
  if (h.metadata_id != prev_.metadata_id) {
    flags |= kFlagMetadataId;
    put_varuint(block_, h.metadata_id);
  }
  if (h.thread != prev_capture_ || h.processor != prev_.processor ||
      sequence != prev_sequence_ + 1) {
    flags |= kFlagCaptureThreadAndSequence;
    put_varuint(block_, static_cast<std::uint32_t>(sequence - prev_sequence_ - 1));
    put_varuint(block_, h.thread);
    put_varuint(block_, h.processor);
  }
  if (h.thread != prev_.thread) {
    flags |= kFlagThreadIndex;
    put_varuint(block_, h.thread);
  }
  if (h.stack != prev_.stack) {
    flags |= kFlagStackId;
    put_varuint(block_, h.stack);
  }
  put_varuint(block_, h.timestamp - prev_.timestamp);
  if (h.label_list != prev_.label_list) {
    flags |= kFlagLabelListId;
    put_varuint(block_, h.label_list);
  }
  if (payload.size() != prev_payload_size_) {
    flags |= kFlagPayloadSize;
    put_varuint(block_, payload.size());
  }
  block_[flags_at] = flags;
  block_.insert(block_.end(), payload.begin(), payload.end());

  if (block_events_ == 0) block_min_ts_ = h.timestamp;
  block_max_ts_ = h.timestamp;
  ++block_events_;
  prev_ = h;
  prev_capture_ = h.thread;
  prev_sequence_ = sequence;
  prev_payload_size_ = static_cast<std::uint32_t>(payload.size());
  last_ts_ = h.timestamp;
  ++segment_events_;
  ++events_written_;

  if (closed_blocks_.size() + block_.size() >= options_.segment_event_bytes ||
      stacks_.body().size() + labels_.body().size() >= options_.segment_stack_bytes) {
    return flush();
  }
  return ok_status();
}

Status NetTraceWriter::write_split(std::uint8_t kind, const SegmentTable& table) {
  const auto& body = table.body();
  const auto& ends = table.ends();
  std::size_t first = 0;  // index of the first entry of the next block
  std::vector<std::uint8_t> block;
  while (first < ends.size()) {
    std::size_t begin = first == 0 ? 0 : ends[first - 1];
    std::size_t last = first;
    while (last + 1 < ends.size() && ends[last + 1] - begin <= kSplitTarget) ++last;
    std::size_t end = ends[last];
    block.clear();
    put<std::uint32_t>(block, static_cast<std::uint32_t>(first + 1));
    put<std::uint32_t>(block, static_cast<std::uint32_t>(last - first + 1));
    block.insert(block.end(), body.begin() + static_cast<std::ptrdiff_t>(begin),
                 body.begin() + static_cast<std::ptrdiff_t>(end));
    OC_RETURN_IF_ERROR(write_block(kind, block));
    first = last + 1;
  }
  return ok_status();
}

Status NetTraceWriter::flush() {
  if (failed_) return error(ErrorCode::kInvalidArgument, "nettrace: writer already failed");
  if (finished_) return error(ErrorCode::kInvalidArgument, "nettrace: flush after finish");
  Status status = [&]() -> Status {
    if (!pending_metadata_.empty()) {
      OC_RETURN_IF_ERROR(write_block(kMetadataBlock, pending_metadata_));
      pending_metadata_.clear();
    }
    if (!pending_threads_.empty()) {
      // Rows are at most a few hundred bytes; split well below the block limit.
      std::size_t pos = 0;
      while (pos < pending_threads_.size()) {
        std::size_t end = pos;
        while (end < pending_threads_.size()) {
          std::uint16_t row;
          std::memcpy(&row, pending_threads_.data() + end, 2);
          if (end > pos && end + 2 + row - pos > kSplitTarget) break;
          end += 2 + row;
        }
        OC_RETURN_IF_ERROR(
            write_block(kThreadBlock, std::span(pending_threads_.data() + pos, end - pos)));
        pos = end;
      }
      pending_threads_.clear();
    }
    if (segment_events_ == 0) return write_removals();
    OC_RETURN_IF_ERROR(write_split(kStackBlock, stacks_));
    OC_RETURN_IF_ERROR(write_split(kLabelListBlock, labels_));
    close_event_block();
    OC_RETURN_IF_ERROR(sink_->write(closed_blocks_));
    bytes_written_ += closed_blocks_.size();
    closed_blocks_.clear();
    OC_RETURN_IF_ERROR(write_removals());

    // The sequence point: every event so far is at or before last_ts_; it
    // records each active thread's last sequence number (removed threads
    // already gave theirs in the RemoveThread block).
    std::vector<std::uint8_t>& sp = scratch_;
    sp.clear();
    put<std::uint64_t>(sp, last_ts_);
    put<std::uint32_t>(sp, 0);  // flags: keep threads and metadata
    put<std::uint32_t>(sp, 0);  // thread count, patched below
    std::uint32_t listed = 0;
    for (std::uint64_t index : segment_threads_) {
      threads_[index - 1].active_in_segment = false;
      if (threads_[index - 1].removed) continue;
      put_varuint(sp, index);
      put_varuint(sp, threads_[index - 1].last_sequence);
      ++listed;
    }
    patch<std::uint32_t>(sp, 12, listed);
    segment_threads_.clear();
    OC_RETURN_IF_ERROR(write_block(kSequencePointBlock, sp));
    stacks_.clear();
    labels_.clear();
    segment_events_ = 0;
    ++generation_;
    return ok_status();
  }();
  if (!status.ok()) failed_ = true;
  return status;
}

Status NetTraceWriter::write_removals() {
  if (pending_removals_.empty()) return ok_status();
  // After every event that may use them; each entry carries the thread's
  // final sequence number so readers can still count drops.
  std::vector<std::uint8_t> body;
  for (std::size_t i = 0; i < pending_removals_.size(); ++i) {
    std::uint64_t index = pending_removals_[i];
    put_varuint(body, index);
    put_varuint(body, threads_[index - 1].last_sequence);
    if (body.size() >= kSplitTarget || i + 1 == pending_removals_.size()) {
      OC_RETURN_IF_ERROR(write_block(kRemoveThreadBlock, body));
      body.clear();
    }
  }
  pending_removals_.clear();
  return ok_status();
}

Status NetTraceWriter::finish() {
  OC_RETURN_IF_ERROR(flush());
  finished_ = true;
  Status status = write_block(kEndOfStream, {});
  if (status.ok()) status = sink_->commit();
  if (!status.ok()) failed_ = true;
  return status;
}

}  // namespace one_collect::nettrace
