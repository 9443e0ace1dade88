#include "tools/record_trace/summary.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string_view>
#include <unordered_map>

#include "one_collect/export/export_graph.h"

namespace one_collect::record_trace {

namespace {

std::string percent(double share) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%6.2f%%", share);
  return buf;
}

// Cuts `text` to `width` columns (bytes; names are mostly ASCII), marking the cut.
std::string fit(std::string_view text, std::size_t width) {
  if (text.size() <= width) return std::string(text);
  if (width <= 3) return std::string(text.substr(0, width));
  return std::string(text.substr(0, width - 3)) + "...";
}

}  // namespace

std::string compact_function_name(std::string_view name) {
  if (name.find("operator") != std::string_view::npos) return std::string(name);
  std::string out;
  int depth = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    constexpr std::string_view kAnon = "(anonymous namespace)";
    if (name.substr(i).starts_with(kAnon)) {
      if (depth == 0) out += kAnon;
      i += kAnon.size() - 1;
      continue;
    }
    char c = name[i];
    if (c == '<' || c == '(') {
      if (depth++ == 0) {
        out += c;
        out += "...";
      }
    } else if (c == '>' || c == ')') {
      if (depth > 0 && --depth == 0) out += c;
    } else if (depth == 0) {
      out += c;
    }
  }
  return depth == 0 ? out : std::string(name);
}

HotFunctions hottest_functions(const ExportMachine& machine, SampleKind kind, std::size_t count) {
  HotFunctions hot;
  hot.kind = kind;
  ExportGraph graph(machine);
  hot.samples = graph.add_samples(kind);
  const auto& nodes = graph.nodes();
  const auto& frames = graph.frames();

  // Functions by name: one function seen through several mappings (or
  // processes) adds up to one line, as in perf report's symbol sort.
  struct Agg {
    std::uint32_t frame = 0;
    std::uint64_t self = 0;
    std::uint64_t total = 0;
  };
  std::unordered_map<std::string, std::uint32_t> index_by_name;
  std::vector<Agg> aggs;
  std::vector<std::uint32_t> frame_function(frames.size());
  for (std::uint32_t f = 0; f < frames.size(); ++f) {
    auto [it, added] = index_by_name.emplace(graph.frame_name(f), aggs.size());
    if (added) aggs.push_back({f, 0, 0});
    frame_function[f] = it->second;
  }

  std::uint64_t value = 0;
  for (std::uint32_t n = 1; n < nodes.size(); ++n) {
    const GraphNode& node = nodes[n];
    if (node.frame >= frames.size()) continue;
    std::uint32_t fn = frame_function[node.frame];
    aggs[fn].self += node.exclusive;
    value += node.exclusive;
    // Inclusive value counts a function once per stack: only its outermost node.
    bool outer = true;
    for (std::uint32_t p = node.parent; p != ExportGraph::kRoot && p != GraphNode::kNone;
         p = nodes[p].parent) {
      if (nodes[p].frame < frames.size() && frame_function[nodes[p].frame] == fn) {
        outer = false;
        break;
      }
    }
    if (outer) aggs[fn].total += node.total;
  }
  hot.value = value;

  std::vector<HotFunction> all;
  all.reserve(aggs.size());
  for (const Agg& a : aggs) {
    if (a.total == 0) continue;
    const GraphFrame& frame = frames[a.frame];
    HotFunction h;
    if (frame.function) {
      h.name = std::string(graph.string(frame.function));
    } else {
      char buf[24];
      std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(frame.address));
      h.name = buf;
    }
    h.module = std::string(graph.string(frame.module));
    h.self = a.self;
    h.total = a.total;
    h.self_share = value ? 100.0 * static_cast<double>(a.self) / static_cast<double>(value) : 0;
    h.total_share = value ? 100.0 * static_cast<double>(a.total) / static_cast<double>(value) : 0;
    all.push_back(std::move(h));
  }
  auto take = [&](auto key) {
    std::vector<HotFunction> sorted = all;
    std::sort(sorted.begin(), sorted.end(), [&](const HotFunction& a, const HotFunction& b) {
      if (key(a) != key(b)) return key(a) > key(b);
      return a.name < b.name;
    });
    std::vector<HotFunction> out;
    for (HotFunction& h : sorted) {
      if (out.size() >= count || key(h) == 0) break;
      out.push_back(std::move(h));
    }
    return out;
  };
  hot.by_self = take([](const HotFunction& h) { return h.self; });
  hot.by_total = take([](const HotFunction& h) { return h.total; });
  return hot;
}

std::string human_bytes(std::uint64_t bytes) {
  char buf[32];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(bytes));
  } else if (bytes < (1ull << 20)) {
    std::snprintf(buf, sizeof(buf), "%.1f KiB", static_cast<double>(bytes) / 1024.0);
  } else if (bytes < (1ull << 30)) {
    std::snprintf(buf, sizeof(buf), "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f GiB", static_cast<double>(bytes) / (1 << 30));
  }
  return buf;
}

std::string with_commas(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string format_recording_summary(const ExportMachine& machine, const RecordingFacts& facts) {
  std::vector<std::uint64_t> per_kind(machine.sample_kinds().size());
  std::set<std::uint32_t> pids;
  for (const ExportSample& s : machine.samples()) {
    if (s.kind < per_kind.size()) ++per_kind[s.kind];
    pids.insert(s.pid);
  }
  std::uint64_t samples = machine.samples().size();
  std::uint64_t lost = std::max(machine.total_lost(), facts.live_lost);

  std::string out;
  char buf[160];
  double seconds = machine.metadata().duration_ns()
                       ? static_cast<double>(machine.metadata().duration_ns()) / 1e9
                       : facts.wall_seconds;
  std::snprintf(buf, sizeof(buf), "recorded %.2f s: ", seconds);
  out += buf;
  bool first = true;
  for (std::size_t k = 0; k < per_kind.size(); ++k) {
    if (per_kind[k] == 0) continue;
    if (!first) out += ", ";
    first = false;
    out += with_commas(per_kind[k]);
    out += ' ';
    out += machine.sample_kind_name(static_cast<SampleKind>(k));
  }
  if (first) out += "no";
  out += " samples";
  out += ", " + with_commas(lost) + " lost";
  if (lost != 0) {
    std::snprintf(buf, sizeof(buf), " (%.2f%% of %s)",
                  100.0 * static_cast<double>(lost) / static_cast<double>(lost + samples),
                  with_commas(lost + samples).c_str());
    out += buf;
  }
  out += ", " + with_commas(pids.size()) + (pids.size() == 1 ? " process" : " processes");
  if (machine.record_count() != 0) out += ", " + with_commas(machine.record_count()) + " events";
  out += '\n';
  if (lost != 0 && samples != 0 && lost * 100 > (lost + samples)) {
    out += "  more than 1% lost: raise --buffer-size or lower --frequency / --stack-size\n";
  }
  for (const std::string& note : facts.notes) out += "note: " + note + '\n';
  if (!facts.files.empty()) {
    out += facts.files.size() == 1 ? "wrote:\n"
                                   : "wrote " + std::to_string(facts.files.size()) + " files:\n";
    std::size_t width = 0;
    for (const WrittenFile& f : facts.files) width = std::max(width, f.path.size());
    for (const WrittenFile& f : facts.files) {
      out +=
          "  " + f.path + std::string(width - f.path.size() + 2, ' ') + human_bytes(f.bytes) + '\n';
    }
  }
  return out;
}

std::string format_hot_functions(const ExportMachine& machine, const HotFunctions& hot,
                                 std::size_t width) {
  std::string out;
  if (hot.samples == 0) return out;
  std::string kind(machine.sample_kind_name(hot.kind));
  std::size_t name_width = width > 40 ? width - 20 : 20;
  auto table = [&](std::string_view title, const std::vector<HotFunction>& rows) {
    out += "hottest functions by " + std::string(title) + " (" + kind + ", " +
           with_commas(hot.samples) + " samples):\n";
    out += "     self    total  function\n";
    for (const HotFunction& h : rows) {
      // Long C++ names lose their template arguments and parameters first;
      // the module always stays visible.
      std::string module = "  [" + h.module + "]";
      std::size_t room = name_width > module.size() + 10 ? name_width - module.size() : 10;
      std::string name = h.name.size() > room ? compact_function_name(h.name) : h.name;
      out += "  " + percent(h.self_share) + "  " + percent(h.total_share) + "  " + fit(name, room) +
             module + '\n';
    }
  };
  table("self", hot.by_self);
  table("total", hot.by_total);
  return out;
}

}  // namespace one_collect::record_trace
