#include "one_collect/export/export_machine.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <tuple>
#include <unordered_set>
#include <utility>

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

bool is_anonymous_export_mapping_name(std::string_view name) {
  return name.empty() || name.front() == '[' || name.starts_with("/memfd:") ||
         name.starts_with("//anon") || name.starts_with("anon_inode:");
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
      lines.begin(), lines.end(), ExportLine{address, 0, 0, 0},
      [](const ExportLine& a, const ExportLine& b) { return a.address < b.address; });
  return std::span<const ExportLine>(lines.data() + (lo - lines.begin()),
                                     static_cast<std::size_t>(hi - lo));
}

const ExportLine* ExportSymbolTable::find_line(std::uint64_t address) const {
  auto found = find_lines(address);
  return found.empty() ? nullptr : &found.back();
}

// --------------------------------------------------------------- ExportProcess

void ExportProcess::insert_mapping(const ExportMapping& mapping) {
  auto it = std::upper_bound(
      mappings_.begin(), mappings_.end(), mapping,
      [](const ExportMapping& a, const ExportMapping& b) { return a.start < b.start; });
  auto index = static_cast<std::size_t>(it - mappings_.begin());
  mappings_.insert(it, mapping);
  max_end_.resize(mappings_.size());
  for (std::size_t i = index; i < mappings_.size(); ++i) {
    std::uint64_t prev = i == 0 ? 0 : max_end_[i - 1];
    max_end_[i] = std::max(prev, mappings_[i].end);
  }
}

const ExportMapping* ExportProcess::find_mapping(std::uint64_t ip, std::uint64_t time) const {
  auto it = std::upper_bound(mappings_.begin(), mappings_.end(), ip,
                             [](std::uint64_t a, const ExportMapping& m) { return a < m.start; });
  const ExportMapping* newest_before = nullptr;
  const ExportMapping* oldest = nullptr;
  // Walk back over mappings starting at or below ip; stop once no earlier
  // mapping can reach ip.
  for (auto i = static_cast<std::size_t>(it - mappings_.begin()); i > 0; --i) {
    if (max_end_[i - 1] <= ip) break;
    const ExportMapping& m = mappings_[i - 1];
    if (!m.contains(ip)) continue;
    if (m.time <= time && (!newest_before || m.time >= newest_before->time)) newest_before = &m;
    if (!oldest || m.time < oldest->time) oldest = &m;
  }
  return newest_before ? newest_before : oldest;
}

// --------------------------------------------------------------- ExportMachine

ExportMachine::ExportMachine() : callstacks_(4096), attributes_(64) {
  sample_kind(kCpuKind, MetricKind::kDuration);
  off_cpu_kind_ = sample_kind(kOffCpuKind, MetricKind::kDuration);
  kernel_mapping_.start = kKernelAddressStart;
  kernel_mapping_.end = std::numeric_limits<std::uint64_t>::max();
  kernel_mapping_.filename = strings_.intern("[kernel]");
  kernel_mapping_.kernel = true;
  kernel_mapping_.id = next_mapping_id_++;
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

ExportProcess& ExportMachine::process(std::uint32_t pid) {
  auto [it, added] = process_index_.emplace(pid, static_cast<std::uint32_t>(processes_.size()));
  if (added) {
    processes_.emplace_back();
    processes_.back().pid = pid;
    processes_.back().ns_pid = pid;
  }
  return processes_[it->second];
}

const ExportProcess* ExportMachine::find_process(std::uint32_t pid) const {
  auto it = process_index_.find(pid);
  return it == process_index_.end() ? nullptr : &processes_[it->second];
}

ExportProcess* ExportMachine::find_process(std::uint32_t pid) {
  auto it = process_index_.find(pid);
  return it == process_index_.end() ? nullptr : &processes_[it->second];
}

void ExportMachine::set_comm(std::uint32_t pid, std::string_view comm) {
  StringId id = strings_.intern(comm);
  process(pid).comm = id;
}

void ExportMachine::add_process_start(std::uint32_t pid, std::uint64_t time,
                                      std::string_view comm) {
  ExportProcess& p = process(pid);
  p.start_time = time;
  if (!comm.empty()) p.comm = strings_.intern(comm);
}

void ExportMachine::add_process_exit(std::uint32_t pid, std::uint64_t time) {
  process(pid).exit_time = time;
}

void ExportMachine::add_fork(std::uint32_t parent_pid, std::uint32_t child_pid,
                             std::uint64_t time) {
  if (parent_pid == child_pid) return;
  process(parent_pid);  // both exist; the references below stay valid
  ExportProcess& child = process(child_pid);
  const ExportProcess& parent = *find_process(parent_pid);
  child.start_time = time;
  child.comm = parent.comm;
  child.cmdline = parent.cmdline;
  child.anon_symbols = parent.anon_symbols;
  for (ExportMapping m : parent.mappings_) {
    m.id = next_mapping_id_++;
    child.insert_mapping(m);
  }
}

std::uint32_t ExportMachine::add_mapping(std::uint32_t pid, std::uint64_t time, std::uint64_t start,
                                         std::uint64_t end, std::uint64_t file_offset,
                                         std::string_view filename, std::string_view build_id) {
  if (end <= start) return 0;
  ExportMapping m;
  m.start = start;
  m.end = end;
  m.file_offset = file_offset;
  m.time = time;
  m.filename = strings_.intern(filename);
  m.build_id = build_id.empty() ? 0 : strings_.intern(build_id);
  m.anon = is_anonymous_export_mapping_name(filename);
  m.kernel = start >= kKernelAddressStart;
  m.id = next_mapping_id_++;
  process(pid).insert_mapping(m);
  return m.id;
}

const ExportMapping* ExportMachine::find_mapping(std::uint32_t pid, std::uint64_t ip,
                                                 std::uint64_t time) const {
  if (ip >= kKernelAddressStart) {
    // Kernel modules may be registered as mappings of pid 0 or the process;
    // fall back to the machine-wide kernel mapping.
    if (const ExportProcess* p = find_process(pid)) {
      if (const ExportMapping* m = p->find_mapping(ip, time)) return m;
    }
    return &kernel_mapping_;
  }
  const ExportProcess* p = find_process(pid);
  return p ? p->find_mapping(ip, time) : nullptr;
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
  if (tid == 0) return;  // the idle task never waits
  pending_switch_[tid] = PendingSwitch{time, leaf_ip, pid, callstacks_.intern(frames), cpu};
}

bool ExportMachine::on_switch_in(std::uint32_t tid, std::uint64_t time) {
  auto it = pending_switch_.find(tid);
  if (it == pending_switch_.end()) return false;
  PendingSwitch p = it->second;
  pending_switch_.erase(it);
  if (time < p.time) return false;  // out-of-order records: no honest duration
  ExportSample s;
  s.time = p.time;
  s.value = time - p.time;
  s.leaf_ip = p.leaf_ip;
  s.pid = p.pid;
  s.tid = tid;
  s.callstack = p.callstack;
  s.cpu = p.cpu;
  s.kind = off_cpu_kind_;
  return add_sample(s);
}

std::uint32_t ExportMachine::record_type(ExportRecordType type) {
  auto it = record_type_by_name_.find(type.name);
  if (it != record_type_by_name_.end()) return it->second;
  auto index = static_cast<std::uint32_t>(record_types_.size());
  record_type_by_name_.emplace(type.name, index);
  record_types_.push_back(std::move(type));
  return index;
}

std::uint32_t ExportMachine::add_record(std::uint32_t type, std::span<const std::uint8_t> bytes) {
  if (type >= record_types_.size() || bytes.size() > std::numeric_limits<std::uint32_t>::max()) {
    return 0;
  }
  records_.push_back(
      ExportRecord{record_arena_.size(), static_cast<std::uint32_t>(bytes.size()), type});
  record_arena_.insert(record_arena_.end(), bytes.begin(), bytes.end());
  return static_cast<std::uint32_t>(records_.size());
}

const ExportRecord* ExportMachine::record(std::uint32_t id) const {
  if (id == 0 || id > records_.size()) return nullptr;
  return &records_[id - 1];
}

std::span<const std::uint8_t> ExportMachine::record_data(std::uint32_t id) const {
  const ExportRecord* r = record(id);
  if (!r) return {};
  return std::span<const std::uint8_t>(record_arena_.data() + r->offset, r->length);
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

// Where one sampled address goes for resolution.
struct FileKey {
  StringId filename;
  StringId build_id;
  bool operator<(const FileKey& o) const {
    return std::tie(filename, build_id) < std::tie(o.filename, o.build_id);
  }
};

struct PendingQuery {
  std::uint32_t pid = 0;
  std::uint32_t ns_pid = 0;
  std::vector<std::uint64_t> addresses;
};

void sort_unique(std::vector<std::uint64_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

Status ExportMachine::capture_and_resolve_symbols(SymbolResolver& resolver,
                                                  std::vector<std::string>* errors) {
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
      PendingQuery& q = files[FileKey{m->filename, m->build_id}];
      if (q.addresses.empty()) {
        q.pid = pid;
        q.ns_pid = find_process(pid) ? find_process(pid)->ns_pid : pid;
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
                     l.function.empty() ? 0 : strings_.intern(l.function)});
    }
    return add_symbol_table(std::move(table));
  };

  std::map<FileKey, std::uint32_t> file_tables;
  for (auto& [key, pending] : files) {
    SymbolQuery q;
    q.kind = SymbolQuery::Kind::kFile;
    q.pid = pending.pid;
    q.ns_pid = pending.ns_pid;
    q.filename = string(key.filename);
    q.build_id = string(key.build_id);
    std::string name(q.filename);
    StringId build_id = key.build_id;
    if (build_id == 0) {
      if (auto found = resolver.build_id(q)) {
        build_id = strings_.intern(*found);
        q.filename = string(key.filename);  // views stay valid: re-read after intern
        q.build_id = string(build_id);
      }
    }
    std::uint32_t table = resolve(q, pending, name);
    file_tables[key] = table;
    if (build_id != key.build_id) {
      // Record the discovered build id on every mapping of that file.
      for (ExportProcess& p : processes_) {
        for (ExportMapping& m : p.mappings_) {
          if (m.filename == key.filename && m.build_id == 0) m.build_id = build_id;
        }
      }
      file_tables[FileKey{key.filename, build_id}] = table;
    }
  }
  if (!kernel.addresses.empty()) {
    SymbolQuery q;
    q.kind = SymbolQuery::Kind::kKernel;
    kernel_mapping_.symbols = resolve(q, kernel, "kernel");
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

  for (ExportProcess& p : processes_) {
    for (ExportMapping& m : p.mappings_) {
      if (m.kernel) {
        m.symbols = kernel_mapping_.symbols;
      } else if (m.anon) {
        m.symbols = p.anon_symbols;
      } else {
        auto it = file_tables.find(FileKey{m.filename, m.build_id});
        if (it != file_tables.end()) m.symbols = it->second;
      }
    }
  }
  return ok_status();
}

std::vector<ProcessGroup> ExportMachine::split_processes_by_comm() const {
  std::map<std::string_view, ProcessGroup> groups;
  for (const ExportProcess& p : processes_) {
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
  for (const ExportProcess& p : processes_) {
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
                      records_.capacity() * sizeof(ExportRecord) + record_arena_.capacity() +
                      spans_.capacity() * sizeof(ExportSpan) +
                      processes_.capacity() * sizeof(ExportProcess);
  for (const ExportProcess& p : processes_) {
    bytes += p.mappings_.capacity() * (sizeof(ExportMapping) + sizeof(std::uint64_t));
  }
  for (const ExportSymbolTable& t : symbol_tables_) {
    bytes += t.symbols.capacity() * sizeof(ExportSymbol) + t.lines.capacity() * sizeof(ExportLine);
  }
  return bytes;
}

}  // namespace one_collect
