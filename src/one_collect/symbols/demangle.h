// Symbol demangling: C++ (Itanium ABI) and Rust (legacy and v0).
#pragma once

#include <string>
#include <string_view>

namespace one_collect {

// The readable form of `mangled`, or `mangled` itself when it is not a
// mangled name (C symbols) or cannot be demangled.
//   - `_R...`                        Rust v0     -> "crate::path::<generics>"
//   - `_ZN...17h<16 hex digits>E`    Rust legacy -> "crate::path" (hash dropped)
//   - other `_Z...`                  C++         -> "ns::f(int)"
// Names with a "@VERSION" suffix (e.g. "memcpy@GLIBC_2.14") keep the suffix.
std::string demangle(std::string_view mangled);

// True if `name` looks mangled (starts with _Z or _R).
bool looks_mangled(std::string_view name);

}  // namespace one_collect
