// Folded stacks, the input of flamegraph.pl / inferno / speedscope:
// one line per distinct stack, "comm;outer;...;leaf <value>".
//
// Frames are "module!function" (or "module!0xoffset" when unresolved); a ';'
// inside a name becomes ':' and line breaks become spaces, so every line
// splits back into the same frames. Lines come in first-seen stack order.
// The format has no place for metadata or lost-event counts.
#pragma once

#include <string>

#include "one_collect/core/status.h"
#include "one_collect/export/export_graph.h"
#include "one_collect/export/export_machine.h"

namespace one_collect {

struct FoldedOptions {
  SampleKind kind = 0;        // "cpu"
  bool count_samples = true;  // value = samples; false: the kind's metric (e.g. ns)
  RootFrame root = RootFrame::kComm;
};

// Appends the folded lines of a built graph (nodes with exclusive > 0).
void append_folded(const ExportGraph& graph, std::string& out);
// Builds the graph for `options` and returns the text.
std::string folded_text(const ExportMachine& machine, const FoldedOptions& options = {});
Status write_folded(const ExportMachine& machine, const std::string& path,
                    const FoldedOptions& options = {});

}  // namespace one_collect
