#include "one_collect/export/export_machine.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "one_collect/core/mapping_name.h"

namespace one_collect {

std::string_view metric_kind_name(MetricKind kind) {
  switch (kind) {
    case MetricKind::kCount:
      return "count";
    case MetricKind::kDuration:
      return "duration";
    case MetricKind::kBytes:
      return "bytes";
    case MetricKind::kSpan:
      return "span";
  }
  return "unknown";
}

// ---------------------------------------------------------------- ExportSymbolTable

const ExportSymbol* ExportSymbolTable::find(std::uint64_t address) const {
  auto it = std::upper_bound(symbols.begin(), symbols.end(), address,
                             [](std::uint64_t a, const ExportSymbol& s) { return a < s.start; });
  // Nested or overlapping symbols: look back a little for one that contains it.
  for (int steps = 0; it != symbols.begin() && steps < 4; ++steps) {
    --it;
    if (address >= it->start && address < it->end) return &*it;
  }
  return nullptr;
}

std::span<const ExportLine> ExportSymbolTable::find_lines(std::uint64_t address) const {
  auto [lo, hi] = std::equal_range(
      lines.begin(), lines.end(), ExportLine{address, 0, 0, 0, 0},
      [](const ExportLine& a, const ExportLine& b) { return a.address < b.address; });
  return std::span<const ExportLine>(lines.data() + (lo - lines.begin()),
                                     static_cast<std::size_t>(hi - lo));
}

const ExportLine* ExportSymbolTable::find_line(std::uint64_t address) const {
  auto found = find_lines(address);
  return found.empty() ? nullptr : &found.back();
}

// --------------------------------------------------------------- ExportMachine

ExportMachine::ExportMachine()
    : callstacks_(4096), attributes_(64), processes_(strings_.intern("[kernel]")) {
  sample_kind(kCpuKind, MetricKind::kDuration);
  off_cpu_kind_ = sample_kind(kOffCpuKind, MetricKind::kDuration);
}

SampleKind ExportMachine::sample_kind(std::string_view name, MetricKind metric) {
  StringId id = strings_.intern(name);
  auto it = kind_by_name_.find(id);
  if (it != kind_by_name_.end()) return it->second;
  auto kind = static_cast<SampleKind>(kinds_.size());
  kinds_.push_back(SampleKindInfo{id, metric});
  kind_by_name_.emplace(id, kind);
  return kind;
}

std::optional<SampleKind> ExportMachine::find_sample_kind(std::string_view name) const {
  auto id = strings_.find(name);
  if (!id) return std::nullopt;
  auto it = kind_by_name_.find(*id);
  if (it == kind_by_name_.end()) return std::nullopt;
  return it->second;
}

std::string_view ExportMachine::sample_kind_name(SampleKind kind) const {
  return kind < kinds_.size() ? string(kinds_[kind].name) : std::string_view("unknown");
}

MetricKind ExportMachine::sample_metric(SampleKind kind) const {
  return kind < kinds_.size() ? kinds_[kind].metric : MetricKind::kCount;
}

ExportProcess& ExportMachine::process(std::uint32_t pid) { return processes_.process(pid); }

const ExportProcess* ExportMachine::find_process(std::uint32_t pid) const {
  return processes_.find(pid);
}

ExportProcess* ExportMachine::find_process(std::uint32_t pid) { return processes_.find(pid); }

void ExportMachine::set_comm(std::uint32_t pid, std::string_view comm) {
  StringId id = strings_.intern(comm);
  process(pid).comm = id;
}

void ExportMachine::add_process_start(std::uint32_t pid, std::uint64_t time,
                                      std::string_view comm) {
  processes_.start(pid, time, comm.empty() ? 0 : strings_.intern(comm));
}

void ExportMachine::add_process_exit(std::uint32_t pid, std::uint64_t time) {
  processes_.exit(pid, time);
}

void ExportMachine::add_fork(std::uint32_t parent_pid, std::uint32_t child_pid,
                             std::uint64_t time) {
  processes_.fork(parent_pid, child_pid, time);
}

std::uint32_t ExportMachine::add_mapping(std::uint32_t pid, std::uint64_t time, std::uint64_t start,
                                         std::uint64_t end, std::uint64_t file_offset,
                                         std::string_view filename, std::string_view build_id) {
  return add_mapping(pid, time, start, end, file_offset, filename, build_id,
                     MappingOrigin{is_anonymous_mapping_name(filename), 0});
}

std::uint32_t ExportMachine::add_mapping(std::uint32_t pid, std::uint64_t time, std::uint64_t start,
                                         std::uint64_t end, std::uint64_t file_offset,
                                         std::string_view filename, std::string_view build_id,
                                         MappingOrigin origin) {
  if (end <= start) return 0;
  ExportMapping m;
  m.start = start;
  m.end = end;
  m.file_offset = file_offset;
  m.time = time;
  m.filename = strings_.intern(filename);
  m.build_id = build_id.empty() ? 0 : strings_.intern(build_id);
  m.anon = origin.anonymous;
  m.file = origin.anonymous ? 0 : origin.file;
  m.kernel = start >= kKernelAddressStart;
  return processes_.add_mapping(pid, m);
}

const ExportMapping* ExportMachine::find_mapping(std::uint32_t pid, std::uint64_t ip,
                                                 std::uint64_t time) const {
  return processes_.find_mapping(pid, ip, time);
}

bool ExportMachine::add_sample(std::uint64_t time, MetricValue value, std::uint32_t pid,
                               std::uint32_t tid, std::uint16_t cpu, SampleKind kind,
                               std::uint64_t leaf_ip, std::span<const std::uint64_t> frames,
                               std::uint32_t record, std::uint32_t attributes) {
  ExportSample s;
  s.time = time;
  s.value = value.value;
  s.leaf_ip = leaf_ip;
  s.pid = pid;
  s.tid = tid;
  s.callstack = callstacks_.intern(frames);
  s.record = record;
  s.attributes = attributes;
  s.cpu = cpu;
  s.kind = kind;
  return add_sample(s);
}

bool ExportMachine::add_sample(const ExportSample& sample) {
  if (!hooks_.empty()) {
    SampleHookContext context{*this, sample};
    for (const SampleHook& hook : hooks_) {
      if (!hook(context)) return false;
    }
  }
  if (!find_process(sample.pid)) process(sample.pid);
  samples_.push_back(sample);
  return true;
}

MetricValue ExportMachine::sample_value(const ExportSample& sample) const {
  return MetricValue{sample_metric(sample.kind), sample.value};
}

std::uint64_t ExportMachine::sample_magnitude(const ExportSample& sample) const {
  if (sample_metric(sample.kind) == MetricKind::kSpan) {
    const ExportSpan* s = span(sample.value);
    return s && s->end > s->start ? s->end - s->start : 0;
  }
  return sample.value;
}

void ExportMachine::on_switch_out(std::uint32_t pid, std::uint32_t tid, std::uint16_t cpu,
                                  std::uint64_t time, std::uint64_t leaf_ip,
                                  std::span<const std::uint64_t> frames) {
  if (tid == 0) return;  // the idle task never waits: do not intern its stack
  off_cpu_.switch_out(pid, tid, cpu, time, leaf_ip, callstacks_.intern(frames));
}

bool ExportMachine::on_switch_in(std::uint32_t tid, std::uint64_t time) {
  auto sample = off_cpu_.switch_in(tid, time, off_cpu_kind_);
  return sample && add_sample(*sample);
}

std::uint32_t ExportMachine::record_type(ExportRecordType type) {
  return records_.type(std::move(type));
}

std::uint32_t ExportMachine::add_record(std::uint32_t type, std::span<const std::uint8_t> bytes) {
  return records_.add(type, bytes);
}

const ExportRecord* ExportMachine::record(std::uint32_t id) const { return records_.get(id); }

std::span<const std::uint8_t> ExportMachine::record_data(std::uint32_t id) const {
  return records_.data(id);
}

std::span<const ExportAttribute> ExportMachine::attribute_set(std::uint32_t id) const {
  return attributes_.get(id).value_or(std::span<const ExportAttribute>());
}

std::uint32_t ExportMachine::add_span(const ExportSpan& span) {
  spans_.push_back(span);
  return static_cast<std::uint32_t>(spans_.size() - 1);
}

const ExportSpan* ExportMachine::span(std::uint64_t index) const {
  return index < spans_.size() ? &spans_[index] : nullptr;
}

void ExportMachine::add_lost(SampleKind kind, std::uint64_t count) {
  for (LostEvents& l : lost_) {
    if (l.kind == kind) {
      l.count += count;
      return;
    }
  }
  lost_.push_back(LostEvents{kind, count});
}

void ExportMachine::add_lost(std::string_view kind_name, std::uint64_t count) {
  add_lost(sample_kind(kind_name), count);
}

std::uint64_t ExportMachine::total_lost() const {
  std::uint64_t total = 0;
  for (const LostEvents& l : lost_) total += l.count;
  return total;
}

const ExportSymbolTable* ExportMachine::symbol_table(std::uint32_t id) const {
  if (id == 0 || id > symbol_tables_.size()) return nullptr;
  return &symbol_tables_[id - 1];
}

std::uint32_t ExportMachine::add_symbol_table(ExportSymbolTable table) {
  auto by_start = [](const ExportSymbol& a, const ExportSymbol& b) {
    return std::tie(a.start, a.end) < std::tie(b.start, b.end);
  };
  if (!std::is_sorted(table.symbols.begin(), table.symbols.end(), by_start)) {
    std::sort(table.symbols.begin(), table.symbols.end(), by_start);
  }
  auto by_address = [](const ExportLine& a, const ExportLine& b) { return a.address < b.address; };
  if (!std::is_sorted(table.lines.begin(), table.lines.end(), by_address)) {
    // Stable: the lines of one address keep their innermost-first order.
    std::stable_sort(table.lines.begin(), table.lines.end(), by_address);
  }
  table.has_inline_frames = false;
  for (std::size_t i = 1; i < table.lines.size(); ++i) {
    if (table.lines[i].address == table.lines[i - 1].address) {
      table.has_inline_frames = true;
      break;
    }
  }
  symbol_tables_.push_back(std::move(table));
  return static_cast<std::uint32_t>(symbol_tables_.size());
}

const ExportSymbol* ExportMachine::find_symbol(std::uint32_t pid, std::uint64_t ip,
                                               std::uint64_t time, const ExportMapping** mapping,
                                               const ExportLine** line) const {
  const ExportMapping* m = find_mapping(pid, ip, time);
  if (mapping) *mapping = m;
  if (line) *line = nullptr;
  if (!m) return nullptr;
  const ExportSymbolTable* table = symbol_table(m->symbols);
  if (!table) return nullptr;
  std::uint64_t address = m->symbol_address(ip);
  if (line) *line = table->find_line(address);
  return table->find(address);
}

namespace {

// Where one sampled address goes for resolution: the OS session's held file
// when the mapping has one (a path may name several files over a recording,
// and one file several paths), else the name and build id.
struct FileKey {
  std::uint32_t file;
  StringId filename;
  StringId build_id;
  bool operator<(const FileKey& o) const {
    return std::tie(file, filename, build_id) < std::tie(o.file, o.filename, o.build_id);
  }
};

FileKey file_key(const ExportMapping& m) {
  return m.file != 0 ? FileKey{m.file, 0, 0} : FileKey{0, m.filename, m.build_id};
}

struct PendingQuery {
  std::uint32_t pid = 0;
  std::uint32_t ns_pid = 0;
  StringId filename = 0;  // of the first mapping seen (files)
  StringId build_id = 0;
  std::vector<std::uint64_t> addresses;
};

void sort_unique(std::vector<std::uint64_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

Status ExportMachine::capture_and_resolve_symbols(SymbolResolver& resolver,
                                                  std::vector<std::string>* errors,
                                                  bool source_lines) {
  std::map<FileKey, PendingQuery> files;
  std::map<std::uint32_t, PendingQuery> anon;  // by pid
  PendingQuery kernel;

  auto note = [&](std::uint32_t pid, std::uint64_t raw_ip, std::uint64_t time, bool leaf) {
    if (raw_ip == 0) return;
    std::uint64_t ip = frame_lookup_ip(raw_ip, leaf);
    const ExportMapping* m = find_mapping(pid, ip, time);
    if (!m) return;
    if (m->kernel) {
      kernel.addresses.push_back(ip);
    } else if (m->anon) {
      PendingQuery& q = anon[pid];
      q.pid = pid;
      q.addresses.push_back(ip);
    } else {
      PendingQuery& q = files[file_key(*m)];
      if (q.addresses.empty()) {
        q.pid = pid;
        q.ns_pid = find_process(pid) ? find_process(pid)->ns_pid : pid;
        q.filename = m->filename;
        q.build_id = m->build_id;
      }
      q.addresses.push_back(m->symbol_address(ip));
    }
  };

  // Each (pid, stack) is walked once, at the time of its first sample.
  std::unordered_set<std::uint64_t> seen_stacks;
  for (const ExportSample& s : samples_) {
    note(s.pid, s.leaf_ip, s.time, true);
    if (s.callstack == 0) continue;
    std::uint64_t key = (std::uint64_t{s.pid} << 32) | s.callstack;
    if (!seen_stacks.insert(key).second) continue;
    auto frames = callstacks_.get(s.callstack);
    if (!frames) continue;
    for (std::uint64_t ip : *frames) note(s.pid, ip, s.time, false);
  }

  std::vector<ExportResolvedSymbol> resolved;
  std::vector<ExportResolvedLine> lines;
  auto resolve = [&](const SymbolQuery& query, PendingQuery& pending,
                     std::string_view what) -> std::uint32_t {
    sort_unique(pending.addresses);
    resolved.clear();
    lines.clear();
    Status status = resolver.resolve(query, pending.addresses, resolved, lines);
    if (!status.ok()) {
      if (errors) errors->push_back(std::string(what) + ": " + status.to_string());
      return 0;
    }
    ExportSymbolTable table;
    table.symbols.reserve(resolved.size());
    for (const ExportResolvedSymbol& r : resolved) {
      if (r.end <= r.start) continue;
      table.symbols.push_back(
          ExportSymbol{r.start, r.end, strings_.intern(r.name),
                       r.source_file.empty() ? 0 : strings_.intern(r.source_file), r.line});
    }
    table.lines.reserve(lines.size());
    for (const ExportResolvedLine& l : lines) {
      table.lines.push_back(
          ExportLine{l.address, l.source_file.empty() ? 0 : strings_.intern(l.source_file), l.line,
                     l.function.empty() ? 0 : strings_.intern(l.function), l.function_line});
    }
    return add_symbol_table(std::move(table));
  };

  std::map<FileKey, std::uint32_t> file_tables;
  for (auto& [key, pending] : files) {
    SymbolQuery q;
    q.kind = SymbolQuery::Kind::kFile;
    q.want_lines = source_lines;
    q.pid = pending.pid;
    q.ns_pid = pending.ns_pid;
    q.filename = string(pending.filename);
    q.build_id = string(pending.build_id);
    q.file = key.file;
    std::string name(q.filename);
    StringId build_id = pending.build_id;
    if (build_id == 0) {
      if (auto found = resolver.build_id(q)) {
        build_id = strings_.intern(*found);
        q.filename = string(pending.filename);  // views stay valid: re-read after intern
        q.build_id = string(build_id);
      }
    }
    std::uint32_t table = resolve(q, pending, name);
    file_tables[key] = table;
    if (build_id != pending.build_id) {
      // Record the discovered build id on every mapping of that file.
      for (ExportProcess& p : processes_.mutable_processes()) {
        for (ExportMapping& m : p.mutable_mappings()) {
          bool same =
              key.file != 0 ? m.file == key.file : (m.file == 0 && m.filename == key.filename);
          if (same && m.build_id == 0) m.build_id = build_id;
        }
      }
      if (key.file == 0) file_tables[FileKey{0, key.filename, build_id}] = table;
    }
  }
  if (!kernel.addresses.empty()) {
    SymbolQuery q;
    q.kind = SymbolQuery::Kind::kKernel;
    processes_.mutable_kernel_mapping().symbols = resolve(q, kernel, "kernel");
  }
  for (auto& [pid, pending] : anon) {
    SymbolQuery q;
    q.kind = SymbolQuery::Kind::kAnonymous;
    q.pid = pid;
    const ExportProcess* p = find_process(pid);
    q.ns_pid = p ? p->ns_pid : pid;
    std::uint32_t table = resolve(q, pending, "anonymous memory of pid " + std::to_string(pid));
    if (ExportProcess* mp = find_process(pid)) mp->anon_symbols = table;
  }

  for (ExportProcess& p : processes_.mutable_processes()) {
    for (ExportMapping& m : p.mutable_mappings()) {
      if (m.kernel) {
        m.symbols = processes_.kernel_mapping().symbols;
      } else if (m.anon) {
        m.symbols = p.anon_symbols;
      } else {
        auto it = file_tables.find(file_key(m));
        if (it != file_tables.end()) m.symbols = it->second;
      }
    }
  }
  return ok_status();
}

std::vector<ProcessGroup> ExportMachine::split_processes_by_comm() const {
  std::map<std::string_view, ProcessGroup> groups;
  for (const ExportProcess& p : processes()) {
    ProcessGroup& g = groups[string(p.comm)];
    g.comm = p.comm;
    g.pids.push_back(p.pid);
  }
  std::vector<ProcessGroup> out;
  out.reserve(groups.size());
  for (auto& [name, group] : groups) {
    std::sort(group.pids.begin(), group.pids.end());
    out.push_back(std::move(group));
  }
  return out;
}

std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> ExportMachine::samples_by_pid()
    const {
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> out;
  for (std::size_t i = 0; i < samples_.size(); ++i) {
    out[samples_[i].pid].push_back(static_cast<std::uint32_t>(i));
  }
  return out;
}

void ExportMachine::replay_by_time(const std::function<void(const ReplayEvent&)>& callback,
                                   const std::function<bool(std::uint32_t pid)>& pid_filter) const {
  // Non-sample events: few, sorted by (time, kind). Samples: an index sorted
  // stably by time (skipped when already in order). Then a two-way merge.
  struct Other {
    std::uint64_t time;
    ReplayEvent::Kind kind;
    const ExportProcess* process;
    const ExportMapping* mapping;
  };
  std::vector<Other> others;
  for (const ExportProcess& p : processes()) {
    if (pid_filter && !pid_filter(p.pid)) continue;
    std::uint64_t start = p.start_time == kUnknownTime ? 0 : p.start_time;
    others.push_back(Other{start, ReplayEvent::Kind::kProcessStart, &p, nullptr});
    for (const ExportMapping& m : p.mappings()) {
      others.push_back(Other{std::max(m.time, start), ReplayEvent::Kind::kMapping, &p, &m});
    }
    if (p.exit_time != kUnknownTime) {
      others.push_back(Other{p.exit_time, ReplayEvent::Kind::kProcessExit, &p, nullptr});
    }
  }
  std::stable_sort(others.begin(), others.end(), [](const Other& a, const Other& b) {
    return std::tie(a.time, a.kind) < std::tie(b.time, b.kind);
  });

  std::vector<std::uint32_t> order;
  order.reserve(samples_.size());
  for (std::size_t i = 0; i < samples_.size(); ++i) {
    if (pid_filter && !pid_filter(samples_[i].pid)) continue;
    order.push_back(static_cast<std::uint32_t>(i));
  }
  auto by_time = [&](std::uint32_t a, std::uint32_t b) {
    return samples_[a].time < samples_[b].time;
  };
  if (!std::is_sorted(order.begin(), order.end(), by_time)) {
    std::stable_sort(order.begin(), order.end(), by_time);
  }

  std::size_t oi = 0;
  std::size_t si = 0;
  while (oi < others.size() || si < order.size()) {
    bool take_other = false;
    if (oi < others.size()) {
      if (si >= order.size()) {
        take_other = true;
      } else {
        const Other& o = others[oi];
        std::uint64_t st = samples_[order[si]].time;
        // At equal times starts and mappings come before samples, exits after.
        take_other = o.time < st || (o.time == st && o.kind != ReplayEvent::Kind::kProcessExit);
      }
    }
    ReplayEvent e;
    if (take_other) {
      const Other& o = others[oi++];
      e.kind = o.kind;
      e.time = o.time;
      e.process = o.process;
      e.mapping = o.mapping;
    } else {
      const ExportSample& s = samples_[order[si++]];
      e.kind = ReplayEvent::Kind::kSample;
      e.time = s.time;
      e.process = find_process(s.pid);
      e.sample = &s;
    }
    callback(e);
  }
}

std::size_t ExportMachine::memory_bytes() const {
  std::size_t bytes = strings_.memory_bytes() + callstacks_.memory_bytes() +
                      attributes_.memory_bytes() + samples_.capacity() * sizeof(ExportSample) +
                      records_.memory_bytes() + spans_.capacity() * sizeof(ExportSpan) +
                      processes_.memory_bytes();
  for (const ExportSymbolTable& t : symbol_tables_) {
    bytes += t.symbols.capacity() * sizeof(ExportSymbol) + t.lines.capacity() * sizeof(ExportLine);
  }
  return bytes;
}

}  // namespace one_collect
