// ExportMachine: everything a collection produced, in one OS-neutral model
// that every output format reads.
//
// Units and conventions (all formats rely on them):
// - Times are nanoseconds on the session clock (Linux: the perf clock,
//   CLOCK_MONOTONIC by default). `metadata().start_time` is the session-clock
//   time collection began and `metadata().start_unix_ns` the same instant on
//   the wall clock, so time t maps to start_unix_ns + (t - start_time).
// - Strings (comm, file names, symbol names, attribute keys, ...) are ids into
//   one InternedStrings table; id 0 is "".
// - Stacks are interned apart in one InternedCallstacks table, frames listed
//   leaf-side first, *without* the sample's leaf ip (which the sample carries).
//   Callstack id 0 is the empty stack.
// - Ids for records, attributes and symbol tables are dense and 0 means none.
//
// Memory: a sample is 48 bytes (static_assert below) and names its stack by
// id, so a collection costs 48 bytes per sample plus each distinct stack once.
// bench/export measures the total (docs/PERFORMANCE.md, section "Export").
//
// Shape: storage types live in their own headers (export_sample.h,
// export_records.h, export_symbols.h); the state machines fed during
// collection are their own classes (ExportProcessTracker for process
// lifetimes and mappings, OffCpuTracker for switch pairing). ExportMachine
// owns one of each and is the single object sessions write and formats read.
//
// Threading: single-threaded, like the pipeline that feeds it; share it with
// Writable<ExportMachine>.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/export/export_process_tracker.h"
#include "one_collect/export/export_records.h"
#include "one_collect/export/export_sample.h"
#include "one_collect/export/export_symbols.h"
#include "one_collect/export/off_cpu_tracker.h"
#include "one_collect/intern/interned_callstacks.h"
#include "one_collect/intern/interned_slices.h"
#include "one_collect/intern/interned_strings.h"

namespace one_collect {

struct ExportSpan {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  StringId name = 0;
  std::uint32_t attributes = 0;
  std::uint32_t pid = 0;
  std::uint32_t tid = 0;
};

struct LostEvents {
  SampleKind kind = 0;
  std::uint64_t count = 0;
};

// Facts about the collection that formats write where they have a place.
struct CollectionMetadata {
  std::uint64_t start_time = 0;           // session clock, ns
  std::uint64_t end_time = 0;             // session clock, ns
  std::uint64_t start_unix_ns = 0;        // wall clock at start_time
  std::uint64_t sample_frequency_hz = 0;  // 0: not sampling by frequency
  std::uint64_t sample_period_ns = 0;     // nominal ns between CPU samples
  std::uint32_t cpu_count = 0;
  std::string host;
  std::string kernel;        // e.g. uname -sr
  std::string command_line;  // of the collector
  std::uint64_t duration_ns() const { return end_time > start_time ? end_time - start_time : 0; }
};

// What a sample hook sees. Return true to keep the sample.
struct SampleHookContext {
  const class ExportMachine& machine;
  const ExportSample& sample;
};
using SampleHook = std::function<bool(const SampleHookContext&)>;

// A group of processes, e.g. all processes sharing a command name.
struct ProcessGroup {
  StringId comm = 0;
  std::vector<std::uint32_t> pids;  // ascending
};

// What replay_by_time yields.
struct ReplayEvent {
  enum class Kind { kProcessStart, kMapping, kSample, kProcessExit };
  Kind kind = Kind::kSample;
  std::uint64_t time = 0;
  const ExportProcess* process = nullptr;
  const ExportMapping* mapping = nullptr;  // kMapping
  const ExportSample* sample = nullptr;    // kSample
};

class ExportMachine {
 public:
  ExportMachine();
  ExportMachine(const ExportMachine&) = delete;
  ExportMachine& operator=(const ExportMachine&) = delete;
  ExportMachine(ExportMachine&&) = default;
  ExportMachine& operator=(ExportMachine&&) = default;

  // ---- tables
  InternedStrings& strings() { return strings_; }
  const InternedStrings& strings() const { return strings_; }
  InternedCallstacks& callstacks() { return callstacks_; }
  const InternedCallstacks& callstacks() const { return callstacks_; }
  StringId intern(std::string_view text) { return strings_.intern(text); }
  std::string_view string(StringId id) const { return strings_.get(id).value_or(""); }

  CollectionMetadata& metadata() { return metadata_; }
  const CollectionMetadata& metadata() const { return metadata_; }

  // ---- sample kinds: names to small ids, found or added. "cpu" and
  // "off_cpu" (both kDuration) are always registered, as kinds 0 and 1.
  SampleKind sample_kind(std::string_view name, MetricKind metric = MetricKind::kCount);
  std::optional<SampleKind> find_sample_kind(std::string_view name) const;
  const std::vector<SampleKindInfo>& sample_kinds() const { return kinds_; }
  std::string_view sample_kind_name(SampleKind kind) const;
  MetricKind sample_metric(SampleKind kind) const;

  // ---- processes (pid 0, the idle task, is accepted: kernel samples land there)
  ExportProcess& process(std::uint32_t pid);  // found or added
  const ExportProcess* find_process(std::uint32_t pid) const;
  ExportProcess* find_process(std::uint32_t pid);
  const std::vector<ExportProcess>& processes() const { return processes_.processes(); }
  ExportProcessTracker& process_tracker() { return processes_; }
  const ExportProcessTracker& process_tracker() const { return processes_; }
  void set_comm(std::uint32_t pid, std::string_view comm);
  void add_process_start(std::uint32_t pid, std::uint64_t time, std::string_view comm);
  void add_process_exit(std::uint32_t pid, std::uint64_t time);
  // A fork: the child starts with the parent's comm and mappings.
  void add_fork(std::uint32_t parent_pid, std::uint32_t child_pid, std::uint64_t time);
  // Adds a mapping (anonymity decided from the name by
  // is_anonymous_mapping_name, core/mapping_name.h); returns its id.
  std::uint32_t add_mapping(std::uint32_t pid, std::uint64_t time, std::uint64_t start,
                            std::uint64_t end, std::uint64_t file_offset, std::string_view filename,
                            std::string_view build_id = {});
  // The same with what the OS session's process model decided: whether the
  // mapping is anonymous and the held-open file behind it (0: none).
  struct MappingOrigin {
    bool anonymous = false;
    std::uint32_t file = 0;
  };
  std::uint32_t add_mapping(std::uint32_t pid, std::uint64_t time, std::uint64_t start,
                            std::uint64_t end, std::uint64_t file_offset, std::string_view filename,
                            std::string_view build_id, MappingOrigin origin);
  // The machine-wide kernel mapping [kKernelAddressStart, max).
  const ExportMapping& kernel_mapping() const { return processes_.kernel_mapping(); }
  // The mapping that covers ip for this process at this time (kernel ips
  // resolve to kernel_mapping()).
  const ExportMapping* find_mapping(std::uint32_t pid, std::uint64_t ip, std::uint64_t time) const;

  // ---- samples
  // Interns `frames` (leaf side first, leaf ip excluded) and adds a sample;
  // sample hooks may drop it. Returns false when dropped.
  bool add_sample(std::uint64_t time, MetricValue value, std::uint32_t pid, std::uint32_t tid,
                  std::uint16_t cpu, SampleKind kind, std::uint64_t leaf_ip,
                  std::span<const std::uint64_t> frames, std::uint32_t record = 0,
                  std::uint32_t attributes = 0);
  // Adds a fully built sample (callstack already interned). Returns false when dropped.
  bool add_sample(const ExportSample& sample);
  const std::vector<ExportSample>& samples() const { return samples_; }
  std::vector<ExportSample>& mutable_samples() { return samples_; }
  void reserve_samples(std::size_t n) { samples_.reserve(n); }
  void add_sample_hook(SampleHook hook) { hooks_.push_back(std::move(hook)); }
  // The sample's value as the metric of its kind (span samples: end - start).
  MetricValue sample_value(const ExportSample& sample) const;
  std::uint64_t sample_magnitude(const ExportSample& sample) const;

  // ---- off-CPU: the time from switch-out to switch-in, with the switch-out stack
  void on_switch_out(std::uint32_t pid, std::uint32_t tid, std::uint16_t cpu, std::uint64_t time,
                     std::uint64_t leaf_ip, std::span<const std::uint64_t> frames);
  // Emits the pending off_cpu sample of tid (if any); returns whether one was emitted.
  bool on_switch_in(std::uint32_t tid, std::uint64_t time);
  std::size_t pending_switches() const { return off_cpu_.pending(); }

  // ---- records: raw payloads in one arena
  std::uint32_t record_type(ExportRecordType type);  // found (by name) or added
  const std::vector<ExportRecordType>& record_types() const { return records_.types(); }
  std::uint32_t add_record(std::uint32_t type, std::span<const std::uint8_t> bytes);
  const ExportRecord* record(std::uint32_t id) const;
  std::span<const std::uint8_t> record_data(std::uint32_t id) const;
  std::size_t record_count() const { return records_.size(); }

  // ---- attributes: interned key/value sets
  std::uint32_t attributes(std::span<const ExportAttribute> set) { return attributes_.intern(set); }
  std::span<const ExportAttribute> attribute_set(std::uint32_t id) const;

  // ---- spans
  std::uint32_t add_span(const ExportSpan& span);
  const std::vector<ExportSpan>& spans() const { return spans_; }
  const ExportSpan* span(std::uint64_t index) const;

  // ---- lost events
  void add_lost(SampleKind kind, std::uint64_t count);
  void add_lost(std::string_view kind_name, std::uint64_t count);
  const std::vector<LostEvents>& lost() const { return lost_; }
  std::uint64_t total_lost() const;

  // ---- symbols
  const std::vector<ExportSymbolTable>& symbol_tables() const { return symbol_tables_; }
  const ExportSymbolTable* symbol_table(std::uint32_t id) const;
  // Adds a table (ids are 1-based).
  std::uint32_t add_symbol_table(ExportSymbolTable table);
  // The symbol for ip in pid at time, or nullptr (call after symbols are
  // resolved). `ip` is the lookup address: pass a caller frame through
  // frame_lookup_ip(ip, false) first. `line` gets the outermost line at ip.
  const ExportSymbol* find_symbol(std::uint32_t pid, std::uint64_t ip, std::uint64_t time,
                                  const ExportMapping** mapping = nullptr,
                                  const ExportLine** line = nullptr) const;
  // Collects every sampled address (leaf ips, and stack frames through
  // frame_lookup_ip), asks the
  // resolver once per distinct file, once for the kernel and once per process
  // with anonymous code, and attaches the symbol tables to the mappings.
  // A resolver failure for one object is kept in `errors` and does not stop
  // the others.
  // `source_lines` false: symbols only, no source lines asked for.
  Status capture_and_resolve_symbols(SymbolResolver& resolver,
                                     std::vector<std::string>* errors = nullptr,
                                     bool source_lines = true);

  // ---- views
  // Processes grouped by command name, sorted by name; pids ascending.
  std::vector<ProcessGroup> split_processes_by_comm() const;
  // Process starts, mappings, samples and exits in time order (ties: that
  // order). Processes and mappings known from before collection come first.
  // `pid_filter` (optional) selects processes.
  void replay_by_time(const std::function<void(const ReplayEvent&)>& callback,
                      const std::function<bool(std::uint32_t pid)>& pid_filter = {}) const;
  // Sample indices per pid (built on demand, one pass).
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> samples_by_pid() const;

  // Bytes held by the tables, samples and records (capacity, not size).
  std::size_t memory_bytes() const;

 private:
  InternedStrings strings_;
  InternedCallstacks callstacks_;
  InternedSlices<ExportAttribute> attributes_;
  CollectionMetadata metadata_;
  std::vector<SampleKindInfo> kinds_;
  std::unordered_map<StringId, SampleKind> kind_by_name_;
  ExportProcessTracker processes_;
  std::vector<ExportSample> samples_;
  std::vector<SampleHook> hooks_;
  OffCpuTracker off_cpu_;
  ExportRecordStore records_;
  std::vector<ExportSpan> spans_;
  std::vector<LostEvents> lost_;
  std::vector<ExportSymbolTable> symbol_tables_;
  SampleKind off_cpu_kind_ = 0;
};

}  // namespace one_collect
