// AtomicFile: writes an output file all-or-nothing.
//
// Bytes go to a temporary file in the target's directory; commit() flushes
// it and renames it over the target. Until then the target is untouched, and
// a writer that fails (or is destroyed without commit) leaves no file behind.
// A missing or unwritable directory is reported at open() with the path.
// Output is buffered, so writers can append many small pieces cheaply.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "one_collect/core/status.h"

namespace one_collect {

class AtomicFile {
 public:
  AtomicFile() = default;
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  Status open(std::string path);

  void write(std::string_view bytes) {
    if (bytes.size() > kBufferSize - used_) {
      flush_buffer();
      if (bytes.size() >= kBufferSize) {
        write_direct(bytes);
        return;
      }
    }
    std::memcpy(buffer_.data() + used_, bytes.data(), bytes.size());
    used_ += bytes.size();
  }
  void write(const void* data, std::size_t size) {
    write(std::string_view(static_cast<const char*>(data), size));
  }

  // Flushes, closes and renames onto the target; after an earlier write
  // error, removes the temporary file and returns that error instead.
  Status commit();
  // Drops the temporary file (also done by the destructor).
  void discard();

  const std::string& path() const { return path_; }
  std::uint64_t bytes_written() const { return written_ + used_; }

 private:
  static constexpr std::size_t kBufferSize = 1 << 20;
  void flush_buffer();
  void write_direct(std::string_view bytes);

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  std::string buffer_;
  std::size_t used_ = 0;
  std::uint64_t written_ = 0;
  Status error_;
};

// Writes `bytes` to `path` atomically.
Status write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace one_collect
