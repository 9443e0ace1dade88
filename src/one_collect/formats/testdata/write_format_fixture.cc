// Writes every format of the synthetic fixture into a directory, for the
// independent readers run by ctest (formats/testdata/*).
#include <cstdio>
#include <string>

#include "one_collect/formats/chrome_trace.h"
#include "one_collect/formats/folded.h"
#include "one_collect/formats/perfview_xml.h"
#include "one_collect/formats/pprof.h"
#include "one_collect/formats/speedscope.h"
#include "one_collect/formats/testing/format_fixture.h"

using namespace one_collect;

static int check(const Status& s) {
  if (s.ok()) return 0;
  std::fprintf(stderr, "write_format_fixture: %s\n", s.to_string().c_str());
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  ExportMachine m;
  build_format_fixture(m);
  SampleKind off = *m.find_sample_kind("off_cpu");
  int failures = 0;
  failures += check(write_pprof(m, dir + "/fixture.cpu.pb.gz"));
  failures += check(write_pprof(m, dir + "/fixture.off_cpu.pb.gz", PprofOptions{off}));
  failures += check(write_speedscope(m, dir + "/fixture.cpu.speedscope.json"));
  failures +=
      check(write_speedscope(m, dir + "/fixture.off_cpu.speedscope.json", SpeedscopeOptions{off}));
  failures += check(write_folded(m, dir + "/fixture.cpu.folded"));
  FoldedOptions folded_off;
  folded_off.kind = off;
  folded_off.count_samples = false;
  failures += check(write_folded(m, dir + "/fixture.off_cpu.folded", folded_off));
  failures += check(write_chrome_trace(m, dir + "/fixture.trace.json"));
  failures += check(write_perfview_xml(m, dir + "/fixture").status());
  return failures ? 1 : 0;
}
