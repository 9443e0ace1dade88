#include "one_collect/symbols/perf_map.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "one_collect/core/errno_status.h"
#include "one_collect/core/strings.h"
#include "one_collect/fs/open_in_root.h"
#include "one_collect/fs/read_file.h"

namespace one_collect {

namespace {

constexpr int kOpenFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

// Perf maps write hex, with or without a 0x/0X prefix.
std::optional<std::uint64_t> parse_hex_field(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  return parse_hex(s);
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

struct Line {
  std::uint64_t start, size;
  std::string_view name;
};

bool parse_line(std::string_view line, Line* out) {
  if (std::size_t nul = line.find('\0'); nul != std::string_view::npos) line = line.substr(0, nul);
  while (!line.empty() && (is_space(line.back()) || line.back() == '\r')) line.remove_suffix(1);
  std::size_t i = 0;
  while (i < line.size() && is_space(line[i])) ++i;
  std::size_t a = i;
  while (i < line.size() && !is_space(line[i])) ++i;
  std::string_view start = line.substr(a, i - a);
  while (i < line.size() && is_space(line[i])) ++i;
  std::size_t b = i;
  while (i < line.size() && !is_space(line[i])) ++i;
  std::string_view size = line.substr(b, i - b);
  while (i < line.size() && is_space(line[i])) ++i;
  std::string_view name = line.substr(i);
  if (name.empty()) return false;
  std::optional<std::uint64_t> start_value = parse_hex_field(start);
  std::optional<std::uint64_t> size_value = parse_hex_field(size);
  if (!start_value || !size_value) return false;
  out->start = *start_value;
  out->size = *size_value;
  if (out->start + out->size < out->start) return false;
  out->name = name;
  return true;
}

}  // namespace

PerfMap PerfMap::parse(std::string_view text, const PerfMapOptions& options) {
  PerfMap map;
  std::vector<Line> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view raw = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (raw.empty() || raw == "\r") continue;
    ++map.stats_.lines;
    Line l;
    if (!parse_line(raw, &l)) {
      ++map.stats_.malformed;
      continue;
    }
    if (lines.size() >= options.max_entries) {
      map.stats_.truncated = true;
      break;
    }
    lines.push_back(l);
  }
  // Newest first, so that among entries with one start the last line wins.
  SymbolTable::Builder b;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    b.add(it->start, it->size == 0 ? 1 : it->size, it->name);
  }
  map.table_ = std::move(b).finish();
  map.stats_.entries = map.table_.size();
  return map;
}

Result<PerfMap> PerfMap::read_fd(int fd, const std::string& path, uid_t allowed_uid,
                                 const PerfMapOptions& options) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return errno_status(errno, "fstat " + path);
  if (!S_ISREG(st.st_mode)) {
    return error(ErrorCode::kPermissionDenied, path + ": not a regular file, refused");
  }
  if (st.st_uid != allowed_uid && st.st_uid != 0) {
    return error(ErrorCode::kPermissionDenied,
                 path + ": owned by uid " + std::to_string(st.st_uid) + ", expected " +
                     std::to_string(allowed_uid) + " or root, refused");
  }
  // Up to the size seen now: a JIT appending meanwhile may be mid-line.
  std::size_t want = options.max_bytes;
  if (st.st_size > 0 && static_cast<std::uint64_t>(st.st_size) < want) {
    want = static_cast<std::size_t>(st.st_size);
  }
  OC_ASSIGN_OR_RETURN(std::string text, one_collect::read_fd(fd, path, want));
  bool cut = static_cast<std::uint64_t>(st.st_size) > options.max_bytes;
  if (cut) {
    // Drop the partial last line.
    std::size_t nl = text.rfind('\n');
    text.resize(nl == std::string::npos ? 0 : nl + 1);
  }
  PerfMap map = parse(text, options);
  map.stats_.truncated |= cut;
  return map;
}

Result<PerfMap> PerfMap::read_file(const std::string& path, uid_t allowed_uid,
                                   const PerfMapOptions& options) {
  int fd = ::open(path.c_str(), kOpenFlags);
  if (fd < 0) {
    if (errno == ELOOP) {
      return error(ErrorCode::kPermissionDenied, path + ": is a symbolic link, refused");
    }
    return errno_status(errno, "opening " + path);
  }
  auto r = read_fd(fd, path, allowed_uid, options);
  ::close(fd);
  return r;
}

Result<PerfMap> PerfMap::read_for_process(int pid, int nspid, const PerfMapOptions& options) {
  std::string proc = "/proc/" + std::to_string(pid);
  struct stat pst;
  if (::stat(proc.c_str(), &pst) != 0) return errno_status(errno, "stat " + proc);
  std::string root = proc + "/root";
  int root_fd = open_process_root(pid);
  if (root_fd < 0) return errno_status(errno, "opening " + root);
  std::string rel = "tmp/perf-" + std::to_string(nspid) + ".map";
  std::string shown = root + "/" + rel;
  // /tmp is shared with the target: no symlink anywhere on the path.
  int fd = open_in_root(root_fd, rel, kOpenFlags, Symlinks::kRefuse);
  int err = errno;
  ::close(root_fd);
  if (fd < 0) {
    if (err == ELOOP) {
      return error(ErrorCode::kPermissionDenied, shown + ": is a symbolic link, refused");
    }
    return errno_status(err, "opening " + shown);
  }
  auto r = read_fd(fd, shown, pst.st_uid, options);
  ::close(fd);
  return r;
}

}  // namespace one_collect
