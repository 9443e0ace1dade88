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
#include "one_collect/event/event_format.h"
#include "one_collect/intern/interned_callstacks.h"
#include "one_collect/intern/interned_slices.h"
#include "one_collect/intern/interned_strings.h"

namespace one_collect {

using StringId = InternedStrings::Id;
using CallstackId = InternedCallstacks::Id;
using SampleKind = std::uint16_t;

// Kernel addresses on x86-64 / aarch64 Linux start here; everything at or
// above is resolved against the kernel's symbols, not a process mapping.
inline constexpr std::uint64_t kKernelAddressStart = 0xFFFF800000000000ULL;
inline constexpr std::uint64_t kUnknownTime = std::numeric_limits<std::uint64_t>::max();

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

// A symbol: [start, end) in its table's address space (file offsets for
// file-backed code, virtual addresses for kernel and anonymous/JIT code).
struct ExportSymbol {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  StringId name = 0;
  StringId source_file = 0;  // 0: unknown
  std::uint32_t line = 0;    // first line of the function, 0: unknown
};

// Caller frames hold return addresses: the instruction after the call. A call
// that is a function's last instruction (a noreturn call) returns to the first
// byte of the next function, so every symbol and line lookup of a non-leaf
// frame uses the return address - 1, which lies inside the call instruction;
// the sampled leaf ip is looked up exactly. This is the one place deciding it:
// capture_and_resolve_symbols, find_symbol / find_lines callers (ExportGraph,
// pprof, nettrace) all pass addresses through it.
inline std::uint64_t frame_lookup_ip(std::uint64_t ip, bool leaf) {
  return (leaf || ip == 0) ? ip : ip - 1;
}

// A source position for one address (same address space as the symbols).
// An address with inlined frames has several lines, consecutive in the
// table and innermost first: the inlined callee (function = its name), ...,
// and last the real function at the line of the outermost inlined call
// (function 0: the symbol's own name).
struct ExportLine {
  std::uint64_t address = 0;
  StringId source_file = 0;
  std::uint32_t line = 0;
  StringId function = 0;  // an inlined function's name; 0: the containing symbol
};

// Symbols of one file (shared by every process mapping it), of the kernel, or
// of one process's anonymous memory. Sorted by start once resolved.
struct ExportSymbolTable {
  std::vector<ExportSymbol> symbols;
  std::vector<ExportLine> lines;   // sorted by address (stable); may be empty
  bool has_inline_frames = false;  // some address has more than one line
  // The symbol containing `address`, or nullptr.
  const ExportSymbol* find(std::uint64_t address) const;
  // The source line of the containing function recorded for exactly
  // `address` (the outermost of its lines), or nullptr.
  const ExportLine* find_line(std::uint64_t address) const;
  // Every line recorded for exactly `address`, innermost first (empty if none).
  std::span<const ExportLine> find_lines(std::uint64_t address) const;
};

// A mapping of a process's address space, valid from `time` on (until a later
// mapping over the same addresses replaces it).
struct ExportMapping {
  std::uint64_t start = 0;
  std::uint64_t end = 0;  // exclusive
  std::uint64_t file_offset = 0;
  std::uint64_t time = 0;
  StringId filename = 0;
  StringId build_id = 0;      // lowercase hex, 0: unknown
  std::uint32_t id = 0;       // machine-unique, 1-based
  std::uint32_t symbols = 0;  // symbol table id, 0: none yet
  bool anon = false;          // anonymous, JIT, [heap], /memfd:, ...
  bool kernel = false;

  bool contains(std::uint64_t ip) const { return ip >= start && ip < end; }
  // The address in the symbol table's space: a file offset for file-backed
  // mappings, the address itself for anonymous and kernel ones.
  std::uint64_t symbol_address(std::uint64_t ip) const {
    return (anon || kernel) ? ip : ip - start + file_offset;
  }
};

bool is_anonymous_export_mapping_name(std::string_view filename);

class ExportProcess {
 public:
  std::uint32_t pid = 0;
  std::uint32_t ns_pid = 0;  // the pid inside its namespace (perf maps use it)
  StringId comm = 0;
  StringId cmdline = 0;
  std::uint64_t start_time = kUnknownTime;  // kUnknownTime: existed before collection
  std::uint64_t exit_time = kUnknownTime;   // kUnknownTime: still running
  std::uint32_t anon_symbols = 0;           // symbol table of its anonymous code, 0: none

  const std::vector<ExportMapping>& mappings() const { return mappings_; }
  // The mapping containing ip at `time`: among the mappings containing ip, the
  // newest one created at or before `time`; if all are newer, the oldest.
  const ExportMapping* find_mapping(std::uint64_t ip, std::uint64_t time) const;

 private:
  friend class ExportMachine;
  void insert_mapping(const ExportMapping& mapping);
  // Sorted by start; max_end_[i] = max end over mappings_[0..i], which bounds
  // the backward scan of find_mapping.
  std::vector<ExportMapping> mappings_;
  std::vector<std::uint64_t> max_end_;
};

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

// Asked of a SymbolResolver: which object the addresses belong to.
struct SymbolQuery {
  enum class Kind { kFile, kKernel, kAnonymous };
  Kind kind = Kind::kFile;
  std::uint32_t pid = 0;  // a process mapping it (for /proc/<pid>/root, perf maps)
  std::uint32_t ns_pid = 0;
  std::string_view filename;  // kFile
  std::string_view build_id;  // kFile, lowercase hex or empty
};

struct ExportResolvedSymbol {
  std::uint64_t start = 0;
  std::uint64_t end = 0;  // exclusive
  std::string name;       // demangled when possible
  std::string source_file;
  std::uint32_t line = 0;
};

// For an address with inlined frames, one entry per frame, consecutive and
// innermost first; `function` names the inlined functions and is empty for
// the last entry (the symbol's own function).
struct ExportResolvedLine {
  std::uint64_t address = 0;
  std::string source_file;
  std::uint32_t line = 0;
  std::string function;
};

// Turns addresses into symbols. The symbols component implements it for ELF
// files, kallsyms and perf maps; tests use a fake. Addresses are in the
// query's space: file offsets for kFile, virtual addresses otherwise; they are
// sorted and unique. Return the symbols covering them (extra ones are fine).
class SymbolResolver {
 public:
  virtual ~SymbolResolver() = default;
  virtual Status resolve(const SymbolQuery& query, std::span<const std::uint64_t> addresses,
                         std::vector<ExportResolvedSymbol>& symbols,
                         std::vector<ExportResolvedLine>& lines) = 0;
  // The build id (lowercase hex) of a file, when the caller did not know it.
  virtual std::optional<std::string> build_id(const SymbolQuery& /*query*/) { return std::nullopt; }
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
  const std::vector<ExportProcess>& processes() const { return processes_; }
  void set_comm(std::uint32_t pid, std::string_view comm);
  void add_process_start(std::uint32_t pid, std::uint64_t time, std::string_view comm);
  void add_process_exit(std::uint32_t pid, std::uint64_t time);
  // A fork: the child starts with the parent's comm and mappings.
  void add_fork(std::uint32_t parent_pid, std::uint32_t child_pid, std::uint64_t time);
  // Adds a mapping (anonymity decided from the name); returns its id.
  std::uint32_t add_mapping(std::uint32_t pid, std::uint64_t time, std::uint64_t start,
                            std::uint64_t end, std::uint64_t file_offset, std::string_view filename,
                            std::string_view build_id = {});
  // The machine-wide kernel mapping [kKernelAddressStart, max).
  const ExportMapping& kernel_mapping() const { return kernel_mapping_; }
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
  std::size_t pending_switches() const { return pending_switch_.size(); }

  // ---- records: raw payloads in one arena
  std::uint32_t record_type(ExportRecordType type);  // found (by name) or added
  const std::vector<ExportRecordType>& record_types() const { return record_types_; }
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
  Status capture_and_resolve_symbols(SymbolResolver& resolver,
                                     std::vector<std::string>* errors = nullptr);

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
  struct PendingSwitch {
    std::uint64_t time;
    std::uint64_t leaf_ip;
    std::uint32_t pid;
    CallstackId callstack;
    std::uint16_t cpu;
  };

  InternedStrings strings_;
  InternedCallstacks callstacks_;
  InternedSlices<ExportAttribute> attributes_;
  CollectionMetadata metadata_;
  std::vector<SampleKindInfo> kinds_;
  std::unordered_map<StringId, SampleKind> kind_by_name_;
  std::unordered_map<StringId, std::uint32_t> record_type_by_name_;
  std::vector<ExportProcess> processes_;
  std::unordered_map<std::uint32_t, std::uint32_t> process_index_;
  std::vector<ExportSample> samples_;
  std::vector<SampleHook> hooks_;
  std::unordered_map<std::uint32_t, PendingSwitch> pending_switch_;
  std::vector<ExportRecordType> record_types_;
  std::vector<ExportRecord> records_;
  std::vector<std::uint8_t> record_arena_;
  std::vector<ExportSpan> spans_;
  std::vector<LostEvents> lost_;
  std::vector<ExportSymbolTable> symbol_tables_;
  ExportMapping kernel_mapping_;
  std::uint32_t next_mapping_id_ = 1;
  SampleKind off_cpu_kind_ = 0;
};

}  // namespace one_collect
