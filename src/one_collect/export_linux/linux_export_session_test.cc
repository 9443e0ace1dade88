// End-to-end: UniversalExporter driving a real perf_events session on a
// launched workload, with DWARF unwinding and symbolization, then exports.
#include "one_collect/export_linux/linux_export_session.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>

#include "one_collect/export/export_graph.h"
#include "one_collect/export/universal_exporter.h"
#include "one_collect/formats/folded.h"
#include "one_collect/formats/pprof.h"
#include "one_collect/symbols/symbol_cache.h"
#include "one_collect/testing/privileged.h"
#include "one_collect/testing/temp_dir.h"

namespace one_collect {
namespace {

struct Recording {
  Status status;
  std::unique_ptr<UniversalExporter> exporter;
  LinuxExportSession* session = nullptr;
};

Recording record(std::vector<std::string> command, bool off_cpu, CallstackMode mode,
                 std::function<std::unique_ptr<unwind::StackUnwinder>()> make_unwinder = {}) {
  ExportSettings settings;
  EXPECT_TRUE(settings.add_scenario(off_cpu ? "off_cpu" : "cpu").ok());
  EXPECT_TRUE(settings.set_cpu_sampling_frequency(1000).ok());
  settings.set_callstack_mode(mode);
  LinuxSessionOptions options;
  options.command = std::move(command);
  options.make_unwinder = std::move(make_unwinder);
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
    EXPECT_GE(complete * 100, in_workload * 95)
        << complete << " of " << in_workload << " hot samples unwound to main";
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
  struct stat st {};
  ASSERT_EQ(stat((dir + "/trace.folded").c_str(), &st), 0);
  EXPECT_GT(st.st_size, 0);
  ASSERT_EQ(stat((dir + "/trace.pb.gz").c_str(), &st), 0);
  EXPECT_GT(st.st_size, 0);
}

// ---- source lines, inlined frames, caller naming (LinuxSymbolResolver, pprof)

// The line of the source fixture holding `marker`, 0 if none.
int marker_line(const std::string& source, std::string_view marker) {
  std::istringstream in(testing::read_text(source));
  std::string text;
  for (int n = 1; std::getline(in, text); ++n) {
    if (text.find(marker) != std::string::npos) return n;
  }
  return 0;
}

// `go tool pprof ARGS` run offline in `dir`, stdout and stderr together.
std::string go_pprof(const std::string& dir, const std::string& args) {
  std::string command = "cd '" + dir + "' && HOME='" + dir + "' GOCACHE='" + dir +
                        "/gocache' GO111MODULE=off GOFLAGS= GOPROXY=off go tool pprof " + args +
                        " 2>&1";
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
    int rc = ::pclose(pipe);
    if (rc != 0) out += "\n[go tool pprof exited with " + std::to_string(rc) + "]";
  }
  return out;
}

TEST(LinuxExportSessionTest, PprofShowsSourceLinesAndInlinedFrames) {
  OC_REQUIRE_ROOT();
  int inner_line = marker_line(OC_SOURCE_WORKLOAD_SOURCE, "// OC_INNER_LINE");
  ASSERT_GT(inner_line, 0);
  // Where oc_lines_inner is declared (its name's line).
  int inner_decl = marker_line(OC_SOURCE_WORKLOAD_SOURCE, "oc_lines_inner(unsigned long x,");
  ASSERT_GT(inner_decl, 0);
  int outer_decl = marker_line(OC_SOURCE_WORKLOAD_SOURCE, "oc_lines_outer(unsigned long x,");
  ASSERT_GT(outer_decl, 0);
  testing::TempDir tmp("oc-export-lines");
  std::string dir = tmp.string();
  Recording run = record({OC_SOURCE_WORKLOAD, "run", "500"}, false, CallstackMode::kDwarf);
  ASSERT_TRUE(run.status.ok()) << run.status.to_string();
  EXPECT_EQ(run.session->command_exit_code(), 0);
  run.exporter->machine().read([&](const ExportMachine& m) {
    // In the machine: leaves in oc_lines_outer carry the inlined frame.
    std::uint64_t inlined = 0, at_line = 0, at_decl = 0;
    for (const auto& s : m.samples()) {
      const ExportMapping* mp = nullptr;
      const ExportSymbol* sym = m.find_symbol(s.pid, s.leaf_ip, s.time, &mp);
      if (!sym || m.string(sym->name) != "oc_lines_outer") continue;
      EXPECT_TRUE(m.string(sym->source_file).ends_with("source_workload.cc"))
          << m.string(sym->source_file);
      EXPECT_EQ(sym->line, static_cast<std::uint32_t>(outer_decl)) << "its declaration line";
      auto lines = m.symbol_table(mp->symbols)->find_lines(mp->symbol_address(s.leaf_ip));
      if (lines.size() >= 2 && m.string(lines[0].function) == "oc_lines_inner") {
        ++inlined;
        at_line += lines[0].line == static_cast<std::uint32_t>(inner_line);
        at_decl += lines[0].function_line == static_cast<std::uint32_t>(inner_decl);
      }
    }
    EXPECT_GT(inlined, 50u);
    EXPECT_GT(at_line * 2, inlined) << "most inlined samples are on the loop's line";
    EXPECT_EQ(at_decl, inlined) << "the inlined function's declaration line";
    ASSERT_TRUE(write_pprof(m, dir + "/cpu.pb.gz").ok());
  });

  // go tool pprof: file:line and the inlined function; the main executable
  // is the profile's first mapping ("File:").
  std::string top = go_pprof(dir, "-lines -top cpu.pb.gz");
  EXPECT_NE(top.find("File: oc_source_workload"), std::string::npos) << top;
  EXPECT_NE(top.find("oc_lines_inner"), std::string::npos) << top;
  EXPECT_NE(top.find("source_workload.cc:" + std::to_string(inner_line)), std::string::npos) << top;
  // -list reads the source through the function's file name.
  std::string list = go_pprof(dir, "-list oc_lines_inner cpu.pb.gz");
  EXPECT_NE(list.find("OC_INNER_LINE"), std::string::npos) << list;
  // Functions start at their declaration ("s=" in -raw), inlined ones too.
  std::string raw = go_pprof(dir, "-raw cpu.pb.gz");
  EXPECT_NE(raw.find("oc_lines_inner " + std::string(OC_SOURCE_WORKLOAD_SOURCE) + ":" +
                     std::to_string(inner_line) + " s=" + std::to_string(inner_decl)),
            std::string::npos)
      << raw.substr(0, 3000);
  EXPECT_NE(raw.find("oc_lines_outer " + std::string(OC_SOURCE_WORKLOAD_SOURCE) + ":"),
            std::string::npos);
  EXPECT_NE(raw.find(" s=" + std::to_string(outer_decl) + "\n"), std::string::npos)
      << raw.substr(0, 3000);
}

TEST(LinuxExportSessionTest, CallerEndingWithACallIsNamedByTheCall) {
  OC_REQUIRE_ROOT();
  testing::TempDir tmp("oc-export-caller");
  std::string dir = tmp.string();
  Recording run = record({OC_SOURCE_WORKLOAD, "run", "400"}, false, CallstackMode::kDwarf);
  ASSERT_TRUE(run.status.ok()) << run.status.to_string();
  run.exporter->machine().read([&](const ExportMachine& m) {
    SymbolCache cache;
    auto module = cache.load(OC_SOURCE_WORKLOAD);
    ASSERT_TRUE(module.ok()) << module.status().to_string();
    // The fixture's premise: oc_tail_caller's return address is the first
    // byte of oc_after_tail_caller. Every frame naming it must be such one.
    std::uint64_t frames = 0;
    for (const auto& s : m.samples()) {
      auto stack = m.callstacks().get(s.callstack);
      if (!stack) continue;
      for (std::uint64_t ip : *stack) {
        const ExportMapping* mp = nullptr;
        const ExportSymbol* sym = m.find_symbol(s.pid, frame_lookup_ip(ip, false), s.time, &mp);
        ASSERT_TRUE(!sym || m.string(sym->name) != "oc_after_tail_caller");
        if (!sym || m.string(sym->name) != "oc_tail_caller") continue;
        auto raw = cache.resolve_file_offset(*module, mp->symbol_address(ip));
        ASSERT_TRUE(raw.has_value());
        EXPECT_EQ(raw->name, "oc_after_tail_caller");
        EXPECT_EQ(raw->offset, 0u);
        ++frames;
      }
    }
    EXPECT_GT(frames, 50u);
    // ExportGraph names the frame the same way.
    ExportGraph graph(m);
    graph.add_samples(*m.find_sample_kind(kCpuKind));
    bool caller = false;
    for (std::uint32_t f = 0; f < graph.frames().size(); ++f) {
      std::string name = graph.frame_name(f);
      EXPECT_EQ(name.find("oc_after_tail_caller"), std::string::npos);
      caller |= name == "oc_source_workload!oc_tail_caller";
    }
    EXPECT_TRUE(caller);
    ASSERT_TRUE(write_pprof(m, dir + "/cpu.pb.gz").ok());
  });
  std::string top = go_pprof(dir, "-top cpu.pb.gz");
  EXPECT_NE(top.find("oc_tail_caller"), std::string::npos) << top;
  EXPECT_EQ(top.find("oc_after_tail_caller"), std::string::npos) << top;
}

// Frames that are exact addresses, not return addresses, are named exactly:
// oc_fault_first interrupted at its first byte, by the SIGILL its first
// instruction raises (a frame below the signal frame), and by the kernel
// handling that fault (the user frame below the kernel frames). An ip - 1
// lookup would name oc_before_fault, the function before it.
TEST(LinuxExportSessionTest, FrameInterruptedAtAFunctionsFirstByteIsNamedExactly) {
  OC_REQUIRE_ROOT();
  Recording run = record({OC_SOURCE_WORKLOAD, "fault", "400"}, false, CallstackMode::kDwarf);
  ASSERT_TRUE(run.status.ok()) << run.status.to_string();
  run.exporter->machine().read([&](const ExportMachine& m) {
    std::uint64_t interrupted = 0, wrong = 0;
    for (const auto& s : m.samples()) {
      auto stack = m.callstacks().get(s.callstack);
      if (!stack) continue;
      for (std::uint64_t ip : *stack) {
        const ExportSymbol* sym = m.find_symbol(s.pid, frame_lookup_ip(ip, false), s.time);
        if (!sym) continue;
        interrupted += m.string(sym->name) == "oc_fault_first";
        wrong += m.string(sym->name) == "oc_before_fault";
      }
    }
    EXPECT_EQ(wrong, 0u);
    EXPECT_GT(interrupted, 50u);
    // ExportGraph names it the same way.
    ExportGraph graph(m);
    graph.add_samples(*m.find_sample_kind(kCpuKind));
    bool named = false;
    for (std::uint32_t f = 0; f < graph.frames().size(); ++f) {
      std::string name = graph.frame_name(f);
      EXPECT_EQ(name.find("oc_before_fault"), std::string::npos);
      named |= name == "oc_source_workload!oc_fault_first";
    }
    EXPECT_TRUE(named);
  });
}

// Writes the sampled ip, then a marker no real unwind produces.
class MarkerUnwinder : public unwind::StackUnwinder {
 public:
  static constexpr std::uint64_t kMarker = 0x5eed0000;
  unwind::UnwindResult unwind(const AddressSpace&, const unwind::UnwindInput& input,
                              std::span<std::uint64_t> frames) override {
    unwind::UnwindResult r;
    if (frames.size() >= 2) {
      frames[0] = input.rip;
      frames[1] = kMarker;
      r.count = 2;
    }
    return r;
  }
};

// The session takes its unwinder through LinuxSessionOptions::make_unwinder:
// the plugged one's frames reach the machine.
TEST(LinuxExportSessionTest, PluggedUnwinderFramesReachTheMachine) {
  OC_REQUIRE_ROOT();
  Recording run = record({OC_EXPORT_WORKLOAD, "cpu", "300"}, false, CallstackMode::kDwarf,
                         [] { return std::make_unique<MarkerUnwinder>(); });
  ASSERT_TRUE(run.status.ok()) << run.status.to_string();
  std::size_t marked = 0, samples = 0;
  run.exporter->machine().read([&](const ExportMachine& m) {
    for (const auto& s : m.samples()) {
      ++samples;
      auto frames = m.callstacks().get(s.callstack);
      if (!frames) continue;
      for (auto ip : *frames) marked += ip == MarkerUnwinder::kMarker;
    }
  });
  ASSERT_GT(samples, 0u);
  EXPECT_GT(marked, samples / 2) << marked << " of " << samples;
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
