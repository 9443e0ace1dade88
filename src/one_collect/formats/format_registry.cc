#include "one_collect/formats/format_registry.h"

#include <algorithm>
#include <utility>

#include "one_collect/formats/chrome_trace.h"
#include "one_collect/formats/folded.h"
#include "one_collect/formats/nettrace/nettrace_export.h"
#include "one_collect/formats/perfview_xml.h"
#include "one_collect/formats/pprof.h"
#include "one_collect/formats/speedscope.h"

namespace one_collect {

namespace {

using Paths = Result<std::vector<std::string>>;

// The one path a single-file writer wrote, or its error.
Paths wrote(Status status, const std::string& path) {
  if (!status.ok()) return status;
  return std::vector<std::string>{path};
}

// The registry: one row per format, in --help order (the first is the
// default). A row is the name, the --help line, the extension, the file
// layout and the writer.
constexpr OutputFormat kFormats[] = {
    {"nettrace", "nettrace trace: open in PerfView or TraceEvent.", ".nettrace", FormatFiles::kOne,
     [](const ExportMachine& m, const std::string& p, SampleKind) -> Paths {
       return wrote(write_nettrace(m, p), p);
     },
     /*shows_source_lines=*/false},
    {"perfview-xml",
     "PerfView XML stack files, one per command name and sample kind (cpu, off_cpu).",
     kPerfviewXmlExtension, FormatFiles::kPerCommand,
     [](const ExportMachine& m, const std::string& p, SampleKind) -> Paths {
       return write_perfview_xml(m, p);
     },
     /*shows_source_lines=*/false},
    {"pprof", "pprof profile (gzipped profile.proto): go tool pprof -http=: trace.pb.gz.", ".pb.gz",
     FormatFiles::kPerKind,
     [](const ExportMachine& m, const std::string& p, SampleKind k) -> Paths {
       return wrote(write_pprof(m, p, PprofOptions{k}), p);
     },
     /*shows_source_lines=*/true},
    {"speedscope", "speedscope JSON: https://www.speedscope.app or npx speedscope.",
     ".speedscope.json", FormatFiles::kPerKind,
     [](const ExportMachine& m, const std::string& p, SampleKind k) -> Paths {
       return wrote(write_speedscope(m, p, SpeedscopeOptions{k}), p);
     },
     /*shows_source_lines=*/true},
    {"folded", "folded stacks (sample counts): flamegraph.pl trace.folded > flame.svg.", ".folded",
     FormatFiles::kPerKind,
     [](const ExportMachine& m, const std::string& p, SampleKind k) -> Paths {
       FoldedOptions o;
       o.kind = k;
       return wrote(write_folded(m, p, o), p);
     },
     /*shows_source_lines=*/false},
    {"chrome", "Chrome trace events: chrome://tracing or https://ui.perfetto.dev.", ".chrome.json",
     FormatFiles::kOne,
     [](const ExportMachine& m, const std::string& p, SampleKind) -> Paths {
       return wrote(write_chrome_trace(m, p), p);
     },
     /*shows_source_lines=*/false},
};

// Old names still accepted; never listed.
constexpr std::pair<std::string_view, std::string_view> kDeprecatedAliases[] = {
    {"perfview", "perfview-xml"},
    {"xml", "perfview-xml"},
    {"chrome-trace", "chrome"},
    {"perfetto", "chrome"},
};

const OutputFormat* find_exact(std::string_view name) {
  for (const OutputFormat& f : kFormats) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool ends_with_name(std::string_view path, std::string_view suffix) {
  // A suffix is stripped only when something is left of the file name.
  std::size_t slash = path.find_last_of('/');
  std::size_t name_start = slash == std::string_view::npos ? 0 : slash + 1;
  return !suffix.empty() && path.ends_with(suffix) && path.size() - suffix.size() > name_start;
}

}  // namespace

std::span<const OutputFormat> output_formats() { return kFormats; }

const OutputFormat& default_output_format() { return kFormats[0]; }

Result<const OutputFormat*> find_output_format(std::string_view name) {
  if (const OutputFormat* f = find_exact(name)) return f;
  for (const auto& [alias, target] : kDeprecatedAliases) {
    if (alias == name) return find_exact(target);
  }
  std::string message = "unknown format '";
  message.append(name);
  message += "' (known: ";
  message += output_format_names();
  message += ')';
  return error(ErrorCode::kNotFound, std::move(message));
}

std::string output_format_names() {
  std::string out;
  for (const OutputFormat& f : kFormats) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out;
}

std::string output_target(const OutputFormat& format, const std::string& prefix) {
  if (format.files == FormatFiles::kPerCommand) return prefix;
  return prefix + std::string(format.extension);
}

std::string output_target_for_path(const OutputFormat& format, const std::string& path) {
  if (format.files != FormatFiles::kPerCommand) return path;
  // ".PerfView.xml": strip ".xml", then ".PerfView", each when present.
  std::string out = path;
  std::string_view ext = format.extension;
  while (!ext.empty()) {
    std::size_t dot = ext.find_last_of('.');
    std::string_view part = ext.substr(dot == std::string_view::npos ? 0 : dot);
    if (out.size() > part.size() && std::string_view(out).ends_with(part)) {
      out.resize(out.size() - part.size());
    }
    ext = ext.substr(0, ext.size() - part.size());
  }
  return out;
}

std::string output_file_pattern(const OutputFormat& format, std::string_view prefix) {
  std::string out(prefix);
  if (format.files == FormatFiles::kPerCommand) out += ".<comm>.<kind>";
  out += format.extension;
  return out;
}

std::string path_for_kind(const std::string& path, const OutputFormat& format,
                          std::string_view kind_name) {
  // Kind names may be tracepoints ("sched:sched_switch"): keep file names plain.
  std::string kind(kind_name);
  for (char& c : kind) {
    if (c == ':' || c == '/' || c == ' ' || c == '\\') c = '_';
  }
  std::string_view ext = format.extension;
  std::string_view p = path;
  // Insert before the format's extension (or the last one), else append.
  std::size_t slash = p.find_last_of('/');
  std::size_t name_start = slash == std::string_view::npos ? 0 : slash + 1;
  if (ends_with_name(p, ext)) {
    return std::string(p.substr(0, p.size() - ext.size())) + "." + kind + std::string(ext);
  }
  std::size_t dot = p.find_last_of('.');
  if (dot != std::string_view::npos && dot > name_start) {
    return std::string(p.substr(0, dot)) + "." + kind + std::string(p.substr(dot));
  }
  return path + "." + kind;
}

std::vector<SampleKind> kinds_to_export(const ExportMachine& machine, bool cpu_requested,
                                        bool off_cpu_requested) {
  std::vector<std::uint64_t> counts(machine.sample_kinds().size());
  for (const ExportSample& s : machine.samples()) {
    if (s.kind < counts.size()) ++counts[s.kind];
  }
  SampleKind cpu = machine.find_sample_kind(kCpuKind).value_or(0);
  SampleKind off = machine.find_sample_kind(kOffCpuKind).value_or(1);
  std::vector<SampleKind> kinds;
  auto add = [&](SampleKind k, bool requested) {
    if (k >= counts.size()) return;
    if (std::find(kinds.begin(), kinds.end(), k) != kinds.end()) return;
    if (counts[k] != 0 || (requested && kinds.empty())) kinds.push_back(k);
  };
  // What was asked for comes first (it gets the plain file name).
  if (!cpu_requested && off_cpu_requested) add(off, true);
  add(cpu, cpu_requested);
  add(off, off_cpu_requested);
  for (std::size_t k = 0; k < counts.size(); ++k) add(static_cast<SampleKind>(k), false);
  if (kinds.empty()) kinds.push_back(cpu);
  return kinds;
}

Status write_format(const OutputFormat& format, const ExportMachine& machine,
                    const std::string& target, std::span<const SampleKind> kinds,
                    std::vector<std::string>* written) {
  std::string failures;
  ErrorCode first = ErrorCode::kOk;
  auto run = [&](const std::string& path, SampleKind kind, const std::string& shown) {
    Result<std::vector<std::string>> paths = format.write(machine, path, kind);
    if (paths.ok()) {
      if (written) written->insert(written->end(), paths->begin(), paths->end());
      return;
    }
    if (first == ErrorCode::kOk) first = paths.status().code();
    if (!failures.empty()) failures += "; ";
    failures += "writing ";
    failures += shown;
    failures += ": ";
    failures += paths.status().message();
  };
  switch (format.files) {
    case FormatFiles::kOne:
      run(target, kinds.empty() ? SampleKind{0} : kinds[0], target);
      break;
    case FormatFiles::kPerCommand:
      run(target, kinds.empty() ? SampleKind{0} : kinds[0],
          target + ".*" + std::string(format.extension));
      break;
    case FormatFiles::kPerKind: {
      const SampleKind only_cpu[] = {0};
      if (kinds.empty()) kinds = only_cpu;
      for (std::size_t i = 0; i < kinds.size(); ++i) {
        std::string path =
            i == 0 ? target : path_for_kind(target, format, machine.sample_kind_name(kinds[i]));
        run(path, kinds[i], path);
      }
      break;
    }
  }
  if (first != ErrorCode::kOk) return error(first, failures);
  return ok_status();
}

}  // namespace one_collect
