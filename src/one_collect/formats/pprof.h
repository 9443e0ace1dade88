// pprof: a gzipped perftools.profiles.Profile (the profile.proto shipped by
// Debian's golang-github-google-pprof-dev, compiled by protoc at build time),
// read by `go tool pprof` and every pprof-compatible viewer.
//
// One profile per sample kind:
// - sample types: samples/count plus <kind>/<unit> ("cpu"/nanoseconds,
//   "off-cpu"/nanoseconds, <kind>/bytes or <kind>/count); the period type is
//   the second and the period the sampling period for "cpu";
// - samples are aggregated per (pid, tid, stack) with labels pid, tid (num)
//   and comm (str);
// - locations are deduplicated per (mapping, address), functions per (name,
//   file, start line); mappings carry file names and build ids; lines are
//   filled when the resolver knew them;
// - time_nanos is the wall-clock start, duration_nanos the collection
//   length; host, kernel, command line and lost-event counts are comments.
#pragma once

#include <string>

#include "one_collect/core/status.h"
#include "one_collect/export/export_machine.h"

namespace one_collect {

struct PprofOptions {
  SampleKind kind = 0;  // "cpu"
};

// The serialized, uncompressed Profile message.
Result<std::string> pprof_profile_bytes(const ExportMachine& machine,
                                        const PprofOptions& options = {});
// gzip of the above, written atomically to `path`.
Status write_pprof(const ExportMachine& machine, const std::string& path,
                   const PprofOptions& options = {});

}  // namespace one_collect
