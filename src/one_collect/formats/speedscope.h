// speedscope JSON (https://www.speedscope.app/file-format-schema.json): one
// "sampled" profile per (process, thread), frames shared by all profiles.
//
// A profile's samples are in time order, each the frame indices from the
// outermost caller to the leaf; consecutive samples with the same stack are
// merged (weights add), which keeps the time-order view while shrinking big
// traces. Weights: nanoseconds for duration kinds, bytes or counts otherwise.
// The format has no field for metadata: host, kernel and lost counts go into
// the file's "name".
#pragma once

#include <string>

#include "one_collect/core/status.h"
#include "one_collect/export/export_machine.h"

namespace one_collect {

struct SpeedscopeOptions {
  SampleKind kind = 0;  // "cpu"
};

std::string speedscope_text(const ExportMachine& machine, const SpeedscopeOptions& options = {});
Status write_speedscope(const ExportMachine& machine, const std::string& path,
                        const SpeedscopeOptions& options = {});

}  // namespace one_collect
