#include "one_collect/fs/find_program.h"

#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <string_view>

namespace one_collect {

namespace {

constexpr std::string_view kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status not_executable(const std::string& file) {
  return error(ErrorCode::kPermissionDenied,
               "command '" + file + "' is not executable (chmod +x " + file + "?)");
}

}  // namespace

Result<std::string> find_program(const std::string& program, const char* path_env) {
  if (program.empty()) return error(ErrorCode::kNotFound, "command not found: empty command name");
  if (program.find('/') != std::string::npos) {
    if (is_regular_file(program)) {
      if (::access(program.c_str(), X_OK) == 0) return program;
      return not_executable(program);
    }
    if (is_directory(program)) {
      return error(ErrorCode::kPermissionDenied, "command '" + program + "' is a directory");
    }
    return error(ErrorCode::kNotFound, "command not found: '" + program + "' does not exist");
  }
  std::string_view path = path_env ? std::string_view(path_env) : kDefaultPath;
  std::optional<std::string> unexecutable;
  std::string_view rest = path;
  while (true) {
    std::size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    std::string file = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (is_regular_file(file)) {
      if (::access(file.c_str(), X_OK) == 0) return file;
      if (!unexecutable) unexecutable = file;  // execvp keeps looking
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  if (unexecutable) return not_executable(*unexecutable);
  return error(ErrorCode::kNotFound, "command not found: '" + program +
                                         "' (not found in PATH=" + std::string(path) + ")");
}

}  // namespace one_collect
