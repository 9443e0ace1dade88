// Reading a small file whole: /proc and /sys files, tracefs control files,
// kallsyms, kernel notes, perf maps. The one reader, so every caller gets the
// same EINTR retry, size cap and protection against a FIFO or a tty planted
// where a file was expected (O_NONBLOCK, O_NOCTTY).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "one_collect/core/status.h"

namespace one_collect {

inline constexpr std::size_t kNoSizeLimit = SIZE_MAX;

// The file's bytes, at most `max_bytes` of them (the rest is not read).
// Errors name the path ("opening P: ...", "reading P: ..."); a process that
// exits while its /proc files are read yields kNotFound (ESRCH).
Result<std::string> read_file(const std::string& path, std::size_t max_bytes = kNoSizeLimit);

// The same from an fd the caller opened (and closes); `name` names it in
// errors. Reads from the fd's current offset to end of file.
Result<std::string> read_fd(int fd, const std::string& name, std::size_t max_bytes = kNoSizeLimit);

// Streams the file line by line (without the '\n'; a last line without one
// is passed too), reading at most `max_bytes`, so a large file such as
// /proc/kallsyms (5+ MiB) is parsed without holding it whole. A line longer
// than 64 KiB is passed in pieces of 64 KiB. Same open flags and errors as
// read_file.
Status read_lines(const std::string& path, const std::function<void(std::string_view)>& on_line,
                  std::size_t max_bytes = kNoSizeLimit);

}  // namespace one_collect
