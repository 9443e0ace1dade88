// What a mapping's name says about its backing: the one classification the
// process model (process/ProcessTable, which opens files and feeds the
// unwinder) and the export model (ExportMachine mappings, symbolization)
// both use, so a mapping is anonymous in one exactly when it is in the other.
//
// Names are what the kernel reports in mmap2 records and /proc/PID/maps.
// OS-neutral string rules, no OS includes.
#pragma once

#include <string_view>

namespace one_collect {

enum class MappingNameKind : unsigned char {
  // A file path to open (in the process's mount namespace).
  kFile,
  // "<path> (deleted)": the file was unlinked before the mapping was seen;
  // only a handle on the mapped inode reads it, not the path.
  kDeletedFile,
  // No file to read: "", "//anon", "[heap]", "[stack]", "[anon:...]",
  // "[vsyscall]", "/memfd:...", "anon_inode:...", "/dev/zero" (shared
  // anonymous memory), "/SYSV..." (System V shared memory). JIT code lives
  // here; its names come from perf maps.
  kAnonymous,
  // "[vdso]": the kernel's image, the same in every process of this kernel.
  kVdso,
};

struct MappingName {
  MappingNameKind kind = MappingNameKind::kAnonymous;
  // The path to open for kFile / kDeletedFile (" (deleted)" removed); the
  // name itself otherwise.
  std::string_view path;
};

inline constexpr std::string_view kDeletedSuffix = " (deleted)";

inline MappingName classify_mapping_name(std::string_view name) {
  if (name.empty()) return {MappingNameKind::kAnonymous, name};
  if (name == "[vdso]") return {MappingNameKind::kVdso, name};
  if (name.front() == '[') return {MappingNameKind::kAnonymous, name};
  if (name.starts_with("//anon") || name.starts_with("/memfd:") ||
      name.starts_with("anon_inode:") || name.starts_with("/dev/zero") ||
      name.starts_with("/SYSV")) {
    return {MappingNameKind::kAnonymous, name};
  }
  if (name.ends_with(kDeletedSuffix)) {
    return {MappingNameKind::kDeletedFile, name.substr(0, name.size() - kDeletedSuffix.size())};
  }
  return {MappingNameKind::kFile, name};
}

// True when no file backs the name that could be read by path or held open:
// everything but kFile and kDeletedFile (the [vdso] included; the process
// table substitutes its own copy of the vdso image).
inline bool is_anonymous_mapping_name(std::string_view name) {
  MappingNameKind kind = classify_mapping_name(name).kind;
  return kind == MappingNameKind::kAnonymous || kind == MappingNameKind::kVdso;
}

}  // namespace one_collect
