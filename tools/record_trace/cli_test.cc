// Runs the built record-trace binary: usage errors and their exit codes,
// --help, and real recordings of the demo workload (root only).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "one_collect/testing/privileged.h"

namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class RecordTraceCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/record_trace_cli_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs record-trace with `args`; `interrupt_after` > 0 sends SIGINT then.
  CliRun run(std::vector<std::string> args, double interrupt_after = 0) {
    std::string out_path = dir_ + "/stdout";
    std::string err_path = dir_ + "/stderr";
    pid_t pid = ::fork();
    if (pid == 0) {
      int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(out, 1);
      ::dup2(err, 2);
      std::vector<char*> argv;
      std::string bin = RECORD_TRACE_BIN;
      argv.push_back(bin.data());
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(99);
    }
    CliRun r;
    auto start = std::chrono::steady_clock::now();
    bool interrupted = false;
    int status = 0;
    while (true) {
      pid_t done = ::waitpid(pid, &status, WNOHANG);
      if (done == pid) break;
      double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (interrupt_after > 0 && !interrupted && elapsed >= interrupt_after) {
        ::kill(pid, SIGINT);
        interrupted = true;
      }
      if (elapsed > 120) {  // a hang is a failure, not a stuck test
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        ADD_FAILURE() << "record-trace did not finish";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out_path);
    r.err = slurp(err_path);
    return r;
  }

  std::string dir_;
};

TEST_F(RecordTraceCli, BadArgumentsExitTwoWithTheMessage) {
  CliRun r = run({"--frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("record-trace: unknown option '--frobnicate'"));
  EXPECT_THAT(r.err, HasSubstr("Try 'record-trace --help'"));
  EXPECT_EQ(r.out, "");

  r = run({"--frequency", "many"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--frequency: 'many' is not a whole number"));

  r = run({"--format", "pprof,svg"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown format 'svg' (known: nettrace, perfview-xml, pprof, "
                               "speedscope, folded, chrome)"));
}

TEST_F(RecordTraceCli, HelpIsAManPage) {
  CliRun r = run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* s : {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXAMPLES", "EXIT STATUS",
                        "FILES", "--on-cpu", "--off-cpu", "--pid PID", "--format", "--out PATH",
                        "--frequency HZ", "--callstacks MODE", "--stack-size BYTES",
                        "--duration SECONDS", "--buffer-size BYTES", "--event SYSTEM:NAME",
                        "--live", "--script CODE", "--script-file FILE", "-- COMMAND"}) {
    EXPECT_THAT(r.out, HasSubstr(s));
  }
  EXPECT_EQ(run({"-h"}).out, r.out);
}

TEST_F(RecordTraceCli, MissingOutputDirectoryIsNamedBeforeRecording) {
  CliRun r = run({"--out", dir_ + "/nope/trace.pb.gz", "--format", "pprof", "-d", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("output directory '" + dir_ + "/nope' does not exist"));
}

TEST_F(RecordTraceCli, ScriptingIsNotAvailableYet) {
  CliRun r = run({"--script", "print(1)"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("scripting is not available yet"));
}

TEST_F(RecordTraceCli, UnknownCommandAndPid) {
  CliRun r = run({"--", "no-such-command-for-record-trace"});
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_THAT(r.err, HasSubstr("command not found"));

  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  r = run({"--pid", std::to_string(child), "-d", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("no such process"));
}

TEST_F(RecordTraceCli, UnknownEvent) {
  OC_REQUIRE_ROOT();
  CliRun r = run({"--event", "sched:no_such_event", "-d", "1", "--out", dir_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--event sched:no_such_event: unknown event"));
}

// The demo workload's known hot functions must lead the totals (they get
// 50/30/20% of its time) and every format must be written.
TEST_F(RecordTraceCli, RecordsTheDemoWorkloadInEveryFormat) {
  OC_REQUIRE_ROOT();
  CliRun r = run({"--format", "nettrace,pprof,speedscope,folded,chrome,perfview-xml", "--out", dir_,
               "--", DEMO_WORKLOAD_BIN, "--seconds", "2", "--exit-code", "3"});
  ASSERT_EQ(r.exit_code, 3) << r.err << r.out;  // the command's own status
  for (const char* f : {"trace.nettrace", "trace.pb.gz", "trace.speedscope.json", "trace.folded",
                        "trace.chrome.json", "trace.demo_workload.cpu.PerfView.xml"}) {
    ASSERT_TRUE(fs::exists(dir_ + "/" + f)) << f << "\n" << r.out;
    EXPECT_GT(fs::file_size(dir_ + "/" + f), 100u) << f;
    EXPECT_THAT(r.out, HasSubstr(dir_ + "/" + f));
  }
  EXPECT_THAT(r.out, HasSubstr("cpu samples"));
  ASSERT_THAT(r.out, HasSubstr("hottest functions by total"));
  std::string self = r.out.substr(r.out.find("hottest functions by self"));
  std::string totals = r.out.substr(r.out.find("hottest functions by total"));
  EXPECT_THAT(self, HasSubstr("hash_work")) << r.out;
  EXPECT_THAT(self, HasSubstr("std::__introsort_loop")) << r.out;
  for (const char* fn : {"sort_work", "map_work", "main  [demo_workload]"}) {
    EXPECT_THAT(totals, HasSubstr(fn)) << r.out;
  }

  // From the folded stacks: the workload was built without frame pointers,
  // so only DWARF unwinding lets (nearly) every stack reach main, and each
  // hot function gets a visible share (nominal 50/30/20% of wall time; the
  // margins allow for a loaded machine).
  std::istringstream folded(slurp(dir_ + "/trace.folded"));
  std::string line;
  double all = 0, to_main = 0, sort = 0, map = 0, hash = 0;
  while (std::getline(folded, line)) {
    if (line.rfind("demo_workload;", 0) != 0) continue;
    double n = std::stod(line.substr(line.rfind(' ') + 1));
    all += n;
    if (line.find("!main;") != std::string::npos) to_main += n;
    if (line.find("!sort_work(") != std::string::npos) sort += n;
    if (line.find("!map_work(") != std::string::npos) map += n;
    if (line.find("!hash_work(") != std::string::npos) hash += n;
  }
  ASSERT_GT(all, 100) << "too few samples of the workload";
  EXPECT_GT(to_main / all, 0.8);
  EXPECT_GT(sort / all, 0.15);
  EXPECT_GT(map / all, 0.10);
  EXPECT_GT(hash / all, 0.03);
}

TEST_F(RecordTraceCli, CtrlCStopsCleanlyAndStillExports) {
  OC_REQUIRE_ROOT();
  CliRun r = run({"--format", "folded", "--out", dir_, "--callstacks", "fp"}, 1.5);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("stopped, exporting"));
  EXPECT_THAT(r.out, HasSubstr("trace.folded"));
  EXPECT_GT(fs::file_size(dir_ + "/trace.folded"), 0u);
}

}  // namespace
