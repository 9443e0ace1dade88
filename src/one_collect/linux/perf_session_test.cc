// Live tests against the real kernel (root): sampling counts, tracepoint
// decoding, uprobe call counts, pid targets that grow, loss reporting.
#include "one_collect/linux/perf_session.h"

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "one_collect/linux/probe_registry.h"
#include "one_collect/testing/privileged.h"

#ifndef PERF_TEST_TARGET_PATH
#error "PERF_TEST_TARGET_PATH must name the perf_test_target binary"
#endif

namespace one_collect {
namespace {

const std::string kTarget = PERF_TEST_TARGET_PATH;

// File offset of `symbol` in an ELF file (.symtab, through its PT_LOAD).
std::uint64_t symbol_file_offset(const std::string& path, const std::string& symbol) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> f((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (f.size() < sizeof(Elf64_Ehdr)) return 0;
  Elf64_Ehdr eh;
  std::memcpy(&eh, f.data(), sizeof(eh));
  auto shdr = [&](int i) {
    Elf64_Shdr sh;
    std::memcpy(&sh, f.data() + eh.e_shoff + static_cast<std::size_t>(i) * eh.e_shentsize,
                sizeof(sh));
    return sh;
  };
  std::uint64_t vaddr = 0;
  for (int i = 0; i < eh.e_shnum && vaddr == 0; ++i) {
    Elf64_Shdr sh = shdr(i);
    if (sh.sh_type != SHT_SYMTAB) continue;
    Elf64_Shdr strtab = shdr(static_cast<int>(sh.sh_link));
    for (std::size_t off = 0; off + sizeof(Elf64_Sym) <= sh.sh_size; off += sizeof(Elf64_Sym)) {
      Elf64_Sym sym;
      std::memcpy(&sym, f.data() + sh.sh_offset + off, sizeof(sym));
      if (symbol == f.data() + strtab.sh_offset + sym.st_name) {
        vaddr = sym.st_value;
        break;
      }
    }
  }
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, f.data() + eh.e_phoff + static_cast<std::size_t>(i) * eh.e_phentsize,
                sizeof(ph));
    if (ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_memsz) {
      return vaddr - ph.p_vaddr + ph.p_offset;
    }
  }
  return 0;
}

TEST(PerfSessionLive, CpuSamplingMatchesFrequencyTimesCpuTime) {
  OC_REQUIRE_ROOT();
  constexpr std::uint64_t kFrequency = 1000;
  // 800 samples fit in 4 MiB rings many times over: zero loss must hold.
  auto session = RingBufSessionBuilder()
                     .with_ring_bytes(4u << 20)
                     .with_command({kTarget, "spin", "800"})
                     .with_kernel_events()
                     .with_cpu_sampling(kFrequency)
                     .build();
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  PerfSession& s = **session;
  const pid_t child = s.command_pid();
  const PerfSessionRefs& refs = s.refs();
  std::uint64_t samples = 0, periods = 0;
  s.cpu_profile_event()->add_callback([&](const EventData& d) -> Status {
    if (refs.pid.get_u32(d.full_data).value_or(0) == static_cast<std::uint32_t>(child)) {
      ++samples;
      periods += refs.period.get_u64(d.full_data).value_or(0);
    }
    return ok_status();
  });
  bool saw_exec_comm = false;
  auto comm_ref = s.kernel_events().comm.format().get_field_ref("comm").value();
  s.kernel_events().comm.add_callback([&](const EventData& d) -> Status {
    if (d.format.get_str(comm_ref, d.event_data).value_or("") == "perf_test_targe" &&
        (refs.misc.get_u16(d.full_data).value_or(0) & PERF_RECORD_MISC_COMM_EXEC)) {
      saw_exec_comm = true;
    }
    return ok_status();
  });
  ASSERT_TRUE(s.enable().ok());
  ASSERT_TRUE(s.parse_all().ok());
  ASSERT_EQ(s.command_exit_code(), 0);
  const double cpu_seconds = s.command_cpu_seconds();
  const double expected = kFrequency * cpu_seconds;
  EXPECT_GT(cpu_seconds, 0.7);
  EXPECT_NEAR(static_cast<double>(samples), expected, expected * 0.10)
      << "cpu time " << cpu_seconds << " s";
  // cpu-clock periods are nanoseconds: their sum is the sampled CPU time.
  EXPECT_NEAR(static_cast<double>(periods) / 1e9, cpu_seconds, cpu_seconds * 0.10);
  EXPECT_TRUE(saw_exec_comm);
  PerfSessionStats st = s.stats();
  EXPECT_EQ(st.lost + st.dropped_samples + st.parse.malformed, 0u);
}

TEST(PerfSessionLive, TracepointsDecodeSchedSwitchAndExecFilename) {
  OC_REQUIRE_ROOT();
  auto session = RingBufSessionBuilder().with_kernel_events().build();
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  PerfSession& s = **session;
  auto sw = s.add_tracepoint("sched:sched_switch");
  OC_REQUIRE_FACILITY(sw.ok(), sw.status().to_string());
  ASSERT_TRUE(s.enable().ok());
  // Added while the session runs: opened, redirected and enabled at once.
  auto exec = s.add_tracepoint("sched/sched_process_exec");
  ASSERT_TRUE(exec.ok()) << exec.status().to_string();

  std::vector<std::pair<std::string, std::uint32_t>> execs;
  Event* e = *exec;
  auto filename = e->format().get_field_ref("filename").value();
  auto exec_pid = e->format().get_field_ref("pid").value();
  e->add_callback([&](const EventData& d) -> Status {
    execs.emplace_back(
        std::string(d.format.get_str(filename, d.event_data).value_or("?")),
        static_cast<std::uint32_t>(d.format.get_signed(exec_pid, d.event_data).value_or(0)));
    return ok_status();
  });
  std::set<std::string> switched_out_comms_of_child;
  pid_t child = 0;
  auto prev_pid = (*sw)->format().get_field_ref("prev_pid").value();
  auto prev_comm = (*sw)->format().get_field_ref("prev_comm").value();
  (*sw)->add_callback([&](const EventData& d) -> Status {
    if (child != 0 && d.format.get_signed(prev_pid, d.event_data).value_or(0) == child) {
      switched_out_comms_of_child.insert(
          std::string(d.format.get_str(prev_comm, d.event_data).value_or("?")));
    }
    return ok_status();
  });
  child = ::fork();
  if (child == 0) {
    ::execl("/bin/sleep", "/bin/sleep", "0.05", nullptr);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(s.stop().ok());
  bool found = false;
  for (auto& [file, pid] : execs)
    found |= (file == "/bin/sleep" && pid == static_cast<std::uint32_t>(child));
  EXPECT_TRUE(found) << "no sched_process_exec of /bin/sleep by " << child;
  EXPECT_TRUE(switched_out_comms_of_child.count("sleep") == 1)
      << "no sched_switch away from the sleeping child";
  EXPECT_EQ(s.stats().parse.malformed, 0u);
}

TEST(PerfSessionLive, UprobeCountsEveryCall) {
  OC_REQUIRE_ROOT();
  std::uint64_t offset = symbol_file_offset(kTarget, "oc_probe_target");
  ASSERT_NE(offset, 0u);
  auto spec = uprobe_pmu_spec(kTarget, offset, false);
  OC_REQUIRE_FACILITY(spec.ok(), spec.status().to_string());
  auto ret_spec = uprobe_pmu_spec(kTarget, offset, true);
  ASSERT_TRUE(ret_spec.ok());
  constexpr int kCalls = 12345;
  // 4 x 12345 small records fit in 16 MiB rings: exact counts must hold
  // even if the reader gets no CPU until the workload ends.
  auto session = RingBufSessionBuilder()
                     .with_ring_bytes(16u << 20)
                     .with_command({kTarget, "calls", std::to_string(kCalls)})
                     .with_event(*spec, Event(10, "probe"))
                     .with_event(*ret_spec, Event(11, "probe_ret"))
                     .build();
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  PerfSession& s = **session;
  // The builder's events are found by name; add_event opens more.
  ASSERT_NE(s.find_event("probe"), nullptr);
  ASSERT_NE(s.find_event("probe_ret"), nullptr);
  EXPECT_EQ(s.find_event("nope"), nullptr);
  std::uint64_t entries = 0, returns = 0, builder_entries = 0;
  s.find_event("probe")->add_callback([&](const EventData&) -> Status {
    ++builder_entries;
    return ok_status();
  });
  auto probe = s.add_event(*spec, Event(12, "probe2"));
  ASSERT_TRUE(probe.ok()) << probe.status().to_string();
  (*probe)->add_callback([&](const EventData&) -> Status {
    ++entries;
    return ok_status();
  });
  auto ret = s.add_event(*ret_spec, Event(13, "probe_ret2"));
  ASSERT_TRUE(ret.ok());
  (*ret)->add_callback([&](const EventData&) -> Status {
    ++returns;
    return ok_status();
  });
  ASSERT_TRUE(s.enable().ok());
  ASSERT_TRUE(s.parse_all().ok());
  EXPECT_EQ(s.command_exit_code(), 0);
  EXPECT_EQ(entries, static_cast<std::uint64_t>(kCalls));
  EXPECT_EQ(builder_entries, static_cast<std::uint64_t>(kCalls));
  EXPECT_EQ(returns, static_cast<std::uint64_t>(kCalls));
  PerfSessionStats st = s.stats();
  EXPECT_EQ(st.lost + st.dropped_samples, 0u);
}

TEST(PerfSessionLive, RegistryUprobeWithArgumentCountsAndDecodesEveryCall) {
  OC_REQUIRE_ROOT();
  auto tracefs = Tracefs::open();
  OC_REQUIRE_FACILITY(tracefs.ok(), tracefs.status().to_string());
  auto registry = ProbeRegistry::create(*tracefs);
  ASSERT_TRUE(registry.ok()) << registry.status().to_string();
  UprobeSpec spec;
  spec.binary = kTarget;
  spec.symbol = "oc_probe_target";
  spec.fetch_args = "value=%di:u64";
  auto tp = registry->add_uprobe(spec);
  ASSERT_TRUE(tp.ok()) << tp.status().to_string();
  constexpr std::uint64_t kCalls = 5000;
  std::uint64_t calls = 0, sum = 0;
  {
    // All 5000 records fit in the 16 MiB rings: the exact count must hold.
    auto session = RingBufSessionBuilder()
                       .with_ring_bytes(16u << 20)
                       .with_command({kTarget, "calls", std::to_string(kCalls)})
                       .build();
    ASSERT_TRUE(session.ok()) << session.status().to_string();
    PerfSession& s = **session;
    auto event = s.add_tracepoint(*tp);
    ASSERT_TRUE(event.ok()) << event.status().to_string();
    auto value = (*event)->format().get_field_ref("value").value();
    (*event)->add_callback([&](const EventData& d) -> Status {
      ++calls;
      sum += d.format.get_u64(value, d.event_data).value_or(0);
      return ok_status();
    });
    ASSERT_TRUE(s.enable().ok());
    ASSERT_TRUE(s.parse_all().ok());
  }
  EXPECT_EQ(calls, kCalls);
  EXPECT_EQ(sum, kCalls * (kCalls - 1) / 2);  // the arguments were 0..N-1
  EXPECT_TRUE(registry->cleanup().ok());
}

TEST(PerfSessionLive, PidTargetFollowsNewThreadsAndChildren) {
  OC_REQUIRE_ROOT();
  int in_pipe[2], out_pipe[2];
  ASSERT_EQ(::pipe(in_pipe), 0);
  ASSERT_EQ(::pipe(out_pipe), 0);
  pid_t target = ::fork();
  if (target == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::execl(kTarget.c_str(), kTarget.c_str(), "family", "300", nullptr);
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  // Let the target exec before its threads are listed.
  for (int i = 0; i < 200; ++i) {
    char buf[256] = {};
    std::ifstream(("/proc/" + std::to_string(target) + "/comm").c_str()).getline(buf, sizeof(buf));
    if (std::string(buf) == "perf_test_targe") break;
    ::usleep(5000);
  }
  auto session = RingBufSessionBuilder()
                     .with_target_pid(target)
                     .with_kernel_events()
                     .with_cpu_sampling(1000)
                     .build();
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  PerfSession& s = **session;
  const PerfSessionRefs& refs = s.refs();
  std::set<std::uint32_t> fork_tids_of_target, fork_pids;
  auto fpid = s.kernel_events().fork.format().get_field_ref("pid").value();
  auto ftid = s.kernel_events().fork.format().get_field_ref("tid").value();
  s.kernel_events().fork.add_callback([&](const EventData& d) -> Status {
    std::uint32_t p = d.format.get_u32(fpid, d.event_data).value_or(0);
    std::uint32_t t = d.format.get_u32(ftid, d.event_data).value_or(0);
    fork_pids.insert(p);
    if (p == static_cast<std::uint32_t>(target) && t != p) fork_tids_of_target.insert(t);
    return ok_status();
  });
  std::set<std::uint32_t> sampled_pids, sampled_tids;
  s.cpu_profile_event()->add_callback([&](const EventData& d) -> Status {
    sampled_pids.insert(refs.pid.get_u32(d.full_data).value_or(0));
    sampled_tids.insert(refs.tid.get_u32(d.full_data).value_or(0));
    return ok_status();
  });
  ASSERT_TRUE(s.enable().ok());
  ASSERT_EQ(::write(in_pipe[1], "go\n", 3), 3);
  char buf[32] = {};
  ASSERT_GT(::read(out_pipe[0], buf, sizeof(buf) - 1), 0);
  const std::uint32_t grandchild = static_cast<std::uint32_t>(std::atoi(buf));
  int status = 0;
  ASSERT_TRUE(s.parse_until([&] { return ::waitpid(target, &status, WNOHANG) == target; }).ok());
  ASSERT_TRUE(s.stop().ok());
  ::close(in_pipe[1]);
  ::close(out_pipe[0]);
  ASSERT_EQ(fork_tids_of_target.size(), 1u) << "the new thread's FORK record";
  EXPECT_TRUE(fork_pids.count(grandchild)) << "the child's FORK record";
  EXPECT_TRUE(sampled_pids.count(grandchild)) << "samples of the child started after enable";
  EXPECT_TRUE(sampled_tids.count(*fork_tids_of_target.begin()))
      << "samples of the thread started after enable";
}

TEST(PerfSessionLive, TinyBuffersUnderLoadReportLoss) {
  OC_REQUIRE_ROOT();
  StackOptions stacks;
  stacks.user_regs = true;
  stacks.user_stack_bytes = 4096;
  stacks.callchain = true;
  PerfSessionOptions options;
  options.ring_bytes = 8192;
  options.user_buffer_bytes = 128 << 10;
  auto session = RingBufSessionBuilder()
                     .with_options(options)
                     .with_command({kTarget, "spin", "400"})
                     .with_kernel_events()
                     .with_stacks(stacks)
                     .with_cpu_sampling(20000)
                     .build();
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  PerfSession& s = **session;
  // A slow consumer: the user-space buffer fills up.
  s.cpu_profile_event()->add_callback([](const EventData&) -> Status {
    ::usleep(200);
    return ok_status();
  });
  ASSERT_TRUE(s.enable().ok());
  ASSERT_TRUE(s.parse_all().ok());
  PerfSessionStats st = s.stats();
  EXPECT_GT(st.lost + st.lost_samples + st.dropped_samples + st.cut_stacks, 0u)
      << "lost " << st.lost << " dropped " << st.dropped_samples << " cut " << st.cut_stacks;
  // Every CPU's counters are reachable, and loss never costs kernel records.
  EXPECT_FALSE(st.per_cpu.empty());
  EXPECT_EQ(st.parse.malformed, 0u);
}

// Runs on every machine, whichever kind it is: with a hardware PMU, cycles
// are sampled from a busy child and "cpu" uses them; without one (these VMs),
// opening cycles names the missing PMU and "cpu" falls back to cpu-clock.
TEST(PerfSessionLive, HardwareEventsSampleOrSayThereIsNoPmuAndCpuFallsBack) {
  OC_REQUIRE_ROOT();
  auto cycles = perf_event_by_name("cycles");
  ASSERT_TRUE(cycles.ok());
  cycles->frequency = 1000;
  auto session = RingBufSessionBuilder().with_command({kTarget, "spin", "200"}).build();
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  auto opened = (*session)->add_event(*cycles, Event(5, "cycles"));
  auto cpu = perf_event_by_name("cpu");
  ASSERT_TRUE(cpu.ok());
  auto with_cpu = RingBufSessionBuilder().with_cpu_sampling(*cpu).build();
  ASSERT_TRUE(with_cpu.ok()) << with_cpu.status().to_string();

  if (opened.ok()) {
    // A machine with a PMU: cycles really sample the child, and "cpu" needs
    // no fallback.
    std::uint64_t samples = 0;
    (*opened)->add_callback([&](const EventData&) -> Status {
      ++samples;
      return ok_status();
    });
    ASSERT_TRUE((*session)->enable().ok());
    ASSERT_TRUE((*session)->parse_all().ok());
    EXPECT_EQ((*session)->command_exit_code(), 0);
    EXPECT_GT(samples, 0u) << "cycles opened but never sampled a 200 ms busy child";
    for (const std::string& note : (*with_cpu)->notes()) {
      EXPECT_EQ(note.find("cpu-clock"), std::string::npos) << note;
    }
    return;
  }
  EXPECT_EQ(opened.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(opened.status().message().find("no hardware PMU (virtualized)"), std::string::npos)
      << opened.status().message();
  ASSERT_FALSE((*with_cpu)->notes().empty());
  EXPECT_NE((*with_cpu)->notes()[0].find("cpu-clock"), std::string::npos);
}

TEST(PerfSessionLive, CaptureEnvironmentSynthesizesCommAndMmap2) {
  OC_REQUIRE_ROOT();
  auto session = RingBufSessionBuilder().with_target_pid(::getpid()).with_kernel_events().build();
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  PerfSession& s = **session;
  std::string comm;
  auto comm_ref = s.kernel_events().comm.format().get_field_ref("comm").value();
  s.kernel_events().comm.add_callback([&](const EventData& d) -> Status {
    comm = std::string(d.format.get_str(comm_ref, d.event_data).value_or(""));
    return ok_status();
  });
  bool saw_self = false;
  auto file_ref = s.kernel_events().mmap2.format().get_field_ref("filename").value();
  char self[4096] = {};
  ASSERT_GT(::readlink("/proc/self/exe", self, sizeof(self) - 1), 0);
  s.kernel_events().mmap2.add_callback([&](const EventData& d) -> Status {
    saw_self |= d.format.get_str(file_ref, d.event_data).value_or("") == self;
    return ok_status();
  });
  ASSERT_TRUE(s.capture_environment().ok());
  EXPECT_EQ(comm.substr(0, 10), "linux_perf");
  EXPECT_TRUE(saw_self);
  EXPECT_EQ(s.stats().parse.malformed, 0u);
}

// The cgroup2 mount point, or "".
std::string cgroup2_mount() {
  std::ifstream mounts("/proc/mounts");
  std::string dev, dir, type, rest;
  while (mounts >> dev >> dir >> type && std::getline(mounts, rest)) {
    if (type == "cgroup2") return dir;
  }
  return "";
}

TEST(PerfSessionLive, CgroupTargetSamplesOnlyItsMembers) {
  OC_REQUIRE_ROOT();
  const std::string root = cgroup2_mount();
  OC_REQUIRE_FACILITY(!root.empty(), "no cgroup2 hierarchy mounted");
  const std::string dir = root + "/oc_perf_test_" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << std::strerror(errno);
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(go[1]);
    char c;
    if (::read(go[0], &c, 1) != 1) ::_exit(3);
    ::execl(kTarget.c_str(), kTarget.c_str(), "spin", "300", nullptr);
    ::_exit(127);
  }
  ::close(go[0]);
  {
    std::ofstream procs(dir + "/cgroup.procs");
    procs << child << std::endl;
  }
  std::set<std::uint32_t> pids;
  {
    auto session = RingBufSessionBuilder().with_cgroup(dir).with_cpu_sampling(1000).build();
    ASSERT_TRUE(session.ok()) << session.status().to_string();
    PerfSession& s = **session;
    const PerfSessionRefs& refs = s.refs();
    s.cpu_profile_event()->add_callback([&](const EventData& d) -> Status {
      pids.insert(refs.pid.get_u32(d.full_data).value_or(0));
      return ok_status();
    });
    ASSERT_TRUE(s.enable().ok());
    ASSERT_EQ(::write(go[1], "g", 1), 1);
    int status = 0;
    ASSERT_TRUE(s.parse_until([&] { return ::waitpid(child, &status, WNOHANG) == child; }).ok());
    ASSERT_TRUE(s.stop().ok());
  }
  ::close(go[1]);
  ::rmdir(dir.c_str());
  EXPECT_TRUE(pids.count(static_cast<std::uint32_t>(child))) << "no sample of the cgroup's process";
  EXPECT_EQ(pids.size(), 1u) << "samples of processes outside the cgroup";
}

TEST(PerfSessionLive, NoCallstackEventKeepsIpAndDropsStacks) {
  OC_REQUIRE_ROOT();
  StackOptions stacks;
  stacks.callchain = true;
  stacks.user_regs = true;
  stacks.user_stack_bytes = 1024;
  auto session = RingBufSessionBuilder()
                     .with_command({kTarget, "spin", "200"})
                     .with_stacks(stacks)
                     .with_cpu_sampling(1000)
                     .build();
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  PerfSession& s = **session;
  Event plain(20, "task-clock-no-stacks");
  plain.set_no_callstack();
  auto spec = perf_event_by_name("task-clock");
  ASSERT_TRUE(spec.ok());
  spec->frequency = 500;
  auto added = s.add_event(*spec, std::move(plain));
  ASSERT_TRUE(added.ok()) << added.status().to_string();
  const PerfSessionRefs& refs = s.refs();
  std::uint64_t with_stacks = 0, plain_samples = 0, plain_with_stacks = 0;
  s.cpu_profile_event()->add_callback([&](const EventData&) -> Status {
    with_stacks += refs.callchain.present() && refs.regs_user_abi.present();
    return ok_status();
  });
  (*added)->add_callback([&](const EventData&) -> Status {
    ++plain_samples;
    plain_with_stacks += refs.callchain.present() || refs.stack_user.present() ||
                         refs.regs_user_abi.present() || !refs.ip.present();
    return ok_status();
  });
  ASSERT_TRUE(s.enable().ok());
  ASSERT_TRUE(s.parse_all().ok());
  EXPECT_GT(with_stacks, 0u);
  EXPECT_GT(plain_samples, 0u);
  EXPECT_EQ(plain_with_stacks, 0u);
}

// A 16 KiB user stack copy of a shallow thread is mostly unused: the reader
// keeps only the bytes the kernel filled (dyn_size), so queued records stay
// small, and the filled bytes reach the callbacks intact.
TEST(PerfSessionLive, UserStackCopiesAreTrimmedToTheirFilledBytes) {
  OC_REQUIRE_ROOT();
  constexpr std::uint32_t kCopy = 16384;
  StackOptions stacks;
  stacks.user_regs = true;
  stacks.user_stack_bytes = kCopy;
  auto session = RingBufSessionBuilder()
                     .with_command({kTarget, "spin", "300"})
                     .with_stacks(stacks)
                     .with_cpu_sampling(1000)
                     .build();
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  PerfSession& s = **session;
  const PerfSessionRefs& refs = s.refs();
  std::uint64_t samples = 0, trimmed = 0, inconsistent = 0;
  s.cpu_profile_event()->add_callback([&](const EventData& d) -> Status {
    auto stack = refs.stack_user.get_data(d.full_data);
    if (!stack.ok() || stack->empty()) return ok_status();
    ++samples;
    // The record holds the filled bytes (rounded to 8) and nothing more.
    if (d.full_data.size() < kCopy) ++trimmed;
    if (stack->size() > kCopy) ++inconsistent;
    return ok_status();
  });
  ASSERT_TRUE(s.enable().ok());
  ASSERT_TRUE(s.parse_all().ok());
  ASSERT_GT(samples, 0u);
  EXPECT_EQ(inconsistent, 0u);
  EXPECT_GT(trimmed * 2, samples) << trimmed << " of " << samples << " samples trimmed";
}

TEST(PerfEventSpec, NamesRawAndErrors) {
  auto raw = raw_event_spec("1:0x3");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->type, 1u);
  EXPECT_EQ(raw->config, 3u);
  EXPECT_FALSE(raw_event_spec("1:zz").ok());
  EXPECT_FALSE(raw_event_spec("nocolon").ok());
  auto cs = perf_event_by_name("cs");
  ASSERT_TRUE(cs.ok());
  EXPECT_EQ(cs->config, std::uint64_t{PERF_COUNT_SW_CONTEXT_SWITCHES});
  EXPECT_EQ(perf_event_by_name("4:0x1a")->config, 0x1au);
  EXPECT_EQ(perf_event_by_name("no-such-event").status().code(), ErrorCode::kNotFound);
  auto kp = kprobe_spec("do_sys_open", false);
  if (!kp.ok()) {
    EXPECT_EQ(kp.status().code(), ErrorCode::kUnsupported);
    EXPECT_NE(kp.status().message().find("CONFIG_KPROBES"), std::string::npos);
  }
  EXPECT_FALSE(uprobe_pmu_spec("/no/such/binary", 0, false).ok());
}

TEST(PerfSessionBuilder, RejectsBadArguments) {
  StackOptions big;
  big.user_stack_bytes = 70000;
  EXPECT_EQ(RingBufSessionBuilder().with_stacks(big).build().status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(RingBufSessionBuilder()
                .with_target_pid(1)
                .with_cgroup("/sys/fs/cgroup")
                .build()
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
  EXPECT_FALSE(RingBufSessionBuilder().with_cgroup("/no/such/cgroup").build().ok());
}

}  // namespace
}  // namespace one_collect
