// The smallest program built against an installed one_collect
// (find_package(one_collect), one_collect::one_collect). The ctest test
// package.install_consumer (run_test.cmake) builds it out of tree and
// compares what it prints. It needs no privileges, yet touches each library
// that brings a third-party one: the event model, the export machine and
// its symbolization hook, pprof (protobuf, zlib), folded, nettrace,
// demangling (libiberty) and the Linux session (perf_events, libelf, libdw;
// linked, not started).
//
//   consumer OUTPUT_DIR
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "one_collect/event/event.h"
#include "one_collect/export/export_machine.h"
#include "one_collect/export_linux/linux_export_session.h"
#include "one_collect/formats/folded.h"
#include "one_collect/formats/nettrace/nettrace_export.h"
#include "one_collect/formats/pprof.h"
#include "one_collect/symbols/demangle.h"

using namespace one_collect;

namespace {

// Names the two functions of "/usr/bin/app" (file offsets).
class Resolver : public SymbolResolver {
 public:
  Status resolve(const SymbolQuery& q, std::span<const std::uint64_t>,
                 std::vector<ExportResolvedSymbol>& out,
                 std::vector<ExportResolvedLine>&) override {
    if (q.filename != "/usr/bin/app") return ok_status();
    out.push_back({0x1000, 0x1100, "main", "app.cc", 10});
    out.push_back({0x1100, 0x1200, "work", "app.cc", 20});
    return ok_status();
  }
};

int check(const Status& s, const char* what) {
  if (s.ok()) return 0;
  std::fprintf(stderr, "consumer: %s: %s\n", what, s.to_string().c_str());
  return 1;
}

std::uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];

  // The event model: a format, a callback, a record.
  Event event(1, "demo");
  Result<EventField> field = EventField::create("value", "unsigned int", 0, 4);
  if (!field.ok() || check(event.format().add_field(*field), "add_field") != 0) return 1;
  EventFieldRef value = event.format().get_field_ref("value").value();
  event.add_callback([&](const EventData& d) -> Status {
    OC_ASSIGN_OR_RETURN(std::uint32_t v, d.format.get_u32(value, d.event_data));
    std::printf("event: value=%u\n", v);
    return ok_status();
  });
  const std::uint8_t record[4] = {42, 0, 0, 0};
  EventErrors errors;
  event.process(record, record, errors);

  std::printf("demangle: %s\n", demangle("_ZNK11one_collect6Status2okEv").c_str());

  // An export machine: 3 samples in work() called from main(), resolved.
  ExportMachine m;
  m.add_process_start(100, 0, "app");
  m.add_mapping(100, 0, 0x400000, 0x410000, 0, "/usr/bin/app");
  SampleKind cpu = m.sample_kind("cpu");
  const std::uint64_t frames[] = {0x401010};  // a return address in main
  for (std::uint64_t t = 1; t <= 3; ++t) {
    m.add_sample(t * 1000, MetricValue::duration(1000000), 100, 100, 0, cpu, 0x401110, frames);
  }
  Resolver resolver;
  if (check(m.capture_and_resolve_symbols(resolver), "resolve") != 0) return 1;
  std::printf("folded: %s", folded_text(m).c_str());
  if (check(write_pprof(m, dir + "/app.pb.gz"), "pprof") != 0) return 1;
  std::printf("pprof: %s\n", file_size(dir + "/app.pb.gz") > 0 ? "written" : "empty");
  if (check(write_nettrace(m, dir + "/app.nettrace"), "nettrace") != 0) return 1;
  std::printf("nettrace: %s\n", file_size(dir + "/app.nettrace") > 0 ? "written" : "empty");

  // The Linux session links the whole collection stack (not started here).
  LinuxExportSession session;
  std::printf("linux: session ready (%zu notes)\n", session.notes().size());
  return 0;
}
