// Where each output format goes (--out + --format), checked before recording
// so an output that cannot be written (missing or read-only directory, /proc,
// a device) is reported before minutes of collection, and the writers that
// produce the files afterwards.
#pragma once

#include <string>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/export/export_machine.h"
#include "one_collect/formats/format_registry.h"
#include "tools/record_trace/options.h"
#include "tools/record_trace/summary.h"

namespace one_collect::record_trace {

struct OutputTarget {
  const OutputFormat* format;  // a format registry entry
  // The file (PerfView XML: the prefix its per-command files extend).
  std::string path;
};

struct OutputPlan {
  std::vector<OutputTarget> targets;
};

// --out empty: the current directory. An existing directory gets the
// registry's names with the prefix "trace" (trace.nettrace, trace.pb.gz, ...,
// output_target); any other path must have an existing, writable directory
// and is used as given for one format, as a prefix (PATH<ext>) for several
// (PerfView XML: a prefix either way, output_target_for_path).
// The directory must accept a new file (probe_new_file) and an existing
// target must be a regular file or a symbolic link, since writers rename a
// temporary file over it. Errors name the path and the reason: kNotFound
// (missing directory), kPermissionDenied (not writable by this user, a
// read-only file system), kInvalidArgument (a parent that is a file, a
// directory that takes no files such as /proc, a device or directory in the
// way).
Result<OutputPlan> plan_outputs(const std::string& out,
                                const std::vector<const OutputFormat*>& formats);

// Whether `dir` accepts a new file: creates one and drops it. The file is
// unnamed (O_TMPFILE) where the file system allows, else (or when
// `allow_unnamed` is false) a hidden named file removed at once.
Status probe_new_file(const std::string& dir, bool allow_unnamed = true);

// Which sample kinds get files (kinds_to_export) and their names
// (path_for_kind) are the format registry's.

// Writes every target through the registry (write_format, one file per kind
// in `kinds` for per-kind formats); returns the files with their sizes. All
// writers run even when one fails; failures are combined into one error.
Status write_outputs(const ExportMachine& machine, const OutputPlan& plan,
                     const std::vector<SampleKind>& kinds, std::vector<WrittenFile>& written);

}  // namespace one_collect::record_trace
