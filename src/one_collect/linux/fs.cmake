# tracefs, procfs, dynamic probes (uprobes/kprobes), user_events.
target_sources(one_collect_linux PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/tracefs.cc
  ${CMAKE_CURRENT_LIST_DIR}/procfs.cc
)

oc_add_test(NAME linux_fs_tests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/tracefs_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/procfs_test.cc
  LIBS one_collect_linux one_collect_testing)
