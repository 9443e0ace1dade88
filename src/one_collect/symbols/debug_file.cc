#include "one_collect/symbols/debug_file.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

namespace one_collect {

Result<ElfFile> open_elf_in(int root_fd, const std::string& path) {
  if (root_fd < 0) return ElfFile::open(path);
  return ElfFile::open_in_root(root_fd, path);
}

namespace {

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + (b.size() && b[0] == '/' ? b.substr(1) : b);
  return a + (b.size() && b[0] == '/' ? b : "/" + b);
}

bool has_debug_content(const ElfFile& f) {
  for (const ElfSection& s : f.sections()) {
    if (s.type == SHT_SYMTAB || s.name == ".debug_info" || s.name == ".zdebug_info") return true;
  }
  return false;
}

}  // namespace

Result<ElfFile> find_debug_file(const ElfFile& binary, const std::string& path, int root_fd,
                                const DebugFileOptions& options) {
  const std::string build_id = binary.build_id_hex();
  auto link = binary.debug_link();
  std::string tried;

  auto accept = [&](Result<ElfFile>& cand, bool by_build_id_path) -> bool {
    if (!cand.ok()) return false;
    const ElfFile& f = *cand;
    if (binary.inode() != 0 && f.inode() == binary.inode() && f.device() == binary.device()) {
      return false;  // the binary itself
    }
    if (!has_debug_content(f)) return false;
    if (!build_id.empty()) return f.build_id_hex() == build_id;
    if (by_build_id_path) return false;
    if (link.ok() && options.check_crc) {
      return gnu_debuglink_crc32(f.bytes()) == link->crc;
    }
    return f.build_id().empty();
  };
  auto try_path = [&](int root, const std::string& p, bool by_id) -> std::optional<ElfFile> {
    if (!tried.empty()) tried += ", ";
    tried += p;
    auto cand = open_elf_in(root, p);
    if (accept(cand, by_id)) return std::move(cand).value();
    return std::nullopt;
  };

  // 1. build-id tree, in the process root then on the host.
  if (build_id.size() > 2) {
    for (const std::string& d : options.debug_dirs) {
      std::string p =
          join(d, ".build-id/" + build_id.substr(0, 2) + "/" + build_id.substr(2) + ".debug");
      if (auto f = try_path(root_fd, p, true)) return std::move(*f);
      if (root_fd >= 0) {
        if (auto f = try_path(-1, p, true)) return std::move(*f);
      }
    }
  }
  // 2. .gnu_debuglink next to the binary, in .debug/, and under debug dirs.
  const std::string dir = dir_of(path);
  if (link.ok() && link->name.find('/') == std::string::npos) {
    std::vector<std::string> cands = {join(dir, link->name), join(dir, ".debug/" + link->name)};
    for (const std::string& d : options.debug_dirs) cands.push_back(join(join(d, dir), link->name));
    for (const std::string& p : cands) {
      if (auto f = try_path(root_fd, p, false)) return std::move(*f);
    }
  }
  // 3. Distro layouts mirroring the binary's path.
  for (const std::string& d : options.debug_dirs) {
    if (auto f = try_path(root_fd, join(d, path) + ".debug", false)) return std::move(*f);
    if (auto f = try_path(root_fd, join(d, path), false)) return std::move(*f);
  }
  return error(ErrorCode::kNotFound, "no debug file for " + path + " (tried " + tried + ")");
}

}  // namespace one_collect
