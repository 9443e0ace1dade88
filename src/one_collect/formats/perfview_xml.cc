#include "one_collect/formats/perfview_xml.h"

#include <map>
#include <set>

#include "one_collect/formats/atomic_file.h"
#include "one_collect/formats/format_metadata.h"
#include "one_collect/formats/text_escape.h"

namespace one_collect {

namespace {

// "--" may not appear inside an XML comment, nor may it end with "-".
std::string comment_safe(std::string_view text) {
  std::string out;
  append_xml_escaped(out, text);
  std::string safe;
  for (char c : out) {
    if (c == '-' && !safe.empty() && safe.back() == '-') safe.push_back(' ');
    safe.push_back(c);
  }
  if (!safe.empty() && safe.back() == '-') safe.push_back(' ');
  return safe;
}

std::string file_safe(std::string_view name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '+';
    out.push_back(ok ? c : '_');
  }
  if (out.empty()) out = "unknown";
  return out;
}

}  // namespace

std::string perfview_xml_text(const ExportGraph& graph, std::uint64_t metric_scale,
                              std::string_view comment) {
  const auto& nodes = graph.nodes();
  const auto& frames = graph.frames();
  std::string out;
  out.reserve(64 * nodes.size() + 64 * frames.size() + 256);
  out += "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
  if (!comment.empty()) {
    out += "<!-- ";
    out += comment_safe(comment);
    out += " -->\n";
  }
  out += "<StackWindow>\n<StackSource>\n<Frames Count=\"";
  append_decimal(out, frames.size());
  out += "\">\n";
  for (std::uint32_t f = 0; f < frames.size(); ++f) {
    out += "<Frame ID=\"";
    append_decimal(out, f);
    out += "\">";
    append_xml_escaped(out, graph.frame_name(f));
    out += "</Frame>\n";
  }
  out += "</Frames>\n<Stacks Count=\"";
  append_decimal(out, nodes.size() - 1);
  out += "\">\n";
  // Stack ids are node ids - 1 (the root is not a stack).
  std::size_t sample_count = 0;
  for (std::uint32_t n = 1; n < nodes.size(); ++n) {
    if (nodes[n].exclusive || nodes[n].samples) ++sample_count;
    out += "<Stack ID=\"";
    append_decimal(out, n - 1);
    out += "\" CallerID=\"";
    if (nodes[n].parent == ExportGraph::kRoot) {
      out += "-1";
    } else {
      append_decimal(out, nodes[n].parent - 1);
    }
    out += "\" FrameID=\"";
    append_decimal(out, nodes[n].frame);
    out += "\"/>\n";
  }
  out += "</Stacks>\n<Samples Count=\"";
  append_decimal(out, sample_count);
  out += "\">\n";
  std::size_t id = 0;
  for (std::uint32_t n = 1; n < nodes.size(); ++n) {
    if (!nodes[n].exclusive && !nodes[n].samples) continue;
    out += "<Sample ID=\"";
    append_decimal(out, id++);
    out += "\" Time=\"0\" StackID=\"";
    append_decimal(out, n - 1);
    out += "\" Count=\"";
    append_decimal(out, nodes[n].samples);
    out += "\" Metric=\"";
    append_fixed(out, nodes[n].exclusive, metric_scale, 3);
    out += "\"/>\n";
  }
  out += "</Samples>\n</StackSource>\n</StackWindow>\n";
  return out;
}

Result<std::vector<std::string>> write_perfview_xml(const ExportMachine& machine,
                                                    const std::string& prefix) {
  std::string comment = "one_collect";
  for (const auto& [key, value] : metadata_fields(machine)) {
    comment += "; " + key + "=" + value;
  }

  // Which kinds each process has samples of.
  std::map<std::uint32_t, std::set<SampleKind>> kinds_by_pid;
  for (const ExportSample& s : machine.samples()) kinds_by_pid[s.pid].insert(s.kind);

  std::vector<std::string> written;
  std::set<std::string> used_names;
  for (const ProcessGroup& group : machine.split_processes_by_comm()) {
    std::set<SampleKind> kinds;
    for (std::uint32_t pid : group.pids) {
      auto it = kinds_by_pid.find(pid);
      if (it != kinds_by_pid.end()) kinds.insert(it->second.begin(), it->second.end());
    }
    std::set<std::uint32_t> pids(group.pids.begin(), group.pids.end());
    for (SampleKind kind : kinds) {
      GraphOptions options;
      options.root = RootFrame::kProcess;
      ExportGraph graph(machine, options);
      graph.add_samples(kind, [&](std::uint32_t pid) { return pids.count(pid) != 0; });
      MetricKind metric = machine.sample_metric(kind);
      std::uint64_t scale =
          (metric == MetricKind::kDuration || metric == MetricKind::kSpan) ? 1000000 : 1;
      std::string base = prefix + "." + file_safe(machine.string(group.comm)) + "." +
                         file_safe(machine.sample_kind_name(kind));
      // Different comms can sanitise to one name: keep files apart.
      std::string path = base + std::string(kPerfviewXmlExtension);
      for (int n = 2; used_names.count(path); ++n) {
        path = base + "." + std::to_string(n) + std::string(kPerfviewXmlExtension);
      }
      used_names.insert(path);
      std::string kind_comment = comment + "; kind=" + std::string(machine.sample_kind_name(kind)) +
                                 "; metric=" + (scale == 1000000 ? "milliseconds" : "value") +
                                 "; process=" + std::string(machine.string(group.comm));
      OC_RETURN_IF_ERROR(
          write_file_atomically(path, perfview_xml_text(graph, scale, kind_comment)));
      written.push_back(path);
    }
  }
  return written;
}

}  // namespace one_collect
