// Collection metadata and lost-event counts as "key: value" lines, for the
// formats that can carry free text (pprof comments, XML comments, JSON).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "one_collect/export/export_machine.h"

namespace one_collect {

// Ordered (key, value) pairs: host, kernel, command, cpus, start_unix_ns,
// duration_ns, sample_frequency_hz, sample_period_ns, then "lost.<kind>"
// for each kind with lost events and "lost.total". Empty values are omitted.
std::vector<std::pair<std::string, std::string>> metadata_fields(const ExportMachine& machine);

}  // namespace one_collect
