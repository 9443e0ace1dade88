// PerfView XML stack files (*.PerfView.xml), which PerfView opens as a stack
// view: one file per command name and sample kind, so CPU and off-CPU time
// stay apart.
//
//   <StackWindow><StackSource>
//     <Frames Count="F"><Frame ID="0">module!function</Frame>...</Frames>
//     <Stacks Count="S"><Stack ID="0" CallerID="-1" FrameID="0"/>...</Stacks>
//     <Samples Count="N"><Sample ID="0" Time="0" StackID="3" Count="12" Metric="12.000"/>...
//   </StackSource></StackWindow>
//
// Samples are aggregated per stack (Count = samples, Metric = milliseconds
// for duration kinds, the kind's value otherwise). Every text and attribute
// is fully XML-escaped (quotes too). Collection metadata and lost-event
// counts go into a leading XML comment.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/export/export_graph.h"
#include "one_collect/export/export_machine.h"

namespace one_collect {

// The XML of one built graph (its values as produced by the caller's
// converter; `metric_scale` divides them, e.g. 1e6 for ns -> ms).
std::string perfview_xml_text(const ExportGraph& graph, std::uint64_t metric_scale,
                              std::string_view comment);

// What ends every file name (the format registry names the files with it).
inline constexpr std::string_view kPerfviewXmlExtension = ".PerfView.xml";

// Writes <prefix>.<comm>.<kind>.PerfView.xml for every command name and every
// sample kind it has samples of; returns the paths written (sorted by comm,
// then kind). Characters unsafe in file names are replaced by '_'.
Result<std::vector<std::string>> write_perfview_xml(const ExportMachine& machine,
                                                    const std::string& prefix);

}  // namespace one_collect
