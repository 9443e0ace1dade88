#include "one_collect/symbols/demangle.h"

#include <cxxabi.h>
#include <libiberty/demangle.h>

#include <cstdlib>
#include <memory>

namespace one_collect {

namespace {

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// `_ZN ... 17h<16 hex>E`: the Rust legacy scheme wraps Itanium mangling and
// ends with a hash path element.
bool is_rust_legacy(std::string_view s) {
  if (s.size() < 3 + 20 || s.substr(0, 3) != "_ZN" || s.back() != 'E') return false;
  std::string_view tail = s.substr(s.size() - 20);  // "17h" + 16 hex + "E"
  if (tail.substr(0, 3) != "17h") return false;
  for (std::size_t i = 3; i < 19; ++i) {
    if (!is_hex(tail[i])) return false;
  }
  return true;
}

std::string demangle_plain(const std::string& name) {
  if (name.size() > 2 && name[0] == '_' && name[1] == 'R') {
    std::unique_ptr<char, FreeDeleter> out(
        cplus_demangle(name.c_str(), DMGL_PARAMS | DMGL_ANSI | DMGL_RUST));
    return out ? std::string(out.get()) : name;
  }
  if (is_rust_legacy(name)) {
    // Without DMGL_VERBOSE libiberty drops the hash element.
    std::unique_ptr<char, FreeDeleter> out(
        cplus_demangle(name.c_str(), DMGL_PARAMS | DMGL_ANSI | DMGL_RUST));
    if (out) return std::string(out.get());
  }
  if (name.size() > 2 && name[0] == '_' && name[1] == 'Z') {
    int status = 0;
    std::unique_ptr<char, FreeDeleter> out(
        abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status));
    if (status == 0 && out) return std::string(out.get());
  }
  return name;
}

}  // namespace

bool looks_mangled(std::string_view name) {
  return name.size() > 2 && name[0] == '_' && (name[1] == 'Z' || name[1] == 'R');
}

std::string demangle(std::string_view mangled) {
  if (!looks_mangled(mangled)) return std::string(mangled);
  // Symbol versions ("name@@GLIBCXX_3.4") are not part of the mangling.
  std::size_t at = mangled.find('@');
  std::string base(mangled.substr(0, at));
  std::string out = demangle_plain(base);
  if (at != std::string_view::npos) out.append(mangled.substr(at));
  return out;
}

}  // namespace one_collect
