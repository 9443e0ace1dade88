#include "one_collect/export/export_records.h"

#include <limits>

namespace one_collect {

std::uint32_t ExportRecordStore::type(ExportRecordType type) {
  auto it = type_by_name_.find(type.name);
  if (it != type_by_name_.end()) return it->second;
  auto index = static_cast<std::uint32_t>(types_.size());
  type_by_name_.emplace(type.name, index);
  types_.push_back(std::move(type));
  return index;
}

std::uint32_t ExportRecordStore::add(std::uint32_t type, std::span<const std::uint8_t> bytes) {
  if (type >= types_.size() || bytes.size() > std::numeric_limits<std::uint32_t>::max()) {
    return 0;
  }
  records_.push_back(ExportRecord{arena_.size(), static_cast<std::uint32_t>(bytes.size()), type});
  arena_.insert(arena_.end(), bytes.begin(), bytes.end());
  return static_cast<std::uint32_t>(records_.size());
}

const ExportRecord* ExportRecordStore::get(std::uint32_t id) const {
  if (id == 0 || id > records_.size()) return nullptr;
  return &records_[id - 1];
}

std::span<const std::uint8_t> ExportRecordStore::data(std::uint32_t id) const {
  const ExportRecord* r = get(id);
  if (!r) return {};
  return std::span<const std::uint8_t>(arena_.data() + r->offset, r->length);
}

std::size_t ExportRecordStore::memory_bytes() const {
  return records_.capacity() * sizeof(ExportRecord) + arena_.capacity();
}

}  // namespace one_collect
