// A fresh directory for one test, and whole-file reads for comparing what
// the code under test wrote. Tests used to build these by hand (a
// getpid-named folder, an ifstream slurp) in every component.
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>

namespace one_collect::testing {

// A new directory under the system temp folder, named by mkdtemp from
// `prefix` (so tests running in parallel never share one), removed with
// everything in it when the object goes away. Aborts if it cannot be made:
// no test can run without it.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "oc_test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / prefix).string() + "_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror(("mkdtemp " + tmpl).c_str());
      std::abort();
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string string() const { return path_.string(); }
  std::filesystem::path operator/(std::string_view relative) const { return path_ / relative; }

  // Writes `content` to path()/relative (parent folders created) and
  // returns the file's path.
  std::filesystem::path write(std::string_view relative, std::string_view content) const {
    std::filesystem::path file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary)
        .write(content.data(), static_cast<std::streamsize>(content.size()));
    return file;
  }

 private:
  std::filesystem::path path_;
};

// The bytes of a file ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace one_collect::testing
