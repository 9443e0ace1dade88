#include "one_collect/formats/speedscope.h"

#include <algorithm>
#include <map>
#include <vector>

#include "one_collect/export/export_graph.h"
#include "one_collect/formats/atomic_file.h"
#include "one_collect/formats/format_metadata.h"
#include "one_collect/formats/text_escape.h"

namespace one_collect {

namespace {

struct ThreadSample {
  std::uint64_t time;
  std::uint64_t weight;
  std::uint32_t node;
};

// Writes the JSON to `sink` in chunks (a file) or keeps it all (a string).
void build(const ExportMachine& machine, const SpeedscopeOptions& options, std::string& out,
           AtomicFile* file) {
  auto spill = [&] {
    if (file && out.size() > (1 << 16)) {
      file->write(out);
      out.clear();
    }
  };
  ExportGraph graph(machine);
  // (pid, tid) -> samples; std::map keeps profiles in pid, tid order.
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<ThreadSample>> threads;
  for (const ExportSample& s : machine.samples()) {
    if (s.kind != options.kind) continue;
    std::uint64_t w = machine.sample_magnitude(s);
    std::uint32_t node = graph.add_sample(s, w);
    threads[{s.pid, s.tid}].push_back(ThreadSample{s.time, w, node});
  }

  MetricKind metric = machine.sample_metric(options.kind);
  const char* unit = metric == MetricKind::kDuration || metric == MetricKind::kSpan ? "nanoseconds"
                     : metric == MetricKind::kBytes                                 ? "bytes"
                                                                                    : "none";
  std::string name = "one_collect " + std::string(machine.sample_kind_name(options.kind));
  for (const auto& [key, value] : metadata_fields(machine)) name += "; " + key + "=" + value;

  out += "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"exporter\":";
  append_json_string(out, "one_collect");
  out += ",\"name\":";
  append_json_string(out, name);
  out += ",\"activeProfileIndex\":0,\"shared\":{\"frames\":[";
  const auto& frames = graph.frames();
  for (std::uint32_t f = 0; f < frames.size(); ++f) {
    if (f) out.push_back(',');
    out += "{\"name\":";
    append_json_string(out, graph.frame_name(f));
    if (frames[f].source_file) {
      out += ",\"file\":";
      append_json_string(out, graph.string(frames[f].source_file));
      if (frames[f].line) {
        out += ",\"line\":";
        append_decimal(out, frames[f].line);
      }
    }
    out.push_back('}');
    spill();
  }
  out += "]},\"profiles\":[";

  const auto& nodes = graph.nodes();
  // Each leaf's "[outer,...,leaf]" text is built once and reused: samples
  // repeat stacks, and walking parents per sample would miss the cache.
  std::vector<std::uint64_t> path_at(nodes.size(), ~std::uint64_t{0});
  std::vector<std::uint32_t> path_len(nodes.size(), 0);
  std::string paths;
  std::vector<std::uint32_t> path;
  auto append_path = [&](std::uint32_t leaf) {
    if (path_at[leaf] == ~std::uint64_t{0}) {
      path.clear();
      for (std::uint32_t n = leaf; n != ExportGraph::kRoot; n = nodes[n].parent) {
        path.push_back(nodes[n].frame);
      }
      path_at[leaf] = paths.size();
      paths.push_back('[');
      for (auto it = path.rbegin(); it != path.rend(); ++it) {
        if (it != path.rbegin()) paths.push_back(',');
        append_decimal(paths, *it);
      }
      paths.push_back(']');
      path_len[leaf] = static_cast<std::uint32_t>(paths.size() - path_at[leaf]);
    }
    out.append(paths, path_at[leaf], path_len[leaf]);
  };
  bool first_profile = true;
  for (auto& [key, samples] : threads) {
    std::stable_sort(samples.begin(), samples.end(),
                     [](const ThreadSample& a, const ThreadSample& b) { return a.time < b.time; });
    // Merge runs of the same stack.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      if (kept && samples[kept - 1].node == samples[i].node) {
        samples[kept - 1].weight += samples[i].weight;
      } else {
        samples[kept++] = samples[i];
      }
    }
    samples.resize(kept);
    std::uint64_t total = 0;
    for (const ThreadSample& s : samples) total += s.weight;

    if (!first_profile) out.push_back(',');
    first_profile = false;
    const ExportProcess* p = machine.find_process(key.first);
    std::string profile_name(p ? machine.string(p->comm) : std::string_view());
    profile_name += " (" + std::to_string(key.first) + ") tid " + std::to_string(key.second);
    out += "{\"type\":\"sampled\",\"name\":";
    append_json_string(out, profile_name);
    out += ",\"unit\":\"";
    out += unit;
    out += "\",\"startValue\":0,\"endValue\":";
    append_decimal(out, total);
    out += ",\"samples\":[";
    for (std::size_t i = 0; i < samples.size(); ++i) {
      if (i) out.push_back(',');
      append_path(samples[i].node);
      spill();
    }
    out += "],\"weights\":[";
    for (std::size_t i = 0; i < samples.size(); ++i) {
      if (i) out.push_back(',');
      append_decimal(out, samples[i].weight);
      spill();
    }
    out += "]}";
  }
  out += "]}\n";
}

}  // namespace

std::string speedscope_text(const ExportMachine& machine, const SpeedscopeOptions& options) {
  std::string out;
  build(machine, options, out, nullptr);
  return out;
}

Status write_speedscope(const ExportMachine& machine, const std::string& path,
                        const SpeedscopeOptions& options) {
  AtomicFile file;
  OC_RETURN_IF_ERROR(file.open(path));
  std::string out;
  build(machine, options, out, &file);
  file.write(out);
  return file.commit();
}

}  // namespace one_collect
