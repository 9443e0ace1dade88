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

oc_add_test(NAME linux_perf_tests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/perf_record_parser_test.cc
  LIBS one_collect_linux one_collect_testing)
