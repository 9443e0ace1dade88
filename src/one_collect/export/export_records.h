// Records (raw event payloads kept with samples or alone) and attribute
// sets, as the export model stores them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "one_collect/event/event_format.h"
#include "one_collect/intern/interned_strings.h"

namespace one_collect {

using StringId = InternedStrings::Id;

// A record: the raw payload of an event kept with a sample (or on its own).
struct ExportRecordType {
  StringId name = 0;      // e.g. "sched/sched_switch"
  StringId provider = 0;  // e.g. "sched" (nettrace provider), 0: Universal.Events
  std::uint32_t event_id = 0;
  std::shared_ptr<const EventFormat> format;  // may be null: opaque bytes
  bool original_data = true;                  // bytes are the untouched event payload
};

struct ExportRecord {
  std::uint64_t offset = 0;  // into the record arena
  std::uint32_t length = 0;
  std::uint32_t type = 0;  // index into record_types()
};

// Record types (found by name) and their payloads, in one arena. Record ids
// are 1-based; 0 means none.
class ExportRecordStore {
 public:
  std::uint32_t type(ExportRecordType type);  // found (by name) or added
  const std::vector<ExportRecordType>& types() const { return types_; }
  // Returns the record id, 0 when the type is unknown or the payload too big.
  std::uint32_t add(std::uint32_t type, std::span<const std::uint8_t> bytes);
  const ExportRecord* get(std::uint32_t id) const;
  std::span<const std::uint8_t> data(std::uint32_t id) const;
  std::size_t size() const { return records_.size(); }
  std::size_t memory_bytes() const;

 private:
  std::vector<ExportRecordType> types_;
  std::unordered_map<StringId, std::uint32_t> type_by_name_;
  std::vector<ExportRecord> records_;
  std::vector<std::uint8_t> arena_;
};

enum class AttributeKind : std::uint32_t { kLabel = 0, kValue = 1 };
// One key/value pair. Laid out without padding so sets intern by bytes.
struct ExportAttribute {
  StringId key = 0;
  AttributeKind kind = AttributeKind::kLabel;
  std::uint64_t value = 0;  // a StringId for labels
  static ExportAttribute label(StringId key, StringId value) {
    return {key, AttributeKind::kLabel, value};
  }
  static ExportAttribute number(StringId key, std::uint64_t value) {
    return {key, AttributeKind::kValue, value};
  }
};
static_assert(sizeof(ExportAttribute) == 16);

}  // namespace one_collect
