# tracefs, procfs, dynamic probes (uprobes/kprobes), user_events.
target_sources(one_collect_linux PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/tracefs.cc
  ${CMAKE_CURRENT_LIST_DIR}/procfs.cc
  ${CMAKE_CURRENT_LIST_DIR}/probe_registry.cc
  ${CMAKE_CURRENT_LIST_DIR}/user_events.cc
)
# libelf: the probe registry resolves function names to file offsets.
target_link_libraries(one_collect_linux PRIVATE elf)

# A small program whose function oc_uprobe_target_fn is called N times
# (argv[1]); uprobe tests here and in the perf session use it.
add_executable(oc_uprobe_target ${CMAKE_CURRENT_LIST_DIR}/testdata/uprobe_target.cc)
target_link_libraries(oc_uprobe_target PRIVATE oc_warnings)

oc_add_test(NAME linux_fs_tests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/tracefs_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/procfs_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/probe_registry_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/user_events_test.cc
  LIBS one_collect_linux one_collect_testing)
if(TARGET linux_fs_tests)
  target_compile_definitions(linux_fs_tests PRIVATE
    OC_UPROBE_TARGET="$<TARGET_FILE:oc_uprobe_target>")
  add_dependencies(linux_fs_tests oc_uprobe_target)
  # dlsym in the symbol-resolution test
  target_link_libraries(linux_fs_tests PRIVATE ${CMAKE_DL_LIBS})
endif()
