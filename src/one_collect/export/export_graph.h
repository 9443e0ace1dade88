// ExportGraph: the calling-context tree of a set of samples (a process, a
// group of processes, or everything), with exclusive and total values per
// node. Formats walk it instead of the raw samples.
//
// Each sample's stack is imported root first; equal frames under the same
// parent merge. Frames are deduplicated: by function (symbol) by default, or
// by address (FrameGranularity::kAddress). An address without a symbol
// becomes the frame "module!0x<offset>". Imports are cached per (pid,
// callstack id) and frames per (pid, ip), so a million samples over a hundred
// thousand stacks cost one import per distinct stack. Caller frames are named
// at their return address - 1 (frame_lookup_ip in export_machine.h); with
// FrameGranularity::kAddress their address is that lookup address.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "one_collect/export/export_machine.h"
#include "one_collect/export/flat_map.h"
#include "one_collect/intern/interned_slices.h"
#include "one_collect/intern/interned_strings.h"

namespace one_collect {

enum class FrameGranularity : std::uint8_t { kFunction, kAddress };

// What sits on top of each stack: nothing, a "comm (pid)" frame per
// process, or a "comm" frame shared by processes of the same name.
enum class RootFrame : std::uint8_t { kNone, kProcess, kComm };

struct GraphOptions {
  FrameGranularity granularity = FrameGranularity::kFunction;
  RootFrame root = RootFrame::kNone;
};

// A frame. String ids are the graph's own (graph.strings()).
struct GraphFrame {
  StringId module = 0;        // short file name, "[kernel]", "[unknown]", ...
  StringId function = 0;      // 0: unknown
  StringId source_file = 0;   // 0: unknown
  std::uint32_t line = 0;     // 0: unknown
  std::uint64_t address = 0;  // symbol-space address (the function start when merged by function)
  std::uint32_t mapping_id = 0;  // machine mapping id, 0: none
  bool kernel = false;
  bool process = false;  // a RootFrame frame (its name is in `function`)
};

struct GraphNode {
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;
  std::uint32_t parent = kNone;  // kNone for the root
  std::uint32_t frame = kNone;   // kNone for the root
  std::uint32_t depth = 0;       // root 0
  std::uint64_t exclusive = 0;   // value of samples ending here
  std::uint64_t total = 0;       // exclusive + every descendant's
  std::uint64_t samples = 0;     // samples ending here
};

// Turns a sample into the number the graph adds up.
using ValueConverter = std::function<std::uint64_t(const ExportMachine&, const ExportSample&)>;

class ExportGraph {
 public:
  explicit ExportGraph(const ExportMachine& machine, GraphOptions options = {});

  // Converters: the sample's metric (spans: end - start), or 1 per sample.
  static ValueConverter magnitude();
  static ValueConverter sample_count();

  // Adds one sample with `value`; returns its leaf node.
  std::uint32_t add_sample(const ExportSample& sample, std::uint64_t value);
  // Adds every sample of `kind` whose pid passes `pid_filter` (all when
  // empty), valued by `converter` (magnitude() when empty). Returns how many.
  std::size_t add_samples(SampleKind kind,
                          const std::function<bool(std::uint32_t)>& pid_filter = {},
                          const ValueConverter& converter = {});
  // The leaf node a sample maps to (imports its stack, adds no value).
  std::uint32_t node_for(const ExportSample& sample);

  static constexpr std::uint32_t kRoot = 0;
  // Node i's parent always has a smaller index. Totals are summed lazily
  // (one backward pass) rather than up the tree on every sample.
  const std::vector<GraphNode>& nodes() const {
    if (totals_dirty_) compute_totals();
    return nodes_;
  }
  const std::vector<GraphFrame>& frames() const { return frames_; }
  const InternedStrings& strings() const { return strings_; }
  std::string_view string(StringId id) const { return strings_.get(id).value_or(""); }
  // "module!function", or "module!0x1a2b" when the function is unknown.
  std::string frame_name(std::uint32_t frame) const;
  const ExportMachine& machine() const { return machine_; }
  std::size_t memory_bytes() const;

  // Forgets every node and frame (the graph can be reused).
  void reset();

 private:
  std::uint32_t frame_for(FlatMap64& cache, std::uint32_t pid, std::uint64_t ip,
                          std::uint64_t time);
  std::uint32_t process_frame(std::uint32_t pid);
  std::uint32_t child(std::uint32_t parent, std::uint32_t frame);
  std::uint32_t stack_node(const ExportSample& sample);
  std::uint32_t stack_base(std::uint32_t pid);
  // The graph's copy of a machine string (names) or of a text derived from
  // one (module short names), each cached by machine id in its own map.
  StringId graph_string(std::vector<StringId>& map, StringId machine_id, std::string_view text);
  void compute_totals() const;

  const ExportMachine& machine_;
  GraphOptions options_;
  InternedStrings strings_;
  std::vector<GraphFrame> frames_;
  // Frame identity -> frame index, one map per key kind (function, address,
  // process): (module << 32 | function, address). String ids are dense 32-bit
  // counts, so the maps' reserved key (~0, ~0) never occurs.
  FlatMap128 frame_ids_[3];
  std::uint32_t frame_index(std::uint64_t kind, StringId module, StringId function,
                            std::uint64_t address, const GraphFrame& f);
  StringId unknown_module_ = 0;  // "[unknown]"
  mutable std::vector<GraphNode> nodes_;
  mutable bool totals_dirty_ = false;
  std::vector<StringId> name_map_;    // machine string id -> graph string id + 1
  std::vector<StringId> module_map_;  // machine file name id -> short name id + 1
  FlatMap64 children_;                // parent << 32 | frame -> node
  FlatMap64 stack_cache_;             // pid << 32 | callstack -> node
  FlatMap128 leaf_cache_;             // (pid << 32 | callstack, leaf ip) -> node
  std::unordered_map<std::uint32_t, FlatMap64> ip_cache_;  // pid -> ip -> frame
  std::unordered_map<std::uint32_t, std::uint32_t> process_frames_;
  std::vector<std::uint64_t> scratch_;
};

}  // namespace one_collect
