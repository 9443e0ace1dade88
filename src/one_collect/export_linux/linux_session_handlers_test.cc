// The session's sample handler without perf events: a synthetic sample record
// (fields placed by hand, the session refs pointed at them) goes through
// on_cpu_sample with a fake StackUnwinder, and the ExportMachine must hold
// the kernel chain followed by the fake's frames.
#include "one_collect/export_linux/linux_session_handlers.h"

#include <gtest/gtest.h>
#include <linux/perf_event.h>

#include <cstring>
#include <string_view>
#include <vector>

#include "one_collect/export_linux/linux_symbol_resolver.h"
#include "one_collect/linux/perf_session.h"

namespace one_collect::linux_session {
namespace {

// Returns fixed frames and remembers what it was asked.
class FakeUnwinder : public unwind::StackUnwinder {
 public:
  std::vector<std::uint64_t> frames_to_return;
  std::vector<unwind::UnwindInput> calls;

  unwind::UnwindResult unwind(const AddressSpace&, const unwind::UnwindInput& input,
                              std::span<std::uint64_t> frames) override {
    calls.push_back(input);
    unwind::UnwindResult r;
    for (std::uint64_t f : frames_to_return) {
      if (r.count == frames.size()) break;
      frames[r.count++] = f;
    }
    return r;
  }
};

constexpr std::uint64_t kKernelIp = 0xffffffff81000010ull;
constexpr std::uint64_t kUserIp = 0x401234, kUserSp = 0x7ff000, kUserBp = 0x7ff100;

// A sample record: pid, tid, time, cpu, ip, callchain (kernel part only, as
// DWARF mode asks), user regs (BP, SP, IP) and a user stack copy.
class SampleRecord {
 public:
  explicit SampleRecord(PerfSessionRefs& refs) : refs_(refs) {}

  void put_u32(const DataFieldRef& ref, std::uint32_t v) { put(ref, &v, 4); }
  void put_u64(const DataFieldRef& ref, std::uint64_t v) { put(ref, &v, 8); }
  void put_u64s(const DataFieldRef& ref, std::vector<std::uint64_t> v) {
    put(ref, v.data(), v.size() * 8);
  }
  void put_bytes(const DataFieldRef& ref, std::size_t n) {
    std::vector<std::uint8_t> zeros(n);
    put(ref, zeros.data(), n);
  }
  ByteSpan bytes() const { return ByteSpan(bytes_.data(), bytes_.size()); }
  PerfSessionRefs& refs() { return refs_; }

 private:
  void put(const DataFieldRef& ref, const void* data, std::size_t n) {
    std::size_t at = (bytes_.size() + 7) / 8 * 8;
    ref.update(static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(n));
    bytes_.resize(at + n);
    if (n != 0) std::memcpy(bytes_.data() + at, data, n);
  }
  PerfSessionRefs& refs_;
  std::vector<std::uint8_t> bytes_;
};

struct Harness {
  State st;
  PerfSessionRefs refs;
  FakeUnwinder* fake = nullptr;
  EventFormat format;

  Harness() {
    auto unwinder = std::make_unique<FakeUnwinder>();
    fake = unwinder.get();
    unwind::CallstackOptions options;
    options.mode = CallstackMode::kDwarf;
    st.callstacks =
        std::make_unique<unwind::CallstackReader>(st.processes, options, std::move(unwinder));
    st.refs = &refs;
    st.bp_index = 0;
    st.sp_index = 1;
    st.ip_index = 2;
    st.cpu_period_ns = 1'000'000;
    st.machine.write([&](ExportMachine& m) { st.cpu_kind = *m.find_sample_kind(kCpuKind); });
  }
};

SampleRecord dwarf_sample(PerfSessionRefs& refs, std::uint64_t regs_abi) {
  SampleRecord r(refs);
  r.put_u32(refs.pid, 42);
  r.put_u32(refs.tid, 43);
  r.put_u64(refs.time, 5'000);
  r.put_u32(refs.cpu, 1);
  r.put_u64(refs.ip, kKernelIp);
  r.put_u64s(refs.callchain, {static_cast<std::uint64_t>(PERF_CONTEXT_KERNEL), kKernelIp});
  r.put_u64(refs.regs_user_abi, regs_abi);
  if (regs_abi != PERF_SAMPLE_REGS_ABI_NONE) {
    r.put_u64s(refs.regs_user, {kUserBp, kUserSp, kUserIp});
    r.put_bytes(refs.stack_user, 64);
  }
  return r;
}

TEST(LinuxSessionHandlers, CpuSampleGetsTheKernelChainThenTheUnwindersFrames) {
  Harness h;
  h.fake->frames_to_return = {kUserIp, 0x401100, 0x402200};
  SampleRecord record = dwarf_sample(h.refs, PERF_SAMPLE_REGS_ABI_64);
  ASSERT_TRUE(on_cpu_sample(h.st, EventData{record.bytes(), {}, h.format}).ok());

  ASSERT_EQ(h.fake->calls.size(), 1u);
  const unwind::UnwindInput& in = h.fake->calls[0];
  EXPECT_EQ(in.rip, kUserIp);
  EXPECT_EQ(in.rsp, kUserSp);
  EXPECT_EQ(in.rbp, kUserBp);
  EXPECT_EQ(in.stack_base, kUserSp);
  EXPECT_EQ(in.stack.size(), 64u);

  EXPECT_EQ(h.st.samples.load(), 1u);
  h.st.machine.read([&](const ExportMachine& m) {
    ASSERT_EQ(m.samples().size(), 1u);
    const ExportSample& s = m.samples()[0];
    EXPECT_EQ(s.pid, 42u);
    EXPECT_EQ(s.tid, 43u);
    EXPECT_EQ(s.time, 5'000u);
    EXPECT_EQ(s.cpu, 1u);
    EXPECT_EQ(s.kind, h.st.cpu_kind);
    EXPECT_EQ(s.leaf_ip, kKernelIp);
    auto callers = m.callstacks().get(s.callstack);
    ASSERT_TRUE(callers.has_value());
    EXPECT_EQ(std::vector<std::uint64_t>(callers->begin(), callers->end()),
              (std::vector<std::uint64_t>{kUserIp + 1, 0x401100, 0x402200}))
        << "the user ip below the kernel frames is exact: recorded one byte on";
  });
}

TEST(LinuxSessionHandlers, SampleWithoutUserRegistersSkipsTheUnwinder) {
  Harness h;
  h.fake->frames_to_return = {kUserIp, 0x401100};
  SampleRecord record = dwarf_sample(h.refs, PERF_SAMPLE_REGS_ABI_NONE);
  h.refs.regs_user.reset();
  h.refs.stack_user.reset();
  ASSERT_TRUE(on_cpu_sample(h.st, EventData{record.bytes(), {}, h.format}).ok());

  EXPECT_TRUE(h.fake->calls.empty());  // a kernel thread: no user stack
  h.st.machine.read([&](const ExportMachine& m) {
    ASSERT_EQ(m.samples().size(), 1u);
    EXPECT_EQ(m.samples()[0].leaf_ip, kKernelIp);
    auto callers = m.callstacks().get(m.samples()[0].callstack);
    EXPECT_TRUE(!callers.has_value() || callers->empty());
  });
}

TEST(LinuxSessionHandlers, TracepointAsSamplesUsesTheSameUnwinding) {
  Harness h;
  h.fake->frames_to_return = {kUserIp, 0x401100};
  TracepointTarget target;
  target.as_samples = true;
  target.label = "sched:sched_waking";
  h.st.machine.write(
      [&](ExportMachine& m) { target.kind = m.sample_kind("sched_waking", MetricKind::kCount); });
  SampleRecord record = dwarf_sample(h.refs, PERF_SAMPLE_REGS_ABI_64);
  ASSERT_TRUE(on_tracepoint(h.st, target, EventData{record.bytes(), {}, h.format}).ok());

  ASSERT_EQ(h.fake->calls.size(), 1u);
  h.st.machine.read([&](const ExportMachine& m) {
    ASSERT_EQ(m.samples().size(), 1u);
    const ExportSample& s = m.samples()[0];
    EXPECT_EQ(s.kind, target.kind);
    EXPECT_EQ(s.leaf_ip, kKernelIp);
    auto callers = m.callstacks().get(s.callstack);
    ASSERT_TRUE(callers.has_value());
    EXPECT_EQ(std::vector<std::uint64_t>(callers->begin(), callers->end()),
              (std::vector<std::uint64_t>{kUserIp + 1, 0x401100}));
  });
}

// A kernel record body (after the 8-byte header) for PerfKernelEvents'
// formats, and a full record whose sample_id trailer holds the time.
struct TaskRecord {
  std::vector<std::uint8_t> body;
  std::vector<std::uint8_t> full;
  void u32(std::uint32_t v) { append(body, &v, 4); }
  void str(std::string_view text) {
    append(body, text.data(), text.size());
    body.resize((body.size() + 8) / 8 * 8, 0);  // terminator and padding
  }
  EventData data(PerfSessionRefs& refs, const Event& event, std::uint64_t time,
                 std::uint16_t misc = 0) {
    full.assign(8, 0);
    std::memcpy(full.data() + 6, &misc, 2);
    refs.misc.update(6, 2);
    append(full, body.data(), body.size());
    refs.time.update(static_cast<std::uint32_t>(full.size()), 8);
    append(full, &time, 8);
    return EventData{ByteSpan(full.data(), full.size()), ByteSpan(full.data() + 8, body.size()),
                     event.format()};
  }
  static void append(std::vector<std::uint8_t>& out, const void* p, std::size_t n) {
    std::size_t at = out.size();
    out.resize(at + n);
    if (n != 0) std::memcpy(out.data() + at, p, n);
  }
};

TaskRecord task_record(std::uint32_t pid, std::uint32_t ppid, std::uint32_t tid) {
  TaskRecord r;  // pid, ppid, tid, ptid, time
  for (std::uint32_t v : {pid, ppid, tid, ppid, 0u, 0u}) r.u32(v);
  return r;
}

TaskRecord comm_record(std::uint32_t pid, std::uint32_t tid, std::string_view comm) {
  TaskRecord r;
  r.u32(pid);
  r.u32(tid);
  r.str(comm);
  return r;
}

TEST(LinuxSessionHandlers, ProcessRecordsReachTheMachine) {
  Harness h;
  PerfKernelEvents k;
  const TaskFields fork_fields = TaskFields::of(k.fork);
  const TaskFields exit_fields = TaskFields::of(k.exit);
  const CommFields comm_fields = CommFields::of(k.comm);

  TaskRecord fork = task_record(100, 1, 100);
  ASSERT_TRUE(on_fork(h.st, fork_fields, fork.data(h.refs, k.fork, 1'000)).ok());
  TaskRecord thread = task_record(100, 100, 101);  // a new thread: not a process
  ASSERT_TRUE(on_fork(h.st, fork_fields, thread.data(h.refs, k.fork, 1'100)).ok());
  TaskRecord exec = comm_record(100, 100, "worker");
  ASSERT_TRUE(
      on_comm(h.st, comm_fields, exec.data(h.refs, k.comm, 1'200, PERF_RECORD_MISC_COMM_EXEC))
          .ok());
  TaskRecord rename = comm_record(100, 101, "helper");  // a thread renamed itself
  ASSERT_TRUE(on_comm(h.st, comm_fields, rename.data(h.refs, k.comm, 1'300)).ok());
  TaskRecord thread_exit = task_record(100, 100, 101);
  ASSERT_TRUE(on_exit(h.st, exit_fields, thread_exit.data(h.refs, k.exit, 1'400)).ok());
  TaskRecord exit = task_record(100, 1, 100);
  ASSERT_TRUE(on_exit(h.st, exit_fields, exit.data(h.refs, k.exit, 2'000)).ok());

  h.st.machine.read([&](const ExportMachine& m) {
    const ExportProcess* p = m.find_process(100);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(m.string(p->comm), "worker");
    EXPECT_EQ(p->exit_time, 2'000u);
    EXPECT_EQ(m.find_process(101), nullptr);
    EXPECT_EQ(h.st.process_count.load(), m.processes().size());
  });
}

}  // namespace
}  // namespace one_collect::linux_session
