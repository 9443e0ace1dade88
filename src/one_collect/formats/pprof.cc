#include "one_collect/formats/pprof.h"

#include <zlib.h>

#include <optional>
#include <unordered_map>
#include <vector>

#include <google/protobuf/arena.h>
#include "one_collect/export/flat_map.h"
#include "one_collect/formats/atomic_file.h"
#include "one_collect/formats/format_metadata.h"
#include "one_collect/formats/text_escape.h"
#include "one_collect/intern/interned_slices.h"
#include "one_collect/intern/interned_strings.h"
#include "profile.pb.h"

namespace one_collect {

namespace {

namespace pb = perftools::profiles;

// Builds the Profile: string table, mappings, functions and locations are
// deduplicated through interning tables whose dense ids are the pprof ids.
class PprofBuilder {
 public:
  PprofBuilder(const ExportMachine& machine, pb::Profile& profile)
      : m_(machine),
        p_(profile),
        mapping_keys_(256),
        mapping_by_machine_(256),
        function_ids_(4096),
        location_ids_(16384),
        stack_locations_(16384),
        sample_groups_(1024),
        sample_ids_(16384) {}

  std::int64_t str(std::string_view s) {
    auto id = strings_.intern(s);
    if (id >= string_count_) {
      p_.add_string_table(sanitize_utf8(s));
      ++string_count_;
    }
    return id;
  }

  // Machine mappings are many (one per process) and equal across processes;
  // each is keyed by its contents once, then found by its machine id.
  std::uint64_t mapping_id(const ExportMapping& mp) {
    if (const std::uint32_t* id = mapping_by_machine_.find(mp.id)) return *id;
    std::uint32_t id = mapping_id_by_contents(mp);
    mapping_by_machine_.insert(mp.id, id);
    return id;
  }

  std::uint32_t mapping_id_by_contents(const ExportMapping& mp) {
    std::uint64_t key[5] = {mp.start, mp.end, mp.file_offset, mp.filename, mp.build_id};
    std::uint32_t id = mapping_keys_.intern(std::span<const std::uint64_t>(key, 5));
    if (id > static_cast<std::uint32_t>(p_.mapping_size())) {
      pb::Mapping* out = p_.add_mapping();
      out->set_id(id);
      out->set_memory_start(mp.start);
      out->set_memory_limit(mp.end);
      out->set_file_offset(mp.kernel || mp.anon ? 0 : mp.file_offset);
      std::string_view name = m_.string(mp.filename);
      out->set_filename(str(mp.kernel ? std::string_view("[kernel.kallsyms]") : name));
      if (mp.build_id) out->set_build_id(str(m_.string(mp.build_id)));
      const ExportSymbolTable* table = m_.symbol_table(mp.symbols);
      out->set_has_functions(table && !table->symbols.empty());
      out->set_has_filenames(table && !table->symbols.empty());
      out->set_has_line_numbers(table && !table->lines.empty());
      out->set_has_inline_frames(table && table->has_inline_frames);
    }
    return id;
  }

  std::uint64_t function_id(StringId name, StringId source_file, std::uint32_t start_line) {
    auto next = static_cast<std::uint32_t>(p_.function_size()) + 1;
    std::uint32_t id =
        function_ids_.insert((std::uint64_t{name} << 32) | source_file, start_line, next);
    if (id == next) {
      pb::Function* f = p_.add_function();
      f->set_id(id);
      f->set_name(str(m_.string(name)));
      f->set_system_name(f->name());
      if (source_file) f->set_filename(str(m_.string(source_file)));
      f->set_start_line(start_line);
    }
    return id;
  }

  // The location of `ip` in pid (cached per pid and lookup address). Caller
  // frames (leaf = false) are return addresses: the location is at
  // frame_lookup_ip(ip, false) = ip - 1, inside the call instruction, so a
  // call ending its function is not credited to the next function.
  std::uint64_t location_id(FlatMap64& cache, std::uint32_t pid, std::uint64_t raw_ip,
                            std::uint64_t time, bool leaf) {
    std::uint64_t ip = frame_lookup_ip(raw_ip, leaf);
    if (ip != FlatMap64::kEmpty) {
      if (const std::uint32_t* id = cache.find(ip)) return *id;
    }
    // Processes share files: a location already made for the same mapping
    // and address (another process) is found before any symbol lookup.
    const ExportMapping* mp = m_.find_mapping(pid, ip, time);
    std::uint64_t mapping = mp ? mapping_id(*mp) : 0;
    auto next = static_cast<std::uint32_t>(p_.location_size()) + 1;
    std::uint32_t id = location_ids_.insert(mapping, ip, next);
    if (id == next) {
      // As ExportMachine::find_symbol, from the mapping found above.
      const ExportSymbolTable* symbols = mp ? m_.symbol_table(mp->symbols) : nullptr;
      const ExportSymbol* sym = symbols ? symbols->find(mp->symbol_address(ip)) : nullptr;
      pb::Location* loc = p_.add_location();
      loc->set_id(id);
      loc->set_mapping_id(mapping);
      loc->set_address(ip);
      if (sym) {
        // Inlined frames first (innermost first, as pprof expects), the
        // symbol's own function last.
        std::span<const ExportLine> lines;
        if (const ExportSymbolTable* table = mp ? m_.symbol_table(mp->symbols) : nullptr) {
          lines = table->find_lines(mp->symbol_address(ip));
        }
        std::uint32_t own_line = sym->line;
        for (const ExportLine& line : lines) {
          if (line.function == 0) {
            own_line = line.line;
            continue;
          }
          pb::Line* l = loc->add_line();
          l->set_function_id(function_id(line.function, line.source_file, line.function_line));
          l->set_line(line.line);
        }
        pb::Line* l = loc->add_line();
        l->set_function_id(function_id(sym->name, sym->source_file, sym->line));
        l->set_line(own_line);
      }
    }
    if (ip != FlatMap64::kEmpty) cache.insert(ip, id);
    return id;
  }

  // pprof shows the first mapping as the profile's "File:". Put first the
  // main executable of the process with the most samples of `kind`: its
  // file-backed mapping whose name starts with the process's comm (the
  // kernel's name is the executable's, cut to 15 bytes), preferring one
  // holding sampled code, else the lowest; nothing when none matches.
  void add_main_mapping(SampleKind kind) {
    std::unordered_map<std::uint32_t, std::uint64_t> per_pid;
    for (const ExportSample& s : m_.samples()) {
      if (s.kind == kind) ++per_pid[s.pid];
    }
    std::uint32_t best_pid = 0;
    std::uint64_t best = 0;
    for (const auto& [pid, n] : per_pid) {
      if (n > best || (n == best && pid < best_pid)) {
        best = n;
        best_pid = pid;
      }
    }
    const ExportProcess* p = best ? m_.find_process(best_pid) : nullptr;
    if (!p || !p->comm) return;
    std::string_view comm = m_.string(p->comm);
    const ExportMapping* chosen = nullptr;
    for (const ExportMapping& mp : p->mappings()) {
      if (mp.anon || mp.kernel) continue;
      std::string_view name = m_.string(mp.filename);
      auto slash = name.find_last_of('/');
      if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
      if (!name.starts_with(comm)) continue;
      if (!chosen || (mp.symbols != 0 && chosen->symbols == 0)) chosen = &mp;
    }
    if (chosen) mapping_id(*chosen);
  }

  Status build(SampleKind kind) {
    str("");
    MetricKind metric = m_.sample_metric(kind);
    std::string type_name(m_.sample_kind_name(kind));
    if (type_name == kOffCpuKind) type_name = "off-cpu";
    const char* unit = metric == MetricKind::kBytes   ? "bytes"
                       : metric == MetricKind::kCount ? "count"
                                                      : "nanoseconds";
    pb::ValueType* count_type = p_.add_sample_type();
    count_type->set_type(str("samples"));
    count_type->set_unit(str("count"));
    pb::ValueType* value_type = p_.add_sample_type();
    value_type->set_type(str(type_name));
    value_type->set_unit(str(unit));
    p_.mutable_period_type()->CopyFrom(*value_type);
    p_.set_default_sample_type(value_type->type());
    const CollectionMetadata& md = m_.metadata();
    if (kind == *m_.find_sample_kind(kCpuKind)) {
      p_.set_period(static_cast<std::int64_t>(md.sample_period_ns));
    }
    p_.set_time_nanos(static_cast<std::int64_t>(md.start_unix_ns));
    p_.set_duration_nanos(static_cast<std::int64_t>(md.duration_ns()));
    for (const auto& [key, value] : metadata_fields(m_)) p_.add_comment(str(key + ": " + value));

    // Aggregate per (pid, tid, leaf ip, callstack).
    struct Agg {
      std::uint64_t count;
      std::uint64_t value;
      std::uint32_t sample;  // a representative sample
    };
    std::vector<Agg> aggs;
    aggs.push_back(Agg{0, 0, 0});  // id 0: the empty key, never used
    const auto& samples = m_.samples();
    for (std::uint32_t i = 0; i < samples.size(); ++i) {
      const ExportSample& s = samples[i];
      if (s.kind != kind) continue;
      // Two flat probes: (thread, leaf) to a group, then (group, callstack).
      std::uint64_t thread = (std::uint64_t{s.pid} << 32) | s.tid;
      std::uint32_t group;
      if (thread == FlatMap128::kEmpty && s.leaf_ip == FlatMap128::kEmpty) {
        if (!reserved_group_) reserved_group_ = group_count_++;  // the map's reserved key
        group = *reserved_group_;
      } else {
        group = sample_groups_.insert(thread, s.leaf_ip, group_count_);
        if (group == group_count_) ++group_count_;
      }
      auto next = static_cast<std::uint32_t>(aggs.size());
      std::uint32_t id = sample_ids_.insert((std::uint64_t{group} << 32) | s.callstack, next);
      if (id == next) aggs.push_back(Agg{0, 0, i});
      aggs[id].count += 1;
      aggs[id].value += m_.sample_magnitude(s);
    }

    add_main_mapping(kind);
    std::int64_t pid_key = str("pid");
    std::int64_t tid_key = str("tid");
    std::int64_t comm_key = str("comm");
    p_.mutable_sample()->Reserve(static_cast<int>(aggs.size()));
    for (std::size_t a = 1; a < aggs.size(); ++a) {
      const ExportSample& s = samples[aggs[a].sample];
      pb::Sample* out = p_.add_sample();
      auto* ids = out->mutable_location_id();
      FlatMap64& cache = ip_cache_[s.pid];
      if (s.leaf_ip) ids->Add(location_id(cache, s.pid, s.leaf_ip, s.time, true));
      if (auto frames = m_.callstacks().get(s.callstack); frames && !frames->empty()) {
        // A (process, stack) recurs once per thread and leaf: its locations
        // are looked up once. Same ids as per frame: locations are cached
        // per (process, address) anyway.
        std::uint64_t key = (std::uint64_t{s.pid} << 32) | s.callstack;
        auto start = static_cast<std::uint32_t>(stack_location_ids_.size());
        if (const std::uint32_t* at = stack_locations_.find(key)) {
          start = *at;
        } else {
          for (std::uint64_t ip : *frames) {
            stack_location_ids_.push_back(location_id(cache, s.pid, ip, s.time, false));
          }
          if (key != FlatMap64::kEmpty) stack_locations_.insert(key, start);
        }
        ids->Add(stack_location_ids_.begin() + start,
                 stack_location_ids_.begin() + start + frames->size());
      }
      out->add_value(static_cast<std::int64_t>(aggs[a].count));
      out->add_value(static_cast<std::int64_t>(aggs[a].value));
      pb::Label* l = out->add_label();
      l->set_key(pid_key);
      l->set_num(s.pid);
      l = out->add_label();
      l->set_key(tid_key);
      l->set_num(s.tid);
      if (std::int64_t comm = comm_string(s.pid)) {
        l = out->add_label();
        l->set_key(comm_key);
        l->set_str(comm);
      }
    }
    return ok_status();
  }

  // The string id of the process's comm, 0 when it has none (cached per pid).
  std::int64_t comm_string(std::uint32_t pid) {
    if (const std::uint32_t* id = comm_strings_.find(pid)) return *id;
    const ExportProcess* p = m_.find_process(pid);
    auto id = static_cast<std::uint32_t>(p && p->comm ? str(m_.string(p->comm)) : 0);
    comm_strings_.insert(pid, id);
    return id;
  }

 private:
  const ExportMachine& m_;
  pb::Profile& p_;
  InternedStrings strings_{4096};
  std::uint32_t string_count_ = 0;
  InternedSlices<std::uint64_t> mapping_keys_;
  FlatMap64 mapping_by_machine_;  // machine mapping id -> pprof mapping id
  FlatMap128 function_ids_;       // (name << 32 | file, start line) -> function id
  FlatMap128 location_ids_;       // (mapping id, address) -> location id
  FlatMap64 stack_locations_;     // pid << 32 | callstack -> start in stack_location_ids_
  std::vector<std::uint64_t> stack_location_ids_;
  FlatMap128 sample_groups_;  // (pid << 32 | tid, leaf ip) -> group
  FlatMap64 sample_ids_;      // group << 32 | callstack -> aggregate
  std::uint32_t group_count_ = 0;
  std::optional<std::uint32_t> reserved_group_;
  FlatMap64 comm_strings_;  // pid -> comm string id
  std::unordered_map<std::uint32_t, FlatMap64> ip_cache_;
};

}  // namespace

Result<std::string> pprof_profile_bytes(const ExportMachine& machine, const PprofOptions& options) {
  if (options.kind >= machine.sample_kinds().size()) {
    return error(ErrorCode::kInvalidArgument,
                 "pprof: unknown sample kind " + std::to_string(options.kind));
  }
  // One arena for the whole message: no per-field malloc/free.
  google::protobuf::Arena arena;
  pb::Profile* profile = google::protobuf::Arena::CreateMessage<pb::Profile>(&arena);
  PprofBuilder builder(machine, *profile);
  OC_RETURN_IF_ERROR(builder.build(options.kind));
  std::string bytes;
  if (!profile->SerializeToString(&bytes)) {
    return error(ErrorCode::kInternal, "pprof: protobuf serialization failed");
  }
  return bytes;
}

Status write_pprof(const ExportMachine& machine, const std::string& path,
                   const PprofOptions& options) {
  AtomicFile file;
  OC_RETURN_IF_ERROR(file.open(path));
  OC_ASSIGN_OR_RETURN(std::string bytes, pprof_profile_bytes(machine, options));

  if (bytes.size() > 0xFFFFFFFFu) return error(ErrorCode::kOutOfRange, "pprof: profile over 4 GiB");
  z_stream z{};
  // windowBits 15 + 16: a gzip wrapper, as pprof expects. Level 1: several
  // times faster than the default for a few percent more bytes.
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return error(ErrorCode::kInternal, "pprof: zlib deflateInit2 failed");
  }
  std::string chunk(1 << 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(bytes.data());
  z.avail_in = static_cast<uInt>(bytes.size());
  int rc = Z_OK;
  do {
    z.next_out = reinterpret_cast<Bytef*>(chunk.data());
    z.avail_out = static_cast<uInt>(chunk.size());
    rc = deflate(&z, Z_FINISH);
    if (rc == Z_STREAM_ERROR) break;
    file.write(chunk.data(), chunk.size() - z.avail_out);
  } while (rc != Z_STREAM_END);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return error(ErrorCode::kInternal, "pprof: gzip compression failed");
  return file.commit();
}

}  // namespace one_collect
