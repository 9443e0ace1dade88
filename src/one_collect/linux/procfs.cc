#include "one_collect/linux/procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <optional>

#include "one_collect/core/errno_status.h"
#include "one_collect/core/strings.h"
#include "one_collect/fs/read_file.h"

namespace one_collect {
namespace {

std::string proc_path(int pid, std::string_view leaf) {
  std::string p = "/proc/" + std::to_string(pid);
  if (!leaf.empty()) {
    p += '/';
    p += leaf;
  }
  return p;
}

// Numeric directory entries of `dir`, sorted.
Result<std::vector<int>> numeric_entries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errno_status(errno, "opendir " + dir);
  std::vector<int> out;
  while (dirent* e = ::readdir(d)) {
    if (auto n = parse_decimal<int>(e->d_name); n && *n > 0) out.push_back(*n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// Splits off the next space-separated token; `s` keeps the rest (leading
// spaces skipped).
std::string_view next_token(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  auto sp = s.find(' ');
  std::string_view tok = s.substr(0, sp);
  s = sp == std::string_view::npos ? std::string_view() : s.substr(sp);
  return tok;
}

MapKind classify(std::string_view path) {
  if (path.empty()) return MapKind::kAnonymous;
  if (path.front() != '[') return MapKind::kFile;
  if (path == "[heap]") return MapKind::kHeap;
  if (path == "[stack]" || path.starts_with("[stack:")) return MapKind::kStack;
  if (path == "[vdso]") return MapKind::kVdso;
  if (path == "[vvar]" || path == "[vvar_vclock]") return MapKind::kVvar;
  if (path == "[vsyscall]") return MapKind::kVsyscall;
  return MapKind::kOtherSpecial;
}

}  // namespace

Result<std::vector<int>> list_pids() { return numeric_entries("/proc"); }

Result<std::vector<int>> list_threads(int pid) {
  if (pid <= 0) return error(ErrorCode::kInvalidArgument, "pid must be positive");
  return numeric_entries(proc_path(pid, "task"));
}

std::vector<std::string> split_cmdline(std::string_view raw) {
  std::vector<std::string> args;
  if (raw.empty()) return args;
  if (raw.back() == '\0') raw.remove_suffix(1);
  std::size_t start = 0;
  for (;;) {
    auto nul = raw.find('\0', start);
    args.emplace_back(raw.substr(start, nul == std::string_view::npos ? nul : nul - start));
    if (nul == std::string_view::npos) break;
    start = nul + 1;
  }
  return args;
}

Result<std::vector<std::string>> read_cmdline(int pid) {
  if (pid <= 0) return error(ErrorCode::kInvalidArgument, "pid must be positive");
  OC_ASSIGN_OR_RETURN(std::string raw, read_file(proc_path(pid, "cmdline")));
  return split_cmdline(raw);
}

std::string long_comm(std::string_view comm, std::string_view raw_cmdline) {
  // TASK_COMM_LEN is 16 with the NUL: a 15-byte comm may be truncated.
  if (comm.size() != 15 || raw_cmdline.empty()) return std::string(comm);
  std::string_view argv0 = raw_cmdline.substr(0, raw_cmdline.find('\0'));
  auto slash = argv0.rfind('/');
  std::string_view base = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  // Only trust argv[0] when it agrees with the kernel's name: programs may
  // rewrite their argv or set comm with prctl.
  if (base.size() > comm.size() && base.starts_with(comm)) return std::string(base);
  return std::string(comm);
}

Result<std::string> read_comm(int pid) {
  if (pid <= 0) return error(ErrorCode::kInvalidArgument, "pid must be positive");
  OC_ASSIGN_OR_RETURN(std::string comm, read_file(proc_path(pid, "comm")));
  if (!comm.empty() && comm.back() == '\n') comm.pop_back();
  if (comm.size() != 15) return comm;
  auto raw = read_file(proc_path(pid, "cmdline"));
  if (!raw.ok()) return comm;  // the short name is still right
  return long_comm(comm, *raw);
}

Result<MapEntry> parse_maps_line(std::string_view line) {
  auto bad = [&](std::string_view what) {
    return error(ErrorCode::kMalformed,
                 std::string(what) + " in maps line '" + std::string(line.substr(0, 120)) + "'");
  };
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  MapEntry m;
  std::string_view rest = line;

  std::string_view range = next_token(rest);
  auto dash = range.find('-');
  if (dash == std::string_view::npos) return bad("no address range");
  auto start = parse_hex<std::uint64_t>(range.substr(0, dash));
  auto end = parse_hex<std::uint64_t>(range.substr(dash + 1));
  if (!start || !end) return bad("bad address range");
  if (*end < *start) return bad("range end before start");
  m.start = *start;
  m.end = *end;

  std::string_view perms = next_token(rest);
  if (perms.size() != 4) return bad("bad permissions");
  auto flag = [](char c, char set) -> std::optional<bool> {
    if (c == set) return true;
    if (c == '-') return false;
    return std::nullopt;
  };
  auto r = flag(perms[0], 'r');
  auto w = flag(perms[1], 'w');
  auto x = flag(perms[2], 'x');
  if (!r || !w || !x || (perms[3] != 'p' && perms[3] != 's')) return bad("bad permissions");
  m.read = *r;
  m.write = *w;
  m.exec = *x;
  m.shared = perms[3] == 's';

  auto offset = parse_hex<std::uint64_t>(next_token(rest));
  if (!offset) return bad("bad offset");
  m.offset = *offset;

  std::string_view dev = next_token(rest);
  auto colon = dev.find(':');
  if (colon == std::string_view::npos) return bad("bad device");
  auto major = parse_hex<std::uint32_t>(dev.substr(0, colon));
  auto minor = parse_hex<std::uint32_t>(dev.substr(colon + 1));
  if (!major || !minor) return bad("bad device");
  m.dev_major = *major;
  m.dev_minor = *minor;

  auto inode = parse_decimal<std::uint64_t>(next_token(rest));
  if (!inode) return bad("bad inode");
  m.inode = *inode;

  // The path: everything after the padding, spaces inside it kept.
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  std::string path;
  path.reserve(rest.size());
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest.substr(i, 4) == "\\012") {
      path += '\n';
      i += 3;
    } else {
      path += rest[i];
    }
  }
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.size() > kDeleted.size() && path.ends_with(kDeleted) && path.front() != '[') {
    path.resize(path.size() - kDeleted.size());
    m.deleted = true;
  }
  m.kind = classify(path);
  m.path = std::move(path);
  return m;
}

MapsParse parse_maps(std::string_view text) {
  MapsParse out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty()) continue;
    auto entry = parse_maps_line(line);
    if (entry.ok()) {
      out.entries.push_back(std::move(entry).value());
    } else {
      out.errors.push_back(
          std::move(entry).status().with_context("line " + std::to_string(line_no)));
    }
  }
  return out;
}

Result<MapsParse> read_maps(int pid) {
  if (pid <= 0) return error(ErrorCode::kInvalidArgument, "pid must be positive");
  OC_ASSIGN_OR_RETURN(std::string text, read_file(proc_path(pid, "maps")));
  return parse_maps(text);
}

Result<std::vector<int>> parse_nspid(std::string_view status_text) {
  std::string_view rest = status_text;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (!line.starts_with("NSpid:")) continue;
    line.remove_prefix(6);
    std::vector<int> chain;
    for (;;) {
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      if (line.empty()) break;
      auto end = line.find_first_of(" \t");
      auto n = parse_decimal<int>(line.substr(0, end));
      if (!n || *n < 0) {
        return error(ErrorCode::kMalformed,
                     "bad NSpid entry '" + std::string(line.substr(0, end)) + "'");
      }
      chain.push_back(*n);
      line = end == std::string_view::npos ? std::string_view() : line.substr(end);
    }
    if (chain.empty()) return error(ErrorCode::kMalformed, "empty NSpid line");
    return chain;
  }
  return error(ErrorCode::kNotFound, "no NSpid line (kernel older than 4.1?)");
}

Result<std::vector<int>> read_nspid(int pid) {
  if (pid <= 0) return error(ErrorCode::kInvalidArgument, "pid must be positive");
  std::string path = proc_path(pid, "status");
  OC_ASSIGN_OR_RETURN(std::string text, read_file(path));
  auto chain = parse_nspid(text);
  if (!chain.ok()) return std::move(chain).status().with_context(path);
  return chain;
}

Result<NamespaceId> parse_namespace_link(std::string_view link) {
  auto colon = link.find(":[");
  if (colon == std::string_view::npos || colon == 0 || link.size() < colon + 4 ||
      link.back() != ']') {
    return error(ErrorCode::kMalformed,
                 "namespace link '" + std::string(link) + "' is not 'type:[inode]'");
  }
  auto inode = parse_decimal<std::uint64_t>(link.substr(colon + 2, link.size() - colon - 3));
  if (!inode) {
    return error(ErrorCode::kMalformed,
                 "namespace link '" + std::string(link) + "' has a bad inode");
  }
  return NamespaceId{std::string(link.substr(0, colon)), *inode};
}

Result<std::vector<NamespaceId>> read_namespaces(int pid) {
  if (pid <= 0) return error(ErrorCode::kInvalidArgument, "pid must be positive");
  std::string dir = proc_path(pid, "ns");
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errno_status(errno, "opendir " + dir);
  std::vector<NamespaceId> out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    char buf[256];
    ssize_t n = ::readlink((dir + "/" + name).c_str(), buf, sizeof buf);
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) continue;
    auto ns = parse_namespace_link(std::string_view(buf, static_cast<std::size_t>(n)));
    // The entry name is the type: pid_for_children links to "pid:[...]" too.
    if (ns.ok()) out.push_back(NamespaceId{name, ns->inode});
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(),
            [](const NamespaceId& a, const NamespaceId& b) { return a.type < b.type; });
  return out;
}

}  // namespace one_collect
