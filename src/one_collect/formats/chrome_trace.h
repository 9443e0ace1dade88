// Chrome trace event JSON (chrome://tracing, Perfetto UI): the JSON object
// form {"traceEvents":[...],"stackFrames":{...},"otherData":{...}}.
//
// - process_name / thread_name metadata events ("ph":"M") name the tracks;
// - each CPU sample is a complete event ("ph":"X", cat "cpu") on its thread,
//   named after its leaf frame, lasting the sampling period, with its stack
//   in "sf" (an id in stackFrames, each frame pointing at its "parent");
// - each off-CPU interval (switch-out to switch-in) is a complete event (cat
//   "off_cpu") with its switch-out stack: together the thread's timeline;
// - other sample kinds become instant events ("ph":"i") with their value.
// Within a thread, slices are cut short where the next one starts so tracks
// always nest. Times are microseconds (3 decimals: ns precision) from the
// collection start. Metadata and lost-event counts go into "otherData".
#pragma once

#include <string>

#include "one_collect/core/status.h"
#include "one_collect/export/export_machine.h"

namespace one_collect {

std::string chrome_trace_text(const ExportMachine& machine);
Status write_chrome_trace(const ExportMachine& machine, const std::string& path);

}  // namespace one_collect
