#include "one_collect/formats/nettrace/nettrace_export.h"

#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "one_collect/core/strings.h"
#include "one_collect/formats/nettrace/universal_nettrace.h"

namespace one_collect {
namespace {

using nettrace::Label;
using nettrace::UniversalNetTrace;

// A Universal.System event to replay, ordered by time then `order`.
struct SystemItem {
  std::uint64_t time;
  std::uint32_t order;  // creation order: start < mappings < exit of a process
  std::uint8_t kind;    // 0 start, 1 mapping, 2 kernel mapping, 3 exit
  const ExportProcess* process;
  const ExportMapping* mapping;
};

class Exporter {
 public:
  Exporter(const ExportMachine& m, const PidPredicate& predicate) : m_(m), predicate_(predicate) {}

  nettrace::NetTraceOptions options(const nettrace::NetTraceOptions* base) const {
    nettrace::NetTraceOptions o = base ? *base : nettrace::NetTraceOptions{};
    if (!base) {
      // Stacks live only until the next sequence point, so segments large
      // enough to hold a profile's working set of stacks keep files small
      // (1M samples over 100k stacks: 27 MiB instead of 140 MiB with 4 MiB
      // segments); the machine holding the samples is far larger anyway.
      o.segment_event_bytes = 16u << 20;
      o.segment_stack_bytes = 32u << 20;
    }
    const CollectionMetadata& md = m_.metadata();
    o.sync_time = nettrace::SyncTime::from_unix_ns(md.start_unix_ns);
    o.sync_ticks = md.start_time;
    o.tick_frequency = 1'000'000'000;
    o.pointer_size = 8;
    auto kv = [&](std::string key, std::string value) {
      o.key_values.emplace_back(std::move(key), std::move(value));
    };
    if (md.cpu_count) kv("HardwareThreadCount", std::to_string(md.cpu_count));
    if (md.sample_frequency_hz)
      kv("ExpectedCPUSamplingRate", std::to_string(md.sample_frequency_hz));
    if (md.sample_period_ns) kv("SamplePeriodNs", std::to_string(md.sample_period_ns));
    kv("DurationNs", std::to_string(md.duration_ns()));
    if (!md.host.empty()) kv("Host", md.host);
    if (!md.kernel.empty()) kv("Kernel", md.kernel);
    if (!md.command_line.empty()) kv("CommandLine", md.command_line);
    long page = ::sysconf(_SC_PAGESIZE);
    kv("SystemPageSize", std::to_string(page > 0 ? page : 4096));
    kv("LostEvents", std::to_string(m_.total_lost()));
    for (const LostEvents& lost : m_.lost()) {
      kv("LostEvents." + std::string(m_.sample_kind_name(lost.kind)), std::to_string(lost.count));
    }
    return o;
  }

  Status run(UniversalNetTrace& nt, NetTraceExportStats* stats) {
    const std::uint64_t sync = m_.metadata().start_time;
    auto clamp = [&](std::uint64_t t) { return t == kUnknownTime || t < sync ? sync : t; };

    // Samples in the order of their nettrace timestamps.
    std::optional<SampleKind> off_cpu = m_.find_sample_kind(kOffCpuKind);
    std::optional<SampleKind> cpu = m_.find_sample_kind(kCpuKind);
    const auto& samples = m_.samples();
    std::vector<std::pair<std::uint64_t, std::uint32_t>> order;
    order.reserve(samples.size());
    std::unordered_map<std::uint32_t, bool> pid_selected;
    auto selected = [&](std::uint32_t pid) {
      if (!predicate_) return true;
      auto [it, added] = pid_selected.try_emplace(pid, false);
      if (added) it->second = predicate_(pid);
      return it->second;
    };
    std::unordered_map<std::uint32_t, bool> pid_sampled;
    std::uint32_t last_pid = ~0u;
    bool last_sel = false;
    bool sorted = true;
    for (std::uint32_t i = 0; i < samples.size(); ++i) {
      const ExportSample& s = samples[i];
      if (s.pid != last_pid) {
        last_pid = s.pid;
        last_sel = selected(s.pid);
        if (last_sel) pid_sampled[s.pid] = true;
      }
      if (!last_sel) continue;
      std::uint64_t t = s.time;
      if (off_cpu && s.kind == *off_cpu) t += m_.sample_magnitude(s);
      t = clamp(t);
      if (!order.empty() && t < order.back().first) sorted = false;
      order.emplace_back(t, i);
    }
    if (!sorted)
      std::stable_sort(order.begin(), order.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });

    // Process and mapping events.
    std::vector<SystemItem> items;
    std::uint32_t seq = 0;
    const ExportMapping& kmap = m_.kernel_mapping();
    for (const ExportProcess& p : m_.processes()) {
      if (!selected(p.pid)) continue;
      items.push_back({clamp(p.start_time), seq++, 0, &p, nullptr});
      for (const ExportMapping& mapping : p.mappings()) {
        items.push_back({clamp(mapping.time), seq++, 1, &p, &mapping});
      }
      if (kmap.symbols != 0 && pid_sampled.count(p.pid)) {
        items.push_back({clamp(p.start_time), seq++, 2, &p, &kmap});
      }
      if (p.exit_time != kUnknownTime) items.push_back({clamp(p.exit_time), seq++, 3, &p, nullptr});
    }
    std::stable_sort(items.begin(), items.end(), [](const SystemItem& a, const SystemItem& b) {
      return a.time != b.time ? a.time < b.time : a.order < b.order;
    });

    // Sample kinds -> metadata ids, defined lazily.
    std::vector<std::uint32_t> kind_meta(m_.sample_kinds().size(), 0);
    std::vector<std::uint64_t> ips;
    std::vector<Label> labels;

    std::size_t si = 0;
    for (std::size_t ii = 0; ii <= items.size(); ++ii) {
      std::uint64_t limit = ii < items.size() ? items[ii].time : ~0ULL;
      // Samples strictly before the next system event (system events first on ties).
      for (; si < order.size() && order[si].first < limit; ++si) {
        const ExportSample& s = samples[order[si].second];
        if (s.kind >= kind_meta.size()) kind_meta.resize(s.kind + 1, 0);
        if (kind_meta[s.kind] == 0) {
          std::string_view name = m_.sample_kind_name(s.kind);
          if (off_cpu && s.kind == *off_cpu) name = "cswitch";
          if (name.empty()) name = "unknown";
          OC_ASSIGN_OR_RETURN(kind_meta[s.kind], nt.sample_kind(name));
        }
        std::uint64_t value = (cpu && s.kind == *cpu) ? 1 : m_.sample_magnitude(s);
        ips.clear();
        if (s.leaf_ip != 0) ips.push_back(s.leaf_ip);
        if (s.callstack != 0) {
          if (auto frames = m_.callstacks().get(s.callstack)) {
            // Caller frames go out at return address - 1 (frame_lookup_ip):
            // readers name them with the symbols we resolved for that address.
            for (std::uint64_t ip : *frames) ips.push_back(frame_lookup_ip(ip, false));
          }
        }
        labels.clear();
        if (s.attributes != 0) {
          for (const ExportAttribute& a : m_.attribute_set(s.attributes)) {
            Label l;
            l.key = m_.string(a.key);
            if (a.kind == AttributeKind::kLabel) {
              l.kind = Label::Kind::kString;
              l.text = m_.string(static_cast<StringId>(a.value));
            } else {
              l.kind = Label::Kind::kVarInt;
              l.number = static_cast<std::int64_t>(a.value);
            }
            labels.push_back(l);
          }
        }
        OC_RETURN_IF_ERROR(
            nt.sample(kind_meta[s.kind], order[si].first, s.pid, s.tid, s.cpu, value, ips, labels));
        ++samples_written_;
      }
      if (ii == items.size()) break;
      OC_RETURN_IF_ERROR(system_event(nt, items[ii]));
    }
    if (stats) {
      stats->events = nt.writer().events_written();
      stats->samples = samples_written_;
    }
    return ok_status();
  }

 private:
  Status system_event(UniversalNetTrace& nt, const SystemItem& item) {
    const ExportProcess& p = *item.process;
    switch (item.kind) {
      case 0: {
        std::string_view comm = m_.string(p.comm);
        if (p.start_time == kUnknownTime || p.start_time < m_.metadata().start_time) {
          return nt.existing_process(item.time, p.pid, p.ns_pid ? p.ns_pid : p.pid, comm);
        }
        return nt.process_create(item.time, p.pid, p.ns_pid ? p.ns_pid : p.pid, comm);
      }
      case 3:
        return nt.process_exit(item.time, p.pid);
      default:
        return mapping_event(nt, item.time, p.pid, *item.mapping, item.kind == 2);
    }
  }

  Status mapping_event(UniversalNetTrace& nt, std::uint64_t time, std::uint32_t pid,
                       const ExportMapping& mapping, bool shared_kernel) {
    std::uint64_t metadata_id = 0;
    if (mapping.build_id != 0) {
      auto [it, added] = build_ids_.try_emplace(mapping.build_id, 0);
      if (added) {
        it->second = build_ids_.size();
        std::string json = R"({"type":"ELF","build_id":)";
        append_json_string(json, m_.string(mapping.build_id));
        json += '}';
        OC_RETURN_IF_ERROR(nt.mapping_metadata(time, pid, it->second, json, "{}"));
      }
      metadata_id = it->second;
    }
    OC_RETURN_IF_ERROR(nt.mapping(time, pid, mapping.id, mapping.start, mapping.end,
                                  mapping.file_offset, m_.string(mapping.filename), metadata_id));
    if (mapping.symbols == 0) return ok_status();
    if (shared_kernel) {
      // One mapping id across processes: TraceEvent applies its symbols to
      // every process that maps it, so they go out once.
      if (kernel_symbols_written_) return ok_status();
      kernel_symbols_written_ = true;
    }
    const ExportSymbolTable* table = m_.symbol_table(mapping.symbols);
    if (!table) return ok_status();
    const bool file_backed = !mapping.anon && !mapping.kernel;
    const std::uint64_t size = mapping.end - mapping.start;
    for (const ExportSymbol& sym : table->symbols) {
      std::uint64_t start, end;  // virtual, [start, end)
      if (file_backed) {
        // File offsets inside [file_offset, file_offset + size) map to the mapping.
        std::uint64_t lo = std::max(sym.start, mapping.file_offset);
        std::uint64_t hi = std::min(sym.end, mapping.file_offset + size);
        if (lo >= hi) continue;
        start = lo - mapping.file_offset + mapping.start;
        end = hi - mapping.file_offset + mapping.start;
      } else {
        start = std::max(sym.start, mapping.start);
        end = std::min(sym.end, mapping.end);
        if (start >= end) continue;
      }
      OC_RETURN_IF_ERROR(
          nt.symbol(time, pid, ++symbol_ids_, mapping.id, start, end - 1, m_.string(sym.name)));
    }
    return ok_status();
  }

  const ExportMachine& m_;
  const PidPredicate& predicate_;
  std::unordered_map<StringId, std::uint64_t> build_ids_;
  std::uint64_t symbol_ids_ = 0;
  bool kernel_symbols_written_ = false;
  std::uint64_t samples_written_ = 0;
};

}  // namespace

Status write_nettrace(const ExportMachine& machine, std::unique_ptr<nettrace::NetTraceSink> sink,
                      const PidPredicate& predicate, NetTraceExportStats* stats,
                      const nettrace::NetTraceOptions* base_options) {
  Exporter exporter(machine, predicate);
  OC_ASSIGN_OR_RETURN(auto writer, nettrace::NetTraceWriter::create(
                                       std::move(sink), exporter.options(base_options)));
  OC_ASSIGN_OR_RETURN(auto nt, UniversalNetTrace::create(std::move(writer)));
  OC_RETURN_IF_ERROR(exporter.run(*nt, stats));
  OC_RETURN_IF_ERROR(nt->finish());
  if (stats) stats->bytes = nt->writer().bytes_written();
  return ok_status();
}

Status write_nettrace(const ExportMachine& machine, const std::string& path,
                      const PidPredicate& predicate, NetTraceExportStats* stats) {
  OC_ASSIGN_OR_RETURN(auto sink, nettrace::TempFileSink::open(path));
  return write_nettrace(machine, std::move(sink), predicate, stats);
}

}  // namespace one_collect
