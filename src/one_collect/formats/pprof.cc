#include "one_collect/formats/pprof.h"

#include <zlib.h>

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
        function_keys_(4096),
        location_keys_(16384),
        sample_keys_(16384) {}

  std::int64_t str(std::string_view s) {
    auto id = strings_.intern(s);
    if (id >= string_count_) {
      p_.add_string_table(sanitize_utf8(s));
      ++string_count_;
    }
    return id;
  }

  std::uint64_t mapping_id(const ExportMapping& mp) {
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
    std::uint64_t key[3] = {name, source_file, start_line};
    std::uint32_t id = function_keys_.intern(std::span<const std::uint64_t>(key, 3));
    if (id > static_cast<std::uint32_t>(p_.function_size())) {
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
  std::uint64_t location_id(std::uint32_t pid, std::uint64_t raw_ip, std::uint64_t time,
                            bool leaf) {
    std::uint64_t ip = frame_lookup_ip(raw_ip, leaf);
    FlatMap64& cache = ip_cache_[pid];
    if (ip != FlatMap64::kEmpty) {
      if (const std::uint32_t* id = cache.find(ip)) return *id;
    }
    const ExportMapping* mp = nullptr;
    const ExportSymbol* sym = m_.find_symbol(pid, ip, time, &mp);
    std::uint64_t mapping = mp ? mapping_id(*mp) : 0;
    std::uint64_t key[2] = {mapping, ip};
    std::uint32_t id = location_keys_.intern(std::span<const std::uint64_t>(key, 2));
    if (id > static_cast<std::uint32_t>(p_.location_size())) {
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
          l->set_function_id(function_id(line.function, line.source_file, 0));
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
      std::uint64_t key[3] = {(std::uint64_t{s.pid} << 32) | s.tid, s.leaf_ip, s.callstack};
      std::uint32_t id = sample_keys_.intern(std::span<const std::uint64_t>(key, 3));
      if (id >= aggs.size()) aggs.push_back(Agg{0, 0, i});
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
      if (s.leaf_ip) ids->Add(location_id(s.pid, s.leaf_ip, s.time, true));
      if (auto frames = m_.callstacks().get(s.callstack)) {
        for (std::uint64_t ip : *frames) ids->Add(location_id(s.pid, ip, s.time, false));
      }
      out->add_value(static_cast<std::int64_t>(aggs[a].count));
      out->add_value(static_cast<std::int64_t>(aggs[a].value));
      pb::Label* l = out->add_label();
      l->set_key(pid_key);
      l->set_num(s.pid);
      l = out->add_label();
      l->set_key(tid_key);
      l->set_num(s.tid);
      const ExportProcess* p = m_.find_process(s.pid);
      if (p && p->comm) {
        l = out->add_label();
        l->set_key(comm_key);
        l->set_str(str(m_.string(p->comm)));
      }
    }
    return ok_status();
  }

 private:
  const ExportMachine& m_;
  pb::Profile& p_;
  InternedStrings strings_{4096};
  std::uint32_t string_count_ = 0;
  InternedSlices<std::uint64_t> mapping_keys_;
  InternedSlices<std::uint64_t> function_keys_;
  InternedSlices<std::uint64_t> location_keys_;
  InternedSlices<std::uint64_t> sample_keys_;
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
