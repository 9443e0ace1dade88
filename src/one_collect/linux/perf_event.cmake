# perf_events: ABI helpers, record parsing, time order, rings and their
# reader thread, event specs, sessions.
target_sources(one_collect_linux PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/perf_event_abi.cc
  ${CMAKE_CURRENT_LIST_DIR}/perf_record_parser.cc
  ${CMAKE_CURRENT_LIST_DIR}/perf_time_merge.cc
  ${CMAKE_CURRENT_LIST_DIR}/perf_ring.cc
  ${CMAKE_CURRENT_LIST_DIR}/perf_ring_reader.cc
  ${CMAKE_CURRENT_LIST_DIR}/perf_event_spec.cc
  ${CMAKE_CURRENT_LIST_DIR}/perf_session.cc
  ${CMAKE_CURRENT_LIST_DIR}/perf_session_environment.cc
)
find_package(Threads REQUIRED)
target_link_libraries(one_collect_linux PUBLIC Threads::Threads)

# A small program the live tests run and probe.
add_executable(perf_test_target ${CMAKE_CURRENT_LIST_DIR}/perf_test_target.cc)
# Never sanitized: probes and exact counts are about the program, and
# LeakSanitizer's exit-time check breaks when uretprobes rewrite the stack.
target_compile_options(perf_test_target PRIVATE -O1 -g -fno-sanitize=all)
target_link_options(perf_test_target PRIVATE -fno-sanitize=all)
find_package(Threads REQUIRED)
target_link_libraries(perf_test_target PRIVATE Threads::Threads)

oc_add_test(NAME linux_perf_tests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/perf_record_parser_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/perf_time_merge_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/perf_session_test.cc
  LIBS one_collect_linux one_collect_testing)
if(TARGET linux_perf_tests)
  add_dependencies(linux_perf_tests perf_test_target)
  target_compile_definitions(linux_perf_tests PRIVATE
    PERF_TEST_TARGET_PATH="$<TARGET_FILE:perf_test_target>")
endif()
