# one_collect as a CMake package (docs/ARCHITECTURE.md, "Public surface").
#
#   cmake --install build --prefix /opt/one_collect
#   # consumer's CMakeLists.txt, configured with -DCMAKE_PREFIX_PATH=/opt/one_collect:
#   find_package(one_collect 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE one_collect::one_collect)  # or one component
#
# Installed: the static libraries, the public headers (and the headers they
# include), lib/cmake/one_collect/ (config, version, targets). Third-party
# libraries are found again by the config (cmake/one_collectConfig.cmake.in,
# same imported targets as cmake/dependencies.cmake).
#
# Included from the top-level CMakeLists.txt right after src/one_collect, so
# the one_collect:: names below also exist in the build tree (as aliases) and
# examples link the same names in-tree and out of tree.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ONE_COLLECT_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/one_collect)

# ---- components: one_collect::<name> is the library one_collect_<name>.
# These are what an embedder links; one_collect::one_collect links them all.
set(oc_components
  core linux binary process unwind symbols
  export export_linux formats nettrace nettrace_export)

# ---- public headers, relative to src/one_collect/. The documented list of
# what an embedder includes; every other header is internal. Internal
# headers that a public one includes (core/hash.h, export/flat_map.h,
# intern/interned_slices.h, unwind/cfi.h...) are installed too, since the
# compiler needs them, but are not API. The install step follows the
# includes itself (cmake/install_headers.cmake), so this list only changes
# when the API does.
set(ONE_COLLECT_PUBLIC_HEADERS
  core/status.h
  core/errno_status.h
  core/bytes.h
  core/callstack_mode.h
  core/mapping_name.h
  event/event.h
  event/event_field.h
  event/event_format.h
  event/data_field_ref.h
  event/field_closures.h
  sharing/shared.h
  intern/interned_strings.h
  intern/interned_callstacks.h
  linux/perf_session.h
  linux/perf_event_spec.h
  linux/perf_record_parser.h
  linux/tracefs.h
  linux/procfs.h
  linux/probe_registry.h
  linux/user_events.h
  process/process_table.h
  unwind/stack_unwinder.h
  unwind/unwinder.h
  unwind/callstack.h
  symbols/symbol_cache.h
  symbols/symbol_table.h
  symbols/kernel_symbols.h
  symbols/perf_map.h
  symbols/demangle.h
  symbols/source_lines.h
  export/export_machine.h
  export/export_sample.h
  export/export_records.h
  export/export_symbols.h
  export/export_process_tracker.h
  export/off_cpu_tracker.h
  export/export_settings.h
  export/export_session.h
  export/export_graph.h
  export/universal_exporter.h
  export/scenario_registry.h
  export_linux/linux_export_session.h
  export_linux/linux_symbol_resolver.h
  formats/format_registry.h
  formats/format_hooks.h
  formats/pprof.h
  formats/folded.h
  formats/speedscope.h
  formats/perfview_xml.h
  formats/chrome_trace.h
  formats/nettrace/nettrace_export.h
  formats/nettrace/nettrace_writer.h
  formats/nettrace/universal_nettrace.h)

# ---- exported targets: the components plus every library they link
# (fs, pprof_proto, ... found by walking the link graph, so a new internal
# library needs no entry here). Imported third-party targets are not ours.
set(oc_queue)
foreach(c ${oc_components})
  if(TARGET one_collect_${c})
    list(APPEND oc_queue one_collect_${c})
  endif()
endforeach()
set(oc_exported)
while(oc_queue)
  list(POP_FRONT oc_queue t)
  if(t IN_LIST oc_exported)
    continue()
  endif()
  list(APPEND oc_exported ${t})
  get_target_property(type ${t} TYPE)
  set(deps)
  foreach(prop LINK_LIBRARIES INTERFACE_LINK_LIBRARIES)
    get_target_property(v ${t} ${prop})
    if(v)
      list(APPEND deps ${v})
    endif()
  endforeach()
  foreach(dep ${deps})
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" dep "${dep}")
    if(NOT TARGET "${dep}")
      continue()  # a plain library name or a generator expression
    endif()
    get_target_property(aliased ${dep} ALIASED_TARGET)
    if(aliased)
      set(dep ${aliased})
    endif()
    get_target_property(imported ${dep} IMPORTED)
    if(NOT imported)
      list(APPEND oc_queue ${dep})
    endif()
  endforeach()
endwhile()

# The umbrella.
add_library(one_collect_all INTERFACE)
foreach(c ${oc_components})
  if(TARGET one_collect_${c})
    target_link_libraries(one_collect_all INTERFACE one_collect_${c})
  endif()
endforeach()
set_target_properties(one_collect_all PROPERTIES EXPORT_NAME one_collect)
add_library(one_collect::one_collect ALIAS one_collect_all)

foreach(t ${oc_exported})
  string(REGEX REPLACE "^one_collect_" "" name ${t})
  set_target_properties(${t} PROPERTIES EXPORT_NAME ${name})
  add_library(one_collect::${name} ALIAS ${t})
  # Components add their include directory (src/, or a build directory for
  # generated code) as a plain path; in the package it is <prefix>/include.
  foreach(prop INTERFACE_INCLUDE_DIRECTORIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES)
    get_target_property(dirs ${t} ${prop})
    if(dirs)
      set(wrapped)
      foreach(d ${dirs})
        if(d MATCHES "^\\$<")
          list(APPEND wrapped "${d}")
        else()
          list(APPEND wrapped "$<BUILD_INTERFACE:${d}>")
        endif()
      endforeach()
      set_target_properties(${t} PROPERTIES ${prop} "${wrapped}")
    endif()
  endforeach()
endforeach()

# Sanitized libraries need the sanitizer runtime in whatever links them.
if(ONE_COLLECT_SANITIZE)
  target_link_options(one_collect_core INTERFACE
                      $<INSTALL_INTERFACE:-fsanitize=address,undefined>)
endif()

install(TARGETS ${oc_exported} one_collect_all
  EXPORT one_collectTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT one_collectTargets
  NAMESPACE one_collect::
  DESTINATION ${ONE_COLLECT_INSTALL_CMAKEDIR})

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/one_collectConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/one_collectConfig.cmake
  INSTALL_DESTINATION ${ONE_COLLECT_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the API.
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/one_collectConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/one_collectConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/one_collectConfigVersion.cmake
  DESTINATION ${ONE_COLLECT_INSTALL_CMAKEDIR})

# Headers: the public list and what it includes, resolved when installing
# (so editing a header never needs a reconfigure to keep the set right).
install(CODE "
  set(OC_HEADER_SOURCE_DIR \"${PROJECT_SOURCE_DIR}/src/one_collect\")
  set(OC_HEADER_DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_INCLUDEDIR}/one_collect\")
  set(OC_PUBLIC_HEADERS \"${ONE_COLLECT_PUBLIC_HEADERS}\")
  include(\"${PROJECT_SOURCE_DIR}/cmake/install_headers.cmake\")
")

# ---- tests of the package
if(ONE_COLLECT_TESTS)
  # Install into a fresh prefix, build tests/install_consumer against it with
  # find_package(one_collect) alone, run it. In the sanitized flavour the
  # consumer is compiled with the same sanitizers (the installed core asks
  # for their runtime at link time anyway).
  set(oc_consumer_flags "")
  if(ONE_COLLECT_SANITIZE)
    set(oc_consumer_flags "-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined")
  endif()
  add_test(NAME package.install_consumer
    COMMAND ${CMAKE_COMMAND}
      -DBUILD_DIR=${PROJECT_BINARY_DIR}
      -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
      -DWORK_DIR=${PROJECT_BINARY_DIR}/install_consumer
      -DGENERATOR=${CMAKE_GENERATOR}
      -DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
      -DCXX_COMPILER=${CMAKE_CXX_COMPILER}
      -DBUILD_TYPE=${CMAKE_BUILD_TYPE}
      -DCXX_FLAGS=${oc_consumer_flags}
      -DLIBDIR=${CMAKE_INSTALL_LIBDIR}
      -P ${PROJECT_SOURCE_DIR}/tests/install_consumer/run_test.cmake)
  set_tests_properties(package.install_consumer PROPERTIES TIMEOUT 600 LABELS package)

  # A missing profile.proto stops configuration naming the Debian package.
  add_test(NAME package.missing_profile_proto_names_package
    COMMAND ${CMAKE_COMMAND} -S ${PROJECT_SOURCE_DIR} -B ${PROJECT_BINARY_DIR}/missing_proto_check
      -G ${CMAKE_GENERATOR} -DCMAKE_MAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
      -DONE_COLLECT_TESTS=OFF -DONE_COLLECT_BENCH=OFF
      -DONE_COLLECT_PPROF_PROTO=/nonexistent/profile.proto)
  set_tests_properties(package.missing_profile_proto_names_package PROPERTIES
    PASS_REGULAR_EXPRESSION "Debian package[ \t\r\n]+golang-github-google-pprof-dev"
    TIMEOUT 120 LABELS package)
endif()
