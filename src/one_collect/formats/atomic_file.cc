#include "one_collect/formats/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <cstring>

namespace one_collect {

namespace {

// "what: strerror" with the error class a caller can act on.
Status file_error(int err, const std::string& what) {
  ErrorCode code = ErrorCode::kIo;
  if (err == ENOENT || err == ENOTDIR) code = ErrorCode::kNotFound;
  if (err == EACCES || err == EPERM || err == EROFS) code = ErrorCode::kPermissionDenied;
  if (err == EISDIR || err == ENAMETOOLONG) code = ErrorCode::kInvalidArgument;
  return error(code, what + ": " + std::strerror(err));
}

}  // namespace

AtomicFile::~AtomicFile() { discard(); }

Status AtomicFile::open(std::string path) {
  discard();
  if (path.empty()) return error(ErrorCode::kInvalidArgument, "output path is empty");
  if (path.back() == '/') {
    return error(ErrorCode::kInvalidArgument, "output path '" + path + "' names a directory");
  }
  path_ = std::move(path);
  temp_path_ = path_ + ".tmp.XXXXXX";
  fd_ = ::mkostemp(temp_path_.data(), O_CLOEXEC);
  if (fd_ < 0) {
    int err = errno;
    temp_path_.clear();
    return file_error(err, "cannot create output file '" + path_ + "'");
  }
  // mkostemp creates 0600; outputs are ordinary files.
  (void)::fchmod(fd_, 0644);
  buffer_.resize(kBufferSize);
  used_ = 0;
  written_ = 0;
  error_ = ok_status();
  return ok_status();
}

void AtomicFile::write_direct(std::string_view bytes) {
  if (!error_.ok() || fd_ < 0) return;
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = file_error(errno, "writing '" + path_ + "'");
      return;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    written_ += static_cast<std::uint64_t>(n);
  }
}

void AtomicFile::flush_buffer() {
  if (used_ == 0) return;
  std::size_t n = used_;
  used_ = 0;
  write_direct(std::string_view(buffer_.data(), n));
}

Status AtomicFile::commit() {
  if (fd_ < 0) return error(ErrorCode::kInvalidArgument, "no output file open");
  flush_buffer();
  if (error_.ok() && ::close(fd_) != 0)
    error_ = file_error(errno, "closing '" + path_ + "'");
  else if (!error_.ok())
    ::close(fd_);
  fd_ = -1;
  if (error_.ok() && ::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    error_ = file_error(errno, "renaming onto '" + path_ + "'");
  }
  if (!error_.ok()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
    return error_;
  }
  temp_path_.clear();
  buffer_ = std::string();
  return ok_status();
}

void AtomicFile::discard() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }
}

Status write_file_atomically(const std::string& path, std::string_view bytes) {
  AtomicFile f;
  OC_RETURN_IF_ERROR(f.open(path));
  f.write(bytes);
  return f.commit();
}

}  // namespace one_collect
