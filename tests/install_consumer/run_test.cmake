# ctest test package.install_consumer (registered by cmake/package.cmake):
# installs the build into a fresh prefix, checks what was installed, builds
# this folder's project and examples/embed against it (find_package(one_collect)
# only), runs this folder's program and compares its output.
#
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=...
#         -DMAKE_PROGRAM=... -DCXX_COMPILER=... -DBUILD_TYPE=... -DCXX_FLAGS=...
#         -DLIBDIR=...
#         -P run_test.cmake
cmake_minimum_required(VERSION 3.25)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "install_consumer: `${cmd}` failed (${rc}):\n${out}")
  endif()
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/out)

# 1. Install.
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# 2. What an embedder gets: public headers, no internal-only or test ones,
#    no generated protobuf code, and a package that names no path of this
#    checkout or build.
foreach(f
    include/one_collect/linux/perf_session.h
    include/one_collect/export/universal_exporter.h
    include/one_collect/export_linux/linux_export_session.h
    include/one_collect/formats/pprof.h
    ${LIBDIR}/libone_collect_core.a
    ${LIBDIR}/libone_collect_export_linux.a
    ${LIBDIR}/cmake/one_collect/one_collectConfig.cmake
    ${LIBDIR}/cmake/one_collect/one_collectConfigVersion.cmake
    ${LIBDIR}/cmake/one_collect/one_collectTargets.cmake)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "install_consumer: ${f} was not installed")
  endif()
endforeach()
foreach(f
    include/one_collect/unwind/dwarf_cursor.h
    include/one_collect/unwind/dwarf_expr.h
    include/one_collect/export/scenario_list.h
    include/one_collect/formats/text_escape.h
    include/one_collect/fs
    include/one_collect/testing
    include/profile.pb.h)
  if(EXISTS ${prefix}/${f})
    message(FATAL_ERROR "install_consumer: internal ${f} was installed")
  endif()
endforeach()
file(GLOB_RECURSE stray RELATIVE ${prefix} ${prefix}/*_test.cc ${prefix}/*.pb.h ${prefix}/*testing*)
if(stray)
  message(FATAL_ERROR "install_consumer: test or generated files installed: ${stray}")
endif()
file(GLOB package_files ${prefix}/${LIBDIR}/cmake/one_collect/*.cmake)
foreach(f ${package_files})
  file(READ ${f} text)
  foreach(dir ${SOURCE_DIR} ${BUILD_DIR})
    string(FIND "${text}" "${dir}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "install_consumer: ${f} names ${dir}")
    endif()
  endforeach()
endforeach()

# 3. Configure and build the consumer against the prefix alone; examples/embed
#    builds the same way out of tree (its programs need root and run as the
#    tests examples.embed.*; here they are only built).
function(build_against_prefix source binary)
  set(configure ${CMAKE_COMMAND} -S ${source} -B ${binary} -G ${GENERATOR}
      -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
      -DCMAKE_BUILD_TYPE=${BUILD_TYPE} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}")
  if(MAKE_PROGRAM)
    list(APPEND configure -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
  endif()
  run(${configure})
  run(${CMAKE_COMMAND} --build ${binary})
endfunction()
build_against_prefix(${SOURCE_DIR}/tests/install_consumer ${WORK_DIR}/build)
build_against_prefix(${SOURCE_DIR}/examples/embed ${WORK_DIR}/embed)

# 4. Run it.
execute_process(COMMAND ${WORK_DIR}/build/consumer ${WORK_DIR}/out
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install_consumer: consumer exited with ${rc}")
endif()
set(expected "event: value=42
demangle: one_collect::Status::ok() const
folded: app;app!main;app!work 3
pprof: written
nettrace: written
linux: session ready (0 notes)
")
if(NOT out STREQUAL expected)
  message(FATAL_ERROR "install_consumer: expected\n${expected}")
endif()
message("install_consumer: ok")
