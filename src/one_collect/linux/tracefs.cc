#include "one_collect/linux/tracefs.h"

#include "one_collect/linux/procfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <optional>

#include "one_collect/core/errno_status.h"
#include "one_collect/core/strings.h"
#include "one_collect/fs/read_file.h"

namespace one_collect {
namespace {

constexpr std::string_view kDefaultMount = "/sys/kernel/tracing";
constexpr std::string_view kDebugfsMount = "/sys/kernel/debug/tracing";

bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// A usable tracefs directory has an events/ folder (README is absent on
// some configurations, events/ never is).
bool looks_like_tracefs(const std::string& dir) { return is_dir(dir + "/events"); }

// /proc/mounts escapes spaces and such in paths as \040-style octal.
std::string unescape_mount_path(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && s.size() - i >= 4 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
        s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// tracefs mount points listed in /proc/mounts, /sys/kernel/tracing first.
std::vector<std::string> tracefs_mounts_from_proc() {
  std::vector<std::string> found;
  auto text = one_collect::read_file("/proc/mounts");
  if (!text.ok()) return found;
  std::string_view rest = *text;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    // device mountpoint fstype options freq passno
    auto s1 = line.find(' ');
    if (s1 == std::string_view::npos) continue;
    auto s2 = line.find(' ', s1 + 1);
    if (s2 == std::string_view::npos) continue;
    auto s3 = line.find(' ', s2 + 1);
    std::string_view fstype = line.substr(s2 + 1, s3 == std::string_view::npos ? s3 : s3 - s2 - 1);
    if (fstype != "tracefs") continue;
    std::string mount = unescape_mount_path(line.substr(s1 + 1, s2 - s1 - 1));
    if (mount == kDefaultMount) {
      found.insert(found.begin(), std::move(mount));
    } else {
      found.push_back(std::move(mount));
    }
  }
  return found;
}

std::optional<std::string> find_mounted() {
  for (auto& m : tracefs_mounts_from_proc()) {
    if (looks_like_tracefs(m)) return m;
  }
  // /proc/mounts may be unreadable (or from another mount namespace view).
  for (std::string_view candidate : {kDefaultMount, kDebugfsMount}) {
    std::string dir(candidate);
    if (looks_like_tracefs(dir)) return dir;
  }
  return std::nullopt;
}

std::string how_to_mount() {
  return "tracefs is not mounted; as root run: mount -t tracefs nodev /sys/kernel/tracing";
}

}  // namespace

Result<std::pair<std::string, std::string>> split_field_declaration(std::string_view decl) {
  std::string_view d = trim(decl);
  if (d.empty()) return error(ErrorCode::kMalformed, "empty field declaration");
  // Trailing array suffixes ("[16]", "[]", "[2][4]", "[sizeof(struct x)]").
  std::string_view suffix;
  std::string_view head = d;
  while (!head.empty() && head.back() == ']') {
    int depth = 0;
    std::size_t i = head.size();
    std::size_t open = std::string_view::npos;
    while (i > 0) {
      --i;
      if (head[i] == ']') ++depth;
      if (head[i] == '[' && --depth == 0) {
        open = i;
        break;
      }
    }
    if (open == std::string_view::npos) {
      return error(ErrorCode::kMalformed, "unbalanced '[' in declaration '" + std::string(d) + "'");
    }
    head = trim(head.substr(0, open));
  }
  suffix = trim(d.substr(head.size()));
  // The name is the identifier just before the array suffix.
  std::size_t end = head.size();
  std::size_t start = end;
  while (start > 0 && is_ident_char(head[start - 1])) --start;
  std::string_view name = head.substr(start, end - start);
  std::string_view type = trim(head.substr(0, start));
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) {
    return error(ErrorCode::kMalformed, "no field name in declaration '" + std::string(d) + "'");
  }
  if (type.empty()) {
    return error(ErrorCode::kMalformed, "no type in declaration '" + std::string(d) + "'");
  }
  std::string type_name(type);
  if (!suffix.empty()) {
    // Multi-dimensional arrays ("[2][4]") become one dimension of the
    // product when the counts are numbers; the declared size is what counts.
    std::vector<std::string_view> dims;
    std::string_view s = suffix;
    bool all_numeric = true;
    std::uint64_t product = 1;
    while (!s.empty()) {
      auto close = s.find(']');
      std::string_view inner = trim(s.substr(1, close - 1));
      if (!inner.empty()) {
        auto n = parse_decimal<std::uint64_t>(inner);
        if (n && *n < (1ull << 32)) {
          product *= *n;
          if (product >= (1ull << 32)) all_numeric = false;
        } else {
          all_numeric = false;
        }
      } else {
        all_numeric = false;
      }
      dims.push_back(inner);
      s = trim(s.substr(close + 1));
    }
    if (dims.size() == 1) {
      type_name += "[" + std::string(dims[0]) + "]";
    } else if (all_numeric) {
      type_name += "[" + std::to_string(product) + "]";
    } else {
      type_name += "[]";
    }
  }
  return std::make_pair(std::move(type_name), std::string(name));
}

Result<TracepointFormat> parse_tracepoint_format(std::string_view text, std::string_view system,
                                                 std::string_view name) {
  TracepointFormat tp;
  tp.system = std::string(system);
  tp.name = std::string(name);
  const std::string where = std::string(system) + ":" + std::string(name);
  auto bad = [&](std::size_t line_no, std::string_view what) {
    return error(ErrorCode::kMalformed, "tracepoint format " + where + ", line " +
                                            std::to_string(line_no) + ": " + std::string(what));
  };

  bool in_format = false;
  bool saw_format = false;
  bool saw_id = false;
  std::size_t line_no = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view raw = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ++line_no;
    std::string_view line = trim(raw);
    if (line.empty()) continue;

    if (line.starts_with("field:") || line.starts_with("field ")) {
      if (!in_format) return bad(line_no, "field line before 'format:'");
      // field:<decl>;\toffset:N;\tsize:N;\tsigned:N;
      std::vector<std::string_view> parts;
      std::string_view l = line;
      while (!l.empty()) {
        auto semi = l.find(';');
        std::string_view part = trim(l.substr(0, semi));
        if (!part.empty()) parts.push_back(part);
        if (semi == std::string_view::npos) break;
        l = l.substr(semi + 1);
      }
      if (parts.empty()) return bad(line_no, "empty field line");
      std::string_view decl = parts[0].substr(parts[0].find_first_of(": ") + 1);
      std::optional<std::uint32_t> offset, size;
      std::optional<bool> is_signed;
      for (std::size_t i = 1; i < parts.size(); ++i) {
        auto colon = parts[i].find(':');
        if (colon == std::string_view::npos) {
          return bad(line_no, "attribute without ':' in '" + std::string(parts[i]) + "'");
        }
        std::string_view key = trim(parts[i].substr(0, colon));
        std::string_view value = trim(parts[i].substr(colon + 1));
        if (key == "offset" || key == "size") {
          auto n = parse_decimal<std::uint32_t>(value);
          if (!n)
            return bad(line_no, std::string(key) + " '" + std::string(value) + "' is not a number");
          (key == "offset" ? offset : size) = *n;
        } else if (key == "signed") {
          auto n = parse_decimal<unsigned>(value);
          if (!n || *n > 1)
            return bad(line_no, "signed '" + std::string(value) + "' is not 0 or 1");
          is_signed = *n == 1;
        }
        // Unknown attributes are ignored: newer kernels may add some.
      }
      if (!offset) return bad(line_no, "field without offset");
      if (!size) return bad(line_no, "field without size");
      auto split = split_field_declaration(decl);
      if (!split.ok()) return bad(line_no, split.status().message());
      auto [type_name, field_name] = std::move(split).value();
      // When the kernel does not say (old kernels), guess unsigned: a reader
      // still gets the right width.
      // A trailing flexible array of numbers ("u32 buf[]", size 0, as in
      // ftrace:bprint) runs to the end of the payload. The event model has
      // no such layout: build it with one element and keep size 0, so the
      // field is described (name, type, offset) and reads as empty.
      const bool flexible = *size == 0 && type_name.ends_with("[]") &&
                            !type_name.starts_with("__data_loc") &&
                            !type_name.starts_with("__rel_loc");
      auto field =
          EventField::create(field_name, type_name, *offset, *size, is_signed.value_or(false));
      if (!field.ok() && flexible) {
        std::string one = type_name.substr(0, type_name.size() - 2) + "[1]";
        auto probe = EventField::create(field_name, one, *offset, 0, is_signed.value_or(false));
        if (probe.ok()) {
          field = EventField::create(field_name, type_name, *offset, probe->element_size,
                                     is_signed.value_or(false));
          if (field.ok()) field->size = 0;
        }
      }
      if (!field.ok()) return bad(line_no, field.status().message());
      Status added = tp.format.add_field(std::move(field).value());
      if (!added.ok()) return bad(line_no, added.message());
      continue;
    }
    if (line.starts_with("print fmt:")) {
      in_format = false;
      // The print format is the last section: nothing after it matters.
      break;
    }
    if (line.starts_with("format:")) {
      if (saw_format) return bad(line_no, "second 'format:' section");
      in_format = true;
      saw_format = true;
      continue;
    }
    if (line.starts_with("ID:")) {
      auto id = parse_decimal<std::uint32_t>(trim(line.substr(3)));
      if (!id)
        return bad(line_no, "ID '" + std::string(trim(line.substr(3))) + "' is not a number");
      tp.id = *id;
      saw_id = true;
      continue;
    }
    if (line.starts_with("name:")) continue;
    return bad(line_no, "unexpected line '" + std::string(line.substr(0, 80)) + "'");
  }
  if (!saw_format)
    return error(ErrorCode::kMalformed, "tracepoint format " + where + ": no 'format:' section");
  if (tp.format.empty())
    return error(ErrorCode::kMalformed, "tracepoint format " + where + ": no fields");
  (void)saw_id;
  return tp;
}

Result<Tracefs> Tracefs::open_at(std::string root) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (!looks_like_tracefs(root)) {
    return error(ErrorCode::kNotFound, root + " is not a tracefs directory (no events/ in it)");
  }
  return Tracefs(std::move(root));
}

Result<Tracefs> Tracefs::find() {
  auto mounted = find_mounted();
  if (!mounted) return error(ErrorCode::kNotFound, how_to_mount());
  return Tracefs(std::move(*mounted));
}

Result<Tracefs> Tracefs::open() {
  if (auto mounted = find_mounted()) return Tracefs(std::move(*mounted));
  std::string target(kDefaultMount);
  if (!is_dir(target)) {
    return error(ErrorCode::kNotFound,
                 target + " does not exist (is sysfs mounted?); " + how_to_mount());
  }
  if (::mount("nodev", target.c_str(), "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    int err = errno;
    Status st = errno_status(err, "mounting tracefs at " + target);
    return error(st.code(), st.message() + "; " + how_to_mount());
  }
  if (!looks_like_tracefs(target)) {
    return error(ErrorCode::kIo, "mounted tracefs at " + target + " but it has no events/");
  }
  return Tracefs(std::move(target));
}

std::string Tracefs::path(std::string_view relative) const {
  std::string p = root_;
  p += '/';
  p += relative;
  return p;
}

bool Tracefs::exists(std::string_view relative) const {
  return ::access(path(relative).c_str(), F_OK) == 0;
}

Result<std::string> Tracefs::read_file(std::string_view relative) const {
  return one_collect::read_file(path(relative));
}

Status Tracefs::append_line(std::string_view relative, std::string_view line) const {
  std::string p = path(relative);
  int fd = ::open(p.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return errno_status(errno, "open " + p);
  std::string buf(line);
  if (buf.empty() || buf.back() != '\n') buf += '\n';
  ssize_t n;
  do {
    n = ::write(fd, buf.data(), buf.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0) {
    std::string what = "writing '" + std::string(trim(line)) + "' to " + p;
    return errno_status(err, what);
  }
  if (static_cast<std::size_t>(n) != buf.size()) {
    return error(ErrorCode::kIo, "short write to " + p);
  }
  return ok_status();
}

Result<TracepointFormat> Tracefs::load_tracepoint(std::string_view system,
                                                  std::string_view name) const {
  auto valid = [](std::string_view s) {
    return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos;
  };
  if (!valid(system) || !valid(name)) {
    return error(ErrorCode::kInvalidArgument,
                 "bad tracepoint name '" + std::string(system) + ":" + std::string(name) + "'");
  }
  std::string dir = "events/" + std::string(system) + "/" + std::string(name);
  auto text = read_file(dir + "/format");
  if (!text.ok()) {
    if (text.status().code() == ErrorCode::kNotFound) {
      return error(ErrorCode::kNotFound, "no tracepoint " + std::string(system) + ":" +
                                             std::string(name) + " (" + path(dir) + " missing)");
    }
    return std::move(text).status();
  }
  OC_ASSIGN_OR_RETURN(TracepointFormat tp, parse_tracepoint_format(*text, system, name));
  if (tp.id == 0) {
    OC_ASSIGN_OR_RETURN(std::string id_text, read_file(dir + "/id"));
    auto id = parse_decimal<std::uint32_t>(trim(id_text));
    if (!id) return error(ErrorCode::kMalformed, path(dir + "/id") + " does not hold a number");
    tp.id = *id;
  }
  return tp;
}

Result<std::vector<std::pair<std::string, std::string>>> Tracefs::list_events() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::string events = path("events");
  DIR* top = ::opendir(events.c_str());
  if (top == nullptr) return errno_status(errno, "opendir " + events);
  while (dirent* sys = ::readdir(top)) {
    std::string sys_name = sys->d_name;
    if (sys_name == "." || sys_name == "..") continue;
    std::string sys_dir = events + "/" + sys_name;
    DIR* inner = ::opendir(sys_dir.c_str());
    if (inner == nullptr) continue;  // a file such as events/enable
    while (dirent* ev = ::readdir(inner)) {
      std::string ev_name = ev->d_name;
      if (ev_name == "." || ev_name == "..") continue;
      if (::access((sys_dir + "/" + ev_name + "/format").c_str(), F_OK) == 0) {
        out.emplace_back(sys_name, ev_name);
      }
    }
    ::closedir(inner);
  }
  ::closedir(top);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace one_collect
