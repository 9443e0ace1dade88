// record-trace: the command-line recorder (see --help, README "record-trace").
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "tools/record_trace/exit_codes.h"
#include "tools/record_trace/recorder.h"

int main(int argc, char** argv) {
  // No exception reaches the user as a crash: our APIs return Status, and
  // anything else (e.g. out of memory) ends in a one-line message.
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    return one_collect::record_trace::run_record_trace(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "record-trace: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "record-trace: internal error\n");
  }
  return one_collect::record_trace::kExitRuntime;
}
