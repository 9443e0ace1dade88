// procfs: what /proc says about processes — pids, threads, names, command
// lines, memory maps, namespace pids and namespace ids.
//
// Every reader has a pure parser beside it (parse_*) so the odd cases
// (paths with spaces, "(deleted)" files, malformed lines) are testable on
// text. A process may exit between two reads: a vanished pid is kNotFound.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "one_collect/core/status.h"

namespace one_collect {

// Every numeric entry of /proc (process ids), sorted.
Result<std::vector<int>> list_pids();
// Thread ids of `pid` (/proc/PID/task), sorted.
Result<std::vector<int>> list_threads(int pid);

// The process name. The kernel truncates comm to 15 bytes; when it is exactly
// 15 bytes long and the basename of argv[0] starts with it, the basename is
// the full name ("a_very_long_process_name" instead of "a_very_long_pro").
// Kernel threads (empty cmdline) keep their comm.
Result<std::string> read_comm(int pid);
std::string long_comm(std::string_view comm, std::string_view raw_cmdline);

// Arguments of /proc/PID/cmdline (NUL-separated, last NUL optional).
Result<std::vector<std::string>> read_cmdline(int pid);
std::vector<std::string> split_cmdline(std::string_view raw);

enum class MapKind : std::uint8_t {
  kFile,          // backed by a file path
  kAnonymous,     // no path
  kHeap,          // [heap]
  kStack,         // [stack] (and the old [stack:TID])
  kVdso,          // [vdso]
  kVvar,          // [vvar], [vvar_vclock]
  kVsyscall,      // [vsyscall]
  kOtherSpecial,  // any other "[...]" name ([uprobes], [anon:name], ...)
};

struct MapEntry {
  std::uint64_t start = 0;
  std::uint64_t end = 0;  // exclusive
  bool read = false, write = false, exec = false;
  bool shared = false;  // 's' rather than 'p'
  std::uint64_t offset = 0;
  std::uint32_t dev_major = 0, dev_minor = 0;
  std::uint64_t inode = 0;
  std::string path;      // without the " (deleted)" suffix
  bool deleted = false;  // the file was unlinked after it was mapped
  MapKind kind = MapKind::kAnonymous;
};

// One line of /proc/PID/maps:
// "start-end perms offset major:minor inode   path". The path is everything
// after the inode's padding, spaces included; the kernel escapes a newline
// in a path as "\012", which is decoded.
Result<MapEntry> parse_maps_line(std::string_view line);

struct MapsParse {
  std::vector<MapEntry> entries;
  // One error per malformed line ("line N: ..."); the other lines are kept.
  std::vector<Status> errors;
};
MapsParse parse_maps(std::string_view text);
Result<MapsParse> read_maps(int pid);

// The NSpid chain from /proc/PID/status: the pid in each pid namespace, from
// the outermost (ours) to the innermost (the process's own view).
Result<std::vector<int>> read_nspid(int pid);
Result<std::vector<int>> parse_nspid(std::string_view status_text);

struct NamespaceId {
  std::string type;     // the /proc/PID/ns entry: "mnt", "net", "pid", "pid_for_children", ...
  std::uint64_t inode;  // the namespace's identity: equal inodes = same namespace
};
// Entries of /proc/PID/ns, sorted by type. Unreadable entries are skipped.
Result<std::vector<NamespaceId>> read_namespaces(int pid);
// "net:[4026531840]" -> ("net", 4026531840).
Result<NamespaceId> parse_namespace_link(std::string_view link);

}  // namespace one_collect
