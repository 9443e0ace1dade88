// Finding the separate debug file of a binary (the distro "-dbgsym" /
// "-debuginfo" packages and `objcopy --only-keep-debug` outputs).
#pragma once

#include <string>
#include <vector>

#include "one_collect/binary/elf_file.h"
#include "one_collect/core/status.h"

namespace one_collect {

struct DebugFileOptions {
  // Global debug directories, in order. Searched inside the process root
  // first, then on the host for build-id paths (the build id makes that safe).
  std::vector<std::string> debug_dirs = {"/usr/lib/debug"};
  // Check the .gnu_debuglink CRC when the binary has no build id (reads the
  // whole candidate file).
  bool check_crc = true;
};

// Opens a file in `root_fd` (an fd on a process root such as /proc/PID/root,
// or -1 for the host root).
Result<ElfFile> open_elf_in(int root_fd, const std::string& path);

// Looks for the debug file of `binary` (found at `path` inside `root_fd`).
// Candidates, in order:
//   1. <debug_dir>/.build-id/<xx>/<rest>.debug
//   2. .gnu_debuglink: <dir>/<link>, <dir>/.debug/<link>, <debug_dir>/<dir>/<link>
//   3. <debug_dir>/<path>.debug (Fedora layout), <debug_dir>/<path> (Ubuntu)
// A candidate is accepted only if it is an ELF file different from the
// binary, with the same build id (or, when the binary has none, the
// debuglink CRC), and with a .symtab or .debug_info. kNotFound if none.
Result<ElfFile> find_debug_file(const ElfFile& binary, const std::string& path, int root_fd,
                                const DebugFileOptions& options = {});

}  // namespace one_collect
