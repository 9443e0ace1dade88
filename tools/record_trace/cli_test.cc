// Runs the built record-trace binary: every flag and exit status README.md
// documents, usage errors, --help, and real recordings of the demo workload
// and the machine (root only).
//
// Ordering waits on conditions (a line on stderr, lines on stdout, a full
// pipe, a delivered signal), never on fixed sleeps; a run that does not end
// within kHang is killed and fails its test.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "one_collect/formats/format_registry.h"
#include "one_collect/testing/privileged.h"
#include "one_collect/testing/temp_dir.h"
#include "tools/record_trace/test_unprivileged.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using one_collect::record_trace::testing::drop_privileges_to_nobody;
using one_collect::record_trace::testing::kNobodyId;

// Upper bounds only: a condition not met by then is a failure.
constexpr auto kWait = std::chrono::seconds(60);
constexpr auto kHang = std::chrono::seconds(120);

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Whole-file reads of outputs and /proc files.
std::string slurp(const std::string& path) { return one_collect::testing::read_text(path); }

bool wait_until(const std::function<bool()>& condition,
                Clock::duration limit = std::chrono::duration_cast<Clock::duration>(kWait)) {
  const auto end = Clock::now() + limit;
  while (!condition()) {
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// (No std::regex: g++ 12 warns falsely inside it under the sanitizers.)
std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// The value of " name=value" in a --live event line ("" when absent).
std::string field_of(const std::string& line, const std::string& name) {
  std::size_t at = line.find(" " + name + "=");
  if (at == std::string::npos) return "";
  at += name.size() + 2;
  return line.substr(at, line.find(' ', at) - at);
}

// The first line starting with `prefix` ("" when none).
std::string line_starting(const std::string& text, const std::string& prefix) {
  for (const std::string& line : lines_of(text)) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

// The signals pending for one thread ("SigPnd:" of /proc/<pid>/task/<tid>/status).
std::uint64_t pending_signals(pid_t pid, pid_t tid) {
  std::istringstream in(
      slurp("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/status"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("SigPnd:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  return 0;
}

// True while thread `tid` sleeps in write(fd): /proc/<pid>/task/<tid>/syscall
// names the call only for a task that is not running.
bool blocked_writing(pid_t pid, pid_t tid, int fd) {
  std::istringstream in(
      slurp("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/syscall"));
  long nr = -1;
  std::string arg0;
  if (!(in >> nr >> arg0)) return false;  // "running", or gone
  return nr == SYS_write && std::stoull(arg0, nullptr, 16) == static_cast<unsigned>(fd);
}

struct Launch {
  bool stdout_pipe = false;  // stdout is a pipe the test reads (stdout_fd())
  bool as_nobody = false;    // the child drops to nobody before exec
};

// One record-trace process: stdout and stderr go to files in `dir` (or
// stdout to a pipe), so the test can watch them while it runs.
class RecordTraceProcess {
 public:
  RecordTraceProcess(const std::string& dir, std::vector<std::string> args, Launch how = {})
      : out_path_(dir + "/stdout"), err_path_(dir + "/stderr") {
    // An earlier run's output must not be read as this one's.
    ::unlink(out_path_.c_str());
    ::unlink(err_path_.c_str());
    int fds[2] = {-1, -1};
    if (how.stdout_pipe && ::pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      int out =
          how.stdout_pipe ? fds[1] : ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(out, 1);
      ::dup2(err, 2);
      if (how.as_nobody && !drop_privileges_to_nobody()) ::_exit(98);
      std::vector<char*> argv;
      std::string bin = RECORD_TRACE_BIN;
      argv.push_back(bin.data());
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(99);
    }
    if (how.stdout_pipe) {
      ::close(fds[1]);
      out_fd_ = fds[0];
    }
  }
  ~RecordTraceProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    close_stdout();
  }

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int stdout_fd() const { return out_fd_; }
  void close_stdout() {
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
  }
  std::string err() const { return slurp(err_path_); }
  std::string out() const { return slurp(out_path_); }
  bool running() {
    if (reaped_) return false;
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
    return !reaped_;
  }

  // Waits until stderr holds `text` (false: it exited first, or kWait passed).
  bool wait_for_stderr(const std::string& text) {
    return wait_until([&] { return err().find(text) != std::string::npos || !running(); }) &&
           err().find(text) != std::string::npos;
  }
  // Waits until stdout (a file) holds `n` lines.
  bool wait_for_stdout_lines(std::size_t n) {
    return wait_until([&] { return count_of(out(), "\n") >= n || !running(); }) &&
           count_of(out(), "\n") >= n;
  }

  void signal(int sig) { ::kill(pid_, sig); }

  // Waits for the exit (killing it after kHang, a failure).
  CliRun finish() {
    if (!started()) {
      ADD_FAILURE() << "record-trace could not be started";
      return {};
    }
    if (!wait_until([&] { return !running(); }, kHang)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
      reaped_ = true;
      ADD_FAILURE() << "record-trace did not finish; stderr:\n" << err();
    }
    CliRun r;
    r.exit_code = WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
    if (out_fd_ < 0) r.out = out();
    r.err = err();
    return r;
  }

 private:
  std::string out_path_;
  std::string err_path_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int status_ = 0;
  bool reaped_ = false;
};

// Raises kernel.perf_event_paranoid to at least `level` for one test and
// puts the original value back however the test ends.
class ParanoidAtLeast {
 public:
  explicit ParanoidAtLeast(int level) {
    original_ = slurp(kPath);
    if (original_.empty()) return;
    if (std::stoi(original_) >= level) return;
    std::ofstream(kPath) << level;
    changed_ = std::stoi(slurp(kPath)) == level;
  }
  ~ParanoidAtLeast() {
    if (changed_) std::ofstream(kPath) << original_;
  }
  ParanoidAtLeast(const ParanoidAtLeast&) = delete;
  ParanoidAtLeast& operator=(const ParanoidAtLeast&) = delete;
  bool ok() const { return !original_.empty(); }

 private:
  static constexpr const char* kPath = "/proc/sys/kernel/perf_event_paranoid";
  std::string original_;
  bool changed_ = false;
};

// demo_workload started by the test (for --pid), killed at the end.
class RunningWorkload {
 public:
  explicit RunningWorkload(const char* seconds) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::execl(DEMO_WORKLOAD_BIN, DEMO_WORKLOAD_BIN, "--seconds", seconds, nullptr);
      ::_exit(99);
    }
  }
  ~RunningWorkload() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  // True once it runs the workload (exec done), not the forked test.
  bool wait_for_exec() const {
    std::string comm = "/proc/" + std::to_string(pid_) + "/comm";
    return wait_until([&] { return slurp(comm) == "demo_workload\n"; });
  }
  bool alive() const {
    std::string stat = slurp("/proc/" + std::to_string(pid_) + "/stat");
    std::size_t paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
  }

 private:
  pid_t pid_ = -1;
};

// Folded stacks: "comm;frame;frame count" per line.
struct FoldedLine {
  std::string stack;
  double count = 0;
};
std::vector<FoldedLine> read_folded(const std::string& path) {
  std::vector<FoldedLine> out;
  for (const std::string& line : lines_of(slurp(path))) {
    std::size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    out.push_back({line.substr(0, space), std::stod(line.substr(space + 1))});
  }
  return out;
}

// The numbers of every `"weights":[...]` array in a speedscope file, per profile.
std::vector<std::vector<double>> speedscope_weights(const std::string& json) {
  std::vector<std::vector<double>> profiles;
  static const std::string kKey = "\"weights\":[";
  for (std::size_t at = json.find(kKey); at != std::string::npos; at = json.find(kKey, at + 1)) {
    std::size_t end = json.find(']', at);
    std::vector<double> weights;
    std::istringstream in(json.substr(at + kKey.size(), end - at - kKey.size()));
    for (std::string n; std::getline(in, n, ',');) {
      if (!n.empty()) weights.push_back(std::stod(n));
    }
    profiles.push_back(std::move(weights));
  }
  return profiles;
}

class RecordTraceCli : public ::testing::Test {
 protected:
  CliRun run(std::vector<std::string> args, Launch how = {}) {
    RecordTraceProcess p(dir_, std::move(args), how);
    EXPECT_TRUE(p.started());
    return p.finish();
  }

  const one_collect::testing::TempDir temp_{"record_trace_cli"};
  const std::string dir_ = temp_.string();
};

// ---- without privileges: argument handling and checks made before recording

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

  // Range checks of -F, --stack-size and -m, as the README states them.
  r = run({"-F", "100001"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("out of range (1 to 100000)"));
  r = run({"--stack-size", "65536"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("not a multiple of 8 between 8 and 65528"));
  r = run({"-m", "lots"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--buffer-size: 'lots' is not a size"));
  r = run({"-g", "lbr"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown mode 'lbr' (use dwarf, fp or none)"));
}

TEST_F(RecordTraceCli, HelpIsAManPage) {
  CliRun r = run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* s : {"NAME",
                        "SYNOPSIS",
                        "DESCRIPTION",
                        "OPTIONS",
                        "EXAMPLES",
                        "EXIT STATUS",
                        "FILES",
                        "--on-cpu",
                        "--off-cpu",
                        "--pid PID",
                        "--format",
                        "--out PATH",
                        "--frequency HZ",
                        "--callstacks MODE",
                        "--stack-size BYTES",
                        "--duration SECONDS",
                        "--buffer-size BYTES",
                        "--event SYSTEM:NAME",
                        "--live",
                        "--script CODE",
                        "--script-file FILE",
                        "-- COMMAND"}) {
    EXPECT_THAT(r.out, HasSubstr(s));
  }
  EXPECT_EQ(run({"-h"}).out, r.out);
}

// The binary's FORMATS section names exactly the format registry's formats,
// in its order, and --format takes each of them (--help exits 0 once every
// option parsed: an unknown format is a usage error, exit 2).
TEST_F(RecordTraceCli, HelpListsAndFormatTakesExactlyTheRegistrysFormats) {
  CliRun r = run({"--help"});
  ASSERT_EQ(r.exit_code, 0);
  std::size_t start = r.out.find("\nFORMATS\n");
  ASSERT_NE(start, std::string::npos) << r.out;
  std::size_t end = r.out.find("\n\n", start + 1);
  std::vector<std::string> listed;
  for (const std::string& line : lines_of(r.out.substr(start + 9, end - start - 9))) {
    if (line.size() > 7 && line.find_first_not_of(' ') == 7) {
      listed.push_back(line.substr(7, line.find(' ', 7) - 7));
    }
  }
  std::vector<std::string> registered;
  for (const one_collect::OutputFormat& f : one_collect::output_formats()) {
    registered.emplace_back(f.name);
    EXPECT_THAT(r.out, HasSubstr("       " + std::string(f.name) + " (" +
                                 one_collect::output_file_pattern(f, "trace") + ")\n"));
    CliRun accepted = run({"--format", std::string(f.name), "--help"});
    EXPECT_EQ(accepted.exit_code, 0) << f.name << ": " << accepted.err;
  }
  EXPECT_EQ(listed, registered);
  EXPECT_EQ(run({"--format", "svg", "--help"}).exit_code, 2);
}

TEST_F(RecordTraceCli, VersionPrintsTheVersion) {
  CliRun r = run({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  const std::string prefix = "record-trace (one_collect) ";
  ASSERT_EQ(r.out.rfind(prefix, 0), 0u) << r.out;
  ASSERT_TRUE(r.out.ends_with("\n"));
  std::string version = r.out.substr(prefix.size(), r.out.size() - prefix.size() - 1);
  EXPECT_EQ(count_of(version, "."), 2u) << version;
  version.erase(std::remove(version.begin(), version.end(), '.'), version.end());
  EXPECT_TRUE(all_digits(version)) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(RecordTraceCli, MissingOutputDirectoryIsNamedBeforeRecording) {
  CliRun r = run({"--out", dir_ + "/nope/trace.pb.gz", "--format", "pprof", "-d", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("output directory '" + dir_ + "/nope' does not exist"));
}

// Found before recording: the command is never started and nothing is
// recorded (root used to record, then fail to write /proc/version).
TEST_F(RecordTraceCli, UnwritableOutputsAreRefusedBeforeRecording) {
  std::ofstream(dir_ + "/file") << "x";
  // Stands for a device such as /dev/null, which a regression would replace
  // with a file: never name a real one here.
  ASSERT_EQ(::mkfifo((dir_ + "/fifo").c_str(), 0644), 0);
  const std::string marker = dir_ + "/command-ran";
  const bool root = ::geteuid() == 0;
  struct Case {
    std::string out;
    int code;            // as root
    std::string reason;  // as root
    int user_code;       // unprivileged: /proc is not writable at all
  };
  for (const Case& c : {
           Case{"/proc/version", 2, "output directory '/proc' does not accept new files", 3},
           Case{"/proc/self/trace.folded", 3, "output directory '/proc/self' is not writable", 3},
           Case{dir_ + "/fifo", 2, "'" + dir_ + "/fifo' is a named pipe", 2},
           Case{dir_ + "/file/trace.folded", 2, "'" + dir_ + "/file' is not a directory", 2},
       }) {
    CliRun r = run({"-f", "folded", "-o", c.out, "--", "/bin/sh", "-c", "touch " + marker});
    EXPECT_EQ(r.exit_code, root ? c.code : c.user_code) << c.out << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("'" + c.out + "'")) << "the message names the path";
    if (root) {
      EXPECT_THAT(r.err, HasSubstr(c.reason));
    }
    EXPECT_THAT(r.err, Not(HasSubstr("recording")));
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(fs::exists(marker)) << c.out << ": the command ran";
  }
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

TEST_F(RecordTraceCli, CommandThatCannotBeExecutedExits126) {
  std::ofstream(dir_ + "/script.sh") << "#!/bin/sh\n";
  ASSERT_EQ(::chmod((dir_ + "/script.sh").c_str(), 0644), 0);
  CliRun r = run({"-o", dir_, "--", dir_ + "/script.sh"});
  EXPECT_EQ(r.exit_code, 126);
  EXPECT_THAT(r.err, HasSubstr("command '" + dir_ + "/script.sh' is not executable"));
}

// ---- privilege

// Exit 3 as a user perf_events refuses: the whole machine needs
// CAP_PERFMON/CAP_SYS_ADMIN once kernel.perf_event_paranoid >= 1. As root
// the sysctl is raised for the test (restored by the guard) and
// record-trace runs in a child that dropped to nobody.
TEST_F(RecordTraceCli, NotPermittedExitsThreeAndNamesTheWayOut) {
  OC_REQUIRE_ROOT();
  ParanoidAtLeast paranoid(2);
  ASSERT_TRUE(paranoid.ok());
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  ASSERT_TRUE(fs::create_directory(dir_ + "/out"));
  ASSERT_EQ(::chown((dir_ + "/out").c_str(), kNobodyId, kNobodyId), 0);
  CliRun r = run({"-f", "folded", "-o", dir_ + "/out", "-d", "1"}, {.as_nobody = true});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("permission denied"));
  // The advice quotes the sysctl's current value, as a number.
  std::string level = std::to_string(std::stoi(slurp("/proc/sys/kernel/perf_event_paranoid")));
  EXPECT_THAT(r.err, HasSubstr("kernel.perf_event_paranoid (now " + level + ";"));
  EXPECT_THAT(r.err, HasSubstr("CAP_PERFMON"));
  EXPECT_THAT(r.err, HasSubstr("CAP_SYS_ADMIN"));
  EXPECT_TRUE(fs::is_empty(dir_ + "/out"));
}

// ---- recordings (root)

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
  double all = 0, to_main = 0, sort = 0, map = 0, hash = 0;
  for (const FoldedLine& l : read_folded(dir_ + "/trace.folded")) {
    if (l.stack.rfind("demo_workload;", 0) != 0) continue;
    all += l.count;
    if (l.stack.find("!main;") != std::string::npos) to_main += l.count;
    if (l.stack.find("!sort_work(") != std::string::npos) sort += l.count;
    if (l.stack.find("!map_work(") != std::string::npos) map += l.count;
    if (l.stack.find("!hash_work(") != std::string::npos) hash += l.count;
  }
  ASSERT_GT(all, 100) << "too few samples of the workload";
  EXPECT_GT(to_main / all, 0.8);
  EXPECT_GT(sort / all, 0.15);
  EXPECT_GT(map / all, 0.10);
  EXPECT_GT(hash / all, 0.03);
}

// -q: no "recording" line and no hottest-functions table, the files still
// listed. -F 100: every cpu sample weighs 10 ms. -g none: stacks are the
// sampled function alone.
TEST_F(RecordTraceCli, QuietFrequencyAndNoCallstacks) {
  OC_REQUIRE_ROOT();
  CliRun r = run({"-q", "-F", "100", "-g", "none", "-f", "folded,speedscope", "-o", dir_, "--",
                  DEMO_WORKLOAD_BIN, "--seconds", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("recording")));
  EXPECT_THAT(r.out, Not(HasSubstr("hottest functions")));
  EXPECT_THAT(r.out, HasSubstr(dir_ + "/trace.folded"));
  EXPECT_THAT(r.out, HasSubstr(dir_ + "/trace.speedscope.json"));

  std::vector<std::vector<double>> profiles =
      speedscope_weights(slurp(dir_ + "/trace.speedscope.json"));
  // Runs of one stack are merged: each weight is a whole number of 10 ms samples.
  std::size_t weights_seen = 0;
  for (const auto& weights : profiles) {
    for (double w : weights) {
      EXPECT_GT(w, 0);
      EXPECT_EQ(std::fmod(w, 10e6), 0) << w << ": a cpu sample at -F 100 weighs 10 ms";
      ++weights_seen;
    }
  }
  EXPECT_GT(weights_seen, 0u);

  std::size_t demo = 0;
  for (const FoldedLine& l : read_folded(dir_ + "/trace.folded")) {
    EXPECT_EQ(count_of(l.stack, ";"), 1u) << "more than the sampled function: " << l.stack;
    if (l.stack.rfind("demo_workload;demo_workload!", 0) == 0) demo += 1;
  }
  EXPECT_GT(demo, 0u) << "the workload's own functions";
}

// A tiny user stack copy cannot be unwound to main (with the default 16 KiB,
// RecordsTheDemoWorkloadInEveryFormat sees over 80% of stacks reach it).
TEST_F(RecordTraceCli, StackSizeBoundsDwarfUnwinding) {
  OC_REQUIRE_ROOT();
  CliRun r = run({"-q", "--stack-size", "8", "-f", "folded", "-o", dir_, "--", DEMO_WORKLOAD_BIN,
                  "--seconds", "0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  double all = 0, to_main = 0;
  for (const FoldedLine& l : read_folded(dir_ + "/trace.folded")) {
    if (l.stack.rfind("demo_workload;", 0) != 0) continue;
    all += l.count;
    if (l.stack.find("!main;") != std::string::npos) to_main += l.count;
  }
  ASSERT_GT(all, 10);
  EXPECT_LT(to_main / all, 0.05);
}

// -m sets each CPU's ring: record-trace maps ring + one metadata page per CPU.
TEST_F(RecordTraceCli, BufferSizeSetsEachCpusRing) {
  OC_REQUIRE_ROOT();
  RecordTraceProcess p(dir_, {"-m", "2M", "-g", "none", "-f", "folded", "-o", dir_});
  ASSERT_TRUE(p.wait_for_stderr("record-trace: recording the whole machine")) << p.err();
  std::size_t rings = 0;
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  for (const std::string& line : lines_of(slurp("/proc/" + std::to_string(p.pid()) + "/maps"))) {
    if (line.find("[perf_event]") == std::string::npos) continue;
    std::uint64_t start = std::stoull(line, nullptr, 16);
    std::uint64_t end = std::stoull(line.substr(line.find('-') + 1), nullptr, 16);
    EXPECT_EQ(end - start, (2u << 20) + page) << line;
    ++rings;
  }
  EXPECT_EQ(rings, static_cast<std::size_t>(::sysconf(_SC_NPROCESSORS_ONLN)));
  p.signal(SIGINT);
  CliRun r = p.finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// -p with a process that runs, -d ending the recording by itself: only that
// process is recorded, and it keeps running afterwards.
TEST_F(RecordTraceCli, DurationEndsARecordingOfARunningPid) {
  OC_REQUIRE_ROOT();
  RunningWorkload demo("60");
  ASSERT_TRUE(demo.wait_for_exec());
  const std::string pid = std::to_string(demo.pid());
  CliRun r = run({"-p", pid, "-d", "1", "-f", "folded", "-o", dir_ + "/p.folded"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("record-trace: recording pid " + pid + "\n"));
  EXPECT_THAT(r.err, Not(HasSubstr("stopped")));
  const std::string summary = line_starting(r.out, "recorded ");
  ASSERT_NE(summary, "") << r.out;
  EXPECT_GE(std::stod(summary.substr(9)), 1.0) << "-d 1 records at least 1 s: " << summary;
  EXPECT_THAT(summary, HasSubstr(" cpu samples, "));
  EXPECT_THAT(summary, HasSubstr(", 1 process"));
  bool sort = false;
  for (const FoldedLine& l : read_folded(dir_ + "/p.folded")) {
    EXPECT_EQ(l.stack.rfind("demo_workload;", 0), 0u) << l.stack;
    sort = sort || l.stack.find("!sort_work(") != std::string::npos;
  }
  EXPECT_TRUE(sort);
  EXPECT_TRUE(demo.alive()) << "record-trace must leave a --pid target running";
}

// --off-cpu alone: the plain file names hold the off-CPU profile, no CPU
// sampling runs, and a thread sleeping 300 ms is a sample worth at least that.
TEST_F(RecordTraceCli, OffCpuRecordsTheTimeBlocked) {
  OC_REQUIRE_ROOT();
  CliRun r = run({"--off-cpu", "-f", "speedscope,folded", "-o", dir_, "--", "/bin/sh", "-c",
                  "sleep 0.3; sleep 0.3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("off_cpu samples"));
  EXPECT_THAT(r.out, Not(HasSubstr(" cpu,")));
  EXPECT_FALSE(fs::exists(dir_ + "/trace.cpu.folded")) << "no CPU samples without --on-cpu";
  EXPECT_THAT(r.out, HasSubstr("hottest functions by self (off_cpu"));

  std::string json = slurp(dir_ + "/trace.speedscope.json");
  EXPECT_THAT(json, HasSubstr("\"name\":\"one_collect off_cpu;"));
  EXPECT_THAT(json, HasSubstr("\"unit\":\"nanoseconds\""));
  double longest = 0;
  for (const auto& weights : speedscope_weights(json)) {
    for (double w : weights) longest = std::max(longest, w);
  }
  EXPECT_GE(longest, 300e6) << "sleep 0.3 blocks 300 ms or more";
  bool nanosleep = false;
  for (const FoldedLine& l : read_folded(dir_ + "/trace.folded")) {
    nanosleep = nanosleep ||
                (l.stack.rfind("sleep;", 0) == 0 && l.stack.find("nanosleep") != std::string::npos);
  }
  EXPECT_TRUE(nanosleep) << slurp(dir_ + "/trace.folded");
}

// -e with --live: each tracepoint decoded on stdout as it arrives (the exec
// of the command names its file; its switches name it and its pid), and
// without --on-cpu no CPU samples.
TEST_F(RecordTraceCli, LiveDecodesTracepoints) {
  OC_REQUIRE_ROOT();
  CliRun r = run({"--live", "-e", "sched:sched_process_exec", "-e", "sched:sched_switch", "-o",
                  dir_, "--", DEMO_WORKLOAD_BIN, "--seconds", "0.3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string exec = line_starting(r.out, "sched:sched_process_exec ");
  ASSERT_NE(exec, "") << r.out;
  EXPECT_EQ(field_of(exec, "filename"), DEMO_WORKLOAD_BIN) << exec;
  const std::string pid = field_of(exec, "pid");
  EXPECT_TRUE(all_digits(pid)) << exec;
  EXPECT_EQ(field_of(exec, "old_pid"), pid) << exec;
  EXPECT_EQ(field_of(exec, "common_pid"), pid) << exec;
  EXPECT_THAT(r.out, HasSubstr("sched:sched_switch common_type="));
  EXPECT_THAT(r.out, HasSubstr(" prev_comm=demo_workload prev_pid=" + pid + " "));
  EXPECT_THAT(r.out, Not(HasSubstr(" cpu ip=")));
  EXPECT_THAT(line_starting(r.out, "recorded "), HasSubstr(" sched:sched_process_exec"))
      << "the summary counts them";
  EXPECT_THAT(r.out, Not(HasSubstr("[[unknown]]"))) << "records have no stacks to rank";
  EXPECT_GT(fs::file_size(dir_ + "/trace.nettrace"), 100u);
}

// --on-cpu brings CPU sampling back beside an event; --live shows each
// sample ("time cpuN comm pid/tid cpu ip=... frames=N").
TEST_F(RecordTraceCli, LivePrintsSamplesWithOnCpu) {
  OC_REQUIRE_ROOT();
  CliRun r = run({"--live", "--on-cpu", "-e", "sched:sched_process_exec", "-g", "none", "-f",
                  "folded", "-o", dir_, "--", DEMO_WORKLOAD_BIN, "--seconds", "0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::size_t samples = 0;
  for (const std::string& line : lines_of(r.out)) {
    std::vector<std::string> w = words_of(line);
    if (w.size() != 7 || w[2] != "demo_workload") continue;
    std::size_t slash = w[3].find('/');
    ASSERT_NE(slash, std::string::npos) << line;
    EXPECT_EQ(w[3].substr(0, slash), w[3].substr(slash + 1)) << "a one-thread process: " << line;
    EXPECT_EQ(w[1].rfind("cpu", 0), 0u) << line;
    EXPECT_EQ(w[4], "cpu") << line;
    EXPECT_EQ(w[5].rfind("ip=0x", 0), 0u) << line;
    EXPECT_EQ(w[6], "frames=1") << line;
    ++samples;
  }
  EXPECT_GT(samples, 10u) << r.out.substr(0, 2000);
  EXPECT_THAT(r.out, HasSubstr("sched:sched_process_exec common_type="));
  EXPECT_THAT(r.out, HasSubstr("hottest functions by self (cpu"));
}

// ---- stopping

// Ctrl-C, SIGTERM and SIGHUP stop cleanly: every file is still written.
TEST_F(RecordTraceCli, StopSignalsStopCleanlyAndStillExport) {
  OC_REQUIRE_ROOT();
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    SCOPED_TRACE(::strsignal(sig));
    fs::remove(dir_ + "/trace.folded");
    // Kernel frame-pointer stacks (-g fp) here; the other modes run elsewhere.
    RecordTraceProcess p(dir_, {"--live", "--callstacks", "fp", "-f", "folded", "-o", dir_});
    // Some samples first, so the profile has something in it.
    ASSERT_TRUE(p.wait_for_stdout_lines(20)) << p.err();
    p.signal(sig);
    CliRun r = p.finish();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("record-trace: stopped, exporting"));
    EXPECT_THAT(r.out, HasSubstr(dir_ + "/trace.folded"));
    ASSERT_TRUE(fs::exists(dir_ + "/trace.folded"));
    EXPECT_GT(fs::file_size(dir_ + "/trace.folded"), 0u);
    bool stacks = false;  // fp: the kernel's callchain, more than the sampled address
    for (const std::string& line : lines_of(r.out)) {
      std::string frames = field_of(line, "frames");
      stacks = stacks || (all_digits(frames) && std::stoul(frames) > 1);
    }
    EXPECT_TRUE(stacks) << r.out.substr(0, 2000);
  }
}

// A second Ctrl-C aborts at once with 130 and writes nothing. To be sure
// the second arrives while record-trace still runs, its --live stdout is a
// pipe the test never reads: once record-trace sleeps writing to it, it
// cannot finish, whatever the machine's load. Both interrupts go to the
// main thread (the one a terminal's Ctrl-C would find writing), the second
// only after the first was taken; a signal that is not taken yet would
// merge with it.
TEST_F(RecordTraceCli, SecondCtrlCAbortsWith130) {
  OC_REQUIRE_ROOT();
  RecordTraceProcess p(dir_, {"--live", "-g", "none", "-f", "folded", "-o", dir_},
                       {.stdout_pipe = true});
  const pid_t pid = p.pid();
  ASSERT_TRUE(wait_until([&] { return blocked_writing(pid, pid, 1) || !p.running(); }));
  ASSERT_TRUE(p.running()) << p.err();

  const std::uint64_t sigint = std::uint64_t{1} << (SIGINT - 1);
  ASSERT_EQ(::syscall(SYS_tgkill, pid, pid, SIGINT), 0);
  ASSERT_TRUE(wait_until([&] { return (pending_signals(pid, pid) & sigint) == 0; }));
  ASSERT_TRUE(p.running()) << "blocked on the full pipe, it cannot have finished";
  ASSERT_EQ(::syscall(SYS_tgkill, pid, pid, SIGINT), 0);
  CliRun r = p.finish();
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_THAT(r.err, HasSubstr("record-trace: aborted (second interrupt); nothing written"));
  EXPECT_FALSE(fs::exists(dir_ + "/trace.folded"));
}

// `record-trace --live | head`: once the reader closes the pipe, the
// recording stops like a Ctrl-C (no -d: nothing else would end it), the
// files are written and the exit status is 0.
TEST_F(RecordTraceCli, LiveIntoAPipeClosedByItsReaderStopsCleanly) {
  OC_REQUIRE_ROOT();
  RecordTraceProcess p(dir_, {"--live", "-g", "none", "-f", "folded", "-o", dir_},
                       {.stdout_pipe = true});
  // Read five lines, like `head -5`, then go away.
  ASSERT_EQ(::fcntl(p.stdout_fd(), F_SETFL, O_NONBLOCK), 0);
  std::string head;
  ASSERT_TRUE(wait_until([&] {
    char buf[4096];
    ssize_t n = ::read(p.stdout_fd(), buf, sizeof buf);
    if (n > 0) head.append(buf, static_cast<std::size_t>(n));
    return count_of(head, "\n") >= 5 || n == 0;
  })) << p.err();
  ASSERT_GE(count_of(head, "\n"), 5u) << p.err();
  EXPECT_THAT(head, HasSubstr(" cpu ip=0x"));
  p.close_stdout();

  CliRun r = p.finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("record-trace: standard output closed; stopped, exporting"));
  ASSERT_TRUE(fs::exists(dir_ + "/trace.folded"));
  EXPECT_GT(fs::file_size(dir_ + "/trace.folded"), 0u);
}

// Exit 1: recording worked, writing did not (the command removes the output
// directory while it is recorded).
TEST_F(RecordTraceCli, ExportFailureAfterRecordingExitsOne) {
  OC_REQUIRE_ROOT();
  const std::string out = dir_ + "/out";
  ASSERT_TRUE(fs::create_directory(out));
  CliRun r = run({"-q", "-f", "folded", "-o", out + "/", "--", "/bin/rm", "-r", out});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("record-trace: export: writing " + out + "/trace.folded: "));
  EXPECT_THAT(r.err, HasSubstr("No such file or directory"));
}

}  // namespace
