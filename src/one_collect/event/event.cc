#include "one_collect/event/event.h"

#include <exception>

namespace one_collect {

void EventErrors::add(const Event& event, Status status) {
  add(event.id(), event.name(), std::move(status));
}

void EventErrors::add(std::uint64_t event_id, std::string_view event_name, Status status) {
  if (status.ok()) return;
  ++total_;
  std::string key = std::to_string(event_id);
  key += '\0';
  key += event_name;
  key += '\0';
  key += status.to_string();
  auto found = index_.find(key);
  if (found != index_.end()) {
    ++entries_[found->second].count;
    return;
  }
  if (entries_.size() >= max_distinct_) {
    ++dropped_;
    return;
  }
  index_.emplace(std::move(key), entries_.size());
  entries_.push_back(Entry{event_id, std::string(event_name), std::move(status), 1});
}

std::string EventErrors::to_string() const {
  std::string out;
  for (const auto& e : entries_) {
    out += "event '" + e.event_name + "' (id " + std::to_string(e.event_id) +
           "): " + e.status.to_string();
    if (e.count > 1) out += " (x" + std::to_string(e.count) + ")";
    out += '\n';
  }
  if (dropped_ != 0) {
    out += std::to_string(dropped_) + " more errors with other messages were counted, not kept\n";
  }
  return out;
}

void EventErrors::clear() {
  entries_.clear();
  index_.clear();
  total_ = 0;
  dropped_ = 0;
}

void Event::record_failure(EventErrors& errors, Status status) const {
  errors.add(*this, std::move(status));
}

void Event::record_exception(EventErrors& errors) const {
  // Called from inside a catch block: rethrow to learn what was thrown.
  try {
    throw;
  } catch (const std::exception& e) {
    errors.add(*this, error(ErrorCode::kCallbackFailed, std::string("exception: ") + e.what()));
  } catch (...) {
    errors.add(*this, error(ErrorCode::kCallbackFailed, "unknown exception"));
  }
}

}  // namespace one_collect
