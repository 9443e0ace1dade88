// Test-only: runs a fixture program and parses what it prints about itself
// ("func NAME ADDR", "object NAME ADDR", "inline ADDR LINE CALL_LINE",
// "map <a /proc/self/maps line>").
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace one_collect::testing {

struct FixtureMapping {
  std::uint64_t start = 0, end = 0, pgoff = 0;
  std::string perms, path;
};

struct FixtureOutput {
  std::vector<std::pair<std::string, std::uint64_t>> functions;
  std::vector<std::pair<std::string, std::uint64_t>> objects;
  std::uint64_t inline_return = 0;
  int inline_line = 0;
  int inline_call_line = 0;
  std::vector<FixtureMapping> maps;

  const FixtureMapping* mapping_of(std::uint64_t addr) const {
    for (const auto& m : maps) {
      if (addr >= m.start && addr < m.end) return &m;
    }
    return nullptr;
  }
};

inline std::optional<FixtureOutput> run_fixture(const std::string& program) {
  FILE* p = ::popen(program.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  FixtureOutput out;
  char buf[8192];
  while (std::fgets(buf, sizeof buf, p)) {
    std::string line(buf);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    if (line.rfind("func ", 0) == 0 || line.rfind("object ", 0) == 0) {
      bool func = line[0] == 'f';
      std::string rest = line.substr(func ? 5 : 7);
      auto sp = rest.rfind(' ');
      std::uint64_t addr = std::stoull(rest.substr(sp + 1), nullptr, 16);
      (func ? out.functions : out.objects).emplace_back(rest.substr(0, sp), addr);
    } else if (line.rfind("inline ", 0) == 0) {
      std::istringstream ls(line.substr(7));
      std::string a;
      ls >> a >> out.inline_line >> out.inline_call_line;
      out.inline_return = std::stoull(a, nullptr, 16);
    } else if (line.rfind("map ", 0) == 0) {
      std::istringstream ls(line.substr(4));
      std::string range, off, dev, inode;
      FixtureMapping m;
      ls >> range >> m.perms >> off >> dev >> inode >> m.path;
      m.start = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
      m.end = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
      m.pgoff = std::stoull(off, nullptr, 16);
      out.maps.push_back(m);
    }
  }
  if (::pclose(p) != 0) return std::nullopt;
  return out;
}

}  // namespace one_collect::testing
