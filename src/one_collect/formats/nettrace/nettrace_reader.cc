#include "one_collect/formats/nettrace/nettrace_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "one_collect/core/strings.h"

namespace one_collect::ntread {
namespace {

// The reader's own copy of the spec's numbers (deliberately not shared with
// the writer).
enum Block : std::uint8_t {
  kBlkEnd = 0,
  kBlkTrace = 1,
  kBlkEvent = 2,
  kBlkMetadata = 3,
  kBlkSequencePoint = 4,
  kBlkStack = 5,
  kBlkThread = 6,
  kBlkRemoveThread = 7,
  kBlkLabelList = 8,
};
constexpr int kMaxTypeDepth = 16;

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

Status bad(std::uint64_t offset, const std::string& what) {
  return error(ErrorCode::kMalformed, "nettrace at offset " + hex(offset) + ": " + what);
}

// A cursor over a span that knows its absolute file offset.
class Cursor {
 public:
  Cursor(ByteSpan data, std::uint64_t base) : data_(data), base_(base) {}
  std::uint64_t offset() const { return base_ + pos_; }
  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  bool done() const { return pos_ == data_.size(); }
  ByteSpan rest() const { return data_.subspan(pos_); }

  template <typename T>
  Status fixed(T& out, const char* what) {
    auto v = read_at<T>(data_, pos_);
    if (!v) return bad(offset(), std::string("truncated ") + what);
    out = *v;
    pos_ += sizeof(T);
    return ok_status();
  }
  Status bytes(std::size_t n, ByteSpan& out, const char* what) {
    auto s = slice(data_, pos_, n);
    if (!s) {
      return bad(offset(), std::string(what) + " needs " + std::to_string(n) + " bytes, " +
                               std::to_string(remaining()) + " remain");
    }
    out = *s;
    pos_ += n;
    return ok_status();
  }
  Status varuint(std::uint64_t& out, unsigned bits, const char* what) {
    std::uint64_t value = 0;
    for (unsigned shift = 0;; shift += 7) {
      if (pos_ >= data_.size()) return bad(offset(), std::string("truncated varuint ") + what);
      if (shift > 63) return bad(offset(), std::string("varuint too long: ") + what);
      std::uint8_t b = data_[pos_++];
      std::uint64_t part = b & 0x7F;
      if (shift == 63 && part > 1) return bad(offset(), std::string("varuint overflow: ") + what);
      value |= part << shift;
      if ((b & 0x80) == 0) break;
    }
    if (bits < 64 && (value >> bits) != 0) {
      return bad(offset(),
                 std::string(what) + " does not fit in " + std::to_string(bits) + " bits");
    }
    out = value;
    return ok_status();
  }
  Status u32v(std::uint32_t& out, const char* what) {
    std::uint64_t v;
    OC_RETURN_IF_ERROR(varuint(v, 32, what));
    out = static_cast<std::uint32_t>(v);
    return ok_status();
  }
  Status string(std::string& out, const char* what) {
    std::uint32_t n;
    OC_RETURN_IF_ERROR(u32v(n, what));
    ByteSpan s;
    OC_RETURN_IF_ERROR(bytes(n, s, what));
    out.assign(reinterpret_cast<const char*>(s.data()), s.size());
    return ok_status();
  }

 private:
  ByteSpan data_;
  std::uint64_t base_;
  std::size_t pos_ = 0;
};

bool fixed_size_of(const TypeDesc& t, std::uint64_t& size) {
  switch (t.code) {
    case 3:
      size = 4;
      return true;
    case 4:
      size = 2;
      return true;
    case 5:
    case 6:
    case 23:
    case 26:
      size = 1;
      return true;
    case 7:
    case 8:
      size = 2;
      return true;
    case 9:
    case 10:
    case 13:
      size = 4;
      return true;
    case 11:
    case 12:
    case 14:
      size = 8;
      return true;
    case 16:
    case 17:
      size = 16;
      return true;
    case 24:
    case 25:
      size = 4;
      return true;
    case 22: {
      std::uint64_t e;
      if (!fixed_size_of(t.element[0], e)) return false;
      size = e * t.count;
      return true;
    }
    case 1: {
      std::uint64_t total = 0;
      for (const FieldDesc& f : t.fields) {
        std::uint64_t s;
        if (!fixed_size_of(f.type, s)) return false;
        total += s;
      }
      size = total;
      return true;
    }
    default:
      return false;  // 18 (UTF-16 string), 19 (Array), 20/21 (varints)
  }
}

Status parse_fields(Cursor& c, std::vector<FieldDesc>& out, int depth);

Status parse_type(Cursor& c, TypeDesc& t, int depth) {
  if (depth > kMaxTypeDepth) return bad(c.offset(), "field types nested too deeply");
  OC_RETURN_IF_ERROR(c.fixed(t.code, "type code"));
  switch (t.code) {
    case 1:
      return parse_fields(c, t.fields, depth + 1);
    case 19:
    case 22:
    case 24:
    case 25: {
      t.element.resize(1);
      OC_RETURN_IF_ERROR(parse_type(c, t.element[0], depth + 1));
      if (t.code == 22) OC_RETURN_IF_ERROR(c.fixed(t.count, "fixed array length"));
      if (t.code == 24 || t.code == 25) {
        std::uint64_t s;
        if (!fixed_size_of(t.element[0], s)) {
          return bad(c.offset(), "RelLoc/DataLoc element type is not fixed size");
        }
      }
      return ok_status();
    }
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
    case 8:
    case 9:
    case 10:
    case 11:
    case 12:
    case 13:
    case 14:
    case 16:
    case 17:
    case 18:
    case 20:
    case 21:
    case 23:
    case 26:
      return ok_status();
    default:
      return bad(c.offset() - 1, "unknown field type code " + std::to_string(t.code));
  }
}

Status parse_fields(Cursor& c, std::vector<FieldDesc>& out, int depth) {
  std::uint16_t count;
  OC_RETURN_IF_ERROR(c.fixed(count, "field count"));
  for (std::uint16_t i = 0; i < count; ++i) {
    std::uint16_t size;
    OC_RETURN_IF_ERROR(c.fixed(size, "field size"));
    std::uint64_t at = c.offset();
    ByteSpan body;
    OC_RETURN_IF_ERROR(c.bytes(size, body, "field description"));
    Cursor f(body, at);
    FieldDesc field;
    OC_RETURN_IF_ERROR(f.string(field.name, "field name"));
    OC_RETURN_IF_ERROR(parse_type(f, field.type, depth));
    // Bytes left in the field description are the spec's "Undefined" area.
    out.push_back(std::move(field));
  }
  return ok_status();
}

Status parse_optional_metadata(Cursor& c, MetadataRow& row) {
  std::uint16_t size;
  OC_RETURN_IF_ERROR(c.fixed(size, "optional metadata size"));
  std::uint64_t at = c.offset();
  ByteSpan body;
  OC_RETURN_IF_ERROR(c.bytes(size, body, "optional metadata"));
  Cursor o(body, at);
  while (!o.done()) {
    std::uint8_t kind;
    OC_RETURN_IF_ERROR(o.fixed(kind, "optional metadata kind"));
    switch (kind) {
      case 1: {
        std::uint8_t v;
        OC_RETURN_IF_ERROR(o.fixed(v, "opcode"));
        row.opcode = v;
        break;
      }
      case 3: {
        std::uint64_t v;
        OC_RETURN_IF_ERROR(o.fixed(v, "keywords"));
        row.keywords = v;
        break;
      }
      case 4:
        OC_RETURN_IF_ERROR(o.string(row.message_template, "message template"));
        break;
      case 5:
        OC_RETURN_IF_ERROR(o.string(row.description, "description"));
        break;
      case 6: {
        std::string k, v;
        OC_RETURN_IF_ERROR(o.string(k, "metadata key"));
        OC_RETURN_IF_ERROR(o.string(v, "metadata value"));
        row.key_values.emplace_back(std::move(k), std::move(v));
        break;
      }
      case 7: {
        ByteSpan g;
        OC_RETURN_IF_ERROR(o.bytes(16, g, "provider guid"));
        row.provider_guid.emplace(g.begin(), g.end());
        break;
      }
      case 8: {
        std::uint8_t v;
        OC_RETURN_IF_ERROR(o.fixed(v, "level"));
        row.level = v;
        break;
      }
      case 9: {
        std::uint8_t v;
        OC_RETURN_IF_ERROR(o.fixed(v, "version"));
        row.version = v;
        break;
      }
      default:
        return bad(o.offset() - 1, "unknown optional metadata kind " + std::to_string(kind));
    }
  }
  return ok_status();
}

// Decodes payload values; `budget` bounds the number of values so that
// zero-sized elements cannot make a small payload expand without limit.
struct PayloadDecoder {
  ByteSpan payload;
  std::uint64_t base;
  std::size_t furthest = 0;  // end of the furthest RelLoc/DataLoc data
  std::size_t budget;

  Status value(Cursor& c, const TypeDesc& t, Value& v, int depth) {
    if (budget == 0) return bad(c.offset(), "payload expands to too many values");
    --budget;
    if (depth > kMaxTypeDepth) return bad(c.offset(), "payload nested too deeply");
    auto uns = [&](auto tag) -> Status {
      decltype(tag) x{};
      OC_RETURN_IF_ERROR(c.fixed(x, "payload field"));
      v.kind = Value::Kind::kUnsigned;
      v.u = x;
      return ok_status();
    };
    auto sig = [&](auto tag) -> Status {
      decltype(tag) x{};
      OC_RETURN_IF_ERROR(c.fixed(x, "payload field"));
      v.kind = Value::Kind::kSigned;
      v.i = x;
      return ok_status();
    };
    switch (t.code) {
      case 1: {
        v.kind = Value::Kind::kList;
        v.items.resize(t.fields.size());
        for (std::size_t k = 0; k < t.fields.size(); ++k) {
          OC_RETURN_IF_ERROR(value(c, t.fields[k].type, v.items[k], depth + 1));
        }
        return ok_status();
      }
      case 3:
        return uns(std::uint32_t{});
      case 4:
        return uns(std::uint16_t{});
      case 5:
        return sig(std::int8_t{});
      case 6:
        return uns(std::uint8_t{});
      case 7:
        return sig(std::int16_t{});
      case 8:
        return uns(std::uint16_t{});
      case 9:
        return sig(std::int32_t{});
      case 10:
        return uns(std::uint32_t{});
      case 11:
        return sig(std::int64_t{});
      case 12:
        return uns(std::uint64_t{});
      case 13: {
        float x = 0;
        OC_RETURN_IF_ERROR(c.fixed(x, "single"));
        v.kind = Value::Kind::kFloat;
        v.f = x;
        return ok_status();
      }
      case 14: {
        double x = 0;
        OC_RETURN_IF_ERROR(c.fixed(x, "double"));
        v.kind = Value::Kind::kFloat;
        v.f = x;
        return ok_status();
      }
      case 16:
      case 17: {
        ByteSpan b;
        OC_RETURN_IF_ERROR(c.bytes(16, b, t.code == 16 ? "DateTime" : "Guid"));
        v.kind = Value::Kind::kBytes;
        v.s.assign(reinterpret_cast<const char*>(b.data()), b.size());
        return ok_status();
      }
      case 18: {
        v.kind = Value::Kind::kString;
        for (;;) {
          std::uint16_t unit;
          OC_RETURN_IF_ERROR(c.fixed(unit, "UTF-16 string (no terminator)"));
          if (unit == 0) break;
          std::uint32_t cp = unit;
          if (unit >= 0xD800 && unit < 0xDC00 && c.remaining() >= 2) {
            std::uint16_t low = *read_at<std::uint16_t>(c.rest(), 0);
            if (low >= 0xDC00 && low < 0xE000) {
              OC_RETURN_IF_ERROR(c.fixed(low, "surrogate"));
              cp = 0x10000 + ((unit - 0xD800u) << 10) + (low - 0xDC00u);
            }
          }
          append_utf8(v.s, cp);  // a lone surrogate reads as U+FFFD
        }
        return ok_status();
      }
      case 19: {
        std::uint16_t count;
        OC_RETURN_IF_ERROR(c.fixed(count, "array length"));
        return elements(c, t.element[0], count, v, depth);
      }
      case 20: {
        std::uint64_t raw;
        OC_RETURN_IF_ERROR(c.varuint(raw, 64, "VarInt field"));
        v.kind = Value::Kind::kSigned;
        v.i = static_cast<std::int64_t>(raw >> 1) ^ -static_cast<std::int64_t>(raw & 1);
        return ok_status();
      }
      case 21: {
        v.kind = Value::Kind::kUnsigned;
        return c.varuint(v.u, 64, "VarUInt field");
      }
      case 22:
        return elements(c, t.element[0], t.count, v, depth);
      case 23:
        return uns(std::uint8_t{});
      case 24:
      case 25: {
        std::size_t field_end_pos = c.pos() + 4;
        std::uint32_t loc;
        OC_RETURN_IF_ERROR(c.fixed(loc, "RelLoc/DataLoc"));
        std::size_t size = loc >> 16;
        std::size_t where = (loc & 0xFFFF) + (t.code == 24 ? field_end_pos : 0);
        std::uint64_t esize = 1;
        fixed_size_of(t.element[0], esize);
        if (esize == 0 ? size != 0 : size % esize != 0) {
          return bad(c.offset() - 4, "RelLoc/DataLoc size is not a multiple of its element");
        }
        auto data = slice(payload, where, size);
        if (!data) return bad(c.offset() - 4, "RelLoc/DataLoc points outside the payload");
        furthest = std::max(furthest, where + size);
        Cursor inner(*data, base + where);
        std::size_t n = esize == 0 ? 0 : size / esize;
        return elements(inner, t.element[0], n, v, depth);
      }
      case 26:
        return uns(std::uint8_t{});
      default:
        return bad(c.offset(), "undecodable type code " + std::to_string(t.code));
    }
  }

  Status elements(Cursor& c, const TypeDesc& element, std::size_t count, Value& v, int depth) {
    if (element.code == 23) {  // UTF-8 code units read as one string
      ByteSpan b;
      OC_RETURN_IF_ERROR(c.bytes(count, b, "UTF-8 array"));
      v.kind = Value::Kind::kString;
      v.s.assign(reinterpret_cast<const char*>(b.data()), b.size());
      return ok_status();
    }
    v.kind = Value::Kind::kList;
    if (count > budget) return bad(c.offset(), "array larger than the payload allows");
    v.items.resize(count);
    for (std::size_t k = 0; k < count; ++k) {
      OC_RETURN_IF_ERROR(value(c, element, v.items[k], depth + 1));
    }
    return ok_status();
  }
};

struct Reader {
  ByteSpan file;
  ReadOptions options;
  Trace trace;

  // Caches, as the spec defines their lifetimes.
  std::unordered_map<std::uint32_t, std::size_t> metadata;  // id -> index in trace.metadata
  std::unordered_map<std::uint64_t, ThreadRow> threads;
  std::unordered_map<std::uint32_t, std::vector<std::uint64_t>> stacks;
  std::unordered_map<std::uint32_t, std::vector<LabelEntry>> labels;
  struct SeqState {
    std::uint32_t last = 0;
    bool seen = false;
    std::uint64_t last_ts = 0;
  };
  std::unordered_map<std::uint64_t, SeqState> sequences;  // by capture thread
  std::uint64_t last_sp_ts = 0;
  bool have_sp = false;
  std::uint64_t max_ts_since_sp = 0;
  std::uint64_t sorted_floor = 0;
  bool have_trace = false;

  Status run();
  Status trace_block(Cursor c);
  Status metadata_block(Cursor c);
  Status thread_block(Cursor c);
  Status remove_thread_block(Cursor c);
  Status stack_block(Cursor c);
  Status label_list_block(Cursor c);
  Status sequence_point_block(Cursor c);
  Status event_block(Cursor c);
  Status decode_event(Cursor& c, DecodedEvent& e, std::uint32_t payload_size, std::uint64_t at);
  Status parse_label_list(Cursor& c, std::vector<LabelEntry>& out);
};

Status Reader::run() {
  auto magic = slice(file, 0, 8);
  if (!magic || std::memcmp(magic->data(), "Nettrace", 8) != 0) {
    return error(ErrorCode::kMalformed, "nettrace: missing 'Nettrace' magic");
  }
  Cursor c(file, 0);
  ByteSpan skip;
  OC_RETURN_IF_ERROR(c.bytes(8, skip, "magic"));
  std::uint32_t reserved;
  OC_RETURN_IF_ERROR(c.fixed(reserved, "stream header"));
  OC_RETURN_IF_ERROR(c.fixed(trace.major, "major version"));
  OC_RETURN_IF_ERROR(c.fixed(trace.minor, "minor version"));
  if (reserved != 0) {
    return bad(8, "reserved header field is " + std::to_string(reserved) +
                      " (a pre-V6 stream?); only V6 is read");
  }
  if (trace.major != 6) {
    return bad(12, "major version " + std::to_string(trace.major) + " is not supported (6 is)");
  }
  while (true) {
    std::uint64_t at = c.offset();
    std::uint32_t header;
    if (c.remaining() < 4) {
      return bad(at, "stream ends without an EndOfStream block");
    }
    OC_RETURN_IF_ERROR(c.fixed(header, "block header"));
    std::uint32_t size = header & 0xFFFFFF;
    std::uint8_t kind = static_cast<std::uint8_t>(header >> 24);
    ByteSpan body;
    if (c.remaining() < size) {
      return bad(at, "block of kind " + std::to_string(kind) + " declares " + std::to_string(size) +
                         " bytes but only " + std::to_string(c.remaining()) + " remain");
    }
    OC_RETURN_IF_ERROR(c.bytes(size, body, "block"));
    ++trace.block_counts[kind];
    if (!have_trace && kind != kBlkTrace) {
      return bad(at, "the first block is of kind " + std::to_string(kind) + ", not Trace");
    }
    Cursor b(body, at + 4);
    Status s;
    switch (kind) {
      case kBlkEnd:
        if (!c.done()) {
          return bad(c.offset(), std::to_string(c.remaining()) + " bytes follow EndOfStream");
        }
        return ok_status();
      case kBlkTrace:
        if (have_trace) return bad(at, "a second Trace block");
        have_trace = true;
        s = trace_block(b);
        break;
      case kBlkEvent:
        s = event_block(b);
        break;
      case kBlkMetadata:
        s = metadata_block(b);
        break;
      case kBlkSequencePoint:
        s = sequence_point_block(b);
        break;
      case kBlkStack:
        s = stack_block(b);
        break;
      case kBlkThread:
        s = thread_block(b);
        break;
      case kBlkRemoveThread:
        s = remove_thread_block(b);
        break;
      case kBlkLabelList:
        s = label_list_block(b);
        break;
      default:
        break;  // unknown kinds are skipped, as the spec asks
    }
    OC_RETURN_IF_ERROR(std::move(s));
  }
}

Status Reader::trace_block(Cursor c) {
  for (std::int16_t* f : {&trace.year, &trace.month, &trace.day_of_week, &trace.day, &trace.hour,
                          &trace.minute, &trace.second, &trace.millisecond}) {
    OC_RETURN_IF_ERROR(c.fixed(*f, "sync time"));
  }
  OC_RETURN_IF_ERROR(c.fixed(trace.sync_ticks, "sync ticks"));
  OC_RETURN_IF_ERROR(c.fixed(trace.tick_frequency, "tick frequency"));
  OC_RETURN_IF_ERROR(c.fixed(trace.pointer_size, "pointer size"));
  if (trace.pointer_size != 4 && trace.pointer_size != 8) {
    return bad(c.offset() - 4, "pointer size " + std::to_string(trace.pointer_size));
  }
  if (trace.tick_frequency <= 0) return bad(c.offset() - 12, "tick frequency is not positive");
  if (trace.month < 1 || trace.month > 12 || trace.day < 1 || trace.day > 31 ||
      trace.day_of_week < 0 || trace.day_of_week > 6 || trace.hour < 0 || trace.hour > 23 ||
      trace.minute < 0 || trace.minute > 59 || trace.second < 0 || trace.second > 59 ||
      trace.millisecond < 0 || trace.millisecond > 999) {
    return bad(c.offset(), "sync time is not a valid calendar time");
  }
  std::int32_t count;
  OC_RETURN_IF_ERROR(c.fixed(count, "key/value count"));
  if (count < 0) return bad(c.offset() - 4, "negative key/value count");
  for (std::int32_t i = 0; i < count; ++i) {
    std::string k, v;
    OC_RETURN_IF_ERROR(c.string(k, "trace key"));
    OC_RETURN_IF_ERROR(c.string(v, "trace value"));
    trace.key_values.emplace_back(std::move(k), std::move(v));
  }
  if (!c.done()) return bad(c.offset(), "Trace block has trailing bytes");
  return ok_status();
}

Status Reader::metadata_block(Cursor c) {
  std::uint16_t header_size;
  OC_RETURN_IF_ERROR(c.fixed(header_size, "metadata header size"));
  ByteSpan skip;
  OC_RETURN_IF_ERROR(c.bytes(header_size, skip, "metadata header"));
  while (!c.done()) {
    std::uint16_t size;
    OC_RETURN_IF_ERROR(c.fixed(size, "metadata row size"));
    std::uint64_t at = c.offset();
    ByteSpan body;
    OC_RETURN_IF_ERROR(c.bytes(size, body, "metadata row"));
    Cursor r(body, at);
    MetadataRow row;
    OC_RETURN_IF_ERROR(r.u32v(row.id, "metadata id"));
    if (row.id == 0) return bad(at, "metadata id 0 is reserved");
    OC_RETURN_IF_ERROR(r.string(row.provider, "provider name"));
    OC_RETURN_IF_ERROR(r.u32v(row.event_id, "event id"));
    OC_RETURN_IF_ERROR(r.string(row.name, "event name"));
    OC_RETURN_IF_ERROR(parse_fields(r, row.fields, 0));
    OC_RETURN_IF_ERROR(parse_optional_metadata(r, row));
    if (metadata.count(row.id) != 0) {
      return bad(at, "metadata id " + std::to_string(row.id) + " defined twice");
    }
    metadata[row.id] = trace.metadata.size();
    trace.metadata.push_back(std::move(row));
  }
  return ok_status();
}

Status Reader::thread_block(Cursor c) {
  while (!c.done()) {
    std::uint16_t size;
    OC_RETURN_IF_ERROR(c.fixed(size, "thread row size"));
    std::uint64_t at = c.offset();
    ByteSpan body;
    OC_RETURN_IF_ERROR(c.bytes(size, body, "thread row"));
    Cursor r(body, at);
    ThreadRow row;
    OC_RETURN_IF_ERROR(r.varuint(row.index, 64, "thread index"));
    while (!r.done()) {
      std::uint8_t kind;
      OC_RETURN_IF_ERROR(r.fixed(kind, "thread info kind"));
      std::uint64_t v;
      switch (kind) {
        case 1:
          OC_RETURN_IF_ERROR(r.string(row.name, "thread name"));
          break;
        case 2:
          OC_RETURN_IF_ERROR(r.varuint(v, 64, "process id"));
          row.pid = v;
          break;
        case 3:
          OC_RETURN_IF_ERROR(r.varuint(v, 64, "thread id"));
          row.tid = v;
          break;
        case 4: {
          std::string k, val;
          OC_RETURN_IF_ERROR(r.string(k, "thread key"));
          OC_RETURN_IF_ERROR(r.string(val, "thread value"));
          row.key_values.emplace_back(std::move(k), std::move(val));
          break;
        }
        default:
          return bad(r.offset() - 1, "unknown thread info kind " + std::to_string(kind));
      }
    }
    if (threads.count(row.index) != 0) {
      return bad(at, "thread index " + std::to_string(row.index) + " defined twice");
    }
    trace.threads[row.index] = row;
    threads.emplace(row.index, std::move(row));
  }
  return ok_status();
}

Status Reader::remove_thread_block(Cursor c) {
  while (!c.done()) {
    std::uint64_t at = c.offset();
    std::uint64_t index;
    std::uint32_t seq;
    OC_RETURN_IF_ERROR(c.varuint(index, 64, "removed thread index"));
    OC_RETURN_IF_ERROR(c.u32v(seq, "removed thread sequence"));
    if (threads.erase(index) == 0) {
      return bad(at, "RemoveThread names unknown thread index " + std::to_string(index));
    }
    SeqState& s = sequences[index];
    if (s.seen && seq != s.last) trace.dropped_events += static_cast<std::uint32_t>(seq - s.last);
    sequences.erase(index);
  }
  return ok_status();
}

Status Reader::stack_block(Cursor c) {
  std::uint32_t first, count;
  OC_RETURN_IF_ERROR(c.fixed(first, "first stack id"));
  OC_RETURN_IF_ERROR(c.fixed(count, "stack count"));
  if (first == 0 && count != 0) return bad(c.offset() - 8, "stack id 0 is reserved");
  std::uint32_t n = 0;
  while (!c.done()) {
    std::uint64_t at = c.offset();
    std::uint32_t size;
    OC_RETURN_IF_ERROR(c.fixed(size, "stack size"));
    ByteSpan b;
    OC_RETURN_IF_ERROR(c.bytes(size, b, "stack"));
    if (size % static_cast<std::uint32_t>(trace.pointer_size) != 0) {
      return bad(at, "stack of " + std::to_string(size) + " bytes is not a whole number of " +
                         std::to_string(trace.pointer_size) + "-byte pointers");
    }
    if (n == count) return bad(at, "stack block holds more stacks than its count");
    std::uint32_t id = first + n;
    if (id < first) return bad(at, "stack ids overflow");
    std::vector<std::uint64_t> ips(size / trace.pointer_size);
    for (std::size_t k = 0; k < ips.size(); ++k) {
      ips[k] = trace.pointer_size == 8 ? *read_at<std::uint64_t>(b, k * 8)
                                       : *read_at<std::uint32_t>(b, k * 4);
    }
    if (!stacks.emplace(id, std::move(ips)).second) {
      return bad(at, "stack id " + std::to_string(id) + " defined twice before a sequence point");
    }
    ++n;
  }
  if (n != count) {
    return bad(c.offset(), "stack block count " + std::to_string(count) + " but " +
                               std::to_string(n) + " stacks present");
  }
  trace.stack_count += n;
  return ok_status();
}

Status Reader::parse_label_list(Cursor& c, std::vector<LabelEntry>& out) {
  while (true) {
    std::uint8_t kind_flag = 0;
    OC_RETURN_IF_ERROR(c.fixed(kind_flag, "label kind"));
    LabelEntry l;
    l.kind = kind_flag & 0x7F;
    ByteSpan b;
    std::uint64_t raw;
    switch (l.kind) {
      case 1:
      case 2:
      case 3:
        OC_RETURN_IF_ERROR(c.bytes(16, b, "label guid"));
        l.bytes.assign(b.begin(), b.end());
        break;
      case 4: {
        std::uint64_t v;
        OC_RETURN_IF_ERROR(c.fixed(v, "span id"));
        l.number = static_cast<std::int64_t>(v);
        break;
      }
      case 5:
        OC_RETURN_IF_ERROR(c.string(l.key, "label key"));
        OC_RETURN_IF_ERROR(c.string(l.text, "label value"));
        break;
      case 6:
        OC_RETURN_IF_ERROR(c.string(l.key, "label key"));
        OC_RETURN_IF_ERROR(c.varuint(raw, 64, "label varint"));
        l.number = static_cast<std::int64_t>(raw >> 1) ^ -static_cast<std::int64_t>(raw & 1);
        break;
      case 7:
      case 9:
      case 10: {
        std::uint8_t v;
        OC_RETURN_IF_ERROR(c.fixed(v, "label byte"));
        l.number = v;
        break;
      }
      case 8: {
        std::uint64_t v;
        OC_RETURN_IF_ERROR(c.fixed(v, "keywords label"));
        l.number = static_cast<std::int64_t>(v);
        break;
      }
      default:
        return bad(c.offset() - 1, "unknown label kind " + std::to_string(l.kind));
    }
    out.push_back(std::move(l));
    if (kind_flag & 0x80) return ok_status();
  }
}

Status Reader::label_list_block(Cursor c) {
  std::uint32_t first, count;
  OC_RETURN_IF_ERROR(c.fixed(first, "first label list index"));
  OC_RETURN_IF_ERROR(c.fixed(count, "label list count"));
  if (first == 0) return bad(c.offset() - 8, "label list index must be at least 1");
  std::uint32_t n = 0;
  while (!c.done()) {
    std::uint64_t at = c.offset();
    if (n == count) return bad(at, "label list block holds more lists than its count");
    std::vector<LabelEntry> list;
    OC_RETURN_IF_ERROR(parse_label_list(c, list));
    std::uint32_t id = first + n;
    if (id < first) return bad(at, "label list ids overflow");
    if (!labels.emplace(id, std::move(list)).second) {
      return bad(at, "label list " + std::to_string(id) + " defined twice before a sequence point");
    }
    ++n;
  }
  if (n != count) return bad(c.offset(), "label list block count does not match its lists");
  trace.label_list_count += n;
  return ok_status();
}

Status Reader::sequence_point_block(Cursor c) {
  std::uint64_t at = c.offset();
  SequencePointInfo sp;
  std::uint32_t count;
  OC_RETURN_IF_ERROR(c.fixed(sp.timestamp, "sequence point timestamp"));
  OC_RETURN_IF_ERROR(c.fixed(sp.flags, "sequence point flags"));
  OC_RETURN_IF_ERROR(c.fixed(count, "sequence point thread count"));
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint64_t index;
    std::uint32_t seq;
    OC_RETURN_IF_ERROR(c.varuint(index, 64, "sequence point thread"));
    OC_RETURN_IF_ERROR(c.u32v(seq, "sequence point number"));
    if (threads.count(index) == 0) {
      return bad(at, "sequence point names unknown thread index " + std::to_string(index));
    }
    SeqState& s = sequences[index];
    if (s.seen && seq != s.last) trace.dropped_events += static_cast<std::uint32_t>(seq - s.last);
    s.last = seq;
    s.seen = true;
    sp.threads.emplace_back(index, seq);
  }
  if (!c.done()) return bad(c.offset(), "SequencePoint block has trailing bytes");
  if (have_sp && sp.timestamp < last_sp_ts) {
    return bad(at, "sequence point timestamps go backwards");
  }
  if (max_ts_since_sp > sp.timestamp) {
    return bad(at, "an event before this sequence point has a later timestamp (" +
                       std::to_string(max_ts_since_sp) + " > " + std::to_string(sp.timestamp) +
                       ")");
  }
  have_sp = true;
  last_sp_ts = sp.timestamp;
  max_ts_since_sp = 0;
  stacks.clear();
  labels.clear();
  if (sp.flags & 1) {
    threads.clear();
    sequences.clear();
  }
  if (sp.flags & 2) metadata.clear();
  trace.sequence_points.push_back(std::move(sp));
  return ok_status();
}

Status Reader::decode_event(Cursor& c, DecodedEvent& e, std::uint32_t payload_size,
                            std::uint64_t at) {
  auto md = metadata.find(e.metadata_id);
  if (md == metadata.end()) {
    return bad(at, "event uses undeclared metadata id " + std::to_string(e.metadata_id));
  }
  e.metadata = md->second;
  auto th = threads.find(e.thread);
  if (th == threads.end()) {
    return bad(at, "event uses unknown thread index " + std::to_string(e.thread));
  }
  if (threads.count(e.capture_thread) == 0) {
    return bad(at, "event uses unknown capture thread index " + std::to_string(e.capture_thread));
  }
  e.pid = th->second.pid.value_or(0);
  e.tid = th->second.tid.value_or(0);
  if (e.stack_id != 0) {
    auto st = stacks.find(e.stack_id);
    if (st == stacks.end()) {
      return bad(at, "event uses stack id " + std::to_string(e.stack_id) +
                         " not defined since the last sequence point");
    }
    if (options.keep_events) e.stack = st->second;
  }
  if (e.label_list_id != 0) {
    auto ll = labels.find(e.label_list_id);
    if (ll == labels.end()) {
      return bad(at, "event uses label list " + std::to_string(e.label_list_id) +
                         " not defined since the last sequence point");
    }
    if (options.keep_events) e.labels = ll->second;
  }
  std::uint64_t payload_at = c.offset();
  ByteSpan payload;
  OC_RETURN_IF_ERROR(c.bytes(payload_size, payload, "event payload"));
  const MetadataRow& row = trace.metadata[e.metadata];
  PayloadDecoder d{payload, payload_at, 0, static_cast<std::size_t>(payload_size) * 2 + 64};
  Cursor p(payload, payload_at);
  e.fields.resize(row.fields.size());
  for (std::size_t k = 0; k < row.fields.size(); ++k) {
    Status s = d.value(p, row.fields[k].type, e.fields[k], 0);
    if (!s.ok()) {
      return std::move(s).with_context("event " + row.provider + "/" + row.name + " field '" +
                                       row.fields[k].name + "'");
    }
  }
  std::size_t used = std::max(p.pos(), d.furthest);
  if (used != payload_size) {
    return bad(payload_at, "payload of " + row.provider + "/" + row.name + " is " +
                               std::to_string(payload_size) + " bytes but its fields use " +
                               std::to_string(used));
  }
  if (options.keep_events) {
    e.payload.assign(payload.begin(), payload.end());
  } else {
    e.fields.clear();
  }
  return ok_status();
}

Status Reader::event_block(Cursor c) {
  std::uint64_t at = c.offset();
  std::uint16_t header_size, flags;
  std::uint64_t min_ts, max_ts;
  OC_RETURN_IF_ERROR(c.fixed(header_size, "event block header size"));
  if (header_size < 20) return bad(at, "event block header size " + std::to_string(header_size));
  OC_RETURN_IF_ERROR(c.fixed(flags, "event block flags"));
  OC_RETURN_IF_ERROR(c.fixed(min_ts, "event block min timestamp"));
  OC_RETURN_IF_ERROR(c.fixed(max_ts, "event block max timestamp"));
  ByteSpan skip;
  OC_RETURN_IF_ERROR(c.bytes(header_size - 20u, skip, "event block header"));
  if (min_ts > max_ts) return bad(at, "event block min timestamp exceeds its max");
  if (c.done()) return bad(at, "event block holds no events");
  bool compressed = (flags & 1) != 0;
  DecodedEvent prev;  // zeroed, as the spec says for the start of a block
  std::uint32_t prev_payload = 0;
  while (!c.done()) {
    std::uint64_t event_at = c.offset();
    DecodedEvent e;
    std::uint32_t payload_size;
    if (compressed) {
      std::uint8_t f;
      OC_RETURN_IF_ERROR(c.fixed(f, "event flags"));
      e.metadata_id = prev.metadata_id;
      e.sequence = prev.sequence;
      e.capture_thread = prev.capture_thread;
      e.processor = prev.processor;
      e.thread = prev.thread;
      e.stack_id = prev.stack_id;
      e.label_list_id = prev.label_list_id;
      payload_size = prev_payload;
      if (f & 1) OC_RETURN_IF_ERROR(c.u32v(e.metadata_id, "metadata id"));
      if (f & 2) {
        std::uint32_t delta;
        OC_RETURN_IF_ERROR(c.u32v(delta, "sequence delta"));
        e.sequence = prev.sequence + delta;
        OC_RETURN_IF_ERROR(c.varuint(e.capture_thread, 64, "capture thread"));
        OC_RETURN_IF_ERROR(c.u32v(e.processor, "processor"));
      }
      e.sequence += 1;
      if (f & 4) OC_RETURN_IF_ERROR(c.varuint(e.thread, 64, "thread index"));
      if (f & 8) OC_RETURN_IF_ERROR(c.u32v(e.stack_id, "stack id"));
      std::uint64_t delta_ts;
      OC_RETURN_IF_ERROR(c.varuint(delta_ts, 64, "timestamp delta"));
      e.timestamp = prev.timestamp + delta_ts;
      if (e.timestamp < prev.timestamp) return bad(event_at, "timestamp overflows");
      if (f & 16) OC_RETURN_IF_ERROR(c.u32v(e.label_list_id, "label list id"));
      e.sorted = (f & 64) != 0;
      if (f & 128) OC_RETURN_IF_ERROR(c.u32v(payload_size, "payload size"));
      if (f & 32) return bad(event_at, "event flag bit 0x20 is not defined in V6");
    } else {
      std::uint32_t event_size, meta;
      OC_RETURN_IF_ERROR(c.fixed(event_size, "event size"));
      std::size_t start = c.pos();
      OC_RETURN_IF_ERROR(c.fixed(meta, "metadata id"));
      e.metadata_id = meta & 0x7FFFFFFF;
      e.sorted = (meta & 0x80000000u) != 0;
      OC_RETURN_IF_ERROR(c.fixed(e.sequence, "sequence number"));
      OC_RETURN_IF_ERROR(c.fixed(e.thread, "thread index"));
      OC_RETURN_IF_ERROR(c.fixed(e.capture_thread, "capture thread index"));
      OC_RETURN_IF_ERROR(c.fixed(e.processor, "processor"));
      OC_RETURN_IF_ERROR(c.fixed(e.stack_id, "stack id"));
      OC_RETURN_IF_ERROR(c.fixed(e.timestamp, "timestamp"));
      OC_RETURN_IF_ERROR(c.fixed(e.label_list_id, "label list id"));
      OC_RETURN_IF_ERROR(c.fixed(payload_size, "payload size"));
      if (static_cast<std::uint64_t>(c.pos() - start) + payload_size != event_size) {
        return bad(event_at, "event size does not match its header and payload");
      }
    }
    OC_RETURN_IF_ERROR(decode_event(c, e, payload_size, event_at));

    // Timestamp guarantees.
    if (e.timestamp < min_ts || e.timestamp > max_ts) {
      return bad(event_at, "event timestamp " + std::to_string(e.timestamp) +
                               " outside its block's range [" + std::to_string(min_ts) + ", " +
                               std::to_string(max_ts) + "]");
    }
    if (have_sp && e.timestamp < last_sp_ts) {
      return bad(event_at, "event timestamp precedes the previous sequence point");
    }
    if (e.timestamp < sorted_floor) {
      return bad(event_at, "event timestamp precedes an earlier event marked sorted");
    }
    if (e.sorted) sorted_floor = e.timestamp;
    SeqState& s = sequences[e.capture_thread];
    if (s.seen) {
      if (e.timestamp < s.last_ts) {
        return bad(event_at, "events of capture thread " + std::to_string(e.capture_thread) +
                                 " are out of time order");
      }
      if (e.sequence != s.last + 1) {
        trace.dropped_events += static_cast<std::uint32_t>(e.sequence - s.last - 1);
      }
    }
    s.seen = true;
    s.last = e.sequence;
    s.last_ts = e.timestamp;
    max_ts_since_sp = std::max(max_ts_since_sp, e.timestamp);

    prev = e;
    prev.stack.clear();
    prev.labels.clear();
    prev.payload.clear();
    prev.fields.clear();
    prev_payload = payload_size;
    ++trace.event_count;
    if (options.keep_events) trace.events.push_back(std::move(e));
  }
  return ok_status();
}

}  // namespace

std::string_view Trace::key_value(std::string_view key) const {
  for (const auto& [k, v] : key_values) {
    if (k == key) return v;
  }
  return {};
}

Result<Trace> read_nettrace(ByteSpan bytes, const ReadOptions& options) {
  auto reader = std::make_unique<Reader>();
  reader->file = bytes;
  reader->options = options;
  OC_RETURN_IF_ERROR(reader->run());
  return std::move(reader->trace);
}

Result<Trace> read_nettrace_file(const std::string& path, const ReadOptions& options) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return error(ErrorCode::kNotFound,
                 "nettrace: cannot open " + path + ": " + std::strerror(errno));
  }
  std::vector<std::uint8_t> data;
  std::uint8_t buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.insert(data.end(), buf, buf + n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return error(ErrorCode::kIo, "nettrace: reading " + path + " failed");
  return read_nettrace(data, options);
}

}  // namespace one_collect::ntread
