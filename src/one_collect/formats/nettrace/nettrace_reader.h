// An independent nettrace (V6) reader and validator, written from the format
// specification (microsoft/perfview src/TraceEvent/EventPipe/NetTraceFormat.md).
//
// It shares no code with the writer on purpose: tests write with one and read
// with the other, so a misreading of the specification in one of them shows up
// as a disagreement instead of cancelling out.
//
// It checks the stream header, every block's bounds and layout, that metadata
// rows, thread rows, stacks and label lists are defined before an event uses
// them and are forgotten at the points the spec says, that each payload parses
// against its declared fields to exactly its length, the timestamp guarantees
// (per capture thread, block ranges, sequence points, IsSorted) and the final
// EndOfStream. Malformed input gives an error naming the offset, never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "one_collect/core/bytes.h"
#include "one_collect/core/status.h"

namespace one_collect::ntread {

struct FieldDesc;

// A declared field type (V6 metadata): a type code plus, depending on it, an
// element type (Array, FixedLengthArray, RelLoc, DataLoc), an element count
// (FixedLengthArray) or nested fields (Object).
struct TypeDesc {
  std::uint8_t code = 0;
  std::vector<TypeDesc> element;  // 0 or 1 entries
  std::uint16_t count = 0;
  std::vector<FieldDesc> fields;
};

struct FieldDesc {
  std::string name;
  TypeDesc type;
};

struct MetadataRow {
  std::uint32_t id = 0;
  std::string provider;
  std::uint32_t event_id = 0;
  std::string name;
  std::vector<FieldDesc> fields;
  std::optional<std::uint8_t> opcode, level, version;
  std::optional<std::uint64_t> keywords;
  std::string message_template, description;
  std::vector<std::pair<std::string, std::string>> key_values;
  std::optional<std::vector<std::uint8_t>> provider_guid;
};

// A decoded payload value.
struct Value {
  enum class Kind { kUnsigned, kSigned, kFloat, kString, kBytes, kList };
  Kind kind = Kind::kUnsigned;
  std::uint64_t u = 0;
  std::int64_t i = 0;
  double f = 0;
  std::string s;             // kString (UTF-8), kBytes (raw)
  std::vector<Value> items;  // kList: array elements or object fields
};

struct LabelEntry {
  std::uint8_t kind = 0;  // 1..10 as in the spec
  std::string key;
  std::string text;                 // kind 5
  std::int64_t number = 0;          // kind 6, and 4/7/8/9/10 as unsigned values
  std::vector<std::uint8_t> bytes;  // kinds 1, 2, 3
};

struct ThreadRow {
  std::uint64_t index = 0;
  std::optional<std::uint64_t> pid, tid;
  std::string name;
  std::vector<std::pair<std::string, std::string>> key_values;
};

struct DecodedEvent {
  std::uint32_t metadata_id = 0;
  std::size_t metadata = 0;  // index into Trace::metadata (the row in force)
  std::uint32_t sequence = 0;
  std::uint64_t thread = 0, capture_thread = 0;
  std::uint32_t processor = 0;
  std::uint64_t pid = 0, tid = 0;  // from the thread row (0 when absent)
  std::uint32_t stack_id = 0;
  std::vector<std::uint64_t> stack;  // instruction pointers as stored
  std::uint64_t timestamp = 0;
  std::uint32_t label_list_id = 0;
  std::vector<LabelEntry> labels;
  bool sorted = false;
  std::vector<std::uint8_t> payload;
  std::vector<Value> fields;  // one per declared field
};

struct SequencePointInfo {
  std::uint64_t timestamp = 0;
  std::uint32_t flags = 0;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> threads;
};

struct Trace {
  std::uint32_t major = 0, minor = 0;
  std::int16_t year = 0, month = 0, day_of_week = 0, day = 0, hour = 0, minute = 0, second = 0,
               millisecond = 0;
  std::int64_t sync_ticks = 0, tick_frequency = 0;
  std::int32_t pointer_size = 0;
  std::vector<std::pair<std::string, std::string>> key_values;
  std::vector<MetadataRow> metadata;           // every row, in file order
  std::map<std::uint64_t, ThreadRow> threads;  // every thread row ever defined (last wins)
  std::vector<DecodedEvent> events;
  std::vector<SequencePointInfo> sequence_points;
  std::map<std::uint8_t, std::size_t> block_counts;  // by block kind
  std::uint64_t stack_count = 0, label_list_count = 0;
  std::uint64_t dropped_events = 0;  // from sequence-number gaps
  std::uint64_t event_count = 0;     // counted even when events are not kept

  const MetadataRow& metadata_of(const DecodedEvent& e) const { return metadata[e.metadata]; }
  std::string_view key_value(std::string_view key) const;
};

struct ReadOptions {
  bool keep_events = true;  // false: validate and count only
};

Result<Trace> read_nettrace(ByteSpan bytes, const ReadOptions& options = {});
Result<Trace> read_nettrace_file(const std::string& path, const ReadOptions& options = {});

}  // namespace one_collect::ntread
