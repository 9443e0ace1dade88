#include "one_collect/fs/open_in_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace one_collect {

int open_in_root(int root_fd, const std::string& path, int flags, Symlinks symlinks) {
  if (root_fd < 0) return ::open(path.c_str(), flags);
  std::size_t first = path.find_first_not_of('/');
  if (first == std::string::npos) {
    errno = EINVAL;
    return -1;
  }
  const char* rel = path.c_str() + first;
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = static_cast<std::uint64_t>(flags);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  if (symlinks == Symlinks::kRefuse) how.resolve |= RESOLVE_NO_SYMLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, rel, &how, sizeof how));
  if (fd < 0 && (errno == ENOSYS || errno == E2BIG)) fd = ::openat(root_fd, rel, flags);
  return fd;
}

int open_process_root(int pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/root";
  return ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
}

}  // namespace one_collect
