// The output formats, in one registry: their names, what --help says about
// them, how their files are named and the writer that produces them. The
// export hooks (format_hooks.h) and record-trace's --format, --help and
// output files all come from here, so they cannot disagree.
//
//   const OutputFormat* f = *find_output_format("pprof");
//   std::vector<std::string> written;
//   OC_RETURN_IF_ERROR(write_format(*f, machine, output_target(*f, "out/trace"),
//                                   kinds_to_export(machine, true, true), &written));
//
// Adding a format: write its writer (formats/<name>.{h,cc}, listed in
// formats/CMakeLists.txt) and add one row to the table in format_registry.cc.
// The registry lives in one_collect_formats, which sees every writer
// (including formats/nettrace through one_collect_nettrace_export); writers
// never include the registry, so dependencies stay one-way.
//
// File naming, for a prefix such as "out/trace":
//   kOne         <prefix><ext>                       trace.nettrace, trace.chrome.json
//   kPerKind     <prefix><ext> for the first kind,   trace.pb.gz, trace.off_cpu.pb.gz
//                <prefix>.<kind><ext> for the others
//   kPerCommand  <prefix>.<comm>.<kind><ext>         trace.demo.cpu.PerfView.xml
//                (named by the writer itself)
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/export/export_machine.h"

namespace one_collect {

enum class FormatFiles : std::uint8_t {
  kOne,         // one file holding every sample kind
  kPerKind,     // one file per sample kind
  kPerCommand,  // the writer makes one file per command name and kind from a prefix
};

// Writes one output and returns the paths written. `path` is the file
// (kPerCommand: the prefix the writer extends); `kind` is the sample kind of
// a kPerKind file (the others ignore it).
using FormatWriter = Result<std::vector<std::string>> (*)(const ExportMachine& machine,
                                                          const std::string& path, SampleKind kind);

struct OutputFormat {
  std::string_view name;         // record-trace --format and export_hook_for: "perfview-xml"
  std::string_view description;  // one line for --help
  std::string_view extension;    // ".pb.gz"; kPerCommand: what follows <comm>.<kind>
  FormatFiles files;
  FormatWriter write;
  // The format shows source file:line (so symbolization should read DWARF
  // line tables for it); the others only need symbol names.
  bool shows_source_lines;
};

// Every format, in --help order.
std::span<const OutputFormat> output_formats();
// The format written when none is asked for (nettrace).
const OutputFormat& default_output_format();
// A format by name. Deprecated aliases ("perfview" and "xml" for
// perfview-xml, "chrome-trace" and "perfetto" for chrome) still resolve but
// are never listed. Unknown: kNotFound, "unknown format 'x' (known: ...)".
Result<const OutputFormat*> find_output_format(std::string_view name);
// "nettrace, perfview-xml, pprof, speedscope, folded, chrome".
std::string output_format_names();

// ---- file naming

// What the writer gets for a prefix: <prefix><ext> (kPerCommand: the prefix).
std::string output_target(const OutputFormat& format, const std::string& prefix);
// What the writer gets for a path the user named for this format: the path
// as given (kPerCommand: without the extension or its trailing parts, so
// "x.PerfView.xml", "x.xml" and "x" all name the prefix "x").
std::string output_target_for_path(const OutputFormat& format, const std::string& path);
// The file name(s) for a prefix as a person reads them: "trace.pb.gz",
// "trace.<comm>.<kind>.PerfView.xml".
std::string output_file_pattern(const OutputFormat& format, std::string_view prefix);
// The file of a kPerKind format's secondary kind: "d/trace.pb.gz" ->
// "d/trace.off_cpu.pb.gz" (before the format's extension, else before the
// last one, else appended). Characters unsafe in file names (':', '/', ' ',
// '\') in the kind name become '_'.
std::string path_for_kind(const std::string& path, const OutputFormat& format,
                          std::string_view kind_name);

// The sample kinds worth a file, main one first: cpu, off_cpu, then others,
// those with samples (the first requested one even when empty; cpu when
// nothing is). The first gets the plain file name.
std::vector<SampleKind> kinds_to_export(const ExportMachine& machine, bool cpu_requested,
                                        bool off_cpu_requested);

// ---- writing

// Writes `format` at `target` (output_target): kPerKind once per kind of
// `kinds` (the first at `target`, the others at path_for_kind; none given:
// kind 0, "cpu"), the others once. Every file is attempted; failures are combined into one error
// ("writing <path>: <reason>; ..."; a kPerCommand failure names
// "<prefix>.*<ext>") with the first failure's code. The paths written are
// appended to `written` (when given).
Status write_format(const OutputFormat& format, const ExportMachine& machine,
                    const std::string& target, std::span<const SampleKind> kinds,
                    std::vector<std::string>* written = nullptr);

}  // namespace one_collect
