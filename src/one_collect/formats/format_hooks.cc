#include "one_collect/formats/format_hooks.h"

#include <set>

#include "one_collect/formats/chrome_trace.h"
#include "one_collect/formats/folded.h"
#include "one_collect/formats/perfview_xml.h"
#include "one_collect/formats/pprof.h"
#include "one_collect/formats/speedscope.h"

namespace one_collect {

namespace {

// Sample kinds that have at least one sample, in kind order.
std::vector<SampleKind> kinds_with_samples(const ExportMachine& m) {
  std::set<SampleKind> kinds;
  for (const ExportSample& s : m.samples()) kinds.insert(s.kind);
  return std::vector<SampleKind>(kinds.begin(), kinds.end());
}

Status need_output(const ExportSettings& settings) {
  if (settings.output_path().empty()) {
    return error(ErrorCode::kInvalidArgument, "no output path set (ExportSettings::set_output_path)");
  }
  return ok_status();
}

// Runs `write` once per kind with samples, at <out>.<kind><suffix>.
template <typename Write>
ExportHook per_kind(std::string suffix, Write write) {
  return [suffix, write](const ExportMachine& m, const ExportSettings& settings) -> Status {
    OC_RETURN_IF_ERROR(need_output(settings));
    for (SampleKind kind : kinds_with_samples(m)) {
      std::string path =
          settings.output_path() + "." + std::string(m.sample_kind_name(kind)) + suffix;
      OC_RETURN_IF_ERROR(write(m, path, kind));
    }
    return ok_status();
  };
}

}  // namespace

std::string known_format_names() { return "chrome, folded, perfview, pprof, speedscope"; }

Result<ExportHook> export_hook_for(std::string_view name) {
  if (name == "pprof") {
    return per_kind(".pb.gz", [](const ExportMachine& m, const std::string& path, SampleKind k) {
      return write_pprof(m, path, PprofOptions{k});
    });
  }
  if (name == "speedscope") {
    return per_kind(".speedscope.json",
                    [](const ExportMachine& m, const std::string& path, SampleKind k) {
                      return write_speedscope(m, path, SpeedscopeOptions{k});
                    });
  }
  if (name == "folded") {
    return per_kind(".folded", [](const ExportMachine& m, const std::string& path, SampleKind k) {
      FoldedOptions o;
      o.kind = k;
      o.count_samples = k == *m.find_sample_kind(kCpuKind);
      return write_folded(m, path, o);
    });
  }
  if (name == "chrome") {
    return ExportHook([](const ExportMachine& m, const ExportSettings& settings) -> Status {
      OC_RETURN_IF_ERROR(need_output(settings));
      return write_chrome_trace(m, settings.output_path() + ".trace.json");
    });
  }
  if (name == "perfview") {
    return ExportHook([](const ExportMachine& m, const ExportSettings& settings) -> Status {
      OC_RETURN_IF_ERROR(need_output(settings));
      return write_perfview_xml(m, settings.output_path()).status();
    });
  }
  return error(ErrorCode::kNotFound, "unknown format '" + std::string(name) +
                                         "'; known formats: " + known_format_names());
}

}  // namespace one_collect
