// Formats by name, as UniversalExporter export hooks.
//
//   exporter.add_export_hook(*export_hook_for("pprof"));
//
// The names, the files and the writers are the format registry's
// (format_registry.h), the same as record-trace's --format. Each hook
// writes at the prefix settings.output_path(), e.g. "out/profile":
//   nettrace      out/profile.nettrace
//   perfview-xml  out/profile.<comm>.<kind>.PerfView.xml
//   pprof         out/profile.pb.gz, out/profile.off_cpu.pb.gz (one per kind)
//   speedscope    out/profile.speedscope.json, out/profile.off_cpu.speedscope.json
//   folded        out/profile.folded, out/profile.off_cpu.folded
//   chrome        out/profile.chrome.json
// The sample kinds written are kinds_to_export(machine, settings.cpu_sampling(),
// settings.context_switches()): cpu first, then off_cpu, then other kinds
// with samples. "perfview" is a deprecated alias of "perfview-xml".
#pragma once

#include <string_view>

#include "one_collect/core/status.h"
#include "one_collect/export/universal_exporter.h"
#include "one_collect/formats/format_registry.h"

namespace one_collect {

// The hook writing `format`.
ExportHook export_hook_for(const OutputFormat& format);
// The hook for a registered name; an unknown name is an error listing the
// known ones (output_format_names()).
Result<ExportHook> export_hook_for(std::string_view name);

}  // namespace one_collect
