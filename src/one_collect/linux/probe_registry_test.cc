#include "one_collect/linux/probe_registry.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "one_collect/linux/procfs.h"
#include "one_collect/testing/privileged.h"
#include "one_collect/testing/temp_dir.h"

#ifndef OC_UPROBE_TARGET
#error "OC_UPROBE_TARGET (path of the oc_uprobe_target test binary) must be defined"
#endif

extern "C" __attribute__((noinline, used)) int oc_probe_registry_test_fn(int x) {
  asm volatile("" ::: "memory");
  return x + 1;
}
extern "C" {
__attribute__((used)) int oc_probe_registry_test_var = 3;
}

namespace one_collect {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) { return testing::read_text(path); }

// The file offset of the code at `addr` in this process, from our maps.
std::optional<std::pair<std::string, std::uint64_t>> file_offset_of(const void* addr) {
  auto maps = read_maps(static_cast<int>(::getpid()));
  if (!maps.ok()) return std::nullopt;
  auto a = reinterpret_cast<std::uint64_t>(addr);
  for (const auto& m : maps->entries) {
    if (a >= m.start && a < m.end && m.kind == MapKind::kFile) {
      return std::make_pair(m.path, a - m.start + m.offset);
    }
  }
  return std::nullopt;
}

TEST(ResolveSymbol, MatchesWhereTheLoaderMappedOurOwnFunction) {
  auto where = file_offset_of(reinterpret_cast<const void*>(&oc_probe_registry_test_fn));
  ASSERT_TRUE(where.has_value());
  auto offset = resolve_symbol_file_offset(where->first, "oc_probe_registry_test_fn");
  ASSERT_TRUE(offset.ok()) << offset.status().to_string();
  EXPECT_EQ(*offset, where->second);
}

TEST(ResolveSymbol, MatchesLibcDynamicSymbol) {
  // Not intercepted by sanitizers, exported only through .dynsym.
  void* fn = ::dlsym(RTLD_DEFAULT, "gnu_get_libc_version");
  ASSERT_NE(fn, nullptr);
  auto where = file_offset_of(fn);
  ASSERT_TRUE(where.has_value());
  auto offset = resolve_symbol_file_offset(where->first, "gnu_get_libc_version");
  ASSERT_TRUE(offset.ok()) << offset.status().to_string();
  EXPECT_EQ(*offset, where->second);
}

TEST(ResolveSymbol, ClearErrors) {
  const std::string target = OC_UPROBE_TARGET;
  auto missing = resolve_symbol_file_offset(target, "no_such_function_here");
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no_such_function_here"), std::string::npos);

  auto object = resolve_symbol_file_offset("/proc/self/exe", "oc_probe_registry_test_var");
  EXPECT_EQ(object.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(object.status().message().find("not a function"), std::string::npos);

  EXPECT_EQ(resolve_symbol_file_offset("/no/such/file", "main").status().code(),
            ErrorCode::kNotFound);
  testing::TempDir tmp("oc_not_elf");
  auto not_elf = resolve_symbol_file_offset(tmp.write("script", "#!/bin/sh\n").string(), "main");
  EXPECT_EQ(not_elf.status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(resolve_symbol_file_offset(target, "").status().code(), ErrorCode::kInvalidArgument);
}

// A stand-in tracefs directory: control files are regular files, so every
// command the registry writes can be read back.
class FakeTracefs : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "events");
    std::ofstream(dir_ / "uprobe_events").close();
  }
  void add_format(const std::string& group, const std::string& event) {
    fs::create_directories(dir_ / "events" / group / event);
    std::ofstream(dir_ / "events" / group / event / "format")
        << "name: " << event << "\nID: 4242\nformat:\n"
        << "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
        << "\tfield:unsigned long __probe_ip;\toffset:8;\tsize:8;\tsigned:0;\n";
  }
  testing::TempDir tmp_{"oc_fake_tracefs"};
  fs::path dir_ = tmp_.path();
};

TEST_F(FakeTracefs, KprobeIsUnsupportedWithoutKprobeEvents) {
  auto t = Tracefs::open_at(dir_.string());
  ASSERT_TRUE(t.ok());
  auto reg = ProbeRegistry::create(*t);
  ASSERT_TRUE(reg.ok()) << reg.status().to_string();
  auto k = reg->add_kprobe(KprobeSpec{"do_sys_openat2", 0, false, "", ""});
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(k.status().message().find("CONFIG_KPROBES"), std::string::npos) << k.status().message();
}

TEST_F(FakeTracefs, MissingUprobeEventsIsUnsupported) {
  fs::remove(dir_ / "uprobe_events");
  auto t = Tracefs::open_at(dir_.string());
  ASSERT_TRUE(t.ok());
  auto reg = ProbeRegistry::create(*t);
  ASSERT_FALSE(reg.ok());
  EXPECT_EQ(reg.status().code(), ErrorCode::kUnsupported);
}

TEST_F(FakeTracefs, WritesDefinitionAndRemovalCommands) {
  const std::string target = OC_UPROBE_TARGET;
  auto offset = resolve_symbol_file_offset(target, "oc_uprobe_target_fn");
  ASSERT_TRUE(offset.ok()) << offset.status().to_string();
  const std::string group = probe_group_for_pid(static_cast<int>(::getpid()));
  add_format(group, "myprobe");
  add_format(group, "myret");
  char off[32];
  std::snprintf(off, sizeof off, "0x%llx", static_cast<unsigned long long>(*offset));
  {
    auto t = Tracefs::open_at(dir_.string());
    ASSERT_TRUE(t.ok());
    auto reg = ProbeRegistry::create(*t);
    ASSERT_TRUE(reg.ok()) << reg.status().to_string();
    EXPECT_EQ(reg->group(), group);
    auto p = reg->add_uprobe(
        UprobeSpec{target, "oc_uprobe_target_fn", std::nullopt, false, "arg=%di:s32", "myprobe"});
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    EXPECT_EQ(p->id, 4242u);
    EXPECT_EQ(p->system, group);
    EXPECT_EQ(p->name, "myprobe");
    auto r = reg->add_uprobe(UprobeSpec{target, "oc_uprobe_target_fn", 0, true, "", "myret"});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    // No format for this one: the registry removes what it added and fails.
    auto orphan = reg->add_uprobe(UprobeSpec{target, "", 0x10, false, "", "noformat"});
    EXPECT_FALSE(orphan.ok());
    EXPECT_EQ(reg->registered(), (std::vector<std::string>{group + "/myprobe", group + "/myret"}));

    ProbeRegistry moved = std::move(reg).value();  // moving must not remove anything
    EXPECT_EQ(moved.registered().size(), 2u);
  }
  std::string expected = "p:" + group + "/myprobe " + target + ":" + off + " arg=%di:s32\n" +
                         "r:" + group + "/myret " + target + ":" + off + "\n" + "p:" + group +
                         "/noformat " + target + ":0x10\n" + "-:" + group + "/noformat\n" +
                         "-:" + group + "/myprobe\n" + "-:" + group + "/myret\n";
  EXPECT_EQ(slurp((dir_ / "uprobe_events").string()), expected);
}

TEST_F(FakeTracefs, BadSpecsAreRejectedBeforeWriting) {
  auto t = Tracefs::open_at(dir_.string());
  ASSERT_TRUE(t.ok());
  auto reg = ProbeRegistry::create(*t);
  ASSERT_TRUE(reg.ok());
  const std::string target = OC_UPROBE_TARGET;
  struct Case {
    UprobeSpec spec;
    ErrorCode code;
  };
  const Case cases[] = {
      {UprobeSpec{"relative/path", "f", std::nullopt, false, "", ""}, ErrorCode::kInvalidArgument},
      {UprobeSpec{"/tmp/with space", "", 0x10, false, "", ""}, ErrorCode::kInvalidArgument},
      {UprobeSpec{target, "", std::nullopt, false, "", ""}, ErrorCode::kInvalidArgument},
      {UprobeSpec{target, "oc_uprobe_target_fn", std::nullopt, false, "a=%di\np:x/y", ""},
       ErrorCode::kInvalidArgument},
      {UprobeSpec{target, "oc_uprobe_target_fn", std::nullopt, false, "", "bad-name"},
       ErrorCode::kInvalidArgument},
      {UprobeSpec{target, "missing_fn", std::nullopt, false, "", ""}, ErrorCode::kNotFound},
  };
  for (const auto& c : cases) {
    auto r = reg->add_uprobe(c.spec);
    ASSERT_FALSE(r.ok()) << c.spec.binary << " " << c.spec.symbol;
    EXPECT_EQ(r.status().code(), c.code) << r.status().to_string();
  }
  EXPECT_EQ(slurp((dir_ / "uprobe_events").string()), "");
}

TEST_F(FakeTracefs, StaleProbesOfDeadPidsAreRemovedOthersKept) {
  // pid 1 runs; 999999999 is above any pid_max, so it cannot.
  std::ofstream(dir_ / "uprobe_events")
      << "p:one_collect_999999999/dead_probe /bin/true:0x0000000000001000\n"
      << "r:one_collect_1/alive_probe /bin/true:0x0000000000001000\n"
      << "p:someone_else_999999999/other /bin/true:0x0000000000001000\n"
      << "p:one_collect_notapid/odd /bin/true:0x0000000000001000\n";
  auto t = Tracefs::open_at(dir_.string());
  ASSERT_TRUE(t.ok());
  auto removed = remove_stale_probes(*t);
  ASSERT_TRUE(removed.ok()) << removed.status().to_string();
  EXPECT_EQ(*removed, std::vector<std::string>{"one_collect_999999999/dead_probe"});
  std::string text = slurp((dir_ / "uprobe_events").string());
  EXPECT_TRUE(text.ends_with("-:one_collect_999999999/dead_probe\n")) << text;
}

// ---- against the real kernel ----------------------------------------------

bool uprobe_events_mention(const Tracefs& t, const std::string& needle) {
  auto text = t.read_file("uprobe_events");
  return text.ok() && text->find(needle) != std::string::npos;
}

Status write_file(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return error(ErrorCode::kIo, "open " + path + ": " + std::strerror(errno));
  ssize_t n = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) return error(ErrorCode::kIo, "write " + path);
  return ok_status();
}

int run_target(int calls) {
  pid_t child = ::fork();
  if (child == 0) {
    std::string n = std::to_string(calls);
    ::execl(OC_UPROBE_TARGET, OC_UPROBE_TARGET, n.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ProbeRegistryLive, UprobeAndUretprobeFireOncePerCallAndAreRemoved) {
  OC_REQUIRE_ROOT();
  auto t = Tracefs::open();
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  OC_REQUIRE_FACILITY(t->exists("uprobe_events"), "tracefs uprobe_events");
  const std::string group = probe_group_for_pid(static_cast<int>(::getpid()));
  std::string entry_name, return_name;
  // A private ftrace instance counts hits without touching the global buffer.
  const std::string instance = "instances/oc_fs_test_" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(t->path(instance).c_str(), 0755), 0) << std::strerror(errno);
  {
    auto reg = ProbeRegistry::create(*t);
    ASSERT_TRUE(reg.ok()) << reg.status().to_string();
    auto entry = reg->add_uprobe(UprobeSpec{OC_UPROBE_TARGET, "oc_uprobe_target_fn", std::nullopt,
                                            false, "arg=%di:s32", ""});
    ASSERT_TRUE(entry.ok()) << entry.status().to_string();
    auto ret = reg->add_uprobe(UprobeSpec{OC_UPROBE_TARGET, "oc_uprobe_target_fn", std::nullopt,
                                          true, "ret=$retval:s32", ""});
    ASSERT_TRUE(ret.ok()) << ret.status().to_string();
    entry_name = entry->name;
    return_name = ret->name;
    EXPECT_EQ(entry->system, group);
    EXPECT_GT(entry->id, 0u);
    EXPECT_NE(entry->id, ret->id);
    EXPECT_NE(entry->format.find_field("arg"), nullptr);
    EXPECT_NE(entry->format.find_field("__probe_ip"), nullptr);
    EXPECT_NE(ret->format.find_field("ret"), nullptr);
    EXPECT_TRUE(uprobe_events_mention(*t, "p:" + group + "/" + entry_name + " "));
    EXPECT_TRUE(uprobe_events_mention(*t, "r:" + group + "/" + return_name + " "));

    const std::string ev = instance + "/events/" + group + "/";
    ASSERT_TRUE(write_file(t->path(ev + entry_name + "/enable"), "1").ok());
    ASSERT_TRUE(write_file(t->path(ev + return_name + "/enable"), "1").ok());
    EXPECT_EQ(run_target(7), 0);
    ASSERT_TRUE(write_file(t->path(ev + entry_name + "/enable"), "0").ok());
    ASSERT_TRUE(write_file(t->path(ev + return_name + "/enable"), "0").ok());
    auto trace = t->read_file(instance + "/trace");
    ASSERT_TRUE(trace.ok());
    int entries = 0, returns = 0;
    bool saw_arg6 = false, saw_ret12 = false;
    std::istringstream lines(*trace);
    for (std::string line; std::getline(lines, line);) {
      if (line.find(" " + entry_name + ": ") != std::string::npos) {
        ++entries;
        saw_arg6 |= line.find("arg=6") != std::string::npos;
      }
      if (line.find(" " + return_name + ": ") != std::string::npos) {
        ++returns;
        saw_ret12 |= line.find("ret=12") != std::string::npos;
      }
    }
    EXPECT_EQ(entries, 7) << *trace;
    EXPECT_EQ(returns, 7) << *trace;
    EXPECT_TRUE(saw_arg6);
    EXPECT_TRUE(saw_ret12);
  }
  ::rmdir(t->path(instance).c_str());
  EXPECT_FALSE(uprobe_events_mention(*t, group + "/" + entry_name + " "));
  EXPECT_FALSE(uprobe_events_mention(*t, group + "/" + return_name + " "));
  EXPECT_FALSE(t->exists("events/" + group + "/" + entry_name));
}

TEST(ProbeRegistryLive, BusyProbeIsReportedAndRemovedLater) {
  OC_REQUIRE_ROOT();
  auto t = Tracefs::open();
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  const std::string instance = "instances/oc_fs_busy_" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(t->path(instance).c_str(), 0755), 0) << std::strerror(errno);
  auto reg = ProbeRegistry::create(*t);
  ASSERT_TRUE(reg.ok());
  auto p = reg->add_uprobe(UprobeSpec{OC_UPROBE_TARGET, "main", std::nullopt, false, "", ""});
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  const std::string enable = instance + "/events/" + p->system + "/" + p->name + "/enable";
  ASSERT_TRUE(write_file(t->path(enable), "1").ok());
  Status busy = reg->cleanup();
  EXPECT_FALSE(busy.ok());
  EXPECT_NE(busy.message().find(p->name), std::string::npos) << busy.message();
  EXPECT_EQ(reg->registered().size(), 1u);
  ASSERT_TRUE(write_file(t->path(enable), "0").ok());
  EXPECT_TRUE(reg->cleanup().ok());
  EXPECT_TRUE(reg->registered().empty());
  ::rmdir(t->path(instance).c_str());
  EXPECT_FALSE(uprobe_events_mention(*t, p->system + "/" + p->name + " "));
}

TEST(ProbeRegistryLive, SignalSafeRemoval) {
  OC_REQUIRE_ROOT();
  auto t = Tracefs::open();
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto reg = ProbeRegistry::create(*t);
  ASSERT_TRUE(reg.ok());
  auto p = reg->add_uprobe(UprobeSpec{OC_UPROBE_TARGET, "main", std::nullopt, true, "", ""});
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  const std::string needle = p->system + "/" + p->name + " ";
  ASSERT_TRUE(uprobe_events_mention(*t, needle));
  remove_registered_probes_signal_safe();
  EXPECT_FALSE(uprobe_events_mention(*t, needle));
  EXPECT_TRUE(reg->cleanup().ok());  // already gone counts as removed
}

TEST(ProbeRegistryLive, StaleProbesOfAKilledRunAreCleanedAtNextStart) {
  OC_REQUIRE_ROOT();
  auto t = Tracefs::open();
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipefd[0]);
    auto reg = ProbeRegistry::create(*t);
    if (!reg.ok()) ::_exit(1);
    auto p = reg->add_uprobe(UprobeSpec{OC_UPROBE_TARGET, "oc_uprobe_target_fn", std::nullopt,
                                        false, "", "killed_run_probe"});
    if (!p.ok()) ::_exit(2);
    char ok = 'k';
    if (::write(pipefd[1], &ok, 1) != 1) ::_exit(3);
    ::raise(SIGKILL);  // no destructors, no atexit: the probe is left behind
    ::_exit(4);
  }
  ::close(pipefd[1]);
  char byte = 0;
  ASSERT_EQ(::read(pipefd[0], &byte, 1), 1);
  ::close(pipefd[0]);
  // Wait for the death but leave the zombie: while it exists its pid counts
  // as alive, so a registry started by a concurrent test keeps the probe.
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  ASSERT_EQ(info.si_code, CLD_KILLED);
  const std::string stale = probe_group_for_pid(child) + "/killed_run_probe";
  EXPECT_TRUE(uprobe_events_mention(*t, stale + " ")) << "the killed child left no probe";
  auto while_zombie = remove_stale_probes(*t);
  ASSERT_TRUE(while_zombie.ok());
  EXPECT_TRUE(uprobe_events_mention(*t, stale + " ")) << "removed while its pid still existed";
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // now the pid is gone

  auto reg = ProbeRegistry::create(*t);  // the next start
  ASSERT_TRUE(reg.ok()) << reg.status().to_string();
  EXPECT_FALSE(uprobe_events_mention(*t, stale + " "));
}

// Runs on every kernel: with CONFIG_KPROBES a kprobe and a kretprobe are
// really added (listed in kprobe_events, with a tracepoint id a perf session
// can open) and removed again; without it (these VMs) the error names the
// missing config.
TEST(ProbeRegistryLive, KprobesOnThisKernel) {
  OC_REQUIRE_ROOT();
  auto t = Tracefs::open();
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto reg = ProbeRegistry::create(*t);
  ASSERT_TRUE(reg.ok());
  auto k = reg->add_kprobe(KprobeSpec{"do_sys_openat2", 0, false, "", ""});
  if (!t->exists("kprobe_events")) {
    ASSERT_FALSE(k.ok());
    EXPECT_EQ(k.status().code(), ErrorCode::kUnsupported);
    EXPECT_NE(k.status().message().find("CONFIG_KPROBES"), std::string::npos);
    return;
  }
  ASSERT_TRUE(k.ok()) << k.status().to_string();
  auto kret = reg->add_kprobe(KprobeSpec{"do_sys_openat2", 0, true, "", ""});
  ASSERT_TRUE(kret.ok()) << kret.status().to_string();
  EXPECT_NE(k->id, 0u);
  EXPECT_NE(kret->id, 0u);
  EXPECT_EQ(k->system, probe_group_for_pid(::getpid()));
  auto listed = t->read_file("kprobe_events");
  ASSERT_TRUE(listed.ok());
  EXPECT_NE(listed->find(k->system + "/" + k->name), std::string::npos) << *listed;
  EXPECT_NE(listed->find(kret->system + "/" + kret->name), std::string::npos) << *listed;
  ASSERT_TRUE(reg->cleanup().ok());
  auto after = t->read_file("kprobe_events");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->find(k->system + "/" + k->name), std::string::npos) << *after;
}

}  // namespace
}  // namespace one_collect
