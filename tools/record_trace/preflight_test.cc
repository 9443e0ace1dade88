#include "tools/record_trace/preflight.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "one_collect/testing/privileged.h"
#include "one_collect/testing/temp_dir.h"

namespace one_collect::record_trace {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

TEST(RecordTracePreflight, RunningPidsPassAndAnExitedOneIsNamed) {
  EXPECT_TRUE(check_pids({static_cast<std::uint32_t>(::getpid()), 1}).ok());
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  Status s =
      check_pids({static_cast<std::uint32_t>(::getpid()), static_cast<std::uint32_t>(child)});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("--pid " + std::to_string(child) + ": no such process"));
}

TEST(RecordTracePreflight, CommandsResolveLikeExecvp) {
  CommandCheck sh = check_command("sh", "/nonexistent:/usr/bin:/bin");
  EXPECT_EQ(sh.exit_code, 0) << sh.message;
  EXPECT_THAT(sh.resolved, HasSubstr("/sh"));

  CommandCheck missing = check_command("no-such-command-xyz", "/usr/bin:/bin");
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_THAT(missing.message, HasSubstr("command not found: 'no-such-command-xyz'"));

  CommandCheck path = check_command("/no/such/file", "/usr/bin");
  EXPECT_EQ(path.exit_code, 127);
  EXPECT_THAT(path.message, HasSubstr("does not exist"));

  EXPECT_EQ(check_command("/tmp", nullptr).exit_code, 126);
  EXPECT_EQ(check_command("", nullptr).exit_code, 127);

  const ::one_collect::testing::TempDir temp("record_trace_cmd");
  const std::string dir = temp.string();
  std::ofstream(dir + "/script") << "#!/bin/sh\n";
  ::chmod((dir + "/script").c_str(), 0644);
  // No x bit at all: not executable, even for root.
  EXPECT_EQ(check_command(dir + "/script", nullptr).exit_code, 126);
  EXPECT_EQ(check_command("script", dir.c_str()).exit_code, 126);
  ::chmod((dir + "/script").c_str(), 0755);
  EXPECT_EQ(check_command("script", ("/nonexistent:" + dir).c_str()).exit_code, 0);
}

TEST(RecordTracePreflight, KnownEventsPassUnknownOnesAreNamed) {
  OC_REQUIRE_ROOT();
  EXPECT_TRUE(check_events({}).ok());
  Status ok = check_events({{"sched", "sched_switch"}, {"sched", "sched_process_exec"}});
  ASSERT_TRUE(ok.ok()) << ok.to_string();

  Status unknown = check_events({{"sched", "sched_nope"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.code(), ErrorCode::kNotFound);
  EXPECT_THAT(unknown.message(), HasSubstr("--event sched:sched_nope: unknown event"));
  EXPECT_THAT(unknown.message(), HasSubstr("sched_process_exec"));  // lists its neighbours

  Status system = check_events({{"nosuchsystem", "x"}});
  ASSERT_FALSE(system.ok());
  EXPECT_THAT(system.message(), HasSubstr("no tracepoint system 'nosuchsystem'"));
}

TEST(RecordTracePreflight, PermissionAdviceNamesTheSysctlAndCapabilities) {
  std::string advice = permission_advice();
  EXPECT_THAT(advice, HasSubstr("kernel.perf_event_paranoid"));
  EXPECT_THAT(advice, HasSubstr("CAP_PERFMON"));
  EXPECT_THAT(advice, HasSubstr("CAP_SYS_ADMIN"));
  EXPECT_THAT(advice, ::testing::Not(HasSubstr("(now unknown")));
}

}  // namespace
}  // namespace one_collect::record_trace
