#include "tools/record_trace/outputs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

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

ErrorCode code_for_errno(int err) {
  return err == EACCES || err == EPERM || err == EROFS ? ErrorCode::kPermissionDenied
                                                       : ErrorCode::kInvalidArgument;
}

// "a directory", "a character device", ... for a file that is not regular.
std::string_view file_type_name(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a named pipe";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
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
                 "output directory '" + dir + "' is not writable by this user (" +
                     std::strerror(errno) + ")");
  }
  // access() lets root through where no file can be made (/proc, sysfs).
  return probe_new_file(dir);
}

// Writers rename a temporary file over the target: the target must be a
// file (or a symbolic link, which is replaced), never a device or a
// directory, and a sticky directory only lets its owners replace a file.
Status check_replaceable(const std::string& path, const std::string& dir) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return ok_status();  // a new file
  if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
    return error(ErrorCode::kInvalidArgument,
                 "output '" + path + "' is " + std::string(file_type_name(st.st_mode)) +
                     ", not a file record-trace may replace (outputs are written to a new file "
                     "renamed over the path)");
  }
  struct stat parent {};
  uid_t me = ::geteuid();
  if (me != 0 && ::stat(dir.c_str(), &parent) == 0 && (parent.st_mode & S_ISVTX) != 0 &&
      st.st_uid != me && parent.st_uid != me) {
    return error(ErrorCode::kPermissionDenied,
                 "output '" + path + "' belongs to another user in the sticky directory '" + dir +
                     "', so this user cannot replace it");
  }
  return ok_status();
}

// Names the output as given when the failing directory is only its parent.
Status for_output(Status status, const std::string& out, const std::string& dir) {
  if (status.ok() || out == dir) return status;
  return error(status.code(), "cannot write '" + out + "': " + status.message());
}

std::string strip_suffix(std::string path, std::string_view suffix) {
  if (!suffix.empty() && path.size() > suffix.size() && std::string_view(path).ends_with(suffix)) {
    path.resize(path.size() - suffix.size());
  }
  return path;
}

}  // namespace

Status probe_new_file(const std::string& dir, bool allow_unnamed) {
  // An unnamed file (O_TMPFILE) leaves nothing behind, even if we are killed.
  if (allow_unnamed) {
    int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
      return ok_status();
    }
    // File systems without O_TMPFILE (or old kernels: EISDIR) get a named probe.
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
      int err = errno;
      return error(code_for_errno(err), "output directory '" + dir +
                                            "' does not accept new files (" +
                                            std::strerror(err) + ")");
    }
  }
  std::string probe = (dir.back() == '/' ? dir : dir + "/") + ".record-trace-probe-XXXXXX";
  int fd = ::mkostemp(probe.data(), O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return error(code_for_errno(err), "output directory '" + dir +
                                          "' does not accept new files (" + std::strerror(err) +
                                          ")");
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return ok_status();
}

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
  std::string dir;
  if (directory) {
    dir = target;
    prefix = (target.back() == '/' ? target : target + "/") + "trace";
  } else {
    std::size_t slash = target.find_last_of('/');
    dir = slash == std::string::npos ? "." : slash == 0 ? "/" : target.substr(0, slash);
    prefix = target;
  }
  OC_RETURN_IF_ERROR(for_output(check_writable_directory(dir), target, dir));
  bool single_file = !directory && formats.size() == 1;
  for (OutputFormat f : formats) {
    OutputTarget t{f, prefix};
    if (f == OutputFormat::kPerfviewXml) {
      // A prefix: the file names come from the recorded command names.
      if (!directory) t.path = strip_suffix(strip_suffix(prefix, ".xml"), ".PerfView");
    } else {
      if (!single_file) t.path = prefix + std::string(format_extension(f));
      OC_RETURN_IF_ERROR(check_replaceable(t.path, dir));
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
