// Formats by name, as UniversalExporter export hooks.
//
//   exporter.add_export_hook(*export_hook_for("pprof"));
//
// Each hook writes next to settings.output_path() (a path prefix):
//   pprof      <out>.cpu.pb.gz, <out>.off_cpu.pb.gz  (kinds with samples)
//   speedscope <out>.cpu.speedscope.json, ...
//   folded     <out>.cpu.folded, ...
//   chrome     <out>.trace.json
//   perfview   <out>.<comm>.<kind>.PerfView.xml
// (nettrace lives in formats/nettrace and registers its own hook.)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/export/universal_exporter.h"

namespace one_collect {

// "chrome, folded, perfview, pprof, speedscope".
std::string known_format_names();
// The hook for `name`; an unknown name is an error listing the known ones.
Result<ExportHook> export_hook_for(std::string_view name);

}  // namespace one_collect
