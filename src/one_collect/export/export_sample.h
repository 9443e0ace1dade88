// Samples as the export model stores them: 48 bytes each, their value's
// meaning kept once per sample kind.
#pragma once

#include <cstdint>
#include <string_view>

#include "one_collect/intern/interned_callstacks.h"
#include "one_collect/intern/interned_strings.h"

namespace one_collect {

using StringId = InternedStrings::Id;
using CallstackId = InternedCallstacks::Id;
using SampleKind = std::uint16_t;

// What a sample's value means. Stored once per sample kind, not per sample.
enum class MetricKind : std::uint8_t {
  kCount = 0,     // events (value 1 per CPU sample unless a period is known)
  kDuration = 1,  // nanoseconds
  kBytes = 2,     // bytes
  kSpan = 3,      // the value is an index into spans(); its size is end - start
};
std::string_view metric_kind_name(MetricKind kind);

struct MetricValue {
  MetricKind kind = MetricKind::kCount;
  std::uint64_t value = 0;

  static MetricValue count(std::uint64_t v) { return {MetricKind::kCount, v}; }
  static MetricValue duration(std::uint64_t ns) { return {MetricKind::kDuration, ns}; }
  static MetricValue bytes(std::uint64_t v) { return {MetricKind::kBytes, v}; }
  static MetricValue span(std::uint64_t index) { return {MetricKind::kSpan, index}; }
  friend bool operator==(const MetricValue&, const MetricValue&) = default;
};

// Built-in sample kind names.
inline constexpr std::string_view kCpuKind = "cpu";         // MetricKind::kDuration (period)
inline constexpr std::string_view kOffCpuKind = "off_cpu";  // MetricKind::kDuration (wait)

struct SampleKindInfo {
  StringId name = 0;
  MetricKind metric = MetricKind::kCount;
};

// One sample, 48 bytes. The value's meaning comes from its kind's MetricKind.
struct ExportSample {
  std::uint64_t time = 0;
  std::uint64_t value = 0;
  std::uint64_t leaf_ip = 0;  // the sampled instruction pointer (0: none)
  std::uint32_t pid = 0;
  std::uint32_t tid = 0;
  CallstackId callstack = 0;     // frames above the leaf, leaf side first
  std::uint32_t record = 0;      // record id, 0: none
  std::uint32_t attributes = 0;  // attribute set id, 0: none
  std::uint16_t cpu = 0;
  SampleKind kind = 0;
};
static_assert(sizeof(ExportSample) == 48, "keep samples compact: see the memory note above");

}  // namespace one_collect
