// cpu_profile: CPU samples with stacks of a process, or of a command it
// launches, written as a pprof profile (`go tool pprof -top OUT`).
//
//   cpu_profile OUT.pb.gz --pid PID [SECONDS=5]
//   cpu_profile OUT.pb.gz -- COMMAND [ARGS...]     (until the command exits)
//
// UniversalExporter runs the recipe (settings -> session -> symbols -> export
// hooks); LinuxExportSession is its perf_events side: it samples, unwinds each
// stack as it arrives (DWARF CFI) and names addresses at the end.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "one_collect/export/universal_exporter.h"
#include "one_collect/export_linux/linux_export_session.h"
#include "one_collect/formats/pprof.h"

using namespace one_collect;

int main(int argc, char** argv) {
  if (argc < 4 || (std::strcmp(argv[2], "--pid") != 0 && std::strcmp(argv[2], "--") != 0)) {
    std::fprintf(stderr,
                 "usage: cpu_profile OUT.pb.gz --pid PID [SECONDS=5]\n"
                 "       cpu_profile OUT.pb.gz -- COMMAND [ARGS...]\n");
    return 2;
  }
  const std::string out = argv[1];
  const bool by_pid = std::strcmp(argv[2], "--pid") == 0;

  ExportSettings settings;
  Status s = settings.add_scenario("cpu");  // cpu-clock at 1000 Hz, with stacks
  LinuxSessionOptions options;
  if (by_pid) {
    settings.add_target_pid(static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10)));
  } else {
    options.command.assign(argv + 3, argv + argc);
  }
  UniversalExporter exporter(settings, std::make_unique<LinuxExportSession>(options));
  std::size_t samples = 0;
  // Export hooks run once collection stopped and symbols are resolved.
  exporter.add_export_hook([&](const ExportMachine& machine, const ExportSettings&) {
    samples = machine.samples().size();
    return write_pprof(machine, out);
  });
  if (s.ok()) {
    s = by_pid ? exporter.collect_for("cpu_profile",
                                      std::chrono::seconds(argc > 4 ? std::atoi(argv[4]) : 5))
               : exporter.collect_until("cpu_profile", [] { return false; });  // until exit
  }
  if (!s.ok()) {
    std::fprintf(stderr, "cpu_profile: %s\n", s.to_string().c_str());
    return 1;
  }
  std::printf("%zu samples written to %s\n", samples, out.c_str());
  return 0;
}
