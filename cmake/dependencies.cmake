# Third-party libraries, found once for the whole build as imported targets:
#   Threads::Threads, PkgConfig::libelf, PkgConfig::libdw, libiberty::libiberty,
#   ZLIB::ZLIB, protobuf::libprotobuf (+ protoc), and pprof's profile.proto.
# The installed package config (cmake/one_collectConfig.cmake.in) finds the
# same libraries under the same target names, so the exported one_collect::
# targets link them and a consumer needs only find_package(one_collect).
# Keep the two files in step.
#
# A missing piece stops configuration naming the Debian package that provides
# it (scripts/setup installs them all).

function(oc_dependency_missing what package)
  message(FATAL_ERROR
    "one_collect: ${what} not found. Install the Debian package ${package} "
    "(apt-get install ${package}; scripts/setup installs every dependency).")
endfunction()

find_package(Threads REQUIRED)
if(ONE_COLLECT_CORE_ONLY)
  return()  # the OS-neutral core needs nothing else
endif()

# pprof's profile.proto as Debian ships it, compiled by protoc at build time
# (src/one_collect/formats). Elsewhere, point ONE_COLLECT_PPROF_PROTO at a copy.
set(ONE_COLLECT_PPROF_PROTO /usr/share/gocode/src/github.com/google/pprof/proto/profile.proto
    CACHE FILEPATH "pprof's profile.proto (Debian: golang-github-google-pprof-dev)")
if(NOT EXISTS "${ONE_COLLECT_PPROF_PROTO}")
  oc_dependency_missing("pprof's profile.proto (${ONE_COLLECT_PPROF_PROTO})"
                        golang-github-google-pprof-dev)
endif()

find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
  oc_dependency_missing("pkg-config" pkg-config)
endif()
# libelf: ELF reading for probes and symbols; libdw: source lines.
pkg_check_modules(libelf QUIET IMPORTED_TARGET libelf)
if(NOT libelf_FOUND)
  oc_dependency_missing("libelf (pkg-config module libelf)" libelf-dev)
endif()
pkg_check_modules(libdw QUIET IMPORTED_TARGET libdw)
if(NOT libdw_FOUND)
  oc_dependency_missing("libdw (pkg-config module libdw)" libdw-dev)
endif()

# libiberty (C++ demangling): a static library without a pkg-config module.
find_library(ONE_COLLECT_LIBIBERTY NAMES libiberty.a iberty)
if(NOT ONE_COLLECT_LIBIBERTY)
  oc_dependency_missing("libiberty" libiberty-dev)
endif()
if(NOT TARGET libiberty::libiberty)
  add_library(libiberty::libiberty UNKNOWN IMPORTED)
  set_target_properties(libiberty::libiberty PROPERTIES IMPORTED_LOCATION "${ONE_COLLECT_LIBIBERTY}")
endif()

find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  oc_dependency_missing("zlib" zlib1g-dev)
endif()
find_package(Protobuf QUIET)
if(NOT Protobuf_FOUND)
  oc_dependency_missing("protobuf" libprotobuf-dev)
endif()
if(NOT Protobuf_PROTOC_EXECUTABLE)
  oc_dependency_missing("protoc" protobuf-compiler)
endif()
