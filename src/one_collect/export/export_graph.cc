#include "one_collect/export/export_graph.h"

#include <cstdio>

namespace one_collect {

namespace {

std::string_view basename(std::string_view path) {
  auto slash = path.find_last_of('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

constexpr std::uint64_t kKeyFunction = 1;
constexpr std::uint64_t kKeyAddress = 2;
constexpr std::uint64_t kKeyProcess = 3;

}  // namespace

ExportGraph::ExportGraph(const ExportMachine& machine, GraphOptions options)
    : machine_(machine), options_(options), children_(1024), stack_cache_(1024), leaf_cache_(1024) {
  reset();
}

void ExportGraph::reset() {
  strings_ = InternedStrings();
  frames_.clear();
  for (FlatMap128& ids : frame_ids_) ids.clear();
  nodes_.clear();
  nodes_.push_back(GraphNode{});
  children_.clear();
  stack_cache_.clear();
  leaf_cache_.clear();
  ip_cache_.clear();
  process_frames_.clear();
  name_map_.clear();
  module_map_.clear();
  totals_dirty_ = false;
  unknown_module_ = strings_.intern("[unknown]");
}

std::uint32_t ExportGraph::frame_index(std::uint64_t kind, StringId module, StringId function,
                                       std::uint64_t address, const GraphFrame& f) {
  auto next = static_cast<std::uint32_t>(frames_.size());
  std::uint32_t index =
      frame_ids_[kind - 1].insert((std::uint64_t{module} << 32) | function, address, next);
  if (index == next) frames_.push_back(f);
  return index;
}

StringId ExportGraph::graph_string(std::vector<StringId>& map, StringId machine_id,
                                   std::string_view text) {
  if (machine_id >= map.size()) map.resize(machine_id + 1, 0);
  StringId& slot = map[machine_id];
  if (slot == 0) slot = strings_.intern(text) + 1;
  return slot - 1;
}

void ExportGraph::compute_totals() const {
  for (GraphNode& n : nodes_) n.total = n.exclusive;
  for (std::size_t i = nodes_.size(); i-- > 1;) nodes_[nodes_[i].parent].total += nodes_[i].total;
  totals_dirty_ = false;
}

ValueConverter ExportGraph::magnitude() {
  return [](const ExportMachine& m, const ExportSample& s) { return m.sample_magnitude(s); };
}

ValueConverter ExportGraph::sample_count() {
  return [](const ExportMachine&, const ExportSample&) { return std::uint64_t{1}; };
}

std::uint32_t ExportGraph::frame_for(FlatMap64& cache, std::uint32_t pid, std::uint64_t ip,
                                     std::uint64_t time) {
  bool cacheable = ip != FlatMap64::kEmpty;
  if (cacheable) {
    if (const std::uint32_t* f = cache.find(ip)) return *f;
  }
  const ExportMapping* mapping = machine_.find_mapping(pid, ip, time);
  std::uint64_t address = mapping ? mapping->symbol_address(ip) : ip;
  // As ExportMachine::find_symbol, from the mapping found above. Per-address
  // lines matter only when frames are addresses.
  const ExportSymbolTable* table = mapping ? machine_.symbol_table(mapping->symbols) : nullptr;
  bool want_line = options_.granularity == FrameGranularity::kAddress;
  const ExportLine* line = table && want_line ? table->find_line(address) : nullptr;
  const ExportSymbol* sym = table ? table->find(address) : nullptr;

  GraphFrame f;
  if (!mapping) {
    f.module = unknown_module_;
  } else {
    std::string_view name = machine_.string(mapping->filename);
    if (mapping->anon && name.empty()) name = "[anon]";
    if (!mapping->anon) name = basename(name);  // "[kernel]" has no '/'
    f.module = graph_string(module_map_, mapping->filename, name);
    f.kernel = mapping->kernel;
  }
  f.mapping_id = mapping ? mapping->id : 0;
  if (sym) {
    f.function = graph_string(name_map_, sym->name, machine_.string(sym->name));
    if (sym->source_file) {
      f.source_file = graph_string(name_map_, sym->source_file, machine_.string(sym->source_file));
    }
  }
  std::uint64_t kind;
  if (options_.granularity == FrameGranularity::kFunction && sym) {
    f.address = sym->start;
    f.line = sym->line;
    kind = kKeyFunction;
  } else {
    f.address = address;
    if (line) {
      f.line = line->line;
      if (line->source_file) {
        f.source_file =
            graph_string(name_map_, line->source_file, machine_.string(line->source_file));
      }
    } else if (sym && options_.granularity == FrameGranularity::kFunction) {
      f.line = sym->line;
    }
    kind = kKeyAddress;
  }
  std::uint32_t frame = frame_index(kind, f.module, f.function, f.address, f);
  if (cacheable) cache.insert(ip, frame);
  return frame;
}

std::uint32_t ExportGraph::process_frame(std::uint32_t pid) {
  auto it = process_frames_.find(pid);
  if (it != process_frames_.end()) return it->second;
  const ExportProcess* p = machine_.find_process(pid);
  std::string name(p ? machine_.string(p->comm) : std::string_view());
  if (name.empty()) name = "[unknown]";
  bool by_pid = options_.root == RootFrame::kProcess;
  if (by_pid) name += " (" + std::to_string(pid) + ")";
  GraphFrame f;
  f.function = strings_.intern(name);
  f.process = true;
  f.address = by_pid ? pid : 0;
  std::uint32_t frame = frame_index(kKeyProcess, 0, f.function, f.address, f);
  process_frames_.emplace(pid, frame);
  return frame;
}

std::uint32_t ExportGraph::child(std::uint32_t parent, std::uint32_t frame) {
  std::uint64_t key = (std::uint64_t{parent} << 32) | frame;
  auto next = static_cast<std::uint32_t>(nodes_.size());
  std::uint32_t node = children_.insert(key, next);
  if (node == next) {
    GraphNode n;
    n.parent = parent;
    n.frame = frame;
    n.depth = nodes_[parent].depth + 1;
    nodes_.push_back(n);
  }
  return node;
}

std::uint32_t ExportGraph::stack_base(std::uint32_t pid) {
  return options_.root != RootFrame::kNone ? child(kRoot, process_frame(pid)) : kRoot;
}

std::uint32_t ExportGraph::stack_node(const ExportSample& s) {
  std::uint64_t key = (std::uint64_t{s.pid} << 32) | s.callstack;
  if (const std::uint32_t* n = stack_cache_.find(key)) return *n;
  std::uint32_t node = stack_base(s.pid);
  if (auto frames = machine_.callstacks().get(s.callstack)) {
    // Copy: frame_for never interns stacks, but keep the view safe anyway.
    scratch_.assign(frames->begin(), frames->end());
    FlatMap64& cache = ip_cache_[s.pid];
    for (auto it = scratch_.rbegin(); it != scratch_.rend(); ++it) {
      // Caller frames are return addresses: named at ip - 1 (frame_lookup_ip).
      node = child(node, frame_for(cache, s.pid, frame_lookup_ip(*it, false), s.time));
    }
  }
  stack_cache_.insert(key, node);
  return node;
}

std::uint32_t ExportGraph::node_for(const ExportSample& s) {
  // One probe for the common case: this (process, stack, leaf) was seen.
  std::uint64_t key = (std::uint64_t{s.pid} << 32) | s.callstack;
  if (const std::uint32_t* n = leaf_cache_.find(key, s.leaf_ip)) return *n;
  std::uint32_t node = stack_node(s);
  if (s.leaf_ip != 0 || node == kRoot) {
    node = child(node, frame_for(ip_cache_[s.pid], s.pid, s.leaf_ip, s.time));
  }
  if (!(key == FlatMap128::kEmpty && s.leaf_ip == FlatMap128::kEmpty)) {
    leaf_cache_.insert(key, s.leaf_ip, node);
  }
  return node;
}

std::uint32_t ExportGraph::add_sample(const ExportSample& s, std::uint64_t value) {
  std::uint32_t leaf = node_for(s);
  nodes_[leaf].exclusive += value;
  nodes_[leaf].samples += 1;
  totals_dirty_ = true;
  return leaf;
}

std::size_t ExportGraph::add_samples(SampleKind kind,
                                     const std::function<bool(std::uint32_t)>& pid_filter,
                                     const ValueConverter& converter) {
  std::size_t added = 0;
  for (const ExportSample& s : machine_.samples()) {
    if (s.kind != kind) continue;
    if (pid_filter && !pid_filter(s.pid)) continue;
    std::uint64_t v = converter ? converter(machine_, s) : machine_.sample_magnitude(s);
    add_sample(s, v);
    ++added;
  }
  return added;
}

std::string ExportGraph::frame_name(std::uint32_t frame) const {
  if (frame >= frames_.size()) return "[root]";
  const GraphFrame& f = frames_[frame];
  if (f.process) return std::string(string(f.function));
  std::string out(string(f.module));
  out += '!';
  if (f.function) {
    out += string(f.function);
  } else {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(f.address));
    out += buf;
  }
  return out;
}

std::size_t ExportGraph::memory_bytes() const {
  std::size_t bytes = strings_.memory_bytes() + frames_.capacity() * sizeof(GraphFrame) +
                      frame_ids_[0].memory_bytes() + frame_ids_[1].memory_bytes() +

                      frame_ids_[2].memory_bytes() + nodes_.capacity() * sizeof(GraphNode) +
                      children_.memory_bytes() + stack_cache_.memory_bytes() +
                      leaf_cache_.memory_bytes();
  for (const auto& [pid, cache] : ip_cache_) bytes += cache.memory_bytes();
  return bytes;
}

}  // namespace one_collect
