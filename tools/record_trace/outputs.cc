#include "tools/record_trace/outputs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "one_collect/formats/chrome_trace.h"
#include "one_collect/formats/folded.h"
#include "one_collect/formats/nettrace/nettrace_export.h"
#include "one_collect/formats/perfview_xml.h"
#include "one_collect/formats/pprof.h"
#include "one_collect/formats/speedscope.h"

namespace one_collect::record_trace {

namespace {

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

Status check_writable_directory(const std::string& dir) {
  if (!is_directory(dir)) {
    if (exists(dir)) {
      return error(ErrorCode::kInvalidArgument, "output path '" + dir + "' is not a directory");
    }
    return error(ErrorCode::kNotFound, "output directory '" + dir +
                                           "' does not exist (create it with: mkdir -p " + dir +
                                           ")");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return error(ErrorCode::kPermissionDenied,
                 "output directory '" + dir + "' is not writable by this user");
  }
  return ok_status();
}

std::string strip_suffix(std::string path, std::string_view suffix) {
  if (!suffix.empty() && path.size() > suffix.size() && std::string_view(path).ends_with(suffix)) {
    path.resize(path.size() - suffix.size());
  }
  return path;
}

}  // namespace

std::string_view format_extension(OutputFormat format) {
  switch (format) {
    case OutputFormat::kNettrace: return ".nettrace";
    case OutputFormat::kPerfviewXml: return "";
    case OutputFormat::kPprof: return ".pb.gz";
    case OutputFormat::kSpeedscope: return ".speedscope.json";
    case OutputFormat::kFolded: return ".folded";
    case OutputFormat::kChrome: return ".chrome.json";
  }
  return "";
}

Result<OutputPlan> plan_outputs(const std::string& out, const std::vector<OutputFormat>& formats) {
  OutputPlan plan;
  std::string target = out.empty() ? std::string(".") : out;
  bool directory = is_directory(target);
  if (!directory && target.back() == '/') {
    OC_RETURN_IF_ERROR(check_writable_directory(target.substr(0, target.size() - 1)));
  }
  std::string prefix;
  if (directory) {
    OC_RETURN_IF_ERROR(check_writable_directory(target));
    prefix = (target.back() == '/' ? target : target + "/") + "trace";
  } else {
    std::size_t slash = target.find_last_of('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : target.substr(0, slash);
    OC_RETURN_IF_ERROR(check_writable_directory(dir));
    prefix = target;
  }
  bool single_file = !directory && formats.size() == 1;
  for (OutputFormat f : formats) {
    OutputTarget t{f, prefix};
    if (f == OutputFormat::kPerfviewXml) {
      if (!directory) t.path = strip_suffix(strip_suffix(prefix, ".xml"), ".PerfView");
    } else if (!single_file) {
      t.path = prefix + std::string(format_extension(f));
    }
    plan.targets.push_back(std::move(t));
  }
  return plan;
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

std::string path_for_kind(const std::string& path, OutputFormat format, std::string_view kind_name) {
  // Kind names may be tracepoints ("sched:sched_switch"): keep file names plain.
  std::string kind(kind_name);
  for (char& c : kind) {
    if (c == ':' || c == '/' || c == ' ' || c == '\\') c = '_';
  }
  std::string_view ext = format_extension(format);
  std::string_view p = path;
  // Insert before the format's extension (or the last one), else append.
  std::size_t slash = p.find_last_of('/');
  std::size_t name_start = slash == std::string_view::npos ? 0 : slash + 1;
  if (!ext.empty() && p.ends_with(ext) && p.size() - ext.size() > name_start) {
    return std::string(p.substr(0, p.size() - ext.size())) + "." + std::string(kind) +
           std::string(ext);
  }
  std::size_t dot = p.find_last_of('.');
  if (dot != std::string_view::npos && dot > name_start) {
    return std::string(p.substr(0, dot)) + "." + std::string(kind) + std::string(p.substr(dot));
  }
  return path + "." + std::string(kind);
}

Status write_outputs(const ExportMachine& machine, const OutputPlan& plan,
                     const std::vector<SampleKind>& kinds, std::vector<WrittenFile>& written) {
  std::string failures;
  ErrorCode first = ErrorCode::kOk;
  auto note = [&](Status s, const std::string& path) {
    if (s.ok()) {
      written.push_back({path, file_size(path)});
      return;
    }
    if (first == ErrorCode::kOk) first = s.code();
    if (!failures.empty()) failures += "; ";
    failures += "writing " + path + ": " + s.message();
  };
  for (const OutputTarget& t : plan.targets) {
    switch (t.format) {
      case OutputFormat::kNettrace:
        note(write_nettrace(machine, t.path), t.path);
        break;
      case OutputFormat::kChrome:
        note(write_chrome_trace(machine, t.path), t.path);
        break;
      case OutputFormat::kPerfviewXml: {
        Result<std::vector<std::string>> paths = write_perfview_xml(machine, t.path);
        if (!paths.ok()) {
          note(paths.status(), t.path + ".*.PerfView.xml");
        } else {
          for (const std::string& p : *paths) note(ok_status(), p);
        }
        break;
      }
      case OutputFormat::kPprof:
      case OutputFormat::kSpeedscope:
      case OutputFormat::kFolded:
        for (std::size_t i = 0; i < kinds.size(); ++i) {
          std::string path =
              i == 0 ? t.path
                     : path_for_kind(t.path, t.format, machine.sample_kind_name(kinds[i]));
          Status s;
          if (t.format == OutputFormat::kPprof) {
            PprofOptions o;
            o.kind = kinds[i];
            s = write_pprof(machine, path, o);
          } else if (t.format == OutputFormat::kSpeedscope) {
            SpeedscopeOptions o;
            o.kind = kinds[i];
            s = write_speedscope(machine, path, o);
          } else {
            FoldedOptions o;
            o.kind = kinds[i];
            s = write_folded(machine, path, o);
          }
          note(std::move(s), path);
        }
        break;
    }
  }
  if (first != ErrorCode::kOk) return error(first, failures);
  return ok_status();
}

}  // namespace one_collect::record_trace
