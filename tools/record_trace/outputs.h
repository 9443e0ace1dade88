// Where each output format goes (--out + --format), checked before recording
// so an output that cannot be written (missing or read-only directory, /proc,
// a device) is reported before minutes of collection, and the writers that
// produce the files afterwards.
#pragma once

#include <string>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/export/export_machine.h"
#include "tools/record_trace/options.h"
#include "tools/record_trace/summary.h"

namespace one_collect::record_trace {

struct OutputTarget {
  OutputFormat format;
  // The file (PerfView XML: the prefix its per-command files extend).
  std::string path;
};

struct OutputPlan {
  std::vector<OutputTarget> targets;
};

// ".nettrace", ".pb.gz", ".speedscope.json", ".folded", ".chrome.json", "" (perfview-xml).
std::string_view format_extension(OutputFormat format);

// --out empty: the current directory. An existing directory gets
// trace.<ext>; any other path must have an existing, writable directory and
// is used as given for one format, as a prefix (PATH<ext>) for several.
// The directory must accept a new file (probe_new_file) and an existing
// target must be a regular file or a symbolic link, since writers rename a
// temporary file over it. Errors name the path and the reason: kNotFound
// (missing directory), kPermissionDenied (not writable by this user, a
// read-only file system), kInvalidArgument (a parent that is a file, a
// directory that takes no files such as /proc, a device or directory in the
// way).
Result<OutputPlan> plan_outputs(const std::string& out, const std::vector<OutputFormat>& formats);

// Whether `dir` accepts a new file: creates one and drops it. The file is
// unnamed (O_TMPFILE) where the file system allows, else (or when
// `allow_unnamed` is false) a hidden named file removed at once.
Status probe_new_file(const std::string& dir, bool allow_unnamed = true);

// The sample kinds worth a file, main one first: cpu, off_cpu, then others,
// those with samples (the first requested one even when empty).
std::vector<SampleKind> kinds_to_export(const ExportMachine& machine, bool cpu_requested,
                                        bool off_cpu_requested);

// The path for a secondary kind: "trace.pb.gz" -> "trace.off_cpu.pb.gz".
std::string path_for_kind(const std::string& path, OutputFormat format, std::string_view kind);

// Writes every target; returns the files with their sizes. All writers run
// even when one fails; failures are combined into one error.
Status write_outputs(const ExportMachine& machine, const OutputPlan& plan,
                     const std::vector<SampleKind>& kinds, std::vector<WrittenFile>& written);

}  // namespace one_collect::record_trace
