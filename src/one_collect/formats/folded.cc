#include "one_collect/formats/folded.h"

#include <vector>

#include "one_collect/formats/atomic_file.h"
#include "one_collect/formats/text_escape.h"

namespace one_collect {

namespace {

void append_folded_to(const ExportGraph& graph, std::string& out, AtomicFile* file) {
  const auto& nodes = graph.nodes();
  const auto& frames = graph.frames();
  std::vector<std::string> names(frames.size());
  for (std::uint32_t f = 0; f < frames.size(); ++f) {
    append_folded_frame(names[f], graph.frame_name(f));
  }
  std::vector<std::uint32_t> path;
  for (std::uint32_t n = 1; n < nodes.size(); ++n) {
    if (nodes[n].exclusive == 0) continue;
    path.clear();
    for (std::uint32_t p = n; p != ExportGraph::kRoot; p = nodes[p].parent) path.push_back(p);
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
      if (it != path.rbegin()) out.push_back(';');
      out += names[nodes[*it].frame];
    }
    out.push_back(' ');
    append_decimal(out, nodes[n].exclusive);
    out.push_back('\n');
    if (file && out.size() > (1 << 16)) {
      file->write(out);
      out.clear();
    }
  }
}

ExportGraph build(const ExportMachine& machine, const FoldedOptions& options) {
  GraphOptions g;
  g.root = options.root;
  ExportGraph graph(machine, g);
  graph.add_samples(options.kind, {},
                    options.count_samples ? ExportGraph::sample_count() : ExportGraph::magnitude());
  return graph;
}

}  // namespace

void append_folded(const ExportGraph& graph, std::string& out) {
  append_folded_to(graph, out, nullptr);
}

std::string folded_text(const ExportMachine& machine, const FoldedOptions& options) {
  std::string out;
  append_folded(build(machine, options), out);
  return out;
}

Status write_folded(const ExportMachine& machine, const std::string& path,
                    const FoldedOptions& options) {
  AtomicFile file;
  OC_RETURN_IF_ERROR(file.open(path));
  ExportGraph graph = build(machine, options);
  std::string chunk;
  append_folded_to(graph, chunk, &file);
  file.write(chunk);
  return file.commit();
}

}  // namespace one_collect
