#include "tools/record_trace/outputs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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
    return error(
        ErrorCode::kNotFound,
        "output directory '" + dir + "' does not exist (create it with: mkdir -p " + dir + ")");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return error(ErrorCode::kPermissionDenied, "output directory '" + dir +
                                                   "' is not writable by this user (" +
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
      return error(
          code_for_errno(err),
          "output directory '" + dir + "' does not accept new files (" + std::strerror(err) + ")");
    }
  }
  std::string probe = (dir.back() == '/' ? dir : dir + "/") + ".record-trace-probe-XXXXXX";
  int fd = ::mkostemp(probe.data(), O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return error(code_for_errno(err), "output directory '" + dir + "' does not accept new files (" +
                                          std::strerror(err) + ")");
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return ok_status();
}

Result<OutputPlan> plan_outputs(const std::string& out,
                                const std::vector<const OutputFormat*>& formats) {
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
  for (const OutputFormat* f : formats) {
    OutputTarget t{f, prefix};
    if (f->files == FormatFiles::kPerCommand) {
      // A prefix: the file names come from the recorded command names.
      if (!directory) t.path = output_target_for_path(*f, prefix);
    } else {
      t.path = single_file ? output_target_for_path(*f, prefix) : output_target(*f, prefix);
      OC_RETURN_IF_ERROR(check_replaceable(t.path, dir));
    }
    plan.targets.push_back(std::move(t));
  }
  return plan;
}

Status write_outputs(const ExportMachine& machine, const OutputPlan& plan,
                     const std::vector<SampleKind>& kinds, std::vector<WrittenFile>& written) {
  std::string failures;
  ErrorCode first = ErrorCode::kOk;
  for (const OutputTarget& t : plan.targets) {
    std::vector<std::string> paths;
    Status s = write_format(*t.format, machine, t.path, kinds, &paths);
    for (const std::string& p : paths) written.push_back({p, file_size(p)});
    if (s.ok()) continue;
    if (first == ErrorCode::kOk) first = s.code();
    if (!failures.empty()) failures += "; ";
    failures += s.message();
  }
  if (first != ErrorCode::kOk) return error(first, failures);
  return ok_status();
}

}  // namespace one_collect::record_trace
