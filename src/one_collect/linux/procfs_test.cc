#include "one_collect/linux/procfs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "one_collect/testing/temp_dir.h"

namespace one_collect {
namespace {

TEST(ParseMapsLine, FileMapping) {
  auto m = parse_maps_line(
      "7f0c1a2b3000-7f0c1a2d5000 r-xp 00028000 fd:01 1315014                    "
      "/usr/lib/x86_64-linux-gnu/libc.so.6");
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->start, 0x7f0c1a2b3000u);
  EXPECT_EQ(m->end, 0x7f0c1a2d5000u);
  EXPECT_TRUE(m->read);
  EXPECT_FALSE(m->write);
  EXPECT_TRUE(m->exec);
  EXPECT_FALSE(m->shared);
  EXPECT_EQ(m->offset, 0x28000u);
  EXPECT_EQ(m->dev_major, 0xfdu);
  EXPECT_EQ(m->dev_minor, 1u);
  EXPECT_EQ(m->inode, 1315014u);
  EXPECT_EQ(m->path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_FALSE(m->deleted);
  EXPECT_EQ(m->kind, MapKind::kFile);
}

TEST(ParseMapsLine, PathWithSpacesAndDeletedSuffix) {
  auto m =
      parse_maps_line("00400000-00401000 rw-s 00000000 08:02 42   /tmp/my dir/a  b.bin (deleted)");
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->path, "/tmp/my dir/a  b.bin");
  EXPECT_TRUE(m->deleted);
  EXPECT_TRUE(m->shared);
  EXPECT_TRUE(m->write);
  EXPECT_FALSE(m->exec);
  EXPECT_EQ(m->kind, MapKind::kFile);

  auto nl = parse_maps_line("00400000-00401000 r--p 00000000 08:02 42 /tmp/new\\012line");
  ASSERT_TRUE(nl.ok());
  EXPECT_EQ(nl->path, "/tmp/new\nline");
}

TEST(ParseMapsLine, SpecialAndAnonymousMappings) {
  struct Case {
    std::string_view line;
    MapKind kind;
    std::string_view path;
  };
  const Case cases[] = {
      {"55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0                          [heap]",
       MapKind::kHeap, "[heap]"},
      {"7ffd4b6e0000-7ffd4b701000 rw-p 00000000 00:00 0                          [stack]",
       MapKind::kStack, "[stack]"},
      {"7ffd4b7c2000-7ffd4b7c4000 r-xp 00000000 00:00 0                          [vdso]",
       MapKind::kVdso, "[vdso]"},
      {"7ffd4b7be000-7ffd4b7c2000 r--p 00000000 00:00 0                          [vvar]",
       MapKind::kVvar, "[vvar]"},
      {"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
       MapKind::kVsyscall, "[vsyscall]"},
      {"7f0c1a000000-7f0c1a021000 rw-p 00000000 00:00 0 ", MapKind::kAnonymous, ""},
      {"7f0c1a000000-7f0c1a021000 rw-p 00000000 00:00 0", MapKind::kAnonymous, ""},
      {"7f0c1a000000-7f0c1a021000 rw-p 00000000 00:00 0   [anon:jit]", MapKind::kOtherSpecial,
       "[anon:jit]"},
  };
  for (const auto& c : cases) {
    auto m = parse_maps_line(c.line);
    ASSERT_TRUE(m.ok()) << c.line << ": " << m.status().to_string();
    EXPECT_EQ(m->kind, c.kind) << c.line;
    EXPECT_EQ(m->path, c.path) << c.line;
    EXPECT_EQ(m->inode, 0u);
    EXPECT_FALSE(m->deleted);
  }
}

TEST(ParseMaps, MalformedLinesAreReportedOthersKept) {
  std::string text =
      "00400000-00401000 r-xp 00000000 08:02 42 /bin/a\n"
      "garbage\n"
      "00400000 r-xp 00000000 08:02 42 /bin/no-range\n"
      "00500000-00400000 r-xp 00000000 08:02 42 /bin/backwards\n"
      "00400000-00401000 rxp 00000000 08:02 42 /bin/perms\n"
      "00400000-00401000 r-zp 00000000 08:02 42 /bin/perms2\n"
      "00400000-00401000 r-xp 0000zz00 08:02 42 /bin/offset\n"
      "00400000-00401000 r-xp 00000000 0802 42 /bin/dev\n"
      "00400000-00401000 r-xp 00000000 08:02 4x2 /bin/inode\n"
      "00400000-00401000 r-xp 00000000 08:02\n"
      "\n"
      "00600000-00601000 rw-p 00000000 00:00 0\n";
  MapsParse parsed = parse_maps(text);
  ASSERT_EQ(parsed.entries.size(), 2u);
  EXPECT_EQ(parsed.entries[0].path, "/bin/a");
  EXPECT_EQ(parsed.entries[1].start, 0x600000u);
  ASSERT_EQ(parsed.errors.size(), 9u);
  const char* expected[] = {"line 2: ", "line 3: ", "line 4: ", "line 5: ", "line 6: ",
                            "line 7: ", "line 8: ", "line 9: ", "line 10: "};
  for (std::size_t i = 0; i < parsed.errors.size(); ++i) {
    EXPECT_EQ(parsed.errors[i].code(), ErrorCode::kMalformed);
    EXPECT_TRUE(parsed.errors[i].message().starts_with(expected[i])) << parsed.errors[i].message();
  }
  EXPECT_NE(parsed.errors[2].message().find("range end before start"), std::string::npos);
  EXPECT_NE(parsed.errors[7].message().find("bad inode"), std::string::npos);
}

TEST(Cmdline, SplitsOnNul) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split_cmdline(std::string_view("a\0b c\0\0d\0", 9)), (V{"a", "b c", "", "d"}));
  EXPECT_EQ(split_cmdline(std::string_view("no-terminator")), (V{"no-terminator"}));
  EXPECT_EQ(split_cmdline(std::string_view()), V{});
}

TEST(Comm, LongNameOnlyWhenTruncatedAndConsistent) {
  using namespace std::string_view_literals;
  EXPECT_EQ(long_comm("a_very_long_pro", "/usr/bin/a_very_long_process\0--x\0"sv),
            "a_very_long_process");
  // Not 15 bytes: the kernel did not truncate.
  EXPECT_EQ(long_comm("short", "/usr/bin/shorter_name\0"sv), "short");
  // argv[0] that disagrees with comm (rewritten argv, prctl names).
  EXPECT_EQ(long_comm("kworker/0:1-eve", "/sbin/init\0"sv), "kworker/0:1-eve");
  // Kernel threads have no cmdline.
  EXPECT_EQ(long_comm("a_very_long_pro", ""sv), "a_very_long_pro");
}

TEST(NsPid, ParsesChainAndRejectsGarbage) {
  auto chain = parse_nspid("Name:\tx\nTgid:\t5\nNSpid:\t1234\t56\t1\nPPid:\t1\n");
  ASSERT_TRUE(chain.ok()) << chain.status().to_string();
  EXPECT_EQ(*chain, (std::vector<int>{1234, 56, 1}));
  EXPECT_EQ(parse_nspid("Name:\tx\n").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(parse_nspid("NSpid:\t12\tab\n").status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(parse_nspid("NSpid:\t\n").status().code(), ErrorCode::kMalformed);
}

TEST(Namespaces, ParsesLinks) {
  auto ns = parse_namespace_link("net:[4026531840]");
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(ns->type, "net");
  EXPECT_EQ(ns->inode, 4026531840u);
  for (std::string_view bad : {"net", "net:[]", ":[1]", "net:[12", "net:[1x]", "net:4026531840"}) {
    EXPECT_EQ(parse_namespace_link(bad).status().code(), ErrorCode::kMalformed) << bad;
  }
}

TEST(ProcfsLive, SelfPidsThreadsCmdlineNamespaces) {
  const int self = static_cast<int>(::getpid());
  auto pids = list_pids();
  ASSERT_TRUE(pids.ok()) << pids.status().to_string();
  EXPECT_TRUE(std::binary_search(pids->begin(), pids->end(), self));
  EXPECT_TRUE(std::binary_search(pids->begin(), pids->end(), 1));

  std::atomic<bool> stop{false};
  std::atomic<int> worker_tid{0};
  std::thread worker([&] {
    worker_tid = static_cast<int>(::syscall(SYS_gettid));
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (worker_tid == 0) std::this_thread::yield();
  auto threads = list_threads(self);
  stop = true;
  worker.join();
  ASSERT_TRUE(threads.ok()) << threads.status().to_string();
  EXPECT_TRUE(std::binary_search(threads->begin(), threads->end(), self));
  EXPECT_TRUE(std::binary_search(threads->begin(), threads->end(), worker_tid.load()));

  auto cmdline = read_cmdline(self);
  ASSERT_TRUE(cmdline.ok());
  ASSERT_FALSE(cmdline->empty());
  EXPECT_NE((*cmdline)[0].find("linux_fs_tests"), std::string::npos);
  auto comm = read_comm(self);
  ASSERT_TRUE(comm.ok());
  EXPECT_EQ(*comm, "linux_fs_tests");

  auto chain = read_nspid(self);
  ASSERT_TRUE(chain.ok()) << chain.status().to_string();
  EXPECT_EQ(chain->front(), self);

  auto namespaces = read_namespaces(self);
  ASSERT_TRUE(namespaces.ok()) << namespaces.status().to_string();
  auto net = std::find_if(namespaces->begin(), namespaces->end(),
                          [](const NamespaceId& n) { return n.type == "net"; });
  ASSERT_NE(net, namespaces->end());
  struct stat st {};
  ASSERT_EQ(::stat("/proc/self/ns/net", &st), 0);
  EXPECT_EQ(net->inode, st.st_ino);

  auto maps = read_maps(self);
  ASSERT_TRUE(maps.ok());
  EXPECT_TRUE(maps->errors.empty());
  bool has_stack = false, has_exe = false;
  for (const auto& m : maps->entries) {
    has_stack |= m.kind == MapKind::kStack;
    has_exe |= m.exec && m.path.find("linux_fs_tests") != std::string::npos;
  }
  EXPECT_TRUE(has_stack);
  EXPECT_TRUE(has_exe);
}

TEST(ProcfsLive, VanishedPidIsNotFound) {
  EXPECT_EQ(read_comm(0).status().code(), ErrorCode::kInvalidArgument);
  // Pids above pid_max never exist.
  EXPECT_EQ(read_comm(0x7ffffff0).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(read_maps(0x7ffffff0).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(list_threads(0x7ffffff0).status().code(), ErrorCode::kNotFound);
}

// A child running a binary whose name is longer than 15 bytes, from a path
// with spaces, which we delete while it runs.
TEST(ProcfsLive, ChildWithLongNameAndDeletedPathWithSpaces) {
  namespace fs = std::filesystem;
  testing::TempDir tmp("oc procfs test");
  const fs::path dir = tmp.path();
  const fs::path exe = dir / "oc long name process";
  std::error_code ec;
  fs::copy_file("/bin/sleep", exe, ec);
  ASSERT_FALSE(ec) << ec.message();
  fs::permissions(exe, fs::perms::owner_all, ec);
  ASSERT_FALSE(ec);

  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);  // the write end closes when exec succeeds
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    std::string path = exe.string();
    char* argv[] = {path.data(), const_cast<char*>("30"), nullptr};
    ::execv(path.c_str(), argv);
    ::_exit(127);
  }
  ::close(ready[1]);
  char byte;
  while (::read(ready[0], &byte, 1) < 0 && errno == EINTR) {
  }
  ::close(ready[0]);
  fs::remove(exe, ec);
  ASSERT_FALSE(ec);

  auto comm = read_comm(child);
  auto cmdline = read_cmdline(child);
  auto maps = read_maps(child);
  auto chain = read_nspid(child);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);

  ASSERT_TRUE(comm.ok()) << comm.status().to_string();
  EXPECT_EQ(*comm, "oc long name process");
  ASSERT_TRUE(cmdline.ok());
  EXPECT_EQ(*cmdline, (std::vector<std::string>{exe.string(), "30"}));
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(chain->front(), child);
  ASSERT_TRUE(maps.ok()) << maps.status().to_string();
  EXPECT_TRUE(maps->errors.empty());
  int deleted_exec = 0;
  for (const auto& m : maps->entries) {
    if (m.path == exe.string()) {
      EXPECT_TRUE(m.deleted) << "mapping of the unlinked binary must be marked deleted";
      EXPECT_NE(m.inode, 0u);
      if (m.exec) ++deleted_exec;
    }
  }
  EXPECT_EQ(deleted_exec, 1) << "the exec mapping of '" << exe.string() << "' was not found";
}

}  // namespace
}  // namespace one_collect
