#include "one_collect/fs/read_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "one_collect/core/errno_status.h"

namespace one_collect {

Result<std::string> read_fd(int fd, const std::string& name, std::size_t max_bytes) {
  std::string out;
  char buf[65536];
  while (out.size() < max_bytes) {
    std::size_t want = std::min(sizeof buf, max_bytes - out.size());
    ssize_t n = ::read(fd, buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno, "reading " + name);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

namespace {

// O_NONBLOCK: a FIFO planted where a file was expected returns at once;
// O_NOCTTY: nor does a tty become ours.
int open_for_reading(const std::string& path) {
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
}

}  // namespace

Result<std::string> read_file(const std::string& path, std::size_t max_bytes) {
  int fd = open_for_reading(path);
  if (fd < 0) return errno_status(errno, "opening " + path);
  auto result = read_fd(fd, path, max_bytes);
  ::close(fd);
  return result;
}

Status read_lines(const std::string& path, const std::function<void(std::string_view)>& on_line,
                  std::size_t max_bytes) {
  int fd = open_for_reading(path);
  if (fd < 0) return errno_status(errno, "opening " + path);
  constexpr std::size_t kBuffer = 65536;
  std::string buf(kBuffer, '\0');
  std::size_t held = 0;  // bytes of an unfinished line at the front of buf
  std::size_t total = 0;
  Status status;
  while (total < max_bytes) {
    std::size_t want = std::min(kBuffer - held, max_bytes - total);
    ssize_t n = ::read(fd, buf.data() + held, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      status = errno_status(errno, "reading " + path);
      break;
    }
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
    std::string_view data(buf.data(), held + static_cast<std::size_t>(n));
    std::size_t pos = 0;
    for (std::size_t eol; (eol = data.find('\n', pos)) != std::string_view::npos; pos = eol + 1) {
      on_line(data.substr(pos, eol - pos));
    }
    held = data.size() - pos;
    if (held == kBuffer) {  // one line fills the buffer: pass it in pieces
      on_line(data);
      held = 0;
    } else if (pos > 0) {
      std::memmove(buf.data(), buf.data() + pos, held);
    }
  }
  ::close(fd);
  if (status.ok() && held > 0) on_line(std::string_view(buf.data(), held));
  return status;
}

}  // namespace one_collect
