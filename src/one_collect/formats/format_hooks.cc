#include "one_collect/formats/format_hooks.h"

#include <string>

namespace one_collect {

ExportHook export_hook_for(const OutputFormat& format) {
  return [format](const ExportMachine& m, const ExportSettings& settings) -> Status {
    if (settings.output_path().empty()) {
      return error(ErrorCode::kInvalidArgument,
                   "no output path set (ExportSettings::set_output_path)");
    }
    std::vector<SampleKind> kinds =
        kinds_to_export(m, settings.cpu_sampling(), settings.context_switches());
    return write_format(format, m, output_target(format, settings.output_path()), kinds);
  };
}

Result<ExportHook> export_hook_for(std::string_view name) {
  OC_ASSIGN_OR_RETURN(const OutputFormat* format, find_output_format(name));
  return export_hook_for(*format);
}

}  // namespace one_collect
