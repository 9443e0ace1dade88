#include "one_collect/process/mapped_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "one_collect/core/errno_status.h"
#include "one_collect/fs/open_in_root.h"

namespace one_collect {

MappedFile::~MappedFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::shared_ptr<MappedFile>> MappedFile::open(int root_fd, const std::string& path) {
  int fd = open_in_root(root_fd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return errno_status(errno, "opening mapped file " + path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return errno_status(err, "fstat " + path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return error(ErrorCode::kInvalidArgument, path + ": not a regular file");
  }
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->fd_ = fd;
  f->dev_ = static_cast<std::uint64_t>(st.st_dev);
  f->ino_ = static_cast<std::uint64_t>(st.st_ino);
  return f;
}

std::shared_ptr<MappedFile> MappedFile::unavailable(std::string path, Status why) {
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = std::move(path);
  f->open_status_ = std::move(why);
  return f;
}

std::shared_ptr<MappedFile> MappedFile::from_elf(std::string name, ElfFile elf) {
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = std::move(name);
  f->preloaded_ = true;
  std::call_once(f->elf_once_, [&] { f->elf_.emplace(std::move(elf)); });
  return f;
}

const Result<ElfFile>& MappedFile::elf() const {
  std::call_once(elf_once_, [this] {
    if (fd_ < 0) {
      elf_.emplace(open_status_.ok() ? error(ErrorCode::kNotFound, path_ + ": not available")
                                     : Status(open_status_));
    } else {
      elf_.emplace(ElfFile::open_fd(fd_, path_));
      elf_parsed_.store(true, std::memory_order_release);
    }
  });
  return *elf_;
}

}  // namespace one_collect
