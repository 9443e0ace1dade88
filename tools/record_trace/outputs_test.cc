#include "tools/record_trace/outputs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "one_collect/testing/privileged.h"
#include "one_collect/testing/temp_dir.h"
#include "tools/record_trace/test_machine.h"
#include "tools/record_trace/test_unprivileged.h"

namespace one_collect::record_trace {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class RecordTraceOutputs : public ::testing::Test {
 protected:
  const ::one_collect::testing::TempDir temp_{"record_trace_outputs"};
  const std::string dir_ = temp_.string();
};

// A format registry entry by name.
const OutputFormat* fmt(std::string_view name) { return *find_output_format(name); }

TEST_F(RecordTraceOutputs, DirectoryGetsTraceFilesPerFormat) {
  Result<OutputPlan> plan = plan_outputs(dir_, {fmt("nettrace"), fmt("pprof"), fmt("speedscope"),
                                                fmt("folded"), fmt("chrome"), fmt("perfview-xml")});
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  ASSERT_EQ(plan->targets.size(), 6u);
  EXPECT_EQ(plan->targets[0].path, dir_ + "/trace.nettrace");
  EXPECT_EQ(plan->targets[1].path, dir_ + "/trace.pb.gz");
  EXPECT_EQ(plan->targets[2].path, dir_ + "/trace.speedscope.json");
  EXPECT_EQ(plan->targets[3].path, dir_ + "/trace.folded");
  EXPECT_EQ(plan->targets[4].path, dir_ + "/trace.chrome.json");
  EXPECT_EQ(plan->targets[5].path, dir_ + "/trace");  // perfview prefix
  // A trailing slash makes no difference.
  EXPECT_EQ(plan_outputs(dir_ + "/", {fmt("pprof")})->targets[0].path, dir_ + "/trace.pb.gz");
}

TEST_F(RecordTraceOutputs, FilePathIsUsedAsGivenForOneFormatAndAsPrefixForSeveral) {
  EXPECT_EQ(plan_outputs(dir_ + "/cpu.prof", {fmt("pprof")})->targets[0].path, dir_ + "/cpu.prof");
  Result<OutputPlan> two = plan_outputs(dir_ + "/run1", {fmt("pprof"), fmt("folded")});
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->targets[0].path, dir_ + "/run1.pb.gz");
  EXPECT_EQ(two->targets[1].path, dir_ + "/run1.folded");
  EXPECT_EQ(plan_outputs(dir_ + "/x.PerfView.xml", {fmt("perfview-xml")})->targets[0].path,
            dir_ + "/x");
}

TEST_F(RecordTraceOutputs, CurrentDirectoryByDefault) {
  Result<OutputPlan> plan = plan_outputs("", {fmt("nettrace")});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->targets[0].path, "./trace.nettrace");
}

TEST_F(RecordTraceOutputs, MissingOrUnusableDirectoriesAreNamed) {
  Result<OutputPlan> plan = plan_outputs(dir_ + "/no/such/trace.pb.gz", {fmt("pprof")});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), ErrorCode::kNotFound);
  EXPECT_THAT(plan.status().message(),
              HasSubstr("output directory '" + dir_ + "/no/such' does not exist"));
  EXPECT_THAT(plan.status().message(), HasSubstr("mkdir -p"));

  plan = plan_outputs(dir_ + "/missing/", {fmt("pprof")});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), ErrorCode::kNotFound);

  std::ofstream(dir_ + "/file") << "x";
  plan = plan_outputs(dir_ + "/file/trace", {fmt("pprof")});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(), HasSubstr("cannot write '" + dir_ + "/file/trace'"));
  EXPECT_THAT(plan.status().message(), HasSubstr("'" + dir_ + "/file' is not a directory"));
}

// Root writes anywhere, so as root the check runs in a child that dropped
// to nobody (test_unprivileged.h).
TEST_F(RecordTraceOutputs, UnwritableDirectoryIsAPermissionError) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);  // nobody may look inside
  ASSERT_TRUE(fs::create_directory(dir_ + "/ro"));
  ASSERT_EQ(::chmod((dir_ + "/ro").c_str(), 0555), 0);
  testing::UnprivilegedRun run = testing::run_unprivileged(
      [&] { return plan_outputs(dir_ + "/ro", {fmt("pprof")}).status(); });
  ASSERT_EQ(run.failure, "");
  EXPECT_EQ(run.status.code(), ErrorCode::kPermissionDenied) << run.status.to_string();
  EXPECT_THAT(run.status.message(),
              HasSubstr("output directory '" + dir_ + "/ro' is not writable by this user"));

  // A file path in it names the path given and the directory.
  run = testing::run_unprivileged(
      [&] { return plan_outputs(dir_ + "/ro/cpu.folded", {fmt("folded")}).status(); });
  ASSERT_EQ(run.failure, "");
  EXPECT_EQ(run.status.code(), ErrorCode::kPermissionDenied) << run.status.to_string();
  EXPECT_THAT(run.status.message(), HasSubstr("cannot write '" + dir_ + "/ro/cpu.folded'"));
}

// Writers rename a new file over the target; in a sticky directory (like
// /tmp) only the file's or the directory's owner may do that.
TEST_F(RecordTraceOutputs, AnotherUsersFileInAStickyDirectoryIsAPermissionError) {
  OC_REQUIRE_ROOT();  // to own files as two users
  ASSERT_EQ(::chmod(dir_.c_str(), 01777), 0);
  std::ofstream(dir_ + "/theirs.folded") << "x";
  std::ofstream(dir_ + "/ours.folded") << "x";
  ASSERT_EQ(::chown((dir_ + "/ours.folded").c_str(), testing::kNobodyId, testing::kNobodyId), 0);
  testing::UnprivilegedRun run = testing::run_unprivileged([&]() -> Status {
    OC_RETURN_IF_ERROR(plan_outputs(dir_ + "/ours.folded", {fmt("folded")}).status());
    return plan_outputs(dir_ + "/theirs.folded", {fmt("folded")}).status();
  });
  ASSERT_EQ(run.failure, "");
  EXPECT_EQ(run.status.code(), ErrorCode::kPermissionDenied) << run.status.to_string();
  EXPECT_THAT(run.status.message(), HasSubstr("'" + dir_ +
                                              "/theirs.folded' belongs to another "
                                              "user in the sticky directory"));
}

// /proc passes access(W_OK) for root, yet takes no new file: found before
// recording, not when the writers run.
TEST_F(RecordTraceOutputs, ProcFilesAreRefused) {
  Result<OutputPlan> plan = plan_outputs("/proc/version", {fmt("nettrace")});
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("cannot write '/proc/version'"));
  EXPECT_THAT(plan.status().message(), HasSubstr("output directory '/proc'"));
  if (::geteuid() == 0) {
    EXPECT_EQ(plan.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(plan.status().message(), HasSubstr("does not accept new files"));
  }
  EXPECT_FALSE(plan_outputs("/proc", {fmt("nettrace")}).ok());
  EXPECT_FALSE(plan_outputs("/proc/self/", {fmt("folded"), fmt("pprof")}).ok());
}

TEST_F(RecordTraceOutputs, DevicesAndDirectoriesInTheWayAreRefused) {
  // Renaming over /dev/null would replace the device with a file. (Only
  // planned here: nothing is written.)
  Result<OutputPlan> plan = plan_outputs("/dev/null", {fmt("folded")});
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("/dev/null"));
  if (::geteuid() == 0) {
    EXPECT_EQ(plan.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(plan.status().message(), HasSubstr("'/dev/null' is a character device"));
  }

  ASSERT_EQ(::mkfifo((dir_ + "/pipe.folded").c_str(), 0644), 0);
  plan = plan_outputs(dir_ + "/pipe.folded", {fmt("folded")});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(), HasSubstr("'" + dir_ + "/pipe.folded' is a named pipe"));

  ASSERT_TRUE(fs::create_directory(dir_ + "/run1.pb.gz"));
  plan = plan_outputs(dir_ + "/run1", {fmt("folded"), fmt("pprof")});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(), HasSubstr("'" + dir_ + "/run1.pb.gz' is a directory"));

  ASSERT_TRUE(fs::create_directory(dir_ + "/d"));
  ASSERT_TRUE(fs::create_directory(dir_ + "/d/trace.folded"));
  EXPECT_FALSE(plan_outputs(dir_ + "/d", {fmt("folded")}).ok());
}

TEST_F(RecordTraceOutputs, ExistingFilesAndLinksMayBeReplaced) {
  std::ofstream(dir_ + "/cpu.folded") << "old";
  EXPECT_TRUE(plan_outputs(dir_ + "/cpu.folded", {fmt("folded")}).ok());
  // The link itself is replaced, never what it points to.
  fs::create_symlink("/dev/null", dir_ + "/link.folded");
  EXPECT_TRUE(plan_outputs(dir_ + "/link.folded", {fmt("folded")}).ok());
}

TEST_F(RecordTraceOutputs, ProbesLeaveNoFileBehind) {
  ASSERT_TRUE(plan_outputs(dir_, {fmt("nettrace"), fmt("pprof")}).ok());
  ASSERT_TRUE(plan_outputs(dir_ + "/x.pb.gz", {fmt("pprof")}).ok());
  // The named probe, used where the file system lacks O_TMPFILE.
  ASSERT_TRUE(probe_new_file(dir_, /*allow_unnamed=*/false).ok());
  EXPECT_TRUE(fs::is_empty(dir_));
  if (::geteuid() == 0) {
    Status proc = probe_new_file("/proc", /*allow_unnamed=*/false);
    EXPECT_EQ(proc.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(proc.message(), HasSubstr("output directory '/proc' does not accept new files"));
  }
}

// The names of secondary kinds' files are the format registry's
// (path_for_kind, tested in formats/format_registry_test.cc).

// main -> work (cpu) in pid 42, plus a few off_cpu samples.
void build(ExportMachine& m, bool off_cpu) {
  m.metadata().start_time = 1000;
  m.metadata().end_time = 2'000'000'000;
  m.add_process_start(42, 0, "demo");
  m.add_mapping(42, 0, testing::kBase, testing::kBase + 0x10000, 0, "/usr/bin/demo");
  for (int i = 0; i < 10; ++i) {
    m.add_sample(1000 + i, MetricValue::duration(1'000'000), 42, 42, 0, 0, testing::fn(1),
                 std::vector<std::uint64_t>{testing::fn(0)});
  }
  if (off_cpu) {
    m.on_switch_out(42, 42, 0, 5000, testing::fn(2), std::vector<std::uint64_t>{testing::fn(0)});
    m.on_switch_in(42, 9000);
  }
  testing::TableResolver resolver({"main", "work", "wait"});
  ASSERT_TRUE(m.capture_and_resolve_symbols(resolver).ok());
}

TEST_F(RecordTraceOutputs, KindsToExport) {
  ExportMachine cpu_only;
  build(cpu_only, false);
  EXPECT_EQ(kinds_to_export(cpu_only, true, false), std::vector<SampleKind>{0});
  ExportMachine both;
  build(both, true);
  SampleKind off = *both.find_sample_kind(kOffCpuKind);
  EXPECT_EQ(kinds_to_export(both, true, true), (std::vector<SampleKind>{0, off}));
  // Only off-CPU asked for: it gets the main file even if cpu samples exist.
  EXPECT_EQ(kinds_to_export(both, false, true), (std::vector<SampleKind>{off, 0}));
  // Nothing recorded: still one (empty) file of the requested kind.
  ExportMachine empty;
  EXPECT_EQ(kinds_to_export(empty, false, true), std::vector<SampleKind>{off});
}

TEST_F(RecordTraceOutputs, WritesEveryFormatNonEmpty) {
  ExportMachine m;
  build(m, true);
  Result<OutputPlan> plan = plan_outputs(dir_, {fmt("nettrace"), fmt("pprof"), fmt("speedscope"),
                                                fmt("folded"), fmt("chrome"), fmt("perfview-xml")});
  ASSERT_TRUE(plan.ok());
  std::vector<WrittenFile> written;
  ASSERT_TRUE(write_outputs(m, *plan, kinds_to_export(m, true, true), written).ok());
  std::vector<std::string> names;
  for (const WrittenFile& f : written) {
    EXPECT_GT(f.bytes, 0u) << f.path;
    EXPECT_EQ(fs::file_size(f.path), f.bytes);
    names.push_back(fs::path(f.path).filename());
  }
  EXPECT_THAT(names, ::testing::UnorderedElementsAre(
                         "trace.nettrace", "trace.pb.gz", "trace.off_cpu.pb.gz",
                         "trace.speedscope.json", "trace.off_cpu.speedscope.json", "trace.folded",
                         "trace.off_cpu.folded", "trace.chrome.json", "trace.demo.cpu.PerfView.xml",
                         "trace.demo.off_cpu.PerfView.xml"));
  std::ifstream folded(dir_ + "/trace.folded");
  std::string line;
  std::getline(folded, line);
  EXPECT_EQ(line, "demo;demo!main;demo!work 10");
}

TEST_F(RecordTraceOutputs, WriteFailuresAreCombinedAndOthersStillWritten) {
  ExportMachine m;
  build(m, false);
  Result<OutputPlan> plan = plan_outputs(dir_, {fmt("folded"), fmt("pprof")});
  ASSERT_TRUE(plan.ok());
  fs::remove_all(dir_);  // the directory vanished during the recording
  std::vector<WrittenFile> written;
  Status s = write_outputs(m, *plan, {0}, written);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("trace.folded"));
  EXPECT_THAT(s.message(), HasSubstr("trace.pb.gz"));
  EXPECT_TRUE(written.empty());
}

}  // namespace
}  // namespace one_collect::record_trace
