// Test and benchmark support: runs a program and samples its user stacks
// with perf_event_open (PERF_SAMPLE_REGS_USER + PERF_SAMPLE_STACK_USER), the
// same data the perf session delivers, without depending on it. Needs root
// (or perf_event_paranoid <= 1).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "one_collect/core/status.h"
#include "one_collect/process/process_table.h"

namespace one_collect::unwind::testing {

struct CapturedSample {
  std::uint64_t ip = 0, rsp = 0, rbp = 0;
  std::uint64_t time = 0;
  std::vector<std::uint8_t> stack;  // dyn_size bytes starting at rsp
};

struct CapturedMapping {
  std::uint64_t start = 0, end = 0, pgoff = 0, dev = 0, ino = 0;
  bool exec = false;
  std::string path;
};

struct Capture {
  pid_t pid = 0;
  std::vector<CapturedMapping> mappings;
  std::vector<CapturedSample> samples;
};

struct CaptureOptions {
  std::vector<std::string> argv;  // program and arguments
  std::size_t max_samples = 2000;
  std::uint32_t stack_size = 16384;
  std::uint64_t period_ns = 200000;  // cpu-clock sampling period
  double max_seconds = 8;
};

// Starts argv[0], waits for it to write one byte to stdout (it is in main,
// its mappings are final), reads its maps, samples it, then kills it.
Result<Capture> capture_program(const CaptureOptions& options);

// Feeds a capture's mappings into a process table (time 0).
void load_mappings(const Capture& capture, ProcessTable& table);

}  // namespace one_collect::unwind::testing
