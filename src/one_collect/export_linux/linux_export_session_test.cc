// End-to-end: UniversalExporter driving a real perf_events session on a
// launched workload, with DWARF unwinding and symbolization, then exports.
#include "one_collect/export_linux/linux_export_session.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>

#include "one_collect/export/export_graph.h"
#include "one_collect/export/universal_exporter.h"
#include "one_collect/formats/folded.h"
#include "one_collect/formats/pprof.h"
#include "one_collect/testing/privileged.h"
#include "one_collect/testing/temp_dir.h"

namespace one_collect {
namespace {

struct Recording {
  Status status;
  std::unique_ptr<UniversalExporter> exporter;
  LinuxExportSession* session = nullptr;
};

Recording record(std::vector<std::string> command, bool off_cpu, CallstackMode mode) {
  ExportSettings settings;
  EXPECT_TRUE(settings.add_scenario(off_cpu ? "off_cpu" : "cpu").ok());
  EXPECT_TRUE(settings.set_cpu_sampling_frequency(1000).ok());
  settings.set_callstack_mode(mode);
  LinuxSessionOptions options;
  options.command = std::move(command);
  // Rings that hold a whole test recording (1.5 s at 1 kHz of 16 KiB stack
  // copies is 24 MiB): zero loss must hold even when the consumer, slowed by
  // ASan and a parallel test, gets no CPU for the whole run.
  options.ring_bytes = 32u << 20;
  auto session = std::make_unique<LinuxExportSession>(options);
  Recording run;
  run.session = session.get();
  run.exporter = std::make_unique<UniversalExporter>(settings, std::move(session));
  run.status = run.exporter->collect_until("test", [] { return false; });
  return run;
}

// Self time per symbol name over samples of one kind.
std::map<std::string, std::uint64_t> self_by_symbol(const ExportMachine& m, SampleKind kind) {
  std::map<std::string, std::uint64_t> out;
  for (const auto& s : m.samples()) {
    if (s.kind != kind) continue;
    const ExportSymbol* sym = m.find_symbol(s.pid, s.leaf_ip, s.time);
    out[sym ? std::string(m.string(sym->name)) : "?"] += 1;
  }
  return out;
}

// Whether the sample's stack (leaf, then frames) names `function` and main.
bool stack_has(const ExportMachine& m, const ExportSample& s, std::string_view function) {
  bool saw_function = false, saw_main = false;
  auto check = [&](std::uint64_t ip) {
    const ExportSymbol* sym = m.find_symbol(s.pid, ip, s.time);
    if (!sym) return;
    std::string_view name = m.string(sym->name);
    saw_function |= name == function;
    saw_main |= name == "main";
  };
  check(s.leaf_ip);
  if (auto frames = m.callstacks().get(s.callstack)) {
    for (auto ip : *frames) check(ip);
  }
  return saw_function && saw_main;
}

TEST(LinuxExportSessionTest, CpuProfileOfLaunchedCommandUnwindsAndSymbolizes) {
  OC_REQUIRE_ROOT();
  Recording run = record({OC_EXPORT_WORKLOAD, "cpu", "1500"}, false, CallstackMode::kDwarf);
  ASSERT_TRUE(run.status.ok()) << run.status.to_string();
  EXPECT_EQ(run.session->command_exit_code(), 0);

  run.exporter->machine().read([&](const ExportMachine& m) {
    SampleKind cpu = *m.find_sample_kind(kCpuKind);
    auto self = self_by_symbol(m, cpu);
    std::uint64_t total = 0;
    for (auto& [name, n] : self) total += n;
    // 1.5 s of CPU at 1 kHz: about 1500 samples; allow for a loaded machine.
    EXPECT_GT(total, 1000u);
    EXPECT_LT(total, 2200u);

    // Samples in the two hot functions (or what they call) reach main.
    std::uint64_t in_workload = 0, complete = 0;
    for (const auto& s : m.samples()) {
      if (s.kind != cpu) continue;
      bool sort = stack_has(m, s, "oc_hot_sort");
      bool mix = stack_has(m, s, "oc_hot_mix");
      const ExportSymbol* leaf = m.find_symbol(s.pid, s.leaf_ip, s.time);
      std::string_view leaf_name = leaf ? m.string(leaf->name) : "";
      if (leaf_name == "oc_hot_mix" || leaf_name == "oc_hot_sort") {
        ++in_workload;
        complete += (sort || mix);
      }
    }
    EXPECT_GT(in_workload, total / 4) << "hot functions should dominate the leaves";
    EXPECT_GE(complete * 100, in_workload * 95) << complete << " of " << in_workload
                                                 << " hot samples unwound to main";
    EXPECT_EQ(m.total_lost(), 0u);
  });
}

TEST(LinuxExportSessionTest, FramePointerModeStillNamesLeaves) {
  OC_REQUIRE_ROOT();
  Recording run = record({OC_EXPORT_WORKLOAD, "cpu", "600"}, false, CallstackMode::kFramePointer);
  ASSERT_TRUE(run.status.ok()) << run.status.to_string();
  run.exporter->machine().read([&](const ExportMachine& m) {
    auto self = self_by_symbol(m, *m.find_sample_kind(kCpuKind));
    EXPECT_GT(self["oc_hot_mix"] + self["oc_hot_sort"], 100u);
  });
}

TEST(LinuxExportSessionTest, OffCpuMeasuresSleeps) {
  OC_REQUIRE_ROOT();
  // 20 sleeps of 25 ms: 500 ms off-CPU in oc_sleep_once.
  Recording run = record({OC_EXPORT_WORKLOAD, "sleep", "20", "25"}, true, CallstackMode::kDwarf);
  ASSERT_TRUE(run.status.ok()) << run.status.to_string();
  run.exporter->machine().read([&](const ExportMachine& m) {
    SampleKind off = *m.find_sample_kind(kOffCpuKind);
    std::uint64_t sleeping_ns = 0, sleeps = 0;
    for (const auto& s : m.samples()) {
      if (s.kind != off) continue;
      if (stack_has(m, s, "oc_sleep_once")) {
        sleeping_ns += s.value;
        ++sleeps;
      }
    }
    EXPECT_GE(sleeps, 20u);
    // Each sleep lasts at least 25 ms; scheduling may add, never remove.
    EXPECT_GE(sleeping_ns, 20u * 25'000'000u);
    EXPECT_LT(sleeping_ns, 20u * 25'000'000u * 3);
  });
}

TEST(LinuxExportSessionTest, ExportsFilesFromTheRecordedMachine) {
  OC_REQUIRE_ROOT();
  testing::TempDir tmp("oc-export-linux");
  std::string dir = tmp.string();
  Recording run = record({OC_EXPORT_WORKLOAD, "cpu", "300"}, false, CallstackMode::kDwarf);
  ASSERT_TRUE(run.status.ok()) << run.status.to_string();
  run.exporter->machine().read([&](const ExportMachine& m) {
    ASSERT_TRUE(write_folded(m, dir + "/trace.folded").ok());
    ASSERT_TRUE(write_pprof(m, dir + "/trace.pb.gz").ok());
  });
  struct stat st{};
  ASSERT_EQ(stat((dir + "/trace.folded").c_str(), &st), 0);
  EXPECT_GT(st.st_size, 0);
  ASSERT_EQ(stat((dir + "/trace.pb.gz").c_str(), &st), 0);
  EXPECT_GT(st.st_size, 0);
}

TEST(LinuxExportSessionTest, UnknownCommandIsAClearError) {
  OC_REQUIRE_ROOT();
  Recording run = record({"/nonexistent/oc-no-such-binary"}, false, CallstackMode::kNone);
  ASSERT_FALSE(run.status.ok());
  EXPECT_EQ(run.status.code(), ErrorCode::kNotFound);
  EXPECT_NE(run.status.message().find("oc-no-such-binary"), std::string::npos);
  Recording in_path = record({"oc-no-such-binary-in-path"}, false, CallstackMode::kNone);
  ASSERT_FALSE(in_path.status.ok());
  EXPECT_NE(in_path.status.message().find("not found in PATH"), std::string::npos);
}

}  // namespace
}  // namespace one_collect
