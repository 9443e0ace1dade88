// NetTraceWriter: a low-level writer of the nettrace format, version 6
// (microsoft/perfview src/TraceEvent/EventPipe/NetTraceFormat.md).
//
// It knows blocks, metadata rows, threads, stacks, label lists, compressed
// event headers and sequence points; it knows nothing about processes or
// samples (universal_nettrace.h adds PerfView's Universal.* conventions on top).
//
// Layout written:
//   "Nettrace" u32 0 u32 6 u32 0
//   Trace block
//   then one "segment" per flush:
//     [Metadata] [Thread] [Stack...] [LabelList...] Event SequencePoint
//   EndOfStream
// Stacks and label lists are valid only inside their segment (the sequence
// point ends them), so ids handed out by stack()/label_list() are valid until
// the next flush. The writer flushes only at the end of write_event() (or on
// flush()/finish()), never between stack() and the write_event() using it.
// Memory stays bounded by the segment limits in NetTraceOptions.
//
// Output goes to a NetTraceSink; open_file() writes to a temporary file next
// to the target and renames it on finish(), so a failed or abandoned write
// leaves no partial file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "one_collect/core/status.h"

namespace one_collect::nettrace {

// Field type codes of V6 metadata.
enum class TypeCode : std::uint8_t {
  kObject = 1,
  kBoolean32 = 3,
  kUtf16CodeUnit = 4,
  kSByte = 5,
  kByte = 6,
  kInt16 = 7,
  kUInt16 = 8,
  kInt32 = 9,
  kUInt32 = 10,
  kInt64 = 11,
  kUInt64 = 12,
  kSingle = 13,
  kDouble = 14,
  kDateTime = 16,
  kGuid = 17,
  kNullTerminatedUtf16String = 18,
  kArray = 19,  // u16 element count, then the elements
  kVarInt = 20,
  kVarUInt = 21,
  kFixedLengthArray = 22,
  kUtf8CodeUnit = 23,
  kRelLoc = 24,
  kDataLoc = 25,
  kBoolean8 = 26,
};

// One payload field. Array / FixedLengthArray / RelLoc / DataLoc take a scalar
// `element`; FixedLengthArray also `count`. Object fields are not written.
struct FieldSpec {
  std::string name;
  TypeCode type = TypeCode::kVarUInt;
  TypeCode element = TypeCode::kByte;
  std::uint16_t count = 0;

  // A u16-length-prefixed UTF-8 string, declared as Array<UTF8CodeUnit>.
  static FieldSpec short_utf8(std::string name) {
    return {std::move(name), TypeCode::kArray, TypeCode::kUtf8CodeUnit, 0};
  }
  static FieldSpec scalar(std::string name, TypeCode type) { return {std::move(name), type}; }
};

struct EventSpec {
  std::string provider;
  std::uint32_t event_id = 0;
  std::string name;
  std::vector<FieldSpec> fields;
  // Optional metadata, written only when set.
  int opcode = -1;   // 0..255
  int level = -1;    // 0..255
  int version = -1;  // 0..255
  std::uint64_t keywords = 0;
  std::string description;
};

// Label kinds of a LabelList (V6).
struct Label {
  enum class Kind : std::uint8_t { kString = 5, kVarInt = 6 };
  Kind kind = Kind::kString;
  std::string_view key;
  std::string_view text;    // kString
  std::int64_t number = 0;  // kVarInt (zig-zag encoded)
};

struct EventHeader {
  std::uint32_t metadata_id = 0;
  std::uint64_t thread = 0;  // thread index from thread(); also the capture thread
  std::uint32_t processor = 0;
  std::uint32_t stack = 0;       // 0: none, else from stack() in this segment
  std::uint32_t label_list = 0;  // 0: none, else from label_list() in this segment
  std::uint64_t timestamp = 0;   // ticks; non-decreasing across all events
};

struct SyncTime {
  std::int16_t year = 1970, month = 1, day_of_week = 4, day = 1;
  std::int16_t hour = 0, minute = 0, second = 0, millisecond = 0;
  // The UTC calendar time of a Unix time in ns (day of week: Sunday = 0).
  static SyncTime from_unix_ns(std::uint64_t unix_ns);
};

struct NetTraceOptions {
  SyncTime sync_time;
  std::uint64_t sync_ticks = 0;
  std::uint64_t tick_frequency = 1'000'000'000;
  std::uint32_t pointer_size = 8;  // 4 or 8
  std::vector<std::pair<std::string, std::string>> key_values;
  // A segment is flushed once its events or its stacks reach these sizes.
  std::size_t segment_event_bytes = 4u << 20;
  std::size_t segment_stack_bytes = 8u << 20;
};

// Where the bytes go.
class NetTraceSink {
 public:
  virtual ~NetTraceSink() = default;
  virtual Status write(std::span<const std::uint8_t> bytes) = 0;
  // Called once after the last byte; a file sink renames its temporary here.
  virtual Status commit() { return ok_status(); }
};

class VectorSink : public NetTraceSink {
 public:
  explicit VectorSink(std::vector<std::uint8_t>& out) : out_(out) {}
  Status write(std::span<const std::uint8_t> bytes) override {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    return ok_status();
  }

 private:
  std::vector<std::uint8_t>& out_;
};

// Writes `path` + ".tmp-<pid>-<n>" and renames it to `path` on commit(); the
// destructor removes the temporary if commit() did not happen.
class TempFileSink : public NetTraceSink {
 public:
  static Result<std::unique_ptr<TempFileSink>> open(const std::string& path);
  ~TempFileSink() override;
  Status write(std::span<const std::uint8_t> bytes) override;
  Status commit() override;

 private:
  TempFileSink(std::string path, std::string temp, std::FILE* file)
      : path_(std::move(path)), temp_(std::move(temp)), file_(file) {}
  std::string path_;
  std::string temp_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

// Appends payload fields in the encodings the format defines.
class PayloadEncoder {
 public:
  void clear() { bytes_.clear(); }
  PayloadEncoder& varuint(std::uint64_t value);
  PayloadEncoder& varint(std::int64_t value);
  // u16 byte count + UTF-8 bytes (Array<UTF8CodeUnit>); longer text is cut
  // at 65535 bytes.
  PayloadEncoder& short_utf8(std::string_view text);
  template <typename T>
  PayloadEncoder& fixed(T value) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
    return *this;
  }
  PayloadEncoder& raw(std::span<const std::uint8_t> bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  std::span<const std::uint8_t> bytes() const { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
};

class NetTraceWriter {
 public:
  // Writes the stream header and the Trace block.
  static Result<std::unique_ptr<NetTraceWriter>> create(std::unique_ptr<NetTraceSink> sink,
                                                        NetTraceOptions options);
  // create() over a TempFileSink for `path`.
  static Result<std::unique_ptr<NetTraceWriter>> open_file(const std::string& path,
                                                           NetTraceOptions options);

  // Declares an event type; its MetadataBlock row is written at the next flush
  // (before any event using it). Ids start at 1.
  Result<std::uint32_t> define_event(const EventSpec& spec);

  // The thread index for (pid, tid), added on first use (ids start at 1).
  std::uint64_t thread(std::uint64_t pid, std::uint64_t tid, std::string_view name = {});
  // Retires every thread of `pid` (e.g. at process exit): a RemoveThread
  // block follows this segment's events, readers may forget them, and a later
  // (pid, tid) gets a new index (pid reuse).
  void remove_threads_of(std::uint64_t pid);

  // A stack (instruction pointers, leaf first) in this segment; equal stacks
  // share an id. 0 for an empty stack.
  Result<std::uint32_t> stack(std::span<const std::uint64_t> ips);
  // A label list in this segment; equal lists share an id. 0 for an empty list.
  Result<std::uint32_t> label_list(std::span<const Label> labels);

  // Appends one event; may end the segment afterwards (see the file comment).
  Status write_event(const EventHeader& header, std::span<const std::uint8_t> payload);

  // Ends the segment: writes its blocks and a sequence point.
  Status flush();
  // Flushes, writes EndOfStream and commits the sink. Nothing may follow.
  Status finish();

  // Incremented by every flush: stack and label list ids of an older
  // generation are no longer valid.
  std::uint64_t generation() const { return generation_; }
  std::uint64_t events_written() const { return events_written_; }
  std::uint64_t bytes_written() const { return bytes_written_; }

 private:
  struct ThreadState {
    std::uint32_t last_sequence = 0;
    bool active_in_segment = false;
    bool removed = false;
  };
  // Byte sequences of one segment (stacks or label lists), deduplicated.
  class SegmentTable {
   public:
    // Returns the 1-based id of `bytes`, adding it to `body` when new.
    std::uint32_t intern(std::span<const std::uint8_t> bytes, bool size_prefix);
    void clear();
    std::uint32_t count() const { return count_; }
    const std::vector<std::uint8_t>& body() const { return body_; }
    // Entry boundaries in body(), for splitting across blocks.
    const std::vector<std::uint32_t>& ends() const { return ends_; }

   private:
    void grow();
    std::vector<std::uint8_t> body_;
    std::vector<std::uint32_t> ends_;   // end offset of entry i (id i + 1)
    std::vector<std::uint64_t> slots_;  // (hash tag << 32) | id, 0 empty
    std::uint32_t count_ = 0;
  };

  NetTraceWriter(std::unique_ptr<NetTraceSink> sink, NetTraceOptions options);
  Status write_block(std::uint8_t kind, std::span<const std::uint8_t> body);
  Status write_header_and_trace_block();
  Status write_split(std::uint8_t kind, const SegmentTable& table);
  Status write_removals();
  void start_event_block();
  void close_event_block();

  std::unique_ptr<NetTraceSink> sink_;
  NetTraceOptions options_;
  bool failed_ = false;
  bool finished_ = false;

  std::uint32_t next_metadata_id_ = 1;
  std::vector<std::uint8_t> pending_metadata_;  // rows not yet written

  std::unordered_map<std::uint64_t, std::uint64_t> thread_index_;     // key: pid<<32 ^ tid
  std::vector<std::pair<std::uint64_t, std::uint64_t>> thread_keys_;  // (pid, tid) by index-1
  std::vector<ThreadState> threads_;                                  // by index - 1
  std::vector<std::uint8_t> pending_threads_;   // ThreadBlock rows not yet written
  std::vector<std::uint64_t> segment_threads_;  // indices active in this segment
  std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> threads_by_pid_;
  std::vector<std::uint64_t> pending_removals_;  // written after this segment's events

  SegmentTable stacks_;
  SegmentTable labels_;
  std::vector<std::uint8_t> scratch_;

  // The event block being filled (block header and 20-byte event block
  // header reserved at its front), and the finished blocks of this segment.
  std::vector<std::uint8_t> block_;
  std::vector<std::uint8_t> closed_blocks_;
  std::uint64_t block_min_ts_ = 0, block_max_ts_ = 0;
  std::uint32_t block_events_ = 0;
  std::uint64_t last_ts_ = 0;
  std::uint64_t segment_events_ = 0;
  EventHeader prev_{};
  std::uint32_t prev_payload_size_ = 0;
  std::uint32_t prev_sequence_ = 0;
  std::uint64_t prev_capture_ = 0;

  std::uint64_t generation_ = 0;
  std::uint64_t events_written_ = 0;
  std::uint64_t bytes_written_ = 0;
};

}  // namespace one_collect::nettrace
