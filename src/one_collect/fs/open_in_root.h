// Opening a file as a traced process sees it.
//
// Paths from /proc/PID/maps or a process's perf map name files in that
// process's mount namespace. Opened relative to an fd on /proc/PID/root with
// openat2(RESOLVE_IN_ROOT), absolute symlinks and ".." resolve inside that
// root instead of escaping to the host's files, and magic links
// (/proc/self/fd/N and the like) are refused. One copy of this, because the
// fallback for kernels without openat2 and the flag set must not drift.
#pragma once

#include <string>

namespace one_collect {

enum class Symlinks {
  kResolveInRoot,  // followed, confined to the root
  kRefuse,         // any symlink on the path fails with ELOOP (files in shared /tmp)
};

// An fd on `path` opened with open(2) `flags` inside `root_fd`, or on the
// host when root_fd < 0. Returns -1 with errno set on failure; a path with
// nothing but slashes is EINVAL. Kernels before 5.6 lack openat2: there
// openat is used, and absolute symlinks resolve on the host.
int open_in_root(int root_fd, const std::string& path, int flags,
                 Symlinks symlinks = Symlinks::kResolveInRoot);

// An O_PATH directory fd on /proc/PID/root (the process's view of the file
// system) to pass as root_fd, or -1 with errno set (the process is gone,
// or it is not ours to look into).
int open_process_root(int pid);

}  // namespace one_collect
