// Gate for tests that need root and the real kernel (perf_events, tracefs).
//
// Unprivileged runs skip with a reason. CI sets
// ONE_COLLECT_REQUIRE_PRIVILEGED=1, and then a missing privilege is a test
// failure, never a silent skip.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace one_collect::testing {

inline bool privileged_tests_required() {
  const char* v = std::getenv("ONE_COLLECT_REQUIRE_PRIVILEGED");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

}  // namespace one_collect::testing

// Use at the top of a TEST body: skips (or fails under CI) unless root.
#define OC_REQUIRE_ROOT()                                                              \
  do {                                                                                 \
    if (::geteuid() != 0) {                                                            \
      if (::one_collect::testing::privileged_tests_required()) {                       \
        FAIL() << "needs root, and ONE_COLLECT_REQUIRE_PRIVILEGED=1 forbids skipping"; \
      }                                                                                \
      GTEST_SKIP() << "needs root (perf_events / tracefs); run as root to include it"; \
    }                                                                                  \
  } while (0)

// Skips (or fails under CI) with `reason` when `condition` is false: for a
// facility the machine should have (e.g. tracefs mountable).
#define OC_REQUIRE_FACILITY(condition, reason)                   \
  do {                                                           \
    if (!(condition)) {                                          \
      if (::one_collect::testing::privileged_tests_required()) { \
        FAIL() << "missing facility: " << (reason);              \
      }                                                          \
      GTEST_SKIP() << "missing facility: " << (reason);          \
    }                                                            \
  } while (0)
