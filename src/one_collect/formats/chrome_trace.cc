#include "one_collect/formats/chrome_trace.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "one_collect/export/export_graph.h"
#include "one_collect/formats/atomic_file.h"
#include "one_collect/formats/format_metadata.h"
#include "one_collect/formats/text_escape.h"

namespace one_collect {

namespace {

struct Slice {
  std::uint64_t time;
  std::uint64_t duration;  // 0: instant
  std::uint32_t sample;    // index in machine.samples()
  std::uint32_t node;
};

void build(const ExportMachine& machine, std::string& out, AtomicFile* file) {
  auto spill = [&] {
    if (file && out.size() > (1 << 16)) {
      file->write(out);
      out.clear();
    }
  };
  const auto& samples = machine.samples();
  const SampleKind cpu = *machine.find_sample_kind(kCpuKind);
  const SampleKind off_cpu = *machine.find_sample_kind(kOffCpuKind);
  std::uint64_t period = machine.metadata().sample_period_ns;
  if (period == 0) period = 1000000;

  ExportGraph graph(machine);
  // Time zero: the collection start, or the first sample when that is
  // earlier or unknown.
  std::uint64_t origin =
      machine.metadata().start_time ? machine.metadata().start_time : ~std::uint64_t{0};
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<Slice>> threads;
  for (std::uint32_t i = 0; i < samples.size(); ++i) {
    const ExportSample& s = samples[i];
    origin = std::min(origin, s.time);
    std::uint64_t duration = s.kind == cpu       ? std::max<std::uint64_t>(s.value, 1)
                             : s.kind == off_cpu ? std::max<std::uint64_t>(s.value, 1)
                                                 : 0;
    if (s.kind == cpu && s.value == 0) duration = period;
    threads[{s.pid, s.tid}].push_back(Slice{s.time, duration, i, graph.node_for(s)});
  }
  if (samples.empty()) origin = machine.metadata().start_time;
  if (origin == ~std::uint64_t{0}) origin = 0;

  auto append_ts = [&](std::uint64_t t) {
    append_fixed(out, t >= origin ? t - origin : 0, 1000, 3);
  };

  out += "{\"displayTimeUnit\":\"ns\",\"otherData\":{";
  bool first = true;
  for (const auto& [key, value] : metadata_fields(machine)) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, key);
    out.push_back(':');
    append_json_string(out, value);
  }
  out += "},\"traceEvents\":[";
  first = true;
  auto begin_event = [&] {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('\n');
  };

  // Track names.
  std::set<std::uint32_t> named_pids;
  for (const auto& [key, slices] : threads) {
    const ExportProcess* p = machine.find_process(key.first);
    std::string_view comm = p ? machine.string(p->comm) : std::string_view();
    if (named_pids.insert(key.first).second) {
      begin_event();
      out += "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":";
      append_decimal(out, key.first);
      out += ",\"tid\":0,\"args\":{\"name\":";
      append_json_string(out, comm.empty() ? std::string_view("[unknown]") : comm);
      out += "}}";
    }
    begin_event();
    out += "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":";
    append_decimal(out, key.first);
    out += ",\"tid\":";
    append_decimal(out, key.second);
    out += ",\"args\":{\"name\":";
    append_json_string(out, std::string(comm) + " " + std::to_string(key.second));
    out += "}}";
  }

  // Leaf names, once per frame.
  const auto& nodes = graph.nodes();
  std::vector<std::string> frame_json(graph.frames().size());
  for (std::uint32_t f = 0; f < frame_json.size(); ++f) {
    append_json_string(frame_json[f], graph.frame_name(f));
  }

  for (auto& [key, slices] : threads) {
    std::stable_sort(slices.begin(), slices.end(),
                     [](const Slice& a, const Slice& b) { return a.time < b.time; });
    for (std::size_t i = 0; i < slices.size(); ++i) {
      const Slice& sl = slices[i];
      const ExportSample& s = samples[sl.sample];
      begin_event();
      out += "{\"ph\":\"";
      out += sl.duration ? "X" : "i";
      out += "\",\"cat\":";
      append_json_string(out, machine.sample_kind_name(s.kind));
      out += ",\"name\":";
      if (s.kind == off_cpu) {
        out += "\"off-cpu\"";
      } else {
        out += frame_json[nodes[sl.node].frame];
      }
      out += ",\"pid\":";
      append_decimal(out, key.first);
      out += ",\"tid\":";
      append_decimal(out, key.second);
      out += ",\"ts\":";
      append_ts(sl.time);
      if (sl.duration) {
        std::uint64_t d = sl.duration;
        if (i + 1 < slices.size() && slices[i + 1].time >= sl.time) {
          d = std::min(d, slices[i + 1].time - sl.time);
        }
        out += ",\"dur\":";
        append_fixed(out, d, 1000, 3);
      } else {
        out += ",\"s\":\"t\"";
      }
      out += ",\"sf\":\"";
      append_decimal(out, sl.node);
      out += "\",\"args\":{\"cpu\":";
      append_decimal(out, s.cpu);
      out += ",\"value\":";
      append_decimal(out, machine.sample_magnitude(s));
      out += "}}";
      spill();
    }
  }
  out += "],\"stackFrames\":{";
  for (std::uint32_t n = 1; n < nodes.size(); ++n) {
    if (n > 1) out.push_back(',');
    out += "\n\"";
    append_decimal(out, n);
    out += "\":{\"name\":";
    out += frame_json[nodes[n].frame];
    if (nodes[n].parent != ExportGraph::kRoot) {
      out += ",\"parent\":\"";
      append_decimal(out, nodes[n].parent);
      out.push_back('"');
    }
    out.push_back('}');
    spill();
  }
  out += "}}\n";
}

}  // namespace

std::string chrome_trace_text(const ExportMachine& machine) {
  std::string out;
  build(machine, out, nullptr);
  return out;
}

Status write_chrome_trace(const ExportMachine& machine, const std::string& path) {
  AtomicFile file;
  OC_RETURN_IF_ERROR(file.open(path));
  std::string out;
  build(machine, out, &file);
  file.write(out);
  return file.commit();
}

}  // namespace one_collect
