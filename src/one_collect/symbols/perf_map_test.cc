#include "one_collect/symbols/perf_map.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "one_collect/testing/privileged.h"
#include "one_collect/testing/temp_dir.h"

namespace one_collect {
namespace {

namespace fs = std::filesystem;

TEST(PerfMap, ThreeStylesParse) {
  const char* text =
      // Java (0x-prefixed fields)
      "0x00007f3a2c000000 0x0000000000000120 Ljava/lang/String;::hashCode\n"
      // CoreCLR (uppercase hex, names with spaces and brackets)
      "00007F3A2C001000 3C [OptimizedTier1] System.String::Concat(string,string)[Optimized]\n"
      // V8 / Mono (lowercase hex)
      "7f3a2c002000 40 LazyCompile:~work /app/main.js:3:14\r\n"
      "\n";
  PerfMap m = PerfMap::parse(text);
  EXPECT_EQ(m.stats().entries, 3u);
  EXPECT_EQ(m.stats().malformed, 0u);
  EXPECT_EQ(m.lookup(0x7f3a2c000010)->name, "Ljava/lang/String;::hashCode");
  EXPECT_FALSE(m.lookup(0x7f3a2c000120));
  EXPECT_EQ(m.lookup(0x7f3a2c00103b)->name,
            "[OptimizedTier1] System.String::Concat(string,string)[Optimized]");
  EXPECT_EQ(m.lookup(0x7f3a2c002000)->name, "LazyCompile:~work /app/main.js:3:14");
  EXPECT_FALSE(m.lookup(0x7f3a2c002040));
}

TEST(PerfMap, MalformedLinesAreSkippedAndCounted) {
  const char* text =
      "1000 10 good\n"
      "zzzz 10 bad_hex\n"
      "2000 10\n"                          // no name
      "11112222333344445555 10 toolong\n"  // 20 hex digits
      "ffffffffffffffff 10 overflow\n"
      "3000 10 name\0with nul\n"
      "4000 0 zero_size\n";
  PerfMap m = PerfMap::parse(std::string_view(text, 137));
  EXPECT_EQ(m.stats().malformed, 4u);
  EXPECT_EQ(m.lookup(0x1005)->name, "good");
  EXPECT_EQ(m.lookup(0x3001)->name, "name");
  EXPECT_EQ(m.lookup(0x4000)->name, "zero_size");
}

TEST(PerfMap, LaterLineWinsAtTheSameStart) {
  PerfMap m = PerfMap::parse("1000 10 old\n1000 10 new\n");
  EXPECT_EQ(m.lookup(0x1000)->name, "new");
}

TEST(PerfMap, EntryCapIsHonoured) {
  std::string text;
  for (int i = 0; i < 1000; ++i) {
    text += std::to_string(1000 + i * 16);
    text += " 10 f";
    text += std::to_string(i);
    text += "\n";
  }
  PerfMapOptions opts;
  opts.max_entries = 100;
  PerfMap m = PerfMap::parse(text, opts);
  EXPECT_EQ(m.stats().entries, 100u);
  EXPECT_TRUE(m.stats().truncated);
}

struct TempDir : testing::TempDir {
  TempDir() : testing::TempDir("oc_perfmap") {}
};

TEST(PerfMap, FifoIsRefusedWithoutHanging) {
  TempDir d;
  std::string p = (d.path() / "perf-1.map").string();
  ASSERT_EQ(::mkfifo(p.c_str(), 0644), 0);
  // No writer ever opens the FIFO: a blocking open or read would hang here.
  auto r = PerfMap::read_file(p, ::getuid());
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("not a regular file"), std::string::npos);
}

TEST(PerfMap, SymlinkIsRefused) {
  TempDir d;
  std::string target = (d.path() / "real.map").string();
  std::ofstream(target) << "1000 10 f\n";
  std::string link = (d.path() / "perf-2.map").string();
  fs::create_symlink(target, link);
  auto r = PerfMap::read_file(link, ::getuid());
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("symbolic link"), std::string::npos);
  EXPECT_TRUE(PerfMap::read_file(target, ::getuid()).ok());
}

TEST(PerfMap, WrongOwnerIsRefused) {
  OC_REQUIRE_ROOT();  // chown to another user needs root
  TempDir d;
  std::string p = (d.path() / "perf-3.map").string();
  std::ofstream(p) << "1000 10 f\n";
  ASSERT_EQ(::chown(p.c_str(), 12345, 12345), 0);
  auto r = PerfMap::read_file(p, 23456);
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("owned by uid 12345"), std::string::npos);
  // Its own user is accepted, and so is root's file for anyone.
  EXPECT_TRUE(PerfMap::read_file(p, 12345).ok());
  ASSERT_EQ(::chown(p.c_str(), 0, 0), 0);
  EXPECT_TRUE(PerfMap::read_file(p, 23456).ok());
}

TEST(PerfMap, HugeGarbageMapIsCapped) {
  TempDir d;
  std::string p = (d.path() / "perf-4.map").string();
  {
    std::ofstream out(p, std::ios::binary);
    std::string garbage(1 << 20, '\xff');
    for (int i = 0; i < 8; ++i) out << garbage;  // 8 MiB without a newline
    out << "\n1000 10 after_garbage\n";
  }
  PerfMapOptions opts;
  opts.max_bytes = 1 << 20;
  auto r = PerfMap::read_file(p, ::getuid(), opts);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->stats().truncated);
  EXPECT_EQ(r->stats().entries, 0u);
  // Without the cap the whole file is read and the one good line found.
  auto full = PerfMap::read_file(p, ::getuid());
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->stats().malformed, 1u);
  EXPECT_EQ(full->lookup(0x1001)->name, "after_garbage");
}

TEST(PerfMap, MissingProcessOrMapIsNotFound) {
  EXPECT_EQ(PerfMap::read_for_process(0x7ffffff0, 1).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(PerfMap::read_for_process(::getpid(), 0x7ffffff0).status().code(),
            ErrorCode::kNotFound);
}

bool have(const char* tool) {
  std::string cmd = std::string("command -v ") + tool + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// Node writes /tmp/perf-PID.map while it runs; we read it through
// /proc/PID/root under its namespace pid and find the JS function.
TEST(PerfMap, NodeBasicProfNamesJsFunction) {
  OC_REQUIRE_FACILITY(have("node"), "node is not installed");
  int out_pipe[2];
  ASSERT_EQ(::pipe(out_pipe), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::close(out_pipe[0]);
    const char* script =
        "function ocBusyFunction(n){let s=0;for(let i=0;i<n;i++){s+=i%7;}return s;}"
        "let t=Date.now();let acc=0;let said=false;"
        "while(Date.now()-t<20000){acc+=ocBusyFunction(20000);"
        "if(!said&&Date.now()-t>300){said=true;console.log('ready');}}";
    ::execlp("node", "node", "--perf-basic-prof", "-e", script, nullptr);
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  char buf[16] = {0};
  ssize_t n = ::read(out_pipe[0], buf, sizeof buf - 1);
  ::close(out_pipe[0]);
  ASSERT_GT(n, 0) << "node did not start";
  auto map = PerfMap::read_for_process(pid, pid);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  std::string path = "/tmp/perf-" + std::to_string(pid) + ".map";
  ASSERT_TRUE(map.ok()) << map.status().to_string();
  ::unlink(path.c_str());
  EXPECT_GT(map->stats().entries, 100u);
  EXPECT_EQ(map->stats().malformed, 0u);
  const SymbolTable& t = map->table();
  std::size_t found = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.raw_name(i).find("ocBusyFunction") == std::string_view::npos) continue;
    auto s = map->lookup(t.start_at(i) + (t.end_at(i) - t.start_at(i)) / 2);
    ASSERT_TRUE(s);
    EXPECT_NE(s->name.find("ocBusyFunction"), std::string_view::npos);
    ++found;
  }
  EXPECT_GE(found, 1u);
}

// A containerised target: node in its own pid and mount namespaces, with a
// private tmpfs on /tmp. Its map is /tmp/perf-1.map inside its namespace,
// invisible on the host's /tmp: only /proc/PID/root and the namespace pid
// find it.
TEST(PerfMap, NodeInPidAndMountNamespaceIsReadThroughProcRoot) {
  OC_REQUIRE_ROOT();
  OC_REQUIRE_FACILITY(have("node") && have("unshare"), "node or unshare is not installed");
  int out_pipe[2];
  ASSERT_EQ(::pipe(out_pipe), 0);
  pid_t unshare_pid = ::fork();
  ASSERT_GE(unshare_pid, 0);
  if (unshare_pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::close(out_pipe[0]);
    const char* cmd =
        "mount -t tmpfs oc_tmp /tmp && exec node --perf-basic-prof -e '"
        "function ocNsFunction(n){let s=0;for(let i=0;i<n;i++){s+=i%7;}return s;}"
        "let t=Date.now();let acc=0;let said=false;"
        "while(Date.now()-t<20000){acc+=ocNsFunction(20000);"
        "if(!said&&Date.now()-t>300){said=true;console.log(\"ready\");}}'";
    ::execlp("unshare", "unshare", "--pid", "--mount", "--fork", "sh", "-c", cmd, nullptr);
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  char buf[16] = {0};
  ssize_t n = ::read(out_pipe[0], buf, sizeof buf - 1);
  ::close(out_pipe[0]);
  // node's host pid: the only child of unshare.
  std::string children;
  {
    std::ifstream in("/proc/" + std::to_string(unshare_pid) + "/task/" +
                     std::to_string(unshare_pid) + "/children");
    std::getline(in, children);
  }
  int node_pid = children.empty() ? 0 : std::atoi(children.c_str());
  int nspid = 0;
  {
    std::ifstream st("/proc/" + std::to_string(node_pid) + "/status");
    std::string line;
    while (std::getline(st, line)) {
      if (line.rfind("NSpid:", 0) == 0)
        nspid = std::atoi(line.substr(line.rfind('\t') + 1).c_str());
    }
  }
  Result<PerfMap> map = error(ErrorCode::kInternal, "not read");
  Result<PerfMap> host_view = error(ErrorCode::kInternal, "not read");
  if (n > 0 && node_pid > 0) {
    map = PerfMap::read_for_process(node_pid, nspid);
    // Not on the host's /tmp under either pid.
    host_view = PerfMap::read_file("/tmp/perf-" + std::to_string(nspid) + ".map", 0);
  }
  ::kill(unshare_pid, SIGKILL);
  if (node_pid > 0) ::kill(node_pid, SIGKILL);
  ::waitpid(unshare_pid, nullptr, 0);
  ASSERT_GT(n, 0) << "node did not start in the namespaces";
  ASSERT_GT(node_pid, 0);
  EXPECT_EQ(nspid, 1);
  EXPECT_NE(node_pid, nspid);
  ASSERT_TRUE(map.ok()) << map.status().to_string();
  EXPECT_FALSE(host_view.ok());
  const SymbolTable& t = map->table();
  std::size_t found = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.raw_name(i).find("ocNsFunction") != std::string_view::npos) ++found;
  }
  EXPECT_GE(found, 1u);
}

// HotSpot dumps its code cache as a perf map at exit (0x-prefixed style).
TEST(PerfMap, JavaDumpPerfMapNamesJavaMethod) {
  OC_REQUIRE_FACILITY(have("java") && have("javac"), "java/javac are not installed");
  TempDir d;
  std::ofstream(d.path() / "OcBusy.java")
      << "public class OcBusy {\n"
         "  static long ocBusyMethod(int n) { long s = 0; for (int i = 0; i < n; i++) s += i % 7; "
         "return s; }\n"
         "  public static void main(String[] a) { long acc = 0; long t = System.nanoTime();\n"
         "    while (System.nanoTime() - t < 1500000000L) acc += ocBusyMethod(100000);\n"
         "    System.out.println(acc > 0 ? \"done\" : \"zero\"); }\n"
         "}\n";
  std::string javac = "javac -d " + d.path().string() + " " + (d.path() / "OcBusy.java").string();
  ASSERT_EQ(std::system(javac.c_str()), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::execlp("java", "java", "-XX:+UnlockDiagnosticVMOptions", "-XX:+DumpPerfMapAtExit", "-cp",
             d.path().c_str(), "OcBusy", nullptr);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::string path = "/tmp/perf-" + std::to_string(pid) + ".map";
  auto map = PerfMap::read_file(path, ::getuid());
  ::unlink(path.c_str());
  ASSERT_TRUE(map.ok()) << map.status().to_string();
  EXPECT_GT(map->stats().entries, 100u);
  EXPECT_EQ(map->stats().malformed, 0u);
  const SymbolTable& t = map->table();
  std::size_t found = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.raw_name(i).find("OcBusy::ocBusyMethod") == std::string_view::npos &&
        t.raw_name(i).find("OcBusy.ocBusyMethod") == std::string_view::npos) {
      continue;
    }
    auto s = map->lookup(t.start_at(i) + 1);
    ASSERT_TRUE(s);
    EXPECT_NE(s->name.find("ocBusyMethod"), std::string_view::npos);
    ++found;
  }
  EXPECT_GE(found, 1u);
}

}  // namespace
}  // namespace one_collect
